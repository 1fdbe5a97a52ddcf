//! Turning unhealthy systems and services into Alertmanager alerts (pure decisions).
//!
//! After each evaluation the [`AlertTracker`] looks at every system and service:
//!
//! * a node that is not Passing is *unhealthy since* the first pass that saw it so;
//! * once it has been unhealthy for at least its `for` duration ([`Node::alert_for`],
//!   else [`AlertPolicy::default_for`]) it *fires*: an alert is (re)posted on every pass
//!   with `endsAt = now + resolve_after`, so that if the evaluator stops, Alertmanager
//!   resolves the alert by itself;
//! * when its severity changes while firing (Degraded → Failing), the old alert is
//!   resolved and one with the new labels fires, since labels are an alert's identity;
//! * when it is Passing again, its alert is posted once more with `endsAt = now`:
//!   resolved.
//!
//! Labels: `alertname` ([`ALERT_NAME`]), `node`, `role` (`system`/`service`),
//! `severity` (Failing → `critical`, Degraded and Unknown → `warning`, Pending →
//! `info`), plus the policy's extra labels. Annotations: `summary` (`db is failing`),
//! `state`, and `explain`, the explanation paths one per line.
//!
//! [`Node::alert_for`]: crate::Node::alert_for

use std::collections::HashMap;

use alert_core::{Duration, LabelSet, Severity, Timestamp};
use serde::Serialize;

use crate::graph::Role;
use crate::snapshot::Snapshot;
use crate::state::State;

/// The `alertname` of the evaluator's alerts.
pub const ALERT_NAME: &str = "HealthGraphNodeUnhealthy";

/// An alert about one node of the graph, with the fields of Alertmanager's
/// `postableAlert` (`POST /api/v2/alerts`); the `http` feature's sink turns it into
/// `alert_cortex_adapter::PostableAlert`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeAlert {
    /// Identity.
    pub labels: LabelSet,
    /// Description.
    pub annotations: LabelSet,
    /// When the node became unhealthy.
    pub starts_at: Timestamp,
    /// When the alert ends: in the future while firing, now when resolved.
    pub ends_at: Timestamp,
    /// A link to the status page.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
}

impl NodeAlert {
    /// Whether this posting resolves the alert (its end is not after `now`).
    pub fn is_resolved_at(&self, now: Timestamp) -> bool {
        self.ends_at <= now
    }
}

/// How the evaluator alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertPolicy {
    /// `for` of nodes that set none.
    pub default_for: Duration,
    /// How far ahead a firing alert's `endsAt` is set on each pass (about three
    /// evaluation intervals).
    pub resolve_after: Duration,
    /// Labels added to every alert.
    pub extra_labels: LabelSet,
    /// The `generatorURL` of every alert (the status page).
    pub generator_url: String,
}

impl Default for AlertPolicy {
    /// `for` 5m, `endsAt` 90s ahead, no extra labels.
    fn default() -> Self {
        AlertPolicy {
            default_for: Duration::from_secs(300).unwrap_or(Duration::ZERO),
            resolve_after: Duration::from_secs(90).unwrap_or(Duration::ZERO),
            extra_labels: LabelSet::new(),
            generator_url: String::new(),
        }
    }
}

/// The `severity` label for a state that is not Passing.
pub fn severity_for(state: State) -> Severity {
    match state {
        State::Failing => Severity::Critical,
        State::Degraded | State::Unknown => Severity::Warning,
        State::Passing | State::Pending => Severity::Info,
    }
}

#[derive(Debug, Clone, Default)]
struct Tracked {
    unhealthy_since: Option<Timestamp>,
    firing: Option<LabelSet>,
}

/// Remembers, per node, since when it is unhealthy and which alert is firing.
///
/// ```
/// use std::sync::Arc;
/// use alert_core::Timestamp;
/// use alert_health_graph::{AlertPolicy, AlertTracker, GraphBuilder, Kind, NodeSpec, Reading, Snapshot, State};
///
/// let mut b = GraphBuilder::new();
/// b.add(NodeSpec::sensor("disk", Kind::builtin("constant")))?;
/// b.add(NodeSpec::service("host", ["disk"]).alert_for("1m".parse()?))?;
/// let g = Arc::new(b.build()?);
/// let failing = |t: Timestamp| Snapshot::compute(g.clone(), t, |_| Reading::new(State::Failing).at(t));
/// let mut tracker = AlertTracker::new(AlertPolicy::default());
/// let t0: Timestamp = "2024-05-01T10:00:00Z".parse()?;
/// assert!(tracker.observe(&failing(t0)).is_empty()); // unhealthy, not for 1m yet
/// let t1: Timestamp = "2024-05-01T10:01:00Z".parse()?;
/// let alerts = tracker.observe(&failing(t1));
/// assert_eq!(alerts[0].labels.get("node"), Some("host"));
/// assert_eq!(alerts[0].starts_at, t0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AlertTracker {
    policy: AlertPolicy,
    nodes: HashMap<String, Tracked>,
}

