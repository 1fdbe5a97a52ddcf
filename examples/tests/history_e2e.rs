//! End to end with a real Alertmanager 0.25: the history receiver is the first route
//! (`continue: true`), alerts are fired and resolved through Alertmanager's API, and the
//! server's episodes and timeline are checked; then the Watchdog heartbeat stops and the
//! timeline shows the pipeline as unavailable.

mod history_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use alert_core::{LabelSet, Timestamp};
use alert_testkit::{Alertmanager, wait_until};
use history_support::{HistoryServer, enc, now_secs, rfc3339_in};
use serde_json::{Value, json};

fn config(history_port: u16) -> String {
    format!(
        r#"
route:
  receiver: blackhole
  group_by: ['alertname']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 2s
  routes:
    - receiver: history
      continue: true
    - receiver: blackhole
receivers:
  - name: history
    webhook_configs:
      - url: 'http://127.0.0.1:{history_port}/webhook'
        send_resolved: true
  - name: blackhole
"#
    )
}

fn episodes(server: &HistoryServer, matcher: &str) -> Vec<Value> {
    server.episodes(matcher)
}

fn fingerprint(pairs: &[(&str, &str)]) -> String {
    LabelSet::from_pairs(pairs.iter().copied())
        .expect("valid")
        .fingerprint()
        .to_string()
}

fn t(s: &str) -> Timestamp {
    s.parse().expect("RFC 3339")
}

