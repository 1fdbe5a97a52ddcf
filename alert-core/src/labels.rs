//! Label names, label sets and their Alertmanager fingerprints.
//!
//! A [`LabelSet`] maps valid Prometheus label names to values. It is kept sorted by name
//! in byte order, which is both the order Alertmanager hashes labels in and a cheap
//! layout for the small sets alerts carry (a handful to a few dozen labels).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::fingerprint::{Fingerprint, FingerprintBuilder, fold_by_id, name_fold};

/// Whether `name` is a valid Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
///
/// This is `model.LabelName.IsValid` of prometheus/common 0.38, which Alertmanager 0.25
/// uses for alerts, `match` keys, `group_by` and silences.
///
/// ```
/// use alert_core::is_valid_label_name;
/// assert!(is_valid_label_name("alertname"));
/// assert!(is_valid_label_name("__name__"));
/// assert!(!is_valid_label_name("1abc"));
/// assert!(!is_valid_label_name("foo-bar"));
/// assert!(!is_valid_label_name(""));
/// ```
pub fn is_valid_label_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    match bytes.first() {
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => {}
        _ => return false,
    }
    bytes[1..]
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Whether `name` is a label name as Alertmanager 0.25's classic matcher grammar reads
/// one (`pkg/labels/parse.go`): `[a-zA-Z_:][a-zA-Z0-9_:]*`. This is what amtool takes in
/// label arguments; it is wider than [`is_valid_label_name`], which Alertmanager's API
/// applies to alerts and silences.
///
/// ```
/// use alert_core::labels::is_classic_label_name;
/// assert!(is_classic_label_name("a:b"));
/// assert!(is_classic_label_name(":"));
/// assert!(!is_classic_label_name("1abc"));
/// assert!(!is_classic_label_name("a-b"));
/// assert!(!is_classic_label_name(""));
/// ```
pub fn is_classic_label_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.iter().enumerate().all(|(i, b)| {
            b.is_ascii_alphabetic() || *b == b'_' || *b == b':' || (i > 0 && b.is_ascii_digit())
        })
}

/// Checks a label name, returning [`Error::InvalidLabelName`] when it is not valid.
pub fn validate_label_name(name: &str) -> Result<()> {
    if is_valid_label_name(name) {
        Ok(())
    } else {
        Err(Error::InvalidLabelName {
            name: name.to_owned(),
        })
    }
}

/// A set of labels: valid Prometheus label names, each with one value.
///
/// Kept sorted by name in byte order. Values may be any string, including the empty
/// string (Alertmanager's API drops empty-valued labels of alerts it receives; see
/// [`LabelSet::without_empty`] and [`LabelSet::fingerprint_without_empty`]).
///
/// Serialises as a JSON object (or YAML mapping) of name to value; reading one validates
/// every name and rejects duplicates.
///
/// # Layout
/// A set is two allocations, whatever its size: the names and values concatenated in
/// order (`name0 value0 name1 value1 …`, then 32 zero bytes) and, per label, where its
/// name and value end and its name's interned number (12 bytes a label). An alert's labels therefore sit together in memory, which is what
/// makes matching millions of them fast. Sets are built once and read many times;
/// [`LabelSet::insert`] and [`LabelSet::remove`] rebuild the set (linear in its size).
/// Names and values together may take up to 4 GiB.
#[derive(Clone, Default)]
pub struct LabelSet {
    /// Per label, sorted by name: where its name and value end in `text`.
    entries: Box<[Entry]>,
    /// Names and values, concatenated in order.
    text: Box<str>,
}

/// Where one label ends in [`LabelSet::text`] (its name starts where the previous
/// label's value ends), and its name's interned number ([`NO_ID`] for none).
#[derive(Clone, Copy)]
struct Entry {
    name_end: u32,
    value_end: u32,
    id: u32,
}

/// [`Entry::id`] of a name past the interner's cap.
const NO_ID: u32 = u32::MAX;

impl Entry {
    #[inline]
    fn name_id(&self) -> Option<NameId> {
        (self.id != NO_ID).then_some(NameId(self.id))
    }
}

/// A label name's number in the process-wide name interner (the one that keeps each
/// name's fingerprint table; see [`crate::fingerprint`]).
///
/// The same name always has the same number for the life of the process, and distinct
/// names have distinct numbers, below [`crate::fingerprint::MAX_FOLDED_NAMES`]. Names
/// longer than [`crate::fingerprint::MAX_FOLDED_NAME_LEN`] get none, and once the
/// interner is full new names get none ([`NameId::intern`] stops
/// [`crate::fingerprint::RESERVED_FOR_CONFIGURED`] places early, which only
/// [`NameId::intern_configured`] takes): they are handled as ordinary strings, freed
/// with their label set, and [`LabelSet::iter_with_ids`] gives `None` for them. A name that has a number
/// has it in every label set, so comparing numbers is comparing names.
///
/// ```
/// use alert_core::{LabelSet, NameId};
/// let id = NameId::intern("severity").expect("room in the interner");
/// let labels = LabelSet::from_pairs([("alertname", "A"), ("severity", "page")])?;
/// let (found, _, value) = labels.iter_with_ids().nth(1).expect("two labels");
/// assert_eq!((found, value), (Some(id), "page"));
/// # Ok::<(), alert_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameId(u32);

