//! PagerDuty (`pagerduty_configs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::endpoint::address::check_optional_url_field;
use crate::endpoint::check_choice;
use crate::endpoint::http::{HttpClientOptions, http_config_secrets, validate_http_config};
use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// A PagerDuty service (Alertmanager's `pagerduty_config`).
///
/// Exactly one of `routing_key` (Events API v2 integration key) and `service_key`
/// (Events API v1) must be set. They are kept apart on purpose: Rancher Opni wrote both
/// into Alertmanager's `service_key`, sending v2 keys to the v1 API.
///
/// `severity` defaults to Alertmanager's `error`; PagerDuty accepts `critical`, `error`,
/// `warning` and `info`, the same words as [`crate::Severity`], so a template such as
/// `{{ .CommonLabels.severity }}` passes a condition's severity through.
///
/// ```
/// use alert_core::PagerDutyEndpoint;
/// let pd = PagerDutyEndpoint { routing_key: Some("abc".into()), ..Default::default() };
/// assert!(pd.validate().is_ok());
/// assert!(PagerDutyEndpoint::default().validate().is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyEndpoint {
    /// The Events API v2 integration key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<Secret>,
    /// The Events API v1 service key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_key: Option<Secret>,
    /// The events API URL (Alertmanager's default: `https://events.pagerduty.com/v2/enqueue`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The client name shown in PagerDuty (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// A link back to the client (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_url: Option<String>,
    /// The incident description (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `critical`, `error`, `warning`, `info`, or a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// The event class (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// The affected component (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The logical group of components (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Extra key/value details (templates).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    /// HTTP client options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientOptions>,
}

impl PagerDutyEndpoint {
    /// Checks the endpoint; errors name fields under `pagerduty`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("pagerduty"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        let routing = self.routing_key.as_ref().filter(|k| !k.is_empty());
        let service = self.service_key.as_ref().filter(|k| !k.is_empty());
        match (routing, service) {
            (None, None) => {
                return Err(path
                    .field("routing_key")
                    .invalid("", "missing service or routing key in PagerDuty config"));
            }
            (Some(_), Some(_)) => {
                return Err(path.field("service_key").invalid(
                    Secret::REDACTED,
                    "only one of routing_key (Events API v2) and service_key (v1)",
                ));
            }
            _ => {}
        }
        check_optional_url_field(&path.field("url"), self.url.as_deref())?;
        check_choice(
            &path.field("severity"),
            self.severity.as_deref(),
            &["critical", "error", "warning", "info"],
        )?;
        validate_http_config(path, self.http_config.as_ref())
    }

    pub(crate) fn secrets_mut(&mut self) -> impl Iterator<Item = &mut Secret> {
        self.routing_key
            .iter_mut()
            .chain(self.service_key.iter_mut())
            .chain(http_config_secrets(&mut self.http_config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let err = PagerDutyEndpoint::default()
            .validate()
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "pagerduty.routing_key: missing service or routing key in PagerDuty config, got \"\""
        );
        let both = PagerDutyEndpoint {
            routing_key: Some("r".into()),
            service_key: Some("s".into()),
            ..Default::default()
        };
        let err = both.validate().unwrap_err().to_string();
        assert!(
            err.starts_with("pagerduty.service_key: only one of"),
            "{err}"
        );
        let v1 = PagerDutyEndpoint {
            service_key: Some("s".into()),
            ..Default::default()
        };
        assert!(v1.validate().is_ok());
    }

    #[test]
    fn severity_words_or_templates() {
        let with = |s: &str| PagerDutyEndpoint {
            routing_key: Some("r".into()),
            severity: Some(s.into()),
            ..Default::default()
        };
        assert!(with("critical").validate().is_ok());
        assert!(with("{{ .CommonLabels.severity }}").validate().is_ok());
        let err = with("page").validate().unwrap_err().to_string();
        assert_eq!(
            err,
            "pagerduty.severity: one of critical, error, warning, info, or a template, got \"page\""
        );
    }
}
