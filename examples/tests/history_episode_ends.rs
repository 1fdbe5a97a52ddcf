//! Episodes that end without a resolved notification, through a real Alertmanager 0.25:
//!
//! - **the flap**: an alert fired (T1), resolved and fired again (T2) within one group
//!   interval. Alertmanager replaces the resolved alert with the new one and never sends
//!   a resolved notification for T1; the history ends T1 where T2 starts.
//! - **the silence**: an alert silenced while it fires is never notified again, resolved
//!   or not; the history ends it one repeat interval after its last notification, once
//!   the grace has passed, and says the end is inferred.

mod history_support;

use std::time::Duration;

use alert_core::Timestamp;
use alert_testkit::{Alertmanager, wait_until};
use history_support::{HistoryServer, enc, now_secs, rfc3339_in};
use serde_json::{Value, json};

/// `Flap` goes to `history` with a long group interval (the flap happens inside one);
/// `Muted` to `history-fast`, repeated every 2 s.
fn config(history_port: u16) -> String {
    format!(
        r#"
route:
  receiver: blackhole
  group_by: ['alertname']
  group_wait: 0s
  routes:
    - receiver: history
      matchers: ['alertname="Flap"']
      group_interval: 10s
      repeat_interval: 1h
    - receiver: history-fast
      matchers: ['alertname="Muted"']
      group_interval: 1s
      repeat_interval: 2s
receivers:
  - name: history
    webhook_configs:
      - url: 'http://127.0.0.1:{history_port}/webhook'
        send_resolved: true
  - name: history-fast
    webhook_configs:
      - url: 'http://127.0.0.1:{history_port}/webhook'
        send_resolved: true
  - name: blackhole
"#
    )
}

fn episodes(server: &HistoryServer, alertname: &str) -> Vec<Value> {
    server.episodes(&format!("alertname=\"{alertname}\""))
}

fn t(v: &Value) -> Timestamp {
    v.as_str().expect("a time").parse().expect("RFC 3339")
}

#[test]
fn a_flap_ends_the_replaced_episode_and_a_silenced_one_ends_as_silent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = HistoryServer::start(
        dir.path(),
        &[
            "--repeat-interval",
            "1h",
            "--repeat-interval-for",
            "history-fast=2s",
            // Alertmanager repeats within a group interval of the repeat interval; a
            // loaded machine may add a few seconds.
            "--silent-grace",
            "5s",
        ],
    );
    let am = Alertmanager::start(&config(server.port()));
    let labels = json!({"alertname": "Flap", "instance": "db-1", "severity": "critical"});

    // T1 fires and is recorded at once (group_wait 0s).
    let t1 = rfc3339_in(-1000);
    am.post_alerts(&json!([{"labels": labels, "startsAt": t1}]))
        .ensure_success();
    wait_until(Duration::from_secs(20), "T1 recorded", || {
        (episodes(&server, "Flap").len() == 1).then_some(())
    });
    // Resolved and fired again well inside the 10 s group interval: Alertmanager
    // replaces T1 by T2 and notifies nothing (the firing set is unchanged).
    am.post_alerts(&json!([{"labels": labels, "startsAt": t1, "endsAt": rfc3339_in(-500)}]))
        .ensure_success();
    let t2 = rfc3339_in(0);
    am.post_alerts(&json!([{"labels": labels, "startsAt": t2}]))
        .ensure_success();
    std::thread::sleep(Duration::from_millis(200));
    // T2 resolves: the next flush sends T2 resolved, and never T1.
    let t2_end = rfc3339_in(0);
    am.post_alerts(&json!([{"labels": labels, "startsAt": t2, "endsAt": t2_end}]))
        .ensure_success();
    let flap = wait_until(Duration::from_secs(30), "T2 recorded", || {
        let eps = episodes(&server, "Flap");
        (eps.len() == 2).then_some(eps)
    });
    let (first, second) = (&flap[0], &flap[1]);
    assert_eq!(t(&first["startsAt"]), t(&json!(t1)), "{flap:#?}");
    assert_eq!(
        t(&first["endsAt"]),
        t(&json!(t2)),
        "T1 ends where T2 starts: {flap:#?}"
    );
    assert_eq!(first["endReason"], "superseded");
    assert_eq!(first["endInferred"], true);
    assert_eq!(t(&second["startsAt"]), t(&json!(t2)));
    assert_eq!(t(&second["endsAt"]), t(&json!(t2_end)));
    assert_eq!(second["endReason"], "resolved");
    assert_eq!(second["endInferred"], false);
    assert!(
        !am.logs().contains("level=error"),
        "Alertmanager delivered without errors"
    );

    // Nothing is red after T2's end.
    let tl = server.get_data(&format!(
        "/api/v1/timeline?start={}&end={}&match[]={}",
        now_secs() - 120,
        now_secs() + 1,
        enc("instance=\"db-1\"")
    ));
    let segments = tl["segments"].as_array().expect("segments");
    let last = segments.last().expect("a segment");
    assert_eq!(last["state"], "healthy", "{tl:#}");
    assert_eq!(t(&last["start"]), t(&json!(t2_end)), "{tl:#}");

    // Muted fires and is repeated; then a silence stops every notification of it.
    am.post_alerts(
        &json!([{"labels": {"alertname": "Muted", "severity": "warning"},
                            "startsAt": rfc3339_in(0)}]),
    )
    .ensure_success();
    wait_until(Duration::from_secs(20), "Muted repeated", || {
        episodes(&server, "Muted")
            .first()
            .filter(|e| t(&e["lastSeen"]) > t(&e["firstSeen"]))
            .map(drop)
    });
    let silence = am.post_json(
        "/api/v2/silences",
        &json!({"matchers": [{"name": "alertname", "value": "Muted", "isRegex": false}],
                "startsAt": rfc3339_in(0), "endsAt": rfc3339_in(3_600_000),
                "createdBy": "test", "comment": "maintenance"}),
    );
    silence.ensure_success();
    let muted = wait_until(Duration::from_secs(40), "Muted ended as silent", || {
        episodes(&server, "Muted")
            .into_iter()
            .find(|e| e["endReason"] == "silent")
    });
    assert_eq!(muted["endInferred"], true);
    let last_seen = t(&muted["lastSeen"]);
    assert_eq!(
        t(&muted["endsAt"]),
        last_seen
            .checked_add("2s".parse().expect("duration"))
            .expect("representable"),
        "one repeat interval after the last notification: {muted:#}"
    );
    assert!(
        now_secs() as i64 >= last_seen.unix_seconds() + 7,
        "not before the repeat interval and the grace have passed"
    );
}
