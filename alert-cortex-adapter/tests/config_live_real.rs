//! `config_live::covers` against a REAL Alertmanager 0.25: every configuration loaded
//! into the process must be covered by the `config.original` it then reports, and a
//! configuration differing in one value must not be.

use alert_cortex_adapter::config_live::{covers, first_difference};
use alert_testkit::Alertmanager;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Every receiver type 0.25 knows, time intervals, inhibit rules, templates, secrets,
/// and values Alertmanager re-spells (durations, matchers, header names, bearer tokens).
const RICH: &str = r#"
global:
  resolve_timeout: 90s
  smtp_smarthost: 'localhost:25'
  smtp_from: 'am@example.org'
  smtp_auth_password: hunter2
  slack_api_url: 'https://hooks.slack.com/services/x'
  opsgenie_api_key: key
  victorops_api_key: key
  wechat_api_secret: s
  wechat_api_corp_id: c
  telegram_api_url: https://api.telegram.org
templates: ['default.tmpl', '*.tmpl']
route:
  receiver: hook
  group_by: ['...']
  group_wait: 90s
  group_interval: 120s
  repeat_interval: 1d
  routes:
    - matchers: [ 'team=~"a|b"', severity=page, 'x!=y' ]
      receiver: mail
      continue: true
      mute_time_intervals: [weekends]
    - match: {service: db}
      match_re: {env: 'prod|staging'}
      receiver: pager
      active_time_intervals: [office]
      routes:
        - matchers: ['instance=~".*:9100"', 'a="b, c"']
          receiver: chat
          group_by: [instance]
inhibit_rules:
  - source_matchers: [severity=critical]
    target_matchers: ['severity=~"warning|info"']
    equal: [alertname, cluster]
  - source_match: {severity: page}
    target_match_re: {severity: 'ticket|info'}
time_intervals:
  - name: office
    time_intervals:
      - times: [{start_time: '09:00', end_time: '17:30'}]
        weekdays: ['monday:friday']
        days_of_month: ['1:10', '-3:-1']
        months: ['january:march', 'december']
        years: ['2024:2030']
mute_time_intervals:
  - name: weekends
    time_intervals:
      - weekdays: [saturday, sunday]
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:1/hook
        send_resolved: false
        max_alerts: 5
        http_config:
          bearer_token: tok
          tls_config: {insecure_skip_verify: true}
  - name: mail
    email_configs:
      - to: 'ops@example.org'
        headers: {subject: 'alert!', x-team: ops}
        require_tls: false
  - name: pager
    pagerduty_configs:
      - routing_key: rk
        severity: critical
        details: {firing: '{{ .Alerts.Firing | len }}'}
    opsgenie_configs:
      - responders: [{name: ops, type: team}]
        priority: P1
    victorops_configs:
      - routing_key: rk
  - name: chat
    slack_configs:
      - channel: '#alerts'
        title: '{{ .CommonLabels.alertname }}'
        actions: [{type: button, text: Runbook, url: 'https://example.org/runbook'}]
    pushover_configs:
      - user_key: u
        token: t
        retry: 90s
    wechat_configs:
      - to_user: '@all'
    telegram_configs:
      - bot_token: b
        chat_id: -1001
    sns_configs:
      - topic_arn: arn:aws:sns:us-east-1:123456789012:alerts
        sigv4: {region: us-east-1}
    webex_configs:
      - room_id: r
        http_config: {authorization: {credentials: c}}
    discord_configs:
      - webhook_url: https://discord.com/api/webhooks/1/x
"#;

const TEMPLATE: &str = "{{ define \"x\" }}x{{ end }}";

fn load(am: &Alertmanager, config: &str) -> String {
    std::fs::write(am.config_path().with_file_name("default.tmpl"), TEMPLATE).unwrap();
    let r = am.reload_with(config);
    assert!(
        r.is_success(),
        "Alertmanager refused the config: {}",
        r.body
    );
    am.status()["config"]["original"]
        .as_str()
        .expect("config.original is a string")
        .to_owned()
}

#[test]
fn real_alertmanager_output_covers_what_it_loaded() {
    let am = Alertmanager::start(alert_testkit::MINIMAL_CONFIG);
    let out = tempfile::tempdir().unwrap();
    let generator = std::process::Command::new("python3")
        .arg("/work/shared/bench-data/gen_routing.py")
        .arg("--out")
        .arg(out.path())
        .arg("--alerts")
        .arg("1")
        .output()
        .expect("python3 runs the bench data generator");
    assert!(
        generator.status.success(),
        "{}",
        String::from_utf8_lossy(&generator.stderr)
    );
    let generated = std::fs::read_to_string(out.path().join("config.yml")).unwrap();

    for (name, config) in [
        ("minimal", alert_testkit::MINIMAL_CONFIG),
        ("rich", RICH),
        ("gen_routing", generated.as_str()),
    ] {
        let original = load(&am, config);
        assert_eq!(
            first_difference(config, &original).unwrap(),
            None,
            "{name}: running config does not cover the file; running:\n{original}"
        );
    }
}

