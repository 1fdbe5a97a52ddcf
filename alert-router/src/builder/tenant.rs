//! Tenants and what the builder hands out for each: the rendered configuration, its sync
//! id, and change notices.

use std::fmt;

use alert_core::TenantId;
use sha2::{Digest, Sha256};

/// Which configuration a condition belongs to: a tenant's, or the one for conditions
/// bound to no tenant. Ordered with [`TenantKey::Unbound`] first, then tenants by id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TenantKey {
    /// Conditions bound to no tenant.
    Unbound,
    /// Conditions bound to this tenant.
    Tenant(TenantId),
}

impl TenantKey {
    /// The key of a condition's `tenant`.
    pub fn of(tenant: Option<&TenantId>) -> TenantKey {
        match tenant {
            Some(id) => TenantKey::Tenant(id.clone()),
            None => TenantKey::Unbound,
        }
    }

    /// The tenant id, `None` for [`TenantKey::Unbound`].
    pub fn tenant(&self) -> Option<&TenantId> {
        match self {
            TenantKey::Unbound => None,
            TenantKey::Tenant(id) => Some(id),
        }
    }
}

impl fmt::Display for TenantKey {
    /// The tenant id, or `(no tenant)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TenantKey::Unbound => f.write_str("(no tenant)"),
            TenantKey::Tenant(id) => f.write_str(id.as_str()),
        }
    }
}

/// One tenant's rendered configuration.
///
/// `Debug` shows the size of the YAML, not its text: it holds the endpoints' secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct TenantConfig {
    /// Whose configuration it is.
    pub tenant: TenantKey,
    /// The `alertmanager.yml` text.
    pub yaml: String,
    /// [`sync_id`] of `yaml`.
    pub sync_id: String,
    /// How many routes the tree has below the root (every route written, the base
    /// configuration's included).
    pub routes: usize,
    /// How many receivers the configuration has (the base configuration's included).
    pub receivers: usize,
    /// How many of the tenant's conditions are routed (enabled, with endpoints).
    pub conditions: usize,
}

impl fmt::Debug for TenantConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantConfig")
            .field("tenant", &self.tenant)
            .field("yaml", &format_args!("<{} bytes>", self.yaml.len()))
            .field("sync_id", &self.sync_id)
            .field("routes", &self.routes)
            .field("receivers", &self.receivers)
            .field("conditions", &self.conditions)
            .finish()
    }
}

/// A tenant whose configuration changed after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantChange {
    /// Whose configuration changed.
    pub tenant: TenantKey,
    /// The new sync id; `None` when the tenant is gone (no condition is bound to it any
    /// more) and its configuration should be deleted.
    pub sync_id: Option<String>,
}

/// The sync id of a configuration: the lowercase hex SHA-256 of its YAML bytes.
///
/// ```
/// assert_eq!(
///     alert_router::builder::sync_id(""),
///     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/// );
/// ```
pub fn sync_id(yaml: &str) -> String {
    hex::encode(Sha256::digest(yaml.as_bytes()))
}
