//! Reading `alertmanager.yml` the way Alertmanager 0.25's `config.Load` does: Go's field
//! names and types, defaults, decode-time checks in document order, then the checks
//! over the whole configuration.

use std::collections::{HashMap, HashSet};

use alert_core::Duration;

use super::decode::{Decoder, Prepared};
use super::events::ErrorKind;
use super::node::{self, Node, SyntaxError};
use crate::config::go_quote::go_quote;
use crate::config::time_interval::Location;
use crate::config::{
    Authorization, BasicAuth, Config, DayOfMonthRange, DiscordConfig, EmailConfig, GlobalConfig,
    GoDuration, HttpClientConfig, InhibitRule, MonthRange, NamedTimeInterval, OAuth2,
    OpsGenieConfig, OpsGenieResponder, PagerdutyConfig, PagerdutyImage, PagerdutyLink,
    PushoverConfig, Receiver, Route, Secret, SigV4Config, SlackAction, SlackConfig,
    SlackConfirmationField, SlackField, SnsConfig, TelegramConfig, TimeInterval, TimeRange,
    TlsConfig, VictorOpsConfig, WebexConfig, WebhookConfig, WechatConfig, WeekdayRange, YearRange,
};
use crate::error::{Error, Result};
use crate::validate::alertmanager as rules;

type R<T> = Result<T>;

/// Reads a whole configuration (see [`Config::from_yaml`]).
pub(crate) fn read_config(text: &str) -> R<Config> {
    // yaml.v2 skips a byte order mark; libyaml would read a second document after it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let tree = match node::build(text) {
        Ok(Some(tree)) => tree,
        Ok(None) => return Err(Error::EmptyConfig),
        Err(e) => return Err(syntax_error(&e)),
    };
    if tree.height <= SHALLOW {
        return decode_tree(text, tree.root);
    }
    // Decoding recurses once or twice per level, and yaml.v2 allows 10,000 levels: give
    // deep documents a stack to match.
    let stack = STACK_BASE + tree.height * STACK_PER_LEVEL;
    let root = tree.root;
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("alert-router-yaml".into())
            .stack_size(stack)
            .spawn_scoped(scope, move || decode_tree(text, root))
            .map_err(|e| Error::YamlSyntax {
                line: None,
                problem: format!("cannot start a thread to decode a deeply nested document: {e}"),
            })?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Reads a whole configuration from bytes (see [`Config::from_yaml_bytes`]): yaml.v2
/// detects UTF-16 by its byte order mark and reads it as UTF-8, skips a UTF-8 byte order
/// mark, and refuses bytes that are not UTF-8 with its reader's message.
pub(crate) fn read_config_bytes(bytes: &[u8]) -> R<Config> {
    let reader_error = |problem: &str| Error::YamlSyntax {
        line: None,
        problem: problem.to_owned(),
    };
    let text = match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes).map_err(reader_error)?,
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes).map_err(reader_error)?,
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => return read_config(text),
            Err(_) => {
                if let Some(e) = node::check_bytes(bytes) {
                    return Err(syntax_error(&e));
                }
                // The bad bytes lie past the first document, which yaml.v2 never reads.
                String::from_utf8_lossy(bytes).into_owned()
            }
        },
    };
    read_config(&text)
}

/// UTF-16 as yaml.v2's reader decodes it, with its messages.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> std::result::Result<String, &'static str> {
    let mut units = bytes.chunks(2).map(|c| match c {
        [a, b] => Ok(unit([*a, *b])),
        _ => Err("incomplete UTF-16 character"),
    });
    let mut out = String::with_capacity(bytes.len() / 2);
    while let Some(u) = units.next() {
        let u = u?;
        let c = match u & 0xFC00 {
            0xDC00 => return Err("unexpected low surrogate area"),
            0xD800 => {
                let low = match units.next() {
                    Some(Ok(low)) => low,
                    _ => return Err("incomplete UTF-16 surrogate pair"),
                };
                if low & 0xFC00 != 0xDC00 {
                    return Err("expected low surrogate area");
                }
                0x10000 + ((u32::from(u) & 0x3FF) << 10) + (u32::from(low) & 0x3FF)
            }
            _ => u32::from(u),
        };
        out.push(char::from_u32(c).ok_or("invalid Unicode character")?);
    }
    Ok(out)
}

/// Trees up to this height are decoded on the caller's stack (the depth `yaml_serde`
/// allowed before, which every caller's stack held).
const SHALLOW: usize = 100;
/// Stack for decoding a deep tree: a base, and this much per level (debug builds use
/// about a tenth of it).
const STACK_BASE: usize = 1 << 20;
const STACK_PER_LEVEL: usize = 32 << 10;

/// Decodes a built tree (see [`read_config`]).
fn decode_tree(text: &str, root: Node<'_>) -> R<Config> {
    decode_with(text, &root, document)
}

/// Decodes `root` with `decode`, fetching the source texts of scalars a second round
/// needs (a number or boolean read as a string).
fn decode_with<'s, T>(
    text: &'s str,
    root: &Node<'s>,
    decode: impl Fn(&mut Decoder<'s, '_>, &Node<'s>) -> R<T>,
) -> R<T> {
    let mut texts = HashMap::new();
    let mut second_round = false;
    loop {
        let mut d = Decoder::new(text, root, texts);
        let result = decode(&mut d, root);
        if second_round || d.missing_texts().is_empty() {
            return result;
        }
        // Some scalar's source text was needed (a number or boolean read as a string):
        // fetch those texts and decode again.
        texts = node::raw_texts(root, d.missing_texts());
        second_round = true;
    }
}

