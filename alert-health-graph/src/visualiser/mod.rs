//! Visualisers: one evaluated [`Snapshot`] in, text out, zero sensor reads.
//!
//! * [`console`]: Alpacalert's tab-indented tree, `state : name` with messages beneath;
//!   "only failing" renders the explanation tree.
//! * [`json`]: the nested tree `{name, kind, state, messages, children}`, a shared node in
//!   full once and by reference (`{"ref": name}`) elsewhere.
//! * [`html`]: a status page: banner, what is failing now and why, the component tree
//!   with per-component state and 90-day uptime bars from the state history.
//! * [`statuspage`]: Atlassian Statuspage v2 `summary.json`.

pub mod console;
pub mod html;
pub mod json;
pub mod statuspage;

use crate::snapshot::Snapshot;

/// Renders a snapshot.
pub trait Visualiser {
    /// The rendering of `snapshot`. Never reads a sensor.
    fn render(&self, snapshot: &Snapshot) -> String;
}

/// A snapshot of one sensor, `db`, in `state` at `at`: what the visualisers' tests render.
#[cfg(test)]
pub(crate) fn one_sensor_snapshot(
    state: crate::State,
    at: alert_core::Timestamp,
) -> crate::snapshot::Snapshot {
    use crate::graph::{GraphBuilder, NodeSpec};
    let mut b = GraphBuilder::new();
    b.add(NodeSpec::sensor(
        "db",
        crate::kind::Kind::builtin("constant"),
    ))
    .expect("valid spec");
    let graph = std::sync::Arc::new(b.build().expect("valid graph"));
    crate::snapshot::Snapshot::compute(graph, at, |_| crate::status::Reading::new(state).at(at))
}