impl NameId {
    /// The number of `name`, interning it if there is room for a name seen in data
    /// ([`crate::fingerprint::Interning::Observed`]). `None` for a name longer than
    /// [`crate::fingerprint::MAX_FOLDED_NAME_LEN`], or a new name once the data's share of
    /// the interner is full.
    pub fn intern(name: &str) -> Option<NameId> {
        name_fold(name).map(|f| NameId(f.id()))
    }

    /// The number of `name`, a label name from configuration (a routing tree's
    /// matchers), which may also take the places the interner keeps for configuration
    /// ([`crate::fingerprint::RESERVED_FOR_CONFIGURED`]).
    pub fn intern_configured(name: &str) -> Option<NameId> {
        crate::fingerprint::name_fold_as(name, crate::fingerprint::Interning::Configured)
            .map(|f| NameId(f.id()))
    }

    /// The number, below [`crate::fingerprint::MAX_FOLDED_NAMES`]: usable as an index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The labels of a [`LabelSet`] in name order: `(name's number, name, value)`.
#[derive(Clone)]
struct RawIter<'a> {
    entries: std::slice::Iter<'a, Entry>,
    text: &'a str,
    start: u32,
}

impl<'a> Iterator for RawIter<'a> {
    type Item = (Option<NameId>, &'a str, &'a str);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let e = self.entries.next()?;
        let name = self
            .text
            .get(self.start as usize..e.name_end as usize)
            .unwrap_or("");
        let value = self
            .text
            .get(e.name_end as usize..e.value_end as usize)
            .unwrap_or("");
        self.start = e.value_end;
        Some((e.name_id(), name, value))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl ExactSizeIterator for RawIter<'_> {}

/// Zero bytes after the last value, so that [`ValueRef::head`] can read 32 bytes from
/// any value's start without a bounds branch.
const HEAD_PADDING: usize = 32;

/// A label's value, as hot loops read it (see [`LabelSet::values_with_ids`]). The
/// default is the empty value.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValueRef<'a> {
    /// The set's whole text, padding included.
    text: &'a str,
    start: u32,
    end: u32,
}

impl<'a> ValueRef<'a> {
    /// The value.
    #[inline]
    pub fn as_str(self) -> &'a str {
        self.text
            .get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }

    /// The value's length in bytes.
    #[inline]
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the value is empty.
    #[inline]
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }

    /// The value's first 32 bytes as four little-endian words, zero past the value's
    /// end: a fixed-size view for hashing and comparing short values without branching
    /// on their length. Values of up to 32 bytes are equal exactly when their lengths
    /// and heads are.
    #[inline]
    pub fn head(self) -> [u64; 4] {
        let start = self.start as usize;
        let raw: [u8; 32] = match self
            .text
            .as_bytes()
            .get(start..start + 32)
            .and_then(|b| b.first_chunk::<32>())
        {
            Some(b) => *b,
            None => {
                // Only sets without padding (none are built) end here.
                let mut raw = [0u8; 32];
                let b = self.as_str().as_bytes();
                let n = b.len().min(32);
                raw[..n].copy_from_slice(&b[..n]);
                raw
            }
        };
        let (words, _) = raw.as_chunks::<8>();
        let mask = &HEAD_MASKS[self.len().min(32)];
        let mut out = [0u64; 4];
        for ((o, w), m) in out.iter_mut().zip(words).zip(mask) {
            *o = u64::from_le_bytes(*w) & m;
        }
        out
    }
}

/// `HEAD_MASKS[n]` keeps the first `n` bytes of four little-endian words.
static HEAD_MASKS: [[u64; 4]; 33] = {
    let mut masks = [[0u64; 4]; 33];
    let mut n: usize = 0;
    while n <= 32 {
        let mut w = 0;
        while w < 4 {
            let keep = if n >= (w + 1) * 8 {
                8
            } else {
                n.saturating_sub(w * 8)
            };
            masks[n][w] = if keep == 8 {
                u64::MAX
            } else {
                (1u64 << (keep * 8)) - 1
            };
            w += 1;
        }
        n += 1;
    }
    masks
};

/// Packs labels sorted by name and free of duplicates into a set.
fn pack<'a, I>(labels: I) -> Result<LabelSet>
where
    I: Iterator<Item = (Option<NameId>, &'a str, &'a str)> + Clone,
{
    let bytes: usize = labels.clone().map(|(_, n, v)| n.len() + v.len()).sum();
    if u32::try_from(bytes).is_err() {
        return Err(Error::LabelSetTooLarge { bytes });
    }
    let mut text = String::with_capacity(bytes + HEAD_PADDING);
    let mut entries = Vec::with_capacity(labels.size_hint().0);
    for (id, name, value) in labels {
        text.push_str(name);
        let name_end = text.len() as u32;
        text.push_str(value);
        entries.push(Entry {
            name_end,
            value_end: text.len() as u32,
            id: id.map_or(NO_ID, |i| i.0),
        });
    }
    if !entries.is_empty() {
        text.extend(std::iter::repeat_n('\0', HEAD_PADDING));
    }
    Ok(LabelSet {
        entries: entries.into_boxed_slice(),
        text: text.into_boxed_str(),
    })
}