#[test]
fn one_changed_value_is_not_covered_by_the_old_running_config() {
    let am = Alertmanager::start(alert_testkit::MINIMAL_CONFIG);
    let original = load(&am, RICH);
    let changes = [
        ("group_wait: 90s", "group_wait: 91s"),
        ("repeat_interval: 1d", "repeat_interval: 2d"),
        ("severity=page", "severity=ticket"),
        ("'x!=y'", "'x=y'"),
        ("continue: true", "continue: false"),
        ("send_resolved: false", "send_resolved: true"),
        ("max_alerts: 5", "max_alerts: 6"),
        ("subject: 'alert!'", "subject: 'alert?'"),
        ("start_time: '09:00'", "start_time: '08:00'"),
        ("weekdays: [saturday, sunday]", "weekdays: [saturday]"),
        ("equal: [alertname, cluster]", "equal: [alertname]"),
        ("channel: '#alerts'", "channel: '#other'"),
        ("retry: 90s", "retry: 2m"),
        ("chat_id: -1001", "chat_id: -1002"),
        ("'*.tmpl'", "'other.tmpl'"),
        ("mute_time_intervals: [weekends]", "mute_time_intervals: []"),
        ("  - name: chat\n", "  - name: chat2\n"),
    ];
    for (from, to) in changes {
        let changed = RICH.replacen(from, to, 1);
        assert_ne!(changed, RICH, "{from} not found");
        let why = first_difference(&changed, &original).unwrap();
        assert!(why.is_some(), "{from} -> {to} went unnoticed");
    }
    // The "chat2" rename is also a valid config: once loaded, it is covered.
    let renamed = RICH
        .replacen("  - name: chat\n", "  - name: chat2\n", 1)
        .replace("receiver: chat\n", "receiver: chat2\n");
    let now = load(&am, &renamed);
    assert!(covers(&renamed, &now).unwrap());
    assert!(!covers(RICH, &now).unwrap());
}

/// Random route trees with values spelled in ways Alertmanager re-spells.
fn arb_route_config() -> impl Strategy<Value = String> {
    let duration = prop_oneof![
        Just("30s"),
        Just("90s"),
        Just("1m30s"),
        Just("5m"),
        Just("300s"),
        Just("1h"),
        Just("60m"),
        Just("2h30m"),
        Just("1d"),
        Just("1w")
    ];
    let matcher = (
        prop_oneof![Just("team"), Just("severity"), Just("env"), Just("x_y")],
        prop_oneof![Just("="), Just("!="), Just("=~"), Just("!~")],
        prop_oneof![
            Just("a"),
            Just("b|c"),
            Just("prod-eu"),
            Just("x y"),
            Just("")
        ],
        any::<bool>(),
    )
        .prop_map(|(n, op, v, quoted)| {
            if quoted || v.contains(' ') || v.contains('|') || v.is_empty() {
                format!("'{n}{op}\"{v}\"'")
            } else {
                format!("'{n}{op}{v}'")
            }
        });
    let route = (
        proptest::collection::vec(matcher, 1..4),
        proptest::option::of(duration.clone()),
        any::<bool>(),
        0usize..3,
    );
    (duration, proptest::collection::vec(route, 0..5)).prop_map(|(wait, routes)| {
        let mut s = format!(
            "route:\n  receiver: r0\n  group_wait: {wait}\n  group_by: [alertname]\n  routes:\n"
        );
        if routes.is_empty() {
            s.push_str("  - receiver: r0\n");
        }
        for (matchers, interval, cont, recv) in &routes {
            s.push_str(&format!(
                "  - receiver: r{recv}\n    matchers: [{}]\n    continue: {cont}\n",
                matchers.join(", ")
            ));
            if let Some(i) = interval {
                s.push_str(&format!("    group_interval: {i}\n"));
            }
        }
        s.push_str("receivers:\n  - name: r0\n  - name: r1\n  - name: r2\n");
        s
    })
}

#[test]
fn random_route_trees_are_covered_after_loading() {
    let am = Alertmanager::start(alert_testkit::MINIMAL_CONFIG);
    let mut runner = TestRunner::new(Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&arb_route_config(), |config| {
            let original = load(&am, &config);
            prop_assert_eq!(
                first_difference(&config, &original).unwrap(),
                None,
                "{}",
                original
            );
            // Any other group_wait is noticed.
            let changed = config.replacen("group_wait: ", "group_wait: 7", 1);
            prop_assert!(!covers(&changed, &original).unwrap());
            Ok(())
        })
        .unwrap();
}
