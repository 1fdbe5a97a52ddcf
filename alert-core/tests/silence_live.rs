//! Silences against a REAL Alertmanager 0.25 process (testkit): the same posts are
//! accepted or refused with the same messages, the stored silences read back into our
//! `Silence` and write out as the same JSON, and the alerts Alertmanager reports as
//! silenced are exactly the ones our `Silence::mutes` says.

use std::collections::BTreeSet;

use alert_core::silence::PostableSilence;
use alert_core::{LabelSet, Silence, SilenceState, Timestamp};
use alert_testkit::{Alertmanager, MINIMAL_CONFIG};
use serde_json::{Value, json};

fn now() -> Timestamp {
    Timestamp::from_jiff(jiff::Timestamp::now())
}

fn at(base: Timestamp, seconds: i64) -> String {
    let t: jiff::Timestamp = base.into();
    (t + jiff::SignedDuration::from_secs(seconds)).to_string()
}

fn matcher(name: &str, value: &str, is_regex: bool, is_equal: bool) -> Value {
    json!({"name": name, "value": value, "isRegex": is_regex, "isEqual": is_equal})
}

/// The API's answer to a post as we predict it: the new id, or the error body.
fn predicted(body: &Value, now: Timestamp) -> Result<(), String> {
    let posted: PostableSilence = serde_json::from_value(body.clone()).expect("postable silence");
    posted.check(now).map_err(|e| {
        let message = e.to_string();
        let api_check = message == "start time must be before end time"
            || message == "end time can't be in the past";
        if api_check {
            format!("Failed to create silence: {message}")
        } else {
            format!("silence invalid: {message}")
        }
    })
}

#[test]
fn silences_agree_with_real_alertmanager() {
    let am = Alertmanager::start(MINIMAL_CONFIG);
    let t0 = now();
    let (past, soon, later, much_later) = (at(t0, -60), at(t0, 600), at(t0, 3600), at(t0, 7200));

    let posts: Vec<Value> = vec![
        // Accepted, active (a start in the past is moved to now).
        json!([matcher("alertname", "DiskFull", false, true)]),
        json!([
            matcher("alertname", "Disk.*", true, true),
            matcher("env", "prod", false, false)
        ]),
        json!([matcher("severity", "critical|page", true, true)]),
        json!([matcher(
            "alertname",
            "(?i)watchdog|deadmansswitch",
            true,
            true
        )]),
        json!([
            matcher("instance", r"10\.0\..*", true, true),
            matcher("team", "", false, true)
        ]),
        json!([
            matcher("service", ".+", true, true),
            matcher("tier", "free", false, false)
        ]),
        json!([
            matcher("alertname", ".*Down", true, true),
            matcher("cluster", ".*-0[0-4]", true, false)
        ]),
        json!([matcher("env", "", false, false)]),
        json!([matcher("env", "a)|(b", true, true)]),
        json!([matcher("env", "(", true, false)]),
        json!([matcher("1env", "x", false, true)]),
        json!([matcher("env", "", false, true)]),
        json!([
            matcher("env", "a*", true, true),
            matcher("team", "", false, true)
        ]),
        json!([
            matcher("env", "a*", true, true),
            matcher("team", "db", false, true)
        ]),
    ];
    let mut bodies: Vec<Value> = posts
        .into_iter()
        .map(|m| json!({"matchers": m, "startsAt": past, "endsAt": later, "createdBy": "test", "comment": "c"}))
        .collect();
    // Pending, reversed, ended, and equal times.
    let m = json!([matcher("alertname", "DiskFull", false, true)]);
    bodies.push(json!({"matchers": m, "startsAt": soon, "endsAt": much_later, "createdBy": "t", "comment": "pending"}));
    bodies.push(json!({"matchers": m, "startsAt": later, "endsAt": soon, "createdBy": "t", "comment": "reversed"}));
    bodies.push(json!({"matchers": m, "startsAt": at(t0, -7200), "endsAt": at(t0, -3600), "createdBy": "t", "comment": "ended"}));
    bodies.push(json!({"matchers": m, "startsAt": later, "endsAt": later, "createdBy": "t", "comment": "empty"}));

    let mut ids = Vec::new();
    for body in &bodies {
        let answer = am.post_json("/api/v2/silences", body);
        let theirs = if answer.is_success() {
            ids.push(answer.json()["silenceID"].as_str().expect("id").to_owned());
            Ok(())
        } else {
            assert_eq!(answer.status, 400, "{}", answer.body);
            Err(answer.json().as_str().expect("error string").to_owned())
        };
        assert_eq!(predicted(body, now()), theirs, "post {body}");
    }
    assert_eq!(ids.len(), 10, "ten silences are valid");

    // Read back: our type reads Alertmanager's JSON and writes the same JSON.
    let listed = am.get("/api/v2/silences").ensure_success().json();
    let mut silences = Vec::new();
    for raw in listed.as_array().expect("array") {
        let s: Silence = serde_json::from_value(raw.clone()).expect("reads a gettable silence");
        assert_eq!(&serde_json::to_value(&s).expect("writes"), raw);
        let expected_state = if s.comment == "pending" {
            SilenceState::Pending
        } else {
            SilenceState::Active
        };
        assert_eq!(s.status.state, expected_state, "{raw}");
        assert_eq!(s.state_at(now()), expected_state);
        silences.push(s);
    }

    // Muting: Alertmanager's silencedBy against ours.
    let alerts = json!([
        {"labels": {"alertname": "DiskFull", "env": "prod"}},
        {"labels": {"alertname": "DiskFull", "env": "dev"}},
        {"labels": {"alertname": "DiskPressure"}},
        {"labels": {"alertname": "MyDiskFull", "severity": "page"}},
        {"labels": {"alertname": "WatchDog"}},
        {"labels": {"alertname": "NodeDown", "cluster": "eu-07"}},
        {"labels": {"alertname": "NodeDown", "cluster": "eu-03"}},
        {"labels": {"alertname": "Node\nDown"}},
        {"labels": {"alertname": "X", "instance": "10.0.1.2"}},
        {"labels": {"alertname": "X", "instance": "10.0.1.2", "team": "db"}},
        {"labels": {"alertname": "Y", "service": "api", "tier": "free"}},
        {"labels": {"alertname": "Y", "service": "api", "tier": "gold"}},
        {"labels": {"alertname": "Z", "env": "a"}},
        {"labels": {"alertname": "Z", "env": "aaa", "team": "db"}},
        {"labels": {"alertname": "Z", "env": "b"}},
    ]);
    am.post_alerts(&alerts).ensure_success();
    let reported = am.get("/api/v2/alerts").ensure_success().json();
    let reported = reported.as_array().expect("array");
    assert_eq!(reported.len(), alerts.as_array().map_or(0, Vec::len));
    let check_at = now();
    for alert in reported {
        let labels: LabelSet = serde_json::from_value(alert["labels"].clone()).expect("label set");
        let theirs: BTreeSet<String> = alert["status"]["silencedBy"]
            .as_array()
            .expect("silencedBy")
            .iter()
            .map(|v| v.as_str().expect("id").to_owned())
            .collect();
        let ours: BTreeSet<String> = silences
            .iter()
            .filter(|s| s.mutes(&labels, check_at))
            .map(|s| s.id.clone())
            .collect();
        assert_eq!(ours, theirs, "alert {labels}");
    }
}
