//! Nodes and Namespaces.
//!
//! - Node: `Ready True` passes, `False` fails, `Unknown` (the node stopped reporting) is
//!   Unknown. `MemoryPressure`, `DiskPressure` or `PIDPressure` `True` is **Degraded**:
//!   the node still runs its pods and the kubelet is evicting some to recover, so
//!   capacity is reduced but the node works; `NetworkUnavailable True` fails (its pods
//!   cannot be reached). A cordoned node (`spec.unschedulable`) is Degraded.
//! - Namespace: `Active` passes; `Terminating` is Degraded (its objects are being
//!   deleted), with the deletion conditions' messages when a finalizer holds it.

use serde_json::Value;

use super::{Finding, condition};
use crate::kubernetes::object;
use crate::state::State;

/// A node's conditions.
pub fn node(n: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    match object::condition(n, "Ready") {
        Some(c) => out.push(condition(&c, "True", State::Failing)),
        None => out.push((State::Unknown, "no Ready condition reported".to_owned())),
    }
    for (kind, bad) in [
        ("MemoryPressure", State::Degraded),
        ("DiskPressure", State::Degraded),
        ("PIDPressure", State::Degraded),
        ("NetworkUnavailable", State::Failing),
    ] {
        if let Some(c) = object::condition(n, kind).filter(|c| c.status != "False") {
            out.push(condition(&c, "False", bad));
        }
    }
    if n["spec"]["unschedulable"].as_bool() == Some(true) {
        out.push((State::Degraded, "cordoned (unschedulable)".to_owned()));
    }
    out
}

/// A namespace's phase.
pub fn namespace(ns: &Value) -> Vec<Finding> {
    match ns["status"]["phase"].as_str().unwrap_or("Active") {
        "Active" => vec![(State::Passing, "Active".to_owned())],
        "Terminating" => {
            let mut out = vec![(State::Degraded, "Terminating".to_owned())];
            out.extend(
                object::conditions(ns)
                    .into_iter()
                    .filter(|c| c.is_true())
                    .map(|c| (State::Degraded, c.explain())),
            );
            out
        }
        other => vec![(State::Unknown, format!("phase {other}"))],
    }
}
