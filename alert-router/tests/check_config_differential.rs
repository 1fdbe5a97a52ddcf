//! Differential test against the real `amtool check-config` 0.25: hundreds of generated
//! configurations (route trees with matchers of both kinds, durations, YAML 1.1 oddities,
//! receivers of every family, inhibit rules, time intervals, and deliberately broken
//! variants) go through amtool (one call for all files) and through `Config::from_yaml`.
//! Both must accept the same files, and for rejections print the same message.

mod check_config_support;

use alert_router::config::Config;
use alert_router::validate::check_config_output;
use check_config_support::amtool_check_all;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};

/// How many configurations to generate (`CHECK_CONFIG_CASES` overrides).
const CASES: usize = 400;

fn cases() -> usize {
    std::env::var("CHECK_CONFIG_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES)
}

/// The generator's seed (`CHECK_CONFIG_SEED` overrides; the default keeps runs
/// reproducible).
fn seed() -> [u8; 32] {
    let n: u64 = std::env::var("CHECK_CONFIG_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&n.to_le_bytes());
    bytes
}

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    select(items).prop_map(str::to_owned)
}

/// Only the valid alternatives when `valid`, otherwise mostly valid with some broken.
fn either<T: std::fmt::Debug + 'static>(
    valid: bool,
    good: impl Strategy<Value = T> + 'static,
    bad: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    if valid {
        good.boxed()
    } else {
        prop_oneof![6 => good, 1 => bad].boxed()
    }
}

const LABELS: &[&str] = &[
    "team",
    "severity",
    "alertname",
    "env",
    "a",
    "b_c",
    "_x",
    "cluster",
];

fn label_name(valid: bool) -> BoxedStrategy<String> {
    either(
        valid,
        pick(LABELS),
        pick(&["1abc", "a-b", "\"\"", "\"yes\""]),
    )
}

/// YAML scalars (as written in the file) for label values and names.
fn odd_value() -> impl Strategy<Value = String> {
    pick(&[
        "db",
        "web",
        "yes",
        "\"yes\"",
        "'no'",
        "on",
        "~",
        "null",
        "\"~\"",
        "1_000",
        "\"1_000\"",
        "0x1F",
        "12:30",
        "\"12:30\"",
        ".inf",
        "2024-01-01",
        "''",
        "\"a b\"",
        "\"x\\ny\"",
        "crit",
        "5",
        "-7",
        "1.50",
        "True",
        "\"\\u00e9t\\u00e9\"",
        "'it''s'",
        "y",
        "N",
        "OFF",
    ])
}

fn regex_value(valid: bool) -> BoxedStrategy<String> {
    either(
        valid,
        pick(&[
            "db|web",
            "'.*'",
            "'[a-z]+'",
            "'\\d+'",
            "'(?i)prod'",
            "yes",
            "'a^b'",
            "crit.*",
            "'(db|web)-[0-9]{1,3}'",
            "\"x\"",
        ]),
        pick(&["'(unclosed'", "'['", "~", "'a{2,1}'", "'(?<n>x)'", "'\\C'"]),
    )
}

fn matcher_string(valid: bool) -> BoxedStrategy<String> {
    either(
        valid,
        pick(&[
            "'team=\"db\"'",
            "'severity=~\"crit.*\"'",
            "'env!=\"prod\"'",
            "'a!~\"x|y\"'",
            "'{a=b,c=~d}'",
            "'c=yes'",
            "'d='",
            "'tricky=~~~'",
            "'x:y=\"1\"'",
            "'a=b,'",
            "'{}'",
            "\"team='db'\"",
            "'foo==bar'",
            "'{alertname=\"Watchdog\", severity=\"none\"}'",
            "'a=\"x,y\"'",
            "'a=\"5\\\\d\\\\d\"'",
        ]),
        pick(&[
            "foo",
            "'a=\"x\"y\"'",
            "'b=~\"(\"'",
            "'1a=b'",
            "'a=b,,'",
            "'a=~\"[\"'",
            "\"x!\"",
        ]),
    )
}

fn duration(valid: bool) -> BoxedStrategy<String> {
    either(
        valid,
        pick(&[
            "30s", "5m", "1h", "1h30m", "10ms", "2w", "1y", "4h", "'90s'", "~",
        ]),
        pick(&[
            "5x", "1.5m", "-5m", "''", "forever", "10", "0", "0s", "[1m]",
        ]),
    )
}

const RECEIVERS: [&str; 4] = ["default", "\"yes\"", "team-db", "\"~\""];