impl PartialEq for LabelSet {
    fn eq(&self, other: &Self) -> bool {
        // The text and the ends determine the labels (ids follow from the names).
        self.text == other.text
            && self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .zip(other.entries.iter())
                .all(|(a, b)| a.name_end == b.name_end && a.value_end == b.value_end)
    }
}

impl Eq for LabelSet {}

impl std::hash::Hash for LabelSet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
        for e in self.entries.iter() {
            state.write_u32(e.name_end);
            state.write_u32(e.value_end);
        }
    }
}

impl PartialOrd for LabelSet {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for LabelSet {
    /// Label by label, `(name, value)` pairs compared in order; a prefix sorts first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

impl fmt::Debug for LabelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl LabelSet {
    /// The empty label set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a set from pairs, validating every name. A repeated name is an error.
    pub fn from_pairs<N, V, I>(pairs: I) -> Result<Self>
    where
        N: Into<String>,
        V: Into<String>,
        I: IntoIterator<Item = (N, V)>,
    {
        let pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(n, v)| (n.into(), v.into()))
            .collect();
        // The first fault in input order: a repeat, else an invalid name.
        let mut seen = std::collections::HashSet::with_capacity(pairs.len());
        for (name, _) in &pairs {
            if !seen.insert(name.as_str()) {
                return Err(Error::DuplicateLabelName { name: name.clone() });
            }
            validate_label_name(name)?;
        }
        let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        pack(
            sorted
                .into_iter()
                .map(|(n, v)| (NameId::intern(n), n.as_str(), v.as_str())),
        )
    }

    /// Reads `text` when it is a JSON object of strings written compactly, as
    /// `serde_json::to_string` writes a set (`{"a":"1","b":"2"}`), with no escape in any
    /// string, no repeated name and only valid names: a shortcut past the JSON
    /// deserialiser for label sets a store wrote. `None` for any other text (read it with
    /// `serde_json`, which accepts every form and names what is wrong).
    ///
    /// ```
    /// use alert_core::LabelSet;
    /// let set = LabelSet::from_compact_json(r#"{"job":"api","instance":"a:9"}"#).expect("compact");
    /// assert_eq!(set.get("instance"), Some("a:9"));
    /// assert_eq!(LabelSet::from_compact_json(r#"{"job": "api"}"#), None); // a space
    /// assert_eq!(LabelSet::from_compact_json(r#"{"job":"a\"b"}"#), None); // an escape
    /// ```
    pub fn from_compact_json(text: &str) -> Option<LabelSet> {
        /// Labels past this many go through the deserialiser.
        const MAX: usize = 32;
        let bytes = text.as_bytes();
        let end = bytes.len().checked_sub(1)?;
        if bytes.first() != Some(&b'{') || bytes.get(end) != Some(&b'}') || end == 0 {
            return None;
        }
        // The string starting after the quote at `at`: its end (the next quote), if
        // nothing in it needs unescaping or is invalid in JSON.
        let string = |at: usize| -> Option<(usize, usize)> {
            if bytes.get(at) != Some(&b'"') {
                return None;
            }
            let start = at + 1;
            let len = bytes.get(start..end)?.iter().position(|&c| c == b'"')?;
            let body = bytes.get(start..start + len)?;
            if body.iter().any(|&c| c == b'\\' || c < 0x20) {
                return None;
            }
            Some((start, start + len))
        };
        let mut spans = [(0usize, 0usize, 0usize, 0usize); MAX];
        let mut count = 0;
        let mut at = 1;
        while at < end {
            if count > 0 {
                if bytes.get(at) != Some(&b',') {
                    return None;
                }
                at += 1;
            }
            let (name_start, name_end) = string(at)?;
            if bytes.get(name_end + 1) != Some(&b':') {
                return None;
            }
            let (value_start, value_end) = string(name_end + 2)?;
            *spans.get_mut(count)? = (name_start, name_end, value_start, value_end);
            count += 1;
            at = value_end + 1;
        }
        let spans = spans.get_mut(..count)?;
        let name = |&(s, e, _, _): &(usize, usize, usize, usize)| text.get(s..e).unwrap_or("");
        if spans.iter().any(|s| validate_label_name(name(s)).is_err()) {
            return None;
        }
        pack_read(spans, name, |&(_, _, s, e)| text.get(s..e).unwrap_or("")).ok()
    }

    fn raw(&self) -> RawIter<'_> {
        RawIter {
            entries: self.entries.iter(),
            text: &self.text,
            start: 0,
        }
    }