/// yaml.v2's error for a fault of the YAML text: `yaml: line N: <problem>`, the line
/// counted as yaml.v2's `parser.fail` counts it (a scanner error's problem line from 1,
/// a parser error's from 0, none when it would be 0).
fn syntax_error(e: &SyntaxError) -> Error {
    match e {
        SyntaxError::Libyaml(e) => {
            let line = if e.problem_mark.line != 0 {
                Some(e.problem_mark.line + usize::from(e.kind == ErrorKind::Scanner))
            } else {
                Some(e.context_mark.line).filter(|l| *l != 0)
            };
            // Reader errors carry no mark in yaml.v2.
            let line = line.filter(|_| e.kind != ErrorKind::Reader);
            Error::YamlSyntax {
                line,
                problem: e.problem.clone(),
            }
        }
        SyntaxError::TooDeep { mark } => Error::YamlSyntax {
            line: Some(mark.line + 1).filter(|_| mark.line != 0),
            problem: format!("exceeded max depth of {}", node::MAX_DEPTH),
        },
        SyntaxError::UnknownAnchor { name } => Error::YamlSyntax {
            line: None,
            problem: format!("unknown anchor '{name}' referenced"),
        },
        SyntaxError::ExcessiveAliasing => Error::YamlSyntax {
            line: None,
            problem: "document contains excessive aliasing".into(),
        },
        SyntaxError::BadTaggedValue { line, message } => Error::YamlSyntax {
            line: Some(*line),
            problem: message.clone(),
        },
    }
}

fn document<'s>(d: &mut Decoder<'s, '_>, root: &Node<'s>) -> R<Config> {
    match d.prepare(root) {
        Prepared::Zero => return Err(Error::EmptyConfig),
        Prepared::Quoted(_) => {
            d.type_error(root, "config.Config");
            return Err(d.faults_error().unwrap_or(Error::EmptyConfig));
        }
        Prepared::Proceed => {}
    }
    let mut global: Option<GlobalConfig> = None;
    let mut route: Option<Route> = None;
    let mut config = Config::default();
    d.fields(
        root,
        "config.plain",
        &[
            "global",
            "route",
            "inhibit_rules",
            "receivers",
            "templates",
            "mute_time_intervals",
            "time_intervals",
        ],
        &mut |d, i, v| {
            match i {
                0 => global = global_config(d, v)?,
                1 => route = route_ptr(d, v)?,
                2 => {
                    config.inhibit_rules = d
                        .seq(v, "[]*config.InhibitRule", |d, n| {
                            // A null entry is a nil pointer amtool accepts; keep an empty rule.
                            Ok(Some(inhibit_rule(d, n)?.unwrap_or_default()))
                        })?
                        .unwrap_or_default()
                }
                3 => {
                    config.receivers = d
                        .seq(v, "[]*config.Receiver", |d, n| {
                            if null_entry(d, n, "*config.Receiver") {
                                return Ok(Some(Receiver::default()));
                            }
                            receiver(d, n)
                        })?
                        .unwrap_or_default()
                }
                4 => config.templates = d.strings(v)?.unwrap_or_default(),
                5 => {
                    config.mute_time_intervals = d
                        .seq(v, "[]config.MuteTimeInterval", |d, n| {
                            named_time_interval(d, n, true)
                        })?
                        .unwrap_or_default()
                }
                _ => {
                    config.time_intervals = d
                        .seq(v, "[]config.TimeInterval", |d, n| {
                            named_time_interval(d, n, false)
                        })?
                        .unwrap_or_default()
                }
            }
            Ok(())
        },
    )?;
    if let Some(e) = d.faults_error() {
        return Err(e);
    }
    rules::whole_config(
        global.as_ref(),
        route.as_ref(),
        &config.receivers,
        &config.mute_time_intervals,
        &config.time_intervals,
        &d.null_entries,
    )?;
    config.global = global;
    config.route = route.unwrap_or_default();
    Ok(config)
}

/// Runs a custom `UnmarshalYAML`: decode the fields, then — unless a fault was collected
/// inside, which yaml.v2 hands back as a `TypeError` — the type's checks.
fn custom<T>(
    d: &mut Decoder<'_, '_>,
    value: T,
    before: usize,
    check: impl FnOnce(&T, &str) -> R<()>,
) -> R<Option<T>> {
    if d.fault_count() == before {
        check(&value, d.path())?;
    }
    Ok(Some(value))
}

/// A list entry that is a nil pointer (`- ~`), which Alertmanager 0.25 dereferences
/// later: remembered, so that the configuration is refused. `true` when the entry stops
/// here.
fn null_entry<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>, go_type: &str) -> bool {
    match d.prepare(n) {
        Prepared::Zero => {
            d.null_entries.push(d.path().to_owned());
            true
        }
        Prepared::Quoted(_) => {
            d.type_error(n, go_type);
            true
        }
        Prepared::Proceed => false,
    }
}

/// A Go `*bool`: null is nil.
fn bool_ptr<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> Option<bool> {
    if d.skip_null(v, "*bool") {
        return None;
    }
    d.bool(v)
}

fn secret<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> Option<Secret> {
    d.string_as(v, "config.plain").map(Secret::new)
}

fn strings<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> R<Vec<String>> {
    Ok(d.strings(v)?.unwrap_or_default())
}

/// An Alertmanager `*config.URL`: null is nil (`None`).
fn am_url<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> R<Option<String>> {
    if d.skip_null(v, "*config.URL") {
        return Ok(None);
    }
    let Some(s) = d.string(v) else {
        return Ok(None);
    };
    rules::url(&s, d.path())?;
    Ok(Some(s))
}

/// A global `*config.URL` with a default: null removes the default, kept as `""`.
fn global_url<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> R<Option<String>> {
    if matches!(d.prepare(v), Prepared::Zero) {
        return Ok(Some(String::new()));
    }
    am_url(d, v)
}

/// An Alertmanager `*config.SecretURL`.
fn secret_url<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> R<Option<Secret>> {
    if d.skip_null(v, "*config.SecretURL") {
        return Ok(None);
    }
    let Some(s) = d.string(v) else {
        return Ok(None);
    };
    rules::secret_url(&s, d.path())?;
    Ok(Some(Secret::new(s)))
}

/// A Go value type (not a pointer) read from a string and checked by `check`: null is
/// the empty string, and never reaches the check (yaml.v2 skips decoders on null).
fn checked_string<'s>(
    d: &mut Decoder<'s, '_>,
    v: &Node<'s>,
    go_type: &str,
    check: fn(&str, &str) -> R<()>,
) -> R<Option<String>> {
    if d.skip_null(v, go_type) {
        return Ok(Some(String::new()));
    }
    let Some(s) = d.string(v) else {
        return Ok(None);
    };
    check(&s, d.path())?;
    Ok(Some(s))
}

/// A prometheus/common `config.URL` (not a pointer: null is the empty URL).
fn common_url<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> R<Option<String>> {
    checked_string(d, v, "config.URL", rules::common_url)
}

