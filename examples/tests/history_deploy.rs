//! The Prometheus rules and the Grafana dashboard shipped in `alert-history/deploy/`
//! only use metrics the server exports, and are well-formed.

use std::collections::BTreeSet;

use alert_history::server::Metrics;

fn deploy(file: &str) -> String {
    let path = format!(
        "{}/../alert-history/deploy/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every `alert_history_*` metric name in `text`, without histogram suffixes.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("alert_history_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    out
}

fn exported() -> String {
    let m = Metrics::default();
    m.webhook_request(200);
    m.store_error("append");
    m.observe_store("append", 0.01);
    m.render()
}

#[test]
fn rules_and_dashboard_use_only_exported_metrics() {
    let exported = exported();
    let available = metric_names(&exported);
    for file in ["prometheus-rules.yml", "grafana-dashboard.json"] {
        let used = metric_names(&deploy(file));
        assert!(used.len() >= 5, "{file} uses {used:?}");
        for name in used {
            assert!(
                available.contains(&name),
                "{file} uses {name}, which the server does not export"
            );
        }
    }
}

#[test]
fn rule_file_is_well_formed() {
    let rules: yaml_serde::Value =
        yaml_serde::from_str(&deploy("prometheus-rules.yml")).expect("YAML");
    let groups = rules["groups"].as_sequence().expect("groups");
    let mut names = BTreeSet::new();
    for g in groups {
        for r in g["rules"].as_sequence().expect("rules") {
            let alert = r["alert"].as_str().expect("alert name");
            assert!(names.insert(alert.to_owned()), "duplicate rule {alert}");
            assert!(!r["expr"].as_str().expect("expr").trim().is_empty());
            let severity = r["labels"]["severity"].as_str().expect("severity");
            assert!(
                ["critical", "warning"].contains(&severity),
                "{alert}: {severity}"
            );
            assert!(
                r["annotations"]["summary"].as_str().is_some(),
                "{alert} has no summary"
            );
        }
    }
    assert!(names.contains("AlertHistoryDown") && names.contains("AlertHistoryHeartbeatMissing"));
}

#[test]
fn dashboard_is_grafana_json() {
    let d: serde_json::Value =
        serde_json::from_str(&deploy("grafana-dashboard.json")).expect("JSON");
    assert_eq!(d["uid"], "alert-history");
    let panels = d["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    for p in panels {
        assert!(
            ids.insert(p["id"].as_u64().expect("id")),
            "duplicate panel id"
        );
        assert!(!p["targets"].as_array().expect("targets").is_empty());
    }
}
