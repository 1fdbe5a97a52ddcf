//! The `global` section: defaults every integration falls back to.

use alert_core::Duration;

use crate::config::{HttpClientConfig, Secret};

/// Alertmanager's default `resolve_timeout` (5m).
pub const DEFAULT_RESOLVE_TIMEOUT: Duration = match Duration::from_secs(300) {
    Some(d) => d,
    None => Duration::ZERO,
};
/// Default `smtp_hello`.
pub const DEFAULT_SMTP_HELLO: &str = "localhost";
/// Default `pagerduty_url`.
pub const DEFAULT_PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";
/// Default `opsgenie_api_url`.
pub const DEFAULT_OPSGENIE_API_URL: &str = "https://api.opsgenie.com/";
/// Default `wechat_api_url`.
pub const DEFAULT_WECHAT_API_URL: &str = "https://qyapi.weixin.qq.com/cgi-bin/";
/// Default `victorops_api_url`.
pub const DEFAULT_VICTOROPS_API_URL: &str =
    "https://alert.victorops.com/integrations/generic/20131114/alert/";
/// Default `telegram_api_url`.
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";
/// Default `webex_api_url`.
pub const DEFAULT_WEBEX_API_URL: &str = "https://webexapis.com/v1/messages";

/// `global`: values integrations fall back to when they do not set their own.
///
/// `None` means "not written"; the `*_or_default` accessors give the value Alertmanager
/// 0.25 uses then. For the URLs that have a default (`pagerduty_url`, `opsgenie_api_url`,
/// `wechat_api_url`, `victorops_api_url`, `telegram_api_url`, `webex_api_url`),
/// `Some("")` stands for an explicit `null`, which removes the default (Alertmanager then
/// refuses integrations that need it); an empty string is not a valid URL otherwise.
///
/// ```
/// use alert_router::config::{GlobalConfig, Secret};
/// let global = GlobalConfig {
///     slack_api_url: Some(Secret::new("https://hooks.slack.com/services/T/B/X")),
///     ..Default::default()
/// };
/// assert_eq!(global.resolve_timeout_or_default().to_string(), "5m");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalConfig {
    /// Time after which an alert without `endsAt` is resolved (default 5m).
    pub resolve_timeout: Option<Duration>,
    /// Default `http_config` of every integration that has none.
    pub http_config: Option<HttpClientConfig>,
    /// Default sender address of email.
    pub smtp_from: Option<String>,
    /// Default SMTP HELO name (default `localhost`).
    pub smtp_hello: Option<String>,
    /// Default SMTP server, `host:port`.
    pub smtp_smarthost: Option<String>,
    /// Default SMTP user.
    pub smtp_auth_username: Option<String>,
    /// Default SMTP password.
    pub smtp_auth_password: Option<Secret>,
    /// File with the default SMTP password.
    pub smtp_auth_password_file: Option<String>,
    /// Default SMTP CRAM-MD5 secret.
    pub smtp_auth_secret: Option<Secret>,
    /// Default SMTP identity.
    pub smtp_auth_identity: Option<String>,
    /// Whether SMTP requires TLS (default true).
    pub smtp_require_tls: Option<bool>,
    /// Default Slack webhook URL.
    pub slack_api_url: Option<Secret>,
    /// File with the default Slack webhook URL.
    pub slack_api_url_file: Option<String>,
    /// PagerDuty events URL.
    pub pagerduty_url: Option<String>,
    /// OpsGenie API URL.
    pub opsgenie_api_url: Option<String>,
    /// Default OpsGenie API key.
    pub opsgenie_api_key: Option<Secret>,
    /// File with the default OpsGenie API key.
    pub opsgenie_api_key_file: Option<String>,
    /// WeChat API URL.
    pub wechat_api_url: Option<String>,
    /// Default WeChat API secret.
    pub wechat_api_secret: Option<Secret>,
    /// Default WeChat corp id.
    pub wechat_api_corp_id: Option<String>,
    /// VictorOps API URL.
    pub victorops_api_url: Option<String>,
    /// Default VictorOps API key.
    pub victorops_api_key: Option<Secret>,
    /// File with the default VictorOps API key.
    pub victorops_api_key_file: Option<String>,
    /// Telegram API URL.
    pub telegram_api_url: Option<String>,
    /// Webex API URL.
    pub webex_api_url: Option<String>,
}

impl GlobalConfig {
    /// `resolve_timeout`, or 5m.
    pub fn resolve_timeout_or_default(&self) -> Duration {
        self.resolve_timeout.unwrap_or(DEFAULT_RESOLVE_TIMEOUT)
    }

    /// `smtp_require_tls`, or `true`.
    pub fn smtp_require_tls_or_default(&self) -> bool {
        self.smtp_require_tls.unwrap_or(true)
    }
}
