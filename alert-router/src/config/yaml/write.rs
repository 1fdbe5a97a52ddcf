//! Writing a configuration as YAML that Alertmanager 0.25 (Go's yaml.v2, YAML 1.1) and
//! this crate read back as the same values.
//!
//! The output is deterministic: fields in Alertmanager's own order, map keys sorted,
//! block style with two-space indentation. A string is written plain only when both
//! YAML 1.1 and YAML 1.2 read it back as that string; otherwise it is double-quoted
//! (`"yes"`, `"~"`, `"1_000"`, `"0x1F"`, `"12:30"`, `".inf"`, `"2024-01-01"`, ...).

use std::collections::BTreeMap;

use super::resolve::{Resolved, resolve_plain};
use crate::config::{
    Config, DiscordConfig, EmailConfig, GlobalConfig, HttpClientConfig, InhibitRule,
    NamedTimeInterval, OpsGenieConfig, PagerdutyConfig, PushoverConfig, Receiver, Route, Secret,
    SigV4Config, SlackAction, SlackConfig, SnsConfig, TelegramConfig, TimeInterval, TlsConfig,
    VictorOpsConfig, WebexConfig, WebhookConfig, WechatConfig,
};

/// A YAML value about to be printed; scalars are already rendered.
enum Y {
    Scalar(String),
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
}

/// Collects the fields of one mapping, skipping unset ones.
#[derive(Default)]
struct MapOut(Vec<(String, Y)>);

impl MapOut {
    fn put(&mut self, key: &str, value: Y) {
        self.0.push((quote(key), value));
    }

    fn str(&mut self, key: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.put(key, Y::Scalar(quote(v)));
        }
    }

    /// A string field of a Go type with its own `UnmarshalYAML` (URLs, addresses,
    /// regexes): see [`quote_custom`].
    fn custom(&mut self, key: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.put(key, Y::Scalar(quote_custom(v)));
        }
    }

    fn secret_custom(&mut self, key: &str, value: &Option<Secret>) {
        if let Some(v) = value {
            self.put(key, Y::Scalar(quote_custom(v.expose())));
        }
    }

    fn number<T: std::fmt::Display>(&mut self, key: &str, value: &Option<T>) {
        if let Some(v) = value {
            self.put(key, Y::Scalar(v.to_string()));
        }
    }

    fn secret(&mut self, key: &str, value: &Option<Secret>) {
        if let Some(v) = value {
            self.put(key, Y::Scalar(quote(v.expose())));
        }
    }

    fn bool(&mut self, key: &str, value: Option<bool>) {
        if let Some(v) = value {
            self.put(key, Y::Scalar(v.to_string()));
        }
    }

    fn display<T: std::fmt::Display>(&mut self, key: &str, value: &Option<T>) {
        if let Some(v) = value {
            self.put(key, Y::Scalar(quote(&v.to_string())));
        }
    }

    fn strings(&mut self, key: &str, values: &[String]) {
        if !values.is_empty() {
            self.put(key, strings(values));
        }
    }

    fn string_map(&mut self, key: &str, map: &BTreeMap<String, String>) {
        if !map.is_empty() {
            self.put(key, string_map(map));
        }
    }

    /// A `match_re` map: values are regexes (see [`quote_custom`]).
    fn regex_map(&mut self, key: &str, map: &BTreeMap<String, String>) {
        if !map.is_empty() {
            self.put(
                key,
                Y::Map(
                    map.iter()
                        .map(|(k, v)| (quote(k), Y::Scalar(quote_custom(v))))
                        .collect(),
                ),
            );
        }
    }

    fn list<T>(&mut self, key: &str, items: &[T], f: impl Fn(&T) -> Y) {
        if !items.is_empty() {
            self.put(key, Y::Seq(items.iter().map(f).collect()));
        }
    }

    fn opt<T>(&mut self, key: &str, value: &Option<T>, f: impl Fn(&T) -> Y) {
        if let Some(v) = value {
            self.put(key, f(v));
        }
    }

    fn done(self) -> Y {
        Y::Map(self.0)
    }
}

fn strings(values: &[String]) -> Y {
    Y::Seq(values.iter().map(|v| Y::Scalar(quote(v))).collect())
}

