//! How a request's path and headers are built for each kind of backend.
//!
//! Opni's design called this `AlertManagerApiOption`: one value that says whether the
//! client talks to a vanilla Alertmanager, to Cortex or Mimir (a path prefix plus the
//! `X-Scope-OrgID` tenant header), or to a gateway that proxies each tenant under its own
//! path (`/{tenant}/prom/alertmanager/api/v2/...`).

use std::fmt;

use alert_core::{AlertmanagerBackend, AlertmanagerTarget, TenantId};

use crate::error::{Error, Result};

/// The header Cortex and Mimir read the tenant from.
pub const ORG_ID_HEADER: &str = "X-Scope-OrgID";

/// Cortex's and Mimir's default `-http.alertmanager-http-prefix`.
pub use alert_core::alertmanager_target::DEFAULT_PREFIX;

/// Which multi-tenant product a [`Addressing::MultiTenant`] backend is. Both speak the
/// same API; the flavour is kept for messages and for the CLI's `--backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Cortex.
    Cortex,
    /// Grafana Mimir.
    Mimir,
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flavor::Cortex => "cortex",
            Flavor::Mimir => "mimir",
        })
    }
}

/// How paths and headers are built (the seed's `AlertManagerApiOption`).
///
/// ```
/// use alert_cortex_adapter::Addressing;
/// let vanilla = Addressing::Alertmanager;
/// assert_eq!(vanilla.api_path("alerts"), "/api/v2/alerts");
/// assert_eq!(vanilla.org_id(), None);
///
/// let cortex = Addressing::cortex("tenant-a")?;
/// assert_eq!(cortex.api_path("silences"), "/alertmanager/api/v2/silences");
/// assert_eq!(cortex.org_id(), Some("tenant-a"));
/// assert_eq!(cortex.config_api_path()?, "/api/v1/alerts");
///
/// let gw = Addressing::path_template("/{tenant}/prom/alertmanager", "tenant-a")?;
/// assert_eq!(gw.api_path("status"), "/tenant-a/prom/alertmanager/api/v2/status");
/// # Ok::<(), alert_cortex_adapter::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Addressing {
    /// A vanilla Alertmanager: `<base>/api/v2/...`, `<base>/-/reload`.
    Alertmanager,
    /// Cortex or Mimir: `<base><prefix>/api/v2/...` with `X-Scope-OrgID: <tenant>`; the
    /// per-tenant configuration API is `<base>/api/v1/alerts`.
    MultiTenant {
        /// Cortex or Mimir.
        flavor: Flavor,
        /// The Alertmanager HTTP prefix, for example `/alertmanager` (no trailing `/`).
        prefix: String,
        /// The tenant (org) id.
        tenant: TenantId,
    },
    /// A gateway that proxies each tenant under its own path. `prefix` is the template
    /// with `{tenant}` already replaced.
    PathTemplate {
        /// The template as given, for example `/{tenant}/prom/alertmanager`.
        template: String,
        /// The tenant.
        tenant: TenantId,
        /// The template with the tenant filled in.
        prefix: String,
    },
}

