//! Alertmanager 0.25's aggregation-group key: `<route key>:<group labels>`.
//!
//! The group labels are printed by `prometheus/common` v0.38's `LabelSet.String()`: each
//! pair formatted as `name="value"` with Go's `%q` quoting, the formatted strings sorted
//! (so `a0="y"` sorts before `a="x"`, since `'0' < '='`), joined by `", "`, in braces.

use alert_core::LabelSet;

use alert_core::go_quote::go_quote;

/// The group key of `labels` on a route with key `route_key` that groups by
/// `group_by` (all labels when `group_by_all`).
///
/// Labels with empty values are left out: Alertmanager's API drops them from every alert
/// it receives, so its dispatcher never sees them.
pub(crate) fn group_key(
    route_key: &str,
    group_by: &[String],
    group_by_all: bool,
    labels: &LabelSet,
) -> String {
    let mut pairs: Vec<String> = labels
        .iter()
        .filter(|(name, value)| {
            !value.is_empty()
                && (group_by_all || group_by.binary_search_by(|g| g.as_str().cmp(name)).is_ok())
        })
        .map(|(name, value)| format!("{name}={}", go_quote(value)))
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(
        route_key.len() + 3 + pairs.iter().map(|p| p.len() + 2).sum::<usize>(),
    );
    out.push_str(route_key);
    out.push_str(":{");
    for (i, p) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(p);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_the_formatted_pairs_like_common_v0_38() {
        // Captured from a real Alertmanager 0.25 (reference notes §1.5).
        let labels = LabelSet::from_pairs([
            ("a", "x"),
            ("a0", "y"),
            ("a_b", "z"),
            ("alertname", "I"),
            ("team", "web"),
        ])
        .unwrap();
        assert_eq!(
            group_key(r#"{}/{team=~"^(?:db|web)$"}"#, &[], true, &labels),
            r#"{}/{team=~"^(?:db|web)$"}:{a0="y", a="x", a_b="z", alertname="I", team="web"}"#
        );
    }

    #[test]
    fn keeps_only_grouped_non_empty_labels() {
        let labels =
            LabelSet::from_pairs([("alertname", "A"), ("cluster", ""), ("team", "db")]).unwrap();
        let by = vec![
            "alertname".to_owned(),
            "cluster".to_owned(),
            "zone".to_owned(),
        ];
        assert_eq!(
            group_key("{}", &by, false, &labels),
            r#"{}:{alertname="A"}"#
        );
        assert_eq!(group_key("{}", &[], false, &labels), "{}:{}");
    }
}
