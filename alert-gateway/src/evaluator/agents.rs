//! Agents reporting in: the heartbeat API, validated, and written to the store with
//! **group commit** — every heartbeat that arrives while a write is in flight joins the
//! next one, and a heartbeat is answered only once its write is durable. One write per
//! batch keeps thousands of heartbeats a second affordable on SQLite and etcd, and an
//! acknowledged heartbeat is never lost, so a new evaluator leader computes the same
//! disconnect deadlines as the old one.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use alert_core::Timestamp;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};

use super::judge::{AgentRecord, CapabilityHealth};
use crate::store::{Expect, Key, Kind, Op, SharedStore, StoreError, Txn};

/// The longest agent id.
pub const MAX_AGENT_ID_LEN: usize = 100;
/// The most capabilities one heartbeat may report.
pub const MAX_CAPABILITIES: usize = 64;
/// The longest capability name.
pub const MAX_CAPABILITY_NAME_LEN: usize = 128;
/// The longest capability message, in bytes.
pub const MAX_MESSAGE_LEN: usize = 1024;
/// Writes per store transaction (etcd refuses more than 128 operations in one).
const OPS_PER_TXN: usize = 100;
/// Heartbeats one batch takes at most.
const MAX_BATCH: usize = 2000;
/// Heartbeats waiting for a batch at most; past it a heartbeat is refused with 503.
const QUEUE: usize = 20_000;

/// The body of `PUT /api/v1/agents/{tenant}/{agent}/heartbeat` (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatBody {
    /// The agent's capabilities and their health.
    #[serde(default)]
    pub capabilities: Vec<ReportedCapability>,
}

/// One capability in a heartbeat.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportedCapability {
    /// Its name (what a `component_health` condition names).
    pub name: String,
    /// Whether it works.
    pub healthy: bool,
    /// Why not.
    #[serde(default)]
    pub message: String,
}

/// Why a heartbeat was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeartbeatError {
    /// A field is wrong: `(field path, what is expected)`.
    #[error("{0}: {1}")]
    Invalid(String, String),
    /// The store did not take it.
    #[error("the heartbeat was not stored: {0}")]
    Store(#[from] StoreError),
    /// Too many heartbeats are waiting.
    #[error("too many heartbeats are waiting to be stored; retry")]
    Busy,
}

/// Checks an agent id: 1 to [`MAX_AGENT_ID_LEN`] characters, a letter or digit, then
/// letters, digits, `_`, `.` and `-`.
pub fn check_agent_id(id: &str) -> Result<(), HeartbeatError> {
    let bytes = id.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_AGENT_ID_LEN
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(HeartbeatError::Invalid(
            "agent".into(),
            format!(
                "1 to {MAX_AGENT_ID_LEN} characters: a letter or digit, then letters, digits, \
                 '_', '.' and '-', got {:?}",
                id.chars().take(120).collect::<String>()
            ),
        ))
    }
}

impl HeartbeatBody {
    /// Checks the capabilities: at most [`MAX_CAPABILITIES`], each name once, non-empty
    /// and at most [`MAX_CAPABILITY_NAME_LEN`] bytes, messages at most
    /// [`MAX_MESSAGE_LEN`] bytes.
    pub fn check(&self) -> Result<(), HeartbeatError> {
        if self.capabilities.len() > MAX_CAPABILITIES {
            return Err(HeartbeatError::Invalid(
                "capabilities".into(),
                format!(
                    "at most {MAX_CAPABILITIES} capabilities, got {}",
                    self.capabilities.len()
                ),
            ));
        }
        for (i, cap) in self.capabilities.iter().enumerate() {
            let at = |field: &str| format!("capabilities[{i}].{field}");
            if cap.name.trim().is_empty() || cap.name.len() > MAX_CAPABILITY_NAME_LEN {
                return Err(HeartbeatError::Invalid(
                    at("name"),
                    format!("a name of 1 to {MAX_CAPABILITY_NAME_LEN} bytes"),
                ));
            }
            if self.capabilities[..i].iter().any(|c| c.name == cap.name) {
                return Err(HeartbeatError::Invalid(
                    at("name"),
                    format!("each capability once, got {:?} twice", cap.name),
                ));
            }
            if cap.message.len() > MAX_MESSAGE_LEN {
                return Err(HeartbeatError::Invalid(
                    at("message"),
                    format!("at most {MAX_MESSAGE_LEN} bytes, got {}", cap.message.len()),
                ));
            }
        }
        Ok(())
    }
}