/// A `HostPort` (null is empty).
fn host_port<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> R<Option<String>> {
    checked_string(d, v, "config.HostPort", rules::host_port)
}

/// A `model.Duration` (`var s string` then Prometheus's parser).
fn prom_duration<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> R<Option<Duration>> {
    if d.skip_null(v, "model.Duration") {
        return Ok(Some(Duration::ZERO));
    }
    prom_duration_text(d, v)
}

/// `model.Duration.UnmarshalYAML` once past `prepare`.
fn prom_duration_text<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> R<Option<Duration>> {
    let Some(s) = d.string(v) else {
        return Ok(None);
    };
    match s.parse::<Duration>() {
        Ok(dur) => Ok(Some(dur)),
        Err(e) => {
            let message = match e {
                alert_core::Error::EmptyDuration => "empty duration string".to_owned(),
                alert_core::Error::DurationOutOfRange { .. } => "duration out of range".to_owned(),
                _ => format!("not a valid duration string: {}", go_quote(&s)),
            };
            Err(d.fail(|path| Error::InvalidDuration { path, message }))
        }
    }
}

/// A `*model.Duration`: null is nil (inherit).
fn prom_duration_ptr<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> R<Option<Duration>> {
    if d.skip_null(v, "*model.Duration") {
        return Ok(None);
    }
    prom_duration_text(d, v)
}

/// Pushover's `config.duration`: Go's `time.ParseDuration` of the scalar's text.
fn go_duration<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> R<Option<GoDuration>> {
    if d.is_null(v) {
        return Ok(Some(GoDuration::default()));
    }
    if !v.is_scalar() {
        d.type_error(v, "config.duration");
        return Ok(None);
    }
    let text = d.raw(v).into_owned();
    GoDuration::parse_go(&text)
        .map(Some)
        .map_err(|message| d.fail(|path| Error::InvalidDuration { path, message }))
}

fn global_config<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<GlobalConfig>> {
    if d.skip_null(n, "*config.GlobalConfig") {
        return Ok(None);
    }
    let mut g = GlobalConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "resolve_timeout",
            "http_config",
            "smtp_from",
            "smtp_hello",
            "smtp_smarthost",
            "smtp_auth_username",
            "smtp_auth_password",
            "smtp_auth_password_file",
            "smtp_auth_secret",
            "smtp_auth_identity",
            "smtp_require_tls",
            "slack_api_url",
            "slack_api_url_file",
            "pagerduty_url",
            "opsgenie_api_url",
            "opsgenie_api_key",
            "opsgenie_api_key_file",
            "wechat_api_url",
            "wechat_api_secret",
            "wechat_api_corp_id",
            "victorops_api_url",
            "victorops_api_key",
            "victorops_api_key_file",
            "telegram_api_url",
            "webex_api_url",
        ],
        &mut |d, i, v| {
            match i {
                0 => g.resolve_timeout = prom_duration(d, v)?,
                1 => g.http_config = http_config(d, v)?,
                2 => g.smtp_from = d.string(v),
                3 => g.smtp_hello = d.string(v),
                4 => g.smtp_smarthost = host_port(d, v)?,
                5 => g.smtp_auth_username = d.string(v),
                6 => g.smtp_auth_password = secret(d, v),
                7 => g.smtp_auth_password_file = d.string(v),
                8 => g.smtp_auth_secret = secret(d, v),
                9 => g.smtp_auth_identity = d.string(v),
                10 => g.smtp_require_tls = d.bool(v),
                11 => g.slack_api_url = secret_url(d, v)?,
                12 => g.slack_api_url_file = d.string(v),
                13 => g.pagerduty_url = global_url(d, v)?,
                14 => g.opsgenie_api_url = global_url(d, v)?,
                15 => g.opsgenie_api_key = secret(d, v),
                16 => g.opsgenie_api_key_file = d.string(v),
                17 => g.wechat_api_url = global_url(d, v)?,
                18 => g.wechat_api_secret = secret(d, v),
                19 => g.wechat_api_corp_id = d.string(v),
                20 => g.victorops_api_url = global_url(d, v)?,
                21 => g.victorops_api_key = secret(d, v),
                22 => g.victorops_api_key_file = d.string(v),
                23 => g.telegram_api_url = global_url(d, v)?,
                _ => g.webex_api_url = global_url(d, v)?,
            }
            Ok(())
        },
    )?;
    Ok(Some(g))
}

/// A file holding only an `http_config` (amtool's `--http.config.file`), read as
/// prometheus/common's `LoadHTTPConfigFile` reads it (strict, then `Validate`).
pub(crate) fn read_http_config(text: &str) -> R<HttpClientConfig> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let tree = match node::build(text) {
        Ok(Some(tree)) => tree,
        Ok(None) => return Ok(HttpClientConfig::default()),
        Err(e) => return Err(syntax_error(&e)),
    };
    let http = decode_with(text, &tree.root, |d, n| {
        let h = http_config(d, n)?;
        match d.faults_error() {
            Some(e) => Err(e),
            None => Ok(h.unwrap_or_default()),
        }
    })?;
    crate::validate::alertmanager::http_config_fields(&http, "")?;
    Ok(http)
}

fn http_config<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<HttpClientConfig>> {
    if d.skip_null(n, "*config.HTTPClientConfig") {
        return Ok(None);
    }
    let before = d.fault_count();
    let mut h = HttpClientConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "basic_auth",
            "authorization",
            "oauth2",
            "bearer_token",
            "bearer_token_file",
            "proxy_url",
            "proxy_connect_header",
            "tls_config",
            "follow_redirects",
            "enable_http2",
        ],
        &mut |d, i, v| {
            match i {
                0 => h.basic_auth = basic_auth(d, v)?,
                1 => h.authorization = authorization(d, v)?,
                2 => h.oauth2 = oauth2(d, v)?,
                3 => h.bearer_token = secret(d, v),
                4 => h.bearer_token_file = d.string(v),
                5 => h.proxy_url = common_url(d, v)?,
                6 => {
                    let pairs = d.map(v, "config.Header", &mut |d, v| {
                        Ok(d.seq(v, "[]config.Secret", |d, s| Ok(secret(d, s)))?
                            .or(Some(Vec::new())))
                    })?;
                    h.proxy_connect_header = pairs.into_iter().collect();
                }
                7 => h.tls_config = tls_config(d, v)?,
                8 => h.follow_redirects = d.bool(v),
                _ => h.enable_http2 = d.bool(v),
            }
            Ok(())
        },
    )?;
    custom(d, h, before, rules::http_config_fields)
}