fn receiver_ref(valid: bool) -> BoxedStrategy<String> {
    either(
        valid,
        pick(&["default", "\"yes\"", "team-db", "\"~\""]),
        pick(&["nope", "''", "yes"]),
    )
}

fn flow_list(items: Vec<String>) -> String {
    format!("[{}]", items.join(", "))
}

fn flow_map(pairs: Vec<(String, String)>) -> String {
    let inner: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// Empty most of the time, `some` otherwise.
fn sometimes(
    weight_empty: u32,
    weight_some: u32,
    some: BoxedStrategy<String>,
) -> BoxedStrategy<String> {
    prop_oneof![weight_empty => Just(String::new()), weight_some => some].boxed()
}

/// The optional keys of one route, rendered as `key: value` lines.
fn route_keys(top: bool, valid: bool) -> BoxedStrategy<Vec<String>> {
    let receiver = sometimes(
        if top { 1 } else { 4 },
        if top { 12 } else { 3 },
        receiver_ref(valid)
            .prop_map(|r| format!("receiver: {r}"))
            .boxed(),
    );
    let group_by = sometimes(
        6,
        4,
        either(
            valid,
            prop_oneof![
                4 => prop::collection::btree_set(pick(LABELS), 0..3)
                    .prop_map(|l| format!("group_by: {}", flow_list(l.into_iter().collect()))),
                1 => Just("group_by: ['...']".to_owned()),
            ],
            prop_oneof![
                3 => prop::collection::vec(label_name(false), 1..3)
                    .prop_map(|l| format!("group_by: {}", flow_list(l))),
                1 => pick(&["group_by: ['...', a]", "group_by: [a, a]", "group_by: x"]),
            ],
        ),
    );
    let r#continue = if top {
        either(
            valid,
            pick(&["continue: false", "continue: off", "continue: n"]),
            pick(&["continue: true", "continue: maybe"]),
        )
    } else {
        either(
            valid,
            pick(&[
                "continue: true",
                "continue: false",
                "continue: yes",
                "continue: off",
                "continue: Y",
            ]),
            pick(&["continue: maybe", "continue: \"yes\"", "continue: 1"]),
        )
    };
    let r#continue = sometimes(6, 3, r#continue);
    let matching = !top || !valid;
    let matches = sometimes(
        4,
        if matching { 3 } else { 0 },
        either(
            valid,
            prop::collection::btree_map(pick(LABELS), odd_value(), 1..3)
                .prop_map(|p| format!("match: {}", flow_map(p.into_iter().collect()))),
            prop_oneof![
                2 => (label_name(false), odd_value()).prop_map(|(k, v)| format!("match: {{{k}: {v}}}")),
                1 => Just("match: {a: 1, a: 2}".to_owned()),
            ],
        ),
    );
    let match_re = sometimes(
        5,
        if matching { 2 } else { 0 },
        (label_name(valid), regex_value(valid))
            .prop_map(|(k, v)| format!("match_re: {{{k}: {v}}}"))
            .boxed(),
    );
    let matchers = sometimes(
        3,
        if matching { 4 } else { 0 },
        either(
            valid,
            prop::collection::vec(matcher_string(true), 1..3)
                .prop_map(|m| format!("matchers: {}", flow_list(m))),
            prop_oneof![
                3 => prop::collection::vec(matcher_string(false), 1..3)
                    .prop_map(|m| format!("matchers: {}", flow_list(m))),
                1 => Just("matchers: 'a=b'".to_owned()),
            ],
        ),
    );
    let timers = prop::collection::btree_map(
        pick(&["group_wait", "group_interval", "repeat_interval"]),
        duration(valid),
        0..3,
    )
    .prop_map(|t| {
        t.into_iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
    });
    let intervals = sometimes(
        6,
        if matching { 1 } else { 0 },
        either(
            valid,
            pick(&[
                "mute_time_intervals: [office]",
                "active_time_intervals: [office, weekend]",
            ]),
            pick(&[
                "mute_time_intervals: [nope]",
                "active_time_intervals: office",
            ]),
        ),
    );
    let oddity = if valid {
        Just(String::new()).boxed()
    } else {
        sometimes(
            20,
            1,
            pick(&[
                "recevier: x",
                "matcher: ['a=b']",
                "routes: {a: b}",
                "group_by: [a]\ngroup_by: [b]",
            ])
            .boxed(),
        )
    };
    (
        receiver, group_by, r#continue, matches, match_re, matchers, timers, intervals, oddity,
    )
        .prop_map(|(a, b, c, d, e, f, g, h, i)| {
            let mut keys: Vec<String> = vec![a, b, c, d, e, f, h, i];
            keys.extend(g);
            keys.retain(|k| !k.is_empty());
            keys
        })
        .boxed()
}

