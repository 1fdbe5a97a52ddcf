//! `pagerduty_configs`.

use std::collections::BTreeMap;

use crate::config::{HttpClientConfig, Secret};

/// PagerDuty (`pagerduty_configs`): one of `routing_key` (Events API v2) or
/// `service_key` (v1), inline or from a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PagerdutyConfig {
    /// Whether to notify about resolved alerts (default true).
    pub send_resolved: Option<bool>,
    /// HTTP client settings (default: `global.http_config`).
    pub http_config: Option<HttpClientConfig>,
    /// Integration key for the Events API v1.
    pub service_key: Option<Secret>,
    /// File with the service key.
    pub service_key_file: Option<String>,
    /// Integration key for the Events API v2.
    pub routing_key: Option<Secret>,
    /// File with the routing key.
    pub routing_key_file: Option<String>,
    /// Events URL (default `global.pagerduty_url`).
    pub url: Option<String>,
    /// Client name template.
    pub client: Option<String>,
    /// Client URL template.
    pub client_url: Option<String>,
    /// Description template.
    pub description: Option<String>,
    /// Details (Alertmanager adds `firing`, `resolved`, `num_firing`, `num_resolved`).
    pub details: BTreeMap<String, String>,
    /// Images.
    pub images: Vec<PagerdutyImage>,
    /// Links.
    pub links: Vec<PagerdutyLink>,
    /// Source (default: the client).
    pub source: Option<String>,
    /// Severity template.
    pub severity: Option<String>,
    /// Class.
    pub class: Option<String>,
    /// Component.
    pub component: Option<String>,
    /// Group.
    pub group: Option<String>,
}

/// An image attached to a PagerDuty event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PagerdutyImage {
    /// Image URL.
    pub src: Option<String>,
    /// Alternative text.
    pub alt: Option<String>,
    /// Link target.
    pub href: Option<String>,
}

/// A link attached to a PagerDuty event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PagerdutyLink {
    /// Link target.
    pub href: Option<String>,
    /// Link text.
    pub text: Option<String>,
}

impl PagerdutyConfig {
    /// A PagerDuty Events API v2 integration with this routing key.
    pub fn with_routing_key(routing_key: impl Into<String>) -> PagerdutyConfig {
        PagerdutyConfig {
            routing_key: Some(Secret::new(routing_key)),
            ..PagerdutyConfig::default()
        }
    }

    /// A PagerDuty Events API v1 integration with this service key.
    pub fn with_service_key(service_key: impl Into<String>) -> PagerdutyConfig {
        PagerdutyConfig {
            service_key: Some(Secret::new(service_key)),
            ..PagerdutyConfig::default()
        }
    }
}