    /// The name and value of label `i`.
    #[inline]
    fn at(&self, i: usize) -> (&str, &str) {
        let start = match i.checked_sub(1) {
            Some(p) => self.entries[p].value_end,
            None => 0,
        };
        let e = &self.entries[i];
        (
            self.text
                .get(start as usize..e.name_end as usize)
                .unwrap_or(""),
            self.text
                .get(e.name_end as usize..e.value_end as usize)
                .unwrap_or(""),
        )
    }

    /// Sets `name` to `value`, returning the previous value. The name is validated.
    /// Rebuilds the set.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Option<String>> {
        let name = name.into();
        validate_label_name(&name)?;
        self.insert_checked(name, value.into())
    }

    /// Sets `name` to `value` as amtool builds label sets from its arguments: the name
    /// need only be one the classic matcher grammar reads ([`is_classic_label_name`], so
    /// `a:b` is taken), and is otherwise [`Error::InvalidLabelName`]. amtool routes and
    /// tests such sets locally and leaves the stricter rule to Alertmanager's API, which
    /// refuses them. Returns the previous value. Rebuilds the set.
    ///
    /// ```
    /// use alert_core::LabelSet;
    /// let mut set = LabelSet::new();
    /// set.insert_classic("a:b", "x")?;
    /// assert_eq!(set.get("a:b"), Some("x"));
    /// assert!(LabelSet::new().insert("a:b", "x").is_err());
    /// assert!(LabelSet::new().insert_classic("a-b", "x").is_err());
    /// # Ok::<(), alert_core::Error>(())
    /// ```
    pub fn insert_classic(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Option<String>> {
        let name = name.into();
        if !is_classic_label_name(&name) {
            return Err(Error::InvalidLabelName { name });
        }
        self.insert_checked(name, value.into())
    }

    fn insert_checked(&mut self, name: String, value: String) -> Result<Option<String>> {
        let (at, previous) = match self.search(&name) {
            Ok(i) => (i, Some(self.at(i).1.to_owned())),
            Err(i) => (i, None),
        };
        let skip = usize::from(previous.is_some());
        let new = (NameId::intern(&name), name.as_str(), value.as_str());
        let set = pack(
            self.raw()
                .take(at)
                .chain(std::iter::once(new))
                .chain(self.raw().skip(at + skip)),
        )?;
        *self = set;
        Ok(previous)
    }

    /// Removes `name`, returning its value. Rebuilds the set.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self.search(name).ok()?;
        let value = self.at(i).1.to_owned();
        *self = self.subset(|j, _, _| j != i);
        Some(value)
    }

    /// The labels for which `keep(index, name, value)` holds. Never too large: a subset
    /// of a set that fits.
    fn subset(&self, mut keep: impl FnMut(usize, &str, &str) -> bool) -> LabelSet {
        let kept: Vec<usize> = self
            .raw()
            .enumerate()
            .filter(|&(i, (_, n, v))| keep(i, n, v))
            .map(|(i, _)| i)
            .collect();
        let labels = kept.iter().map(|&i| {
            let (n, v) = self.at(i);
            (self.entries[i].name_id(), n, v)
        });
        pack(labels).unwrap_or_default()
    }

    #[inline]
    fn search(&self, name: &str) -> std::result::Result<usize, usize> {
        let mut lo = 0;
        let mut hi = self.entries.len();
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.at(mid).0.as_bytes().cmp(name.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// The value of `name`, if present.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&str> {
        // Linear scan beats binary search for the small sets alerts carry.
        if self.entries.len() <= 16 {
            return self.iter().find(|(n, _)| *n == name).map(|(_, v)| v);
        }
        self.search(name).ok().map(|i| self.at(i).1)
    }

    /// The value of `name`, or `""` when absent: how Alertmanager's matchers see a
    /// missing label.
    #[inline]
    pub fn get_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Whether `name` is present (with any value, even empty).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The number of labels.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `i`-th label in name order, as `(name, value)`; `None` past the end.
    #[inline]
    pub fn get_index(&self, i: usize) -> Option<(&str, &str)> {
        (i < self.entries.len()).then(|| self.at(i))
    }

    /// The labels as `(name, value)`, sorted by name in byte order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone + '_ {
        self.raw().map(|(_, n, v)| (n, v))
    }

    /// The labels as `(name's interned number, name, value)`, sorted by name in byte
    /// order; the number is `None` for names past the interner's cap (see [`NameId`]).
    /// For code that looks up many labels by name: comparing numbers reads no bytes.
    #[inline]
    pub fn iter_with_ids(
        &self,
    ) -> impl ExactSizeIterator<Item = (Option<NameId>, &str, &str)> + Clone + '_ {
        self.raw()
    }

    /// The values with their names' interned numbers, in name order, as [`ValueRef`]s:
    /// what [`LabelSet::iter_with_ids`] gives, without the names, for hot loops. A `None`
    /// number stands for a name past the interner's cap.
    #[inline]
    pub fn values_with_ids(
        &self,
    ) -> impl ExactSizeIterator<Item = (Option<NameId>, ValueRef<'_>)> + '_ {
        let text = &*self.text;
        self.entries.iter().map(move |e| {
            (
                e.name_id(),
                ValueRef {
                    text,
                    start: e.name_end,
                    end: e.value_end,
                },
            )
        })
    }

    /// The value of the `i`-th label in name order, as a [`ValueRef`] (`None` past the
    /// last label): the position-based read hot loops use after
    /// [`LabelSet::values_with_ids`], without reading the name.
    #[inline]
    pub fn value_at(&self, i: usize) -> Option<ValueRef<'_>> {
        let e = self.entries.get(i)?;
        Some(ValueRef {
            text: &self.text,
            start: e.name_end,
            end: e.value_end,
        })
    }

    /// The label names, sorted in byte order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.raw().map(|(_, n, _)| n)
    }

    /// Alertmanager's fingerprint of this set, over every label including empty values.
    #[inline]
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint_where(|_| true)
    }

    /// The fingerprint Alertmanager's API gives an alert posted with these labels: labels
    /// with empty values are dropped first (`removeEmptyLabels` in `api/v2`).
    pub fn fingerprint_without_empty(&self) -> Fingerprint {
        self.fingerprint_where(|value| !value.is_empty())
    }

    /// The fingerprint of the labels whose value passes `keep`; names are fed through
    /// their interned folds.
    #[inline(always)]
    fn fingerprint_where(&self, keep: impl Fn(&[u8]) -> bool) -> Fingerprint {
        let bytes = self.text.as_bytes();
        let mut b = FingerprintBuilder::default();
        let mut start = 0usize;
        for e in self.entries.iter() {
            let (name_end, value_end) = (e.name_end as usize, e.value_end as usize);
            let value = bytes.get(name_end..value_end).unwrap_or(&[]);
            if keep(value) {
                b = match fold_by_id(e.id) {
                    Some(fold) => b.folded(fold, value),
                    None => b.bytes(bytes.get(start..name_end).unwrap_or(&[]), value),
                };
            }
            start = value_end;
        }
        b.finish()
    }

    /// A copy without the labels whose value is empty.
    pub fn without_empty(&self) -> LabelSet {
        if self.iter().all(|(_, v)| !v.is_empty()) {
            return self.clone();
        }
        self.subset(|_, _, v| !v.is_empty())
    }

    /// The labels present in both sets with the same value.
    pub fn intersection(&self, other: &LabelSet) -> LabelSet {
        self.subset(|_, n, v| other.get(n) == Some(v))
    }

    /// Labels of `other` override those of `self`. Fails only when the result would
    /// exceed a set's 4 GiB.
    pub fn merge(&self, other: &LabelSet) -> Result<LabelSet> {
        // Both are sorted: merge them, taking `other`'s value on equal names.
        let mut out: Vec<(Option<NameId>, &str, &str)> =
            Vec::with_capacity(self.len() + other.len());
        let (mut a, mut b) = (self.raw().peekable(), other.raw().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (Some(x), Some(y)) => match x.1.as_bytes().cmp(y.1.as_bytes()) {
                    std::cmp::Ordering::Less => a.next(),
                    std::cmp::Ordering::Greater => b.next(),
                    std::cmp::Ordering::Equal => {
                        a.next();
                        b.next()
                    }
                },
            };
            out.extend(next);
        }
        pack(out.into_iter())
    }

    /// The labels whose names are in `names` (missing ones are simply absent).
    pub fn project<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> LabelSet {
        let mut wanted = vec![false; self.len()];
        for name in names {
            if let Ok(i) = self.search(name) {
                wanted[i] = true;
            }
        }
        self.subset(|i, _, _| wanted[i])
    }

    /// The set as an ordered map.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }
}

