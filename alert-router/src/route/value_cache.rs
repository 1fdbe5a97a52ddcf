//! Test results remembered across alerts, by label value.
//!
//! Label values repeat: a fleet has a handful of severities, teams, environments and
//! services. For each chunk of a label's tests (see [`super::eval`]), a small
//! direct-mapped table keeps, per recently seen value, which of those tests have been
//! evaluated and with what result. A value is hashed once per alert and chunk; every test
//! in the chunk then costs a bit test. The table lives in the caller's
//! [`MatchBuffer`](super::MatchBuffer): fixed-size entries, values up to
//! [`MAX_CACHED_LEN`] bytes stored inline, so lookups and replacements never allocate.

use super::eval::{ChunkIdx, UNCACHED};

/// The longest value kept: values are compared by their 32-byte head
/// ([`alert_core::ValueRef::head`]) and length; longer values are evaluated without the
/// cache. An entry is one 64-byte cache line.
pub(crate) const MAX_CACHED_LEN: usize = 32;
/// Entries per label at most (a power of two): 32 KiB a label.
const MAX_BUCKETS: usize = 512;
/// Entries per label at least.
const MIN_BUCKETS: usize = 64;
/// The memory all tables may take together, unless every label has [`MIN_BUCKETS`].
const BUDGET: usize = 4 << 20;

#[derive(Debug, Clone)]
#[repr(C, align(64))]
struct Entry {
    head: [u64; 4],
    /// Which tests' results are known.
    known: u64,
    /// Their results.
    results: u64,
    /// `u32::MAX` while empty.
    len: u32,
}

/// The bucket of a value in chunk `chunk`'s table, of tables of `2^bits` entries.
#[inline(always)]
fn bucket(bits: u32, chunk: ChunkIdx, head: [u64; 4], len: usize) -> usize {
    let h = (head[0]
        ^ head[1].rotate_left(17)
        ^ head[2].rotate_left(31)
        ^ head[3].rotate_left(47)
        ^ len as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // The high bits: a multiplicative hash mixes them best.
    (chunk.index() << bits) + (h >> (64 - bits)) as usize
}

impl Entry {
    /// An entry for the value with head `head` and length `len`, nothing known yet.
    #[inline(always)]
    fn claimed(head: [u64; 4], len: usize) -> Entry {
        Entry {
            head,
            known: 0,
            results: 0,
            len: len as u32,
        }
    }

    /// Whether the entry holds the value with head `head` and length `len` (never a
    /// value longer than [`MAX_CACHED_LEN`]: no entry holds one).
    #[inline(always)]
    fn holds(&self, head: [u64; 4], len: usize) -> bool {
        let diff = (self.head[0] ^ head[0])
            | (self.head[1] ^ head[1])
            | (self.head[2] ^ head[2])
            | (self.head[3] ^ head[3]);
        (diff == 0) & (self.len as usize == len)
    }
}

const EMPTY: Entry = Entry {
    head: [0; 4],
    known: 0,
    results: 0,
    len: u32::MAX,
};

/// The entries and their tables' size, taken out of a [`ValueCache`] once per alert:
/// the label loop then keeps them in registers (an entry it replaces cannot change
/// them), instead of reading them again from the cache after every label.
pub(crate) struct EagerTables<'c> {
    entries: &'c mut [Entry],
    bits: u32,
}

impl EagerTables<'_> {
    /// [`ValueCache::lookup`] for a label the label loop looks up for every alert (one
    /// read where every alert gets): without the trial. Such a label whose values do not
    /// repeat only costs a replaced entry per alert, and its tests are evaluated per
    /// alert either way.
    #[inline(always)]
    pub(crate) fn lookup(&mut self, c: ChunkIdx, head: [u64; 4], len: usize) -> (u32, [u64; 2]) {
        let index = bucket(self.bits, c, head, len);
        let Some(e) = self.entries.get_mut(index) else {
            return (UNCACHED, [0, 0]);
        };
        if e.holds(head, len) {
            return (index as u32, [e.known, e.results]);
        }
        if len > MAX_CACHED_LEN {
            return (UNCACHED, [0, 0]);
        }
        *e = Entry::claimed(head, len);
        (index as u32, [0, 0])
    }
}

/// Lookups of a label after which its hit rate is judged.
const TRIAL: u32 = 4096;

/// Per table: lookups and misses during the trial, and whether it is bypassed.
#[derive(Debug, Clone, Copy, Default)]
struct Trial {
    lookups: u32,
    misses: u32,
    bypassed: bool,
}

