//! Another graph's JSON output as a sensor, kind `alert-health:remote` (Alpacalert's
//! "services through sensors": a team consumes another team's service by its published
//! health).
//!
//! ```yaml
//! remote:
//!   url: http://billing-health:8080/api/v1/status   # an `alert-health serve` status endpoint
//!   node: invoicing     # a node of that graph (default: the whole graph)
//!   ttl: 10s
//! ```
//!
//! The document is this crate's [JSON visualiser](crate::visualiser::json) output. With
//! `node`, the sensor takes that node's state and messages (a node shown by reference is
//! looked up where it is shown in full); without, the document's overall state, with a
//! message per root that is not passing. A node missing from the document is an error
//! (so Unknown, with the message).

use std::sync::Arc;

use alert_core::{Duration, redact_urls};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use super::Sources;
use crate::error::{Error, Result};
use crate::kind::Kind;
use crate::registry::{Component, Instrumentor, Registry, Request};
use crate::sensor::Sensor;
use crate::state::State;
use crate::status::{Level, Reading, StatusMessage};

fn default_ttl() -> Duration {
    Duration::from_secs(10).unwrap_or(Duration::ZERO)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    url: String,
    #[serde(default)]
    node: Option<String>,
    #[serde(default = "default_ttl")]
    ttl: Duration,
    #[serde(default)]
    timeout: Option<Duration>,
}

#[derive(Debug, Deserialize)]
struct RemoteNode {
    name: String,
    state: State,
    #[serde(default)]
    messages: Vec<StatusMessage>,
}

/// Reads a node (or the whole) of a remote graph.
#[derive(Debug, Clone)]
pub struct RemoteGraph {
    sources: Sources,
    url: String,
    node: Option<String>,
    ttl: Duration,
    timeout: Option<Duration>,
}

/// Finds the node named `name` shown in full (with a `state`) anywhere in the document.
fn find_full<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    let mut stack: Vec<&Value> = match doc.get("roots") {
        Some(Value::Array(roots)) => roots.iter().collect(),
        _ => Vec::new(),
    };
    while let Some(v) = stack.pop() {
        if v.get("name").and_then(Value::as_str) == Some(name) && v.get("state").is_some() {
            return Some(v);
        }
        if let Some(Value::Array(children)) = v.get("children") {
            stack.extend(children.iter());
        }
    }
    None
}

impl RemoteGraph {
    fn judge(&self, doc: &Value) -> Result<Reading> {
        let unexpected = |reason: String| Error::UnexpectedResponse {
            target: redact_urls(&self.url),
            reason,
        };
        match &self.node {
            Some(name) => {
                let v = find_full(doc, name)
                    .ok_or_else(|| unexpected(format!("no node named {name:?} in the graph")))?;
                let node = RemoteNode::deserialize(v)
                    .map_err(|e| unexpected(format!("node {name:?}: {e}")))?;
                Ok(Reading {
                    state: node.state,
                    messages: node.messages,
                })
            }
            None => {
                let state = doc
                    .get("state")
                    .map(State::deserialize)
                    .transpose()
                    .map_err(|e| unexpected(format!("state: {e}")))?
                    .ok_or_else(|| unexpected("no overall state".to_owned()))?;
                let mut reading = Reading::new(state);
                if let Some(Value::Array(roots)) = doc.get("roots") {
                    for root in roots {
                        let Ok(node) = RemoteNode::deserialize(root) else {
                            continue;
                        };
                        if !node.state.is_passing() {
                            reading = reading.with_message(
                                Level::for_state(node.state),
                                format!("{} is {}", node.name, node.state),
                            );
                        }
                    }
                }
                Ok(reading)
            }
        }
    }
}

#[async_trait]
impl Sensor for RemoteGraph {
    async fn read(&self) -> Result<Reading> {
        let key = format!("remote {}", self.url);
        let got = self
            .sources
            .get_json(key, self.url.clone(), Vec::new(), self.ttl)
            .await?;
        self.judge(&got.value)
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

/// Instruments `alert-health:remote`.
#[derive(Debug, Clone)]
pub struct RemoteInstrumentor {
    sources: Sources,
}

impl RemoteInstrumentor {
    /// Sensors reading through `sources`.
    pub fn new(sources: Sources) -> RemoteInstrumentor {
        RemoteInstrumentor { sources }
    }
}

impl Instrumentor for RemoteInstrumentor {
    fn kinds(&self) -> Vec<Kind> {
        vec![Kind::builtin("remote")]
    }

    fn instrument(&self, _: &Registry, kind: &Kind, r: &Request<'_>) -> Result<Vec<Component>> {
        let p: Params = r.parse(kind)?;
        reqwest::Url::parse(&p.url)
            .map_err(|e| r.error(kind, format!("url {:?}: {e}", redact_urls(&p.url))))?;
        Ok(vec![Component::Sensor {
            name: r.name.to_owned(),
            kind: kind.clone(),
            sensor: Arc::new(RemoteGraph {
                sources: self.sources.clone(),
                url: p.url,
                node: p.node,
                ttl: p.ttl,
                timeout: p.timeout,
            }),
        }])
    }
}
