//! Label names, label sets and their Alertmanager fingerprints.
//!
//! A [`LabelSet`] maps valid Prometheus label names to values. It is kept sorted by name
//! in byte order, which is both the order Alertmanager hashes labels in and a cheap
//! layout for the small sets alerts carry (a handful to a few dozen labels).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

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

const FNV_OFFSET: u64 = 14_695_981_039_346_656_037;
const FNV_PRIME: u64 = 1_099_511_628_211;
const SEPARATOR: u8 = 0xff;

/// FNV-1a 64 state, fed the way prometheus/common's `labelSetToFingerprint` feeds it.
#[derive(Clone, Copy)]
struct Fnv1a(u64);

impl Fnv1a {
    #[inline(always)]
    fn bytes(mut self, bytes: &[u8]) -> Self {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
        self
    }

    #[inline(always)]
    fn separator(mut self) -> Self {
        self.0 ^= u64::from(SEPARATOR);
        self.0 = self.0.wrapping_mul(FNV_PRIME);
        self
    }
}

/// The fingerprint of labels already sorted by name in byte order.
///
/// `labels` must be sorted and free of duplicate names; [`LabelSet`] keeps that
/// invariant, so most callers want [`LabelSet::fingerprint`].
pub fn fingerprint_sorted<'a, I>(labels: I) -> Fingerprint
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut h = Fnv1a(FNV_OFFSET);
    for (name, value) in labels {
        h = h
            .bytes(name.as_bytes())
            .separator()
            .bytes(value.as_bytes())
            .separator();
    }
    Fingerprint(h.0)
}

