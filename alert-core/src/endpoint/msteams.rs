//! Microsoft Teams incoming webhooks (`msteams_configs`, Alertmanager 0.26 and later).

use serde::{Deserialize, Serialize};

use crate::endpoint::address::check_secret_url_field;
use crate::endpoint::http::{HttpClientOptions, http_config_secrets, validate_http_config};
use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// A Microsoft Teams incoming webhook (Alertmanager's `msteams_config`).
///
/// Alertmanager 0.25 has no such receiver (`field msteams_configs not found in type
/// config.plain`); it arrived in 0.26. The model keeps it so that a renderer can target
/// a newer Alertmanager or route it through a webhook bridge, and report it otherwise.
///
/// ```
/// use alert_core::MsTeamsEndpoint;
/// let teams = MsTeamsEndpoint {
///     webhook_url: "https://example.webhook.office.com/webhookb2/x".into(),
///     ..Default::default()
/// };
/// assert!(teams.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MsTeamsEndpoint {
    /// The incoming-webhook URL (it embeds the credential); required.
    pub webhook_url: Secret,
    /// The card title (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The card summary shown in notifications (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The card text (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// HTTP client options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientOptions>,
}

impl MsTeamsEndpoint {
    /// Checks the endpoint; errors name fields under `msteams`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("msteams"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        check_secret_url_field(&path.field("webhook_url"), &self.webhook_url)?;
        validate_http_config(path, self.http_config.as_ref())
    }

    pub(crate) fn secrets_mut(&mut self) -> impl Iterator<Item = &mut Secret> {
        std::iter::once(&mut self.webhook_url).chain(http_config_secrets(&mut self.http_config))
    }
}
