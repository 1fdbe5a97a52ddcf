//! Slack incoming webhooks (`slack_configs`).

use serde::{Deserialize, Serialize};

use crate::endpoint::address::{check_optional_url_field, check_secret_url_field};
use crate::endpoint::http::{HttpClientOptions, http_config_secrets, validate_http_config};
use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// A Slack incoming webhook. Fields are Alertmanager's `slack_config` fields; the
/// message fields (`title`, `text`, ...) are Go templates and default to Alertmanager's.
///
/// The channel is optional (the webhook's own channel is used) and is not required to
/// start with `#`: channel ids (`C0123`) and users (`@ana`) are valid targets, which
/// Rancher Opni's `#` rule refused.
///
/// ```
/// use alert_core::SlackEndpoint;
/// let slack: SlackEndpoint = serde_json::from_str(
///     r##"{"api_url": "https://hooks.slack.com/services/T/B/X", "channel": "#ops"}"##,
/// )?;
/// assert!(slack.validate().is_ok());
/// assert_eq!(format!("{:?}", slack.api_url), "<secret>");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackEndpoint {
    /// The incoming-webhook URL (it embeds the credential, hence a secret); required.
    pub api_url: Secret,
    /// The channel or user to post to, overriding the webhook's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The name to post as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// An emoji to use as the icon, like `:fire:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_emoji: Option<String>,
    /// An image URL to use as the icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    /// The message title (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Where the title links to (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_link: Option<String>,
    /// Text above the attachment (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretext: Option<String>,
    /// The message body (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The attachment colour, like `danger` or `#ff0000` (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// The attachment footer (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    /// Plain-text summary for clients that cannot show attachments (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// Whether Slack links `@channel` and user names in the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_names: Option<bool>,
    /// HTTP client options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientOptions>,
}

impl SlackEndpoint {
    /// Checks the endpoint; errors name fields under `slack`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("slack"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        check_secret_url_field(&path.field("api_url"), &self.api_url)?;
        check_optional_url_field(&path.field("icon_url"), self.icon_url.as_deref())?;
        path.field("channel")
            .require_if_set(self.channel.as_deref())?;
        validate_http_config(path, self.http_config.as_ref())
    }

    pub(crate) fn secrets_mut(&mut self) -> impl Iterator<Item = &mut Secret> {
        std::iter::once(&mut self.api_url).chain(http_config_secrets(&mut self.http_config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_url_is_checked_without_echo() {
        let slack = SlackEndpoint {
            api_url: Secret::new("hooks.slack.com/services/T/B/SECRET"),
            ..Default::default()
        };
        let err = slack.validate().unwrap_err().to_string();
        assert_eq!(
            err,
            r#"slack.api_url: unsupported scheme "" for URL, got "<secret>""#
        );
        let missing = SlackEndpoint::default().validate().unwrap_err().to_string();
        assert_eq!(missing, "slack.api_url: missing required value");
    }

    #[test]
    fn channel_needs_no_hash() {
        for channel in ["#ops", "C0123ABC", "@ana"] {
            let slack = SlackEndpoint {
                api_url: Secret::new("https://hooks.slack.com/services/T/B/X"),
                channel: Some(channel.into()),
                ..Default::default()
            };
            assert!(slack.validate().is_ok(), "{channel}");
        }
    }
}
