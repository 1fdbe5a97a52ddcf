//! Alertmanager's fingerprint: FNV-1a 64 over labels sorted by name.
//!
//! prometheus/common's `labelSetToFingerprint` feeds, for each label in byte order of
//! its name, the name's bytes, `0xff`, the value's bytes and `0xff` into FNV-1a 64
//! (offset `14695981039346656037`, prime `1099511628211`), and prints `%016x`.
//!
//! # Speed
//! FNV-1a is a serial chain: one xor and one multiply per byte, about four cycles a byte
//! whatever the CPU. Label names repeat across alerts, so this module folds a name's
//! bytes (and the separator after it) into one step. The low 8 bits of the state evolve
//! independently of the high bits (an xor with a byte touches only them, and the low 8
//! bits of a product depend only on the low 8 bits of its factors), so for a fixed byte
//! string `s` of length `L`:
//!
//! ```text
//! fnv(h, s) = h * prime^L + K_s[h & 0xff]   (wrapping)
//! ```
//!
//! where the 256-entry table `K_s` depends only on `s`. A name costs one multiply and one
//! table load instead of `4 * L` cycles. Tables are built once per distinct name (a few
//! microseconds) and interned process-wide, up to [`MAX_FOLDED_NAMES`] names; names past
//! that cap are hashed byte by byte. Both paths are property-tested to agree.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::str::FromStr;
use std::sync::{OnceLock, RwLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// An alert's identity under Alertmanager: FNV-1a 64 over its labels.
///
/// Shown as 16 lowercase hexadecimal digits (`%016x`), as Alertmanager's API and webhook
/// show it. Parsing accepts 1 to 16 hex digits of either case, because some producers
/// drop leading zeros.
///
/// ```
/// use alert_core::{Fingerprint, LabelSet};
/// let labels = LabelSet::from_pairs([("alertname", "Test"), ("severity", "page")])?;
/// assert_eq!(labels.fingerprint().to_string(), "823de09697ca9348");
/// assert_eq!(LabelSet::new().fingerprint().to_string(), "cbf29ce484222325");
/// assert_eq!("823de09697ca9348".parse::<Fingerprint>()?, labels.fingerprint());
/// # Ok::<(), alert_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// The fingerprint as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let invalid = || Error::InvalidFingerprint {
            input: s.to_owned(),
        };
        if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        u64::from_str_radix(s, 16)
            .map(Fingerprint)
            .map_err(|_| invalid())
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// FNV-1a 64 offset basis.
pub const FNV_OFFSET: u64 = 14_695_981_039_346_656_037;
/// FNV-1a 64 prime.
pub const FNV_PRIME: u64 = 1_099_511_628_211;
/// The byte fed after every name and every value.
pub const SEPARATOR: u8 = 0xff;

/// How many distinct label names get a folded table (2 KiB each) and a [`crate::NameId`];
/// later names are hashed byte by byte and handled as ordinary strings. Bounds memory
/// when label names come from untrusted input: the interner never holds more than
/// `MAX_FOLDED_NAMES × (2 KiB + 2 × MAX_FOLDED_NAME_LEN)` (about 10 MiB), and never
/// frees it.
pub const MAX_FOLDED_NAMES: usize = 4096;

/// The longest name that is interned. Longer names (no real label name is this long,
/// but an alert's annotation name can be anything) are handled as ordinary strings and
/// freed with the label set that holds them.
pub const MAX_FOLDED_NAME_LEN: usize = 256;

/// Interner places kept for names from configuration ([`Interning::Configured`]: the
/// label names routing trees read). Names from alerts and webhooks
/// ([`Interning::Observed`]) stop at `MAX_FOLDED_NAMES - RESERVED_FOR_CONFIGURED`, so
/// a flood of never-seen names cannot take the places a routing tree compiled later
/// needs for its fast layout.
pub const RESERVED_FOR_CONFIGURED: usize = 1024;

/// Where a name to intern comes from, which decides how much of the interner it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interning {
    /// A name seen in data (alerts, webhook bodies, any label set built at run time):
    /// interned while fewer than `MAX_FOLDED_NAMES - RESERVED_FOR_CONFIGURED` names are.
    Observed,
    /// A name from configuration (a routing tree's matchers): may use the whole
    /// interner.
    Configured,
}

/// How many names are interned now.
pub fn interned_names() -> usize {
    global_folds()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .len()
}

#[inline(always)]
fn fnv_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

#[inline(always)]
fn fnv_separator(h: u64) -> u64 {
    (h ^ u64::from(SEPARATOR)).wrapping_mul(FNV_PRIME)
}