/// The tables of every cached label, of equal size: as large as [`BUDGET`] allows, from
/// [`MIN_BUCKETS`] to [`MAX_BUCKETS`] entries (fewer buckets, more values evicting each
/// other).
///
/// A label whose values rarely repeat (instance addresses, customer ids) would only
/// pay for hashing and copying: after [`TRIAL`] lookups, a label that missed more than
/// half the time is no longer cached (its tests are then remembered per alert only).
/// Labels looked up for every alert skip the trial ([`EagerTables::lookup`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct ValueCache {
    entries: Vec<Entry>,
    trials: Vec<Trial>,
    /// log2 of the entries per label.
    bits: u32,
}

impl ValueCache {
    /// Empty tables for `labels` labels.
    pub(crate) fn new(labels: usize) -> ValueCache {
        let fit = BUDGET / std::mem::size_of::<Entry>() / labels.max(1);
        let buckets = if fit >= MAX_BUCKETS {
            MAX_BUCKETS
        } else {
            // The largest power of two that fits.
            (fit / 2 + 1).next_power_of_two().max(MIN_BUCKETS)
        };
        ValueCache {
            entries: vec![EMPTY; labels * buckets],
            trials: vec![Trial::default(); labels],
            bits: buckets.trailing_zeros(),
        }
    }

    /// The entry for the value with head `head` and length `len` in the table of chunk
    /// `c`, claimed (and cleared) if another value held it, and what it remembers
    /// (`[known tests, results]`). Values longer than [`MAX_CACHED_LEN`], labels no
    /// longer cached and labels without a table get no entry ([`UNCACHED`], `[0, 0]`).
    ///
    #[inline]
    pub(crate) fn lookup(&mut self, c: ChunkIdx, head: [u64; 4], len: usize) -> (u32, [u64; 2]) {
        const NONE: (u32, [u64; 2]) = (UNCACHED, [0, 0]);
        let Some(trial) = self.trials.get_mut(c.index()) else {
            return NONE;
        };
        if trial.bypassed || len > MAX_CACHED_LEN {
            return NONE;
        }
        let index = bucket(self.bits, c, head, len);
        let Some(e) = self.entries.get_mut(index) else {
            return NONE;
        };
        let hit = e.holds(head, len);
        if trial.lookups < TRIAL {
            trial.lookups += 1;
            trial.misses += u32::from(!hit);
            trial.bypassed = trial.lookups == TRIAL && trial.misses > TRIAL / 2;
        }
        if !hit {
            *e = Entry::claimed(head, len);
        }
        (index as u32, [e.known, e.results])
    }

