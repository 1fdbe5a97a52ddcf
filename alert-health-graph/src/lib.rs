//! Sensors, Systems and Services (the Alpacalert design) over a DAG: health judged,
//! explained, rendered, and turned into alerts.
//!
//! ```
//! # #[cfg(not(feature = "runtime"))] fn main() {}
//! # #[cfg(feature = "runtime")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use alert_health_graph::{GraphFile, Engine, State, builtin};
//! use alert_health_graph::visualiser::{Visualiser, console::Console};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let file = GraphFile::parse(r#"
//! sensors:
//!   - {name: db-primary, constant: {state: failing, message: connection refused}}
//!   - {name: db-replica, constant: passing}
//! systems:
//!   - {name: db, op: at_least, n: 2, warn: 1, children: [db-primary, db-replica]}
//! services:
//!   - {name: reports, system: db}
//! "#, "graph.yml")?;
//! let built = file.assemble(&builtin::basic_registry())?;
//! let snapshot = Engine::new(built.graph, built.sensors).evaluate().await;
//! assert_eq!(snapshot.state_of("reports")?, State::Degraded);
//! let why = snapshot.explain(snapshot.graph().find("reports")?);
//! assert_eq!(why.paths()[0].to_string(), "reports -> db -> db-primary (failing): connection refused");
//! print!("{}", Console { only_failing: true, ..Console::default() }.render(&snapshot));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok(())
//! # }
//! ```
//!
//! # Map
//! The model is pure (no async runtime, no I/O) and compiles with
//! `--no-default-features`:
//! [`state`] (five states, `Passing < Pending < Degraded < Unknown < Failing`),
//! [`status`] (state, messages, observed-at), [`aggregation`] (every operator and edge
//! rule with its boundaries), [`graph`] (the checked DAG: cycle paths, [`MAX_DEPTH`]),
//! [`snapshot`] (one judged pass, incremental updates with a change log), [`explain`],
//! [`kind`], [`sensor`] (the trait), [`registry`] (instrumentors by kind, composition,
//! merge), [`assembly`], [`graph_file`] (YAML), [`history`] (state history, uptime,
//! first samples), [`history_store`] (the `StateHistoryStore` seam that keeps it across
//! restarts, in memory, and its conformance suite),
//! [`alerting`] (when to post what), [`alertmanager_target`] (which Alertmanager, HA
//! members, Cortex/Mimir tenant), [`visualiser`] (console, JSON, HTML, Statuspage).
//!
//! Feature `runtime` (tokio): [`evaluation`] (timeouts, bounded concurrency, bulkheads),
//! [`source_cache`] (TTL and coalescing), [`evaluator`] (interval passes, alerts),
//! leader election ([`LeaderElection`], [`LocalLease`], from `alert-coordination`).
//! Feature `http` (reqwest, rustls, `alert-cortex-adapter`): the HTTP,
//! Prometheus and remote-graph sensors in [`builtin`], and the Alertmanager-alerts sensor
//! and the alert sink ([`alertmanager_sink`]) over `alert-cortex-adapter`'s client (HA
//! members, Cortex/Mimir tenants). Feature `sqlite` (bundled SQLite): the state history
//! in one file ([`history_store::sqlite`]). All three are on by default.
//!
//! [`kubernetes`]: the Kubernetes instrumentors (`kubernetes.io:Deployment`, …): pure
//! rules and targets over one pass's lists, the `KubeSource` seam and an in-memory
//! source; shared lists and the instrumentors with `runtime`; the source over an API
//! server (the `kube` crate) with feature `kubernetes` (off by default).
//!
//! [`alerting_rules`]: Prometheus's and Grafana's alert rules (`prometheus.io:Rule`,
//! `grafana.com:Folder`, …): the rules API's answer and its judging are pure; one shared
//! fetch per endpoint per pass and the instrumentors with `http`.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "library code returns errors; tests may unwrap"
    )
)]

pub mod aggregation;
pub mod alerting;
pub mod alerting_rules;
pub mod alertmanager_target;
pub mod assembly;
pub mod builtin;
pub mod clock;
pub mod constant;
pub mod error;
pub mod explain;
pub mod graph;
pub mod graph_file;
pub mod history;
pub mod history_store;
pub mod kind;
pub mod kubernetes;
pub mod registry;
pub mod sensor;
pub mod snapshot;
pub mod state;
pub mod status;
pub mod visualiser;

#[cfg(feature = "http")]
pub mod alertmanager_sink;
#[cfg(feature = "runtime")]
pub mod evaluation;
#[cfg(feature = "runtime")]
pub mod evaluator;
#[cfg(feature = "runtime")]
pub mod source_cache;

pub use aggregation::{
    Aggregation, Judgement, MAX_WEIGHT, NO_CHILDREN, Propagation, Tally, Threshold, aggregate,
    decides,
};
pub use alerting::{ALERT_NAME, AlertPolicy, AlertTracker, NodeAlert};
pub use alertmanager_target::{AlertmanagerBackend, AlertmanagerTarget, Quorum};
pub use assembly::{Assembly, HealthGraph};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use explain::{ExplainNode, ExplainPath, Explanation, MAX_EXPLAIN_NODES};
pub use graph::{Edge, EdgeSpec, Graph, GraphBuilder, MAX_DEPTH, Node, NodeId, NodeSpec, Role};
pub use graph_file::GraphFile;
pub use history::{DayUptime, NodeTransition, StateHistory, Transition, Uptime, UptimeWeights};
pub use history_store::{MemoryHistoryStore, StateHistoryStore};
pub use kind::{BUILTIN_NAMESPACE, Kind};
pub use registry::{Component, Instrumentor, Registry, Request};
pub use sensor::{Sensor, SensorSet, WithTimeout};
pub use snapshot::{Change, Snapshot};
pub use state::State;
pub use status::{Level, Reading, Status, StatusMessage};

#[cfg(feature = "runtime")]
pub use alert_coordination::{LeaderElection, LocalLease};
#[cfg(feature = "http")]
pub use alertmanager_sink::AlertmanagerSink;
#[cfg(feature = "runtime")]
pub use evaluation::{DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Engine, EvaluationOptions};
#[cfg(feature = "runtime")]
pub use evaluator::{AlertSink, GraphEvaluator, PassReport, Published};
#[cfg(feature = "sqlite")]
pub use history_store::sqlite::SqliteHistoryStore;
#[cfg(feature = "runtime")]
pub use source_cache::{Cached, SharedCache, SourceCache};
