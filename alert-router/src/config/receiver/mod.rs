//! Receivers and the integrations (`*_configs`) Alertmanager 0.25 knows.
//!
//! Every integration struct holds what the configuration says: `None` means "not
//! written", and Alertmanager's default (often a template, or a value from `global`)
//! applies. `send_resolved` defaults to true except for email, Slack and WeChat.

mod discord;
mod email;
mod opsgenie;
mod pagerduty;
mod pushover;
mod slack;
mod sns;
mod telegram;
mod victorops;
mod webex;
mod webhook;
mod wechat;

pub use discord::DiscordConfig;
pub use email::EmailConfig;
pub use opsgenie::{OpsGenieConfig, OpsGenieResponder};
pub use pagerduty::{PagerdutyConfig, PagerdutyImage, PagerdutyLink};
pub use pushover::PushoverConfig;
pub use slack::{SlackAction, SlackConfig, SlackConfirmationField, SlackField};
pub use sns::{SigV4Config, SnsConfig};
pub use telegram::TelegramConfig;
pub use victorops::VictorOpsConfig;
pub use webex::WebexConfig;
pub use webhook::WebhookConfig;
pub use wechat::WechatConfig;

/// A named set of integrations. A receiver with no integration is valid (a "blackhole").
///
/// ```
/// use alert_router::config::{Receiver, WebhookConfig};
/// let mut r = Receiver::new("history");
/// r.webhook_configs.push(WebhookConfig::new("http://127.0.0.1:9094/webhook"));
/// assert_eq!(r.integration_count(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receiver {
    /// Unique name routes refer to.
    pub name: String,
    /// Discord webhooks.
    pub discord_configs: Vec<DiscordConfig>,
    /// Email.
    pub email_configs: Vec<EmailConfig>,
    /// PagerDuty.
    pub pagerduty_configs: Vec<PagerdutyConfig>,
    /// Slack.
    pub slack_configs: Vec<SlackConfig>,
    /// Generic webhooks.
    pub webhook_configs: Vec<WebhookConfig>,
    /// OpsGenie.
    pub opsgenie_configs: Vec<OpsGenieConfig>,
    /// WeChat.
    pub wechat_configs: Vec<WechatConfig>,
    /// Pushover.
    pub pushover_configs: Vec<PushoverConfig>,
    /// VictorOps.
    pub victorops_configs: Vec<VictorOpsConfig>,
    /// AWS SNS.
    pub sns_configs: Vec<SnsConfig>,
    /// Telegram.
    pub telegram_configs: Vec<TelegramConfig>,
    /// Webex.
    pub webex_configs: Vec<WebexConfig>,
}

impl Receiver {
    /// A receiver with this name and no integrations.
    pub fn new(name: impl Into<String>) -> Receiver {
        Receiver {
            name: name.into(),
            ..Receiver::default()
        }
    }

    /// How many integrations the receiver has, of all kinds.
    pub fn integration_count(&self) -> usize {
        self.discord_configs.len()
            + self.email_configs.len()
            + self.pagerduty_configs.len()
            + self.slack_configs.len()
            + self.webhook_configs.len()
            + self.opsgenie_configs.len()
            + self.wechat_configs.len()
            + self.pushover_configs.len()
            + self.victorops_configs.len()
            + self.sns_configs.len()
            + self.telegram_configs.len()
            + self.webex_configs.len()
    }
}
