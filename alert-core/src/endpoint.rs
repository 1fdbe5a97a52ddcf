//! Notification endpoints: where a condition's alerts are sent.
//!
//! An [`AlertEndpoint`] is one notification target (a Slack webhook, a PagerDuty service,
//! a mailing list, ...). The router turns each endpoint into **one** Alertmanager
//! receiver holding one `<kind>_configs` entry, so fields carry Alertmanager's names
//! wherever Alertmanager has the same setting.
//!
//! In a spec file an endpoint is a mapping with its id and descriptive fields beside
//! exactly one kind key:
//!
//! ```
//! use alert_core::{AlertEndpoint, EndpointKind};
//!
//! let endpoint: AlertEndpoint = serde_json::from_str(r##"{
//!     "id": "ops-slack",
//!     "name": "Ops channel",
//!     "slack": {"api_url": "https://hooks.slack.com/services/T/B/X", "channel": "#ops"}
//! }"##)?;
//! assert_eq!(endpoint.id.as_str(), "ops-slack");
//! assert_eq!(endpoint.kind.name(), "slack");
//! assert!(matches!(endpoint.kind, EndpointKind::Slack(_)));
//! // Secrets never show in debug output.
//! assert!(!format!("{endpoint:?}").contains("hooks.slack.com"));
//!
//! // Reading validates, and errors name the field.
//! let err = serde_json::from_str::<AlertEndpoint>(
//!     r#"{"id": "ops-slack", "slack": {"api_url": "ftp://x"}}"#,
//! ).unwrap_err();
//! assert!(err.to_string().starts_with(
//!     r#"endpoints[ops-slack].slack.api_url: unsupported scheme "ftp" for URL"#
//! ));
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod address;
pub mod discord;
pub mod email;
pub mod http;
pub mod msteams;
pub mod opsgenie;
pub mod pagerduty;
pub mod pushover;
pub mod slack;
pub mod telegram;
pub mod victorops;
pub mod webex;
pub mod webhook;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::field_path::FieldPath;
use crate::id::{EndpointId, check_id, display_name, serialize_identity};
use crate::secret::Secret;

pub use discord::DiscordEndpoint;
pub use email::EmailEndpoint;
pub use http::{BasicAuth, HttpClientOptions, TlsOptions};
pub use msteams::MsTeamsEndpoint;
pub use opsgenie::{OpsGenieEndpoint, OpsGenieResponder};
pub use pagerduty::PagerDutyEndpoint;
pub use pushover::PushoverEndpoint;
pub use slack::SlackEndpoint;
pub use telegram::{TelegramEndpoint, TelegramParseMode};
pub use victorops::VictorOpsEndpoint;
pub use webex::WebexEndpoint;
pub use webhook::WebhookEndpoint;

/// The name of the list endpoints live in, as error paths print it.
const ENDPOINTS: &str = "endpoints";

/// Whether `value` holds a Go template that only Alertmanager can expand.
pub(crate) fn is_templated(value: &str) -> bool {
    value.contains("{{")
}

/// Checks an optional enumerated value: one of `allowed` (exactly), or a template.
pub(crate) fn check_choice(path: &FieldPath, value: Option<&str>, allowed: &[&str]) -> Result<()> {
    match value {
        Some(v) if !allowed.contains(&v) && !is_templated(v) => {
            Err(path.invalid(v, format!("one of {}, or a template", allowed.join(", "))))
        }
        _ => Ok(()),
    }
}

