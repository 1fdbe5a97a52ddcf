//! `pushover_configs`.

use crate::config::{GoDuration, HttpClientConfig, Secret};

/// Pushover (`pushover_configs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushoverConfig {
    /// Whether to notify about resolved alerts (default true).
    pub send_resolved: Option<bool>,
    /// HTTP client settings (default: `global.http_config`).
    pub http_config: Option<HttpClientConfig>,
    /// Recipient user key (required).
    pub user_key: Option<Secret>,
    /// Application token (required).
    pub token: Option<Secret>,
    /// Title template.
    pub title: Option<String>,
    /// Message template.
    pub message: Option<String>,
    /// Supplementary URL template.
    pub url: Option<String>,
    /// Title of the supplementary URL.
    pub url_title: Option<String>,
    /// Sound name.
    pub sound: Option<String>,
    /// Priority template.
    pub priority: Option<String>,
    /// How often to retry emergency notifications (Go duration, default 1m).
    pub retry: Option<GoDuration>,
    /// How long to retry emergency notifications (Go duration, default 1h).
    pub expire: Option<GoDuration>,
    /// Whether the message is HTML.
    pub html: Option<bool>,
}

impl PushoverConfig {
    /// A Pushover integration for this user key and application token.
    pub fn new(user_key: impl Into<String>, token: impl Into<String>) -> PushoverConfig {
        PushoverConfig {
            user_key: Some(Secret::new(user_key)),
            token: Some(Secret::new(token)),
            ..PushoverConfig::default()
        }
    }
}
