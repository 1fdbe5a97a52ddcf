//! `/metrics`: a snapshot in the Prometheus text exposition format.
//!
//! * `alert_health_node_state{node, role}`: the state's rank (0 passing, 1 pending,
//!   2 degraded, 3 unknown, 4 failing);
//! * `alert_health_node_passing{node, role}`: 1 when passing, else 0;
//! * `alert_health_evaluations_total`: passes so far;
//! * `alert_health_last_evaluation_timestamp_seconds`: when the snapshot was taken.

use std::fmt::Write as _;

use alert_health_graph::{Snapshot, State};

/// Escapes a label value as the exposition format wants (`\`, `"`, newline).
fn escape(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A per-node gauge: name, help text, and its value for a state.
type PerNode = (&'static str, &'static str, fn(State) -> u8);

/// The exposition of `snapshot` after `passes` passes.
///
/// ```
/// use std::sync::Arc;
/// use alert_core::Timestamp;
/// use alert_health_graph::{GraphBuilder, Kind, NodeSpec, Reading, Snapshot, State};
/// let mut b = GraphBuilder::new();
/// b.add(NodeSpec::sensor("say \"hi\"", Kind::builtin("constant")))?;
/// let g = Arc::new(b.build()?);
/// let t = Timestamp::UNIX_EPOCH;
/// let snap = Snapshot::compute(g, t, |_| Reading::new(State::Failing).at(t));
/// let text = alert_examples::health::metrics::render(&snap, 7);
/// assert!(text.contains("alert_health_node_state{node=\"say \\\"hi\\\"\",role=\"sensor\"} 4\n"));
/// assert!(text.contains("alert_health_evaluations_total 7\n"));
/// # Ok::<(), alert_health_graph::Error>(())
/// ```
pub fn render(snapshot: &Snapshot, passes: u64) -> String {
    let graph = snapshot.graph();
    let mut out = String::new();
    let per_node: [PerNode; 2] = [
        (
            "alert_health_node_state",
            "State of each node: 0 passing, 1 pending, 2 degraded, 3 unknown, 4 failing.",
            State::rank,
        ),
        (
            "alert_health_node_passing",
            "1 when the node is passing, else 0.",
            |s| u8::from(s.is_passing()),
        ),
    ];
    for (metric, help, value) in per_node {
        let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} gauge");
        for id in graph.ids() {
            let node = graph.node(id);
            let _ = writeln!(
                out,
                "{metric}{{node=\"{}\",role=\"{}\"}} {}",
                escape(&node.name),
                node.role,
                value(snapshot.status(id).state)
            );
        }
    }
    let _ = write!(
        out,
        "# HELP alert_health_evaluations_total Evaluation passes so far.\n\
         # TYPE alert_health_evaluations_total counter\n\
         alert_health_evaluations_total {passes}\n\
         # HELP alert_health_last_evaluation_timestamp_seconds When the latest pass ended.\n\
         # TYPE alert_health_last_evaluation_timestamp_seconds gauge\n\
         alert_health_last_evaluation_timestamp_seconds {}\n",
        snapshot.evaluated_at().unix_seconds()
    );
    out
}