/// One notification target.
///
/// Serialised as a mapping: `id`, then `name`, `description` and `send_resolved` when
/// set, then one key naming the kind (`slack`, `email`, `pagerduty`, `webhook`,
/// `opsgenie`, `telegram`, `discord`, `webex`, `msteams`, `pushover`, `victorops`) whose
/// value holds the kind's fields. Reading it validates the whole endpoint; every error
/// names its field path, like `endpoints[ops-slack].slack.api_url`.
///
/// Secrets serialise to their real values (configurations must work); use
/// [`AlertEndpoint::redacted`] before showing an endpoint to anyone.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawEndpoint")]
pub struct AlertEndpoint {
    /// The id conditions attach this endpoint by; unique in a spec.
    pub id: EndpointId,
    /// A human name; may be empty (see [`AlertEndpoint::display_name`]).
    pub name: String,
    /// Free text for people.
    pub description: String,
    /// Whether resolved alerts are notified too; `None` keeps Alertmanager's default for
    /// the kind (see [`EndpointKind::default_send_resolved`]).
    pub send_resolved: Option<bool>,
    /// The kind of target and its settings.
    pub kind: EndpointKind,
}

/// The kind of an endpoint with its settings. Variant names follow Alertmanager's
/// receiver types; [`EndpointKind::name`] gives the spec-file key.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointKind {
    /// A Slack incoming webhook (`slack`).
    Slack(SlackEndpoint),
    /// E-mail over SMTP (`email`).
    Email(EmailEndpoint),
    /// PagerDuty (`pagerduty`).
    PagerDuty(PagerDutyEndpoint),
    /// A generic webhook (`webhook`).
    Webhook(WebhookEndpoint),
    /// Opsgenie (`opsgenie`).
    OpsGenie(OpsGenieEndpoint),
    /// A Telegram bot (`telegram`).
    Telegram(TelegramEndpoint),
    /// A Discord webhook (`discord`).
    Discord(DiscordEndpoint),
    /// A Webex room (`webex`).
    Webex(WebexEndpoint),
    /// A Microsoft Teams webhook (`msteams`); not in Alertmanager 0.25.
    MsTeams(MsTeamsEndpoint),
    /// Pushover (`pushover`).
    Pushover(PushoverEndpoint),
    /// VictorOps / Splunk On-Call (`victorops`).
    VictorOps(VictorOpsEndpoint),
}

impl EndpointKind {
    /// Every kind's spec-file key, in declaration order.
    pub const NAMES: [&'static str; 11] = [
        "slack",
        "email",
        "pagerduty",
        "webhook",
        "opsgenie",
        "telegram",
        "discord",
        "webex",
        "msteams",
        "pushover",
        "victorops",
    ];

