//! Label selectors, as Kubernetes writes them: the string form of `?labelSelector=`
//! (`app=web,tier!=cache,env in (prod,stage),!canary,release`) and the object form of
//! workloads' `spec.selector` (`matchLabels` and `matchExpressions` with `In`, `NotIn`,
//! `Exists`, `DoesNotExist`). Both become one [`LabelSelector`], matched against an
//! object's labels here (the in-memory source, selectors of Services and workloads) and
//! written back in the string form for the API server, which must agree (a property test
//! checks this against the test kit's API server).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::error::Error;

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` (also `key==value`).
    Equals(String, String),
    /// `key!=value`: the label is absent or has another value.
    NotEquals(String, String),
    /// `key in (a,b)`.
    In(String, Vec<String>),
    /// `key notin (a,b)`: the label is absent or has none of the values.
    NotIn(String, Vec<String>),
    /// `key`: the label is present.
    Exists(String),
    /// `!key`: the label is absent.
    DoesNotExist(String),
}

/// Every requirement must hold; no requirements select everything.
///
/// ```
/// use alert_health_graph::kubernetes::selector::LabelSelector;
/// let s: LabelSelector = "app=web, env in (prod,stage), !canary".parse()?;
/// let labels = [("app", "web"), ("env", "prod")].into_iter()
///     .map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
/// assert!(s.matches(&labels));
/// assert_eq!(s.to_string(), "app=web,env in (prod,stage),!canary");
/// # Ok::<(), alert_health_graph::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// A selector of these requirements, all of which must hold.
    pub fn new(requirements: Vec<Requirement>) -> LabelSelector {
        LabelSelector { requirements }
    }

    /// A selector of exactly these labels (a Service's `spec.selector`).
    pub fn from_labels(labels: &BTreeMap<String, String>) -> LabelSelector {
        LabelSelector {
            requirements: labels
                .iter()
                .map(|(k, v)| Requirement::Equals(k.clone(), v.clone()))
                .collect(),
        }
    }

    /// Reads a workload's `spec.selector` (`matchLabels`, `matchExpressions`); `at`
    /// names the object and field in errors.
    pub fn from_object(selector: &Value, at: &str) -> Result<LabelSelector, Error> {
        let invalid = |field: &str, value: &Value, expected: &str| Error::InvalidField {
            field: format!("{at}.{field}"),
            value: value.to_string(),
            expected: expected.to_owned(),
        };
        let mut requirements = Vec::new();
        if let Some(labels) = selector.get("matchLabels").filter(|v| !v.is_null()) {
            let map = labels
                .as_object()
                .ok_or_else(|| invalid("matchLabels", labels, "a map of strings"))?;
            for (k, v) in map {
                let v = v
                    .as_str()
                    .ok_or_else(|| invalid(&format!("matchLabels.{k}"), v, "a string"))?;
                requirements.push(Requirement::Equals(k.clone(), v.to_owned()));
            }
        }
        let expressions = selector
            .get("matchExpressions")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for (i, e) in expressions.iter().enumerate() {
            let field = format!("matchExpressions[{i}]");
            let key = e["key"]
                .as_str()
                .ok_or_else(|| invalid(&format!("{field}.key"), &e["key"], "a string"))?
                .to_owned();
            let values: Vec<String> = e["values"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            requirements.push(match e["operator"].as_str() {
                Some("In") => Requirement::In(key, values),
                Some("NotIn") => Requirement::NotIn(key, values),
                Some("Exists") => Requirement::Exists(key),
                Some("DoesNotExist") => Requirement::DoesNotExist(key),
                _ => {
                    return Err(invalid(
                        &format!("{field}.operator"),
                        &e["operator"],
                        "In, NotIn, Exists or DoesNotExist",
                    ));
                }
            });
        }
        Ok(LabelSelector { requirements })
    }

    /// The requirements.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether it selects nothing but everything (no requirements).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let get = |k: &String| labels.get(k).map(String::as_str);
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v),
            Requirement::NotEquals(k, v) => get(k) != Some(v),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match r {
                Requirement::Equals(k, v) => write!(f, "{k}={v}")?,
                Requirement::NotEquals(k, v) => write!(f, "{k}!={v}")?,
                Requirement::In(k, vs) => write!(f, "{k} in ({})", vs.join(","))?,
                Requirement::NotIn(k, vs) => write!(f, "{k} notin ({})", vs.join(","))?,
                Requirement::Exists(k) => write!(f, "{k}")?,
                Requirement::DoesNotExist(k) => write!(f, "!{k}")?,
            }
        }
        Ok(())
    }
}

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_./".contains(&c))
}

impl FromStr for LabelSelector {
    type Err = Error;

