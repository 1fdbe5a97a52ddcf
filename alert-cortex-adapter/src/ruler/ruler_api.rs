//! Cortex's and Mimir's ruler configuration API, per tenant (`X-Scope-OrgID`):
//!
//! | call | Cortex | Mimir |
//! | --- | --- | --- |
//! | path | `/api/v1/rules` (legacy `/api/prom/rules`) | `/prometheus/config/v1/rules` |
//! | `GET <path>/{namespace}` | 200 YAML namespace → groups, 404 `no rule groups found` | 200, `{}` when none |
//! | `POST <path>/{namespace}`, one group | 202, 400 with the reason | 202, 400 with the reason |
//! | `DELETE <path>/{namespace}/{group}` | 202, 404 `group does not exist` | same |
//! | `DELETE <path>/{namespace}` | 202, 404 `group namespace does not exist` | same |
//!
//! A tenant's groups live in one namespace ([`DEFAULT_NAMESPACE`] unless configured).
//! Applying a file posts the groups that are new or changed and then deletes the groups
//! the file no longer holds; when the ruler refuses a group, the groups already posted in
//! that apply are put back as they were (or deleted, when new), so the tenant keeps its
//! last working rules. Stored rules are what the ruler loads on its next sync; the API
//! answers from the store, so [`RuleBackend::confirm`] compares the stored groups,
//! expressions included.

use alert_core::TenantId;
use alert_router::builder::TenantKey;
use alert_router::rules::{RuleFile, RuleGroup};
use async_trait::async_trait;
use reqwest::Method;

use crate::addressing::{Addressing, Flavor};
use crate::client::{AlertmanagerClient, Body, Call};
use crate::error::{Error, Result};
use crate::ruler::{
    Applied, GroupDoc, Redact, RuleBackend, check_unique_groups, plan, rejected, same_groups,
};

/// The namespace a tenant's groups go to unless [`RulerApi::with_namespace`] says
/// otherwise.
pub const DEFAULT_NAMESPACE: &str = "alert-gateway";

/// Cortex's ruler configuration API (`-http.prefix` gives the legacy `/api/prom/rules`).
pub const CORTEX_RULES_PATH: &str = "/api/v1/rules";

/// Mimir's ruler configuration API under the default `-http.prometheus-http-prefix`.
pub const MIMIR_RULES_PATH: &str = "/prometheus/config/v1/rules";

/// The ruler configuration API of Cortex or Mimir, for every tenant of one backend.
///
/// ```no_run
/// use alert_cortex_adapter::{Addressing, AlertmanagerClient, RuleBackend, RulerApi};
/// use alert_router::builder::TenantKey;
/// # async fn run(file: alert_router::rules::RuleFile) -> Result<(), alert_cortex_adapter::Error> {
/// let client = AlertmanagerClient::builder("http://mimir:8080")
///     .addressing(Addressing::mimir("anonymous")?)
///     .build()?;
/// let ruler = RulerApi::new(client)?; // POST /prometheus/config/v1/rules/alert-gateway
/// let tenant = TenantKey::Tenant("cluster-a".parse()?);
/// ruler.apply(&tenant, &file).await?;
/// assert!(ruler.confirm(&tenant, &file).await?);
/// # Ok(()) }
/// ```
pub struct RulerApi {
    client: AlertmanagerClient,
    flavor: Flavor,
    path: String,
    namespace: String,
    unbound: Option<TenantId>,
    redact: Redact,
}