#[derive(Debug, Clone)]
struct RouteSpec {
    keys: Vec<String>,
    children: Vec<RouteSpec>,
}

fn route_tree(depth: u32, top: bool, valid: bool) -> BoxedStrategy<RouteSpec> {
    let keys = route_keys(top, valid);
    if depth == 0 {
        return keys
            .prop_map(|keys| RouteSpec {
                keys,
                children: Vec::new(),
            })
            .boxed();
    }
    (
        keys,
        prop::collection::vec(route_tree(depth - 1, false, valid), 0..4),
    )
        .prop_map(|(keys, children)| RouteSpec { keys, children })
        .boxed()
}

fn render_route(r: &RouteSpec, indent: usize, out: &mut String, first_prefix: &str) {
    let pad = " ".repeat(indent);
    let mut lines: Vec<String> = r
        .keys
        .iter()
        .flat_map(|k| k.lines().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    if lines.is_empty() && r.children.is_empty() {
        lines.push("group_by: [alertname]".into());
    }
    let mut first = true;
    for line in &lines {
        if first {
            out.push_str(first_prefix);
            first = false;
        } else {
            out.push_str(&pad);
        }
        out.push_str(line);
        out.push('\n');
    }
    if !r.children.is_empty() {
        if first {
            out.push_str(first_prefix);
        } else {
            out.push_str(&pad);
        }
        out.push_str("routes:\n");
        for child in &r.children {
            let prefix = format!("{pad}- ");
            render_route(child, indent + 2, out, &prefix);
        }
    }
}

/// One integration entry, as a flow mapping.
fn integration(valid: bool) -> BoxedStrategy<String> {
    either(
        valid,
        pick(&[
            "webhook_configs: [{url: 'http://127.0.0.1:9094/hook'}]",
            "webhook_configs: [{url: 'https://h.example/x', max_alerts: 10, send_resolved: no}]",
            "webhook_configs: [{url: 'http://h', http_config: {bearer_token: t, tls_config: {insecure_skip_verify: true}}}]",
            "slack_configs: [{api_url: 'https://hooks.slack.com/services/T/B/X', channel: '#ops'}]",
            "email_configs: [{to: a@b.c, smarthost: 'smtp:25', from: x@y.z, headers: {Subject: hi}}]",
            "pagerduty_configs: [{routing_key: abc, severity: critical}]",
            "pagerduty_configs: [{service_key: k, details: {a: 'yes'}}]",
            "opsgenie_configs: [{api_key: k, responders: [{name: ops, type: team}]}]",
            "telegram_configs: [{bot_token: t, chat_id: -100123}]",
            "pushover_configs: [{user_key: u, token: t, retry: 30s, expire: 1h}]",
            "victorops_configs: [{api_key: k, routing_key: r}]",
            "wechat_configs: [{api_secret: s, corp_id: c}]",
            "sns_configs: [{topic_arn: 'arn:aws:sns:x', sigv4: {region: eu-west-1}}]",
            "discord_configs: [{webhook_url: 'https://discord.com/api/webhooks/1/x'}]",
            "webex_configs: [{room_id: r, http_config: {authorization: {credentials: c}}}]",
        ]),
        pick(&[
            "slack_configs: [{channel: '#ops', title: 'on'}]",
            "email_configs: [{to: a@b.c}]",
            "webhook_configs: [{url: 'ftp://x'}]",
            "webhook_configs: [{max_alerts: 5}]",
            "webhook_configs: [{url: 'http://x', max_alerts: -1}]",
            "email_configs: [{smarthost: 'smtp:25'}]",
            "pagerduty_configs: [{routing_key: a, routing_key_file: /f}]",
            "opsgenie_configs: [{api_key: k, responders: [{type: team}]}]",
            "telegram_configs: [{bot_token: t, chat_id: 'x'}]",
            "telegram_configs: [{bot_token: t, chat_id: 1, parse_mode: md}]",
            "pushover_configs: [{user_key: u, token: t, retry: 5}]",
            "victorops_configs: [{api_key: k}]",
            "wechat_configs: [{api_secret: s, corp_id: c, message_type: html}]",
            "sns_configs: [{topic_arn: a, phone_number: p}]",
            "discord_configs: [{title: t}]",
            "webex_configs: [{room_id: r}]",
            "webhook_configs: [{url: 'http://x', http_config: {basic_auth: {username: u}, bearer_token: b}}]",
            "webhook_configs: [{url: 'http://x', http_config: {tls_config: {min_version: TLS9}}}]",
            "msteams_configs: [{webhook_url: 'http://x'}]",
            "slack_configs: [{api_url: 'http://x', actions: [{type: button, text: t}]}]",
        ]),
    )
}

fn receivers(valid: bool) -> impl Strategy<Value = String> {
    let entry = |name: &'static str| {
        prop::collection::vec(integration(valid), 0..3).prop_map(move |ints| {
            let mut s = format!("- name: {name}\n");
            for i in ints {
                s.push_str(&format!("  {i}\n"));
            }
            s
        })
    };
    let extra = if valid {
        pick(&["", "- name: unused\n"]).boxed()
    } else {
        sometimes(
            4,
            1,
            pick(&[
                "- name: default\n",
                "- webhook_configs: [{url: 'http://x'}]\n",
                "- name: x\n  foo: bar\n",
            ])
            .boxed(),
        )
    };
    (
        entry(RECEIVERS[0]),
        entry(RECEIVERS[1]),
        entry(RECEIVERS[2]),
        entry(RECEIVERS[3]),
        extra,
    )
        .prop_map(|(a, b, c, d, e)| format!("receivers:\n{a}{b}{c}{d}{e}"))
}

