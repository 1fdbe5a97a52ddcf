//! The alerting gateway: the deployments of Opni's alerting design in one crate and one
//! binary (`alert-gateway`).
//!
//! This version has the **data plane**, the **control plane**, the **evaluator**, the
//! **emitter** and the
//! coordination every deployment needs:
//! - [`store`]: the revisioned [`store::ConfigStore`] of endpoints, conditions and SLOs
//!   (compare-and-set writes, atomic transactions, watches from a revision, leases), with
//!   its SQLite, etcd (feature `etcd`) and remote (a data plane over HTTP) backends and
//!   one conformance suite;
//! - [`election`]: leader election with fencing tokens over any store;
//! - [`data_plane`]: typed, validated objects and atomic spec imports (pure planning,
//!   one transaction);
//! - [`api`]: the data plane's HTTP API; [`server`]: serving it with timeouts and limits;
//! - [`logging`]: logfmt or JSON logs;
//! - [`control_plane`]: while it leads, keeps every tenant's rules and Alertmanager
//!   configuration live from the store (incremental, confirmed live, bad documents
//!   quarantined, fenced reports per tenant); [`functional`]: silences, condition status
//!   and endpoint test notifications through Alertmanager and Prometheus;
//! - [`evaluator`]: agents' heartbeats and the conditions the gateway evaluates itself
//!   (agent disconnect, component health), as alerts in the tenant's Alertmanager, with
//!   timers kept in the store across failovers;
//! - [`emitter`]: Alertmanager's webhook into a message cache and [`kube_events`]
//!   (notifications as Kubernetes Events);
//! - [`backend`]: the Alerting Cluster the gateway runs (the [`backend::Backend`] trait;
//!   [`backend::LocalCluster`] supervises child Alertmanager processes, scales workers
//!   and is the control plane's configuration target).
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use alert_gateway::data_plane::{DataPlane, Precondition};
//! use alert_gateway::store::sqlite::SqliteStore;
//! use alert_core::{AlertCondition, AlertEndpoint};
//! use serde_json::json;
//!
//! let dir = tempfile::tempdir()?;
//! let plane = DataPlane::new(Arc::new(SqliteStore::open(&dir.path().join("g.db"))?));
//! plane.put::<AlertEndpoint>("pager", json!({"pagerduty": {"routing_key": "k"}}), Precondition::IfNoneMatch).await?;
//! let (cpu, created) = plane
//!     .put::<AlertCondition>("cpu-high", json!({
//!         "tenant": "cluster-a",
//!         "cpu": {"threshold_percent": 90, "for": "5m"},
//!         "endpoints": ["pager"],
//!     }), Precondition::None)
//!     .await?;
//! assert!(created);
//! // A stale revision is refused.
//! let stale = plane.put::<AlertCondition>("cpu-high", json!({"tenant": "cluster-a", "cpu": {"threshold_percent": 80}}),
//!     Precondition::IfMatch(cpu.revision - 1)).await;
//! assert_eq!(stale.unwrap_err().status(), 412);
//! # Ok(())
//! # }
//! ```

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "library code returns errors; tests may unwrap"
    )
)]

pub mod api;
pub mod backend;
pub mod control_plane;
pub mod data_plane;
pub mod election;
pub mod emitter;
pub mod error;
pub mod evaluator;
pub mod functional;
pub mod kube_events;
pub mod logging;
pub mod metrics;
pub mod server;
pub mod store;

pub use error::{Error, Result};