/// The store id of an agent's record: `<tenant>:<agent>` (neither may hold a `:`).
pub fn agent_store_id(tenant: &str, agent: &str) -> String {
    format!("{tenant}:{agent}")
}

/// Where the writer finds an agent's latest record by store id (the replica's view).
pub type KnownRecords = Arc<dyn Fn(&str) -> Option<AgentRecord> + Send + Sync>;

/// One heartbeat waiting for its batch.
struct Pending {
    tenant: String,
    agent: String,
    at: Timestamp,
    body: HeartbeatBody,
    done: oneshot::Sender<Result<AgentRecord, HeartbeatError>>,
}

/// The heartbeat writer of one replica.
#[derive(Clone)]
pub struct Ingest {
    queue: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest").finish_non_exhaustive()
    }
}

impl Ingest {
    /// Starts the writer over `store`. `known` gives the records the writer starts from
    /// (a capability's `since` carries over from them).
    pub fn start(store: SharedStore, known: KnownRecords) -> Ingest {
        let (queue, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, receiver, known));
        Ingest { queue }
    }

    /// Stores a heartbeat received at `at`; answers once it is durable.
    pub async fn heartbeat(
        &self,
        tenant: &str,
        agent: &str,
        at: Timestamp,
        body: HeartbeatBody,
    ) -> Result<AgentRecord, HeartbeatError> {
        let (done, answer) = oneshot::channel();
        let pending = Pending {
            tenant: tenant.to_owned(),
            agent: agent.to_owned(),
            at,
            body,
            done,
        };
        self.queue
            .try_send(pending)
            .map_err(|_| HeartbeatError::Busy)?;
        answer.await.map_err(|_| {
            HeartbeatError::Store(StoreError::Unavailable(
                "the heartbeat writer stopped".into(),
            ))
        })?
    }
}

/// The record a heartbeat makes of the agent's previous one.
fn merge(
    previous: Option<&AgentRecord>,
    tenant: &str,
    agent: &str,
    at: Timestamp,
    body: HeartbeatBody,
) -> AgentRecord {
    let capabilities = body
        .capabilities
        .into_iter()
        .map(|cap| {
            let since = previous
                .and_then(|p| p.capabilities.get(&cap.name))
                .filter(|p| p.healthy == cap.healthy)
                .map_or(at, |p| p.since);
            (
                cap.name,
                CapabilityHealth {
                    healthy: cap.healthy,
                    message: cap.message,
                    since,
                },
            )
        })
        .collect::<BTreeMap<_, _>>();
    AgentRecord {
        tenant: tenant.to_owned(),
        agent: agent.to_owned(),
        last_heartbeat: previous.map_or(at, |p| p.last_heartbeat.max(at)),
        capabilities,
    }
}