fn global(valid: bool) -> BoxedStrategy<String> {
    either(
        valid,
        pick(&[
            "",
            "global:\n  resolve_timeout: 1m\n  slack_api_url: 'https://hooks.slack.com/services/A/B/C'\n",
            "global:\n  smtp_smarthost: 'localhost:25'\n  smtp_from: am@example.org\n  smtp_require_tls: no\n",
            "global:\n  opsgenie_api_key: k\n  victorops_api_key: v\n  wechat_api_secret: s\n  wechat_api_corp_id: c\n",
            "global: {}\n",
            "global:\n  http_config:\n    follow_redirects: false\n",
        ]),
        pick(&[
            "global:\n  smtp_smarthost: localhost\n",
            "global:\n  slack_api_url: 'http://x'\n  slack_api_url_file: /f\n",
            "global:\n  resolve_timeout: 5x\n",
            "global:\n  pagerduty_url: ~\n",
            "global:\n  smtp_hello: [a]\n",
        ]),
    )
}

fn inhibit_rules(valid: bool) -> impl Strategy<Value = String> {
    let rule = either(
        valid,
        pick(&[
            "{source_matchers: ['severity=\"critical\"'], target_matchers: ['severity=\"warning\"'], equal: [alertname, cluster]}",
            "{source_match: {severity: critical}, target_match_re: {severity: 'warning|info'}}",
            "{}",
            "{equal: ['yes']}",
        ]),
        pick(&[
            "{source_match: {1bad: x}}",
            "{target_match_re: {a: '['}}",
            "{equal: [bad-label]}",
            "{source_matchers: [foo]}",
            "{source_match: x}",
        ]),
    );
    prop_oneof![
        2 => Just(String::new()),
        1 => prop::collection::vec(rule, 1..3).prop_map(|r| format!("inhibit_rules: {}\n", flow_list(r))),
    ]
}

fn time_intervals(valid: bool) -> impl Strategy<Value = String> {
    let part = either(
        valid,
        pick(&[
            "times: [{start_time: '09:00', end_time: '17:00'}]",
            "weekdays: ['monday:friday']",
            "weekdays: [saturday, Sunday]",
            "days_of_month: ['1:5', '-3:-1']",
            "months: ['january:march', '12']",
            "years: ['2020:2030']",
            "location: Europe/Berlin",
            "location: UTC",
        ]),
        pick(&[
            "weekdays: [funday]",
            "times: [{start_time: '17:00', end_time: '09:00'}]",
            "times: [{start_time: '9:00', end_time: '10:00'}]",
            "days_of_month: ['0']",
            "months: [smarch]",
            "years: ['2021:2020']",
            "location: Mars/Olympus",
            "times: [{start_time: '09:00'}]",
        ]),
    );
    let listed = prop::collection::vec(part, 1..3).prop_map(|parts| format!(
            "time_intervals:\n- name: office\n  time_intervals: [{{{}}}]\n- name: weekend\n  time_intervals: [{{weekdays: [saturday, sunday]}}]\n",
            parts.join(", ")
        ));
    // Routes may refer to `office` and `weekend`, so valid configurations define them.
    either(
        valid,
        listed,
        pick(&[
            "",
            "time_intervals: [{name: office}, {name: weekend}]\nmute_time_intervals: [{name: office}]\n",
            "time_intervals: [{name: office}, {time_intervals: []}]\n",
        ]),
    )
}

