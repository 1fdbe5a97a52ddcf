//! Which episodes a query is about: `match[]` read as Prometheus and Loki read it.
//!
//! Each `match[]` value is one **selector**, a list of Alertmanager matchers that must
//! all match (`{alertname="DiskFull",severity=~"crit.*"}`, or without braces as
//! Alertmanager's parser also takes it: `alertname="DiskFull"`); several selectors are
//! OR-ed; none selects every episode. A missing label matches as the empty string, as
//! in Alertmanager.
//!
//! ```
//! use alert_core::LabelSet;
//! use alert_history::Selectors;
//!
//! let s = Selectors::parse([r#"{alertname="DiskFull",severity="critical"}"#, r#"instance="db-1""#])?;
//! assert_eq!(s.len(), 2);
//! let disk = LabelSet::from_pairs([("alertname", "DiskFull"), ("severity", "critical")])?;
//! let cpu_db1 = LabelSet::from_pairs([("alertname", "CPUHigh"), ("instance", "db-1")])?;
//! let disk_warning = LabelSet::from_pairs([("alertname", "DiskFull"), ("severity", "warning")])?;
//! assert!(s.matches(&disk) && s.matches(&cpu_db1));
//! assert!(!s.matches(&disk_warning));
//! assert!(Selectors::all().matches(&disk_warning));
//! assert_eq!(s.to_string(), r#"{alertname="DiskFull",severity="critical"} or {instance="db-1"}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use alert_core::{LabelSet, Matchers, ParserMode, parse_matchers};

use crate::error::{Error, Result};

/// Series selectors, OR-ed: an episode is selected when every matcher of at least one
/// selector matches its labels. No selector, or one without matchers (`{}`), selects
/// every episode; [`Selectors::new`] keeps that as the empty list, and drops repeated
/// selectors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Selectors(Vec<Matchers>);

impl Selectors {
    /// Every episode.
    pub fn all() -> Selectors {
        Selectors(Vec::new())
    }

    /// The OR of `selectors` (see the type's docs for the empty cases).
    pub fn new(selectors: impl IntoIterator<Item = Matchers>) -> Selectors {
        let mut out: Vec<Matchers> = Vec::new();
        for s in selectors {
            if s.is_empty() {
                return Selectors::all();
            }
            if !out.contains(&s) {
                out.push(s);
            }
        }
        Selectors(out)
    }

    /// The `match[]` values, each a selector in Alertmanager's syntax (either grammar,
    /// as Alertmanager 0.25's fallback parser reads them). An error names the parameter
    /// `match[]` and the value.
    ///
    /// ```
    /// use alert_history::Selectors;
    /// let err = Selectors::parse([r#"{a=~"("}"#]).unwrap_err();
    /// assert!(err.to_string().starts_with(r#"invalid parameter "match[]""#), "{err}");
    /// assert_eq!(Selectors::parse(["{}", r#"a="b""#])?, Selectors::all());
    /// # Ok::<(), alert_history::Error>(())
    /// ```
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Selectors> {
        let mut selectors = Vec::new();
        for v in values {
            let ms =
                parse_matchers(v, ParserMode::Fallback).map_err(|e| Error::InvalidParameter {
                    param: "match[]".into(),
                    message: format!("{e} in {v:?}"),
                })?;
            selectors.push(ms);
        }
        Ok(Selectors::new(selectors))
    }

    /// Whether `labels` match every matcher of some selector (or there is none).
    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.0.is_empty() || self.0.iter().any(|s| s.matches(labels))
    }

    /// Whether every episode is selected.
    pub fn selects_all(&self) -> bool {
        self.0.is_empty()
    }

    /// The selectors, none without matchers.
    pub fn iter(&self) -> std::slice::Iter<'_, Matchers> {
        self.0.iter()
    }

    /// How many selectors (0 when every episode is selected).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no selector (every episode is selected).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Matchers> for Selectors {
    /// One selector.
    fn from(matchers: Matchers) -> Selectors {
        Selectors::new([matchers])
    }
}

impl FromIterator<Matchers> for Selectors {
    fn from_iter<I: IntoIterator<Item = Matchers>>(iter: I) -> Selectors {
        Selectors::new(iter)
    }
}

impl fmt::Display for Selectors {
    /// `{a="b"} or {c=~"d"}`; `{}` when every episode is selected.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("{}");
        }
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            fmt::Display::fmt(s, f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alert_core::{MatchType, Matcher};

    fn labels(pairs: &[(&str, &str)]) -> LabelSet {
        LabelSet::from_pairs(pairs.iter().copied()).expect("valid")
    }

    #[test]
    fn both_forms_and_or_of_ands() {
        let s = Selectors::parse([
            r#"{alertname="A",severity=~"crit.*"}"#,
            r#"alertname="B""#,
            r#"alertname="B""#,
        ])
        .expect("valid");
        assert_eq!(s.len(), 2, "the repeated selector is dropped");
        assert!(s.matches(&labels(&[("alertname", "A"), ("severity", "critical")])));
        assert!(!s.matches(&labels(&[("alertname", "A"), ("severity", "warning")])));
        assert!(s.matches(&labels(&[("alertname", "B")])));
        assert!(!s.matches(&labels(&[("alertname", "C")])));
        assert!(Selectors::parse([]).expect("valid").selects_all());
        let empty_value = Selectors::parse([r#"{severity=""}"#]).expect("valid");
        assert!(
            empty_value.matches(&labels(&[("alertname", "A")])),
            "a missing label is empty"
        );
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for bad in [r#"{a=~"("}"#, r#"a=~"*""#, r#"{a="b"} {c="d"}"#] {
            match Selectors::parse([r#"x="y""#, bad]) {
                Err(Error::InvalidParameter { param, message }) => {
                    assert_eq!(param, "match[]");
                    assert!(message.contains(&format!("{bad:?}")), "{message}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_selector_without_matchers_selects_everything() {
        let m = Matcher::new(MatchType::Equal, "a", "b").expect("valid");
        let s = Selectors::new([Matchers::new(vec![m]), Matchers::default()]);
        assert!(s.selects_all());
        assert_eq!(s.to_string(), "{}");
    }
}