fn string_map(map: &BTreeMap<String, String>) -> Y {
    Y::Map(
        map.iter()
            .map(|(k, v)| (quote(k), Y::Scalar(quote(v))))
            .collect(),
    )
}

/// Writes `config` (see [`Config::to_yaml`]).
pub(crate) fn write_config(config: &Config) -> String {
    let mut m = MapOut::default();
    m.opt("global", &config.global, global);
    m.put("route", route(&config.route));
    m.list("inhibit_rules", &config.inhibit_rules, inhibit_rule);
    m.list("receivers", &config.receivers, receiver);
    m.strings("templates", &config.templates);
    m.list(
        "mute_time_intervals",
        &config.mute_time_intervals,
        named_interval,
    );
    m.list("time_intervals", &config.time_intervals, named_interval);
    let mut out = String::new();
    render(&m.done(), 0, &mut out);
    out
}

fn global(g: &GlobalConfig) -> Y {
    let mut m = MapOut::default();
    m.display("resolve_timeout", &g.resolve_timeout);
    m.opt("http_config", &g.http_config, http_config);
    m.str("smtp_from", &g.smtp_from);
    m.str("smtp_hello", &g.smtp_hello);
    m.custom("smtp_smarthost", &g.smtp_smarthost);
    m.str("smtp_auth_username", &g.smtp_auth_username);
    m.secret("smtp_auth_password", &g.smtp_auth_password);
    m.str("smtp_auth_password_file", &g.smtp_auth_password_file);
    m.secret("smtp_auth_secret", &g.smtp_auth_secret);
    m.str("smtp_auth_identity", &g.smtp_auth_identity);
    m.bool("smtp_require_tls", g.smtp_require_tls);
    m.secret_custom("slack_api_url", &g.slack_api_url);
    m.str("slack_api_url_file", &g.slack_api_url_file);
    global_url(&mut m, "pagerduty_url", &g.pagerduty_url);
    global_url(&mut m, "opsgenie_api_url", &g.opsgenie_api_url);
    m.secret("opsgenie_api_key", &g.opsgenie_api_key);
    m.str("opsgenie_api_key_file", &g.opsgenie_api_key_file);
    global_url(&mut m, "wechat_api_url", &g.wechat_api_url);
    m.secret("wechat_api_secret", &g.wechat_api_secret);
    m.str("wechat_api_corp_id", &g.wechat_api_corp_id);
    global_url(&mut m, "victorops_api_url", &g.victorops_api_url);
    m.secret("victorops_api_key", &g.victorops_api_key);
    m.str("victorops_api_key_file", &g.victorops_api_key_file);
    global_url(&mut m, "telegram_api_url", &g.telegram_api_url);
    global_url(&mut m, "webex_api_url", &g.webex_api_url);
    m.done()
}

/// A global URL with a default; `""` stands for `null` (the default removed).
fn global_url(m: &mut MapOut, key: &str, value: &Option<String>) {
    match value.as_deref() {
        Some("") => m.put(key, Y::Scalar("null".into())),
        _ => m.custom(key, value),
    }
}

