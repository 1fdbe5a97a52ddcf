//! The endpoint model against a real Alertmanager 0.25 (`amtool check-config`):
//!
//! * field names: every endpoint kind 0.25 has, serialised as this crate writes it and put
//!   into a receiver as `<kind>_configs: [...]`, is accepted — generated endpoints and the
//!   spec examples;
//! * URL and `host:port` checks: whatever this crate accepts, Alertmanager accepts, and
//!   where both refuse, Alertmanager's message contains this crate's;
//! * required-field messages use Alertmanager's wording.

use std::fs;
use std::path::PathBuf;

use alert_core::endpoint::address::{check_host_port, check_http_url};
use alert_core::{AlertEndpoint, EndpointKind};
use alert_testkit::amtool;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

// The generators `alert_core::strategies` exports with feature `proptest-strategies`.
#[allow(dead_code)]
// The library's public strategies, compiled into this test crate.
#[allow(unreachable_pub)]
#[path = "../src/strategies.rs"]
mod domain_strategies;

/// How many generated endpoints are checked.
const GENERATED: usize = 300;
/// The proptest seed: change it to explore, keep it fixed to reproduce.
const SEED: [u8; 32] = *b"alert-core endpoints vs AM 0.25!";

/// Runs `amtool check-config` once over one file per config and returns, per config,
/// `Ok` or Alertmanager's message.
fn check_configs(configs: &[Value]) -> Vec<Result<(), String>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let paths: Vec<PathBuf> = configs
        .iter()
        .enumerate()
        .map(|(i, config)| {
            let path = dir.path().join(format!("{i:04}.yml"));
            // JSON is YAML; serde_json quotes every string safely.
            fs::write(&path, serde_json::to_vec(config).expect("json")).expect("write");
            path
        })
        .collect();
    let mut args = vec!["check-config".to_owned()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let out = amtool(&args);
    let mut results = Vec::with_capacity(paths.len());
    for path in &paths {
        let marker = format!("Checking '{}'", path.display());
        let start = out
            .stdout
            .find(&marker)
            .unwrap_or_else(|| panic!("no result for {marker}:\n{}{}", out.stdout, out.stderr));
        let rest = &out.stdout[start + marker.len()..];
        let chunk = rest.split("Checking '").next().unwrap_or_default().trim();
        results.push(match chunk.strip_prefix("FAILED: ") {
            Some(message) => Err(message.trim().to_owned()),
            None if chunk.starts_with("SUCCESS") => Ok(()),
            None => panic!("unreadable amtool output: {chunk}"),
        });
    }
    results
}

/// A config whose only receiver holds `integration` under `<kind>_configs`.
fn config_with(kind: &str, integration: Value) -> Value {
    json!({
        "route": {"receiver": "r"},
        "receivers": [{"name": "r", format!("{kind}_configs"): [integration]}],
    })
}

/// The receiver entry Alertmanager 0.25 would get for an endpoint, written field for field
/// from this crate's serialisation. `None` for kinds 0.25 does not have.
///
/// Only three things differ: `timeout` (webhook, 0.28+) and an inline TLS `ca` (not in
/// 0.25) are dropped, and Webex's `bot_token` moves to `http_config.authorization`.
fn as_alertmanager(endpoint: &AlertEndpoint) -> Option<(String, Value)> {
    if !endpoint.kind.supported_by_alertmanager_0_25() {
        return None;
    }
    let json = serde_json::to_value(endpoint).expect("json");
    let name = endpoint.kind.name();
    let mut integration = json[name].clone();
    let fields = integration.as_object_mut().expect("a mapping");
    if let EndpointKind::Webhook(_) = endpoint.kind {
        fields.remove("timeout");
    }
    if let EndpointKind::Webex(_) = endpoint.kind {
        let token = fields.remove("bot_token").expect("bot_token");
        let http = fields.entry("http_config").or_insert_with(|| json!({}));
        http["authorization"] = json!({"credentials": token});
    }
    if let Some(tls) = fields.get_mut("tls_config").and_then(Value::as_object_mut) {
        tls.remove("ca");
    }
    if let Some(tls) = fields
        .get_mut("http_config")
        .and_then(|h| h.get_mut("tls_config"))
        .and_then(Value::as_object_mut)
    {
        tls.remove("ca");
    }
    if let Some(send_resolved) = endpoint.send_resolved {
        fields.insert("send_resolved".into(), json!(send_resolved));
    }
    Some((name.to_owned(), integration))
}

