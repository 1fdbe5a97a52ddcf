//! `slack_configs`.

use crate::config::{HttpClientConfig, Secret};

/// Slack (`slack_configs`). The webhook URL may come from `global.slack_api_url`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlackConfig {
    /// Whether to notify about resolved alerts (default false).
    pub send_resolved: Option<bool>,
    /// HTTP client settings (default: `global.http_config`).
    pub http_config: Option<HttpClientConfig>,
    /// Webhook URL (carries the token, hence a secret).
    pub api_url: Option<Secret>,
    /// File with the webhook URL.
    pub api_url_file: Option<String>,
    /// Channel or user to send to (`#ops`, `@someone`).
    pub channel: Option<String>,
    /// User name template.
    pub username: Option<String>,
    /// Colour template.
    pub color: Option<String>,
    /// Title template.
    pub title: Option<String>,
    /// Title link template.
    pub title_link: Option<String>,
    /// Pretext template.
    pub pretext: Option<String>,
    /// Text template.
    pub text: Option<String>,
    /// Attachment fields.
    pub fields: Vec<SlackField>,
    /// Whether fields are short by default.
    pub short_fields: Option<bool>,
    /// Footer template.
    pub footer: Option<String>,
    /// Fallback template.
    pub fallback: Option<String>,
    /// Callback id template.
    pub callback_id: Option<String>,
    /// Icon emoji template.
    pub icon_emoji: Option<String>,
    /// Icon URL template.
    pub icon_url: Option<String>,
    /// Image URL.
    pub image_url: Option<String>,
    /// Thumbnail URL.
    pub thumb_url: Option<String>,
    /// Whether to link channel and user names.
    pub link_names: Option<bool>,
    /// Fields formatted as markdown.
    pub mrkdwn_in: Vec<String>,
    /// Buttons.
    pub actions: Vec<SlackAction>,
}

/// An attachment field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlackField {
    /// Title (required).
    pub title: Option<String>,
    /// Value (required).
    pub value: Option<String>,
    /// Whether the field is short.
    pub short: Option<bool>,
}

/// A button (`type`, `text` and one of `url` or `name` required).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlackAction {
    /// Action type (`button`).
    pub r#type: Option<String>,
    /// Button text.
    pub text: Option<String>,
    /// Link target.
    pub url: Option<String>,
    /// Style (`default`, `primary`, `danger`).
    pub style: Option<String>,
    /// Message action name.
    pub name: Option<String>,
    /// Message action value.
    pub value: Option<String>,
    /// Confirmation dialogue.
    pub confirm: Option<SlackConfirmationField>,
}

/// A confirmation dialogue of a Slack action (`text` required).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlackConfirmationField {
    /// Dialogue text.
    pub text: Option<String>,
    /// Dialogue title.
    pub title: Option<String>,
    /// OK button text.
    pub ok_text: Option<String>,
    /// Dismiss button text.
    pub dismiss_text: Option<String>,
}

impl SlackConfig {
    /// A Slack integration posting to `api_url`, in `channel`.
    pub fn new(api_url: impl Into<String>, channel: impl Into<String>) -> SlackConfig {
        SlackConfig {
            api_url: Some(Secret::new(api_url)),
            channel: Some(channel.into()),
            ..SlackConfig::default()
        }
    }
}