fn config_text(valid: bool) -> impl Strategy<Value = String> {
    (
        global(valid),
        route_tree(2, true, valid),
        receivers(valid),
        inhibit_rules(valid),
        time_intervals(valid),
    )
        .prop_map(|(g, route, recv, inhibit, ti)| {
            let mut s = g;
            s.push_str("route:\n");
            render_route(&route, 2, &mut s, "  ");
            s.push_str(&recv);
            s.push_str(&inhibit);
            s.push_str(&ti);
            s
        })
}

/// Changes to the text that keep its meaning for YAML (or break it in YAML's own ways):
/// line endings, document markers, comments, anchors and aliases, merge keys.
fn mutate(text: String, how: u8) -> String {
    match how {
        1 => text.replace('\n', "\r\n"),
        2 => format!("---\n{text}"),
        3 => format!("{text}---\nfoo: bar\n"),
        4 => format!(
            "# generated\n{}",
            text.replace("receivers:\n", "receivers: # list\n")
        ),
        5 => {
            if text.contains("  receiver: default\n") && text.contains("- name: default\n") {
                text.replacen("  receiver: default\n", "  receiver: &rname default\n", 1)
                    .replacen("- name: default\n", "- name: *rname\n", 1)
            } else {
                text
            }
        }
        6 => text.replacen(
            "route:\n",
            "route:\n  <<: {group_wait: 10s, repeat_interval: 1h}\n",
            1,
        ),
        7 => text.replacen("route:\n", "route:\n  <<: [{group_wait: 10s}, ~]\n", 1),
        8 => text.replace("receivers:\n", "receivers:\n\t\n"),
        _ => text,
    }
}

fn any_config_text() -> impl Strategy<Value = String> {
    let mutated = (config_text(true), 1u8..9).prop_map(|(t, how)| mutate(t, how));
    prop_oneof![
        12 => config_text(true),
        12 => config_text(false),
        6 => mutated,
        1 => pick(&["", "route: {receiver: default\n", "route:\n  receiver: a\n   b: 1\n", "- a\n", "route: [a]\n"]),
    ]
}

#[test]
fn generated_configs_agree_with_amtool() {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed());
    let mut runner = TestRunner::new_with_rng(RunnerConfig::default(), rng);
    let strategy = any_config_text();
    let total = cases();
    let mut texts = Vec::with_capacity(total);
    while texts.len() < total {
        let tree = strategy.new_tree(&mut runner).expect("a value");
        texts.push(tree.current());
    }
    let verdicts = amtool_check_all(&texts);
    let mut accepted = 0;
    let mut problems = Vec::new();
    for (text, verdict) in texts.iter().zip(&verdicts) {
        // What `alertctl check-config` prints for the file is what amtool printed.
        if verdict.failure.as_deref() != Some("<amtool crashed>") {
            let printed = check_config_output(&verdict.name, text).stdout;
            if printed != verdict.block {
                problems.push(format!(
                    "amtool printed:\n{}ours:\n{printed}",
                    verdict.block
                ));
            }
        }
        let ours = Config::from_yaml(text);
        match (&verdict.failure, &ours) {
            (None, Ok(_)) => accepted += 1,
            (Some(theirs), Err(e)) => {
                if theirs != "<amtool crashed>" && *theirs != e.alertmanager_message() {
                    problems.push(format!(
                        "amtool: {theirs}\nours:   {}\n--- config ---\n{text}",
                        e.alertmanager_message()
                    ));
                }
            }
            (Some(theirs), Ok(_)) => {
                problems.push(format!("amtool rejects ({theirs}), we accept:\n{text}"))
            }
            (None, Err(e)) => problems.push(format!("amtool accepts, we reject ({e}):\n{text}")),
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} disagree:\n\n{}",
        problems.len(),
        texts.len(),
        problems.join("\n\n")
    );
    eprintln!(
        "{total} configurations: {accepted} accepted, {} rejected",
        total - accepted
    );
    // The generator must exercise both outcomes substantially.
    assert!(accepted >= total / 5, "only {accepted} accepted");
    assert!(
        total - accepted >= total / 5,
        "only {} rejected",
        total - accepted
    );
}
