//! `webex_configs`.

use crate::config::HttpClientConfig;

/// Webex (`webex_configs`): `room_id` and `http_config.authorization` required.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebexConfig {
    /// Whether to notify about resolved alerts (default true).
    pub send_resolved: Option<bool>,
    /// HTTP client settings; must carry `authorization`.
    pub http_config: Option<HttpClientConfig>,
    /// API URL (default `global.webex_api_url`).
    pub api_url: Option<String>,
    /// Message template.
    pub message: Option<String>,
    /// Room id (required).
    pub room_id: Option<String>,
}
