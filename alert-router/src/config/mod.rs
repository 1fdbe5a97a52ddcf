//! The whole `alertmanager.yml` of Alertmanager 0.25 as plain Rust values, read from and
//! written to YAML.
//!
//! [`Config::from_yaml`] reads a file exactly as Alertmanager's `config.Load` does:
//! unknown and duplicate keys, type mismatches and every rule Alertmanager checks while
//! loading are errors, with Alertmanager's wording, the YAML line and the configuration
//! path. [`Config::to_yaml`] writes deterministic YAML that Alertmanager 0.25 (Go's
//! yaml.v2, YAML 1.1) reads back as the same values.
//!
//! ```
//! use alert_router::config::{Config, Receiver, Route, WebhookConfig};
//!
//! let mut config = Config::new(Route::new("default"));
//! let mut default = Receiver::new("default");
//! default.webhook_configs.push(WebhookConfig::new("http://127.0.0.1:9094/webhook"));
//! config.receivers.push(default);
//! let mut child = Route::with_matchers(["severity=\"yes\""]);
//! child.r#continue = true;
//! config.route.routes.push(child);
//!
//! let yaml = config.to_yaml();
//! let back = Config::from_yaml(&yaml)?;
//! assert_eq!(back, config);
//! # Ok::<(), alert_router::error::Error>(())
//! ```

pub(crate) mod address;
mod global;
mod go_duration;
pub(crate) mod go_quote;
mod http;
mod inhibit;
mod receiver;
mod route;
pub(crate) mod time_interval;
pub(crate) mod url;
pub mod yaml;

pub use alert_core::Secret;
pub use global::{
    DEFAULT_OPSGENIE_API_URL, DEFAULT_PAGERDUTY_URL, DEFAULT_RESOLVE_TIMEOUT, DEFAULT_SMTP_HELLO,
    DEFAULT_TELEGRAM_API_URL, DEFAULT_VICTOROPS_API_URL, DEFAULT_WEBEX_API_URL,
    DEFAULT_WECHAT_API_URL, GlobalConfig,
};
pub use go_duration::GoDuration;
pub use http::{Authorization, BasicAuth, HttpClientConfig, OAuth2, TLS_VERSIONS, TlsConfig};
pub use inhibit::InhibitRule;
pub use receiver::{
    DiscordConfig, EmailConfig, OpsGenieConfig, OpsGenieResponder, PagerdutyConfig, PagerdutyImage,
    PagerdutyLink, PushoverConfig, Receiver, SigV4Config, SlackAction, SlackConfig,
    SlackConfirmationField, SlackField, SnsConfig, TelegramConfig, VictorOpsConfig, WebexConfig,
    WebhookConfig, WechatConfig,
};
pub use route::{GROUP_BY_ALL, Grouping, Route};
pub use time_interval::{
    DayOfMonthRange, Location, MONTHS, MonthRange, NamedTimeInterval, TimeInterval, TimeRange,
    WEEKDAYS, WeekdayRange, YearRange,
};

use crate::error::Result;

/// An Alertmanager configuration (`alertmanager.yml`).
///
/// Build one with [`Config::new`] and plain field access, read one with
/// [`Config::from_yaml`], write it with [`Config::to_yaml`], check it with
/// [`crate::validate::validate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// `global`; `None` when the file has none (Alertmanager's defaults apply).
    pub global: Option<GlobalConfig>,
    /// The root of the routing tree.
    pub route: Route,
    /// Inhibition rules, in order.
    pub inhibit_rules: Vec<InhibitRule>,
    /// Receivers, in order.
    pub receivers: Vec<Receiver>,
    /// Template file globs.
    pub templates: Vec<String>,
    /// Deprecated list of time intervals (same namespace as `time_intervals`).
    pub mute_time_intervals: Vec<NamedTimeInterval>,
    /// Named time intervals.
    pub time_intervals: Vec<NamedTimeInterval>,
}

impl Config {
    /// A configuration with this root route and nothing else.
    pub fn new(route: Route) -> Config {
        Config {
            route,
            ..Config::default()
        }
    }

    /// Reads `text` as Alertmanager 0.25's `config.Load` does, rejecting exactly what it
    /// rejects, with its messages (see [`crate::error::Error::alertmanager_message`]).
    ///
    /// ```
    /// use alert_router::config::Config;
    /// let e = Config::from_yaml("route:\n  receiver: nope\nreceivers:\n- name: default\n").unwrap_err();
    /// assert_eq!(e.to_string(), "route.receiver: undefined receiver \"nope\" used in route");
    /// let e = Config::from_yaml("route:\n  recevier: x\n").unwrap_err();
    /// assert_eq!(e.alertmanager_message(),
    ///     "yaml: unmarshal errors:\n  line 2: field recevier not found in type config.plain");
    /// ```
    pub fn from_yaml(text: &str) -> Result<Config> {
        yaml::read::read_config(text)
    }

    /// Reads a file's bytes as Alertmanager 0.25 does: like [`Config::from_yaml`], after
    /// yaml.v2's reader has decoded them — UTF-16 (little- or big-endian) when a byte
    /// order mark says so, UTF-8 otherwise (a UTF-8 byte order mark is skipped). Bytes
    /// that are not valid in their encoding are refused with yaml.v2's reader messages
    /// (`yaml: invalid leading UTF-8 octet`, `yaml: incomplete UTF-16 character`).
    ///
    /// ```
    /// use alert_router::config::Config;
    /// let text = "route: {receiver: r}\nreceivers: [{name: r}]\n";
    /// let mut utf16 = vec![0xFF, 0xFE];
    /// utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    /// assert_eq!(Config::from_yaml_bytes(&utf16)?, Config::from_yaml(text)?);
    /// let e = Config::from_yaml_bytes(b"route: {receiver: \xFF}\n").unwrap_err();
    /// assert_eq!(e.alertmanager_message(), "yaml: invalid leading UTF-8 octet");
    /// # Ok::<(), alert_router::error::Error>(())
    /// ```
    pub fn from_yaml_bytes(bytes: &[u8]) -> Result<Config> {
        yaml::read::read_config_bytes(bytes)
    }

    /// Writes the configuration as deterministic YAML that Alertmanager 0.25 reads back as
    /// the same values (strings YAML 1.1 would read as something else are quoted).
    pub fn to_yaml(&self) -> String {
        yaml::write::write_config(self)
    }

    /// The receiver called `name`.
    pub fn receiver(&self, name: &str) -> Option<&Receiver> {
        self.receivers.iter().find(|r| r.name == name)
    }

    /// The named time interval `name`, from either list.
    pub fn time_interval(&self, name: &str) -> Option<&NamedTimeInterval> {
        self.mute_time_intervals
            .iter()
            .chain(&self.time_intervals)
            .find(|t| t.name == name)
    }
}