/// One label name, folded into single FNV steps.
///
/// Labels are fed as `name 0xff value 0xff` one after another, so every name but the
/// first is preceded by the separator that closed the previous value. The fold covers
/// `0xff name 0xff` for those, and keeps the state after `name 0xff` from the offset basis
/// for a name that comes first.
pub struct NameFold {
    /// The name's number in the interner, in interning order.
    id: u32,
    /// `fnv(offset, name ++ [0xff])`: the state after this name when it comes first.
    first: u64,
    /// `prime ^ (len(name) + 2)`.
    mult: u64,
    /// `K[t] = fnv(t, [0xff] ++ name ++ [0xff]) - t * mult`.
    table: [u64; 256],
}

impl NameFold {
    fn new(name: &str, id: u32) -> NameFold {
        let len = name.len() + 2;
        let mut mult: u64 = 1;
        for _ in 0..len {
            mult = mult.wrapping_mul(FNV_PRIME);
        }
        let mut table = [0u64; 256];
        for (t, slot) in table.iter_mut().enumerate() {
            let t = t as u64;
            let full = fnv_separator(fnv_bytes(fnv_separator(t), name.as_bytes()));
            *slot = full.wrapping_sub(t.wrapping_mul(mult));
        }
        NameFold {
            id,
            first: fnv_separator(fnv_bytes(FNV_OFFSET, name.as_bytes())),
            mult,
            table,
        }
    }

    /// The name's number in the interner: distinct names have distinct numbers, below
    /// [`MAX_FOLDED_NAMES`].
    pub fn id(&self) -> u32 {
        self.id
    }

    /// `fnv(h, [0xff] ++ name ++ [0xff])`.
    #[inline(always)]
    fn apply(&self, h: u64) -> u64 {
        h.wrapping_mul(self.mult)
            .wrapping_add(self.table[(h & 0xff) as usize])
    }
}

impl fmt::Debug for NameFold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NameFold").finish_non_exhaustive()
    }
}

/// FNV-1a 32 used as the hasher of the interner's maps: names are short.
#[derive(Default)]
struct NameHasher(u32);

impl Hasher for NameHasher {
    fn finish(&self) -> u64 {
        u64::from(self.0)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0x811c_9dc5 } else { self.0 };
        for &b in bytes {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        self.0 = h;
    }
}

type FoldMap = HashMap<Box<str>, &'static NameFold, BuildHasherDefault<NameHasher>>;

fn global_folds() -> &'static RwLock<FoldMap> {
    static FOLDS: OnceLock<RwLock<FoldMap>> = OnceLock::new();
    FOLDS.get_or_init(|| RwLock::new(FoldMap::default()))
}

thread_local! {
    static LOCAL_FOLDS: RefCell<FoldMap> = RefCell::new(FoldMap::default());
}

/// Every interned fold, by its id: lets a label set keep a 4-byte id instead of a pointer.
static FOLDS_BY_ID: [OnceLock<&'static NameFold>; MAX_FOLDED_NAMES] =
    [const { OnceLock::new() }; MAX_FOLDED_NAMES];

/// The interned fold numbered `id` ([`NameFold::id`]), if there is one.
#[inline]
pub fn fold_by_id(id: u32) -> Option<&'static NameFold> {
    FOLDS_BY_ID.get(id as usize)?.get().copied()
}

/// The interned fold of `name`, building it on first use; `None` for a name longer than
/// [`MAX_FOLDED_NAME_LEN`] or once the interner is full for names
/// [`Interning::Observed`].
pub fn name_fold(name: &str) -> Option<&'static NameFold> {
    name_fold_as(name, Interning::Observed)
}

/// [`name_fold`] for a name that comes from `source`: a [`Interning::Configured`] name
/// may also take the places [`RESERVED_FOR_CONFIGURED`] keeps.
pub fn name_fold_as(name: &str, source: Interning) -> Option<&'static NameFold> {
    if name.len() > MAX_FOLDED_NAME_LEN {
        return None;
    }
    let cap = match source {
        Interning::Observed => MAX_FOLDED_NAMES - RESERVED_FOR_CONFIGURED,
        Interning::Configured => MAX_FOLDED_NAMES,
    };
    if let Some(fold) = LOCAL_FOLDS.with(|m| m.borrow().get(name).copied()) {
        return Some(fold);
    }
    let fold = {
        let read = global_folds().read().unwrap_or_else(|e| e.into_inner());
        read.get(name).copied()
    };
    let fold = match fold {
        Some(fold) => fold,
        None => {
            let mut write = global_folds().write().unwrap_or_else(|e| e.into_inner());
            match write.get(name) {
                Some(fold) => *fold,
                None if write.len() >= cap => return None,
                None => {
                    // Leaked on purpose: at most MAX_FOLDED_NAMES tables (8 MiB) live for
                    // the whole process, shared by every label set.
                    let fold: &'static NameFold =
                        Box::leak(Box::new(NameFold::new(name, write.len() as u32)));
                    // Under the write lock: each id is handed out once.
                    if let Some(slot) = FOLDS_BY_ID.get(fold.id as usize) {
                        let _ = slot.set(fold);
                    }
                    write.insert(name.into(), fold);
                    fold
                }
            }
        }
    };
    LOCAL_FOLDS.with(|m| m.borrow_mut().insert(name.into(), fold));
    Some(fold)
}