/// A set of labels: valid Prometheus label names, each with one value.
///
/// Kept sorted by name in byte order. Values may be any string, including the empty
/// string (Alertmanager's API drops empty-valued labels of alerts it receives; see
/// [`LabelSet::without_empty`] and [`LabelSet::fingerprint_without_empty`]).
///
/// Serialises as a JSON object (or YAML mapping) of name to value; reading one validates
/// every name and rejects duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelSet {
    pairs: Vec<(String, String)>,
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
        let mut set = Self::new();
        for (name, value) in pairs {
            let name = name.into();
            if set.get(&name).is_some() {
                return Err(Error::DuplicateLabelName { name });
            }
            set.insert(name, value)?;
        }
        Ok(set)
    }

    /// Sets `name` to `value`, returning the previous value. The name is validated.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Option<String>> {
        let name = name.into();
        validate_label_name(&name)?;
        let value = value.into();
        match self.search(&name) {
            Ok(i) => Ok(Some(std::mem::replace(&mut self.pairs[i].1, value))),
            Err(i) => {
                self.pairs.insert(i, (name, value));
                Ok(None)
            }
        }
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.search(name).ok().map(|i| self.pairs.remove(i).1)
    }

    #[inline]
    fn search(&self, name: &str) -> std::result::Result<usize, usize> {
        self.pairs
            .binary_search_by(|(n, _)| n.as_bytes().cmp(name.as_bytes()))
    }

    /// The value of `name`, if present.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&str> {
        // Linear scan beats binary search for the small sets alerts carry.
        if self.pairs.len() <= 16 {
            return self
                .pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str());
        }
        self.search(name).ok().map(|i| self.pairs[i].1.as_str())
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
        self.pairs.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The labels as `(name, value)`, sorted by name in byte order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The label names, sorted in byte order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.pairs.iter().map(|(n, _)| n.as_str())
    }

    /// Alertmanager's fingerprint of this set, over every label including empty values.
    #[inline]
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint_sorted(self.iter())
    }

    /// The fingerprint Alertmanager's API gives an alert posted with these labels: labels
    /// with empty values are dropped first (`removeEmptyLabels` in `api/v2`).
    pub fn fingerprint_without_empty(&self) -> Fingerprint {
        fingerprint_sorted(self.iter().filter(|(_, v)| !v.is_empty()))
    }

    /// A copy without the labels whose value is empty.
    pub fn without_empty(&self) -> LabelSet {
        LabelSet {
            pairs: self
                .pairs
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .cloned()
                .collect(),
        }
    }

    /// The labels present in both sets with the same value.
    pub fn intersection(&self, other: &LabelSet) -> LabelSet {
        LabelSet {
            pairs: self
                .pairs
                .iter()
                .filter(|(n, v)| other.get(n) == Some(v.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// Labels of `other` override those of `self`.
    pub fn merge(&self, other: &LabelSet) -> LabelSet {
        let mut out = self.clone();
        for (n, v) in &other.pairs {
            match out.search(n) {
                Ok(i) => out.pairs[i].1.clone_from(v),
                Err(i) => out.pairs.insert(i, (n.clone(), v.clone())),
            }
        }
        out
    }

    /// The labels whose names are in `names` (missing ones are simply absent).
    pub fn project<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> LabelSet {
        let mut out = LabelSet::new();
        for name in names {
            if let Ok(i) = self.search(name)
                && out.search(name).is_err()
            {
                let (n, v) = &self.pairs[i];
                if let Err(at) = out.search(n) {
                    out.pairs.insert(at, (n.clone(), v.clone()));
                }
            }
        }
        out
    }

    /// The set as an ordered map.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.pairs.iter().cloned().collect()
    }
}

impl fmt::Display for LabelSet {
    /// `{name="value", ...}` with values quoted like Go's `%q`, in name order.
    ///
    /// This is the familiar Prometheus form. Alertmanager 0.25's group keys order the
    /// formatted pairs differently; the router owns that format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (n, v)) in self.pairs.iter().enumerate() {
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
        Ok(LabelSet {
            pairs: map.into_iter().collect(),
        })
    }
}

impl<'a> IntoIterator for &'a LabelSet {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        fn pair(p: &(String, String)) -> (&str, &str) {
            (p.0.as_str(), p.1.as_str())
        }
        self.pairs
            .iter()
            .map(pair as fn(&'a (String, String)) -> (&'a str, &'a str))
    }
}

impl Serialize for LabelSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.pairs.len()))?;
        for (n, v) in &self.pairs {
            map.serialize_entry(n, v)?;
        }
        map.end()
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
                let mut pairs: Vec<(String, String)> =
                    Vec::with_capacity(access.size_hint().unwrap_or(8));
                while let Some((name, value)) = access.next_entry::<String, String>()? {
                    validate_label_name(&name).map_err(serde::de::Error::custom)?;
                    pairs.push((name, value));
                }
                pairs.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
                    return Err(serde::de::Error::custom(Error::DuplicateLabelName {
                        name: w[0].0.clone(),
                    }));
                }
                Ok(LabelSet { pairs })
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
    fn fingerprint_parsing() {
        assert_eq!("1".parse::<Fingerprint>(), Ok(Fingerprint(1)));
        assert_eq!(Fingerprint(1).to_string(), "0000000000000001");
        assert_eq!("ABCDEF".parse::<Fingerprint>(), Ok(Fingerprint(0xabcdef)));
        for bad in ["", "xyz", "00000000000000001", "+1", "-1"] {
            assert!(bad.parse::<Fingerprint>().is_err(), "{bad}");
        }
    }

    #[test]
    fn set_operations() {
        let a = LabelSet::from_pairs([("a", "1"), ("b", "2"), ("c", "3")]).expect("valid");
        let b = LabelSet::from_pairs([("a", "1"), ("b", "x")]).expect("valid");
        assert_eq!(a.intersection(&b).to_map().len(), 1);
        assert_eq!(a.merge(&b).get("b"), Some("x"));
        assert_eq!(
            a.project(["c", "zz", "a", "c"]).to_string(),
            r#"{a="1", c="3"}"#
        );
        assert_eq!(a.get_or_empty("missing"), "");
    }
}