impl fmt::Display for LabelSet {
    /// `{name="value", ...}` with values quoted like Go's `%q`, in name order.
    ///
    /// This is the familiar Prometheus form. Alertmanager 0.25's group keys order the
    /// formatted pairs differently; the router owns that format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (n, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={v:?}")?;
        }
        f.write_str("}")
    }
}

impl TryFrom<BTreeMap<String, String>> for LabelSet {
    type Error = Error;

    fn try_from(map: BTreeMap<String, String>) -> Result<Self> {
        for name in map.keys() {
            validate_label_name(name)?;
        }
        // BTreeMap<String, _> iterates in byte order of the keys already.
        pack(
            map.iter()
                .map(|(n, v)| (NameId::intern(n), n.as_str(), v.as_str())),
        )
    }
}

impl Serialize for LabelSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (n, v) in self.iter() {
            map.serialize_entry(n, v)?;
        }
        map.end()
    }
}

/// Scratch buffers the deserialiser keeps bigger than this are dropped after use.
const MAX_KEPT_SCRATCH: usize = 1 << 16;

/// Where the labels name and value end, by position in the scratch text.
type Spans = Vec<(usize, usize, usize)>;

thread_local! {
    /// The deserialiser's scratch text and spans.
    static SCRATCH: std::cell::RefCell<(String, Spans)> = const {
        std::cell::RefCell::new((String::new(), Vec::new()))
    };
}

