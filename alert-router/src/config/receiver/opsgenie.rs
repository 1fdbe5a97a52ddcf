//! `opsgenie_configs`.

use std::collections::BTreeMap;

use crate::config::{HttpClientConfig, Secret};

/// OpsGenie (`opsgenie_configs`). The API key may come from `global.opsgenie_api_key`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpsGenieConfig {
    /// Whether to notify about resolved alerts (default true).
    pub send_resolved: Option<bool>,
    /// HTTP client settings (default: `global.http_config`).
    pub http_config: Option<HttpClientConfig>,
    /// API key.
    pub api_key: Option<Secret>,
    /// File with the API key.
    pub api_key_file: Option<String>,
    /// API URL (default `global.opsgenie_api_url`).
    pub api_url: Option<String>,
    /// Alert text template.
    pub message: Option<String>,
    /// Description template.
    pub description: Option<String>,
    /// Source template.
    pub source: Option<String>,
    /// Extra details.
    pub details: BTreeMap<String, String>,
    /// Entity template.
    pub entity: Option<String>,
    /// Responders.
    pub responders: Vec<OpsGenieResponder>,
    /// Comma-separated actions.
    pub actions: Option<String>,
    /// Comma-separated tags.
    pub tags: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Priority (`P1`..`P5`).
    pub priority: Option<String>,
    /// Whether to update message and description of existing alerts.
    pub update_alerts: Option<bool>,
}

/// One OpsGenie responder: one of `id`, `name`, `username`, and a `type`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpsGenieResponder {
    /// Responder id.
    pub id: Option<String>,
    /// Responder name.
    pub name: Option<String>,
    /// Responder user name.
    pub username: Option<String>,
    /// `team`, `teams`, `user`, `escalation`, `schedule`, or a template.
    pub r#type: Option<String>,
}

impl OpsGenieConfig {
    /// An OpsGenie integration with this API key.
    pub fn new(api_key: impl Into<String>) -> OpsGenieConfig {
        OpsGenieConfig {
            api_key: Some(Secret::new(api_key)),
            ..OpsGenieConfig::default()
        }
    }
}
