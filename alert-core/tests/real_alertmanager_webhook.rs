//! The webhook message must read and re-serialise exactly as a real Alertmanager 0.25
//! sends it.
//!
//! A real process routes to a [`WebhookSink`] served by the test with short timers;
//! alerts are fired and resolved through its API. Every captured body must parse with
//! [`WebhookMessage::from_json`] and [`WebhookMessage::to_json`] must give back the same
//! bytes (Alertmanager ends the body with a newline) and the same JSON value.

use std::time::Duration;

use alert_core::{AlertStatus, LabelSet, Timestamp, WebhookMessage};
use alert_testkit::{Alertmanager, ReceivedRequest, WebhookSink};
use serde_json::{Value, json};

mod real_alertmanager_strategies;
use real_alertmanager_strategies::generated_sets;

/// How long a notification may take: group_wait plus a group_interval, with room to spare
/// on a loaded machine.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(30);
/// How many generated label sets go through the webhook.
const GENERATED: usize = 60;
/// The seed of those sets: fixed, so every run sends the same.
const SEED: [u8; 32] = *b"alert-core webhook bodies AM0.25";

fn config(sink: &WebhookSink) -> String {
    format!(
        r#"route:
  receiver: 'hook.dot+x'
  group_by: [alertname]
  group_wait: 300ms
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: truncating
      matchers: ['case="truncate"']
      group_by: [case]
receivers:
  - name: 'hook.dot+x'
    webhook_configs:
      - url: '{dot}'
        send_resolved: true
  - name: truncating
    webhook_configs:
      - url: '{truncate}'
        send_resolved: true
        max_alerts: 1
"#,
        dot = sink.url_for("/dot"),
        truncate = sink.url_for("/truncate"),
    )
}

/// Parses a captured body, checks it re-serialises byte for byte and value for value,
/// and checks what every Alertmanager webhook request carries.
fn round_trip(request: &ReceivedRequest) -> WebhookMessage {
    assert_eq!(request.method, "POST");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("user-agent"), Some("Alertmanager/0.25.0"));
    let body = request.body_str();
    assert!(
        body.ends_with("}\n"),
        "Alertmanager ends the body with a newline: {body:?}"
    );
    let msg = WebhookMessage::from_json(&request.body)
        .unwrap_or_else(|e| panic!("captured body does not parse: {e}\n{body}"));
    let again = msg.to_json();
    let captured: Value = serde_json::from_slice(&request.body).expect("captured JSON");
    let ours: Value = serde_json::from_slice(&again).expect("our JSON");
    assert_eq!(ours, captured, "values differ");
    assert_eq!(
        String::from_utf8_lossy(&again),
        body,
        "bytes differ (left ours, right Alertmanager's)"
    );
    for alert in &msg.alerts {
        assert_eq!(
            alert.fingerprint,
            alert.labels.fingerprint(),
            "{:?}",
            alert.labels
        );
    }
    msg
}

fn on_path<'a>(requests: &'a [ReceivedRequest], path: &str) -> Vec<&'a ReceivedRequest> {
    requests.iter().filter(|r| r.path == path).collect()
}

fn has_message(requests: &[ReceivedRequest], path: &str, status: &str) -> bool {
    on_path(requests, path)
        .iter()
        .any(|r| r.json()["status"] == status)
}