    fn from_str(s: &str) -> Result<LabelSelector, Error> {
        let mut requirements = Vec::new();
        for part in split_top(s).into_iter().map(str::trim) {
            if part.is_empty() {
                continue;
            }
            let invalid = || Error::InvalidField {
                field: "selector".to_owned(),
                value: s.to_owned(),
                expected: format!(
                    "label requirements such as app=web, tier!=cache, env in (a,b), \
                     env notin (a,b), key or !key; cannot read {part:?}"
                ),
            };
            let key = |k: &str| -> Result<String, Error> {
                let k = k.trim();
                if is_key(k) {
                    Ok(k.to_owned())
                } else {
                    Err(invalid())
                }
            };
            let set = |rest: &str| -> Result<Vec<String>, Error> {
                let inner = rest
                    .trim()
                    .strip_prefix('(')
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(invalid)?;
                Ok(inner.split(',').map(|v| v.trim().to_owned()).collect())
            };
            let r = if let Some(k) = part.strip_prefix('!') {
                Requirement::DoesNotExist(key(k)?)
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEquals(key(k)?, v.trim().to_owned())
            } else if let Some((k, v)) = part.split_once("==") {
                Requirement::Equals(key(k)?, v.trim().to_owned())
            } else if let Some((k, v)) = part.split_once('=') {
                Requirement::Equals(key(k)?, v.trim().to_owned())
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                Requirement::NotIn(key(k)?, set(rest)?)
            } else if let Some((k, rest)) = part.split_once(" in ") {
                Requirement::In(key(k)?, set(rest)?)
            } else {
                Requirement::Exists(key(part)?)
            };
            requirements.push(r);
        }
        Ok(LabelSelector { requirements })
    }
}

impl<'de> serde::Deserialize<'de> for LabelSelector {
    /// The string form, or the object form (`{matchLabels, matchExpressions}`), or a
    /// plain map of labels.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        match &v {
            Value::String(s) => s.parse().map_err(serde::de::Error::custom),
            Value::Object(m)
                if m.contains_key("matchLabels") || m.contains_key("matchExpressions") =>
            {
                LabelSelector::from_object(&v, "selector").map_err(serde::de::Error::custom)
            }
            Value::Object(_) => {
                let labels: BTreeMap<String, String> =
                    serde_json::from_value(v).map_err(serde::de::Error::custom)?;
                Ok(LabelSelector::from_labels(&labels))
            }
            _ => Err(serde::de::Error::custom(
                "selector: expected a string (app=web), a map of labels, or {matchLabels, matchExpressions}",
            )),
        }
    }
}

impl serde::Serialize for LabelSelector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_operator_matches_as_kubernetes_documents() {
        let l = labels(&[("app", "web"), ("env", "prod")]);
        for (sel, expected) in [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("tier!=cache", true),
            ("env in (prod, stage)", true),
            ("env notin (prod)", false),
            ("tier notin (cache)", true),
            ("tier in (cache)", false),
            ("app", true),
            ("!app", false),
            ("!tier", true),
            ("app=web,env=stage", false),
        ] {
            let s: LabelSelector = sel.parse().expect("valid");
            assert_eq!(s.matches(&l), expected, "{sel}");
        }
        for bad in ["a b", "env in prod", "=x", "a=b,(c"] {
            assert!(bad.parse::<LabelSelector>().is_err(), "{bad}");
        }
    }

    #[test]
    fn workload_selectors_read_match_expressions() {
        let s = LabelSelector::from_object(
            &json!({"matchLabels": {"app": "web"},
                    "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["cache"]},
                                         {"key": "canary", "operator": "DoesNotExist"}]}),
            "deployment shop/web spec.selector",
        )
        .expect("valid");
        assert_eq!(s.to_string(), "app=web,tier notin (cache),!canary");
        let err = LabelSelector::from_object(
            &json!({"matchExpressions": [{"key": "a", "operator": "Near"}]}),
            "deployment shop/web spec.selector",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "deployment shop/web spec.selector.matchExpressions[0].operator: expected In, \
             NotIn, Exists or DoesNotExist, got \"\\\"Near\\\"\""
        );
    }

    proptest! {
        /// The string form reads back as the same selector.
        #[test]
        fn string_form_round_trips(sel in strategy::selector()) {
            let text = sel.to_string();
            prop_assert_eq!(text.parse::<LabelSelector>().unwrap(), sel);
        }
    }

    /// Generators of selectors.
    mod strategy {
        use super::*;

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("app"),
                Just("tier"),
                Just("env"),
                Just("example.com/team")
            ]
            .prop_map(str::to_owned)
        }

        fn value() -> impl Strategy<Value = String> {
            prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(str::to_owned)
        }

        /// A requirement over a few keys and values, so matches are common.
        pub(super) fn requirement() -> impl Strategy<Value = Requirement> {
            prop_oneof![
                (key(), value()).prop_map(|(k, v)| Requirement::Equals(k, v)),
                (key(), value()).prop_map(|(k, v)| Requirement::NotEquals(k, v)),
                (key(), proptest::collection::vec(value(), 1..3))
                    .prop_map(|(k, v)| Requirement::In(k, v)),
                (key(), proptest::collection::vec(value(), 1..3))
                    .prop_map(|(k, v)| Requirement::NotIn(k, v)),
                key().prop_map(Requirement::Exists),
                key().prop_map(Requirement::DoesNotExist),
            ]
        }

        /// A selector of up to three requirements.
        pub(super) fn selector() -> impl Strategy<Value = LabelSelector> {
            proptest::collection::vec(requirement(), 0..3)
                .prop_map(|requirements| LabelSelector { requirements })
        }
    }
}
