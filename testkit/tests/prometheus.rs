//! The REAL Prometheus 2.42 process of the test kit: rule files, reloads, rules and alerts.

use std::time::Duration;

use alert_testkit::{Prometheus, wait_until};

const ALWAYS: &str = "groups:\n- name: always\n  rules:\n  - alert: AlwaysFiring\n    expr: vector(1) > 0\n    for: 0s\n    labels:\n      severity: page\n";

#[test]
fn a_rule_file_loads_on_reload_and_its_alert_fires() {
    let prom = Prometheus::start();
    assert!(prom.rules().is_empty(), "{:?}", prom.rules());
    std::fs::write(prom.rules_dir().join("tenant-a.yml"), ALWAYS).unwrap();
    prom.reload().ensure_success();

    let groups = prom.rules();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["name"], "always");
    assert!(
        groups[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("/tenant-a.yml")
    );
    assert_eq!(groups[0]["rules"][0]["name"], "AlwaysFiring");
    assert_eq!(groups[0]["interval"], 1.0);

    let alert = wait_until(Duration::from_secs(10), "AlwaysFiring to fire", || {
        prom.alerts()
            .into_iter()
            .find(|a| a["labels"]["alertname"] == "AlwaysFiring" && a["state"] == "firing")
    });
    assert_eq!(alert["labels"]["severity"], "page");
}

#[test]
fn a_broken_rule_file_fails_the_reload_and_the_previous_rules_keep_running() {
    let prom = Prometheus::start();
    let file = prom.rules_dir().join("t.yml");
    std::fs::write(&file, ALWAYS).unwrap();
    prom.reload().ensure_success();

    std::fs::write(&file, ALWAYS.replace("vector(1) > 0", "up ==")).unwrap();
    let answer = prom.reload();
    assert_eq!(answer.status, 500, "{answer:?}");
    assert!(
        answer.body.starts_with("failed to reload config"),
        "{}",
        answer.body
    );
    // The reason is only in the log.
    wait_until(Duration::from_secs(5), "the reason in the log", || {
        prom.logs()
            .contains("could not parse expression")
            .then_some(())
    });
    assert_eq!(prom.rules()[0]["rules"][0]["name"], "AlwaysFiring");
}
