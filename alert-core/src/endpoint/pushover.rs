//! Pushover (`pushover_configs`).

use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::endpoint::http::{HttpClientOptions, http_config_secrets, validate_http_config};
use crate::endpoint::is_templated;
use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// Pushover's limits for emergency-priority messages.
const MIN_RETRY: Duration = match Duration::from_secs(30) {
    Some(d) => d,
    None => Duration::ZERO,
};
const MAX_EXPIRE: Duration = match Duration::from_secs(3 * 3600) {
    Some(d) => d,
    None => Duration::ZERO,
};

/// A Pushover user or group (Alertmanager's `pushover_config`).
///
/// `retry` and `expire` apply to emergency-priority (`2`) messages; Pushover refuses a
/// retry under 30 seconds and an expiry over 3 hours, so those are refused here too.
///
/// ```
/// use alert_core::PushoverEndpoint;
/// let po = PushoverEndpoint {
///     user_key: "u".into(),
///     token: "t".into(),
///     priority: Some("2".into()),
///     ..Default::default()
/// };
/// assert!(po.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushoverEndpoint {
    /// The recipient user or group key; required.
    pub user_key: Secret,
    /// The application token; required.
    pub token: Secret,
    /// The title (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The message (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A supplementary URL (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The supplementary URL's title (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_title: Option<String>,
    /// A Pushover sound name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sound: Option<String>,
    /// `-2` to `2`, or a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// How often an emergency message repeats (at least 30s; Alertmanager's default 1m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Duration>,
    /// How long an emergency message repeats (at most 3h; Alertmanager's default 1h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire: Option<Duration>,
    /// Whether the message is HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<bool>,
    /// HTTP client options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientOptions>,
}

impl PushoverEndpoint {
    /// Checks the endpoint; errors name fields under `pushover`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("pushover"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        if self.user_key.is_empty() {
            return Err(path
                .field("user_key")
                .invalid("", "missing user key in Pushover config"));
        }
        if self.token.is_empty() {
            return Err(path
                .field("token")
                .invalid("", "missing token in Pushover config"));
        }
        if let Some(priority) = &self.priority {
            let numeric = priority.parse::<i8>().is_ok_and(|p| (-2..=2).contains(&p));
            if !numeric && !is_templated(priority) {
                return Err(path
                    .field("priority")
                    .invalid(priority, "an integer from -2 to 2, or a template"));
            }
        }
        if let Some(retry) = self.retry.filter(|r| *r < MIN_RETRY) {
            return Err(path
                .field("retry")
                .invalid(retry.to_string(), "at least 30s"));
        }
        if let Some(expire) = self.expire.filter(|e| *e > MAX_EXPIRE || e.is_zero()) {
            return Err(path
                .field("expire")
                .invalid(expire.to_string(), "more than 0s and at most 3h"));
        }
        validate_http_config(path, self.http_config.as_ref())
    }

    pub(crate) fn secrets_mut(&mut self) -> impl Iterator<Item = &mut Secret> {
        [&mut self.user_key, &mut self.token]
            .into_iter()
            .chain(http_config_secrets(&mut self.http_config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> PushoverEndpoint {
        PushoverEndpoint {
            user_key: "u".into(),
            token: "t".into(),
            ..Default::default()
        }
    }

    #[test]
    fn limits() {
        let d = |s: &str| s.parse::<Duration>().expect("duration");
        assert!(
            PushoverEndpoint {
                retry: Some(d("30s")),
                expire: Some(d("3h")),
                ..valid()
            }
            .validate()
            .is_ok()
        );
        let err = PushoverEndpoint {
            retry: Some(d("10s")),
            ..valid()
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.to_string(), "pushover.retry: at least 30s, got \"10s\"");
        let err = PushoverEndpoint {
            expire: Some(d("4h")),
            ..valid()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().starts_with("pushover.expire:"));
        let err = PushoverEndpoint {
            priority: Some("3".into()),
            ..valid()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().starts_with("pushover.priority:"));
        let err = PushoverEndpoint {
            token: Secret::default(),
            ..valid()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().starts_with("pushover.token: missing token"));
    }
}