/// Incremental fingerprint computation over labels fed in name order.
///
/// The separator after a value is fed lazily, with the next name or at [`finish`], so
/// that a folded name can absorb it.
///
/// [`finish`]: FingerprintBuilder::finish
#[derive(Debug, Clone, Copy)]
pub struct FingerprintBuilder {
    h: u64,
    /// Whether a value was fed whose closing separator is still owed.
    open: bool,
}

impl Default for FingerprintBuilder {
    fn default() -> Self {
        FingerprintBuilder {
            h: FNV_OFFSET,
            open: false,
        }
    }
}

impl FingerprintBuilder {
    /// Feeds one label whose name's fold is known (or `None` to hash it byte by byte).
    #[inline(always)]
    pub fn label(self, name: &str, fold: Option<&NameFold>, value: &str) -> Self {
        match fold {
            Some(fold) => self.folded(fold, value.as_bytes()),
            None => self.bytes(name.as_bytes(), value.as_bytes()),
        }
    }

    /// Feeds one label by its name's fold and its value's bytes.
    #[inline(always)]
    pub fn folded(self, fold: &NameFold, value: &[u8]) -> Self {
        let h = if self.open {
            fold.apply(self.h)
        } else {
            fold.first
        };
        FingerprintBuilder {
            h: fnv_bytes(h, value),
            open: true,
        }
    }

    /// Feeds one label by its name's and value's bytes, hashed byte by byte.
    #[inline(always)]
    pub fn bytes(self, name: &[u8], value: &[u8]) -> Self {
        let h = if self.open {
            fnv_separator(self.h)
        } else {
            self.h
        };
        FingerprintBuilder {
            h: fnv_bytes(fnv_separator(fnv_bytes(h, name)), value),
            open: true,
        }
    }

    /// The fingerprint of what was fed.
    pub fn finish(self) -> Fingerprint {
        Fingerprint(if self.open {
            fnv_separator(self.h)
        } else {
            self.h
        })
    }
}

/// The fingerprint of labels already sorted by name in byte order, hashed byte by byte.
///
/// `labels` must be sorted and free of duplicate names; [`crate::LabelSet`] keeps that
/// invariant, so most callers want [`crate::LabelSet::fingerprint`], which is faster.
pub fn fingerprint_sorted<'a, I>(labels: I) -> Fingerprint
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    labels
        .into_iter()
        .fold(FingerprintBuilder::default(), |b, (n, v)| {
            b.label(n, None, v)
        })
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parsing_and_display() {
        assert_eq!("1".parse::<Fingerprint>(), Ok(Fingerprint(1)));
        assert_eq!(Fingerprint(1).to_string(), "0000000000000001");
        assert_eq!("ABCDEF".parse::<Fingerprint>(), Ok(Fingerprint(0xabcdef)));
        for bad in ["", "xyz", "00000000000000001", "+1", "-1", " 1"] {
            assert!(bad.parse::<Fingerprint>().is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_set_is_the_offset_basis() {
        assert_eq!(fingerprint_sorted([]).to_string(), "cbf29ce484222325");
    }

    proptest! {
        #[test]
        fn folded_names_agree_with_byte_by_byte(
            labels in proptest::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,20}", any::<String>(), 0..12),
            folded in proptest::collection::vec(any::<bool>(), 12),
        ) {
            let slow = fingerprint_sorted(labels.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            let folds: Vec<NameFold> = labels.keys().map(|n| NameFold::new(n, 0)).collect();
            let fast = labels
                .iter()
                .zip(&folds)
                .zip(&folded)
                .fold(FingerprintBuilder::default(), |b, (((n, v), f), use_fold)| {
                    b.label(n, use_fold.then_some(f), v)
                })
                .finish();
            prop_assert_eq!(slow, fast);
        }

        #[test]
        fn every_interned_fold_is_found_by_its_id(name in "[a-zA-Z_][a-zA-Z0-9_]{0,40}") {
            let interned = name_fold(&name).expect("interner has room in tests");
            let by_id = fold_by_id(interned.id()).expect("registered");
            prop_assert!(std::ptr::eq(interned, by_id));
        }

        #[test]
        fn interned_folds_equal_fresh_ones(start in any::<u64>(), name in "[a-zA-Z_][a-zA-Z0-9_]{0,40}") {
            let interned = name_fold(&name).expect("interner has room in tests");
            let fresh = NameFold::new(&name, 0);
            prop_assert_eq!(interned.apply(start), fresh.apply(start));
            prop_assert_eq!(interned.first, fresh.first);
        }
    }
}
