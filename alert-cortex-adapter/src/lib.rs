//! The async adapter to Alertmanager, Cortex and Mimir.
//!
//! - [`AlertmanagerClient`]: the Alertmanager API v2 client for one member (alerts,
//!   groups, silences, status, receivers, `/-/ready`, `/-/healthy`, `/-/reload`), with a
//!   timeout on every call, retries with backoff for idempotent calls, and errors that
//!   keep the status code and the server's message ([`Error`]);
//! - [`Addressing`] (opni's `AlertManagerApiOption`): vanilla Alertmanager, Cortex/Mimir
//!   (`<prefix>/api/v2` plus `X-Scope-OrgID`) or a per-tenant path template; Cortex's and
//!   Mimir's per-tenant configuration API ([`UserConfig`], `/api/v1/alerts`);
//! - [`Cluster`]: reads fanned out to HA members and merged by Cortex's rules
//!   ([`merge`]), partial results under a [`Quorum`], alerts posted to every member,
//!   silences created on one and optionally awaited on the others;
//! - [`Syncer`] over a [`ConfigBackend`] ([`FileReloadBackend`], [`CortexBackend`]), with
//!   one [`syncer::conformance`] suite: the control plane's reconcile task;
//!   [`desired_configs`] turns `alert-router`'s per-tenant configurations into its input.
//! - [`RuleBackend`] ([`PrometheusRules`]: rule files plus `/-/reload`; [`RulerApi`]:
//!   Cortex's and Mimir's ruler configuration API), with one [`ruler::conformance`]
//!   suite: where each tenant's Prometheus rules go.
//!
//! This crate translates; it does not decide. What a configuration contains is
//! `alert-router`'s business, what an alert or silence means is `alert-core`'s.
//!
//! ```no_run
//! use alert_cortex_adapter::{AlertQuery, AlertmanagerClient, Addressing, Cluster};
//! # async fn run() -> Result<(), alert_cortex_adapter::Error> {
//! let member = |url: &str| AlertmanagerClient::builder(url)
//!     .addressing(Addressing::mimir("tenant-a")?)
//!     .build();
//! let cluster = Cluster::new(vec![member("http://am-0:8080")?, member("http://am-1:8080")?])?;
//! let alerts = cluster.alerts(&AlertQuery::default().filter("severity=\"page\"")).await?;
//! println!("{} alerts; failed members: {:?}", alerts.value.len(), alerts.failed_members());
//! # Ok(()) }
//! ```

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "library code returns errors; tests may unwrap"
    )
)]

pub mod addressing;
pub mod alert;
pub mod backoff;
pub mod client;
pub mod cluster;
pub mod config_live;
pub mod error;
pub mod merge;
pub mod ruler;
pub mod status;
pub mod syncer;
pub mod tenant_config;

pub use addressing::{Addressing, DEFAULT_PREFIX, Flavor, ORG_ID_HEADER};
pub use alert::{
    AlertGroup, AlertQuery, AlertState, AlertStatusInfo, ApiFingerprint, GettableAlert,
    PostableAlert, ReceiverName,
};
pub use backoff::Backoff;
pub use client::{AlertmanagerClient, ClientBuilder, DEFAULT_TIMEOUT};
pub use cluster::{Cluster, Partial, Quorum};
pub use error::{Error, MemberFailure, Result};
pub use ruler::{Applied, PrometheusRules, RuleBackend, RulerApi};
pub use status::{
    AlertmanagerStatus, ClusterState, ClusterStatus, PeerStatus, RunningConfig, VersionInfo,
};
pub use syncer::{
    ConfigBackend, CortexBackend, DesiredConfig, DesiredConfigs, FileReloadBackend, FileTarget,
    SyncOptions, SyncReport, Syncer, TenantState, TenantStatus, UnboundConfig, desired_configs,
    wait_live,
};
pub use tenant_config::UserConfig;