#[test]
fn alerts_fired_and_resolved_through_alertmanager_become_episodes_and_a_timeline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = HistoryServer::start(
        dir.path(),
        &[
            "--heartbeat-repeat-interval",
            "2s",
            "--heartbeat-group-interval",
            "1s",
            // Generous: a loaded CI machine must not see an outage while the Watchdog runs.
            "--heartbeat-slack",
            "8s",
            "--alive-interval",
            "1s",
        ],
    );
    let am = Alertmanager::start(&config(server.port()));

    // The Watchdog, kept firing the way Prometheus keeps it: re-sent every second with an
    // end a few seconds ahead.
    let watchdog_on = Arc::new(AtomicBool::new(true));
    let keeper = {
        let on = Arc::clone(&watchdog_on);
        let url = am.api_url("/alerts");
        let starts = rfc3339_in(0);
        std::thread::spawn(move || {
            while on.load(Ordering::SeqCst) {
                let body = json!([{"labels": {"alertname": "Watchdog", "severity": "none"},
                    "startsAt": starts, "endsAt": rfc3339_in(3000)}]);
                alert_testkit::http::post_json(&url, &body);
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    };
    wait_until(
        Duration::from_secs(20),
        "the first Watchdog heartbeat",
        || (!episodes(&server, "alertname=\"Watchdog\"").is_empty()).then_some(()),
    );

    let t0 = rfc3339_in(0);
    let window_start = now_secs() - 5;
    am.post_alerts(&json!([
        {"labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "critical"},
         "annotations": {"summary": "disk full"}, "startsAt": t0},
        {"labels": {"alertname": "CPUHigh", "instance": "db-1", "severity": "warning"}, "startsAt": t0},
    ]))
    .ensure_success();
    wait_until(Duration::from_secs(20), "both episodes", || {
        (episodes(&server, "instance=\"db-1\"").len() == 2).then_some(())
    });

    // Resolve DiskFull through the API: an end in the past.
    std::thread::sleep(Duration::from_millis(1500));
    let resolved_at = rfc3339_in(-200);
    am.post_alerts(&json!([
        {"labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "critical"},
         "annotations": {"summary": "disk full"}, "startsAt": t0, "endsAt": resolved_at},
    ]))
    .ensure_success();
    let disk = wait_until(Duration::from_secs(20), "DiskFull resolved", || {
        episodes(&server, "alertname=\"DiskFull\"")
            .into_iter()
            .find(|e| !e["endsAt"].is_null())
    });
    let disk_fp = fingerprint(&[
        ("alertname", "DiskFull"),
        ("instance", "db-1"),
        ("severity", "critical"),
    ]);
    let cpu_fp = fingerprint(&[
        ("alertname", "CPUHigh"),
        ("instance", "db-1"),
        ("severity", "warning"),
    ]);
    assert_eq!(disk["fingerprint"], disk_fp.as_str());
    assert_eq!(t(disk["startsAt"].as_str().expect("startsAt")), t(&t0));
    assert_eq!(t(disk["endsAt"].as_str().expect("endsAt")), t(&resolved_at));
    assert_eq!(disk["receiver"], "history");
    assert_eq!(disk["annotations"]["summary"], "disk full");
    assert_eq!(disk["severity"], "critical");
    assert_eq!(
        episodes(&server, "alertname=\"DiskFull\"").len(),
        1,
        "re-deliveries made no new episode"
    );
    let cpu = episodes(&server, "alertname=\"CPUHigh\"");
    assert_eq!(cpu.len(), 1);
    assert!(cpu[0]["endsAt"].is_null());

    // The entity's timeline: healthy, then critical (DiskFull), then warning (CPUHigh).
    let end = now_secs() + 1;
    let tl = server.get_data(&format!(
        "/api/v1/timeline?start={window_start}&end={end}&match[]={}",
        enc("instance=\"db-1\"")
    ));
    let segments = tl["segments"].as_array().expect("segments");
    assert_eq!(
        t(segments[0]["start"].as_str().expect("start")).unix_seconds(),
        window_start as i64
    );
    assert_eq!(
        t(segments[segments.len() - 1]["end"].as_str().expect("end")).unix_seconds(),
        end as i64
    );
    for w in segments.windows(2) {
        assert_eq!(w[0]["end"], w[1]["start"], "segments are contiguous");
        assert_ne!(w[0]["state"], w[1]["state"], "equal neighbours are merged");
    }
    let states: Vec<&str> = segments
        .iter()
        .map(|s| s["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states, ["healthy", "critical", "warning"], "{tl:#}");
    assert_eq!(t(segments[1]["start"].as_str().expect("start")), t(&t0));
    assert_eq!(
        t(segments[1]["end"].as_str().expect("end")),
        t(&resolved_at)
    );
    assert_eq!(segments[1]["episodes"], json!([disk_fp]));
    assert_eq!(segments[2]["episodes"], json!([cpu_fp]));

    // Stop the heartbeat: after repeat_interval + group_interval + slack, unavailable.
    watchdog_on.store(false, Ordering::SeqCst);
    keeper.join().expect("watchdog keeper");
    let last_beat = server.get_data(&format!(
        "/api/v1/episodes?start={}&end={}&match[]={}",
        now_secs() - 600,
        now_secs() + 600,
        enc("alertname=\"Watchdog\"")
    ))["episodes"][0]["lastSeen"]
        .as_str()
        .map(t)
        .expect("the Watchdog episode");
    let tl = wait_until(Duration::from_secs(45), "an unavailable segment", || {
        let tl = server.get_data(&format!(
            "/api/v1/timeline?start={window_start}&end={}&match[]={}",
            now_secs() + 1,
            enc("instance=\"db-1\"")
        ));
        let last = tl["segments"].as_array()?.last()?.clone();
        (last["state"] == "unavailable").then_some(tl)
    });
    let segments = tl["segments"].as_array().expect("segments");
    let down = &segments[segments.len() - 1];
    let down_start = t(down["start"].as_str().expect("start"));
    // Due 2s + 1s after the newest heartbeat (which may be a little after the one seen).
    assert!(
        down_start >= last_beat,
        "{down_start} before the last heartbeat {last_beat}"
    );
    assert_eq!(tl["unavailable"][0]["cause"], "heartbeat_missing");
    assert!(down["episodes"].as_array().expect("episodes").is_empty());
    let states: Vec<&str> = segments
        .iter()
        .map(|s| s["state"].as_str().expect("state"))
        .collect();
    assert_eq!(
        &states[..3],
        ["healthy", "critical", "warning"],
        "the past is unchanged: {tl:#}"
    );
}