    /// The spec-file key of this kind, which is also Alertmanager's receiver type:
    /// `slack`, `email`, `pagerduty`, ...
    pub fn name(&self) -> &'static str {
        match self {
            EndpointKind::Slack(_) => "slack",
            EndpointKind::Email(_) => "email",
            EndpointKind::PagerDuty(_) => "pagerduty",
            EndpointKind::Webhook(_) => "webhook",
            EndpointKind::OpsGenie(_) => "opsgenie",
            EndpointKind::Telegram(_) => "telegram",
            EndpointKind::Discord(_) => "discord",
            EndpointKind::Webex(_) => "webex",
            EndpointKind::MsTeams(_) => "msteams",
            EndpointKind::Pushover(_) => "pushover",
            EndpointKind::VictorOps(_) => "victorops",
        }
    }

    /// The Alertmanager receiver field this kind renders into: `slack_configs`, ...
    pub fn receiver_field(&self) -> String {
        format!("{}_configs", self.name())
    }

    /// Alertmanager's `send_resolved` default for this kind: `false` for e-mail and
    /// Slack, `true` for the rest.
    pub fn default_send_resolved(&self) -> bool {
        !matches!(self, EndpointKind::Email(_) | EndpointKind::Slack(_))
    }

    /// Whether Alertmanager 0.25 has this receiver type (only `msteams` is missing; it
    /// arrived in 0.26).
    pub fn supported_by_alertmanager_0_25(&self) -> bool {
        !matches!(self, EndpointKind::MsTeams(_))
    }

    /// Checks the settings; errors name fields under the kind's key.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root(self.name()))
    }

    fn validate_at(&self, path: &FieldPath) -> Result<()> {
        match self {
            EndpointKind::Slack(k) => k.validate_at(path),
            EndpointKind::Email(k) => k.validate_at(path),
            EndpointKind::PagerDuty(k) => k.validate_at(path),
            EndpointKind::Webhook(k) => k.validate_at(path),
            EndpointKind::OpsGenie(k) => k.validate_at(path),
            EndpointKind::Telegram(k) => k.validate_at(path),
            EndpointKind::Discord(k) => k.validate_at(path),
            EndpointKind::Webex(k) => k.validate_at(path),
            EndpointKind::MsTeams(k) => k.validate_at(path),
            EndpointKind::Pushover(k) => k.validate_at(path),
            EndpointKind::VictorOps(k) => k.validate_at(path),
        }
    }

    /// Every secret of the kind's settings.
    fn secrets_mut(&mut self) -> Box<dyn Iterator<Item = &mut Secret> + '_> {
        match self {
            EndpointKind::Slack(k) => Box::new(k.secrets_mut()),
            EndpointKind::Email(k) => Box::new(k.secrets_mut()),
            EndpointKind::PagerDuty(k) => Box::new(k.secrets_mut()),
            EndpointKind::Webhook(k) => Box::new(k.secrets_mut()),
            EndpointKind::OpsGenie(k) => Box::new(k.secrets_mut()),
            EndpointKind::Telegram(k) => Box::new(k.secrets_mut()),
            EndpointKind::Discord(k) => Box::new(k.secrets_mut()),
            EndpointKind::Webex(k) => Box::new(k.secrets_mut()),
            EndpointKind::MsTeams(k) => Box::new(k.secrets_mut()),
            EndpointKind::Pushover(k) => Box::new(k.secrets_mut()),
            EndpointKind::VictorOps(k) => Box::new(k.secrets_mut()),
        }
    }

    /// Writes `kind-name: settings` into a map being serialised.
    fn serialize_entry<M: SerializeMap>(&self, map: &mut M) -> std::result::Result<(), M::Error> {
        let name = self.name();
        match self {
            EndpointKind::Slack(k) => map.serialize_entry(name, k),
            EndpointKind::Email(k) => map.serialize_entry(name, k),
            EndpointKind::PagerDuty(k) => map.serialize_entry(name, k),
            EndpointKind::Webhook(k) => map.serialize_entry(name, k),
            EndpointKind::OpsGenie(k) => map.serialize_entry(name, k),
            EndpointKind::Telegram(k) => map.serialize_entry(name, k),
            EndpointKind::Discord(k) => map.serialize_entry(name, k),
            EndpointKind::Webex(k) => map.serialize_entry(name, k),
            EndpointKind::MsTeams(k) => map.serialize_entry(name, k),
            EndpointKind::Pushover(k) => map.serialize_entry(name, k),
            EndpointKind::VictorOps(k) => map.serialize_entry(name, k),
        }
    }
}

impl AlertEndpoint {
    /// An endpoint with just an id and a kind.
    pub fn new(id: EndpointId, kind: EndpointKind) -> AlertEndpoint {
        AlertEndpoint {
            id,
            name: String::new(),
            description: String::new(),
            send_resolved: None,
            kind,
        }
    }

    /// The path error messages use for this endpoint: `endpoints[<id>]`.
    pub(crate) fn path(&self) -> FieldPath {
        FieldPath::keyed(ENDPOINTS, self.id.as_str())
    }

    /// Checks every field; the first fault is returned with its full path, such as
    /// `endpoints[ops-slack].slack.api_url`.
    pub fn validate(&self) -> Result<()> {
        let path = self.path();
        self.kind.validate_at(&path.field(self.kind.name()))
    }

    /// The name, or the id when the name is empty.
    pub fn display_name(&self) -> &str {
        display_name(self.id.as_str(), &self.name)
    }

    /// `send_resolved`, or Alertmanager's default for the kind.
    pub fn send_resolved_or_default(&self) -> bool {
        self.send_resolved
            .unwrap_or_else(|| self.kind.default_send_resolved())
    }