/// Reads a map of labels into `text` and `spans` (both empty), then packs it.
fn read_labels<'de, A: MapAccess<'de>>(
    access: &mut A,
    text: &mut String,
    spans: &mut Spans,
) -> std::result::Result<LabelSet, A::Error> {
    loop {
        let start = text.len();
        if access.next_key_seed(AppendStr(text))?.is_none() {
            break;
        }
        let name_end = text.len();
        access.next_value_seed(AppendStr(text))?;
        let name = text.get(start..name_end).unwrap_or("");
        validate_label_name(name).map_err(serde::de::Error::custom)?;
        spans.push((start, name_end, text.len()));
    }
    let text: &str = text;
    pack_read(
        spans,
        |&(s, e, _)| text.get(s..e).unwrap_or(""),
        |&(_, e, end)| text.get(e..end).unwrap_or(""),
    )
    .map_err(serde::de::Error::custom)
}

/// Packs labels read in input order (`name` and `value` of each span), sorted by name;
/// a repeated name is an error. Names are already valid.
fn pack_read<'t, S>(
    spans: &mut [S],
    name: impl Fn(&S) -> &'t str,
    value: impl Fn(&S) -> &'t str,
) -> Result<LabelSet> {
    spans.sort_unstable_by(|a, b| name(a).as_bytes().cmp(name(b).as_bytes()));
    if let Some(w) = spans.windows(2).find(|w| name(&w[0]) == name(&w[1])) {
        return Err(Error::DuplicateLabelName {
            name: name(&w[0]).to_owned(),
        });
    }
    let (name, value) = (&name, &value);
    pack(spans.iter().map(move |span| {
        let n = name(span);
        (NameId::intern(n), n, value(span))
    }))
}

/// Deserialises a string by appending it to a buffer: reading a set allocates no string
/// per label.
struct AppendStr<'s>(&'s mut String);

impl<'de> DeserializeSeed<'de> for AppendStr<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for AppendStr<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
}