    /// The tables as the label loop reads them: see [`EagerTables`].
    #[inline(always)]
    pub(crate) fn eager(&mut self) -> EagerTables<'_> {
        EagerTables {
            entries: &mut self.entries,
            bits: self.bits,
        }
    }

    /// The remembered `[known tests, results]` of entry `entry`.
    #[cfg(test)]
    pub(crate) fn bits(&self, entry: u32) -> [u64; 2] {
        self.entries
            .get(entry as usize)
            .map_or([0, 0], |e| [e.known, e.results])
    }

    /// Remembers `[known tests, results]` in entry `entry`.
    #[inline]
    pub(crate) fn store(&mut self, entry: u32, [known, results]: [u64; 2]) {
        if let Some(e) = self.entries.get_mut(entry as usize) {
            e.known = known;
            e.results = results;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alert_core::LabelSet;

    /// `lookup` for a value, as the tree calls it.
    fn entry(cache: &mut ValueCache, label: u32, value: &str) -> Option<u32> {
        let set = LabelSet::from_pairs([("v", value)]).expect("valid");
        let (_, v) = set.values_with_ids().next().expect("one label");
        let (entry, _) = cache.lookup(ChunkIdx::new(label), v.head(), v.len());
        (entry != UNCACHED).then_some(entry)
    }

    #[test]
    fn stops_caching_a_label_whose_values_do_not_repeat() {
        let mut cache = ValueCache::new(2);
        for i in 0..TRIAL {
            assert!(entry(&mut cache, 0, &format!("10.0.{i}")).is_some());
            assert!(entry(&mut cache, 1, ["a", "b", "c"][i as usize % 3]).is_some());
        }
        assert_eq!(entry(&mut cache, 0, "10.0.1"), None);
        assert!(entry(&mut cache, 1, "a").is_some());
    }

    /// [`EagerTables::lookup`] for a value.
    fn eager(cache: &mut ValueCache, label: u32, value: &str) -> (Option<u32>, [u64; 2]) {
        let set = LabelSet::from_pairs([("v", value)]).expect("valid");
        let (_, v) = set.values_with_ids().next().expect("one label");
        let (entry, bits) = cache
            .eager()
            .lookup(ChunkIdx::new(label), v.head(), v.len());
        ((entry != UNCACHED).then_some(entry), bits)
    }

    #[test]
    fn eager_lookups_share_the_entries_and_are_never_bypassed() {
        let mut cache = ValueCache::new(2);
        // Past a trial's worth of values that never repeat, still cached.
        for i in 0..2 * TRIAL {
            assert!(eager(&mut cache, 0, &format!("10.0.{i}")).0.is_some());
        }
        let (a, bits) = eager(&mut cache, 0, "critical");
        let a = a.expect("an entry");
        assert_eq!(bits, [0, 0]);
        cache.store(a, [0b11, 0b01]);
        assert_eq!(eager(&mut cache, 0, "critical"), (Some(a), [0b11, 0b01]));
        // The trial-keeping lookup finds the same entry.
        assert_eq!(entry(&mut cache, 0, "critical"), Some(a));
        assert_eq!(cache.bits(a), [0b11, 0b01]);
        // Too long to keep, and never mistaken for a kept value with its head.
        let long = "x".repeat(MAX_CACHED_LEN + 1);
        assert_eq!(eager(&mut cache, 0, &long), (None, [0, 0]));
        let (b, _) = eager(&mut cache, 0, &"x".repeat(MAX_CACHED_LEN));
        cache.store(b.expect("an entry"), [1, 1]);
        assert_eq!(eager(&mut cache, 0, &long), (None, [0, 0]));
        // No table, no entry.
        assert_eq!(eager(&mut cache, 5, "critical"), (None, [0, 0]));
    }

    #[test]
    fn remembers_per_value_and_forgets_on_replacement() {
        let mut cache = ValueCache::new(2);
        let a = entry(&mut cache, 0, "critical").unwrap();
        assert_eq!(cache.bits(a), [0, 0]);
        cache.store(a, [0b101000, 0b001000]);
        assert_eq!(entry(&mut cache, 0, "critical"), Some(a));
        assert_eq!(cache.bits(a), [0b101000, 0b001000]);
        // Another label has its own table.
        let b = entry(&mut cache, 1, "critical").unwrap();
        assert_ne!(a, b);
        assert_eq!(cache.bits(b), [0, 0]);
        // Too long to keep; a value that differs only past its length is another value.
        assert_eq!(entry(&mut cache, 0, &"x".repeat(MAX_CACHED_LEN + 1)), None);
        assert!(entry(&mut cache, 0, &"x".repeat(MAX_CACHED_LEN)).is_some());
        // Values that share a bucket replace each other.
        let mut other = None;
        for i in 0..10_000 {
            let v = format!("v{i}");
            if entry(&mut cache, 0, &v) == Some(a) {
                other = Some(v);
                break;
            }
        }
        let other = other.expect("some value shares the bucket");
        assert_eq!(cache.bits(a), [0, 0]);
        assert_eq!(entry(&mut cache, 0, "critical"), Some(a));
        assert_eq!(cache.bits(a), [0, 0], "replaced by {other}");
    }

    #[test]
    fn a_value_and_its_prefix_with_trailing_zero_bytes_differ() {
        let mut cache = ValueCache::new(1);
        let a = entry(&mut cache, 0, "ab").unwrap();
        cache.store(a, [1, 1]);
        let b = entry(&mut cache, 0, "ab\0").unwrap();
        assert_eq!(cache.bits(b), [0, 0]);
    }

    #[test]
    fn tables_shrink_to_the_budget() {
        assert_eq!(ValueCache::new(10).bits, MAX_BUCKETS.trailing_zeros());
        assert_eq!(ValueCache::new(512).bits, 7);
        assert_eq!(ValueCache::new(100_000).bits, MIN_BUCKETS.trailing_zeros());
        for labels in [1, 3, 100, 129, 300, 1000] {
            let c = ValueCache::new(labels);
            let buckets = 1usize << c.bits;
            assert!(buckets.is_power_of_two() && (MIN_BUCKETS..=MAX_BUCKETS).contains(&buckets));
            assert!(
                labels * buckets * 64 <= BUDGET || buckets == MIN_BUCKETS,
                "{labels}"
            );
        }
    }

    #[test]
    fn labels_without_a_table_get_no_entry() {
        let mut cache = ValueCache::new(2);
        assert!(entry(&mut cache, 0, "a").is_some());
        assert!(entry(&mut cache, 1, "a").is_some());
        assert_eq!(entry(&mut cache, 2, "a"), None);
        assert_eq!(entry(&mut cache, 7, "a"), None);
    }
}
