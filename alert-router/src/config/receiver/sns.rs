//! `sns_configs`.

use std::collections::BTreeMap;

use crate::config::{HttpClientConfig, Secret};

/// AWS SNS (`sns_configs`): exactly one of `topic_arn`, `target_arn`, `phone_number`
/// (Alertmanager 0.25 also lets all three through).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnsConfig {
    /// Whether to notify about resolved alerts (default true).
    pub send_resolved: Option<bool>,
    /// HTTP client settings (default: `global.http_config`).
    pub http_config: Option<HttpClientConfig>,
    /// SNS API URL.
    pub api_url: Option<String>,
    /// Request signing.
    pub sigv4: Option<SigV4Config>,
    /// Topic ARN.
    pub topic_arn: Option<String>,
    /// Phone number for SMS.
    pub phone_number: Option<String>,
    /// Target ARN (mobile endpoint).
    pub target_arn: Option<String>,
    /// Subject template.
    pub subject: Option<String>,
    /// Message template.
    pub message: Option<String>,
    /// Message attributes.
    pub attributes: BTreeMap<String, String>,
}

/// AWS SigV4 signing (`sigv4`); `access_key` and `secret_key` go together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigV4Config {
    /// AWS region.
    pub region: Option<String>,
    /// Access key id.
    pub access_key: Option<String>,
    /// Secret access key.
    pub secret_key: Option<Secret>,
    /// Named profile.
    pub profile: Option<String>,
    /// Role to assume.
    pub role_arn: Option<String>,
}
