//! The **alerting backend**: the Alertmanager cluster the gateway runs and configures.
//!
//! One trait, [`Backend`], describes an *Alerting Cluster* as Opni's gateway drives it:
//! controller members (they advertise; the others join them) and worker members (the
//! part that scales), each an Alertmanager with its own API, configuration file and
//! storage, gossiping silences and the notification log. The trait answers what the
//! rest of the gateway needs: every member's state ([`Backend::status`]), scaling the
//! workers ([`Backend::scale_workers`]), the members' API URLs for clients
//! ([`Backend::alertmanager_urls`]), the gossip timing the router's `group_wait` check
//! needs ([`Backend::cluster_timing`]) and the members as the control plane's
//! configuration target ([`Backend::config_backend`], one shared configuration filed
//! under [`crate::control_plane::SHARED_CONFIG`]).
//!
//! Drivers: [`local::LocalCluster`] runs the members as child processes of the gateway.
//! A Kubernetes driver (a StatefulSet per role) can implement the same trait.
//!
//! HTTP ([`routes`]):
//!
//! | route | what |
//! |---|---|
//! | `GET /api/v1/backend` | [`BackendStatus`]: the driver, every member (role, URL, readiness, config hash, peers seen, pid, restarts) and the memberlist settings |
//! | `PUT /api/v1/backend/workers` | body `{"workers": N}`, `N` from 0 to [`MAX_WORKERS`]: starts or stops workers, answers the new [`BackendStatus`] |
//!
//! Errors are the data plane's JSON shape ([`crate::api`]): 400 naming the field for a
//! bad body or an out-of-range count, 415 for a body that is not JSON, 502 when a member
//! cannot be started or asked. [`render_metrics`] gives the backend's Prometheus series
//! (`alert_gateway_backend_members`, `alert_gateway_backend_member_restarts_total`).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use alert_gateway::backend::{self, Backend, local::{LocalCluster, LocalOptions}};
//!
//! let cluster = LocalCluster::start(LocalOptions {
//!     data_dir: "/var/lib/alert-gateway/cluster".into(),
//!     workers: 2,
//!     ..LocalOptions::default()
//! })
//! .await?;
//! cluster.wait_ready(std::time::Duration::from_secs(30)).await?;
//! let status = cluster.status().await?;
//! assert_eq!(status.members.len(), 3);
//!
//! // The control plane's target, and the HTTP routes.
//! let configs = cluster.config_backend();
//! let app = backend::routes(Arc::new(cluster.clone()));
//! # drop((configs, app));
//! cluster.shutdown().await;
//! # Ok(()) }
//! ```

pub mod local;

use std::fmt::Write as _;
use std::sync::Arc;

use alert_cortex_adapter::ConfigBackend;
use alert_router::validate::ClusterTiming;
use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::{Deserialize, Serialize};

use crate::api::{json_body, serialized};
use crate::error::{Error, Result};

pub use local::{LocalCluster, LocalOptions};

/// The most workers [`Backend::scale_workers`] accepts.
pub const MAX_WORKERS: usize = 32;

/// What a member does in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Advertises a stable gossip address; the other members join it. Not scaled.
    Controller,
    /// Joins the controllers; scaled by [`Backend::scale_workers`].
    Worker,
}

impl Role {
    /// `controller` or `worker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Controller => "controller",
            Role::Worker => "worker",
        }
    }
}

/// Alertmanager's gossip (memberlist) settings, as the members were started with them.
///
/// The defaults are Alertmanager 0.25's: `--cluster.gossip-interval=200ms`,
/// `--cluster.pushpull-interval=1m`, `--cluster.peer-timeout=15s`,
/// `--cluster.settle-timeout=1m`. Durations read and write as Prometheus durations
/// (`200ms`, `1m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemberlistSettings {
    /// `--cluster.gossip-interval`: how often gossip messages are sent.
    pub gossip_interval: alert_core::Duration,
    /// `--cluster.pushpull-interval`: how often full state syncs happen.
    pub pushpull_interval: alert_core::Duration,
    /// `--cluster.peer-timeout`: how long each peer position waits before notifying.
    pub peer_timeout: alert_core::Duration,
    /// `--cluster.settle-timeout`: the longest a member waits for gossip to settle before
    /// it evaluates notifications.
    pub settle_timeout: alert_core::Duration,
}

/// Milliseconds as a duration; the values here are small constants that always fit.
const fn ms(n: u64) -> alert_core::Duration {
    match alert_core::Duration::from_millis(n) {
        Some(d) => d,
        None => alert_core::Duration::ZERO,
    }
}

impl Default for MemberlistSettings {
    fn default() -> Self {
        MemberlistSettings {
            gossip_interval: ms(200),
            pushpull_interval: ms(60_000),
            peer_timeout: ms(15_000),
            settle_timeout: ms(60_000),
        }
    }
}