fn basic_auth<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<BasicAuth>> {
    if d.skip_null(n, "*config.BasicAuth") {
        return Ok(None);
    }
    let mut b = BasicAuth::default();
    d.fields(
        n,
        "config.plain",
        &["username", "password", "password_file"],
        &mut |d, i, v| {
            match i {
                0 => b.username = d.string(v),
                1 => b.password = secret(d, v),
                _ => b.password_file = d.string(v),
            }
            Ok(())
        },
    )?;
    Ok(Some(b))
}

fn authorization<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<Authorization>> {
    if d.skip_null(n, "*config.Authorization") {
        return Ok(None);
    }
    let mut a = Authorization::default();
    d.fields(
        n,
        "config.Authorization",
        &["type", "credentials", "credentials_file"],
        &mut |d, i, v| {
            match i {
                0 => a.r#type = d.string(v),
                1 => a.credentials = secret(d, v),
                _ => a.credentials_file = d.string(v),
            }
            Ok(())
        },
    )?;
    Ok(Some(a))
}

fn oauth2<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<OAuth2>> {
    if d.skip_null(n, "*config.OAuth2") {
        return Ok(None);
    }
    let mut o = OAuth2::default();
    d.fields(
        n,
        "config.OAuth2",
        &[
            "client_id",
            "client_secret",
            "client_secret_file",
            "scopes",
            "token_url",
            "endpoint_params",
            "proxy_url",
            "tls_config",
        ],
        &mut |d, i, v| {
            match i {
                0 => o.client_id = d.string(v),
                1 => o.client_secret = secret(d, v),
                2 => o.client_secret_file = d.string(v),
                3 => o.scopes = strings(d, v)?,
                4 => o.token_url = d.string(v),
                5 => o.endpoint_params = d.string_map(v)?,
                6 => o.proxy_url = common_url(d, v)?,
                _ => o.tls_config = tls_config(d, v)?,
            }
            Ok(())
        },
    )?;
    Ok(Some(o))
}

fn tls_config<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<TlsConfig>> {
    if d.skip_null(n, "config.TLSConfig") {
        return Ok(None);
    }
    let mut t = TlsConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "ca_file",
            "cert_file",
            "key_file",
            "server_name",
            "insecure_skip_verify",
            "min_version",
            "max_version",
        ],
        &mut |d, i, v| {
            match i {
                0 => t.ca_file = d.string(v),
                1 => t.cert_file = d.string(v),
                2 => t.key_file = d.string(v),
                3 => t.server_name = d.string(v),
                4 => t.insecure_skip_verify = d.bool(v),
                5 => t.min_version = tls_version(d, v)?,
                _ => t.max_version = tls_version(d, v)?,
            }
            Ok(())
        },
    )?;
    Ok(Some(t))
}

fn tls_version<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> R<Option<String>> {
    checked_string(d, v, "config.TLSVersion", rules::tls_version)
}

fn route_ptr<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<Route>> {
    if d.skip_null(n, "*config.Route") {
        return Ok(None);
    }
    route(d, n).map(Some)
}

fn route<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Route> {
    let before = d.fault_count();
    let mut r = Route::default();
    d.fields(
        n,
        "config.plain",
        &[
            "receiver",
            "group_by",
            "match",
            "match_re",
            "matchers",
            "mute_time_intervals",
            "active_time_intervals",
            "continue",
            "routes",
            "group_wait",
            "group_interval",
            "repeat_interval",
        ],
        &mut |d, i, v| {
            match i {
                0 => r.receiver = d.string(v),
                1 => r.group_by = d.strings(v)?,
                2 => r.r#match = d.string_map(v)?,
                3 => r.match_re = match_re(d, v)?,
                4 => r.matchers = matchers(d, v)?,
                5 => r.mute_time_intervals = strings(d, v)?,
                6 => r.active_time_intervals = strings(d, v)?,
                7 => r.r#continue = d.bool(v).unwrap_or(false),
                8 => {
                    r.routes = d
                        .seq(v, "[]*config.Route", |d, n| {
                            if null_entry(d, n, "*config.Route") {
                                return Ok(Some(Route::default()));
                            }
                            route(d, n).map(Some)
                        })?
                        .unwrap_or_default()
                }
                9 => r.group_wait = prom_duration_ptr(d, v)?,
                10 => r.group_interval = prom_duration_ptr(d, v)?,
                _ => r.repeat_interval = prom_duration_ptr(d, v)?,
            }
            Ok(())
        },
    )?;
    if d.fault_count() == before {
        rules::route_fields(&r, d.path())?;
    }
    Ok(r)
}

/// `config.MatchRegexps`: values compiled as they are decoded, then names and nulls.
fn match_re<'s>(
    d: &mut Decoder<'s, '_>,
    v: &Node<'s>,
) -> R<std::collections::BTreeMap<String, String>> {
    if d.skip_null(v, "config.MatchRegexps") {
        return Ok(Default::default());
    }
    let before = d.fault_count();
    let pairs = d.map(v, "config.plain", &mut |d, value| {
        match d.prepare(value) {
            Prepared::Zero => return Ok(Some(None)),
            Prepared::Quoted(_) => {
                d.type_error(value, "config.Regexp");
                return Ok(None);
            }
            Prepared::Proceed => {}
        }
        let Some(s) = d.string(value) else {
            return Ok(None);
        };
        let path = d.path().to_owned();
        d.memo.match_re_value(&s, &path)?;
        Ok(Some(Some(s)))
    })?;
    let nulls: HashSet<String> = pairs
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k.clone())
        .collect();
    let map: std::collections::BTreeMap<String, String> = pairs
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect();
    if d.fault_count() == before {
        rules::match_keys(map.keys(), &nulls, d.path())?;
    }
    Ok(map)
}

