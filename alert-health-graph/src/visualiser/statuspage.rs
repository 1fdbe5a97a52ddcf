//! Atlassian Statuspage v2 `summary.json`.
//!
//! Statuspage allows one level of nesting, so the graph is flattened: each root with
//! children becomes a group (`group: true`, `components` listing its children's ids) and
//! each of its direct children a component with `group_id` set to the root (a child of
//! several roots is listed under the first only); a root without children is a
//! component on its own. Deeper structure is only in the native JSON. Ids are node names.
//!
//! | state | component `status` |
//! |---|---|
//! | Passing | `operational` |
//! | Pending, Unknown | `degraded_performance` (description: the first message, or "status unknown") |
//! | Degraded | `partial_outage` |
//! | Failing | `major_outage` |
//!
//! The page indicator is `critical` when a root service is Failing, `major` when any
//! component is in `major_outage`, `minor` when any is not `operational`, else `none`;
//! its description is "All Systems Operational", "Partial System Outage", "Major
//! System Outage" or "Critical System Outage". Every root that is not Passing appears in
//! `incidents` as an unresolved `investigating` incident whose update body is the
//! explanation paths; `created_at` is when the root left its previous state, from the
//! state history.
//!
//! A public page does not show what sensors report (their messages carry addresses,
//! queries and error texts): a sensor's messages appear in component descriptions and
//! incident bodies only when [`PageInfo::messages`] shows them; what systems and
//! services say (how many children pass, and which) always appears, since it names
//! only nodes. The native JSON (`/api/v1/status`, `/api/v1/explain`) is the operator's
//! view and keeps everything.
//!
//! Two extensions, which Statuspage's readers ignore: each component's `uptime`
//! (`days`, `overall` as a fraction or `null`, `since`: the component's first sample
//! while its history is shorter than the window, else `null`, and `start_label`: what
//! the left end of the bars says, "since 2024-05-03" or "90 days ago"), and the page's
//! `history_since` (the first sample of any node, while shorter than the window).

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use alert_core::Timestamp;
use serde_json::{Value, json};

use super::Visualiser;
use crate::explain::ExplainPath;
use crate::graph::{NodeId, Role};
use crate::history::{StateHistory, Uptime, UptimeWeights};
use crate::snapshot::Snapshot;
use crate::state::State;

/// What a status page says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct PageInfo {
    /// Page id (`page.id`, `page_id`).
    pub id: String,
    /// Title.
    pub name: String,
    /// Public URL.
    pub url: String,
    /// How uptime weighs outages.
    pub weights: UptimeWeights,
    /// Days of uptime bars (90).
    pub days: u32,
    /// Whose sensor messages the page shows (none by default).
    pub messages: ShownMessages,
    /// How often a browser showing the HTML page fetches it again (30 s).
    pub refresh: Duration,
}

/// Whose sensor messages a public page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ShownMessages {
    /// No sensor's: the page shows states only.
    #[default]
    None,
    /// Every sensor's.
    All,
    /// These sensors'.
    Of(BTreeSet<String>),
}

impl ShownMessages {
    /// Whether the page shows what the node `name`, whose role is `role`, says:
    /// always for systems and services, for a sensor as configured.
    pub fn shows(&self, role: Role, name: &str) -> bool {
        role != Role::Sensor
            || match self {
                ShownMessages::None => false,
                ShownMessages::All => true,
                ShownMessages::Of(names) => names.contains(name),
            }
    }
}

/// Whether a public page shows the messages of `path`'s deciding leaf.
pub fn shows_path_messages(snapshot: &Snapshot, path: &ExplainPath, shown: &ShownMessages) -> bool {
    path.nodes
        .last()
        .and_then(|n| snapshot.graph().find(n).ok())
        .is_some_and(|id| {
            let node = snapshot.graph().node(id);
            shown.shows(node.role, &node.name)
        })
}

/// What a public page says about `path`: node names and the leaf's state, and the
/// leaf's messages only when `shown` says so (`svc -> db -> db-primary (failing)`).
pub fn public_path(snapshot: &Snapshot, path: &ExplainPath, shown: &ShownMessages) -> String {
    if shows_path_messages(snapshot, path, shown) {
        path.to_string()
    } else {
        format!("{} ({})", path.nodes.join(" -> "), path.state)
    }
}

impl Default for PageInfo {
    fn default() -> Self {
        PageInfo {
            id: "alert-health".to_owned(),
            name: "Service status".to_owned(),
            url: String::new(),
            weights: UptimeWeights::default(),
            days: 90,
            messages: ShownMessages::None,
            refresh: Duration::from_secs(30),
        }
    }
}

/// Statuspage's component status for a state.
pub fn component_status(state: State) -> &'static str {
    match state {
        State::Passing => "operational",
        State::Pending | State::Unknown => "degraded_performance",
        State::Degraded => "partial_outage",
        State::Failing => "major_outage",
    }
}

