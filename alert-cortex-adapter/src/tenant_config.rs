//! Cortex's and Mimir's per-tenant configuration API: `GET`, `POST`, `DELETE
//! /api/v1/alerts` with `X-Scope-OrgID`.
//!
//! The body is YAML with two keys, and the Alertmanager configuration inside is a YAML
//! *string*:
//!
//! ```yaml
//! template_files:
//!   default_template: '{{ define "__alertmanager" }}AlertManager{{ end }}'
//! alertmanager_config: |
//!   route: {receiver: example}
//!   receivers: [{name: example}]
//! ```
//!
//! Status codes, as both projects answer them: `POST` 201 (empty body), 400 with
//! `error validating Alertmanager config: …` or `error marshalling YAML Alertmanager
//! config: …`, 413 over the request size cap; `GET` 200 with `Content-Type:
//! application/yaml`, 404 `alertmanager storage object not found`; `DELETE` 200 even when
//! nothing was stored; any of them 401 `no org id` without the tenant header. Each maps
//! to an [`Error`] variant that keeps the message.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{AlertmanagerClient, Body, Call};
use crate::error::{Error, Result};

/// One tenant's stored configuration: Cortex's `UserConfig`.
///
/// ```
/// use alert_cortex_adapter::UserConfig;
/// let cfg = UserConfig::new("route: {receiver: x}\nreceivers: [{name: x}]\n")
///     .with_template("t.tmpl", "{{ define \"x\" }}x{{ end }}");
/// let yaml = cfg.to_yaml()?;
/// assert_eq!(UserConfig::from_yaml(&yaml)?, cfg);
/// assert!(!cfg.is_fallback());
/// # Ok::<(), alert_cortex_adapter::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserConfig {
    /// Template files by bare file name.
    #[serde(default)]
    pub template_files: BTreeMap<String, String>,
    /// The Alertmanager configuration, as YAML text.
    #[serde(default)]
    pub alertmanager_config: String,
}

impl UserConfig {
    /// A configuration without templates.
    pub fn new(alertmanager_config: impl Into<String>) -> UserConfig {
        UserConfig {
            template_files: BTreeMap::new(),
            alertmanager_config: alertmanager_config.into(),
        }
    }

    /// Adds a template file.
    pub fn with_template(mut self, name: impl Into<String>, body: impl Into<String>) -> Self {
        self.template_files.insert(name.into(), body.into());
        self
    }

    /// Whether this is the empty configuration Cortex and Mimir store when a tenant
    /// without one first uses the API and a fallback configuration is in place.
    pub fn is_fallback(&self) -> bool {
        self.alertmanager_config.trim().is_empty()
    }

    /// The envelope as YAML, as `POST /api/v1/alerts` expects it.
    pub fn to_yaml(&self) -> Result<String> {
        yaml_serde::to_string(self).map_err(|e| Error::Yaml {
            what: "configuration envelope".into(),
            reason: e.to_string(),
        })
    }

    /// Reads an envelope (unknown keys are ignored, as Cortex's parser ignores them).
    pub fn from_yaml(yaml: &str) -> Result<UserConfig> {
        if yaml.trim().is_empty() {
            return Ok(UserConfig::default());
        }
        yaml_serde::from_str(yaml).map_err(|e| Error::Yaml {
            what: "configuration envelope".into(),
            reason: e.to_string(),
        })
    }
}

impl AlertmanagerClient {
    /// `GET /api/v1/alerts`: the tenant's stored configuration. [`Error::NotFound`] when
    /// none is stored; an empty `alertmanager_config` means the fallback is in use
    /// ([`UserConfig::is_fallback`]). Cortex and Mimir answer from the store, so a
    /// configuration shows here before it is running.
    pub async fn tenant_config(&self) -> Result<UserConfig> {
        let path = self.addressing().config_api_path()?.to_owned();
        let answer = self.send(Call::get(path)).await?;
        UserConfig::from_yaml(&answer.text()).map_err(|e| Error::Decode {
            method: answer.method.clone(),
            url: answer.url.clone(),
            reason: e.to_string(),
        })
    }

    /// `POST /api/v1/alerts`: stores the tenant's configuration (201). The server
    /// validates it first; a refusal is [`Error::Rejected`] with the server's message.
    /// Storing is not running: Cortex and Mimir pick the new configuration up on their
    /// next poll (15 s by default).
    pub async fn set_tenant_config(&self, config: &UserConfig) -> Result<()> {
        let call = Call {
            method: Method::POST,
            path: self.addressing().config_api_path()?.to_owned(),
            query: Vec::new(),
            body: Some(Body::Yaml(config.to_yaml()?)),
            idempotent: true,
        };
        self.send(call).await.map(drop)
    }

    /// `DELETE /api/v1/alerts`: removes the tenant's configuration (200, also when none
    /// was stored).
    pub async fn delete_tenant_config(&self) -> Result<()> {
        let call = Call {
            method: Method::DELETE,
            path: self.addressing().config_api_path()?.to_owned(),
            query: Vec::new(),
            body: None,
            idempotent: true,
        };
        self.send(call).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_cortex_documentation_example() {
        let yaml = r#"
template_files:
  default_template: |
    {{ define "__alertmanager" }}AlertManager{{ end }}
alertmanager_config: |
  global:
    smtp_smarthost: 'localhost:25'
  templates:
    - 'default_template'
  route:
    receiver: example-email
  receivers:
    - name: example-email
      email_configs:
      - to: 'youraddress@example.org'
unknown_key: ignored
"#;
        let cfg = UserConfig::from_yaml(yaml).unwrap();
        assert!(
            cfg.alertmanager_config
                .starts_with("global:\n  smtp_smarthost")
        );
        assert_eq!(
            cfg.template_files["default_template"],
            "{{ define \"__alertmanager\" }}AlertManager{{ end }}\n"
        );
    }

    #[test]
    fn empty_config_is_the_fallback() {
        let cfg = UserConfig::from_yaml("template_files: {}\nalertmanager_config: \"\"\n").unwrap();
        assert!(cfg.is_fallback());
        assert!(UserConfig::from_yaml("").unwrap().is_fallback());
        assert!(UserConfig::from_yaml("alertmanager_config: [1]").is_err());
    }

    proptest! {
        #[test]
        fn envelope_round_trips(config in "[ -~\n]{0,200}",
                                templates in proptest::collection::btree_map("[a-z]{1,8}\\.tmpl", "[ -~\n]{0,50}", 0..3)) {
            let cfg = UserConfig { template_files: templates, alertmanager_config: config };
            let yaml = cfg.to_yaml().unwrap();
            prop_assert_eq!(UserConfig::from_yaml(&yaml).unwrap(), cfg);
        }
    }
}
