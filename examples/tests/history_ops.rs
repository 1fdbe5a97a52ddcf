//! `alert-history-server check` (the design's post-install check: was the Watchdog
//! recorded within its repeat interval?) and `export` (the support-bundle dump, read from
//! the store directly), run as a user runs them against a real server.

mod history_support;

use std::process::Command;

use alert_core::LabelSet;
use history_support::{HistoryServer, alert, message, rfc3339_in};
use serde_json::{Value, json};

/// (exit status, stdout, stderr) of the binary with `args`.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_alert-history-server"))
        .args(args)
        .output()
        .expect("run alert-history-server");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const HEARTBEAT: [&str; 6] = [
    "--heartbeat-repeat-interval",
    "2s",
    "--heartbeat-group-interval",
    "1s",
    "--heartbeat-slack",
    "1s",
];

#[test]
fn check_passes_only_when_the_watchdog_was_recorded_in_time() {
    let dir = tempfile::tempdir().expect("dir");
    let server = HistoryServer::start(dir.path(), &HEARTBEAT);
    let url = format!("--url={}", server.url(""));
    let check = |url: &str| {
        let mut args: Vec<&str> = HEARTBEAT.to_vec();
        args.extend(["check", url]);
        run(&args)
    };
    let (code, out, _) = check(&url);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(
            "FAILED: no heartbeat {alertname=\"Watchdog\"} recorded within the last 4s"
        ),
        "{out}"
    );

    let watchdog = message(json!([alert(
        json!({"alertname": "Watchdog"}),
        &rfc3339_in(0)
    )]));
    server
        .post_webhook(watchdog.to_string().as_bytes())
        .ensure_success();
    let (code, out, _) = check(&url);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("OK: the heartbeat {alertname=\"Watchdog\"} was last recorded at "),
        "{out}"
    );

    // No server there: status 2, the credentials of the URL not printed.
    let port = alert_testkit::free_port();
    let (code, out, _) = check(&format!("--url=http://u:s3cret@127.0.0.1:{port}"));
    assert_eq!(code, 2, "{out}");
    assert!(!out.contains("s3cret"), "{out}");
}

#[test]
fn export_dumps_the_stores_episodes_as_json_lines() {
    let dir = tempfile::tempdir().expect("dir");
    let server = HistoryServer::start(dir.path(), &[]);
    let since = (history_support::now_secs() - 60).to_string();
    let alerts: Vec<Value> = (0..3)
        .map(|i| {
            alert(
                json!({"alertname": "Disk", "instance": format!("db-{i}")}),
                &rfc3339_in(0),
            )
        })
        .collect();
    server
        .post_webhook(message(json!(alerts)).to_string().as_bytes())
        .ensure_success();
    let db = dir.path().join("history.db");
    let db = db.display().to_string();
    let (code, out, err) = run(&["--db", &db, "export", "--since", &since]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("exported 3 episodes"), "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    for line in &lines {
        let labels: LabelSet = serde_json::from_value(line["labels"].clone()).expect("labels");
        assert_eq!(line["fingerprint"], labels.fingerprint().to_string());
        assert_eq!(
            line["alertname"]
                .as_str()
                .or(line["labels"]["alertname"].as_str()),
            Some("Disk")
        );
    }
    // The flags may follow the command too.
    let (code, again, _) = run(&["export", "--since", &since, "--db", &db]);
    assert_eq!((code, again), (0, out));
    let (code, _, err) = run(&["--db", &db, "export", "--since", "yesterday"]);
    assert_eq!(code, 1);
    assert!(err.contains("--since"), "{err}");
    // --match selects as the API's match[]: each a selector, several OR-ed.
    let export_matching = |selectors: &[&str]| {
        let mut args = vec!["--db", db.as_str(), "export", "--since", since.as_str()];
        for s in selectors {
            args.extend(["--match", s]);
        }
        run(&args)
    };
    let (code, some, err) = export_matching(&[
        r#"{alertname="Disk",instance="db-0"}"#,
        r#"instance=~"db-[02]""#,
    ]);
    assert_eq!(code, 0, "{err}");
    let mut instances: Vec<String> = some
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .map(|v| {
            v["labels"]["instance"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    instances.sort();
    assert_eq!(instances, ["db-0", "db-2"], "db-0, selected twice, once");
    let (code, _, err) = export_matching(&[r#"{a=~"("}"#]);
    assert_eq!(code, 1);
    assert!(err.contains("--match"), "{err}");
}