/// What the left end of a component's uptime bars says: "since `YYYY-MM-DD`" (the
/// first sample's UTC date) while its history is shorter than the window, else
/// "`days` days ago".
///
/// ```
/// use alert_health_graph::visualiser::statuspage::uptime_start_label;
/// assert_eq!(uptime_start_label(Some("2024-05-03T10:00:00Z".parse()?), 90), "since 2024-05-03");
/// assert_eq!(uptime_start_label(None, 90), "90 days ago");
/// # Ok::<(), alert_core::Error>(())
/// ```
pub fn uptime_start_label(since: Option<Timestamp>, days: u32) -> String {
    match since {
        Some(t) => format!("since {}", date(t)),
        None => format!("{days} days ago"),
    }
}

/// A component's `uptime` extension (see the module docs).
fn uptime_value(up: &Uptime, days: u32) -> Value {
    json!({
        "days": days,
        "overall": up.overall,
        "since": up.since,
        "start_label": uptime_start_label(up.since, days),
    })
}

/// The page indicator for a snapshot: `none`, `minor`, `major` or `critical`.
pub fn indicator(snapshot: &Snapshot) -> &'static str {
    let graph = snapshot.graph();
    let critical = graph.roots().iter().any(|&r| {
        graph.node(r).role == Role::Service && snapshot.status(r).state == State::Failing
    });
    let worst = graph
        .ids()
        .map(|id| snapshot.status(id).state)
        .max()
        .unwrap_or(State::Passing);
    if critical {
        "critical"
    } else if worst == State::Failing {
        "major"
    } else if worst != State::Passing {
        "minor"
    } else {
        "none"
    }
}

/// The sentence for an indicator.
pub fn indicator_description(indicator: &str) -> &'static str {
    match indicator {
        "none" => "All Systems Operational",
        "minor" => "Partial System Outage",
        "major" => "Major System Outage",
        _ => "Critical System Outage",
    }
}

/// The `summary.json` visualiser.
#[derive(Debug, Clone, Copy)]
pub struct Statuspage<'a> {
    /// The page.
    pub page: &'a PageInfo,
    /// Where `created_at`/`updated_at` come from.
    pub history: &'a StateHistory,
}

impl Statuspage<'_> {
    fn component(
        &self,
        snap: &Snapshot,
        id: NodeId,
        position: usize,
        group_id: Option<&str>,
        members: Option<Vec<String>>,
    ) -> Value {
        let node = snap.graph().node(id);
        let status = snap.status(id);
        let (since, first) = self.times(snap, &node.name);
        let first_message = status
            .messages
            .first()
            .filter(|_| self.page.messages.shows(node.role, &node.name));
        let description = match status.state {
            State::Passing => Value::Null,
            State::Pending | State::Unknown => {
                first_message.map_or_else(|| "status unknown".into(), |m| m.text.clone().into())
            }
            _ => first_message.map_or(Value::Null, |m| m.text.clone().into()),
        };
        let mut c = json!({
            "id": node.name,
            "name": node.name,
            "status": component_status(status.state),
            "created_at": first,
            "updated_at": since,
            "position": position,
            "description": description,
            "showcase": true,
            "start_date": date(first),
            "group_id": group_id,
            "page_id": self.page.id,
            "group": members.is_some(),
            "only_show_if_degraded": false,
            "uptime": uptime_value(
                &self.history.uptime(
                    &node.name,
                    snap.evaluated_at(),
                    self.page.days,
                    self.page.weights,
                ),
                self.page.days,
            ),
        });
        if let (Some(m), Value::Object(obj)) = (members, &mut c) {
            obj.insert("components".into(), m.into());
        }
        c
    }

    /// (since the current state, first record) for a node, falling back to the
    /// snapshot's time.
    fn times(&self, snap: &Snapshot, name: &str) -> (Timestamp, Timestamp) {
        let at = snap.evaluated_at();
        let since = self.history.current(name).map_or(at, |(_, t)| t);
        let first = self.history.transitions(name).first().map_or(at, |t| t.at);
        (since, first)
    }

    /// The document as a JSON value.
    pub fn to_value(&self, snapshot: &Snapshot) -> Value {
        let graph = snapshot.graph();
        let mut components = Vec::new();
        let mut listed: HashSet<NodeId> = HashSet::new();
        for &root in graph.roots() {
            let node = graph.node(root);
            let children: Vec<NodeId> = node
                .edges
                .iter()
                .map(|e| e.child)
                .filter(|c| listed.insert(*c))
                .collect();
            if node.edges.is_empty() {
                components.push(self.component(snapshot, root, components.len() + 1, None, None));
                continue;
            }
            let names = children
                .iter()
                .map(|&c| graph.node(c).name.clone())
                .collect();
            components.push(self.component(
                snapshot,
                root,
                components.len() + 1,
                None,
                Some(names),
            ));
            for c in children {
                components.push(self.component(
                    snapshot,
                    c,
                    components.len() + 1,
                    Some(&node.name),
                    None,
                ));
            }
        }
        let at = snapshot.evaluated_at();
        let incidents: Vec<Value> = graph
            .roots()
            .iter()
            .filter(|&&r| !snapshot.status(r).state.is_passing())
            .map(|&r| {
                let node = graph.node(r);
                let state = snapshot.status(r).state;
                let (since, _) = self.times(snapshot, &node.name);
                let id = format!("{}-{}", node.name, since.unix_seconds());
                let impact = match state {
                    State::Failing if node.role == Role::Service => "critical",
                    State::Failing => "major",
                    _ => "minor",
                };
                let body: Vec<String> = snapshot
                    .explain(r)
                    .paths()
                    .iter()
                    .map(|p| public_path(snapshot, p, &self.page.messages))
                    .collect();
                json!({
                    "id": id,
                    "name": format!("{} is {}", node.name, state),
                    "status": "investigating",
                    "impact": impact,
                    "created_at": since,
                    "updated_at": at,
                    "monitoring_at": null,
                    "resolved_at": null,
                    "shortlink": self.page.url,
                    "started_at": since,
                    "page_id": self.page.id,
                    "incident_updates": [{
                        "id": format!("{id}-update"),
                        "status": "investigating",
                        "body": body.join("\n"),
                        "created_at": at,
                        "updated_at": at,
                        "display_at": at,
                        "affected_components": null,
                        "deliver_notifications": false,
                        "incident_id": id,
                    }],
                })
            })
            .collect();
        let indicator = indicator(snapshot);
        json!({
            "page": {
                "id": self.page.id,
                "name": self.page.name,
                "url": self.page.url,
                "time_zone": "Etc/UTC",
                "updated_at": at,
                "history_since": self.history.since(at, self.page.days),
            },
            "status": {
                "indicator": indicator,
                "description": indicator_description(indicator),
            },
            "components": components,
            "incidents": incidents,
            "scheduled_maintenances": [],
        })
    }
}

