//! `telegram_configs`.

use crate::config::{HttpClientConfig, Secret};

/// Telegram (`telegram_configs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelegramConfig {
    /// Whether to notify about resolved alerts (default true).
    pub send_resolved: Option<bool>,
    /// HTTP client settings (default: `global.http_config`).
    pub http_config: Option<HttpClientConfig>,
    /// API URL (default `global.telegram_api_url`).
    pub api_url: Option<String>,
    /// Bot token (required).
    pub bot_token: Option<Secret>,
    /// Chat id (required, non-zero).
    pub chat_id: Option<i64>,
    /// Message template.
    pub message: Option<String>,
    /// Whether to send silently.
    pub disable_notifications: Option<bool>,
    /// `Markdown`, `MarkdownV2`, `HTML` (default) or empty.
    pub parse_mode: Option<String>,
}

impl TelegramConfig {
    /// A Telegram integration for this bot token and chat.
    pub fn new(bot_token: impl Into<String>, chat_id: i64) -> TelegramConfig {
        TelegramConfig {
            bot_token: Some(Secret::new(bot_token)),
            chat_id: Some(chat_id),
            ..TelegramConfig::default()
        }
    }
}
