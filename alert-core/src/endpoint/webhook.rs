//! Generic webhooks (`webhook_configs`).

use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::endpoint::address::check_url_field;
use crate::endpoint::http::{HttpClientOptions, http_config_secrets, validate_http_config};
use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// A generic webhook receiving Alertmanager's version-4 JSON payload (Alertmanager's
/// `webhook_config`).
///
/// `url` is a plain string, as in Alertmanager 0.25 (later versions made it secret); put
/// credentials in `http_config` rather than in the URL.
///
/// ```
/// use alert_core::{HttpClientOptions, WebhookEndpoint};
/// let hook = WebhookEndpoint {
///     url: "https://hooks.example.org/alerts".into(),
///     http_config: Some(HttpClientOptions {
///         bearer_token: Some("t0k".into()),
///         ..Default::default()
///     }),
///     max_alerts: 20,
///     ..Default::default()
/// };
/// assert!(hook.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpoint {
    /// Where to POST; required, `http` or `https` with a host.
    pub url: String,
    /// HTTP client options: authentication, proxy, TLS, redirects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientOptions>,
    /// The most alerts one payload carries; `0` (the default) means all of them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_alerts: u64,
    /// How long one POST may take. Alertmanager 0.25 has no such setting (it arrived
    /// with 0.28's `webhook_config.timeout`); a renderer for 0.25 must drop or refuse it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl WebhookEndpoint {
    /// Checks the endpoint; errors name fields under `webhook`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("webhook"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        let url = path.field("url");
        if self.url.is_empty() {
            return Err(url.invalid("", "missing URL in webhook config"));
        }
        check_url_field(&url, &self.url)?;
        if let Some(timeout) = self.timeout.filter(|t| t.is_zero()) {
            return Err(path
                .field("timeout")
                .invalid(timeout.to_string(), "a positive duration"));
        }
        validate_http_config(path, self.http_config.as_ref())
    }

    pub(crate) fn secrets_mut(&mut self) -> impl Iterator<Item = &mut Secret> {
        http_config_secrets(&mut self.http_config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_rules() {
        let err = WebhookEndpoint::default()
            .validate()
            .unwrap_err()
            .to_string();
        assert_eq!(err, "webhook.url: missing URL in webhook config, got \"\"");
        let ftp = WebhookEndpoint {
            url: "ftp://x".into(),
            ..Default::default()
        };
        assert_eq!(
            ftp.validate().unwrap_err().to_string(),
            r#"webhook.url: unsupported scheme "ftp" for URL, got "ftp://x""#
        );
        let zero = WebhookEndpoint {
            url: "http://x".into(),
            timeout: Some(Duration::ZERO),
            ..Default::default()
        };
        assert_eq!(
            zero.validate().unwrap_err().to_string(),
            "webhook.timeout: a positive duration, got \"0s\""
        );
    }

    #[test]
    fn nested_http_config_paths() {
        let hook = WebhookEndpoint {
            url: "http://x".into(),
            http_config: Some(HttpClientOptions {
                proxy_url: Some("ftp://p".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = hook.validate().unwrap_err().to_string();
        assert!(
            err.starts_with("webhook.http_config.proxy_url: unsupported scheme"),
            "{err}"
        );
    }
}
