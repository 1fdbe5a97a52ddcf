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
