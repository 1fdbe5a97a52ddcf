//! The Cortex/Mimir backend: `POST /api/v1/alerts` for changed tenants, `DELETE` for
//! removed ones, then `GET <prefix>/api/v2/status` with the tenant's org id until the
//! new configuration runs.
//!
//! Cortex and Mimir only store a posted configuration; each instance loads it on its
//! next poll of the store (every 15 s by default), so "stored" and "running" differ for a
//! while. A status read is served by one replica, so [`CortexBackend::confirmations`]
//! can require the configuration to show on several reads in a row.
//!
//! With [`CortexBackend::with_tenant_rules`], every configuration is checked against the
//! tenant's limits and Cortex's/Mimir's rules before it is sent, and one they would
//! refuse is never sent.

use alert_core::{TenantId, redact_unexpected_values, redact_urls};
use alert_router::error::Error as RouterError;
use alert_router::validate::{Options, TenantRules, validate_yaml};
use async_trait::async_trait;

use crate::client::AlertmanagerClient;
use crate::config_live::covers;
use crate::error::{Error, Result};
use crate::syncer::{ConfigBackend, DesiredConfig};
use crate::tenant_config::UserConfig;

/// Cortex's or Mimir's per-tenant configuration API.
#[derive(Debug, Clone)]
pub struct CortexBackend {
    client: AlertmanagerClient,
    confirmations: u32,
    tenant_rules: Option<TenantRules>,
}

impl CortexBackend {
    /// A backend over `client`, whose addressing must be Cortex or Mimir (any tenant:
    /// each call uses the desired tenant's org id).
    pub fn new(client: AlertmanagerClient) -> CortexBackend {
        CortexBackend {
            client,
            confirmations: 1,
            tenant_rules: None,
        }
    }

    /// How many status reads in a row must show the new configuration (default 1).
    pub fn confirmations(mut self, n: u32) -> CortexBackend {
        self.confirmations = n.max(1);
        self
    }

