//! `discord_configs`.

use crate::config::{HttpClientConfig, Secret};

/// A Discord webhook (`discord_configs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscordConfig {
    /// Whether to notify about resolved alerts (default true).
    pub send_resolved: Option<bool>,
    /// HTTP client settings (default: `global.http_config`).
    pub http_config: Option<HttpClientConfig>,
    /// Webhook URL (required; carries the token, hence a secret).
    pub webhook_url: Option<Secret>,
    /// Message title template.
    pub title: Option<String>,
    /// Message body template.
    pub message: Option<String>,
}

impl DiscordConfig {
    /// A Discord integration posting to `webhook_url`.
    pub fn new(webhook_url: impl Into<String>) -> DiscordConfig {
        DiscordConfig {
            webhook_url: Some(Secret::new(webhook_url)),
            ..DiscordConfig::default()
        }
    }
}
