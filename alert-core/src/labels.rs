//! Label names, label sets and their Alertmanager fingerprints.
//!
//! A [`LabelSet`] maps valid Prometheus label names to values. It is kept sorted by name
//! in byte order, which is both the order Alertmanager hashes labels in and a cheap
//! layout for the small sets alerts carry (a handful to a few dozen labels).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::fingerprint::{Fingerprint, FingerprintBuilder, NameFold, name_fold};

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

/// A set of labels: valid Prometheus label names, each with one value.
///
/// Kept sorted by name in byte order. Values may be any string, including the empty
/// string (Alertmanager's API drops empty-valued labels of alerts it receives; see
/// [`LabelSet::without_empty`] and [`LabelSet::fingerprint_without_empty`]).
///
/// Serialises as a JSON object (or YAML mapping) of name to value; reading one validates
/// every name and rejects duplicates.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelSet {
    pairs: Vec<Label>,
}

/// One label, with its name's interned fingerprint fold (see [`crate::fingerprint`]).
#[derive(Clone)]
struct Label {
    name: String,
    value: String,
    fold: Option<&'static NameFold>,
}

impl Label {
    fn new(name: String, value: String) -> Label {
        let fold = name_fold(&name);
        Label { name, value, fold }
    }

    fn key(&self) -> (&str, &str) {
        (&self.name, &self.value)
    }
}

impl PartialEq for Label {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Label {}

impl std::hash::Hash for Label {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl PartialOrd for Label {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Label {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
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
            Ok(i) => Ok(Some(std::mem::replace(&mut self.pairs[i].value, value))),
            Err(i) => {
                self.pairs.insert(i, Label::new(name, value));
                Ok(None)
            }
        }
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.search(name).ok().map(|i| self.pairs.remove(i).value)
    }

    #[inline]
    fn search(&self, name: &str) -> std::result::Result<usize, usize> {
        self.pairs
            .binary_search_by(|l| l.name.as_bytes().cmp(name.as_bytes()))
    }

    /// The value of `name`, if present.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&str> {
        // Linear scan beats binary search for the small sets alerts carry.
        if self.pairs.len() <= 16 {
            return self
                .pairs
                .iter()
                .find(|l| l.name == name)
                .map(|l| l.value.as_str());
        }
        self.search(name).ok().map(|i| self.pairs[i].value.as_str())
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
        self.pairs
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
    }

    /// The label names, sorted in byte order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.pairs.iter().map(|l| l.name.as_str())
    }

    /// Alertmanager's fingerprint of this set, over every label including empty values.
    #[inline]
    pub fn fingerprint(&self) -> Fingerprint {
        self.pairs
            .iter()
            .fold(FingerprintBuilder::default(), |b, l| {
                b.label(&l.name, l.fold, &l.value)
            })
            .finish()
    }

    /// The fingerprint Alertmanager's API gives an alert posted with these labels: labels
    /// with empty values are dropped first (`removeEmptyLabels` in `api/v2`).
    pub fn fingerprint_without_empty(&self) -> Fingerprint {
        self.pairs
            .iter()
            .filter(|l| !l.value.is_empty())
            .fold(FingerprintBuilder::default(), |b, l| {
                b.label(&l.name, l.fold, &l.value)
            })
            .finish()
    }

    /// A copy without the labels whose value is empty.
    pub fn without_empty(&self) -> LabelSet {
        LabelSet {
            pairs: self
                .pairs
                .iter()
                .filter(|l| !l.value.is_empty())
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
                .filter(|l| other.get(&l.name) == Some(l.value.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// Labels of `other` override those of `self`.
    pub fn merge(&self, other: &LabelSet) -> LabelSet {
        let mut out = self.clone();
        for l in &other.pairs {
            match out.search(&l.name) {
                Ok(i) => out.pairs[i].value.clone_from(&l.value),
                Err(i) => out.pairs.insert(i, l.clone()),
            }
        }
        out
    }

    /// The labels whose names are in `names` (missing ones are simply absent).
    pub fn project<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> LabelSet {
        let mut out = LabelSet::new();
        for name in names {
            if let Ok(i) = self.search(name)
                && let Err(at) = out.search(name)
            {
                out.pairs.insert(at, self.pairs[i].clone());
            }
        }
        out
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
        Ok(LabelSet {
            pairs: map.into_iter().map(|(n, v)| Label::new(n, v)).collect(),
        })
    }
}

impl Serialize for LabelSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.pairs.len()))?;
        for l in &self.pairs {
            map.serialize_entry(&l.name, &l.value)?;
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
                let mut pairs: Vec<Label> = Vec::with_capacity(access.size_hint().unwrap_or(8));
                while let Some((name, value)) = access.next_entry::<String, String>()? {
                    validate_label_name(&name).map_err(serde::de::Error::custom)?;
                    pairs.push(Label::new(name, value));
                }
                pairs.sort_unstable_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
                if let Some(w) = pairs.windows(2).find(|w| w[0].name == w[1].name) {
                    return Err(serde::de::Error::custom(Error::DuplicateLabelName {
                        name: w[0].name.clone(),
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
