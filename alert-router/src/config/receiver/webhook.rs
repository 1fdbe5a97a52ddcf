//! `webhook_configs`.

use crate::config::HttpClientConfig;

/// A generic webhook (`webhook_configs`): Alertmanager POSTs the version-4 JSON message.
///
/// ```
/// use alert_router::config::WebhookConfig;
/// let w = WebhookConfig::new("http://127.0.0.1:9094/webhook");
/// assert_eq!(w.url.as_deref(), Some("http://127.0.0.1:9094/webhook"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Whether to notify about resolved alerts (default true).
    pub send_resolved: Option<bool>,
    /// HTTP client settings (default: `global.http_config`).
    pub http_config: Option<HttpClientConfig>,
    /// URL to POST to (required, http or https).
    pub url: Option<String>,
    /// Most alerts per message; 0 (the default) is unlimited.
    pub max_alerts: Option<u64>,
}

impl WebhookConfig {
    /// A webhook posting to `url`.
    pub fn new(url: impl Into<String>) -> WebhookConfig {
        WebhookConfig {
            url: Some(url.into()),
            ..WebhookConfig::default()
        }
    }
}