/// `config.Matchers`: a `[]string`, each parsed with the classic grammar.
fn matchers<'s>(d: &mut Decoder<'s, '_>, v: &Node<'s>) -> R<Vec<String>> {
    if d.skip_null(v, "config.Matchers") {
        return Ok(Vec::new());
    }
    let before = d.fault_count();
    let lines = strings(d, v)?;
    if d.fault_count() == before {
        let path = d.path().to_owned();
        d.memo.matcher_lines(&lines, &path)?;
    }
    Ok(lines)
}

fn inhibit_rule<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<InhibitRule>> {
    if d.skip_null(n, "*config.InhibitRule") {
        return Ok(None);
    }
    let before = d.fault_count();
    let mut r = InhibitRule::default();
    d.fields(
        n,
        "config.plain",
        &[
            "source_match",
            "source_match_re",
            "source_matchers",
            "target_match",
            "target_match_re",
            "target_matchers",
            "equal",
        ],
        &mut |d, i, v| {
            match i {
                0 => r.source_match = d.string_map(v)?,
                1 => r.source_match_re = match_re(d, v)?,
                2 => r.source_matchers = matchers(d, v)?,
                3 => r.target_match = d.string_map(v)?,
                4 => r.target_match_re = match_re(d, v)?,
                5 => r.target_matchers = matchers(d, v)?,
                _ => {
                    r.equal = d
                        .seq(v, "model.LabelNames", |d, n| {
                            // `model.LabelName` checks only what reaches its
                            // `UnmarshalYAML`.
                            match d.prepare(n) {
                                Prepared::Zero => return Ok(Some(String::new())),
                                Prepared::Quoted(text) => return Ok(Some(text)),
                                Prepared::Proceed => {}
                            }
                            let Some(s) = d.string(n) else {
                                return Ok(None);
                            };
                            rules::equal_label(&s, d.path())?;
                            Ok(Some(s))
                        })?
                        .unwrap_or_default()
                }
            }
            Ok(())
        },
    )?;
    custom(d, r, before, rules::inhibit_rule_fields)
}

fn named_time_interval<'s>(
    d: &mut Decoder<'s, '_>,
    n: &Node<'s>,
    mute: bool,
) -> R<Option<NamedTimeInterval>> {
    let go_type = if mute {
        "config.MuteTimeInterval"
    } else {
        "config.TimeInterval"
    };
    if d.skip_null(n, go_type) {
        // A zero value: no name, and no check (yaml.v2 skips `UnmarshalYAML` for null).
        return Ok(Some(NamedTimeInterval::default()));
    }
    let before = d.fault_count();
    let mut t = NamedTimeInterval::default();
    d.fields(
        n,
        "config.plain",
        &["name", "time_intervals"],
        &mut |d, i, v| {
            match i {
                0 => t.name = d.string(v).unwrap_or_default(),
                _ => {
                    t.time_intervals = d
                        .seq(v, "[]timeinterval.TimeInterval", |d, n| time_interval(d, n))?
                        .unwrap_or_default()
                }
            }
            Ok(())
        },
    )?;
    custom(d, t, before, |t, path| {
        rules::named_time_interval_fields(t, mute, path)
    })
}

fn time_interval<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<TimeInterval>> {
    let mut t = TimeInterval::default();
    d.fields(
        n,
        "timeinterval.TimeInterval",
        &[
            "times",
            "weekdays",
            "days_of_month",
            "months",
            "years",
            "location",
        ],
        &mut |d, i, v| {
            match i {
                0 => t.times = d.seq(v, "[]timeinterval.TimeRange", time_range)?,
                1 => {
                    t.weekdays = d.seq(v, "[]timeinterval.WeekdayRange", |d, n| {
                        range(d, n, "timeinterval.WeekdayRange", WeekdayRange::parse_am)
                    })?
                }
                2 => {
                    t.days_of_month = d.seq(v, "[]timeinterval.DayOfMonthRange", |d, n| {
                        range(
                            d,
                            n,
                            "timeinterval.DayOfMonthRange",
                            DayOfMonthRange::parse_am,
                        )
                    })?
                }
                3 => {
                    t.months = d.seq(v, "[]timeinterval.MonthRange", |d, n| {
                        range(d, n, "timeinterval.MonthRange", MonthRange::parse_am)
                    })?
                }
                4 => {
                    t.years = d.seq(v, "[]timeinterval.YearRange", |d, n| {
                        range(d, n, "timeinterval.YearRange", YearRange::parse_am)
                    })?
                }
                _ => {
                    t.location = if d.skip_null(v, "*timeinterval.Location") {
                        None
                    } else {
                        match d.string(v) {
                            Some(s) => {
                                rules::location(&s, d.path())?;
                                Some(Location::unchecked(s))
                            }
                            None => None,
                        }
                    }
                }
            }
            Ok(())
        },
    )?;
    Ok(Some(t))
}

fn time_range<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<TimeRange>> {
    if d.skip_null(n, "timeinterval.TimeRange") {
        return Ok(Some(TimeRange::default()));
    }
    let before = d.fault_count();
    let (mut start, mut end) = (String::new(), String::new());
    d.fields(
        n,
        "timeinterval.yamlTimeRange",
        &["start_time", "end_time"],
        &mut |d, i, v| {
            let s = d.string(v).unwrap_or_default();
            if i == 0 {
                start = s;
            } else {
                end = s;
            }
            Ok(())
        },
    )?;
    if d.fault_count() > before {
        return Ok(None);
    }
    TimeRange::parse_am(&start, &end)
        .map(Some)
        .map_err(|message| d.fail(|path| Error::InvalidTimeInterval { path, message }))
}

fn range<'s, T: Default>(
    d: &mut Decoder<'s, '_>,
    n: &Node<'s>,
    go_type: &str,
    parse: fn(&str) -> std::result::Result<T, String>,
) -> R<Option<T>> {
    if d.skip_null(n, go_type) {
        return Ok(Some(T::default()));
    }
    let Some(s) = d.string(n) else {
        return Ok(None);
    };
    parse(&s)
        .map(Some)
        .map_err(|message| d.fail(|path| Error::InvalidTimeInterval { path, message }))
}