impl AlertTracker {
    /// Nothing unhealthy yet.
    pub fn new(policy: AlertPolicy) -> AlertTracker {
        AlertTracker {
            policy,
            nodes: HashMap::new(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &AlertPolicy {
        &self.policy
    }

    /// Names of nodes whose alert is firing.
    pub fn firing(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .nodes
            .iter()
            .filter(|(_, t)| t.firing.is_some())
            .map(|(n, _)| n.as_str())
            .collect();
        v.sort_unstable();
        v
    }

    /// Looks at one evaluated snapshot (at its evaluation time) and returns the alerts to
    /// post: firing ones (refreshed) and resolutions. Nodes that disappeared from the
    /// graph have their alerts resolved.
    pub fn observe(&mut self, snapshot: &Snapshot) -> Vec<NodeAlert> {
        let now = snapshot.evaluated_at();
        let graph = snapshot.graph();
        let mut out = Vec::new();
        let mut present: Vec<&str> = Vec::new();
        for id in graph.ids() {
            let node = graph.node(id);
            if node.role == Role::Sensor {
                continue;
            }
            present.push(&node.name);
            let state = snapshot.status(id).state;
            let labels = self.labels(&node.name, node.role, state);
            let resolve_after = self.policy.resolve_after;
            let generator_url = self.policy.generator_url.clone();
            let tracked = self.nodes.entry(node.name.clone()).or_default();
            if state.is_passing() {
                let since = tracked.unhealthy_since.take().unwrap_or(now);
                if let Some(old) = tracked.firing.take() {
                    out.push(posting(old, snapshot, id, since, now, &generator_url));
                }
                continue;
            }
            let since = *tracked.unhealthy_since.get_or_insert(now);
            let delay = node.alert_for.unwrap_or(self.policy.default_for);
            let due = since.checked_add(delay).is_some_and(|at| at <= now);
            if !due {
                continue;
            }
            let previous = tracked.firing.replace(labels.clone());
            if let Some(old) = previous.filter(|old| *old != labels) {
                out.push(posting(old, snapshot, id, since, now, &generator_url));
            }
            let ends_at = now.checked_add(resolve_after).unwrap_or(now);
            out.push(posting(
                labels,
                snapshot,
                id,
                since,
                ends_at,
                &generator_url,
            ));
        }
        let gone: Vec<String> = self
            .nodes
            .keys()
            .filter(|n| !present.contains(&n.as_str()))
            .cloned()
            .collect();
        for name in gone {
            if let Some(Tracked {
                firing: Some(labels),
                unhealthy_since,
            }) = self.nodes.remove(&name)
            {
                out.push(NodeAlert {
                    labels,
                    annotations: LabelSet::new(),
                    starts_at: unhealthy_since.unwrap_or(now),
                    ends_at: now,
                    generator_url: self.policy.generator_url.clone(),
                });
            }
        }
        out
    }

    fn labels(&self, node: &str, role: Role, state: State) -> LabelSet {
        let mut labels = self.policy.extra_labels.clone();
        let pairs = [
            ("alertname", ALERT_NAME),
            ("node", node),
            ("role", role.as_str()),
            ("severity", severity_for(state).as_str()),
        ];
        for (k, v) in pairs {
            // The names are valid label names, so inserting cannot fail.
            let _ = labels.insert(k, v);
        }
        labels
    }
}

/// One posting of a node's alert, ending at `ends_at`.
fn posting(
    labels: LabelSet,
    snapshot: &Snapshot,
    id: crate::graph::NodeId,
    since: Timestamp,
    ends_at: Timestamp,
    generator_url: &str,
) -> NodeAlert {
    NodeAlert {
        labels,
        annotations: annotations(snapshot, id),
        starts_at: since.min(ends_at),
        ends_at,
        generator_url: generator_url.to_owned(),
    }
}

fn annotations(snapshot: &Snapshot, id: crate::graph::NodeId) -> LabelSet {
    let node = snapshot.graph().node(id);
    let state = snapshot.status(id).state;
    let explain: Vec<String> = snapshot
        .explain(id)
        .paths()
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut a = LabelSet::new();
    let _ = a.insert("summary", format!("{} is {state}", node.name));
    let _ = a.insert("state", state.as_str());
    let _ = a.insert("explain", explain.join("\n"));
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphBuilder, NodeSpec};
    use crate::kind::Kind;
    use crate::status::Reading;
    use std::sync::Arc;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid")
    }

    fn graph() -> Arc<crate::Graph> {
        let mut b = GraphBuilder::new();
        b.add(NodeSpec::sensor("s", Kind::builtin("constant")))
            .expect("valid");
        b.add(NodeSpec::system("sys", crate::Aggregation::All, ["s"]))
            .expect("valid");
        b.add(NodeSpec::service("svc", ["sys"]).alert_for("2m".parse().expect("valid")))
            .expect("valid");
        Arc::new(b.build().expect("valid"))
    }

    fn snap(g: &Arc<crate::Graph>, state: State, at: Timestamp) -> Snapshot {
        Snapshot::compute(g.clone(), at, |_| Reading::explained(state, "why").at(at))
    }

    fn nodes(alerts: &[NodeAlert]) -> Vec<(&str, &str)> {
        alerts
            .iter()
            .map(|a| {
                (
                    a.labels.get("node").unwrap_or(""),
                    a.labels.get("severity").unwrap_or(""),
                )
            })
            .collect()
    }

    #[test]
    fn fires_after_for_refreshes_and_resolves() {
        let g = graph();
        let policy = AlertPolicy {
            default_for: Duration::ZERO,
            ..AlertPolicy::default()
        };
        let mut tr = AlertTracker::new(policy);
        assert!(
            tr.observe(&snap(&g, State::Passing, t("2024-05-01T10:00:00Z")))
                .is_empty()
        );
        // sys (for 0) fires at once; svc (for 2m) waits.
        let a = tr.observe(&snap(&g, State::Failing, t("2024-05-01T10:01:00Z")));
        assert_eq!(nodes(&a), [("sys", "critical")]);
        assert_eq!(a[0].ends_at, t("2024-05-01T10:02:30Z"), "now + 90s");
        assert!(
            a[0].annotations
                .get("explain")
                .unwrap_or("")
                .contains("sys -> s (failing): why")
        );
        let a = tr.observe(&snap(&g, State::Failing, t("2024-05-01T10:02:59Z")));
        assert_eq!(a.len(), 1, "svc not yet for 2m");
        let a = tr.observe(&snap(&g, State::Failing, t("2024-05-01T10:03:00Z")));
        assert_eq!(a.len(), 2);
        assert_eq!(a[1].labels.get("node"), Some("svc"));
        assert_eq!(a[1].starts_at, t("2024-05-01T10:01:00Z"));
        assert_eq!(tr.firing(), ["svc", "sys"]);
        // Severity change: the critical alert resolves, a warning one fires.
        let now = t("2024-05-01T10:04:00Z");
        let a = tr.observe(&snap(&g, State::Degraded, now));
        let summary: Vec<(Option<&str>, Option<&str>, bool)> = a
            .iter()
            .map(|x| {
                (
                    x.labels.get("node"),
                    x.labels.get("severity"),
                    x.is_resolved_at(now),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (Some("sys"), Some("critical"), true),
                (Some("sys"), Some("warning"), false),
                (Some("svc"), Some("critical"), true),
                (Some("svc"), Some("warning"), false),
            ]
        );
        // Recovery resolves both, once.
        let now = t("2024-05-01T10:05:00Z");
        let a = tr.observe(&snap(&g, State::Passing, now));
        assert_eq!(a.len(), 2);
        assert!(a.iter().all(|x| x.is_resolved_at(now) && x.ends_at == now));
        assert!(tr.firing().is_empty());
        assert!(
            tr.observe(&snap(&g, State::Passing, t("2024-05-01T10:06:00Z")))
                .is_empty()
        );
    }

    #[test]
    fn a_flap_shorter_than_for_never_fires() {
        let g = graph();
        let mut tr = AlertTracker::new(AlertPolicy::default()); // for 5m by default
        assert!(
            tr.observe(&snap(&g, State::Failing, t("2024-05-01T10:00:00Z")))
                .is_empty()
        );
        assert!(
            tr.observe(&snap(&g, State::Passing, t("2024-05-01T10:04:00Z")))
                .is_empty()
        );
        assert!(
            tr.observe(&snap(&g, State::Failing, t("2024-05-01T10:05:00Z")))
                .is_empty()
        );
        // The clock restarted at 10:05: due at 10:07 for svc (2m), 10:10 for sys (5m).
        let a = tr.observe(&snap(&g, State::Failing, t("2024-05-01T10:07:00Z")));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].labels.get("node"), Some("svc"));
    }

    #[test]
    fn postable_alerts_serialise_as_api_v2() {
        let a = NodeAlert {
            labels: LabelSet::from_pairs([("alertname", "X")]).expect("valid"),
            annotations: LabelSet::new(),
            starts_at: t("2024-05-01T10:00:00Z"),
            ends_at: t("2024-05-01T10:01:00Z"),
            generator_url: "http://status".into(),
        };
        assert_eq!(
            serde_json::to_value(&a).expect("serialises"),
            serde_json::json!({"labels": {"alertname": "X"}, "annotations": {},
                "startsAt": "2024-05-01T10:00:00Z", "endsAt": "2024-05-01T10:01:00Z",
                "generatorURL": "http://status"})
        );
    }
}