#[test]
fn generated_endpoints_use_alertmanager_field_names() {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &SEED),
    );
    let strategy = domain_strategies::endpoint();
    let mut endpoints = Vec::new();
    while endpoints.len() < GENERATED {
        let endpoint = strategy.new_tree(&mut runner).expect("a value").current();
        endpoint.validate().expect("generated endpoints are valid");
        endpoints.push(endpoint);
    }
    let mut configs = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for endpoint in &endpoints {
        if let Some((kind, integration)) = as_alertmanager(endpoint) {
            kinds.insert(kind.clone());
            configs.push((endpoint, config_with(&kind, integration)));
        }
    }
    // Every kind 0.25 has was exercised.
    assert_eq!(kinds.len(), 10, "{kinds:?}");
    let values: Vec<Value> = configs.iter().map(|(_, c)| c.clone()).collect();
    for ((endpoint, config), result) in configs.iter().zip(check_configs(&values)) {
        assert_eq!(
            result,
            Ok(()),
            "{endpoint:?}\n{}",
            serde_json::to_string_pretty(config).expect("json")
        );
    }
}

#[test]
fn msteams_is_not_in_alertmanager_0_25() {
    let config = config_with("msteams", json!({"webhook_url": "https://x.example.org/"}));
    let result = check_configs(&[config]).remove(0);
    let message = result.expect_err("0.25 has no msteams receiver");
    assert!(
        message.contains("field msteams_configs not found"),
        "{message}"
    );
}

/// URLs this crate accepts are accepted by Alertmanager; where both refuse, Alertmanager's
/// message contains this crate's. Whitespace is the one documented extra refusal.
#[test]
fn url_checks_agree_with_alertmanager() {
    let urls = [
        "http://x",
        "https://hooks.slack.com/services/T/B/X",
        "HTTP://Example.org:8443/a?b=c#d",
        "http://user:pass@host:1/p",
        "http://[::1]:9093/",
        "http://:80",
        "http://127.0.0.1",
        "http://h\u{e9}st/",
        "http://a!$&'()*+,;=b/",
        "http://a<b>/",
        "ftp://x",
        "FTP://x",
        "mailto:a@b",
        "hooks.slack.com/x",
        "localhost:8080",
        "",
        ":x",
        "//x/y",
        "http:///path",
        "http:x",
        "http://user@/p",
        "http://?q",
        "http://#f",
        "http://host:port/",
        "http://host:80x/",
        "http://[::1/",
        "http://[::1]x/",
        "http://a{b/",
        "http://a|b/",
        "http://a^b/",
        "http://a%zzb/",
        "http://a/%4",
        "http://a/p%20q",
        "http://a/?q=%zz",
        "http://a/#%zz",
        "http://a b/",
        "http://ab/ c",
        " http://ab/",
    ];
    let configs: Vec<Value> = urls
        .iter()
        .map(|u| config_with("webhook", json!({ "url": u })))
        .collect();
    for (url, am) in urls.iter().zip(check_configs(&configs)) {
        let ours = check_http_url(url);
        match (&ours, &am) {
            (Ok(()), Ok(())) => {}
            (Ok(()), Err(am)) => panic!("{url:?}: accepted here, Alertmanager says {am}"),
            (Err(ours), Err(am)) => {
                // Go's parser words some faults differently; the scheme and host checks
                // (Alertmanager's own) must match.
                if ours.contains("scheme") || ours.contains("host for URL") {
                    assert!(
                        am.contains(ours.as_str()),
                        "{url:?}: ours {ours:?}, AM {am:?}"
                    );
                }
            }
            (Err(ours), Ok(())) => assert!(
                ours.contains("whitespace") || url.contains('%'),
                "{url:?}: refused here ({ours}), Alertmanager accepts it"
            ),
        }
    }
}

#[test]
fn smarthost_checks_agree_with_alertmanager() {
    let addresses = [
        "h:25",
        "smtp.example.org:smtp",
        "[::1]:25",
        "1.2.3.4:587",
        "localhost",
        "a:b:c",
        "h:",
        ":25",
        "[::1",
        "[::1]",
        "[::1]x:2",
        "[::1]:2:3",
        "a]:2",
        "a[:2",
        "h :25",
    ];
    let configs: Vec<Value> = addresses
        .iter()
        .map(|a| config_with("email", json!({"to": "a@b", "from": "c@d", "smarthost": a})))
        .collect();
    for (address, am) in addresses.iter().zip(check_configs(&configs)) {
        match (check_host_port(address), am) {
            (Ok(()), am) => assert_eq!(am, Ok(()), "{address:?}"),
            (Err(ours), Err(am)) => {
                assert!(
                    am.contains(&ours) || ours.contains("missing host"),
                    "{address:?}: ours {ours:?}, AM {am:?}"
                )
            }
            // Stricter on purpose: an empty host or a blank never relays mail.
            (Err(ours), Ok(())) => assert!(
                ours.contains("missing host") || ours.contains("whitespace"),
                "{address:?}: {ours}"
            ),
        }
    }
}