fn receiver<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<Receiver>> {
    let before = d.fault_count();
    let mut r = Receiver::default();
    d.fields(
        n,
        "config.plain",
        &[
            "name",
            "discord_configs",
            "email_configs",
            "pagerduty_configs",
            "slack_configs",
            "webhook_configs",
            "opsgenie_configs",
            "wechat_configs",
            "pushover_configs",
            "victorops_configs",
            "sns_configs",
            "telegram_configs",
            "webex_configs",
        ],
        &mut |d, i, v| {
            match i {
                0 => r.name = d.string(v).unwrap_or_default(),
                1 => r.discord_configs = integrations(d, v, "Discord", discord)?,
                2 => r.email_configs = integrations(d, v, "Email", email)?,
                3 => r.pagerduty_configs = integrations(d, v, "Pagerduty", pagerduty)?,
                4 => r.slack_configs = integrations(d, v, "Slack", slack)?,
                5 => r.webhook_configs = integrations(d, v, "Webhook", webhook)?,
                6 => r.opsgenie_configs = integrations(d, v, "OpsGenie", opsgenie)?,
                7 => r.wechat_configs = integrations(d, v, "Wechat", wechat)?,
                8 => r.pushover_configs = integrations(d, v, "Pushover", pushover)?,
                9 => r.victorops_configs = integrations(d, v, "VictorOps", victorops)?,
                10 => r.sns_configs = integrations(d, v, "SNS", sns)?,
                11 => r.telegram_configs = integrations(d, v, "Telegram", telegram)?,
                _ => r.webex_configs = integrations(d, v, "Webex", webex)?,
            }
            Ok(())
        },
    )?;
    custom(d, r, before, rules::receiver_fields)
}

/// A `[]*config.<Kind>Config`; a null entry is a nil pointer Alertmanager crashes on.
fn integrations<'s, T: Default>(
    d: &mut Decoder<'s, '_>,
    v: &Node<'s>,
    kind: &str,
    read: fn(&mut Decoder<'s, '_>, &Node<'s>) -> R<Option<T>>,
) -> R<Vec<T>> {
    let go_type = format!("[]*config.{kind}Config");
    let elem_type = format!("*config.{kind}Config");
    Ok(d.seq(v, &go_type, |d, n| {
        if null_entry(d, n, &elem_type) {
            return Ok(Some(T::default()));
        }
        read(d, n)
    })?
    .unwrap_or_default())
}

fn discord<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<DiscordConfig>> {
    let mut c = DiscordConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "send_resolved",
            "http_config",
            "webhook_url",
            "title",
            "message",
        ],
        &mut |d, i, v| {
            match i {
                0 => c.send_resolved = d.bool(v),
                1 => c.http_config = http_config(d, v)?,
                2 => c.webhook_url = secret_url(d, v)?,
                3 => c.title = d.string(v),
                _ => c.message = d.string(v),
            }
            Ok(())
        },
    )?;
    Ok(Some(c))
}

fn email<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<EmailConfig>> {
    let before = d.fault_count();
    let mut c = EmailConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "send_resolved",
            "to",
            "from",
            "hello",
            "smarthost",
            "auth_username",
            "auth_password",
            "auth_password_file",
            "auth_secret",
            "auth_identity",
            "headers",
            "html",
            "text",
            "require_tls",
            "tls_config",
        ],
        &mut |d, i, v| {
            match i {
                0 => c.send_resolved = d.bool(v),
                1 => c.to = d.string(v),
                2 => c.from = d.string(v),
                3 => c.hello = d.string(v),
                4 => c.smarthost = host_port(d, v)?,
                5 => c.auth_username = d.string(v),
                6 => c.auth_password = secret(d, v),
                7 => c.auth_password_file = d.string(v),
                8 => c.auth_secret = secret(d, v),
                9 => c.auth_identity = d.string(v),
                10 => c.headers = d.string_map(v)?,
                11 => c.html = d.string(v),
                12 => c.text = d.string(v),
                13 => c.require_tls = bool_ptr(d, v),
                _ => c.tls_config = tls_config(d, v)?,
            }
            Ok(())
        },
    )?;
    custom(d, c, before, rules::email_fields)
}

fn pagerduty<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<PagerdutyConfig>> {
    let before = d.fault_count();
    let mut c = PagerdutyConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "send_resolved",
            "http_config",
            "service_key",
            "service_key_file",
            "routing_key",
            "routing_key_file",
            "url",
            "client",
            "client_url",
            "description",
            "details",
            "images",
            "links",
            "source",
            "severity",
            "class",
            "component",
            "group",
        ],
        &mut |d, i, v| {
            match i {
                0 => c.send_resolved = d.bool(v),
                1 => c.http_config = http_config(d, v)?,
                2 => c.service_key = secret(d, v),
                3 => c.service_key_file = d.string(v),
                4 => c.routing_key = secret(d, v),
                5 => c.routing_key_file = d.string(v),
                6 => c.url = am_url(d, v)?,
                7 => c.client = d.string(v),
                8 => c.client_url = d.string(v),
                9 => c.description = d.string(v),
                10 => c.details = d.string_map(v)?,
                11 => {
                    c.images = d
                        .seq(v, "[]config.PagerdutyImage", |d, n| {
                            let mut img = PagerdutyImage::default();
                            d.fields(
                                n,
                                "config.PagerdutyImage",
                                &["src", "alt", "href"],
                                &mut |d, i, v| {
                                    let s = d.string(v);
                                    match i {
                                        0 => img.src = s,
                                        1 => img.alt = s,
                                        _ => img.href = s,
                                    }
                                    Ok(())
                                },
                            )?;
                            Ok(Some(img))
                        })?
                        .unwrap_or_default()
                }
                12 => {
                    c.links = d
                        .seq(v, "[]config.PagerdutyLink", |d, n| {
                            let mut link = PagerdutyLink::default();
                            d.fields(
                                n,
                                "config.PagerdutyLink",
                                &["href", "text"],
                                &mut |d, i, v| {
                                    let s = d.string(v);
                                    match i {
                                        0 => link.href = s,
                                        _ => link.text = s,
                                    }
                                    Ok(())
                                },
                            )?;
                            Ok(Some(link))
                        })?
                        .unwrap_or_default()
                }
                13 => c.source = d.string(v),
                14 => c.severity = d.string(v),
                15 => c.class = d.string(v),
                16 => c.component = d.string(v),
                _ => c.group = d.string(v),
            }
            Ok(())
        },
    )?;
    custom(d, c, before, rules::pagerduty_fields)
}

