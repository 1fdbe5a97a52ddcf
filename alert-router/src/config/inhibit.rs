//! Inhibition rules (`inhibit_rules`), as written.

use std::collections::BTreeMap;

/// One inhibition rule: while an alert matching the source side fires, alerts matching
/// the target side with equal values for the `equal` labels are muted.
///
/// Each side is the AND of its `*_match` (equality), `*_match_re` (regex) and
/// `*_matchers` (classic matcher strings) entries, kept as written.
///
/// ```
/// use alert_router::config::InhibitRule;
/// let rule = InhibitRule {
///     source_matchers: vec!["severity=\"critical\"".into()],
///     target_matchers: vec!["severity=\"warning\"".into()],
///     equal: vec!["alertname".into(), "cluster".into()],
///     ..Default::default()
/// };
/// assert_eq!(rule.equal.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InhibitRule {
    /// Deprecated source equality matchers.
    pub source_match: BTreeMap<String, String>,
    /// Deprecated source regex matchers.
    pub source_match_re: BTreeMap<String, String>,
    /// Source matcher strings.
    pub source_matchers: Vec<String>,
    /// Deprecated target equality matchers.
    pub target_match: BTreeMap<String, String>,
    /// Deprecated target regex matchers.
    pub target_match_re: BTreeMap<String, String>,
    /// Target matcher strings.
    pub target_matchers: Vec<String>,
    /// Labels whose values must be equal in source and target.
    pub equal: Vec<String>,
}