/// Each required-field fault is refused by both, with the same words. Cases: this
/// crate's endpoint (YAML), the receiver entry Alertmanager gets, the shared message.
#[test]
fn required_field_messages_use_alertmanager_wording() {
    let cases: [(&str, &str, Value, &str); 12] = [
        (
            "pagerduty: {}",
            "pagerduty",
            json!({}),
            "missing service or routing key in PagerDuty config",
        ),
        (
            "webhook: {url: ''}",
            "webhook",
            json!({}),
            "missing URL in webhook config",
        ),
        (
            "webhook: {url: 'ftp://x'}",
            "webhook",
            json!({"url": "ftp://x"}),
            r#"unsupported scheme "ftp" for URL"#,
        ),
        (
            "slack: {api_url: 'http:///x'}",
            "slack",
            json!({"api_url": "http:///x"}),
            "missing host for URL",
        ),
        (
            "telegram: {bot_token: t, chat_id: 0}",
            "telegram",
            json!({"bot_token": "t"}),
            "missing chat_id on telegram_config",
        ),
        (
            "telegram: {bot_token: '', chat_id: 1}",
            "telegram",
            json!({"chat_id": 1}),
            "missing bot_token on telegram_config",
        ),
        (
            "webex: {room_id: '', bot_token: t}",
            "webex",
            json!({"http_config": {"authorization": {"credentials": "t"}}}),
            "missing room_id on webex_config",
        ),
        (
            "webex: {room_id: r, bot_token: ''}",
            "webex",
            json!({"room_id": "r"}),
            "missing webex_configs.http_config.authorization",
        ),
        (
            "pushover: {user_key: '', token: t}",
            "pushover",
            json!({"token": "t"}),
            "missing user key in Pushover config",
        ),
        (
            "victorops: {api_key: k, routing_key: ''}",
            "victorops",
            json!({"api_key": "k"}),
            "missing Routing key in VictorOps config",
        ),
        (
            "victorops: {api_key: k, routing_key: r, custom_fields: {entity_state: x}}",
            "victorops",
            json!({"api_key": "k", "routing_key": "r", "custom_fields": {"entity_state": "x"}}),
            "victorOps config contains custom field entity_state which cannot be used as it conflicts with the fixed/static fields",
        ),
        (
            "email: {to: a@b, from: c@d, smarthost: 'h:25', headers: {subject: x, Subject: y}}",
            "email",
            json!({"to": "a@b", "from": "c@d", "smarthost": "h:25", "headers": {"subject": "x", "Subject": "y"}}),
            r#"duplicate header "Subject" in email config"#,
        ),
    ];
    let configs: Vec<Value> = cases
        .iter()
        .map(|(_, kind, integration, _)| config_with(kind, integration.clone()))
        .collect();
    for ((yaml, _, _, message), am) in cases.iter().zip(check_configs(&configs)) {
        let ours = yaml_serde::from_str::<AlertEndpoint>(&format!("{{id: e, {yaml}}}"))
            .expect_err("refused here")
            .to_string();
        assert!(ours.contains(message), "{yaml}: ours {ours}");
        let am = am.expect_err("refused by Alertmanager");
        assert!(am.contains(message), "{yaml}: Alertmanager {am}");
    }
    // Opsgenie words it with the responder printed in Go syntax; the rule is the same.
    let og = check_configs(&[config_with(
        "opsgenie",
        json!({"api_key": "k", "responders": [{"type": "team"}]}),
    )])
    .remove(0)
    .expect_err("refused");
    let ours = yaml_serde::from_str::<AlertEndpoint>(
        "{id: e, opsgenie: {api_key: k, responders: [{type: team}]}}",
    )
    .expect_err("refused")
    .to_string();
    let rule = "at least one of id, username or name specified";
    assert!(og.contains(rule) && ours.contains(rule), "{og}\n{ours}");
}
