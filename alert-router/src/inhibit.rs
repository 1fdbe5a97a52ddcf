//! Which alerts inhibit rules mute, given the firing set: Alertmanager 0.25's
//! `inhibit.Inhibitor.Mutes`.
//!
//! For each alert, rules are tried in configuration order; the first rule that mutes it
//! wins. A rule mutes an alert when the alert matches the rule's **target** matchers and
//! some firing alert matches its **source** matchers and has the same value for every
//! `equal` label (a missing label reads as `""`, so two alerts that both lack an `equal`
//! label agree on it). When the alert matches the source matchers too, sources that also
//! match the target matchers are ignored, so an alert never inhibits itself.
//!
//! Alertmanager records one source fingerprint in `inhibitedBy` (whichever its cache
//! lists first); [`Inhibition::sources`] lists every source that would do, sorted, so the
//! one Alertmanager reports is among them.
//!
//! ```
//! use alert_core::LabelSet;
//! use alert_router::config::Config;
//! use alert_router::inhibit::Inhibitor;
//!
//! let config = Config::from_yaml(r#"
//! route: {receiver: default}
//! receivers: [{name: default}]
//! inhibit_rules:
//!   - source_matchers: ['severity="critical"']
//!     target_matchers: ['severity="warning"']
//!     equal: [cluster]
//! "#)?;
//! let inhibitor = Inhibitor::new(&config.inhibit_rules)?;
//! let firing = [
//!     LabelSet::from_pairs([("alertname", "A"), ("cluster", "c1"), ("severity", "critical")])?,
//!     LabelSet::from_pairs([("alertname", "B"), ("cluster", "c1"), ("severity", "warning")])?,
//!     LabelSet::from_pairs([("alertname", "C"), ("cluster", "c2"), ("severity", "warning")])?,
//! ];
//! let muted = inhibitor.muted(&firing);
//! assert_eq!(muted.len(), 1);
//! assert_eq!(muted[0].alert, 1);
//! assert_eq!(muted[0].sources, vec![firing[0].fingerprint()]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap};

use alert_core::{Fingerprint, LabelSet, Matchers};

use crate::config::InhibitRule;
use crate::error::Result;
use crate::route::config_matchers;

/// One inhibit rule with its matchers parsed.
#[derive(Debug, Clone)]
pub struct CompiledInhibitRule {
    source: Matchers,
    target: Matchers,
    equal: Vec<String>,
}

impl CompiledInhibitRule {
    /// Parses a configured rule; `path` (such as `inhibit_rules[0]`) names it in errors.
    pub fn new(rule: &InhibitRule, path: &str) -> Result<Self> {
        Ok(CompiledInhibitRule {
            source: side(
                &rule.source_match,
                &rule.source_match_re,
                &rule.source_matchers,
                path,
                "source",
            )?,
            target: side(
                &rule.target_match,
                &rule.target_match_re,
                &rule.target_matchers,
                path,
                "target",
            )?,
            equal: rule.equal.clone(),
        })
    }

    /// The source side (`source_match`, `source_match_re`, `source_matchers`, ANDed).
    pub fn source(&self) -> &Matchers {
        &self.source
    }

    /// The target side.
    pub fn target(&self) -> &Matchers {
        &self.target
    }

    /// The labels that must be equal in source and target.
    pub fn equal(&self) -> &[String] {
        &self.equal
    }

    fn equal_key<'a>(&self, labels: &'a LabelSet) -> Vec<&'a str> {
        self.equal.iter().map(|n| labels.get_or_empty(n)).collect()
    }
}

/// Builds one side of a rule the way Alertmanager builds a route's matchers, sorted.
fn side(
    eq: &BTreeMap<String, String>,
    re: &BTreeMap<String, String>,
    strings: &[String],
    path: &str,
    which: &str,
) -> Result<Matchers> {
    let mut matchers = Matchers::new(config_matchers(
        eq,
        re,
        strings,
        &format!("{path}.{which}_"),
    )?);
    matchers.sort();
    Ok(matchers)
}