impl Addressing {
    /// How a target's members are addressed: its path template, or its backend with
    /// its prefix (the default when unset) and tenant. The target is checked first.
    ///
    /// ```
    /// use alert_core::AlertmanagerTarget;
    /// use alert_cortex_adapter::Addressing;
    /// let t: AlertmanagerTarget = serde_json::from_str(
    ///     r#"{"url": "http://m:8080", "backend": "cortex", "tenant": "a"}"#,
    /// )?;
    /// let a = Addressing::for_target(&t)?;
    /// assert_eq!(a.api_path("alerts"), "/alertmanager/api/v2/alerts");
    /// assert_eq!(a.org_id(), Some("a"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_target(target: &AlertmanagerTarget) -> Result<Addressing> {
        target.check(&str::to_owned)?;
        let tenant = || {
            target
                .tenant
                .as_ref()
                .map(|t| t.as_str().to_owned())
                .ok_or_else(|| {
                    Error::Core(alert_core::Error::MissingField {
                        field: "tenant".to_owned(),
                    })
                })
        };
        let prefix = target.prefix.as_deref().unwrap_or(DEFAULT_PREFIX);
        match (&target.path_template, target.backend) {
            (Some(template), _) => Addressing::path_template(template, tenant()?),
            (None, AlertmanagerBackend::Alertmanager) => Ok(Addressing::Alertmanager),
            (None, AlertmanagerBackend::Cortex) => {
                Addressing::multi_tenant(Flavor::Cortex, prefix, tenant()?)
            }
            (None, AlertmanagerBackend::Mimir) => {
                Addressing::multi_tenant(Flavor::Mimir, prefix, tenant()?)
            }
        }
    }

    /// Cortex with the default prefix `/alertmanager`.
    pub fn cortex(tenant: impl Into<String>) -> Result<Addressing> {
        Addressing::multi_tenant(Flavor::Cortex, DEFAULT_PREFIX, tenant)
    }

    /// Mimir with the default prefix `/alertmanager`.
    pub fn mimir(tenant: impl Into<String>) -> Result<Addressing> {
        Addressing::multi_tenant(Flavor::Mimir, DEFAULT_PREFIX, tenant)
    }

    /// Cortex or Mimir with a given prefix (`/api/prom/alertmanager` for Cortex's legacy
    /// one). The tenant id must be one Cortex accepts: at most 150 bytes of
    /// `[A-Za-z0-9!-_.*'()]`, and not `.`, `..` or `__markers__`.
    pub fn multi_tenant(
        flavor: Flavor,
        prefix: &str,
        tenant: impl Into<String>,
    ) -> Result<Addressing> {
        let tenant = TenantId::new(tenant)?;
        Ok(Addressing::MultiTenant {
            flavor,
            prefix: normalise_prefix(prefix, "prefix")?,
            tenant,
        })
    }

    /// A per-tenant path template such as `/{tenant}/prom/alertmanager`. A trailing
    /// `/api/v2` or `/api/v2/...` is dropped, so `/{tenant}/prom/alertmanager/api/v2/...`
    /// means the same. The template must contain `{tenant}`.
    pub fn path_template(template: &str, tenant: impl Into<String>) -> Result<Addressing> {
        let tenant = TenantId::new(tenant)?;
        let invalid = |reason: &str| Error::InvalidRequest {
            what: "path template",
            value: template.to_owned(),
            reason: reason.to_owned(),
        };
        if !template.contains("{tenant}") {
            return Err(invalid("expected a {tenant} placeholder"));
        }
        let mut stem = template.trim_end_matches("...").trim_end_matches('/');
        if let Some(i) = stem.find("/api/v2") {
            let rest = &stem[i + "/api/v2".len()..];
            if rest.is_empty() || rest.starts_with('/') {
                stem = &stem[..i];
            }
        }
        // Every character a tenant id may hold is allowed in a path segment as is.
        let filled = stem.replace("{tenant}", tenant.as_str());
        if filled.contains('{') || filled.contains('}') {
            return Err(invalid("only the {tenant} placeholder is known"));
        }
        Ok(Addressing::PathTemplate {
            template: template.to_owned(),
            tenant,
            prefix: normalise_prefix(&filled, "path template")?,
        })
    }

    /// The path prefix in front of `/api/v2` and `/-/...` (empty for a vanilla
    /// Alertmanager).
    pub fn prefix(&self) -> &str {
        match self {
            Addressing::Alertmanager => "",
            Addressing::MultiTenant { prefix, .. } | Addressing::PathTemplate { prefix, .. } => {
                prefix
            }
        }
    }

    /// The path of an API v2 endpoint, `endpoint` without a leading `/` (`alerts`,
    /// `alerts/groups`, `silence/<id>`).
    pub fn api_path(&self, endpoint: &str) -> String {
        format!(
            "{}/api/v2/{}",
            self.prefix(),
            endpoint.trim_start_matches('/')
        )
    }

    /// The path of a management endpoint: `ready`, `healthy` or `reload` give
    /// `<prefix>/-/ready` and so on.
    pub fn lifecycle_path(&self, what: &str) -> String {
        format!("{}/-/{}", self.prefix(), what)
    }

    /// The path of Cortex's and Mimir's per-tenant configuration API, `/api/v1/alerts`
    /// at the root (not under the prefix). Only multi-tenant backends have it.
    pub fn config_api_path(&self) -> Result<&'static str> {
        match self {
            Addressing::MultiTenant { .. } => Ok("/api/v1/alerts"),
            other => Err(Error::InvalidRequest {
                what: "backend",
                value: other.to_string(),
                reason: "only Cortex and Mimir have the /api/v1/alerts configuration API".into(),
            }),
        }
    }

    /// The tenant sent in `X-Scope-OrgID`, if any.
    pub fn org_id(&self) -> Option<&str> {
        match self {
            Addressing::MultiTenant { tenant, .. } => Some(tenant.as_str()),
            _ => None,
        }
    }

    /// The tenant this addressing serves, if it is per tenant.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Addressing::Alertmanager => None,
            Addressing::MultiTenant { tenant, .. } | Addressing::PathTemplate { tenant, .. } => {
                Some(tenant.as_str())
            }
        }
    }

    /// The same backend for another tenant (a vanilla Alertmanager is returned as is).
    pub fn for_tenant(&self, tenant: &str) -> Result<Addressing> {
        match self {
            Addressing::Alertmanager => Ok(Addressing::Alertmanager),
            Addressing::MultiTenant { flavor, prefix, .. } => {
                Addressing::multi_tenant(*flavor, prefix, tenant)
            }
            Addressing::PathTemplate { template, .. } => {
                Addressing::path_template(template, tenant)
            }
        }
    }
}

