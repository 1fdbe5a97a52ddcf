//! The native JSON tree.
//!
//! ```json
//! {"evaluated_at": "2024-05-01T10:00:00Z", "state": "failing", "roots": [
//!   {"name": "reports", "kind": "service", "type": "all", "state": "failing",
//!    "messages": [{"severity": "error", "text": "1 of 1 not passing: db"}],
//!    "observed_at": "2024-05-01T10:00:00Z",
//!    "children": [ {"name": "db", …, "children": […]} ]},
//!   {"name": "audit", …, "children": [ {"ref": "db", "propagate": "lower 1"} ]}
//! ]}
//! ```
//!
//! `kind` is the node's role (`sensor`, `system`, `service`), `type` its aggregation
//! (`at_least 2 (warn 1)`) or, for sensors, its [`Kind`](crate::Kind). Roots are in
//! [`Graph::roots`](crate::Graph::roots) order, children in declaration order. A node is
//! written in full at its first appearance (depth first) and as `{"ref": name}` after
//! that; an edge that is not `as_is` or has a weight other than 1 adds `propagate` /
//! `weight` to the child object. With `only_failing`, `roots` holds the explanation trees
//! of the roots that are not passing (no references: explanations are trees).

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::Visualiser;
use crate::aggregation::Propagation;
use crate::explain::ExplainNode;
use crate::graph::{Edge, NodeId, Role};
use crate::snapshot::Snapshot;

/// The JSON visualiser.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json {
    /// Only the explanation trees of roots that are not passing.
    pub only_failing: bool,
}

impl Json {
    /// The document as a JSON value.
    pub fn to_value(&self, snapshot: &Snapshot) -> Value {
        let roots: Vec<Value> = if self.only_failing {
            snapshot
                .graph()
                .roots()
                .iter()
                .filter(|&&r| !snapshot.status(r).state.is_passing())
                .map(|&r| explained(&snapshot.explain(r).root))
                .collect()
        } else {
            let mut seen = HashSet::new();
            snapshot
                .graph()
                .roots()
                .iter()
                .map(|&r| node(snapshot, r, None, &mut seen))
                .collect()
        };
        json!({
            "evaluated_at": snapshot.evaluated_at(),
            "state": snapshot.overall(),
            "roots": roots,
        })
    }
}

fn edge_fields(obj: &mut Map<String, Value>, edge: Option<&Edge>) {
    if let Some(e) = edge {
        if e.propagation != Propagation::AsIs {
            obj.insert("propagate".into(), e.propagation.to_string().into());
        }
        if e.weight != 1 {
            obj.insert("weight".into(), e.weight.into());
        }
    }
}

fn node(snap: &Snapshot, id: NodeId, edge: Option<&Edge>, seen: &mut HashSet<NodeId>) -> Value {
    let n = snap.graph().node(id);
    let mut obj = Map::new();
    if !seen.insert(id) {
        obj.insert("ref".into(), n.name.clone().into());
        edge_fields(&mut obj, edge);
        return Value::Object(obj);
    }
    let status = snap.status(id);
    let kind_text = match (&n.role, &n.kind) {
        (Role::Sensor, Some(k)) => k.to_string(),
        _ => n.aggregation.to_string(),
    };
    obj.insert("name".into(), n.name.clone().into());
    obj.insert("kind".into(), n.role.as_str().into());
    obj.insert("type".into(), kind_text.into());
    obj.insert("state".into(), json!(status.state));
    obj.insert("messages".into(), json!(status.messages));
    obj.insert("observed_at".into(), json!(status.observed_at));
    edge_fields(&mut obj, edge);
    let children: Vec<Value> = n
        .edges
        .iter()
        .map(|e| node(snap, e.child, Some(e), seen))
        .collect();
    obj.insert("children".into(), children.into());
    Value::Object(obj)
}

fn explained(n: &ExplainNode) -> Value {
    json!({
        "name": n.name,
        "kind": n.role,
        "state": n.state,
        "messages": n.messages,
        "children": n.children.iter().map(explained).collect::<Vec<_>>(),
    })
}

impl Visualiser for Json {
    fn render(&self, snapshot: &Snapshot) -> String {
        let mut text = serde_json::to_string_pretty(&self.to_value(snapshot)).unwrap_or_default();
        text.push('\n');
        text
    }
}