fn slack<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<SlackConfig>> {
    let before = d.fault_count();
    let mut c = SlackConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "send_resolved",
            "http_config",
            "api_url",
            "api_url_file",
            "channel",
            "username",
            "color",
            "title",
            "title_link",
            "pretext",
            "text",
            "fields",
            "short_fields",
            "footer",
            "fallback",
            "callback_id",
            "icon_emoji",
            "icon_url",
            "image_url",
            "thumb_url",
            "link_names",
            "mrkdwn_in",
            "actions",
        ],
        &mut |d, i, v| {
            match i {
                0 => c.send_resolved = d.bool(v),
                1 => c.http_config = http_config(d, v)?,
                2 => c.api_url = secret_url(d, v)?,
                3 => c.api_url_file = d.string(v),
                4 => c.channel = d.string(v),
                5 => c.username = d.string(v),
                6 => c.color = d.string(v),
                7 => c.title = d.string(v),
                8 => c.title_link = d.string(v),
                9 => c.pretext = d.string(v),
                10 => c.text = d.string(v),
                11 => {
                    c.fields = d
                        .seq(v, "[]*config.SlackField", |d, n| {
                            Ok(Some(slack_field(d, n)?.unwrap_or_default()))
                        })?
                        .unwrap_or_default()
                }
                12 => c.short_fields = d.bool(v),
                13 => c.footer = d.string(v),
                14 => c.fallback = d.string(v),
                15 => c.callback_id = d.string(v),
                16 => c.icon_emoji = d.string(v),
                17 => c.icon_url = d.string(v),
                18 => c.image_url = d.string(v),
                19 => c.thumb_url = d.string(v),
                20 => c.link_names = d.bool(v),
                21 => c.mrkdwn_in = strings(d, v)?,
                _ => {
                    c.actions = d
                        .seq(v, "[]*config.SlackAction", |d, n| {
                            Ok(Some(slack_action(d, n)?.unwrap_or_default()))
                        })?
                        .unwrap_or_default()
                }
            }
            Ok(())
        },
    )?;
    custom(d, c, before, rules::slack_fields)
}

fn slack_field<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<SlackField>> {
    if d.skip_null(n, "*config.SlackField") {
        return Ok(None);
    }
    let before = d.fault_count();
    let mut f = SlackField::default();
    d.fields(
        n,
        "config.plain",
        &["title", "value", "short"],
        &mut |d, i, v| {
            match i {
                0 => f.title = d.string(v),
                1 => f.value = d.string(v),
                _ => f.short = bool_ptr(d, v),
            }
            Ok(())
        },
    )?;
    custom(d, f, before, rules::slack_field_fields)
}

fn slack_action<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<SlackAction>> {
    if d.skip_null(n, "*config.SlackAction") {
        return Ok(None);
    }
    let before = d.fault_count();
    let mut a = SlackAction::default();
    d.fields(
        n,
        "config.plain",
        &["type", "text", "url", "style", "name", "value", "confirm"],
        &mut |d, i, v| {
            match i {
                0 => a.r#type = d.string(v),
                1 => a.text = d.string(v),
                2 => a.url = d.string(v),
                3 => a.style = d.string(v),
                4 => a.name = d.string(v),
                5 => a.value = d.string(v),
                _ => a.confirm = slack_confirm(d, v)?,
            }
            Ok(())
        },
    )?;
    custom(d, a, before, rules::slack_action_fields)
}

fn slack_confirm<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<SlackConfirmationField>> {
    if d.skip_null(n, "*config.SlackConfirmationField") {
        return Ok(None);
    }
    let before = d.fault_count();
    let mut c = SlackConfirmationField::default();
    d.fields(
        n,
        "config.plain",
        &["text", "title", "ok_text", "dismiss_text"],
        &mut |d, i, v| {
            let s = d.string(v);
            match i {
                0 => c.text = s,
                1 => c.title = s,
                2 => c.ok_text = s,
                _ => c.dismiss_text = s,
            }
            Ok(())
        },
    )?;
    custom(d, c, before, rules::slack_confirm_fields)
}

fn webhook<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<WebhookConfig>> {
    let before = d.fault_count();
    let mut c = WebhookConfig::default();
    d.fields(
        n,
        "config.plain",
        &["send_resolved", "http_config", "url", "max_alerts"],
        &mut |d, i, v| {
            match i {
                0 => c.send_resolved = d.bool(v),
                1 => c.http_config = http_config(d, v)?,
                2 => c.url = am_url(d, v)?,
                _ => c.max_alerts = d.uint64(v),
            }
            Ok(())
        },
    )?;
    custom(d, c, before, rules::webhook_fields)
}

fn opsgenie<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<OpsGenieConfig>> {
    let before = d.fault_count();
    let mut c = OpsGenieConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "send_resolved",
            "http_config",
            "api_key",
            "api_key_file",
            "api_url",
            "message",
            "description",
            "source",
            "details",
            "entity",
            "responders",
            "actions",
            "tags",
            "note",
            "priority",
            "update_alerts",
        ],
        &mut |d, i, v| {
            match i {
                0 => c.send_resolved = d.bool(v),
                1 => c.http_config = http_config(d, v)?,
                2 => c.api_key = secret(d, v),
                3 => c.api_key_file = d.string(v),
                4 => c.api_url = am_url(d, v)?,
                5 => c.message = d.string(v),
                6 => c.description = d.string(v),
                7 => c.source = d.string(v),
                8 => c.details = d.string_map(v)?,
                9 => c.entity = d.string(v),
                10 => {
                    c.responders = d
                        .seq(v, "[]config.OpsGenieConfigResponder", |d, n| {
                            let mut r = OpsGenieResponder::default();
                            d.fields(
                                n,
                                "config.OpsGenieConfigResponder",
                                &["id", "name", "username", "type"],
                                &mut |d, i, v| {
                                    let s = d.string(v);
                                    match i {
                                        0 => r.id = s,
                                        1 => r.name = s,
                                        2 => r.username = s,
                                        _ => r.r#type = s,
                                    }
                                    Ok(())
                                },
                            )?;
                            Ok(Some(r))
                        })?
                        .unwrap_or_default()
                }
                11 => c.actions = d.string(v),
                12 => c.tags = d.string(v),
                13 => c.note = d.string(v),
                14 => c.priority = d.string(v),
                _ => c.update_alerts = d.bool(v),
            }
            Ok(())
        },
    )?;
    custom(d, c, before, rules::opsgenie_fields)
}

