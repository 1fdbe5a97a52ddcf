//! The async adapter to Alertmanager, Cortex and Mimir.
//!
//! - [`AlertmanagerClient`]: the Alertmanager API v2 client for one member, with
//!   timeouts, retries of idempotent calls and errors that keep the server's message;
//! - [`Addressing`]: vanilla Alertmanager, Cortex/Mimir (`<prefix>/api/v2` plus
//!   `X-Scope-OrgID`) or a per-tenant path template, and Cortex's/Mimir's per-tenant
//!   configuration API (`/api/v1/alerts`);
//!
//! This crate translates; it does not decide. What a configuration contains is
//! `alert-router`'s business, what an alert or silence means is `alert-core`'s.

pub mod addressing;
pub mod alert;
pub mod backoff;
pub mod client;
pub mod error;
pub mod status;
pub mod tenant_config;

pub use addressing::{Addressing, DEFAULT_PREFIX, Flavor, ORG_ID_HEADER};
pub use alert::{
    AlertGroup, AlertQuery, AlertState, AlertStatusInfo, ApiFingerprint, GettableAlert,
    PostableAlert, Receiver,
};
pub use backoff::Backoff;
pub use client::{AlertmanagerClient, ClientBuilder, DEFAULT_TIMEOUT};
pub use error::{Error, MemberFailure, Result};
pub use status::{
    AlertmanagerStatus, ClusterState, ClusterStatus, PeerStatus, RunningConfig, VersionInfo,
};
pub use tenant_config::TenantConfig;