impl MemberlistSettings {
    /// The Alertmanager flags that set these values. Durations are written in
    /// milliseconds (`--cluster.peer-timeout=15000ms`), which Go's duration parser reads
    /// whatever their size.
    pub fn flags(&self) -> Vec<String> {
        [
            ("--cluster.gossip-interval", self.gossip_interval),
            ("--cluster.pushpull-interval", self.pushpull_interval),
            ("--cluster.peer-timeout", self.peer_timeout),
            ("--cluster.settle-timeout", self.settle_timeout),
        ]
        .into_iter()
        .map(|(flag, d)| format!("{flag}={}ms", d.as_millis()))
        .collect()
    }
}

/// One member as the driver and the member itself see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberStatus {
    /// The member's name (`controller-0`, `worker-1`).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its API's base URL.
    pub url: String,
    /// Whether `GET /-/ready` answered 200 just now and the member runs its file (the
    /// driver reconciles a member that starts or comes back before it counts as ready).
    pub ready: bool,
    /// The lowercase hex SHA-256 of the configuration it runs, when it answered: of
    /// `config.original` in `GET /api/v2/status`, Alertmanager's rendering of the file it
    /// loaded (defaults filled in), so two members show the same hash exactly when they
    /// run the same configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_hash: Option<String>,
    /// The gossip peers it reports (itself included), by member name; a peer at an
    /// address no member has is shown by its address.
    pub peers: Vec<String>,
    /// The process id, while the driver has a process running for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// How many times the driver restarted it after it exited or was killed.
    pub restarts: u64,
    /// Why it last exited or could not be started, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_exit: Option<String>,
}

/// The whole cluster: [`Backend::status`], and the body of `GET /api/v1/backend`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendStatus {
    /// The driver (`local`).
    pub kind: String,
    /// The members: controllers, then workers, each by number.
    pub members: Vec<MemberStatus>,
    /// The gossip settings the members run with.
    pub memberlist: MemberlistSettings,
}

impl BackendStatus {
    /// The members with this role.
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &MemberStatus> {
        self.members.iter().filter(move |m| m.role == role)
    }

    /// The member named `name`.
    pub fn member(&self, name: &str) -> Option<&MemberStatus> {
        self.members.iter().find(|m| m.name == name)
    }
}

/// An Alerting Cluster the gateway drives: Alertmanager members it starts, watches,
/// scales and configures.
#[async_trait]
pub trait Backend: Send + Sync {
    /// A short name of the driver (`local`), shown as [`BackendStatus::kind`].
    fn driver(&self) -> &'static str;

    /// Every member, asked now (readiness, running configuration, peers).
    async fn status(&self) -> Result<BackendStatus>;

    /// Starts or stops workers until there are `workers` (0 to [`MAX_WORKERS`]; more is
    /// [`Error::BadRequest`]). Stopping takes the highest-numbered first. Returns once
    /// new workers are started (not yet ready) and removed ones have stopped.
    async fn scale_workers(&self, workers: usize) -> Result<()>;

    /// The API base URLs of the current members, for clients (the functional APIs, the
    /// control plane's reports).
    fn alertmanager_urls(&self) -> Vec<String>;

    /// The timing alert-router's `group_wait` check needs: the members' real
    /// `--cluster.peer-timeout` and how many members there are now.
    fn cluster_timing(&self) -> ClusterTiming;

    /// The members as the control plane's configuration target, for the one shared
    /// configuration filed under [`crate::control_plane::SHARED_CONFIG`].
    fn config_backend(&self) -> Arc<dyn ConfigBackend>;
}

/// `workers` if it is a count [`Backend::scale_workers`] accepts, else
/// [`Error::BadRequest`] naming the field.
pub fn check_workers(workers: u64) -> Result<usize> {
    usize::try_from(workers)
        .ok()
        .filter(|n| *n <= MAX_WORKERS)
        .ok_or_else(|| {
            Error::BadRequest(format!(
                "workers: {workers} is out of range; expected 0 to {MAX_WORKERS}"
            ))
        })
}