impl<'de> Deserialize<'de> for LabelSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct LabelSetVisitor;

        impl<'de> Visitor<'de> for LabelSetVisitor {
            type Value = LabelSet;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of label name to string value")
            }

            fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<LabelSet, E> {
                Ok(LabelSet::new())
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut access: A,
            ) -> std::result::Result<LabelSet, A::Error> {
                // Names and values as read, in input order, then packed sorted. The
                // buffers are the thread's, reused: reading a set allocates only the
                // set, so consecutive sets sit next to each other in memory.
                SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
                    Ok(mut scratch) => {
                        let (text, spans) = &mut *scratch;
                        text.clear();
                        spans.clear();
                        let set = read_labels(&mut access, text, spans);
                        if text.capacity() > MAX_KEPT_SCRATCH {
                            *text = String::new();
                        }
                        set
                    }
                    // Only if a set were read while reading a set: fresh buffers.
                    Err(_) => read_labels(&mut access, &mut String::new(), &mut Vec::new()),
                })
            }
        }

        deserializer.deserialize_map(LabelSetVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_vectors_from_a_live_alertmanager() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("alertname", "Test"), ("severity", "page")],
                "823de09697ca9348",
            ),
            (&[], "cbf29ce484222325"),
            (&[("alertname", "E")], "d2b8efc389d2cbcb"),
            (
                &[
                    ("alertname", "A"),
                    ("cluster", "c1"),
                    ("sev", "critical"),
                    ("team", "db"),
                ],
                "1c45fea7d6a9ec15",
            ),
        ];
        for (pairs, want) in cases {
            let set = LabelSet::from_pairs(pairs.iter().copied()).expect("valid");
            assert_eq!(set.fingerprint().to_string(), *want, "{set}");
        }
    }

    #[test]
    fn fingerprint_is_independent_of_insertion_order() {
        let a = LabelSet::from_pairs([("b", "2"), ("a", "1"), ("c", "3")]).expect("valid");
        let b = LabelSet::from_pairs([("c", "3"), ("a", "1"), ("b", "2")]).expect("valid");
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.names().collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn empty_values_are_kept_or_dropped_on_request() {
        let set = LabelSet::from_pairs([("alertname", "Test"), ("severity", "page"), ("x", "")])
            .expect("valid");
        assert_ne!(set.fingerprint().to_string(), "823de09697ca9348");
        assert_eq!(
            set.fingerprint_without_empty().to_string(),
            "823de09697ca9348"
        );
        assert_eq!(set.without_empty().len(), 2);
    }

    #[test]
    fn names_are_validated() {
        for bad in ["", "1abc", "foo-bar", "a b", "ä", "a.b"] {
            assert_eq!(
                LabelSet::new().insert(bad, "v"),
                Err(Error::InvalidLabelName { name: bad.into() })
            );
        }
        for good in ["a", "_", "__name__", "A1_b2", "alertname"] {
            assert!(is_valid_label_name(good), "{good}");
        }
    }

    #[test]
    fn json_round_trip_and_rejects() {
        let set: LabelSet = serde_json::from_str(r#"{"b":"2","a":"1"}"#).expect("valid json");
        assert_eq!(
            serde_json::to_string(&set).expect("serialise"),
            r#"{"a":"1","b":"2"}"#
        );
        let err = serde_json::from_str::<LabelSet>(r#"{"bad-name":"x"}"#).unwrap_err();
        assert!(
            err.to_string().contains("invalid label name \"bad-name\""),
            "{err}"
        );
        let err = serde_json::from_str::<LabelSet>(r#"{"a":"1","a":"2"}"#).unwrap_err();
        assert!(err.to_string().contains("duplicate label name"), "{err}");
    }

    #[test]
    fn set_operations() {
        let a = LabelSet::from_pairs([("a", "1"), ("b", "2"), ("c", "3")]).expect("valid");
        let b = LabelSet::from_pairs([("a", "1"), ("b", "x")]).expect("valid");
        assert_eq!(a.intersection(&b).to_map().len(), 1);
        assert_eq!(a.merge(&b).expect("small").get("b"), Some("x"));
        assert_eq!(
            a.project(["c", "zz", "a", "c"]).to_string(),
            r#"{a="1", c="3"}"#
        );
        assert_eq!(a.get_or_empty("missing"), "");
    }

    use proptest::prelude::*;

    fn model_ops() -> impl Strategy<Value = Vec<(bool, String, String)>> {
        proptest::collection::vec((any::<bool>(), "[a-e]{1,3}", ".{0,6}"), 0..24)
    }

    proptest! {
        /// The compact-JSON shortcut reads what the deserialiser reads, or declines: for
        /// sets written by serde_json (names valid or not, values with quotes,
        /// backslashes, control characters and any Unicode) and for text around that
        /// form (spaces, a trailing comma, a repeated name, truncated), whenever it
        /// answers the deserialiser gives the same set; and it answers for every set
        /// whose names are valid and whose strings need no escape.
        #[test]
        fn compact_json_reads_as_the_deserialiser(
            pairs in proptest::collection::vec(("[a-c_][a-c0-9_]{0,3}|[0-9 :\"-]{1,3}", "\\PC{0,5}|[\"\\\\\u{1}é ]{0,3}"), 0..6),
            edit in 0usize..6,
            at in any::<prop::sample::Index>(),
        ) {
            let map: BTreeMap<String, String> = pairs.into_iter().collect();
            let written = serde_json::to_string(&map).expect("a map of strings");
            let plain = map.iter().all(|(n, v)| {
                validate_label_name(n).is_ok()
                    && !format!("{n}{v}").chars().any(|c| c == '"' || c == '\\' || c < ' ')
            });
            let shortcut = LabelSet::from_compact_json(&written);
            prop_assert_eq!(shortcut.is_some(), plain, "{}", written);
            if let Some(set) = shortcut {
                prop_assert_eq!(Some(set), serde_json::from_str::<LabelSet>(&written).ok());
            }
            let mut text = written.clone();
            let cut = at.index(text.len().max(1));
            let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            match edit {
                0 => text.insert(cut, ' '),
                1 => text.insert(cut, ','),
                2 => text.truncate(cut),
                3 => text = text.replacen(',', ",\"x\":\"1\",\"x\":\"2\",", 1),
                4 => text.insert_str(cut, "\"a\":\"b\""),
                _ => text.insert(cut, '\\'),
            }
            if let Some(set) = LabelSet::from_compact_json(&text) {
                prop_assert_eq!(Some(set), serde_json::from_str::<LabelSet>(&text).ok(), "{}", text);
            }
        }

        /// Inserts and removes agree with a map, and the packed layout reads back what
        /// went in (names, values, order, fingerprint).
        #[test]
        fn behaves_like_a_sorted_map(ops in model_ops()) {
            let mut set = LabelSet::new();
            let mut model = BTreeMap::new();
            for (insert, name, value) in ops {
                if insert {
                    prop_assert_eq!(
                        set.insert(name.clone(), value.clone()).expect("valid"),
                        model.insert(name, value)
                    );
                } else {
                    prop_assert_eq!(set.remove(&name), model.remove(&name));
                }
                prop_assert_eq!(set.to_map(), model.clone());
                let rebuilt = LabelSet::try_from(model.clone()).expect("valid");
                prop_assert_eq!(&set, &rebuilt);
                prop_assert_eq!(set.fingerprint(), rebuilt.fingerprint());
                prop_assert_eq!(
                    set.fingerprint(),
                    crate::fingerprint_sorted(model.iter().map(|(n, v)| (n.as_str(), v.as_str())))
                );
                for name in ["a", "b", "ab", "zz"] {
                    prop_assert_eq!(set.get(name), model.get(name).map(String::as_str));
                }
            }
        }

        #[test]
        fn json_round_trips_any_values(
            map in proptest::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,8}", any::<String>(), 0..12)
        ) {
            let json = serde_json::to_string(&map).expect("serialise");
            let set: LabelSet = serde_json::from_str(&json).expect("read");
            prop_assert_eq!(set.to_map(), map.clone());
            prop_assert_eq!(serde_json::to_string(&set).expect("serialise"), json);
        }

        #[test]
        fn order_is_pairwise(
            a in proptest::collection::btree_map("[a-c]", "[x-z]{0,2}", 0..4),
            b in proptest::collection::btree_map("[a-c]", "[x-z]{0,2}", 0..4),
        ) {
            let (sa, sb) = (LabelSet::try_from(a.clone()).expect("valid"), LabelSet::try_from(b.clone()).expect("valid"));
            let pairs = |m: &BTreeMap<String, String>| m.clone().into_iter().collect::<Vec<_>>();
            prop_assert_eq!(sa.cmp(&sb), pairs(&a).cmp(&pairs(&b)));
            prop_assert_eq!(sa == sb, a == b);
        }
    }

    proptest! {
        #[test]
        fn heads_are_the_zero_padded_prefix(values in proptest::collection::vec(".{0,40}", 1..6)) {
            let set = LabelSet::from_pairs(
                values.iter().enumerate().map(|(i, v)| (format!("l{i}"), v.clone())),
            ).expect("valid");
            for ((_, v), (_, want)) in set.values_with_ids().zip(set.iter()) {
                prop_assert_eq!(v.as_str(), want);
                prop_assert_eq!(v.len(), want.len());
                let mut raw = [0u8; 32];
                let n = want.len().min(32);
                raw[..n].copy_from_slice(&want.as_bytes()[..n]);
                let words: Vec<u64> = raw
                    .chunks(8)
                    .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect();
                prop_assert_eq!(v.head().to_vec(), words);
            }
            for (i, (_, want)) in set.iter().enumerate() {
                prop_assert_eq!(set.value_at(i).map(ValueRef::as_str), Some(want));
            }
            prop_assert!(set.value_at(set.len()).is_none());
        }
    }

    #[test]
    fn ids_identify_names() {
        let set = LabelSet::from_pairs([("zeta", "1"), ("alpha", "2"), ("mu", "")]).expect("valid");
        let got: Vec<_> = set.iter_with_ids().collect();
        assert_eq!(got.len(), 3);
        let values: Vec<_> = set.values_with_ids().collect();
        assert_eq!(set.get_index(1), Some(("mu", "")));
        assert_eq!(set.get_index(3), None);
        for ((id, name, value), (id2, value2)) in got.into_iter().zip(values) {
            assert_eq!((id, value), (id2, value2.as_str()));
            assert_eq!(id, NameId::intern(name));
            assert!(id.is_some_and(|i| i.index() < crate::fingerprint::MAX_FOLDED_NAMES));
        }
        assert_ne!(NameId::intern("alpha"), NameId::intern("zeta"));
    }

    #[test]
    fn yaml_and_escaped_json_read_like_strings() {
        let set: LabelSet =
            yaml_serde::from_str("b: yes\na: 12\nc: \"x\\ty\"\nd: ~\n").expect("yaml");
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [("a", "12"), ("b", "yes"), ("c", "x\ty"), ("d", "~")]
        );
        let set: LabelSet =
            serde_json::from_str(r#"{"q":"say \"hi\" \u00e9","e":""}"#).expect("json");
        assert_eq!(set.get("q"), Some("say \"hi\" é"));
        assert_eq!(set.get("e"), Some(""));
        let err = serde_json::from_str::<LabelSet>(r#"{"a":1}"#).unwrap_err();
        assert!(err.to_string().contains("expected a string"), "{err}");
    }

    #[test]
    fn project_intersection_merge_and_without_empty() {
        let a =
            LabelSet::from_pairs([("a", "1"), ("b", ""), ("c", "3"), ("d", "4")]).expect("valid");
        let b = LabelSet::from_pairs([("c", "3"), ("d", "x"), ("e", "5")]).expect("valid");
        assert_eq!(a.project(["d", "a", "q"]).to_string(), r#"{a="1", d="4"}"#);
        assert_eq!(a.intersection(&b).to_string(), r#"{c="3"}"#);
        assert_eq!(
            a.merge(&b).expect("small").to_string(),
            r#"{a="1", b="", c="3", d="x", e="5"}"#
        );
        assert_eq!(a.without_empty().to_string(), r#"{a="1", c="3", d="4"}"#);
        assert_eq!(
            a.without_empty().fingerprint(),
            a.fingerprint_without_empty()
        );
    }

    #[test]
    fn a_set_past_4_gib_is_refused_before_allocating() {
        let big = "x".repeat(1 << 20);
        let labels = std::iter::repeat_n((None, "n", big.as_str()), 4097);
        assert_eq!(
            pack(labels).err(),
            Some(Error::LabelSetTooLarge {
                bytes: 4097 * ((1 << 20) + 1)
            })
        );
    }
}
