//! The Cortex/Mimir backend: `POST /api/v1/alerts` for changed tenants, `DELETE` for
//! removed ones, then `GET <prefix>/api/v2/status` with the tenant's org id until the
//! new configuration runs.
//!
//! Cortex and Mimir only store a posted configuration; each instance loads it on its
//! next poll of the store (every 15 s by default), so "stored" and "running" differ for a
//! while. A status read is served by one replica, so [`CortexBackend::confirmations`]
//! can require the configuration to show on several reads in a row.

use alert_core::TenantId;
use async_trait::async_trait;

use crate::client::AlertmanagerClient;
use crate::config_live::covers;
use crate::error::{Error, Result};
use crate::syncer::{ConfigBackend, DesiredConfig};
use crate::tenant_config::TenantConfig;

/// Cortex's or Mimir's per-tenant configuration API.
#[derive(Debug, Clone)]
pub struct CortexBackend {
    client: AlertmanagerClient,
    confirmations: u32,
}

impl CortexBackend {
    /// A backend over `client`, whose addressing must be Cortex or Mimir (any tenant:
    /// each call uses the desired tenant's org id).
    pub fn new(client: AlertmanagerClient) -> CortexBackend {
        CortexBackend {
            client,
            confirmations: 1,
        }
    }

    /// How many status reads in a row must show the new configuration (default 1).
    pub fn confirmations(mut self, n: u32) -> CortexBackend {
        self.confirmations = n.max(1);
        self
    }

    fn tenant(&self, tenant: &TenantId) -> Result<AlertmanagerClient> {
        let c = self.client.for_tenant(tenant.as_str())?;
        c.addressing().config_api_path()?;
        Ok(c)
    }
}

#[async_trait]
impl ConfigBackend for CortexBackend {
    fn kind(&self) -> &'static str {
        "cortex"
    }

    async fn apply(&self, desired: &DesiredConfig) -> Result<()> {
        let body = TenantConfig {
            template_files: desired.templates.clone(),
            alertmanager_config: desired.config.clone(),
        };
        match self.tenant(&desired.tenant)?.set_tenant_config(&body).await {
            Err(Error::Rejected { message, .. }) => Err(Error::ConfigRejected {
                tenant: desired.tenant.to_string(),
                sync_id: desired.sync_id.clone(),
                message,
            }),
            other => other,
        }
    }

    async fn is_live(&self, desired: &DesiredConfig) -> Result<bool> {
        let client = self.tenant(&desired.tenant)?;
        for _ in 0..self.confirmations {
            match client.status().await {
                Ok(status) => {
                    if !covers(&desired.config, &status.config.original)? {
                        return Ok(false);
                    }
                }
                // "the Alertmanager is not configured": not loaded yet.
                Err(Error::NotFound { .. }) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    async fn is_stored(&self, desired: &DesiredConfig) -> Result<bool> {
        match self.tenant(&desired.tenant)?.tenant_config().await {
            Ok(stored) => Ok(stored.alertmanager_config == desired.config
                && stored.template_files == desired.templates),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn remove(&self, tenant: &TenantId) -> Result<()> {
        self.tenant(tenant)?.delete_tenant_config().await
    }

    async fn running(&self, tenant: &TenantId) -> Result<Option<String>> {
        match self.tenant(tenant)?.status().await {
            Ok(s) => Ok(Some(s.config.original)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
