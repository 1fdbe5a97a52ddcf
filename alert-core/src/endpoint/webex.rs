//! Cisco Webex rooms (`webex_configs`).

use serde::{Deserialize, Serialize};

use crate::endpoint::address::check_optional_url_field;
use crate::endpoint::http::{HttpClientOptions, http_config_secrets, validate_http_config};
use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// A Webex bot posting to one room (Alertmanager's `webex_config`).
///
/// Alertmanager takes the bot token from `http_config.authorization`; here it is the
/// `bot_token` field, so `http_config` must not carry `basic_auth` or `bearer_token`.
///
/// ```
/// use alert_core::WebexEndpoint;
/// let webex = WebexEndpoint {
///     room_id: "Y2lzY29zcGFyazovL3Vz".into(),
///     bot_token: "tok".into(),
///     ..Default::default()
/// };
/// assert!(webex.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebexEndpoint {
    /// The room to post to; required.
    pub room_id: String,
    /// The bot's access token; required. Rendered as a bearer `authorization`.
    pub bot_token: Secret,
    /// The messages API URL (Alertmanager's default: `https://webexapis.com/v1/messages`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// The message (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// HTTP client options, without authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientOptions>,
}

impl WebexEndpoint {
    /// Checks the endpoint; errors name fields under `webex`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("webex"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        if self.room_id.is_empty() {
            return Err(path
                .field("room_id")
                .invalid("", "missing room_id on webex_config"));
        }
        if self.bot_token.is_empty() {
            return Err(path
                .field("bot_token")
                .invalid("", "missing webex_configs.http_config.authorization"));
        }
        check_optional_url_field(&path.field("api_url"), self.api_url.as_deref())?;
        if let Some(http) = &self.http_config {
            for (name, set) in [
                ("basic_auth", http.basic_auth.is_some()),
                ("bearer_token", http.bearer_token.is_some()),
            ] {
                if set {
                    return Err(path.field("http_config").field(name).invalid(
                        "",
                        "no HTTP authentication: the bot_token is sent as the authorization",
                    ));
                }
            }
        }
        validate_http_config(path, self.http_config.as_ref())
    }

    pub(crate) fn secrets_mut(&mut self) -> impl Iterator<Item = &mut Secret> {
        std::iter::once(&mut self.bot_token).chain(http_config_secrets(&mut self.http_config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_and_conflicting_fields() {
        let ok = WebexEndpoint {
            room_id: "r".into(),
            bot_token: "t".into(),
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        let err = WebexEndpoint {
            bot_token: "t".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "webex.room_id: missing room_id on webex_config, got \"\""
        );
        let err = WebexEndpoint {
            room_id: "r".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("webex.bot_token: missing webex_configs.http_config.authorization")
        );
        let conflict = WebexEndpoint {
            http_config: Some(HttpClientOptions {
                bearer_token: Some("x".into()),
                ..Default::default()
            }),
            ..ok
        };
        assert!(
            conflict
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("webex.http_config.bearer_token: no HTTP authentication")
        );
    }
}