/// `YYYY-MM-DD` of `t` in UTC.
pub(crate) fn date(t: Timestamp) -> String {
    t.to_utc()
        .to_string()
        .get(..10)
        .unwrap_or_default()
        .to_owned()
}

impl Visualiser for Statuspage<'_> {
    fn render(&self, snapshot: &Snapshot) -> String {
        let mut text = serde_json::to_string_pretty(&self.to_value(snapshot)).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    /// One sensor, `db`, failing at `at`.
    fn snapshot(at: Timestamp) -> Snapshot {
        crate::visualiser::one_sensor_snapshot(State::Failing, at)
    }

    fn summary(history: &StateHistory, now: Timestamp) -> Value {
        Statuspage {
            page: &PageInfo::default(),
            history,
        }
        .to_value(&snapshot(now))
    }

    #[test]
    fn a_short_history_says_since_its_first_sample() {
        let mut h = StateHistory::default();
        h.record("db", State::Passing, t("2024-05-03T10:00:00Z"));
        h.record("db", State::Failing, t("2024-05-04T06:00:00Z"));
        let v = summary(&h, t("2024-05-04T12:00:00Z"));
        let up = &v["components"][0]["uptime"];
        assert_eq!(up["days"], 90);
        assert_eq!(up["since"], "2024-05-03T10:00:00Z");
        assert_eq!(up["start_label"], "since 2024-05-03");
        // 20 h passing, 6 h failing.
        let overall = up["overall"].as_f64().expect("a number");
        assert!((overall - 20.0 / 26.0).abs() < 1e-12, "{overall}");
        assert_eq!(v["page"]["history_since"], "2024-05-03T10:00:00Z");
        assert_eq!(v["components"][0]["start_date"], "2024-05-03");
    }

    #[test]
    fn a_full_window_has_no_since() {
        let mut h = StateHistory::default();
        h.record("db", State::Failing, t("2024-01-01T00:00:00Z"));
        let now = t("2024-05-04T12:00:00Z");
        h.prune(now);
        let v = summary(&h, now);
        assert_eq!(
            v["components"][0]["uptime"],
            json!({"days": 90, "overall": 0.0, "since": null, "start_label": "90 days ago"})
        );
        assert_eq!(v["page"]["history_since"], Value::Null);
    }

    #[test]
    fn no_history_has_no_since_and_no_uptime() {
        let v = summary(&StateHistory::default(), t("2024-05-04T12:00:00Z"));
        assert_eq!(
            v["components"][0]["uptime"],
            json!({"days": 90, "overall": null, "since": null, "start_label": "90 days ago"})
        );
    }
}
