//! `wechat_configs`.

use crate::config::{HttpClientConfig, Secret};

/// WeChat (`wechat_configs`). Secret and corp id may come from `global`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WechatConfig {
    /// Whether to notify about resolved alerts (default false).
    pub send_resolved: Option<bool>,
    /// HTTP client settings (default: `global.http_config`).
    pub http_config: Option<HttpClientConfig>,
    /// API secret.
    pub api_secret: Option<Secret>,
    /// Corp id.
    pub corp_id: Option<String>,
    /// Message template.
    pub message: Option<String>,
    /// API URL (default `global.wechat_api_url`).
    pub api_url: Option<String>,
    /// Users to send to.
    pub to_user: Option<String>,
    /// Parties to send to.
    pub to_party: Option<String>,
    /// Tags to send to.
    pub to_tag: Option<String>,
    /// Agent id.
    pub agent_id: Option<String>,
    /// `text` (default) or `markdown`.
    pub message_type: Option<String>,
}