/// The routes and what each does, for `--help`.
pub const ROUTES: &str = "\
\x20 GET    /api/v1/backend                          the members: role, URL, readiness, config hash, peers, pid, restarts
  PUT    /api/v1/backend/workers                  scale the workers {\"workers\": N} (0 to 32)
";

/// `GET /api/v1/backend` and `PUT /api/v1/backend/workers` over `backend`.
pub fn routes(backend: Arc<dyn Backend>) -> Router {
    Router::new()
        .route("/api/v1/backend", get(show))
        .route("/api/v1/backend/workers", put(scale))
        .with_state(backend)
}

async fn show(State(backend): State<Arc<dyn Backend>>) -> Response {
    match backend.status().await {
        Ok(status) => serialized(StatusCode::OK, &status),
        Err(e) => e.into_response(),
    }
}

async fn scale(
    State(backend): State<Arc<dyn Backend>>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let value = match json_body(&headers, body, false) {
        Ok(v) => v,
        Err(response) => return *response,
    };
    let workers = match workers_field(&value) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = backend.scale_workers(workers).await {
        return e.into_response();
    }
    show(State(backend)).await
}

/// The `workers` of a `{"workers": N}` body.
fn workers_field(value: &serde_json::Value) -> Result<usize> {
    let bad = |m: String| Error::BadRequest(m);
    let object = value.as_object().ok_or_else(|| {
        bad(format!(
            "body: expected an object {{\"workers\": N}}, got {value}"
        ))
    })?;
    if let Some(other) = object.keys().find(|k| *k != "workers") {
        return Err(bad(format!(
            "{other}: unknown field; the body has only \"workers\""
        )));
    }
    let field = object.get("workers").ok_or_else(|| {
        bad(format!(
            "workers: missing; expected an integer from 0 to {MAX_WORKERS}"
        ))
    })?;
    let n = field.as_u64().ok_or_else(|| {
        bad(format!(
            "workers: expected an integer from 0 to {MAX_WORKERS}, got {field}"
        ))
    })?;
    check_workers(n)
}

/// The backend's series in Prometheus' text format, to append to `/metrics`:
/// `alert_gateway_backend_members{role, ready}` (a gauge; every role and readiness is
/// shown, 0 when empty) and `alert_gateway_backend_member_restarts_total{member}`.
///
/// ```
/// use alert_gateway::backend::{BackendStatus, MemberStatus, MemberlistSettings, Role, render_metrics};
/// let status = BackendStatus {
///     kind: "local".into(),
///     memberlist: MemberlistSettings::default(),
///     members: vec![MemberStatus {
///         name: "worker-0".into(), role: Role::Worker, url: "http://127.0.0.1:9093".into(),
///         ready: true, config_hash: None, peers: vec![], pid: Some(7), restarts: 2, last_exit: None,
///     }],
/// };
/// let text = render_metrics(&status);
/// assert!(text.contains("alert_gateway_backend_members{role=\"worker\",ready=\"true\"} 1\n"));
/// assert!(text.contains("alert_gateway_backend_members{role=\"controller\",ready=\"false\"} 0\n"));
/// assert!(text.contains("alert_gateway_backend_member_restarts_total{member=\"worker-0\"} 2\n"));
/// ```
pub fn render_metrics(status: &BackendStatus) -> String {
    let mut out = String::new();
    out.push_str(
        "# HELP alert_gateway_backend_members Alerting cluster members by role and readiness.\n",
    );
    out.push_str("# TYPE alert_gateway_backend_members gauge\n");
    for role in [Role::Controller, Role::Worker] {
        for ready in [false, true] {
            let n = status.with_role(role).filter(|m| m.ready == ready).count();
            let _ = writeln!(
                out,
                "alert_gateway_backend_members{{role=\"{}\",ready=\"{ready}\"}} {n}",
                role.as_str()
            );
        }
    }
    out.push_str("# HELP alert_gateway_backend_member_restarts_total Restarts of each alerting cluster member after it exited or was killed.\n");
    out.push_str("# TYPE alert_gateway_backend_member_restarts_total counter\n");
    for m in &status.members {
        let _ = writeln!(
            out,
            "alert_gateway_backend_member_restarts_total{{member=\"{}\"}} {}",
            m.name.replace('\\', "\\\\").replace('"', "\\\""),
            m.restarts
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_workers_field_is_checked() {
        assert_eq!(workers_field(&json!({"workers": 3})).unwrap(), 3);
        assert_eq!(workers_field(&json!({"workers": 0})).unwrap(), 0);
        for (body, needle) in [
            (json!({"workers": 1000}), "workers: 1000 is out of range"),
            (json!({"workers": -1}), "workers: expected an integer"),
            (json!({"workers": "3"}), "workers: expected an integer"),
            (json!({"workers": 1.5}), "workers: expected an integer"),
            (json!({}), "workers: missing"),
            (
                json!({"workers": 1, "controllers": 2}),
                "controllers: unknown field",
            ),
            (json!([1]), "body: expected an object"),
        ] {
            let e = workers_field(&body).unwrap_err();
            assert_eq!(e.status(), 400, "{body}");
            assert!(e.to_string().contains(needle), "{body}: {e}");
        }
    }

    #[test]
    fn memberlist_defaults_are_alertmanagers() {
        let flags = MemberlistSettings::default().flags();
        assert_eq!(
            flags,
            [
                "--cluster.gossip-interval=200ms",
                "--cluster.pushpull-interval=60000ms",
                "--cluster.peer-timeout=15000ms",
                "--cluster.settle-timeout=60000ms",
            ]
        );
        let read: MemberlistSettings =
            serde_json::from_value(json!({"gossip_interval": "50ms", "peer_timeout": "2s"}))
                .unwrap();
        assert_eq!(read.gossip_interval.as_millis(), 50);
        assert_eq!(read.peer_timeout.as_millis(), 2000);
        assert_eq!(read.pushpull_interval.as_millis(), 60_000);
    }
}
