//! Discord webhooks (`discord_configs`).

use serde::{Deserialize, Serialize};

use crate::endpoint::address::check_secret_url_field;
use crate::endpoint::http::{HttpClientOptions, http_config_secrets, validate_http_config};
use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// A Discord channel webhook (Alertmanager's `discord_config`).
///
/// ```
/// use alert_core::DiscordEndpoint;
/// let discord = DiscordEndpoint {
///     webhook_url: "https://discord.com/api/webhooks/1/abc".into(),
///     ..Default::default()
/// };
/// assert!(discord.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordEndpoint {
    /// The webhook URL (it embeds the credential); required.
    pub webhook_url: Secret,
    /// The message title (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The message body (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// HTTP client options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientOptions>,
}

impl DiscordEndpoint {
    /// Checks the endpoint; errors name fields under `discord`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("discord"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        check_secret_url_field(&path.field("webhook_url"), &self.webhook_url)?;
        validate_http_config(path, self.http_config.as_ref())
    }

    pub(crate) fn secrets_mut(&mut self) -> impl Iterator<Item = &mut Secret> {
        std::iter::once(&mut self.webhook_url).chain(http_config_secrets(&mut self.http_config))
    }
}
