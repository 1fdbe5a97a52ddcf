//! Exponential backoff with jitter, for retried calls and for a syncer's failed tenants.
//!
//! One policy serves both: the client retries a transient failure of an idempotent call
//! a few times within one call, and the syncer waits longer and longer before applying a
//! tenant whose last attempt failed. Neither ever retries in a tight loop: the smallest
//! delay is [`Backoff::initial`], and jitter only ever shortens a delay by up to a quarter
//! so that many clients do not retry in lockstep.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// How long to wait between attempts, and how many attempts to make.
///
/// ```
/// use std::time::Duration;
/// use alert_cortex_adapter::Backoff;
/// let b = Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(1),
///                   multiplier: 2.0, max_attempts: 4, jitter: false };
/// assert_eq!(b.delay(1), Duration::from_millis(100));
/// assert_eq!(b.delay(2), Duration::from_millis(200));
/// assert_eq!(b.delay(3), Duration::from_millis(400));
/// assert_eq!(b.delay(9), Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The delay after the first failure.
    pub initial: Duration,
    /// The largest delay.
    pub max: Duration,
    /// The factor each further failure multiplies the delay by (at least 1).
    pub multiplier: f64,
    /// How many attempts a retried call makes in all (1 = no retry).
    pub max_attempts: u32,
    /// Whether to shorten each delay by a random amount of up to 25%.
    pub jitter: bool,
}

impl Default for Backoff {
    /// 200 ms, doubling, at most 5 s, 4 attempts, with jitter.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(5),
            multiplier: 2.0,
            max_attempts: 4,
            jitter: true,
        }
    }
}

impl Backoff {
    /// A policy that makes exactly one attempt.
    pub fn none() -> Backoff {
        Backoff {
            max_attempts: 1,
            ..Backoff::default()
        }
    }

    /// The delay after the `failures`-th consecutive failure (1-based; 0 is treated as 1).
    pub fn delay(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(64);
        let factor = self.multiplier.max(1.0).powi(exp as i32);
        let base = self.initial.as_secs_f64() * factor;
        let capped = if base.is_finite() {
            base.min(self.max.as_secs_f64())
        } else {
            self.max.as_secs_f64()
        };
        let capped = capped.max(self.initial.as_secs_f64().min(self.max.as_secs_f64()));
        let secs = if self.jitter {
            capped * (1.0 - 0.25 * random_unit())
        } else {
            capped
        };
        Duration::from_secs_f64(secs.max(0.0))
    }
}

/// A number in `[0, 1)` from the standard library's randomly seeded hasher.
fn random_unit() -> f64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x9e37_79b9_7f4a_7c15);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn delays_stay_within_bounds(initial_ms in 1u64..5_000, max_ms in 1u64..60_000,
                                     mult in 1.0f64..4.0, failures in 0u32..200, jitter: bool) {
            let b = Backoff { initial: Duration::from_millis(initial_ms),
                              max: Duration::from_millis(max_ms), multiplier: mult,
                              max_attempts: 3, jitter };
            let d = b.delay(failures);
            let hi = Duration::from_millis(initial_ms.max(max_ms).min(max_ms.max(initial_ms)));
            prop_assert!(d <= hi.max(b.max));
            // Never shorter than three quarters of the smaller of initial and max.
            let lo = Duration::from_millis(initial_ms.min(max_ms)).mul_f64(0.74);
            prop_assert!(d >= lo, "{d:?} < {lo:?}");
        }

        #[test]
        fn delays_never_shrink_without_jitter(failures in 1u32..100) {
            let b = Backoff { jitter: false, ..Backoff::default() };
            prop_assert!(b.delay(failures) <= b.delay(failures + 1));
        }
    }
}
