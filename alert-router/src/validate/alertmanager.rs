//! Alertmanager 0.25's own rules, as `config.Load` applies them.
//!
//! The rules come in the three groups Alertmanager has: checks of a single value when it
//! is decoded (URLs, addresses, matchers, regexes, time zones), checks each type runs
//! right after its fields are decoded (`UnmarshalYAML`: routes, receivers, every
//! integration, `http_config`), and the checks over the whole configuration
//! (`Config.UnmarshalYAML` and `Load`: unique names, global defaults, the root route,
//! references). The YAML reader calls them in document order exactly where Alertmanager
//! does; [`check`] calls them over a [`Config`] built in code, in the order the YAML
//! writer lays the fields out, so it reports what `amtool check-config` would report on
//! the written file.

use std::collections::{HashMap, HashSet};

use alert_core::{MatchType, Matcher, ParserMode, parse_matchers};

use crate::config::address::check_host_port;
use crate::config::go_quote::go_quote;
use crate::config::time_interval::check_location;
use crate::config::url::{check_alertmanager_url, go_url_parse};
use crate::config::{
    Config, DayOfMonthRange, EmailConfig, GROUP_BY_ALL, GlobalConfig, HttpClientConfig,
    InhibitRule, MonthRange, NamedTimeInterval, OpsGenieConfig, PagerdutyConfig, PushoverConfig,
    Receiver, Route, Secret, SigV4Config, SlackAction, SlackConfig, SlackConfirmationField,
    SlackField, SnsConfig, TLS_VERSIONS, TelegramConfig, TimeInterval, TimeRange, TlsConfig,
    VictorOpsConfig, WebexConfig, WebhookConfig, WechatConfig, WeekdayRange, YearRange,
};
use crate::error::{Error, Result};

fn join(path: &str, field: &str) -> String {
    format!("{path}.{field}")
}

fn empty(s: &Option<String>) -> bool {
    s.as_deref().unwrap_or("").is_empty()
}

fn empty_secret(s: &Option<Secret>) -> bool {
    s.as_ref().is_none_or(Secret::is_empty)
}

/// Prometheus's label name rule (`^[a-zA-Z_][a-zA-Z0-9_]*$`).
pub(crate) fn is_label_name(s: &str) -> bool {
    alert_core::is_valid_label_name(s)
}

// ---------------------------------------------------------------------------------------
// Single values.

/// An Alertmanager `config.URL` (`http`/`https` with a host).
pub(crate) fn url(value: &str, path: &str) -> Result<()> {
    check_alertmanager_url(value).map_err(|message| Error::InvalidUrl {
        path: path.to_owned(),
        message,
    })
}

/// An Alertmanager `config.SecretURL`: a URL, or `<secret>` (a redacted copy).
pub(crate) fn secret_url(value: &str, path: &str) -> Result<()> {
    if value == Secret::REDACTED {
        return Ok(());
    }
    url(value, path)
}

/// A prometheus/common `config.URL` (`proxy_url`): anything Go's `url.Parse` accepts.
pub(crate) fn common_url(value: &str, path: &str) -> Result<()> {
    go_url_parse(value)
        .map(|_| ())
        .map_err(|message| Error::InvalidUrl {
            path: path.to_owned(),
            message,
        })
}

/// A `host:port` (`smtp_smarthost`, `smarthost`).
pub(crate) fn host_port(value: &str, path: &str) -> Result<()> {
    check_host_port(value).map_err(|message| Error::InvalidAddress {
        path: path.to_owned(),
        message,
    })
}

/// A TLS version name.
pub(crate) fn tls_version(value: &str, path: &str) -> Result<()> {
    if TLS_VERSIONS.contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            path: path.to_owned(),
            message: format!("unknown TLS version: {value}"),
        })
    }
}

/// A time zone name (`location`).
pub(crate) fn location(value: &str, path: &str) -> Result<()> {
    check_location(value).map_err(|message| Error::InvalidTimeInterval {
        path: path.to_owned(),
        message,
    })
}

/// An entry of an inhibition rule's `equal` list (`model.LabelName`). `null` and `~`
/// are written quoted, and yaml.v2 hands a quoted `"null"` or `"~"` to a string type
/// without calling its `UnmarshalYAML`, so Alertmanager accepts them unchecked.
pub(crate) fn equal_label(value: &str, path: &str) -> Result<()> {
    if is_label_name(value) || value == "null" || value == "~" {
        Ok(())
    } else {
        Err(Error::InvalidLabelName {
            path: path.to_owned(),
            message: format!("{} is not a valid label name", go_quote(value)),
        })
    }
}

/// Verdicts on matcher strings and regexes already parsed during one validation: large
/// configurations repeat them, and compiling a regex is the dearest check there is.
#[derive(Debug, Default)]
pub(crate) struct ParseMemo {
    lines: HashMap<String, Option<String>>,
    regexes: HashMap<String, Option<String>>,
}

impl ParseMemo {
    /// The `matchers` list of a route or inhibition rule: every string must parse with
    /// the classic grammar (`bad matcher format: ...`).
    pub(crate) fn matcher_lines(&mut self, lines: &[String], path: &str) -> Result<()> {
        for (i, line) in lines.iter().enumerate() {
            let verdict = match self.lines.get(line.as_str()) {
                Some(v) => v.clone(),
                None => {
                    let v = parse_matchers(line, ParserMode::Classic)
                        .err()
                        .map(|e| e.to_string());
                    self.lines.insert(line.clone(), v.clone());
                    v
                }
            };
            if let Some(message) = verdict {
                return Err(Error::InvalidMatcher {
                    path: format!("{path}[{i}]"),
                    message,
                });
            }
        }
        Ok(())
    }

