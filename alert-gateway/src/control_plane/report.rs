//! What the control plane says about each tenant, kept in the store (collection
//! `tenants`) so that every replica, leader or not, answers `GET /api/v1/tenants` with
//! the leader's view; and the routes that read it.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::api::{error_response, serialized as json};
use crate::error::Error;
use crate::store::{Key, Kind, SharedStore};

/// The store id of the report on the conditions bound to no tenant (`@` is not allowed
/// in tenant ids, so it names no tenant).
pub const UNBOUND_REPORT_ID: &str = "@no-tenant";

/// Where a tenant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantState {
    /// A change is being applied.
    Applying,
    /// The desired rules and configuration are live.
    InSync,
    /// The last attempt failed; the tenant keeps its last working rules and
    /// configuration and is retried with backoff.
    Failed,
}

/// One Alertmanager member's view of the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberReport {
    /// The member (its API URL, credentials removed).
    pub member: String,
    /// The sync id confirmed running on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_sync_id: Option<String>,
}

/// The tenant's Alertmanager configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertmanagerReport {
    /// `alertmanager` (file + reload), `cortex`.
    pub backend: String,
    /// `shared`: one configuration serves every tenant (a vanilla Alertmanager; the
    /// tenant is one subtree of it); `tenant`: the tenant has its own.
    pub layout: String,
    /// The sync id of the configuration the backend should run (the shared one, or the
    /// tenant's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_config_sync_id: Option<String>,
    /// Per member, the sync id confirmed running.
    pub members: Vec<MemberReport>,
}

/// The tenant's rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesReport {
    /// `prometheus`, `cortex`, `mimir`.
    pub backend: String,
    /// The rule groups the tenant should have.
    pub groups: Vec<String>,
    /// Whether the backend was seen to load exactly those groups.
    pub confirmed: bool,
}

/// The control plane's report on one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantReport {
    /// The tenant; `None` for the conditions bound to no tenant.
    pub tenant: Option<String>,
    /// Where it stands.
    pub state: TenantState,
    /// The sync id of the tenant's own configuration (the SHA-256 of its YAML), the
    /// identity of what it should run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_sync_id: Option<String>,
    /// The sync id last confirmed live for the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_sync_id: Option<String>,
    /// Its Alertmanager configuration, when an Alertmanager backend is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alertmanager: Option<AlertmanagerReport>,
    /// Its rules, when a rule backend is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RulesReport>,
    /// Why the last attempt failed (cleared by a success). Never holds a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Failed attempts in a row.
    pub failures: u32,
    /// When the tenant was last confirmed live (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied: Option<String>,
    /// The store revision the report reflects.
    pub revision: u64,
    /// The leader that wrote it, and its term.
    pub leader: String,
    /// The leader's term (fencing token).
    pub term: u64,
}

impl TenantReport {
    /// The store id of the report on `tenant` (`None`: no tenant).
    pub fn store_id(tenant: Option<&str>) -> &str {
        tenant.unwrap_or(UNBOUND_REPORT_ID)
    }
}

/// `GET /api/v1/tenants` and `GET /api/v1/tenants/{tenant}` over the reports in `store`.
pub fn routes(store: SharedStore) -> Router {
    Router::new()
        .route("/api/v1/tenants", get(list))
        .route("/api/v1/tenants/{tenant}", get(one))
        .with_state(Arc::new(store))
}

async fn list(State(store): State<Arc<SharedStore>>) -> Response {
    let listing = match store.list(Kind::Tenant, None).await {
        Ok(l) => l,
        Err(e) => return Error::from(e).into_response(),
    };
    let mut tenants = Vec::with_capacity(listing.records.len());
    for record in &listing.records {
        match serde_json::from_str::<TenantReport>(&record.value) {
            Ok(r) => tenants.push(r),
            Err(e) => {
                tracing::warn!(key = %record.key, error = %e, "unreadable tenant report skipped");
            }
        }
    }
    json(
        StatusCode::OK,
        &serde_json::json!({"revision": listing.revision, "tenants": tenants}),
    )
}

async fn one(State(store): State<Arc<SharedStore>>, Path(tenant): Path<String>) -> Response {
    let key = match Key::new(Kind::Tenant, &tenant) {
        Ok(k) => k,
        Err(e) => return Error::from(e).into_response(),
    };
    match store.get(&key).await {
        Ok(Some(record)) => match serde_json::from_str::<TenantReport>(&record.value) {
            Ok(r) => json(StatusCode::OK, &r),
            Err(e) => error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                &format!("{key}: unreadable report: {e}"),
            ),
        },
        Ok(None) => error_response(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("tenant {tenant:?} has no report: the control plane manages no such tenant"),
        ),
        Err(e) => Error::from(e).into_response(),
    }
}
