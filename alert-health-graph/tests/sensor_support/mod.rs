//! Evaluating a graph file with every built-in instrumentor, and reading a node's status
//! back (shared by the integration tests of the built-in sensors).
#![allow(dead_code)]

use alert_health_graph::builtin::{self, Sources};
use alert_health_graph::{Engine, GraphFile, Snapshot, Status};

/// Parses `yaml`, instruments it with fresh [`Sources`] and evaluates it once.
pub(crate) async fn evaluate(yaml: &str) -> Snapshot {
    let file = GraphFile::parse(yaml, "test.yml").expect("valid graph file");
    let built = file
        .assemble(&builtin::registry(&Sources::default()))
        .expect("assembles");
    Engine::new(built.graph, built.sensors).evaluate().await
}

/// The status of node `name`.
pub(crate) fn status<'a>(snap: &'a Snapshot, name: &str) -> &'a Status {
    snap.status(snap.graph().find(name).expect("node exists"))
}

/// The message texts of node `name`.
pub(crate) fn texts(snap: &Snapshot, name: &str) -> Vec<String> {
    status(snap, name)
        .messages
        .iter()
        .map(|m| m.text.clone())
        .collect()
}
