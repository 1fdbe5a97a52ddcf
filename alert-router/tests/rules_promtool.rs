//! Generated rule files pass the real `promtool check rules` (Prometheus 2.42), every
//! condition kind a ruler evaluates and SLOs of both SLI forms included.

use std::process::Command;

use alert_core::AlertingSpec;
use alert_router::rules::rule_files;
use alert_testkit::promtool_bin;

const SPEC: &str = r#"{
  "endpoints": [{"id": "pager", "pagerduty": {"routing_key": "k"}}],
  "conditions": [
    {"id": "api-down", "tenant": "cluster-a", "severity": "critical", "name": "API \"down\"",
     "description": "Every {{ $labels.instance }} of the API is down",
     "prometheus": {"query": "up{job=\"api\"} == 0", "for": "2m"}, "endpoints": ["pager"]},
    {"id": "cpu-high", "tenant": "cluster-a", "cpu": {"threshold_percent": 90, "for": "5m", "nodes": ["node-1", "node.2:9100"]}},
    {"id": "cpu-busy", "tenant": "cluster-a", "cpu": {"operator": ">=", "threshold_percent": 75.5, "modes": ["user", "system", "iowait"]}},
    {"id": "mem-high", "tenant": "cluster-b", "memory": {"threshold_percent": 80, "nodes": ["n1"]}},
    {"id": "disk-full", "tenant": "cluster-b", "filesystem": {"threshold_percent": 85, "mountpoints": ["/", "/var/lib"], "devices": ["/dev/sda1"]}},
    {"id": "pod-stuck", "tenant": "cluster-b", "kube_state": {"object_kind": "pod", "namespace": "shop", "expected_state": "Running", "for": "10m"}},
    {"id": "ns-gone", "tenant": "cluster-b", "kube_state": {"object_kind": "namespace", "name": "shop", "expected_state": "Active"}},
    {"id": "unbound", "prometheus": {"query": "vector(1) > 0"}},
    {"id": "agent", "tenant": "cluster-a", "agent_disconnect": {"timeout": "5m"}}
  ],
  "slos": [
    {"id": "api-availability", "tenant": "cluster-a", "objective": 99.9,
     "sli": {"good": "sum(rate(http_requests_total{code!~\"5..\"}[{{.window}}]))", "total": "sum(rate(http_requests_total[{{.window}}]))"},
     "endpoints": ["pager"]},
    {"id": "latency", "tenant": "cluster-b", "objective": 99, "window": "7d",
     "sli": {"error_ratio": "sum(rate(slow_total[{{.window}}])) / sum(rate(all_total[{{.window}}]))"}}
  ]
}"#;

#[test]
fn promtool_accepts_every_generated_file() {
    let spec: AlertingSpec = serde_json::from_str(SPEC).unwrap();
    let files = rule_files(&spec);
    assert_eq!(
        files.len(),
        3,
        "cluster-a, cluster-b and the unbound conditions"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut groups = 0;
    for (i, file) in files.values().enumerate() {
        let path = dir.path().join(format!("rules-{i}.yml"));
        std::fs::write(&path, file.to_yaml()).unwrap();
        let out = Command::new(promtool_bin())
            .args(["check", "rules"])
            .arg(&path)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "promtool refused:\n{text}\n{}",
            file.to_yaml()
        );
        assert!(text.contains("SUCCESS"), "{text}");
        groups += file.groups.len();
    }
    // Every ruler condition and every SLO has its group; the agent condition has none.
    assert_eq!(groups, 8 + 2);
}
