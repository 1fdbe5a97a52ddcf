//! The kit's single-process Alertmanager against the real binary.

use std::path::Path;
use std::time::Duration;

use alert_testkit::{Alertmanager, MINIMAL_CONFIG, http, wait_until};
use serde_json::json;

fn pid_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn starts_ready_and_unclustered_and_drop_kills_it() {
    let am = Alertmanager::start(MINIMAL_CONFIG);
    let pid = am.pid();
    let dir = am
        .config_path()
        .parent()
        .expect("config has a dir")
        .to_owned();
    assert!(pid_exists(pid), "process {pid} should run");
    assert_eq!(am.get("/-/ready").status, 200);
    let status = am.status();
    assert_eq!(status["cluster"]["status"], "disabled", "{status}");
    assert_eq!(status["versionInfo"]["version"], "0.25.0", "{status}");
    assert!(
        status["config"]["original"]
            .as_str()
            .is_some_and(|c| c.contains("blackhole")),
        "{status}"
    );
    assert!(am.args().contains(&"--cluster.listen-address=".to_owned()));
    drop(am);
    assert!(!pid_exists(pid), "process {pid} survived the drop");
    assert!(!dir.exists(), "{} survived the drop", dir.display());
}

#[test]
fn kill_and_restart_keep_ports_and_files() {
    let mut am = Alertmanager::start(MINIMAL_CONFIG);
    let (port, first) = (am.web_port(), am.pid());
    am.kill();
    assert!(am.is_killed());
    assert!(!pid_exists(first));
    assert!(
        http::try_get(&am.url("/-/ready")).is_err(),
        "nothing should answer"
    );
    am.restart();
    assert!(!am.is_killed());
    assert_ne!(am.pid(), first);
    assert_eq!(am.web_port(), port);
    assert_eq!(am.get("/-/ready").status, 200);
}

#[test]
fn alerts_posted_are_listed_and_bad_ones_refused() {
    let am = Alertmanager::start(MINIMAL_CONFIG);
    am.post_alerts(&json!([{"labels": {"alertname": "Test", "severity": "page"}}]))
        .ensure_success();
    let alerts = am.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["fingerprint"], "823de09697ca9348");
    let bad = am.post_alerts(&json!([{"labels": {"bad-name": "x"}}]));
    assert_eq!(bad.status, 400, "{bad:?}");
    assert!(bad.body.contains("invalid label set"), "{bad:?}");
}

#[test]
fn reload_accepts_good_and_reports_bad_configs() {
    let am = Alertmanager::start(MINIMAL_CONFIG);
    let good = MINIMAL_CONFIG.replace("blackhole", "other");
    assert_eq!(am.reload_with(&good).status, 200);
    wait_until(Duration::from_secs(10), "the new config in /status", || {
        am.status()["config"]["original"]
            .as_str()
            .is_some_and(|c| c.contains("other"))
            .then_some(())
    });
    let bad = am.reload_with("route:\n  receiver: missing\nreceivers:\n  - name: x\n");
    assert_eq!(bad.status, 500, "{bad:?}");
    assert!(
        bad.body.contains("undefined receiver \"missing\""),
        "{bad:?}"
    );
}

#[test]
fn a_refused_config_fails_the_start_with_the_processes_output() {
    let outcome = std::panic::catch_unwind(|| {
        Alertmanager::builder("route:\n  receiver: nowhere\nreceivers: []\n")
            .ready_timeout(Duration::from_secs(20))
            .start()
    });
    let panic = outcome.expect_err("the start must fail");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("did not become ready"), "{message}");
    assert!(message.contains("undefined receiver"), "{message}");
}

#[test]
fn an_external_url_with_a_path_prefixes_every_route() {
    let am = Alertmanager::builder(MINIMAL_CONFIG)
        .external_url("http://alerts.example/am/")
        .flag("--log.level=error")
        .start();
    assert!(am.base_url().ends_with("/am"), "{}", am.base_url());
    assert_eq!(am.external_url(), "http://alerts.example/am/");
    assert_eq!(am.get("/-/ready").status, 200);
    assert_eq!(am.status()["cluster"]["status"], "disabled");
    assert_eq!(
        am.args()
            .iter()
            .filter(|a| a.starts_with("--log.level"))
            .count(),
        1
    );
}

#[test]
fn amtool_talks_to_the_process() {
    let am = Alertmanager::start(MINIMAL_CONFIG);
    am.post_alerts(&json!([{"labels": {"alertname": "ViaAmtool"}}]))
        .ensure_success();
    let out = am.amtool(&["alert", "query", "-o", "json"]);
    assert!(out.success(), "{}", out.stderr);
    let listed: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(listed[0]["labels"]["alertname"], "ViaAmtool", "{listed}");
}
