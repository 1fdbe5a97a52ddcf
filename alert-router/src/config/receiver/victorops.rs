//! `victorops_configs`.

use std::collections::BTreeMap;

use crate::config::{HttpClientConfig, Secret};

/// VictorOps (`victorops_configs`). The API key may come from `global`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VictorOpsConfig {
    /// Whether to notify about resolved alerts (default true).
    pub send_resolved: Option<bool>,
    /// HTTP client settings (default: `global.http_config`).
    pub http_config: Option<HttpClientConfig>,
    /// API key.
    pub api_key: Option<Secret>,
    /// File with the API key.
    pub api_key_file: Option<String>,
    /// API URL (default `global.victorops_api_url`).
    pub api_url: Option<String>,
    /// Routing key (required).
    pub routing_key: Option<String>,
    /// Message type (default `CRITICAL`).
    pub message_type: Option<String>,
    /// State message template.
    pub state_message: Option<String>,
    /// Entity display name template.
    pub entity_display_name: Option<String>,
    /// Monitoring tool template.
    pub monitoring_tool: Option<String>,
    /// Extra fields (not the reserved ones).
    pub custom_fields: BTreeMap<String, String>,
}

impl VictorOpsConfig {
    /// A VictorOps integration with this routing key.
    pub fn new(routing_key: impl Into<String>) -> VictorOpsConfig {
        VictorOpsConfig {
            routing_key: Some(routing_key.into()),
            ..VictorOpsConfig::default()
        }
    }
}
