//! Where "now" comes from, so that evaluations, history and alert delays can be tested
//! with a hand-moved clock.

use std::sync::Mutex;

use alert_core::{Duration, Timestamp};

/// A source of the current instant.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_jiff(jiff::Timestamp::now())
    }
}

/// A clock that only moves when told to.
///
/// ```
/// use alert_core::{Duration, Timestamp};
/// use alert_health_graph::{Clock, ManualClock};
/// let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
/// clock.advance("90s".parse::<Duration>()?);
/// assert_eq!(clock.now().unix_seconds(), 90);
/// # Ok::<(), alert_core::Error>(())
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward by `by` (saturating at the end of time).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(later) = now.checked_add(by) {
            *now = later;
        }
    }

    /// Sets the clock.
    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}