/// Why an alert is muted: the first rule that mutes it and the firing alerts that do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inhibition {
    /// Index of the alert in the firing set.
    pub alert: usize,
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
    /// Index of the inhibit rule (the first, in configuration order, that mutes it).
    pub rule: usize,
    /// Fingerprints of every firing alert that inhibits it under that rule, sorted and
    /// without duplicates.
    pub sources: Vec<Fingerprint>,
}

/// A configuration's inhibit rules, compiled.
#[derive(Debug, Clone, Default)]
pub struct Inhibitor {
    rules: Vec<CompiledInhibitRule>,
}

impl Inhibitor {
    /// Compiles `rules` (a configuration's `inhibit_rules`).
    pub fn new(rules: &[InhibitRule]) -> Result<Self> {
        let rules = rules
            .iter()
            .enumerate()
            .map(|(i, r)| CompiledInhibitRule::new(r, &format!("inhibit_rules[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Inhibitor { rules })
    }

    /// The compiled rules, in configuration order.
    pub fn rules(&self) -> &[CompiledInhibitRule] {
        &self.rules
    }

    /// Which of the `firing` alerts are muted, and by what, in the order of `firing`.
    ///
    /// `firing` holds the label sets of the alerts that are firing (not resolved), as
    /// Alertmanager holds them: every one of them may be a source, whether or not it is
    /// itself muted or silenced. Fingerprints are of the labels without empty values, as
    /// Alertmanager's API stores alerts.
    pub fn muted(&self, firing: &[LabelSet]) -> Vec<Inhibition> {
        let fingerprints: Vec<Fingerprint> = firing
            .iter()
            .map(LabelSet::fingerprint_without_empty)
            .collect();
        // Per rule: the sources, indexed by their values of the `equal` labels.
        let sources: Vec<HashMap<Vec<&str>, Vec<usize>>> = self
            .rules
            .iter()
            .map(|rule| {
                let mut index: HashMap<Vec<&str>, Vec<usize>> = HashMap::new();
                for (i, labels) in firing.iter().enumerate() {
                    if rule.source.matches(labels) {
                        index.entry(rule.equal_key(labels)).or_default().push(i);
                    }
                }
                index
            })
            .collect();
        let mut out = Vec::new();
        for (i, labels) in firing.iter().enumerate() {
            for (r, rule) in self.rules.iter().enumerate() {
                if !rule.target.matches(labels) {
                    continue;
                }
                let two_sided = rule.source.matches(labels);
                let Some(candidates) = sources[r].get(&rule.equal_key(labels)) else {
                    continue;
                };
                let mut by: Vec<Fingerprint> = candidates
                    .iter()
                    .filter(|&&s| !(two_sided && rule.target.matches(&firing[s])))
                    .map(|&s| fingerprints[s])
                    .collect();
                if by.is_empty() {
                    continue;
                }
                by.sort_unstable();
                by.dedup();
                out.push(Inhibition {
                    alert: i,
                    fingerprint: fingerprints[i],
                    rule: r,
                    sources: by,
                });
                break;
            }
        }
        out
    }

    /// Whether `target` is muted by the `firing` alerts (which may include `target`
    /// itself), and by what: the first rule that mutes it and every source fingerprint.
    pub fn mutes(
        &self,
        firing: &[LabelSet],
        target: &LabelSet,
    ) -> Option<(usize, Vec<Fingerprint>)> {
        for (r, rule) in self.rules.iter().enumerate() {
            if !rule.target.matches(target) {
                continue;
            }
            let two_sided = rule.source.matches(target);
            let key = rule.equal_key(target);
            let mut by: Vec<Fingerprint> = firing
                .iter()
                .filter(|s| {
                    rule.source.matches(s)
                        && rule.equal_key(s) == key
                        && !(two_sided && rule.target.matches(s))
                })
                .map(LabelSet::fingerprint_without_empty)
                .collect();
            if !by.is_empty() {
                by.sort_unstable();
                by.dedup();
                return Some((r, by));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(source: &[&str], target: &[&str], equal: &[&str]) -> InhibitRule {
        InhibitRule {
            source_matchers: source.iter().map(|s| s.to_string()).collect(),
            target_matchers: target.iter().map(|s| s.to_string()).collect(),
            equal: equal.iter().map(|s| s.to_string()).collect(),
            ..InhibitRule::default()
        }
    }

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        LabelSet::from_pairs(pairs.iter().copied()).unwrap()
    }

    #[test]
    fn missing_equal_labels_agree() {
        let inh = Inhibitor::new(&[rule(&["s=\"crit\""], &["s=\"warn\""], &["zone"])]).unwrap();
        let firing = [ls(&[("s", "crit")]), ls(&[("s", "warn")])];
        let muted = inh.muted(&firing);
        assert_eq!(muted.len(), 1);
        assert_eq!(muted[0].alert, 1);
        let other_zone = [ls(&[("s", "crit"), ("zone", "a")]), ls(&[("s", "warn")])];
        assert!(inh.muted(&other_zone).is_empty());
        let empty_zone = [ls(&[("s", "crit"), ("zone", "")]), ls(&[("s", "warn")])];
        assert_eq!(inh.muted(&empty_zone).len(), 1);
    }

    #[test]
    fn an_alert_never_inhibits_itself() {
        // Every alert matches both sides.
        let inh = Inhibitor::new(&[rule(&["a=~\".*\""], &["a=~\".*\""], &[])]).unwrap();
        let firing = [ls(&[("a", "1")]), ls(&[("a", "2")])];
        assert!(inh.muted(&firing).is_empty());
        // A one-sided source still mutes a two-sided target.
        let inh = Inhibitor::new(&[rule(&["a=~\".*\""], &["a=\"1\""], &[])]).unwrap();
        let muted = inh.muted(&firing);
        assert_eq!(muted.len(), 1);
        assert_eq!(muted[0].alert, 0);
        assert_eq!(muted[0].sources, vec![firing[1].fingerprint()]);
    }

    #[test]
    fn the_first_muting_rule_wins() {
        let inh = Inhibitor::new(&[
            rule(&["x=\"never\""], &["s=\"warn\""], &[]),
            rule(&["s=\"crit\""], &["s=\"warn\""], &[]),
            rule(&["s=\"crit\""], &["s=~\".*\""], &[]),
        ])
        .unwrap();
        let firing = [ls(&[("s", "crit")]), ls(&[("s", "warn")])];
        let muted = inh.muted(&firing);
        assert_eq!(muted.len(), 1);
        assert_eq!(muted[0].rule, 1);
    }

    #[test]
    fn match_re_is_anchored() {
        let mut r = rule(&[], &["s=\"warn\""], &[]);
        r.source_match_re.insert("s".into(), "cri".into());
        let inh = Inhibitor::new(&[r]).unwrap();
        assert!(
            inh.muted(&[ls(&[("s", "crit")]), ls(&[("s", "warn")])])
                .is_empty()
        );
        assert!(
            Inhibitor::new(&[{
                let mut r = rule(&[], &[], &[]);
                r.target_match_re.insert("s".into(), "(".into());
                r
            }])
            .is_err()
        );
    }

    proptest! {
        /// The indexed evaluation agrees with the one-target search.
        #[test]
        fn muted_agrees_with_mutes(
            alerts in prop::collection::vec(
                prop::collection::btree_map("[abc]", "[xy]?", 0..3), 0..8),
            equal in prop::collection::vec("[abc]", 0..2),
        ) {
            let firing: Vec<LabelSet> = alerts
                .into_iter()
                .map(|m| LabelSet::try_from(m).unwrap())
                .collect();
            let eq: Vec<&str> = equal.iter().map(String::as_str).collect();
            let inh = Inhibitor::new(&[
                rule(&["a=\"x\""], &["b=~\"x|\""], &eq),
                rule(&["c!=\"\""], &["a!=\"x\""], &eq),
            ]).unwrap();
            let muted = inh.muted(&firing);
            let mut expected = Vec::new();
            for (i, t) in firing.iter().enumerate() {
                if let Some((rule, sources)) = inh.mutes(&firing, t) {
                    expected.push(Inhibition {
                        alert: i,
                        fingerprint: t.fingerprint_without_empty(),
                        rule,
                        sources,
                    });
                }
            }
            prop_assert_eq!(muted, expected);
        }
    }
}