    /// A copy with every secret replaced by [`Secret::REDACTED`], safe to show to users
    /// or to serialise into an API answer.
    ///
    /// ```
    /// use alert_core::{AlertEndpoint, EndpointKind, PagerDutyEndpoint};
    ///
    /// let pd = AlertEndpoint::new(
    ///     "pager".parse()?,
    ///     EndpointKind::PagerDuty(PagerDutyEndpoint {
    ///         routing_key: Some("abc".into()),
    ///         ..Default::default()
    ///     }),
    /// );
    /// let shown = serde_json::to_string(&pd.redacted())?;
    /// assert_eq!(shown, r#"{"id":"pager","pagerduty":{"routing_key":"<secret>"}}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn redacted(&self) -> AlertEndpoint {
        let mut copy = self.clone();
        for secret in copy.kind.secrets_mut() {
            *secret = Secret::new(Secret::REDACTED);
        }
        copy
    }
}

impl Serialize for AlertEndpoint {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        serialize_identity(&mut map, self.id.as_str(), &self.name, &self.description)?;
        if let Some(send_resolved) = self.send_resolved {
            map.serialize_entry("send_resolved", &send_resolved)?;
        }
        self.kind.serialize_entry(&mut map)?;
        map.end()
    }
}

/// The spec-file shape of an endpoint before validation: every kind key is optional here
/// and exactly one must be present.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    send_resolved: Option<bool>,
    #[serde(default)]
    slack: Option<SlackEndpoint>,
    #[serde(default)]
    email: Option<EmailEndpoint>,
    #[serde(default)]
    pagerduty: Option<PagerDutyEndpoint>,
    #[serde(default)]
    webhook: Option<WebhookEndpoint>,
    #[serde(default)]
    opsgenie: Option<OpsGenieEndpoint>,
    #[serde(default)]
    telegram: Option<TelegramEndpoint>,
    #[serde(default)]
    discord: Option<DiscordEndpoint>,
    #[serde(default)]
    webex: Option<WebexEndpoint>,
    #[serde(default)]
    msteams: Option<MsTeamsEndpoint>,
    #[serde(default)]
    pushover: Option<PushoverEndpoint>,
    #[serde(default)]
    victorops: Option<VictorOpsEndpoint>,
}

impl TryFrom<RawEndpoint> for AlertEndpoint {
    type Error = Error;

    fn try_from(raw: RawEndpoint) -> Result<AlertEndpoint> {
        let path = FieldPath::keyed(ENDPOINTS, &raw.id);
        check_id(&path.field("id"), &raw.id)?;
        let kinds: Vec<EndpointKind> = [
            raw.slack.map(EndpointKind::Slack),
            raw.email.map(EndpointKind::Email),
            raw.pagerduty.map(EndpointKind::PagerDuty),
            raw.webhook.map(EndpointKind::Webhook),
            raw.opsgenie.map(EndpointKind::OpsGenie),
            raw.telegram.map(EndpointKind::Telegram),
            raw.discord.map(EndpointKind::Discord),
            raw.webex.map(EndpointKind::Webex),
            raw.msteams.map(EndpointKind::MsTeams),
            raw.pushover.map(EndpointKind::Pushover),
            raw.victorops.map(EndpointKind::VictorOps),
        ]
        .into_iter()
        .flatten()
        .collect();
        let expected = format!(
            "exactly one endpoint kind: one of {}",
            EndpointKind::NAMES.join(", ")
        );
        let found: Vec<&str> = kinds.iter().map(EndpointKind::name).collect();
        let Ok([kind]) = <[EndpointKind; 1]>::try_from(kinds) else {
            return Err(path.invalid(found.join(", "), expected));
        };
        let endpoint = AlertEndpoint {
            id: EndpointId::new(raw.id)?,
            name: raw.name,
            description: raw.description,
            send_resolved: raw.send_resolved,
            kind,
        };
        endpoint.validate()?;
        Ok(endpoint)
    }
}