impl std::fmt::Debug for RulerApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RulerApi")
            .field("base", &self.redact.text(self.client.base_url()))
            .field("flavor", &self.flavor)
            .field("path", &self.path)
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl RulerApi {
    /// The ruler API of the backend `client` talks to, whose addressing must be Cortex or
    /// Mimir (any tenant: each call uses the tenant's own org id); the path is the
    /// flavour's ([`CORTEX_RULES_PATH`], [`MIMIR_RULES_PATH`]), the namespace
    /// [`DEFAULT_NAMESPACE`].
    pub fn new(client: AlertmanagerClient) -> Result<RulerApi> {
        let mut redact = Redact::default();
        redact.add_url(client.base_url());
        let flavor = match client.addressing() {
            Addressing::MultiTenant { flavor, .. } => *flavor,
            other => {
                return Err(Error::InvalidRequest {
                    what: "backend",
                    value: other.to_string(),
                    reason: "only Cortex and Mimir have the ruler configuration API".into(),
                });
            }
        };
        let path = match flavor {
            Flavor::Cortex => CORTEX_RULES_PATH,
            Flavor::Mimir => MIMIR_RULES_PATH,
        };
        Ok(RulerApi {
            client,
            flavor,
            path: path.to_owned(),
            namespace: DEFAULT_NAMESPACE.to_owned(),
            unbound: None,
            redact,
        })
    }

    /// Another path for the API: Cortex's legacy `/api/prom/rules`, or Mimir's under
    /// another `-http.prometheus-http-prefix` (`/prom/config/v1/rules`).
    pub fn with_path(mut self, path: &str) -> Result<RulerApi> {
        let trimmed = path.trim_end_matches('/');
        if !trimmed.starts_with('/') || trimmed.contains(['?', '#', ' ']) {
            return Err(Error::InvalidRequest {
                what: "ruler API path",
                value: path.to_owned(),
                reason: "expected an absolute path such as /api/v1/rules".into(),
            });
        }
        self.path = trimmed.to_owned();
        Ok(self)
    }

    /// The namespace the tenants' groups go to (default [`DEFAULT_NAMESPACE`]).
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Result<RulerApi> {
        let namespace = namespace.into();
        if namespace.is_empty() {
            return Err(Error::InvalidRequest {
                what: "namespace",
                value: namespace,
                reason: "a namespace must be provided in the request".into(),
            });
        }
        self.namespace = namespace;
        Ok(self)
    }

    /// The org id under which rules bound to no tenant are stored. Without one, applying
    /// them is [`Error::UnknownTenant`].
    pub fn with_unbound_tenant(mut self, org_id: impl Into<String>) -> Result<RulerApi> {
        self.unbound = Some(TenantId::new(org_id)?);
        Ok(self)
    }

    /// The API's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The namespace the groups go to.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn client(&self, tenant: &TenantKey) -> Result<AlertmanagerClient> {
        let org = match (tenant, &self.unbound) {
            (TenantKey::Tenant(id), _) => id,
            (TenantKey::Unbound, Some(id)) => id,
            (TenantKey::Unbound, None) => {
                return Err(Error::UnknownTenant {
                    tenant: tenant.to_string(),
                    reason: format!(
                        "rules bound to no tenant have no {} org id; set one with RulerApi::with_unbound_tenant",
                        self.flavor
                    ),
                });
            }
        };
        self.client
            .for_tenant(org.as_str())
            .map_err(|e| self.redact.error(e))
    }

    fn namespace_path(&self) -> String {
        format!("{}/{}", self.path, path_segment(&self.namespace))
    }

    fn group_path(&self, group: &str) -> String {
        format!("{}/{}", self.namespace_path(), path_segment(group))
    }

    async fn send(&self, client: &AlertmanagerClient, call: Call) -> Result<String> {
        client
            .send(call)
            .await
            .map(|answer| answer.text())
            .map_err(|e| self.redact.error(e))
    }

    /// The tenant's stored groups in the namespace.
    async fn stored(&self, client: &AlertmanagerClient) -> Result<RuleFile> {
        let text = match self.send(client, Call::get(self.namespace_path())).await {
            Ok(text) => text,
            // Cortex: `no rule groups found`.
            Err(Error::NotFound { .. }) => return Ok(RuleFile::default()),
            Err(e) => return Err(e),
        };
        let mut namespaces: std::collections::BTreeMap<String, Vec<GroupDoc>> =
            yaml_serde::from_str(&text).map_err(|e| Error::Decode {
                method: "GET".into(),
                url: self
                    .redact
                    .text(&format!("{}{}", client.base_url(), self.namespace_path())),
                reason: e.to_string(),
            })?;
        Ok(RuleFile {
            groups: namespaces
                .remove(&self.namespace)
                .unwrap_or_default()
                .into_iter()
                .map(RuleGroup::from)
                .collect(),
        })
    }

    async fn post_group(&self, client: &AlertmanagerClient, group: &RuleGroup) -> Result<()> {
        let body = yaml_serde::to_string(group).map_err(|e| Error::Yaml {
            what: format!("rule group {:?}", group.name),
            reason: e.to_string(),
        })?;
        let call = Call {
            method: Method::POST,
            path: self.namespace_path(),
            query: Vec::new(),
            body: Some(Body::Yaml(body)),
            // Posting a group replaces it: a repeat stores the same group.
            idempotent: true,
        };
        self.send(client, call).await.map(drop)
    }

    async fn delete(&self, client: &AlertmanagerClient, path: String) -> Result<()> {
        let call = Call {
            method: Method::DELETE,
            path,
            query: Vec::new(),
            body: None,
            idempotent: true,
        };
        match self.send(client, call).await {
            // `group does not exist`, `group namespace does not exist`: already gone.
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Puts back the groups posted so far: the stored version, or nothing for a new one.
    /// Best effort: the refusal being reported matters more than a failed undo.
    async fn undo(&self, client: &AlertmanagerClient, posted: &[&RuleGroup], stored: &RuleFile) {
        for group in posted.iter().rev() {
            let result = match stored.groups.iter().find(|g| g.name == group.name) {
                Some(old) => self.post_group(client, old).await,
                None => self.delete(client, self.group_path(&group.name)).await,
            };
            if let Err(e) = result {
                tracing::warn!(group = %group.name, error = %e, "cannot put a rule group back");
            }
        }
    }
}

#[async_trait]
impl RuleBackend for RulerApi {
    fn kind(&self) -> &'static str {
        match self.flavor {
            Flavor::Cortex => "cortex",
            Flavor::Mimir => "mimir",
        }
    }

    async fn apply(&self, tenant: &TenantKey, file: &RuleFile) -> Result<Applied> {
        check_unique_groups(tenant, file)?;
        let client = self.client(tenant)?;
        let stored = self.stored(&client).await?;
        let applied = plan(&stored, file);
        let mut posted: Vec<&RuleGroup> = Vec::new();
        for group in &file.groups {
            if applied.unchanged.contains(&group.name) {
                continue;
            }
            if let Err(e) = self.post_group(&client, group).await {
                self.undo(&client, &posted, &stored).await;
                return Err(match e {
                    Error::Rejected { message, .. } => {
                        // Rule errors name their group already; limits do not.
                        let named = format!("group {:?}", group.name);
                        if message.contains(&named) {
                            rejected(tenant, file, message)
                        } else {
                            rejected(tenant, file, format!("{named}: {message}"))
                        }
                    }
                    other => other,
                });
            }
            posted.push(group);
        }
        for name in &applied.deleted {
            self.delete(&client, self.group_path(name)).await?;
        }
        Ok(applied)
    }

    async fn current(&self, tenant: &TenantKey) -> Result<RuleFile> {
        self.stored(&self.client(tenant)?).await
    }

    async fn confirm(&self, tenant: &TenantKey, file: &RuleFile) -> Result<bool> {
        let stored = self.stored(&self.client(tenant)?).await?;
        Ok(same_groups(&stored, file, true))
    }

    async fn remove(&self, tenant: &TenantKey) -> Result<()> {
        let client = self.client(tenant)?;
        self.delete(&client, self.namespace_path()).await
    }
}

/// A namespace or group name as one path segment: everything but RFC 3986's unreserved
/// characters percent-encoded (both products unescape path variables).
fn path_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_path_segment() {
        assert_eq!(path_segment("condition:a/b c"), "condition%3Aa%2Fb%20c");
        assert_eq!(path_segment("alert-gateway"), "alert-gateway");
        assert_eq!(path_segment("ü"), "%C3%BC");
    }

    #[test]
    fn only_cortex_and_mimir_have_a_ruler() {
        let vanilla = AlertmanagerClient::builder("http://am:9093")
            .build()
            .unwrap();
        assert!(RulerApi::new(vanilla).is_err());
        let mimir = AlertmanagerClient::builder("http://u:secret@mimir:8080")
            .addressing(Addressing::mimir("t").unwrap())
            .build()
            .unwrap();
        let ruler = RulerApi::new(mimir).unwrap();
        assert_eq!(ruler.path(), MIMIR_RULES_PATH);
        assert_eq!(
            ruler.group_path("slo:api"),
            "/prometheus/config/v1/rules/alert-gateway/slo%3Aapi"
        );
        assert!(!format!("{ruler:?}").contains("secret"));
        assert!(ruler.with_path("api/prom/rules").is_err());
    }
}
