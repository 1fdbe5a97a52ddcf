//! Telegram bots (`telegram_configs`).

use serde::{Deserialize, Serialize};

use crate::endpoint::address::check_optional_url_field;
use crate::endpoint::http::{HttpClientOptions, http_config_secrets, validate_http_config};
use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// How Telegram renders the message text; written as Telegram spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TelegramParseMode {
    /// Legacy Markdown.
    Markdown,
    /// MarkdownV2.
    MarkdownV2,
    /// HTML (Alertmanager's default).
    #[serde(rename = "HTML")]
    Html,
}

/// A Telegram bot posting to one chat (Alertmanager's `telegram_config`).
///
/// ```
/// use alert_core::{TelegramEndpoint, TelegramParseMode};
/// let tg: TelegramEndpoint = serde_json::from_str(
///     r#"{"bot_token": "123:abc", "chat_id": -1001234567890, "parse_mode": "MarkdownV2"}"#,
/// )?;
/// assert_eq!(tg.parse_mode, Some(TelegramParseMode::MarkdownV2));
/// assert!(tg.validate().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramEndpoint {
    /// The bot's token; required.
    pub bot_token: Secret,
    /// The chat to post to; required, never `0` (group chats are negative).
    pub chat_id: i64,
    /// The Bot API URL (Alertmanager's default: `https://api.telegram.org`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// The message (template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Send silently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_notifications: Option<bool>,
    /// How the message is formatted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<TelegramParseMode>,
    /// HTTP client options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientOptions>,
}

impl TelegramEndpoint {
    /// Checks the endpoint; errors name fields under `telegram`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("telegram"))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        if self.bot_token.is_empty() {
            return Err(path
                .field("bot_token")
                .invalid("", "missing bot_token on telegram_config"));
        }
        if self.chat_id == 0 {
            return Err(path
                .field("chat_id")
                .invalid("0", "missing chat_id on telegram_config"));
        }
        check_optional_url_field(&path.field("api_url"), self.api_url.as_deref())?;
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
    fn chat_id_and_token_are_required() {
        let tg = TelegramEndpoint {
            bot_token: "t".into(),
            ..Default::default()
        };
        assert_eq!(
            tg.validate().unwrap_err().to_string(),
            "telegram.chat_id: missing chat_id on telegram_config, got \"0\""
        );
        let tg = TelegramEndpoint {
            chat_id: 5,
            ..Default::default()
        };
        assert!(
            tg.validate()
                .unwrap_err()
                .to_string()
                .starts_with("telegram.bot_token:")
        );
    }

    #[test]
    fn parse_modes_are_telegram_spelling() {
        assert_eq!(
            serde_json::to_string(&TelegramParseMode::Html).expect("ser"),
            "\"HTML\""
        );
        assert!(serde_json::from_str::<TelegramParseMode>("\"html\"").is_err());
        assert_eq!(
            serde_json::from_str::<TelegramParseMode>("\"Markdown\"").expect("de"),
            TelegramParseMode::Markdown
        );
    }
}