    /// Checks every configuration before it is sent, as Cortex or Mimir would on `POST
    /// /api/v1/alerts`: Alertmanager 0.25's rules, then `rules` (the tenant limits and
    /// the settings Cortex and Mimir do not allow; its `template_files` are replaced by
    /// each configuration's templates). A configuration that breaks a tenant rule is
    /// [`Error::RefusedByTenantRules`] and one Alertmanager would refuse is
    /// [`Error::ConfigRejected`] (`error validating Alertmanager config: …`, Cortex's
    /// words); neither is sent.
    ///
    /// ```
    /// use alert_cortex_adapter::{Addressing, AlertmanagerClient, ConfigBackend, CortexBackend, DesiredConfig, Error};
    /// use alert_router::validate::{TenantLimits, TenantRules};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Error> {
    /// // Nothing listens on port 1: a configuration that were sent would fail to connect.
    /// let client = AlertmanagerClient::builder("http://127.0.0.1:1")
    ///     .addressing(Addressing::cortex("anonymous")?).build()?;
    /// let rules = TenantRules {
    ///     limits: TenantLimits { max_templates_count: Some(1), ..TenantLimits::default() },
    ///     ..TenantRules::default()
    /// };
    /// let backend = CortexBackend::new(client).with_tenant_rules(rules);
    /// let desired = DesiredConfig::new("tenant-a", "route: {receiver: x}\nreceivers: [{name: x}]\n", "v1")?
    ///     .with_template("a.tmpl", "a")
    ///     .with_template("b.tmpl", "b");
    /// match backend.apply(&desired).await {
    ///     Err(Error::RefusedByTenantRules { tenant, field, message, .. }) => {
    ///         assert_eq!((tenant.as_str(), field.as_str()), ("tenant-a", "template_files"));
    ///         assert_eq!(message, "too many templates in the configuration: 2 (limit: 1)");
    ///     }
    ///     other => panic!("not refused: {other:?}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn with_tenant_rules(mut self, rules: TenantRules) -> CortexBackend {
        self.tenant_rules = Some(rules);
        self
    }

    /// The tenant rules configurations are checked against before they are sent.
    pub fn tenant_rules(&self) -> Option<&TenantRules> {
        self.tenant_rules.as_ref()
    }

    /// Refuses `desired` when it breaks the tenant rules (or Alertmanager's own).
    fn check(&self, desired: &DesiredConfig) -> Result<()> {
        let Some(rules) = &self.tenant_rules else {
            return Ok(());
        };
        let options = Options {
            tenant: Some(TenantRules {
                template_files: desired.templates.clone(),
                ..rules.clone()
            }),
            ..Options::default()
        };
        match validate_yaml(&desired.config, &options) {
            Ok(_) => Ok(()),
            Err(
                e @ (RouterError::OverTenantLimit { .. }
                | RouterError::ForbiddenByTenantRules { .. }),
            ) => Err(Error::RefusedByTenantRules {
                tenant: desired.tenant.to_string(),
                sync_id: desired.sync_id.clone(),
                field: e.path().unwrap_or("alertmanager_config").to_owned(),
                message: e.alertmanager_message().into_owned(),
            }),
            // A value a type error quotes may be a credential: left out, as URLs'.
            Err(e) => Err(Error::ConfigRejected {
                tenant: desired.tenant.to_string(),
                sync_id: desired.sync_id.clone(),
                message: format!(
                    "error validating Alertmanager config: {}",
                    redact_urls(&redact_unexpected_values(&e.to_string()))
                ),
            }),
        }
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
        self.check(desired)?;
        let body = UserConfig {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addressing::Addressing;
    use alert_router::validate::{TenantBackend, TenantLimits};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const CONFIG: &str = "route:\n  receiver: x\nreceivers:\n  - name: x\n";

    /// A Cortex stand-in that stores every configuration posted to it.
    async fn cortex() -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v1/alerts"))
            .respond_with(ResponseTemplate::new(201))
            .mount(&server)
            .await;
        server
    }

    fn backend(server: &MockServer, rules: TenantRules) -> CortexBackend {
        let client = AlertmanagerClient::builder(server.uri())
            .addressing(Addressing::cortex("anonymous").unwrap())
            .build()
            .unwrap();
        CortexBackend::new(client).with_tenant_rules(rules)
    }

    /// The org ids of the configurations posted so far.
    async fn posted(server: &MockServer) -> Vec<String> {
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.method.as_str() == "POST")
            .filter_map(|r| {
                r.headers
                    .get("X-Scope-OrgID")?
                    .to_str()
                    .ok()
                    .map(str::to_owned)
            })
            .collect()
    }

    fn refusal(e: Error) -> (String, String, String, String) {
        match e {
            Error::RefusedByTenantRules {
                tenant,
                sync_id,
                field,
                message,
            } => (tenant, sync_id, field, message),
            other => panic!("not refused by the tenant rules: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_configuration_over_a_limit_is_never_sent() {
        let server = cortex().await;
        let rules = TenantRules {
            limits: TenantLimits {
                max_config_size_bytes: Some(100),
                max_templates_count: Some(2),
                max_template_size_bytes: Some(10),
            },
            ..TenantRules::default()
        };
        let backend = backend(&server, rules);
        let ok = DesiredConfig::new("small", CONFIG, "s1")
            .unwrap()
            .with_template("a.tmpl", "a");
        backend.apply(&ok).await.unwrap();

        let big =
            DesiredConfig::new("big", format!("{CONFIG}# {}\n", "x".repeat(100)), "b1").unwrap();
        assert_eq!(
            refusal(backend.apply(&big).await.unwrap_err()),
            (
                "big".into(),
                "b1".into(),
                "alertmanager_config".into(),
                "Alertmanager configuration is too big, limit: 100 bytes".into()
            )
        );
        let many = ["a", "b", "c"]
            .iter()
            .fold(DesiredConfig::new("many", CONFIG, "m1").unwrap(), |d, n| {
                d.with_template(format!("{n}.tmpl"), *n)
            });
        let (tenant, _, field, message) = refusal(backend.apply(&many).await.unwrap_err());
        assert_eq!(
            (tenant.as_str(), field.as_str(), message.as_str()),
            (
                "many",
                "template_files",
                "too many templates in the configuration: 3 (limit: 2)"
            )
        );
        let long = DesiredConfig::new("long", CONFIG, "l1")
            .unwrap()
            .with_template("a.tmpl", "x".repeat(11));
        let e = backend.apply(&long).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "tenant \"long\": configuration l1 breaks the tenant rules and was not sent: \
             template_files.a.tmpl: template a.tmpl is too big: 11 bytes (limit: 10 bytes)"
        );
        assert_eq!(posted(&server).await, ["small"]);
    }

    #[tokio::test]
    async fn forbidden_settings_and_invalid_configurations_are_never_sent() {
        let server = cortex().await;
        let mimir = TenantRules {
            backend: TenantBackend::Mimir,
            ..TenantRules::default()
        };
        let backend = backend(&server, mimir);
        let file = DesiredConfig::new(
            "t",
            "route:\n  receiver: x\nreceivers:\n  - name: x\n    webhook_configs:\n      - url: http://h/\n        http_config: {bearer_token_file: /etc/token}\n",
            "f1",
        )
        .unwrap();
        let (_, _, field, message) = refusal(backend.apply(&file).await.unwrap_err());
        assert_eq!(
            field,
            "receivers[0].webhook_configs[0].http_config.bearer_token_file"
        );
        assert_eq!(
            message,
            "setting smtp_auth_password_file, password_file, bearer_token_file, auth_password_file or credentials_file is not allowed"
        );

        // What Alertmanager refuses is refused as Cortex refuses it, with no secret shown.
        let invalid = DesiredConfig::new(
            "t",
            "route:\n  receiver: nobody\nreceivers:\n  - name: x\n    webhook_configs: [{url: 'http://u:pw@h/'}]\n",
            "i1",
        )
        .unwrap();
        match backend.apply(&invalid).await.unwrap_err() {
            Error::ConfigRejected {
                tenant,
                sync_id,
                message,
            } => {
                assert_eq!((tenant.as_str(), sync_id.as_str()), ("t", "i1"));
                assert_eq!(
                    message,
                    "error validating Alertmanager config: route.receiver: undefined receiver \"nobody\" used in route"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        let typed = DesiredConfig::new(
            "t",
            "route:\n  receiver: x\nreceivers:\n  - name: x\n    pagerduty_configs: [{routing_key: [SECRET-KEY]}]\n",
            "i2",
        )
        .unwrap();
        let shown = backend.apply(&typed).await.unwrap_err().to_string();
        assert!(shown.contains("cannot unmarshal"), "{shown}");
        assert!(!shown.contains("SECRET-KEY"), "{shown}");
        assert!(posted(&server).await.is_empty());
    }

    #[tokio::test]
    async fn without_rules_everything_is_sent() {
        let server = cortex().await;
        let client = AlertmanagerClient::builder(server.uri())
            .addressing(Addressing::cortex("anonymous").unwrap())
            .build()
            .unwrap();
        let backend = CortexBackend::new(client);
        assert!(backend.tenant_rules().is_none());
        let big =
            DesiredConfig::new("big", format!("{CONFIG}# {}\n", "x".repeat(100)), "b1").unwrap();
        backend.apply(&big).await.unwrap();
        assert_eq!(posted(&server).await, ["big"]);
    }
}