fn wechat<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<WechatConfig>> {
    let before = d.fault_count();
    let mut c = WechatConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "send_resolved",
            "http_config",
            "api_secret",
            "corp_id",
            "message",
            "api_url",
            "to_user",
            "to_party",
            "to_tag",
            "agent_id",
            "message_type",
        ],
        &mut |d, i, v| {
            match i {
                0 => c.send_resolved = d.bool(v),
                1 => c.http_config = http_config(d, v)?,
                2 => c.api_secret = secret(d, v),
                3 => c.corp_id = d.string(v),
                4 => c.message = d.string(v),
                5 => c.api_url = am_url(d, v)?,
                6 => c.to_user = d.string(v),
                7 => c.to_party = d.string(v),
                8 => c.to_tag = d.string(v),
                9 => c.agent_id = d.string(v),
                _ => c.message_type = d.string(v),
            }
            Ok(())
        },
    )?;
    custom(d, c, before, rules::wechat_fields)
}

fn pushover<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<PushoverConfig>> {
    let before = d.fault_count();
    let mut c = PushoverConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "send_resolved",
            "http_config",
            "user_key",
            "token",
            "title",
            "message",
            "url",
            "url_title",
            "sound",
            "priority",
            "retry",
            "expire",
            "html",
        ],
        &mut |d, i, v| {
            match i {
                0 => c.send_resolved = d.bool(v),
                1 => c.http_config = http_config(d, v)?,
                2 => c.user_key = secret(d, v),
                3 => c.token = secret(d, v),
                4 => c.title = d.string(v),
                5 => c.message = d.string(v),
                6 => c.url = d.string(v),
                7 => c.url_title = d.string(v),
                8 => c.sound = d.string(v),
                9 => c.priority = d.string(v),
                10 => c.retry = go_duration(d, v)?,
                11 => c.expire = go_duration(d, v)?,
                _ => c.html = d.bool(v),
            }
            Ok(())
        },
    )?;
    custom(d, c, before, rules::pushover_fields)
}

fn victorops<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<VictorOpsConfig>> {
    let before = d.fault_count();
    let mut c = VictorOpsConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "send_resolved",
            "http_config",
            "api_key",
            "api_key_file",
            "api_url",
            "routing_key",
            "message_type",
            "state_message",
            "entity_display_name",
            "monitoring_tool",
            "custom_fields",
        ],
        &mut |d, i, v| {
            match i {
                0 => c.send_resolved = d.bool(v),
                1 => c.http_config = http_config(d, v)?,
                2 => c.api_key = secret(d, v),
                3 => c.api_key_file = d.string(v),
                4 => c.api_url = am_url(d, v)?,
                5 => c.routing_key = d.string(v),
                6 => c.message_type = d.string(v),
                7 => c.state_message = d.string(v),
                8 => c.entity_display_name = d.string(v),
                9 => c.monitoring_tool = d.string(v),
                _ => c.custom_fields = d.string_map(v)?,
            }
            Ok(())
        },
    )?;
    custom(d, c, before, rules::victorops_fields)
}

fn sns<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<SnsConfig>> {
    let before = d.fault_count();
    let mut c = SnsConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "send_resolved",
            "http_config",
            "api_url",
            "sigv4",
            "topic_arn",
            "phone_number",
            "target_arn",
            "subject",
            "message",
            "attributes",
        ],
        &mut |d, i, v| {
            match i {
                0 => c.send_resolved = d.bool(v),
                1 => c.http_config = http_config(d, v)?,
                2 => c.api_url = d.string(v),
                3 => c.sigv4 = sigv4(d, v)?,
                4 => c.topic_arn = d.string(v),
                5 => c.phone_number = d.string(v),
                6 => c.target_arn = d.string(v),
                7 => c.subject = d.string(v),
                8 => c.message = d.string(v),
                _ => c.attributes = d.string_map(v)?,
            }
            Ok(())
        },
    )?;
    custom(d, c, before, rules::sns_fields)
}

fn sigv4<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<SigV4Config>> {
    if d.skip_null(n, "sigv4.SigV4Config") {
        return Ok(None);
    }
    let before = d.fault_count();
    let mut s = SigV4Config::default();
    d.fields(
        n,
        "sigv4.plain",
        &["region", "access_key", "secret_key", "profile", "role_arn"],
        &mut |d, i, v| {
            match i {
                0 => s.region = d.string(v),
                1 => s.access_key = d.string(v),
                2 => s.secret_key = secret(d, v),
                3 => s.profile = d.string(v),
                _ => s.role_arn = d.string(v),
            }
            Ok(())
        },
    )?;
    custom(d, s, before, rules::sigv4_fields)
}

fn telegram<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<TelegramConfig>> {
    let before = d.fault_count();
    let mut c = TelegramConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "send_resolved",
            "http_config",
            "api_url",
            "bot_token",
            "chat_id",
            "message",
            "disable_notifications",
            "parse_mode",
        ],
        &mut |d, i, v| {
            match i {
                0 => c.send_resolved = d.bool(v),
                1 => c.http_config = http_config(d, v)?,
                2 => c.api_url = am_url(d, v)?,
                3 => c.bot_token = secret(d, v),
                4 => c.chat_id = d.int64(v),
                5 => c.message = d.string(v),
                6 => c.disable_notifications = d.bool(v),
                _ => c.parse_mode = d.string(v),
            }
            Ok(())
        },
    )?;
    custom(d, c, before, rules::telegram_fields)
}

fn webex<'s>(d: &mut Decoder<'s, '_>, n: &Node<'s>) -> R<Option<WebexConfig>> {
    let before = d.fault_count();
    let mut c = WebexConfig::default();
    d.fields(
        n,
        "config.plain",
        &[
            "send_resolved",
            "http_config",
            "api_url",
            "message",
            "room_id",
        ],
        &mut |d, i, v| {
            match i {
                0 => c.send_resolved = d.bool(v),
                1 => c.http_config = http_config(d, v)?,
                2 => c.api_url = am_url(d, v)?,
                3 => c.message = d.string(v),
                _ => c.room_id = d.string(v),
            }
            Ok(())
        },
    )?;
    custom(d, c, before, rules::webex_fields)
}