impl fmt::Display for Addressing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addressing::Alertmanager => f.write_str("alertmanager"),
            Addressing::MultiTenant {
                flavor,
                prefix,
                tenant,
            } => write!(f, "{flavor} (prefix {prefix}, tenant {tenant})"),
            Addressing::PathTemplate {
                template, tenant, ..
            } => write!(f, "path template {template} (tenant {tenant})"),
        }
    }
}

fn normalise_prefix(prefix: &str, what: &'static str) -> Result<String> {
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if !trimmed.starts_with('/') || trimmed.contains(['?', '#', ' ']) {
        return Err(Error::InvalidRequest {
            what,
            value: prefix.to_owned(),
            reason: "expected an absolute path such as /alertmanager".into(),
        });
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_normalised() {
        let a = Addressing::multi_tenant(Flavor::Mimir, "/api/prom/alertmanager/", "t").unwrap();
        assert_eq!(
            a.api_path("/alerts"),
            "/api/prom/alertmanager/api/v2/alerts"
        );
        assert_eq!(a.lifecycle_path("ready"), "/api/prom/alertmanager/-/ready");
        assert!(Addressing::multi_tenant(Flavor::Cortex, "alertmanager", "t").is_err());
        let root = Addressing::multi_tenant(Flavor::Cortex, "/", "t").unwrap();
        assert_eq!(root.api_path("status"), "/api/v2/status");
    }

    #[test]
    fn templates_accept_the_issue_spelling() {
        for t in [
            "/{tenant}/prom/alertmanager",
            "/{tenant}/prom/alertmanager/",
            "/{tenant}/prom/alertmanager/api/v2",
            "/{tenant}/prom/alertmanager/api/v2/...",
        ] {
            let a = Addressing::path_template(t, "a(b)").unwrap();
            assert_eq!(
                a.api_path("alerts"),
                "/a(b)/prom/alertmanager/api/v2/alerts",
                "{t}"
            );
            assert_eq!(a.org_id(), None);
        }
        assert!(Addressing::path_template("/prom/alertmanager", "t").is_err());
        assert!(Addressing::path_template("/{org}/{tenant}", "t").is_err());
    }

    #[test]
    fn tenant_ids_follow_cortex() {
        assert!(Addressing::cortex("tenant-a_1.(x)*'!").is_ok());
        for bad in ["", ".", "..", "__markers__", "a/b", "a|b", "ü"] {
            let err = Addressing::cortex(bad).unwrap_err().to_string();
            assert!(err.contains("tenant"), "{bad}: {err}");
        }
        assert!(Addressing::cortex("x".repeat(151)).is_err());
        assert!(Addressing::cortex("x".repeat(150)).is_ok());
    }

    #[test]
    fn only_multi_tenant_has_the_config_api() {
        assert!(Addressing::Alertmanager.config_api_path().is_err());
        let gw = Addressing::path_template("/{tenant}/am", "t").unwrap();
        assert!(gw.config_api_path().is_err());
        let other = Addressing::cortex("a").unwrap().for_tenant("b").unwrap();
        assert_eq!(other.org_id(), Some("b"));
    }
}