fn http_config(h: &HttpClientConfig) -> Y {
    let mut m = MapOut::default();
    m.opt("basic_auth", &h.basic_auth, |b| {
        let mut m = MapOut::default();
        m.str("username", &b.username);
        m.secret("password", &b.password);
        m.str("password_file", &b.password_file);
        m.done()
    });
    m.opt("authorization", &h.authorization, |a| {
        let mut m = MapOut::default();
        m.str("type", &a.r#type);
        m.secret("credentials", &a.credentials);
        m.str("credentials_file", &a.credentials_file);
        m.done()
    });
    m.opt("oauth2", &h.oauth2, |o| {
        let mut m = MapOut::default();
        m.str("client_id", &o.client_id);
        m.secret("client_secret", &o.client_secret);
        m.str("client_secret_file", &o.client_secret_file);
        m.strings("scopes", &o.scopes);
        m.str("token_url", &o.token_url);
        m.string_map("endpoint_params", &o.endpoint_params);
        m.custom("proxy_url", &o.proxy_url);
        m.opt("tls_config", &o.tls_config, tls_config);
        m.done()
    });
    m.secret("bearer_token", &h.bearer_token);
    m.str("bearer_token_file", &h.bearer_token_file);
    m.custom("proxy_url", &h.proxy_url);
    if !h.proxy_connect_header.is_empty() {
        m.put(
            "proxy_connect_header",
            Y::Map(
                h.proxy_connect_header
                    .iter()
                    .map(|(k, vs)| {
                        (
                            quote(k),
                            Y::Seq(vs.iter().map(|v| Y::Scalar(quote(v.expose()))).collect()),
                        )
                    })
                    .collect(),
            ),
        );
    }
    m.opt("tls_config", &h.tls_config, tls_config);
    m.bool("follow_redirects", h.follow_redirects);
    m.bool("enable_http2", h.enable_http2);
    m.done()
}

fn tls_config(t: &TlsConfig) -> Y {
    let mut m = MapOut::default();
    m.str("ca_file", &t.ca_file);
    m.str("cert_file", &t.cert_file);
    m.str("key_file", &t.key_file);
    m.str("server_name", &t.server_name);
    m.bool("insecure_skip_verify", t.insecure_skip_verify);
    m.custom("min_version", &t.min_version);
    m.custom("max_version", &t.max_version);
    m.done()
}

fn route(r: &Route) -> Y {
    let mut m = MapOut::default();
    m.str("receiver", &r.receiver);
    if let Some(g) = &r.group_by {
        m.put("group_by", strings(g));
    }
    m.string_map("match", &r.r#match);
    m.regex_map("match_re", &r.match_re);
    m.strings("matchers", &r.matchers);
    m.strings("mute_time_intervals", &r.mute_time_intervals);
    m.strings("active_time_intervals", &r.active_time_intervals);
    if r.r#continue {
        m.put("continue", Y::Scalar("true".into()));
    }
    m.list("routes", &r.routes, route);
    m.display("group_wait", &r.group_wait);
    m.display("group_interval", &r.group_interval);
    m.display("repeat_interval", &r.repeat_interval);
    m.done()
}

fn inhibit_rule(r: &InhibitRule) -> Y {
    let mut m = MapOut::default();
    m.string_map("source_match", &r.source_match);
    m.regex_map("source_match_re", &r.source_match_re);
    m.strings("source_matchers", &r.source_matchers);
    m.string_map("target_match", &r.target_match);
    m.regex_map("target_match_re", &r.target_match_re);
    m.strings("target_matchers", &r.target_matchers);
    m.strings("equal", &r.equal);
    m.done()
}

fn named_interval(t: &NamedTimeInterval) -> Y {
    let mut m = MapOut::default();
    m.put("name", Y::Scalar(quote(&t.name)));
    m.list("time_intervals", &t.time_intervals, time_interval);
    m.done()
}

fn time_interval(t: &TimeInterval) -> Y {
    fn ranges<T: std::fmt::Display>(m: &mut MapOut, key: &str, v: &Option<Vec<T>>) {
        if let Some(v) = v {
            m.put(
                key,
                Y::Seq(v.iter().map(|r| Y::Scalar(quote(&r.to_string()))).collect()),
            );
        }
    }
    let mut m = MapOut::default();
    if let Some(times) = &t.times {
        m.put(
            "times",
            Y::Seq(
                times
                    .iter()
                    .map(|r| {
                        let mut m = MapOut::default();
                        m.put("start_time", Y::Scalar(quote(&r.start_time())));
                        m.put("end_time", Y::Scalar(quote(&r.end_time())));
                        m.done()
                    })
                    .collect(),
            ),
        );
    }
    ranges(&mut m, "weekdays", &t.weekdays);
    ranges(&mut m, "days_of_month", &t.days_of_month);
    ranges(&mut m, "months", &t.months);
    ranges(&mut m, "years", &t.years);
    if let Some(l) = &t.location {
        m.put("location", Y::Scalar(quote_custom(l.name())));
    }
    m.done()
}

fn receiver(r: &Receiver) -> Y {
    let mut m = MapOut::default();
    m.put("name", Y::Scalar(quote(&r.name)));
    m.list("discord_configs", &r.discord_configs, discord);
    m.list("email_configs", &r.email_configs, email);
    m.list("pagerduty_configs", &r.pagerduty_configs, pagerduty);
    m.list("slack_configs", &r.slack_configs, slack);
    m.list("webhook_configs", &r.webhook_configs, webhook);
    m.list("opsgenie_configs", &r.opsgenie_configs, opsgenie);
    m.list("wechat_configs", &r.wechat_configs, wechat);
    m.list("pushover_configs", &r.pushover_configs, pushover);
    m.list("victorops_configs", &r.victorops_configs, victorops);
    m.list("sns_configs", &r.sns_configs, sns);
    m.list("telegram_configs", &r.telegram_configs, telegram);
    m.list("webex_configs", &r.webex_configs, webex);
    m.done()
}

fn discord(c: &DiscordConfig) -> Y {
    let mut m = MapOut::default();
    m.bool("send_resolved", c.send_resolved);
    m.opt("http_config", &c.http_config, http_config);
    m.secret_custom("webhook_url", &c.webhook_url);
    m.str("title", &c.title);
    m.str("message", &c.message);
    m.done()
}

fn email(c: &EmailConfig) -> Y {
    let mut m = MapOut::default();
    m.bool("send_resolved", c.send_resolved);
    m.str("to", &c.to);
    m.str("from", &c.from);
    m.str("hello", &c.hello);
    m.custom("smarthost", &c.smarthost);
    m.str("auth_username", &c.auth_username);
    m.secret("auth_password", &c.auth_password);
    m.str("auth_password_file", &c.auth_password_file);
    m.secret("auth_secret", &c.auth_secret);
    m.str("auth_identity", &c.auth_identity);
    m.string_map("headers", &c.headers);
    m.str("html", &c.html);
    m.str("text", &c.text);
    m.bool("require_tls", c.require_tls);
    m.opt("tls_config", &c.tls_config, tls_config);
    m.done()
}

fn pagerduty(c: &PagerdutyConfig) -> Y {
    let mut m = MapOut::default();
    m.bool("send_resolved", c.send_resolved);
    m.opt("http_config", &c.http_config, http_config);
    m.secret("service_key", &c.service_key);
    m.str("service_key_file", &c.service_key_file);
    m.secret("routing_key", &c.routing_key);
    m.str("routing_key_file", &c.routing_key_file);
    m.custom("url", &c.url);
    m.str("client", &c.client);
    m.str("client_url", &c.client_url);
    m.str("description", &c.description);
    m.string_map("details", &c.details);
    m.list("images", &c.images, |i| {
        let mut m = MapOut::default();
        m.str("src", &i.src);
        m.str("alt", &i.alt);
        m.str("href", &i.href);
        m.done()
    });
    m.list("links", &c.links, |l| {
        let mut m = MapOut::default();
        m.str("href", &l.href);
        m.str("text", &l.text);
        m.done()
    });
    m.str("source", &c.source);
    m.str("severity", &c.severity);
    m.str("class", &c.class);
    m.str("component", &c.component);
    m.str("group", &c.group);
    m.done()
}

fn slack(c: &SlackConfig) -> Y {
    let mut m = MapOut::default();
    m.bool("send_resolved", c.send_resolved);
    m.opt("http_config", &c.http_config, http_config);
    m.secret_custom("api_url", &c.api_url);
    m.str("api_url_file", &c.api_url_file);
    m.str("channel", &c.channel);
    m.str("username", &c.username);
    m.str("color", &c.color);
    m.str("title", &c.title);
    m.str("title_link", &c.title_link);
    m.str("pretext", &c.pretext);
    m.str("text", &c.text);
    m.list("fields", &c.fields, |f| {
        let mut m = MapOut::default();
        m.str("title", &f.title);
        m.str("value", &f.value);
        m.bool("short", f.short);
        m.done()
    });
    m.bool("short_fields", c.short_fields);
    m.str("footer", &c.footer);
    m.str("fallback", &c.fallback);
    m.str("callback_id", &c.callback_id);
    m.str("icon_emoji", &c.icon_emoji);
    m.str("icon_url", &c.icon_url);
    m.str("image_url", &c.image_url);
    m.str("thumb_url", &c.thumb_url);
    m.bool("link_names", c.link_names);
    m.strings("mrkdwn_in", &c.mrkdwn_in);
    m.list("actions", &c.actions, slack_action);
    m.done()
}

fn slack_action(a: &SlackAction) -> Y {
    let mut m = MapOut::default();
    m.str("type", &a.r#type);
    m.str("text", &a.text);
    m.str("url", &a.url);
    m.str("style", &a.style);
    m.str("name", &a.name);
    m.str("value", &a.value);
    m.opt("confirm", &a.confirm, |c| {
        let mut m = MapOut::default();
        m.str("text", &c.text);
        m.str("title", &c.title);
        m.str("ok_text", &c.ok_text);
        m.str("dismiss_text", &c.dismiss_text);
        m.done()
    });
    m.done()
}

fn webhook(c: &WebhookConfig) -> Y {
    let mut m = MapOut::default();
    m.bool("send_resolved", c.send_resolved);
    m.opt("http_config", &c.http_config, http_config);
    m.custom("url", &c.url);
    m.number("max_alerts", &c.max_alerts);
    m.done()
}

fn opsgenie(c: &OpsGenieConfig) -> Y {
    let mut m = MapOut::default();
    m.bool("send_resolved", c.send_resolved);
    m.opt("http_config", &c.http_config, http_config);
    m.secret("api_key", &c.api_key);
    m.str("api_key_file", &c.api_key_file);
    m.custom("api_url", &c.api_url);
    m.str("message", &c.message);
    m.str("description", &c.description);
    m.str("source", &c.source);
    m.string_map("details", &c.details);
    m.str("entity", &c.entity);
    m.list("responders", &c.responders, |r| {
        let mut m = MapOut::default();
        m.str("id", &r.id);
        m.str("name", &r.name);
        m.str("username", &r.username);
        m.str("type", &r.r#type);
        m.done()
    });
    m.str("actions", &c.actions);
    m.str("tags", &c.tags);
    m.str("note", &c.note);
    m.str("priority", &c.priority);
    m.bool("update_alerts", c.update_alerts);
    m.done()
}

fn wechat(c: &WechatConfig) -> Y {
    let mut m = MapOut::default();
    m.bool("send_resolved", c.send_resolved);
    m.opt("http_config", &c.http_config, http_config);
    m.secret("api_secret", &c.api_secret);
    m.str("corp_id", &c.corp_id);
    m.str("message", &c.message);
    m.custom("api_url", &c.api_url);
    m.str("to_user", &c.to_user);
    m.str("to_party", &c.to_party);
    m.str("to_tag", &c.to_tag);
    m.str("agent_id", &c.agent_id);
    m.str("message_type", &c.message_type);
    m.done()
}

fn pushover(c: &PushoverConfig) -> Y {
    let mut m = MapOut::default();
    m.bool("send_resolved", c.send_resolved);
    m.opt("http_config", &c.http_config, http_config);
    m.secret("user_key", &c.user_key);
    m.secret("token", &c.token);
    m.str("title", &c.title);
    m.str("message", &c.message);
    m.str("url", &c.url);
    m.str("url_title", &c.url_title);
    m.str("sound", &c.sound);
    m.str("priority", &c.priority);
    m.display("retry", &c.retry);
    m.display("expire", &c.expire);
    m.bool("html", c.html);
    m.done()
}

fn victorops(c: &VictorOpsConfig) -> Y {
    let mut m = MapOut::default();
    m.bool("send_resolved", c.send_resolved);
    m.opt("http_config", &c.http_config, http_config);
    m.secret("api_key", &c.api_key);
    m.str("api_key_file", &c.api_key_file);
    m.custom("api_url", &c.api_url);
    m.str("routing_key", &c.routing_key);
    m.str("message_type", &c.message_type);
    m.str("state_message", &c.state_message);
    m.str("entity_display_name", &c.entity_display_name);
    m.str("monitoring_tool", &c.monitoring_tool);
    m.string_map("custom_fields", &c.custom_fields);
    m.done()
}

fn sns(c: &SnsConfig) -> Y {
    let mut m = MapOut::default();
    m.bool("send_resolved", c.send_resolved);
    m.opt("http_config", &c.http_config, http_config);
    m.str("api_url", &c.api_url);
    m.opt("sigv4", &c.sigv4, sigv4);
    m.str("topic_arn", &c.topic_arn);
    m.str("phone_number", &c.phone_number);
    m.str("target_arn", &c.target_arn);
    m.str("subject", &c.subject);
    m.str("message", &c.message);
    m.string_map("attributes", &c.attributes);
    m.done()
}

fn sigv4(s: &SigV4Config) -> Y {
    let mut m = MapOut::default();
    m.str("region", &s.region);
    m.str("access_key", &s.access_key);
    m.secret("secret_key", &s.secret_key);
    m.str("profile", &s.profile);
    m.str("role_arn", &s.role_arn);
    m.done()
}

fn telegram(c: &TelegramConfig) -> Y {
    let mut m = MapOut::default();
    m.bool("send_resolved", c.send_resolved);
    m.opt("http_config", &c.http_config, http_config);
    m.custom("api_url", &c.api_url);
    m.secret("bot_token", &c.bot_token);
    m.number("chat_id", &c.chat_id);
    m.str("message", &c.message);
    m.bool("disable_notifications", c.disable_notifications);
    m.str("parse_mode", &c.parse_mode);
    m.done()
}

fn webex(c: &WebexConfig) -> Y {
    let mut m = MapOut::default();
    m.bool("send_resolved", c.send_resolved);
    m.opt("http_config", &c.http_config, http_config);
    m.custom("api_url", &c.api_url);
    m.str("message", &c.message);
    m.str("room_id", &c.room_id);
    m.done()
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Prints `y` as the value of a mapping entry or the document, at `indent`.
fn render(y: &Y, indent: usize, out: &mut String) {
    match y {
        Y::Scalar(s) => {
            pad(out, indent);
            out.push_str(s);
            out.push('\n');
        }
        Y::Map(entries) if entries.is_empty() => {
            pad(out, indent);
            out.push_str("{}\n");
        }
        Y::Seq(items) if items.is_empty() => {
            pad(out, indent);
            out.push_str("[]\n");
        }
        Y::Map(entries) => render_entries(entries, indent, indent, out),
        Y::Seq(items) => render_items(items, indent, out),
    }
}

/// Mapping entries; the first one starts at `first_indent` (after a `- `), the others at
/// `indent`.
fn render_entries(entries: &[(String, Y)], first_indent: usize, indent: usize, out: &mut String) {
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        } else {
            pad(out, first_indent.saturating_sub(out_column(out)));
        }
        out.push_str(k);
        out.push(':');
        match v {
            Y::Scalar(s) => {
                out.push(' ');
                out.push_str(s);
                out.push('\n');
            }
            Y::Map(e) if e.is_empty() => out.push_str(" {}\n"),
            Y::Seq(s) if s.is_empty() => out.push_str(" []\n"),
            Y::Map(e) => {
                out.push('\n');
                render_entries(e, indent + 2, indent + 2, out);
            }
            Y::Seq(s) => {
                out.push('\n');
                render_items(s, indent, out);
            }
        }
    }
}

/// Sequence items, `- ` at `indent`.
fn render_items(items: &[Y], indent: usize, out: &mut String) {
    for item in items {
        pad(out, indent);
        out.push_str("- ");
        match item {
            Y::Scalar(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Y::Map(e) if e.is_empty() => out.push_str("{}\n"),
            Y::Seq(s) if s.is_empty() => out.push_str("[]\n"),
            Y::Map(e) => render_entries(e, indent + 2, indent + 2, out),
            Y::Seq(s) => {
                out.push('\n');
                render_items(s, indent + 2, out);
            }
        }
    }
}

/// The column the output is at (characters since the last newline).
fn out_column(out: &str) -> usize {
    out.len() - out.rfind('\n').map_or(0, |i| i + 1)
}

/// A scalar for a Go type with its own `UnmarshalYAML`. yaml.v2 never calls that
/// method for a scalar `null` or `~`, quoted or not, so those two are written with an
/// explicit tag (`!!str null`), which does reach it.
pub(crate) fn quote_custom(s: &str) -> String {
    match s {
        "null" | "~" => format!("!!str {s}"),
        _ => quote(s),
    }
}

/// A scalar as YAML text: plain when YAML 1.1 and 1.2 both read it back as this very
/// string, double-quoted otherwise.
pub(crate) fn quote(s: &str) -> String {
    if plain_is_safe(s) {
        s.to_owned()
    } else {
        double_quoted(s)
    }
}

fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if first.is_whitespace() || s.ends_with(char::is_whitespace) {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`.+".contains(first) || looks_sexagesimal(s) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if s.chars().any(|c| {
        c.is_control()
            || "\u{85}\u{2028}\u{2029}\u{feff}".contains(c)
            || ",[]{}#".contains(c)
            || (!c.is_ascii() && c.is_whitespace())
    }) {
        return false;
    }
    // YAML 1.1 (Go): anything but a string.
    if resolve_plain(s) != Resolved::Str {
        return false;
    }
    // YAML 1.2 (this crate's reader): null, booleans and numbers.
    let lower = s.to_ascii_lowercase();
    if matches!(lower.as_str(), "null" | "true" | "false" | "~")
        || s.parse::<f64>().is_ok()
        || s.parse::<i128>().is_ok()
    {
        return false;
    }
    true
}

/// YAML 1.1 sexagesimal numbers (`12:30`, `190:20:30.15`): digits with colons. Go's
/// yaml.v2 reads them as strings, other YAML 1.1 readers as numbers; they are quoted.
fn looks_sexagesimal(s: &str) -> bool {
    s.contains(':')
        && s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ':' | '_' | '.'))
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || "\u{85}\u{2028}\u{2029}\u{feff}".contains(c) => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_specials_are_quoted() {
        for s in [
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "Y",
            "N",
            "YES",
            "Off",
            "~",
            "null",
            "Null",
            "true",
            "False",
            "1_000",
            "0x1F",
            "12:30",
            ".inf",
            "-.inf",
            ".NaN",
            "2024-01-01",
            "010",
            "09",
            "1e3",
            "+5",
            "-5",
            "0",
            "1.5",
            "<<",
            "",
            " x",
            "x ",
            "a: b",
            "a #b",
            "-x",
            "!x",
            "&x",
            "*x",
            "[x",
            "{x",
            "#x",
            "%x",
            "@x",
            "`x",
            "'x",
            "\"x",
            "x\ny",
            "a,b",
            "...",
            "---",
            "190:20:30",
            "0o17",
            "0b101",
            "infinity",
            "nan",
            "1.",
        ] {
            let q = quote(s);
            assert!(q.starts_with('"'), "{s:?} written as {q}");
        }
        for s in [
            "default",
            "team-db",
            "x86_64",
            "severity=~\"crit.*\"",
            "https://hooks.slack.com/services/T/B/X",
            "1h30m",
            "0s",
            "日本",
            "a:b",
            "yesterday",
        ] {
            assert_eq!(quote(s), s, "{s:?}");
        }
    }

    #[test]
    fn double_quoted_escapes() {
        assert_eq!(quote("a\"b\\c\nd\te\u{1}"), r#""a\"b\\c\nd\te\x01""#);
        assert_eq!(quote("\u{2028}"), r#""\u2028""#);
    }

    #[test]
    fn layout_is_block_style() {
        let mut root = Route::new("default");
        root.group_by = Some(vec!["...".into()]);
        let mut child = Route::with_matchers(["a=\"yes\""]);
        child.r#continue = true;
        child.receiver = Some("yes".into());
        root.routes.push(child);
        let mut config = Config::new(root);
        config.receivers.push(Receiver::new("default"));
        config.receivers.push(Receiver::new("yes"));
        assert_eq!(
            write_config(&config),
            "route:\n  receiver: default\n  group_by:\n  - \"...\"\n  routes:\n  - receiver: \"yes\"\n    matchers:\n    - a=\"yes\"\n    continue: true\nreceivers:\n- name: default\n- name: \"yes\"\n"
        );
    }
}