    /// A `match_re` value: it must compile anchored (`error parsing regexp: ...`).
    pub(crate) fn match_re_value(&mut self, value: &str, path: &str) -> Result<()> {
        let verdict = match self.regexes.get(value) {
            Some(v) => v.clone(),
            None => {
                let v = Matcher::new(MatchType::Regexp, "", value)
                    .err()
                    .map(|e| e.to_string());
                self.regexes.insert(value.to_owned(), v.clone());
                v
            }
        };
        match verdict {
            Some(message) => Err(Error::InvalidMatcher {
                path: path.to_owned(),
                message,
            }),
            None => Ok(()),
        }
    }
}

/// The keys of a `match` or `match_re` map, checked after the map is decoded.
/// Alertmanager walks a Go map (random order); this walks names in sorted order.
/// `null_values` are the keys whose `match_re` value was `null`.
pub(crate) fn match_keys<'a>(
    keys: impl IntoIterator<Item = &'a String>,
    null_values: &HashSet<String>,
    path: &str,
) -> Result<()> {
    for k in keys {
        if !is_label_name(k) {
            return Err(Error::InvalidLabelName {
                path: join(path, k),
                message: format!("invalid label name {}", go_quote(k)),
            });
        }
        if null_values.contains(k) {
            return Err(Error::InvalidMatcher {
                path: join(path, k),
                message: format!("invalid regexp value for {}", go_quote(k)),
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Checks right after a type's fields are decoded.

/// `Route.UnmarshalYAML`: `match` keys, `group_by`, zero intervals.
pub(crate) fn route_fields(route: &Route, path: &str) -> Result<()> {
    for k in route.r#match.keys() {
        if !is_label_name(k) {
            return Err(Error::InvalidLabelName {
                path: format!("{path}.match.{k}"),
                message: format!("invalid label name {}", go_quote(k)),
            });
        }
    }
    let mut by_all = false;
    let group_by = route.group_by.as_deref().unwrap_or(&[]);
    let mut names: Vec<&str> = Vec::with_capacity(group_by.len());
    for (i, l) in group_by.iter().enumerate() {
        if l == GROUP_BY_ALL {
            by_all = true;
        } else if !is_label_name(l) {
            return Err(Error::InvalidLabelName {
                path: format!("{path}.group_by[{i}]"),
                message: format!("invalid label name {} in group_by list", go_quote(l)),
            });
        } else {
            names.push(l);
        }
    }
    if !names.is_empty() && by_all {
        return Err(Error::InvalidGroupBy {
            path: join(path, "group_by"),
            message:
                "cannot have wildcard group_by (`...`) and other other labels at the same time"
                    .into(),
        });
    }
    let mut seen = HashSet::with_capacity(names.len());
    for n in names {
        if !seen.insert(n) {
            return Err(Error::InvalidGroupBy {
                path: join(path, "group_by"),
                message: format!("duplicated label {} in group_by", go_quote(n)),
            });
        }
    }
    if route.group_interval.is_some_and(|d| d.is_zero()) {
        return Err(Error::InvalidDuration {
            path: join(path, "group_interval"),
            message: "group_interval cannot be zero".into(),
        });
    }
    if route.repeat_interval.is_some_and(|d| d.is_zero()) {
        return Err(Error::InvalidDuration {
            path: join(path, "repeat_interval"),
            message: "repeat_interval cannot be zero".into(),
        });
    }
    Ok(())
}

/// `InhibitRule.UnmarshalYAML`: `source_match` then `target_match` keys.
pub(crate) fn inhibit_rule_fields(rule: &InhibitRule, path: &str) -> Result<()> {
    for (field, map) in [
        ("source_match", &rule.source_match),
        ("target_match", &rule.target_match),
    ] {
        match_keys(map.keys(), &HashSet::new(), &join(path, field))?;
    }
    Ok(())
}

/// `Receiver.UnmarshalYAML`: a name is required.
pub(crate) fn receiver_fields(receiver: &Receiver, path: &str) -> Result<()> {
    if receiver.name.is_empty() {
        return Err(Error::MissingField {
            path: join(path, "name"),
            message: "missing name in receiver".into(),
        });
    }
    Ok(())
}

/// `config.TimeInterval.UnmarshalYAML` / `MuteTimeInterval.UnmarshalYAML`.
pub(crate) fn named_time_interval_fields(
    interval: &NamedTimeInterval,
    mute: bool,
    path: &str,
) -> Result<()> {
    if interval.name.is_empty() {
        let which = if mute {
            "mute time interval"
        } else {
            "time interval"
        };
        return Err(Error::MissingField {
            path: join(path, "name"),
            message: format!("missing name in {which}"),
        });
    }
    Ok(())
}

/// prometheus/common `HTTPClientConfig.Validate`.
pub(crate) fn http_config_fields(h: &HttpClientConfig, path: &str) -> Result<()> {
    let conflict = |message: &str| Error::ConflictingFields {
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let bearer = !empty_secret(&h.bearer_token);
    let bearer_file = !empty(&h.bearer_token_file);
    if bearer && bearer_file {
        return Err(conflict(
            "at most one of bearer_token & bearer_token_file must be configured",
        ));
    }
    if (h.basic_auth.is_some() || h.oauth2.is_some()) && (bearer || bearer_file) {
        return Err(conflict(
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ));
    }
    if let Some(b) = &h.basic_auth
        && !empty_secret(&b.password)
        && !empty(&b.password_file)
    {
        return Err(conflict(
            "at most one of basic_auth password & password_file must be configured",
        ));
    }
    if let Some(a) = &h.authorization {
        if bearer || bearer_file {
            return Err(conflict(
                "authorization is not compatible with bearer_token & bearer_token_file",
            ));
        }
        if !empty_secret(&a.credentials) && !empty(&a.credentials_file) {
            return Err(conflict(
                "at most one of authorization credentials & credentials_file must be configured",
            ));
        }
        if a.r#type
            .as_deref()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("basic")
        {
            return Err(Error::InvalidValue {
                path: format!("{path}.authorization.type"),
                message:
                    "authorization type cannot be set to \"basic\", use \"basic_auth\" instead"
                        .into(),
            });
        }
        if h.basic_auth.is_some() || h.oauth2.is_some() {
            return Err(conflict(
                "at most one of basic_auth, oauth2 & authorization must be configured",
            ));
        }
    }
    if let Some(o) = &h.oauth2 {
        if h.basic_auth.is_some() {
            return Err(conflict(
                "at most one of basic_auth, oauth2 & authorization must be configured",
            ));
        }
        let missing = |field: &str, message: &str| Error::MissingField {
            path: format!("{path}.oauth2.{field}"),
            message: message.to_owned(),
        };
        if empty(&o.client_id) {
            return Err(missing("client_id", "oauth2 client_id must be configured"));
        }
        if empty_secret(&o.client_secret) && empty(&o.client_secret_file) {
            return Err(missing(
                "client_secret",
                "either oauth2 client_secret or client_secret_file must be configured",
            ));
        }
        if empty(&o.token_url) {
            return Err(missing("token_url", "oauth2 token_url must be configured"));
        }
        if !empty_secret(&o.client_secret) && !empty(&o.client_secret_file) {
            return Err(Error::ConflictingFields {
                path: format!("{path}.oauth2"),
                message:
                    "at most one of oauth2 client_secret & client_secret_file must be configured"
                        .into(),
            });
        }
    }
    if !h.proxy_connect_header.is_empty() && empty(&h.proxy_url) {
        return Err(Error::MissingField {
            path: join(path, "proxy_url"),
            message: "if proxy_connect_header is configured proxy_url must also be configured"
                .into(),
        });
    }
    Ok(())
}

/// Whether an `http_config` ends up with an `Authorization` (set directly, or made from
/// `bearer_token(_file)` by `Validate`).
fn has_authorization(h: &HttpClientConfig) -> bool {
    h.authorization.is_some() || !empty_secret(&h.bearer_token) || !empty(&h.bearer_token_file)
}

/// prometheus/common `SigV4Config.Validate`.
pub(crate) fn sigv4_fields(s: &SigV4Config, path: &str) -> Result<()> {
    if empty(&s.access_key) != empty_secret(&s.secret_key) {
        return Err(Error::MissingField {
            path: path.to_owned(),
            message: "must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config".into(),
        });
    }
    Ok(())
}

/// `EmailConfig.UnmarshalYAML`.
pub(crate) fn email_fields(c: &EmailConfig, path: &str) -> Result<()> {
    if empty(&c.to) {
        return Err(Error::MissingField {
            path: join(path, "to"),
            message: "missing to address in email config".into(),
        });
    }
    let mut seen = HashSet::new();
    for h in c.headers.keys() {
        let normalized = canonical_mime_header_key(h);
        if !seen.insert(normalized.clone()) {
            return Err(Error::InvalidValue {
                path: format!("{path}.headers.{h}"),
                message: format!("duplicate header {} in email config", go_quote(&normalized)),
            });
        }
    }
    Ok(())
}

/// Go's `textproto.CanonicalMIMEHeaderKey`.
fn canonical_mime_header_key(s: &str) -> String {
    let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    if !s.bytes().all(token) {
        return s.to_owned();
    }
    let mut upper = true;
    s.bytes()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == b'-';
            char::from(out)
        })
        .collect()
}

/// `PagerdutyConfig.UnmarshalYAML`.
pub(crate) fn pagerduty_fields(c: &PagerdutyConfig, path: &str) -> Result<()> {
    if empty_secret(&c.routing_key)
        && empty_secret(&c.service_key)
        && empty(&c.routing_key_file)
        && empty(&c.service_key_file)
    {
        return Err(Error::MissingField {
            path: join(path, "routing_key"),
            message: "missing service or routing key in PagerDuty config".into(),
        });
    }
    if !empty_secret(&c.routing_key) && !empty(&c.routing_key_file) {
        return Err(Error::ConflictingFields {
            path: path.to_owned(),
            message: "at most one of routing_key & routing_key_file must be configured".into(),
        });
    }
    if !empty_secret(&c.service_key) && !empty(&c.service_key_file) {
        return Err(Error::ConflictingFields {
            path: path.to_owned(),
            message: "at most one of service_key & service_key_file must be configured".into(),
        });
    }
    Ok(())
}

/// `SlackAction.UnmarshalYAML`.
pub(crate) fn slack_action_fields(a: &SlackAction, path: &str) -> Result<()> {
    let missing = |field: &str, message: &str| Error::MissingField {
        path: join(path, field),
        message: message.to_owned(),
    };
    if empty(&a.r#type) {
        return Err(missing(
            "type",
            "missing type in Slack action configuration",
        ));
    }
    if empty(&a.text) {
        return Err(missing(
            "text",
            "missing text in Slack action configuration",
        ));
    }
    if empty(&a.url) && empty(&a.name) {
        return Err(missing(
            "url",
            "missing name or url in Slack action configuration",
        ));
    }
    Ok(())
}

/// `SlackConfirmationField.UnmarshalYAML`.
pub(crate) fn slack_confirm_fields(c: &SlackConfirmationField, path: &str) -> Result<()> {
    if empty(&c.text) {
        return Err(Error::MissingField {
            path: join(path, "text"),
            message: "missing text in Slack confirmation configuration".into(),
        });
    }
    Ok(())
}

/// `SlackField.UnmarshalYAML`.
pub(crate) fn slack_field_fields(f: &SlackField, path: &str) -> Result<()> {
    if empty(&f.title) {
        return Err(Error::MissingField {
            path: join(path, "title"),
            message: "missing title in Slack field configuration".into(),
        });
    }
    if empty(&f.value) {
        return Err(Error::MissingField {
            path: join(path, "value"),
            message: "missing value in Slack field configuration".into(),
        });
    }
    Ok(())
}

/// `SlackConfig.UnmarshalYAML`.
pub(crate) fn slack_fields(c: &SlackConfig, path: &str) -> Result<()> {
    if c.api_url.is_some() && !empty(&c.api_url_file) {
        return Err(Error::ConflictingFields {
            path: path.to_owned(),
            message: "at most one of api_url & api_url_file must be configured".into(),
        });
    }
    Ok(())
}

/// `WebhookConfig.UnmarshalYAML`.
pub(crate) fn webhook_fields(c: &WebhookConfig, path: &str) -> Result<()> {
    if c.url.is_none() {
        return Err(Error::MissingField {
            path: join(path, "url"),
            message: "missing URL in webhook config".into(),
        });
    }
    Ok(())
}

/// `WechatConfig.UnmarshalYAML`.
pub(crate) fn wechat_fields(c: &WechatConfig, path: &str) -> Result<()> {
    let t = match c.message_type.as_deref() {
        None | Some("") => "text",
        Some(t) => t,
    };
    if t != "text" && t != "markdown" {
        return Err(Error::InvalidValue {
            path: join(path, "message_type"),
            message: format!(
                "weChat message type {} does not match valid options ^(text|markdown)$",
                go_quote(t)
            ),
        });
    }
    Ok(())
}

/// `OpsGenieConfig.UnmarshalYAML`.
pub(crate) fn opsgenie_fields(c: &OpsGenieConfig, path: &str) -> Result<()> {
    if !empty_secret(&c.api_key) && !empty(&c.api_key_file) {
        return Err(Error::ConflictingFields {
            path: path.to_owned(),
            message: "at most one of api_key & api_key_file must be configured".into(),
        });
    }
    for (i, r) in c.responders.iter().enumerate() {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let (id, name, username) = (s(&r.id), s(&r.name), s(&r.username));
        let mut kind = s(&r.r#type);
        let rpath = format!("{path}.responders[{i}]");
        if id.is_empty() && username.is_empty() && name.is_empty() {
            return Err(Error::MissingField {
                path: rpath,
                message: format!(
                    "opsGenieConfig responder {{{id} {name} {username} {kind}}} has to have at least one of id, username or name specified"
                ),
            });
        }
        if kind.contains("{{") {
            // A template; Alertmanager parses it with text/template, which this crate
            // does not reimplement.
            continue;
        }
        kind = kind.to_lowercase();
        if !matches!(
            kind.as_str(),
            "team" | "teams" | "user" | "escalation" | "schedule"
        ) {
            return Err(Error::InvalidValue {
                path: join(&rpath, "type"),
                message: format!(
                    "opsGenieConfig responder {{{id} {name} {username} {kind}}} type does not match valid options ^(team|teams|user|escalation|schedule)$"
                ),
            });
        }
    }
    Ok(())
}

/// `VictorOpsConfig.UnmarshalYAML`.
pub(crate) fn victorops_fields(c: &VictorOpsConfig, path: &str) -> Result<()> {
    if empty(&c.routing_key) {
        return Err(Error::MissingField {
            path: join(path, "routing_key"),
            message: "missing Routing key in VictorOps config".into(),
        });
    }
    if !empty_secret(&c.api_key) && !empty(&c.api_key_file) {
        return Err(Error::ConflictingFields {
            path: path.to_owned(),
            message: "at most one of api_key & api_key_file must be configured".into(),
        });
    }
    for v in alert_core::endpoint::victorops::RESERVED_FIELDS {
        if c.custom_fields.contains_key(v) {
            return Err(Error::InvalidValue {
                path: format!("{path}.custom_fields.{v}"),
                message: format!(
                    "victorOps config contains custom field {v} which cannot be used as it conflicts with the fixed/static fields"
                ),
            });
        }
    }
    Ok(())
}

/// `PushoverConfig.UnmarshalYAML`.
pub(crate) fn pushover_fields(c: &PushoverConfig, path: &str) -> Result<()> {
    if empty_secret(&c.user_key) {
        return Err(Error::MissingField {
            path: join(path, "user_key"),
            message: "missing user key in Pushover config".into(),
        });
    }
    if empty_secret(&c.token) {
        return Err(Error::MissingField {
            path: join(path, "token"),
            message: "missing token in Pushover config".into(),
        });
    }
    Ok(())
}

/// `SNSConfig.UnmarshalYAML` (Go's `a != b != c` chain: an odd number of the three
/// targets may be empty... i.e. exactly one set, or all three).
pub(crate) fn sns_fields(c: &SnsConfig, path: &str) -> Result<()> {
    let (t, topic, phone) = (
        empty(&c.target_arn),
        empty(&c.topic_arn),
        empty(&c.phone_number),
    );
    if (t != topic) != phone {
        return Err(Error::MissingField {
            path: join(path, "topic_arn"),
            message: "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"
                .into(),
        });
    }
    Ok(())
}

/// `TelegramConfig.UnmarshalYAML`.
pub(crate) fn telegram_fields(c: &TelegramConfig, path: &str) -> Result<()> {
    if empty_secret(&c.bot_token) {
        return Err(Error::MissingField {
            path: join(path, "bot_token"),
            message: "missing bot_token on telegram_config".into(),
        });
    }
    if c.chat_id.unwrap_or(0) == 0 {
        return Err(Error::MissingField {
            path: join(path, "chat_id"),
            message: "missing chat_id on telegram_config".into(),
        });
    }
    if !matches!(
        c.parse_mode.as_deref(),
        None | Some("" | "Markdown" | "MarkdownV2" | "HTML")
    ) {
        return Err(Error::InvalidValue {
            path: join(path, "parse_mode"),
            message: "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string".into(),
        });
    }
    Ok(())
}

/// `WebexConfig.UnmarshalYAML`.
pub(crate) fn webex_fields(c: &WebexConfig, path: &str) -> Result<()> {
    if empty(&c.room_id) {
        return Err(Error::MissingField {
            path: join(path, "room_id"),
            message: "missing room_id on webex_config".into(),
        });
    }
    if !c.http_config.as_ref().is_some_and(has_authorization) {
        return Err(Error::MissingField {
            path: join(path, "http_config.authorization"),
            message: "missing webex_configs.http_config.authorization".into(),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Checks over the whole configuration.

/// `Config.UnmarshalYAML` after decoding, then `Load`'s root `continue` check.
///
/// `route` is `None` when the file has no `route`; `null_entries` are paths of list
/// entries that were `null` where Alertmanager 0.25 dereferences them (it crashes; this
/// reports them instead).
pub(crate) fn whole_config(
    global: Option<&GlobalConfig>,
    route: Option<&Route>,
    receivers: &[Receiver],
    mute_time_intervals: &[NamedTimeInterval],
    time_intervals: &[NamedTimeInterval],
    null_entries: &[String],
) -> Result<()> {
    if let Some(path) = null_entries.first() {
        return Err(Error::NullEntry {
            path: path.clone(),
            message: "null entry (Alertmanager 0.25 crashes on it)".into(),
        });
    }
    let default_global = GlobalConfig::default();
    let global = global.unwrap_or(&default_global);
    global_exclusivity(global)?;
    let mut names = HashSet::new();
    for (i, r) in receivers.iter().enumerate() {
        let path = format!("receivers[{i}]");
        if names.contains(r.name.as_str()) {
            return Err(Error::DuplicateReceiver {
                path: join(&path, "name"),
                name: r.name.clone(),
            });
        }
        global_defaults(global, r, &path)?;
        names.insert(r.name.as_str());
    }
    let Some(route) = route else {
        return Err(Error::MissingRoute);
    };
    root_route(route)?;
    undefined_receivers(route, &names, &mut String::from("route"))?;
    let mut ti_names = HashSet::new();
    for (list, mute, intervals) in [
        ("mute_time_intervals", true, mute_time_intervals),
        ("time_intervals", false, time_intervals),
    ] {
        for (i, ti) in intervals.iter().enumerate() {
            if !ti_names.insert(ti.name.as_str()) {
                let which = if mute {
                    "mute time interval"
                } else {
                    "time interval"
                };
                return Err(Error::DuplicateTimeInterval {
                    path: format!("{list}[{i}].name"),
                    message: format!("{which} {} is not unique", go_quote(&ti.name)),
                });
            }
        }
    }
    undefined_time_intervals(route, &ti_names, &mut String::from("route"))?;
    if route.r#continue {
        return Err(Error::InvalidRootRoute {
            path: "route.continue".into(),
            message: "cannot have continue in root route".into(),
        });
    }
    Ok(())
}

fn global_exclusivity(g: &GlobalConfig) -> Result<()> {
    let conflict = |message: &str| {
        Err(Error::ConflictingFields {
            path: "global".into(),
            message: message.to_owned(),
        })
    };
    if g.slack_api_url.is_some() && !empty(&g.slack_api_url_file) {
        return conflict("at most one of slack_api_url & slack_api_url_file must be configured");
    }
    if !empty_secret(&g.opsgenie_api_key) && !empty(&g.opsgenie_api_key_file) {
        return conflict(
            "at most one of opsgenie_api_key & opsgenie_api_key_file must be configured",
        );
    }
    if !empty_secret(&g.victorops_api_key) && !empty(&g.victorops_api_key_file) {
        return conflict(
            "at most one of victorops_api_key & victorops_api_key_file must be configured",
        );
    }
    if !empty_secret(&g.smtp_auth_password) && !empty(&g.smtp_auth_password_file) {
        return conflict(
            "at most one of smtp_auth_password & smtp_auth_password_file must be configured",
        );
    }
    Ok(())
}

/// Whether a global URL with a default was removed (`null` in the file, kept as `""`).
fn removed(url: &Option<String>) -> bool {
    url.as_deref() == Some("")
}

/// The receiver loop of `Config.UnmarshalYAML`: values integrations take from `global`.
fn global_defaults(g: &GlobalConfig, r: &Receiver, path: &str) -> Result<()> {
    let missing = |field: String, message: &str| {
        Err(Error::MissingGlobalDefault {
            path: field,
            message: message.to_owned(),
        })
    };
    for (i, ec) in r.email_configs.iter().enumerate() {
        let p = format!("{path}.email_configs[{i}]");
        if empty(&ec.smarthost) && empty(&g.smtp_smarthost) {
            return missing(join(&p, "smarthost"), "no global SMTP smarthost set");
        }
        if empty(&ec.from) && empty(&g.smtp_from) {
            return missing(join(&p, "from"), "no global SMTP from set");
        }
    }
    for (i, sc) in r.slack_configs.iter().enumerate() {
        if sc.api_url.is_none()
            && empty(&sc.api_url_file)
            && g.slack_api_url.is_none()
            && empty(&g.slack_api_url_file)
        {
            return missing(
                format!("{path}.slack_configs[{i}].api_url"),
                "no global Slack API URL set either inline or in a file",
            );
        }
    }
    for (i, pc) in r.pagerduty_configs.iter().enumerate() {
        if pc.url.is_none() && removed(&g.pagerduty_url) {
            return missing(
                format!("{path}.pagerduty_configs[{i}].url"),
                "no global PagerDuty URL set",
            );
        }
    }
    for (i, oc) in r.opsgenie_configs.iter().enumerate() {
        let p = format!("{path}.opsgenie_configs[{i}]");
        if oc.api_url.is_none() && removed(&g.opsgenie_api_url) {
            return missing(join(&p, "api_url"), "no global OpsGenie URL set");
        }
        if empty_secret(&oc.api_key)
            && empty(&oc.api_key_file)
            && empty_secret(&g.opsgenie_api_key)
            && empty(&g.opsgenie_api_key_file)
        {
            return missing(
                join(&p, "api_key"),
                "no global OpsGenie API Key set either inline or in a file",
            );
        }
    }
    for (i, wc) in r.wechat_configs.iter().enumerate() {
        let p = format!("{path}.wechat_configs[{i}]");
        if wc.api_url.is_none() && removed(&g.wechat_api_url) {
            return missing(join(&p, "api_url"), "no global Wechat URL set");
        }
        if empty_secret(&wc.api_secret) && empty_secret(&g.wechat_api_secret) {
            return missing(join(&p, "api_secret"), "no global Wechat ApiSecret set");
        }
        if empty(&wc.corp_id) && empty(&g.wechat_api_corp_id) {
            return missing(join(&p, "corp_id"), "no global Wechat CorpID set");
        }
    }
    for (i, vc) in r.victorops_configs.iter().enumerate() {
        let p = format!("{path}.victorops_configs[{i}]");
        if vc.api_url.is_none() && removed(&g.victorops_api_url) {
            return missing(join(&p, "api_url"), "no global VictorOps URL set");
        }
        if empty_secret(&vc.api_key)
            && empty(&vc.api_key_file)
            && empty_secret(&g.victorops_api_key)
            && empty(&g.victorops_api_key_file)
        {
            return missing(join(&p, "api_key"), "no global VictorOps API Key set");
        }
    }
    for (i, dc) in r.discord_configs.iter().enumerate() {
        if dc.webhook_url.is_none() {
            return Err(Error::MissingField {
                path: format!("{path}.discord_configs[{i}].webhook_url"),
                message: "no discord webhook URL provided".into(),
            });
        }
    }
    for (i, wc) in r.webex_configs.iter().enumerate() {
        if wc.api_url.is_none() && removed(&g.webex_api_url) {
            return missing(
                format!("{path}.webex_configs[{i}].api_url"),
                "no global Webex URL set",
            );
        }
    }
    Ok(())
}

fn root_route(route: &Route) -> Result<()> {
    let root = |field: &str, message: &str| {
        Err(Error::InvalidRootRoute {
            path: join("route", field),
            message: message.to_owned(),
        })
    };
    if route.own_receiver().is_none() {
        return root("receiver", "root route must specify a default receiver");
    }
    if !route.is_catch_all() {
        return root("matchers", "root route must not have any matchers");
    }
    if !route.mute_time_intervals.is_empty() {
        return root(
            "mute_time_intervals",
            "root route must not have any mute time intervals",
        );
    }
    if !route.active_time_intervals.is_empty() {
        return root(
            "active_time_intervals",
            "root route must not have any active time intervals",
        );
    }
    Ok(())
}

/// Appends `.routes[i]` to `path`, runs `f`, and restores `path`.
fn in_child<R>(path: &mut String, i: usize, f: impl FnOnce(&mut String) -> R) -> R {
    let len = path.len();
    path.push_str(".routes[");
    path.push_str(&i.to_string());
    path.push(']');
    let r = f(path);
    path.truncate(len);
    r
}

/// `checkReceiver`: children first, then the route itself.
fn undefined_receivers(route: &Route, names: &HashSet<&str>, path: &mut String) -> Result<()> {
    for (i, child) in route.routes.iter().enumerate() {
        in_child(path, i, |p| undefined_receivers(child, names, p))?;
    }
    if let Some(r) = route.own_receiver()
        && !names.contains(r)
    {
        return Err(Error::UndefinedReceiver {
            path: join(path, "receiver"),
            name: r.to_owned(),
        });
    }
    Ok(())
}

/// `checkTimeInterval`: children first, then active, then mute intervals.
fn undefined_time_intervals(route: &Route, names: &HashSet<&str>, path: &mut String) -> Result<()> {
    for (i, child) in route.routes.iter().enumerate() {
        in_child(path, i, |p| undefined_time_intervals(child, names, p))?;
    }
    for (field, list) in [
        ("active_time_intervals", &route.active_time_intervals),
        ("mute_time_intervals", &route.mute_time_intervals),
    ] {
        for (i, name) in list.iter().enumerate() {
            if !names.contains(name.as_str()) {
                return Err(Error::UndefinedTimeInterval {
                    path: format!("{path}.{field}[{i}]"),
                    name: name.clone(),
                });
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The same rules over a configuration built in code.

/// Applies every rule `amtool check-config` applies, to a configuration built in code,
/// and returns the first violation, in the order Alertmanager would meet it in the YAML
/// [`Config::to_yaml`] writes.
///
/// ```
/// use alert_router::config::{Config, Receiver, Route};
/// use alert_router::validate::alertmanager::check;
///
/// let mut config = Config::new(Route::new("default"));
/// assert_eq!(check(&config).unwrap_err().to_string(),
///     "route.receiver: undefined receiver \"default\" used in route");
/// config.receivers.push(Receiver::new("default"));
/// assert!(check(&config).is_ok());
/// ```
pub fn check(config: &Config) -> Result<()> {
    let mut memo = ParseMemo::default();
    if let Some(g) = &config.global {
        global_values(g)?;
    }
    route_tree(&config.route, &mut String::from("route"), &mut memo)?;
    for (i, rule) in config.inhibit_rules.iter().enumerate() {
        inhibit_rule(rule, &format!("inhibit_rules[{i}]"), &mut memo)?;
    }
    for (i, r) in config.receivers.iter().enumerate() {
        receiver(r, &format!("receivers[{i}]"))?;
    }
    for (list, mute, intervals) in [
        ("mute_time_intervals", true, &config.mute_time_intervals),
        ("time_intervals", false, &config.time_intervals),
    ] {
        for (i, ti) in intervals.iter().enumerate() {
            let path = format!("{list}[{i}]");
            for (j, t) in ti.time_intervals.iter().enumerate() {
                time_interval(t, &format!("{path}.time_intervals[{j}]"))?;
            }
            named_time_interval_fields(ti, mute, &path)?;
        }
    }
    whole_config(
        config.global.as_ref(),
        Some(&config.route),
        &config.receivers,
        &config.mute_time_intervals,
        &config.time_intervals,
        &[],
    )
}

fn opt(value: &Option<String>) -> Option<&str> {
    value.as_deref()
}

fn global_values(g: &GlobalConfig) -> Result<()> {
    if let Some(h) = &g.http_config {
        http_config(h, "global.http_config")?;
    }
    if let Some(s) = opt(&g.smtp_smarthost) {
        host_port(s, "global.smtp_smarthost")?;
    }
    if let Some(s) = &g.slack_api_url {
        secret_url(s.expose(), "global.slack_api_url")?;
    }
    for (field, value) in [
        ("pagerduty_url", &g.pagerduty_url),
        ("opsgenie_api_url", &g.opsgenie_api_url),
        ("wechat_api_url", &g.wechat_api_url),
        ("victorops_api_url", &g.victorops_api_url),
        ("telegram_api_url", &g.telegram_api_url),
        ("webex_api_url", &g.webex_api_url),
    ] {
        // `""` stands for `null` here (see `GlobalConfig`).
        if let Some(u) = opt(value).filter(|u| !u.is_empty()) {
            url(u, &format!("global.{field}"))?;
        }
    }
    Ok(())
}

/// The route tree; `path` holds the route's path and is restored on return.
fn route_tree(route: &Route, path: &mut String, memo: &mut ParseMemo) -> Result<()> {
    if !route.match_re.is_empty() {
        for (k, v) in &route.match_re {
            memo.match_re_value(v, &format!("{path}.match_re.{k}"))?;
        }
        match_keys(
            route.match_re.keys(),
            &HashSet::new(),
            &join(path, "match_re"),
        )?;
    }
    if !route.matchers.is_empty() {
        memo.matcher_lines(&route.matchers, &join(path, "matchers"))?;
    }
    for (i, child) in route.routes.iter().enumerate() {
        in_child(path, i, |p| route_tree(child, p, memo))?;
    }
    route_fields(route, path)
}

fn inhibit_rule(rule: &InhibitRule, path: &str, memo: &mut ParseMemo) -> Result<()> {
    for (field, map) in [
        ("source_match_re", &rule.source_match_re),
        ("target_match_re", &rule.target_match_re),
    ] {
        let p = join(path, field);
        for (k, v) in map {
            memo.match_re_value(v, &join(&p, k))?;
        }
        match_keys(map.keys(), &HashSet::new(), &p)?;
    }
    memo.matcher_lines(&rule.source_matchers, &join(path, "source_matchers"))?;
    memo.matcher_lines(&rule.target_matchers, &join(path, "target_matchers"))?;
    for (i, e) in rule.equal.iter().enumerate() {
        equal_label(e, &format!("{path}.equal[{i}]"))?;
    }
    inhibit_rule_fields(rule, path)
}

fn http_config(h: &HttpClientConfig, path: &str) -> Result<()> {
    if let Some(o) = &h.oauth2 {
        if let Some(u) = opt(&o.proxy_url) {
            common_url(u, &format!("{path}.oauth2.proxy_url"))?;
        }
        if let Some(t) = &o.tls_config {
            tls_config(t, &format!("{path}.oauth2.tls_config"))?;
        }
    }
    if let Some(u) = opt(&h.proxy_url) {
        common_url(u, &join(path, "proxy_url"))?;
    }
    if let Some(t) = &h.tls_config {
        tls_config(t, &join(path, "tls_config"))?;
    }
    http_config_fields(h, path)
}

fn tls_config(t: &TlsConfig, path: &str) -> Result<()> {
    for (field, v) in [
        ("min_version", &t.min_version),
        ("max_version", &t.max_version),
    ] {
        if let Some(v) = opt(v).filter(|v| !v.is_empty()) {
            tls_version(v, &join(path, field))?;
        }
    }
    Ok(())
}

fn http_opt(h: &Option<HttpClientConfig>, path: &str) -> Result<()> {
    match h {
        Some(h) => http_config(h, &join(path, "http_config")),
        None => Ok(()),
    }
}

fn url_opt(u: &Option<String>, path: &str, field: &str) -> Result<()> {
    match opt(u) {
        Some(u) => url(u, &join(path, field)),
        None => Ok(()),
    }
}

fn receiver(r: &Receiver, path: &str) -> Result<()> {
    for (i, c) in r.discord_configs.iter().enumerate() {
        let p = format!("{path}.discord_configs[{i}]");
        http_opt(&c.http_config, &p)?;
        if let Some(u) = &c.webhook_url {
            secret_url(u.expose(), &join(&p, "webhook_url"))?;
        }
    }
    for (i, c) in r.email_configs.iter().enumerate() {
        let p = format!("{path}.email_configs[{i}]");
        if let Some(s) = opt(&c.smarthost) {
            host_port(s, &join(&p, "smarthost"))?;
        }
        if let Some(t) = &c.tls_config {
            tls_config(t, &join(&p, "tls_config"))?;
        }
        email_fields(c, &p)?;
    }
    for (i, c) in r.pagerduty_configs.iter().enumerate() {
        let p = format!("{path}.pagerduty_configs[{i}]");
        http_opt(&c.http_config, &p)?;
        url_opt(&c.url, &p, "url")?;
        pagerduty_fields(c, &p)?;
    }
    for (i, c) in r.slack_configs.iter().enumerate() {
        let p = format!("{path}.slack_configs[{i}]");
        http_opt(&c.http_config, &p)?;
        if let Some(u) = &c.api_url {
            secret_url(u.expose(), &join(&p, "api_url"))?;
        }
        for (j, f) in c.fields.iter().enumerate() {
            slack_field_fields(f, &format!("{p}.fields[{j}]"))?;
        }
        for (j, a) in c.actions.iter().enumerate() {
            let ap = format!("{p}.actions[{j}]");
            if let Some(confirm) = &a.confirm {
                slack_confirm_fields(confirm, &join(&ap, "confirm"))?;
            }
            slack_action_fields(a, &ap)?;
        }
        slack_fields(c, &p)?;
    }
    for (i, c) in r.webhook_configs.iter().enumerate() {
        let p = format!("{path}.webhook_configs[{i}]");
        http_opt(&c.http_config, &p)?;
        url_opt(&c.url, &p, "url")?;
        webhook_fields(c, &p)?;
    }
    for (i, c) in r.opsgenie_configs.iter().enumerate() {
        let p = format!("{path}.opsgenie_configs[{i}]");
        http_opt(&c.http_config, &p)?;
        url_opt(&c.api_url, &p, "api_url")?;
        opsgenie_fields(c, &p)?;
    }
    for (i, c) in r.wechat_configs.iter().enumerate() {
        let p = format!("{path}.wechat_configs[{i}]");
        http_opt(&c.http_config, &p)?;
        url_opt(&c.api_url, &p, "api_url")?;
        wechat_fields(c, &p)?;
    }
    for (i, c) in r.pushover_configs.iter().enumerate() {
        let p = format!("{path}.pushover_configs[{i}]");
        http_opt(&c.http_config, &p)?;
        pushover_fields(c, &p)?;
    }
    for (i, c) in r.victorops_configs.iter().enumerate() {
        let p = format!("{path}.victorops_configs[{i}]");
        http_opt(&c.http_config, &p)?;
        url_opt(&c.api_url, &p, "api_url")?;
        victorops_fields(c, &p)?;
    }
    for (i, c) in r.sns_configs.iter().enumerate() {
        let p = format!("{path}.sns_configs[{i}]");
        http_opt(&c.http_config, &p)?;
        if let Some(s) = &c.sigv4 {
            sigv4_fields(s, &join(&p, "sigv4"))?;
        }
        sns_fields(c, &p)?;
    }
    for (i, c) in r.telegram_configs.iter().enumerate() {
        let p = format!("{path}.telegram_configs[{i}]");
        http_opt(&c.http_config, &p)?;
        url_opt(&c.api_url, &p, "api_url")?;
        telegram_fields(c, &p)?;
    }
    for (i, c) in r.webex_configs.iter().enumerate() {
        let p = format!("{path}.webex_configs[{i}]");
        http_opt(&c.http_config, &p)?;
        url_opt(&c.api_url, &p, "api_url")?;
        webex_fields(c, &p)?;
    }
    receiver_fields(r, path)
}

/// The parts of a time interval built in code: the same limits the string forms have.
fn time_interval(t: &TimeInterval, path: &str) -> Result<()> {
    let bad = |field: &str, i: usize, message: String| Error::InvalidTimeInterval {
        path: format!("{path}.{field}[{i}]"),
        message,
    };
    for (i, r) in t.times.iter().flatten().enumerate() {
        TimeRange::parse_am(&r.start_time(), &r.end_time()).map_err(|m| bad("times", i, m))?;
    }
    for (i, r) in t.weekdays.iter().flatten().enumerate() {
        if r.end > 6 || r.begin > 6 {
            return Err(bad(
                "weekdays",
                i,
                format!("{r} is not a valid day of the week: out of range"),
            ));
        }
        WeekdayRange::parse_am(&r.to_string()).map_err(|m| bad("weekdays", i, m))?;
    }
    for (i, r) in t.days_of_month.iter().flatten().enumerate() {
        DayOfMonthRange::parse_am(&r.to_string()).map_err(|m| bad("days_of_month", i, m))?;
    }
    for (i, r) in t.months.iter().flatten().enumerate() {
        MonthRange::parse_am(&r.to_string()).map_err(|m| bad("months", i, m))?;
    }
    for (i, r) in t.years.iter().flatten().enumerate() {
        YearRange::parse_am(&r.to_string()).map_err(|m| bad("years", i, m))?;
    }
    if let Some(l) = &t.location {
        location(l.name(), &join(path, "location"))?;
    }
    Ok(())
}