#[test]
fn firing_and_resolved_messages_round_trip() {
    let sink = WebhookSink::start();
    let am = Alertmanager::builder(&config(&sink))
        .external_url("http://alerts.example/am/")
        .start();

    // One alert with every optional field and awkward text, one with only labels (its
    // startsAt is then Alertmanager's own clock, with nanoseconds).
    let rich = json!({
        "labels": {"alertname": "WebhookShape", "severity": "page", "instance": "db-1:9100"},
        "annotations": {
            "summary": "disk \"full\" on é/日本 <b>&</b>",
            "description": "line one\nline two\ttabbed \\ backslash \u{2028}\u{2029} \u{8}\u{c}\u{1b}\u{7f}\r\u{0}",
        },
        "startsAt": "2024-05-01T10:00:00.12Z",
        "generatorURL": "http://prometheus.example/graph?g0.expr=up%3D%3D0&g0.tab=1",
    });
    let bare =
        json!({"labels": {"alertname": "WebhookShape", "severity": "page", "instance": "db-2"}});
    am.post_alerts(&json!([rich, bare])).ensure_success();

    let both = |r: &&ReceivedRequest| r.json()["alerts"].as_array().is_some_and(|a| a.len() == 2);
    let got = sink.wait_until(NOTIFY_TIMEOUT, "a firing message with both alerts", |got| {
        on_path(got, "/dot").iter().any(both)
    });
    let firing = round_trip(
        on_path(&got, "/dot")
            .into_iter()
            .find(|r| both(r))
            .expect("the message waited for"),
    );
    assert_eq!(firing.receiver, r"hook\.dot\+x");
    assert_eq!(firing.receiver_unquoted(), "hook.dot+x");
    assert_eq!(firing.status, AlertStatus::Firing);
    assert_eq!(firing.external_url, "http://alerts.example/am");
    assert_eq!(firing.group_key, r#"{}:{alertname="WebhookShape"}"#);
    assert_eq!(firing.truncated_alerts, 0);
    assert_eq!(
        firing.group_labels,
        LabelSet::from_pairs([("alertname", "WebhookShape")]).expect("valid")
    );
    assert_eq!(
        firing.common_labels,
        LabelSet::from_pairs([("alertname", "WebhookShape"), ("severity", "page")]).expect("valid")
    );
    assert!(firing.common_annotations.is_empty());
    let rich_alert = firing
        .alerts
        .iter()
        .find(|a| a.labels.get("instance") == Some("db-1:9100"))
        .expect("the rich alert");
    assert_eq!(
        rich_alert.generator_url,
        "http://prometheus.example/graph?g0.expr=up%3D%3D0&g0.tab=1"
    );
    assert_eq!(rich_alert.starts_at.to_string(), "2024-05-01T10:00:00.12Z");
    assert_eq!(rich_alert.ends_at, None);
    assert_eq!(
        rich_alert.annotations.get("summary"),
        Some("disk \"full\" on é/日本 <b>&</b>")
    );
    assert!(
        firing
            .alerts
            .iter()
            .all(|a| a.status == AlertStatus::Firing)
    );

    // Resolve both: same labels and start, an end of now (not before either start).
    let now = Timestamp::from(jiff::Timestamp::now());
    let resolved: Vec<Value> = firing
        .alerts
        .iter()
        .map(|a| {
            json!({
                "labels": a.labels,
                "annotations": a.annotations,
                "startsAt": a.starts_at,
                "endsAt": now,
                "generatorURL": a.generator_url,
            })
        })
        .collect();
    am.post_alerts(&Value::Array(resolved)).ensure_success();
    let got = sink.wait_until(NOTIFY_TIMEOUT, "a resolved message", |got| {
        has_message(got, "/dot", "resolved")
    });
    let resolved_request = on_path(&got, "/dot")
        .into_iter()
        .find(|r| r.json()["status"] == "resolved")
        .expect("resolved message");
    let resolved = round_trip(resolved_request);
    assert_eq!(resolved.alerts.len(), 2);
    assert!(
        resolved
            .alerts
            .iter()
            .all(|a| a.status == AlertStatus::Resolved && a.ends_at.is_some())
    );
    assert_eq!(resolved.group_key, firing.group_key);
    for request in on_path(&got, "/dot") {
        round_trip(request);
    }
}

#[test]
fn max_alerts_truncates_and_says_how_many() {
    let sink = WebhookSink::start();
    let am = Alertmanager::start(&config(&sink));
    let alerts: Vec<Value> = (0..3)
        .map(|i| {
            json!({
                "labels": {"alertname": format!("Truncated{i}"), "case": "truncate"},
                "annotations": {"runbook": "https://runbooks.example/truncate"},
            })
        })
        .collect();
    am.post_alerts(&Value::Array(alerts)).ensure_success();
    let got = sink.wait_for(1, NOTIFY_TIMEOUT);
    let requests = on_path(&got, "/truncate");
    assert_eq!(requests.len(), 1, "{got:?}");
    let msg = round_trip(requests[0]);
    assert_eq!(msg.receiver, "truncating");
    assert_eq!(msg.alerts.len(), 1);
    assert_eq!(msg.truncated_alerts, 2);
    assert_eq!(msg.group_key, r#"{}/{case="truncate"}:{case="truncate"}"#);
    assert_eq!(
        msg.common_annotations.get("runbook"),
        Some("https://runbooks.example/truncate")
    );
    // The external URL defaults to the listen address the kit gave the process.
    assert_eq!(msg.external_url, am.external_url());
}

#[test]
fn generated_labels_and_annotations_round_trip() {
    let sink = WebhookSink::start();
    // `mode="each"`: one group (and one message) per alert, so group keys and group
    // labels carry the generated values; `mode="all"`: one message with every alert.
    let am = Alertmanager::start(&format!(
        r#"route:
  receiver: each
  group_wait: 300ms
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: each
      matchers: ['mode="each"']
      group_by: ['...']
    - receiver: all
      matchers: ['mode="all"']
receivers:
  - name: each
    webhook_configs: [{{url: '{each}'}}]
  - name: all
    webhook_configs: [{{url: '{all}'}}]
"#,
        each = sink.url_for("/each"),
        all = sink.url_for("/all"),
    ));
    let mut sets: Vec<LabelSet> = generated_sets(SEED, GENERATED)
        .iter()
        .map(LabelSet::without_empty)
        .filter(|s| !s.is_empty())
        .collect();
    sets.sort();
    sets.dedup();
    let alerts_in = |mode: &str| -> Vec<Value> {
        sets.iter()
            .map(|set| {
                let mut labels = set.clone();
                labels.insert("mode", mode).expect("valid name");
                // The generated set again, as annotations (values may be anything).
                json!({"labels": labels, "annotations": set, "generatorURL": "http://gen/?a=1&b=<2>"})
            })
            .collect()
    };
    am.post_alerts(&Value::Array(alerts_in("each")))
        .ensure_success();
    am.post_alerts(&Value::Array(alerts_in("all")))
        .ensure_success();

    let distinct = {
        let mut with_mode: Vec<LabelSet> = sets
            .iter()
            .map(|s| {
                let mut l = s.clone();
                l.insert("mode", "each").expect("valid name");
                l
            })
            .collect();
        with_mode.sort();
        with_mode.dedup();
        with_mode.len()
    };
    let complete = |r: &&ReceivedRequest| {
        r.json()["alerts"]
            .as_array()
            .is_some_and(|a| a.len() == distinct)
    };
    let got = sink.wait_until(NOTIFY_TIMEOUT, "every generated alert", |got| {
        on_path(got, "/each").len() >= distinct && on_path(got, "/all").iter().any(complete)
    });
    let mut seen = 0;
    for request in on_path(&got, "/each") {
        let msg = round_trip(request);
        assert_eq!(
            msg.alerts.len(),
            1,
            "one alert per group: {}",
            request.body_str()
        );
        assert_eq!(msg.group_labels, msg.alerts[0].labels);
        seen += 1;
    }
    assert_eq!(seen, distinct);
    for request in on_path(&got, "/all") {
        round_trip(request);
    }
    let everything = round_trip(
        on_path(&got, "/all")
            .into_iter()
            .find(|r| complete(r))
            .expect("the message waited for"),
    );
    assert_eq!(everything.alerts.len(), distinct);
    assert_eq!(everything.common_labels.get("mode"), Some("all"));
}