async fn write_batches(
    store: SharedStore,
    mut receiver: mpsc::Receiver<Pending>,
    known: KnownRecords,
) {
    // This writer's latest records (what it wrote last is newer than what the view may
    // have seen yet).
    let mut written: HashMap<String, AgentRecord> = HashMap::new();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Later heartbeats of one agent in the batch supersede earlier ones.
        let mut records: BTreeMap<String, AgentRecord> = BTreeMap::new();
        for p in batch.iter_mut() {
            let id = agent_store_id(&p.tenant, &p.agent);
            let body = std::mem::take(&mut p.body);
            let previous = records
                .get(&id)
                .cloned()
                .or_else(|| written.get(&id).cloned())
                .or_else(|| known(&id));
            let record = merge(previous.as_ref(), &p.tenant, &p.agent, p.at, body);
            records.insert(id, record);
        }
        let mut ops = Vec::with_capacity(records.len());
        let mut failed = None;
        for (id, record) in &records {
            match (
                Key::new(Kind::Agent, id.clone()),
                serde_json::to_string(record),
            ) {
                (Ok(key), Ok(value)) => ops.push(Op::Put {
                    key,
                    value,
                    expect: Expect::Any,
                }),
                (Err(e), _) => failed = Some(HeartbeatError::Store(e)),
                (_, Err(e)) => failed = Some(HeartbeatError::Invalid("body".into(), e.to_string())),
            }
        }
        let mut result = match failed {
            Some(e) => Err(e),
            None => Ok(()),
        };
        if result.is_ok() {
            for chunk in ops.chunks(OPS_PER_TXN) {
                if let Err(e) = store.txn(Txn::new(chunk.to_vec())).await {
                    result = Err(HeartbeatError::Store(e));
                    break;
                }
            }
        }
        for p in batch.drain(..) {
            let id = agent_store_id(&p.tenant, &p.agent);
            let answer = match (&result, records.get(&id)) {
                (Ok(()), Some(record)) => Ok(record.clone()),
                (Err(e), _) => Err(e.clone()),
                (Ok(()), None) => Err(HeartbeatError::Busy),
            };
            let _ = p.done.send(answer);
        }
        if result.is_ok() {
            written.extend(records);
        }
        // Bounded: the latest record per agent, and agents are bounded by the store.
        if written.len() > 200_000 {
            written.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn agent_ids_are_checked() {
        for ok in ["a", "agent-1", "Node_7.eu", &"x".repeat(MAX_AGENT_ID_LEN)] {
            assert!(check_agent_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a:b",
            "a/b",
            "é",
            &"x".repeat(MAX_AGENT_ID_LEN + 1),
        ] {
            let err = check_agent_id(bad).expect_err(bad);
            assert!(
                err.to_string().starts_with("agent: 1 to 100 characters"),
                "{err}"
            );
        }
    }

    #[test]
    fn bodies_are_checked_naming_the_field() {
        let body: HeartbeatBody = serde_json::from_str(
            r#"{"capabilities": [{"name": "metrics", "healthy": true}, {"name": "metrics", "healthy": false}]}"#,
        )
        .expect("parses");
        assert_eq!(
            body.check().expect_err("twice").to_string(),
            "capabilities[1].name: each capability once, got \"metrics\" twice"
        );
        let long = HeartbeatBody {
            capabilities: vec![ReportedCapability {
                name: "logs".into(),
                healthy: false,
                message: "x".repeat(MAX_MESSAGE_LEN + 1),
            }],
        };
        assert_eq!(
            long.check().expect_err("long").to_string(),
            "capabilities[0].message: at most 1024 bytes, got 1025"
        );
        assert!(serde_json::from_str::<HeartbeatBody>(r#"{"capabilitis": []}"#).is_err());
    }

    #[test]
    fn a_capability_keeps_its_since_while_its_health_holds() {
        let report = |healthy| HeartbeatBody {
            capabilities: vec![ReportedCapability {
                name: "metrics".into(),
                healthy,
                message: String::new(),
            }],
        };
        let first = merge(None, "t", "a", t("2026-01-01T00:00:00Z"), report(false));
        let second = merge(
            Some(&first),
            "t",
            "a",
            t("2026-01-01T00:00:10Z"),
            report(false),
        );
        assert_eq!(
            second.capabilities["metrics"].since,
            t("2026-01-01T00:00:00Z")
        );
        assert_eq!(second.last_heartbeat, t("2026-01-01T00:00:10Z"));
        let third = merge(
            Some(&second),
            "t",
            "a",
            t("2026-01-01T00:00:20Z"),
            report(true),
        );
        assert_eq!(
            third.capabilities["metrics"].since,
            t("2026-01-01T00:00:20Z")
        );
        // A heartbeat that arrives late never moves the last heartbeat back.
        let late = merge(
            Some(&third),
            "t",
            "a",
            t("2026-01-01T00:00:15Z"),
            report(true),
        );
        assert_eq!(late.last_heartbeat, t("2026-01-01T00:00:20Z"));
    }
}
