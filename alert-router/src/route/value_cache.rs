//! Regex results remembered across alerts, by label value.
//!
//! Label values repeat: a fleet has a handful of severities, teams, environments and
//! services. For each label the tree tests with regexes, a small direct-mapped table
//! keeps, per recently seen value, which of that label's regex matchers have been
//! evaluated and with what result. A value is hashed once per alert; every regex on that
//! label then costs a bit test. The table lives in the caller's
//! [`MatchBuffer`](super::MatchBuffer): fixed-size entries, values up to
//! [`MAX_CACHED_LEN`] bytes stored inline, so lookups and replacements never allocate.

use super::short_str;

/// The longest value kept; longer values are evaluated without the cache. With it an
/// entry is one 64-byte cache line.
pub(crate) const MAX_CACHED_LEN: usize = 39;
/// Entries per label (a power of two).
const BUCKETS: usize = 64;
/// Regex matchers per label that get a bit; more are evaluated without the cache.
pub(crate) const BITS: u32 = 64;

#[derive(Debug, Clone)]
#[repr(C, align(64))]
struct Entry {
    hash: u64,
    /// Which matchers' results are known.
    known: u64,
    /// Their results.
    results: u64,
    /// `u8::MAX` while empty.
    len: u8,
    bytes: [u8; MAX_CACHED_LEN],
}

const EMPTY: Entry = Entry {
    hash: 0,
    len: u8::MAX,
    known: 0,
    results: 0,
    bytes: [0; MAX_CACHED_LEN],
};

/// Lookups of a label after which its hit rate is judged.
const TRIAL: u32 = 4096;

/// The tables of every cached label, `BUCKETS` entries each.
///
/// A label whose values rarely repeat (instance addresses, customer ids) would only
/// pay for hashing and copying: after [`TRIAL`] lookups, a label that missed more than
/// half the time is no longer cached (its regexes are then memoised per alert only).
#[derive(Debug, Clone, Default)]
pub(crate) struct ValueCache {
    entries: Vec<Entry>,
    /// Per label: lookups and misses during the trial, and whether it is bypassed.
    trials: Vec<(u32, u32, bool)>,
}

impl ValueCache {
    /// Makes room for `labels` cached labels (allocates only when growing).
    pub(crate) fn reserve(&mut self, labels: usize) {
        if self.entries.len() < labels * BUCKETS {
            self.entries.resize(labels * BUCKETS, EMPTY);
            self.trials.resize(labels, (0, 0, false));
        }
    }

    /// The entry holding `value` for cached label `label`, claimed (and cleared) if
    /// another value held it; `None` when the value is too long to keep.
    #[inline]
    pub(crate) fn entry(&mut self, label: u32, value: &str) -> Option<u32> {
        let bytes = value.as_bytes();
        let trial = self.trials.get_mut(label as usize)?;
        if trial.2 || bytes.len() > MAX_CACHED_LEN {
            return None;
        }
        let h = short_str::hash(bytes);
        // The high bits: a multiplicative hash mixes them best.
        let index = label as usize * BUCKETS + (h >> (64 - BUCKETS.trailing_zeros())) as usize;
        let e = self.entries.get_mut(index)?;
        let held = e.bytes.get(..usize::from(e.len)).unwrap_or(&[]);
        let hit = e.hash == h && usize::from(e.len) == bytes.len() && short_str::eq(held, bytes);
        if trial.0 < TRIAL {
            trial.0 += 1;
            trial.1 += u32::from(!hit);
            if trial.0 == TRIAL && trial.1 > TRIAL / 2 {
                trial.2 = true;
            }
        }
        if !hit {
            e.hash = h;
            e.len = bytes.len() as u8;
            e.known = 0;
            e.results = 0;
            e.bytes[..bytes.len()].copy_from_slice(bytes);
        }
        Some(index as u32)
    }

    /// The remembered result of matcher `bit` in entry `entry`.
    #[inline]
    pub(crate) fn get(&self, entry: u32, bit: u32) -> Option<bool> {
        let e = &self.entries[entry as usize];
        (e.known >> bit & 1 == 1).then_some(e.results >> bit & 1 == 1)
    }

    /// Remembers a result.
    #[inline]
    pub(crate) fn set(&mut self, entry: u32, bit: u32, result: bool) {
        let e = &mut self.entries[entry as usize];
        e.known |= 1 << bit;
        e.results |= u64::from(result) << bit;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_caching_a_label_whose_values_do_not_repeat() {
        let mut cache = ValueCache::default();
        cache.reserve(2);
        for i in 0..TRIAL {
            assert!(cache.entry(0, &format!("10.0.{i}")).is_some());
            assert!(cache.entry(1, ["a", "b", "c"][i as usize % 3]).is_some());
        }
        assert_eq!(cache.entry(0, "10.0.1"), None);
        assert!(cache.entry(1, "a").is_some());
    }

    #[test]
    fn remembers_per_value_and_forgets_on_replacement() {
        let mut cache = ValueCache::default();
        cache.reserve(2);
        let a = cache.entry(0, "critical").unwrap();
        assert_eq!(cache.get(a, 3), None);
        cache.set(a, 3, true);
        cache.set(a, 5, false);
        assert_eq!(cache.entry(0, "critical"), Some(a));
        assert_eq!(cache.get(a, 3), Some(true));
        assert_eq!(cache.get(a, 5), Some(false));
        // Another label has its own table.
        let b = cache.entry(1, "critical").unwrap();
        assert_ne!(a, b);
        assert_eq!(cache.get(b, 3), None);
        // Too long to keep.
        assert_eq!(cache.entry(0, &"x".repeat(MAX_CACHED_LEN + 1)), None);
        // Values that share a bucket replace each other.
        let mut other = None;
        for i in 0..10_000 {
            let v = format!("v{i}");
            if cache.entry(0, &v) == Some(a) {
                other = Some(v);
                break;
            }
        }
        let other = other.expect("some value shares the bucket");
        assert_eq!(cache.get(a, 3), None);
        assert_eq!(cache.entry(0, "critical"), Some(a));
        assert_eq!(cache.get(a, 3), None, "replaced by {other}");
    }
}
