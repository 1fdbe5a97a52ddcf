//! The Prometheus rule backend (rule files + `/-/reload`) against a REAL Prometheus 2.42.

use std::time::Duration;

use alert_core::AlertingSpec;
use alert_cortex_adapter::ruler::conformance::{self, Fixture};
use alert_cortex_adapter::ruler::rule_file_name;
use alert_cortex_adapter::{Error, PrometheusRules, RuleBackend};
use alert_router::builder::TenantKey;
use alert_router::rules::rule_files;
use alert_testkit::{Prometheus, promtool_bin, wait_until};

fn tenant(id: &str) -> TenantKey {
    TenantKey::Tenant(id.parse().unwrap())
}

fn backend(prom: &Prometheus) -> PrometheusRules {
    PrometheusRules::new(prom.rules_dir(), &prom.base_url()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_passes_the_conformance_suite_with_promtool() {
    let prom = Prometheus::start();
    let backend = backend(&prom).with_promtool(promtool_bin());
    let fixture = Fixture::new(tenant("cluster-a"), TenantKey::Unbound);
    conformance::run_all(&backend, &fixture).await.unwrap();
    // The suite ends with both tenants removed: no files are left, nothing is loaded.
    let left: Vec<_> = std::fs::read_dir(prom.rules_dir()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(prom.rules().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_passes_the_conformance_suite_on_reloads_alone() {
    let prom = Prometheus::start();
    let backend = backend(&prom);
    let fixture = Fixture::new(tenant("cluster-a"), tenant("cluster-b"));
    conformance::run_all(&backend, &fixture).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_file_is_put_back_and_reported() {
    let prom = Prometheus::start();
    let f = Fixture::new(tenant("cluster-a"), TenantKey::Unbound);
    let path = prom.rules_dir().join("cluster-a.yml");

    // With promtool: the reason names the rule, and the directory never sees the file.
    let checked = backend(&prom).with_promtool(promtool_bin());
    checked.apply(&f.tenant, &f.first).await.unwrap();
    let good = std::fs::read_to_string(&path).unwrap();
    match checked.apply(&f.tenant, &f.broken).await.unwrap_err() {
        Error::ConfigRejected {
            tenant, message, ..
        } => {
            assert_eq!(tenant, "cluster-a");
            assert_eq!(
                message,
                "cluster-a.yml: 5:11: group \"condition:always\", rule 1, \"always\": could not parse expression: 1:6: parse error: unexpected end of input"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), good);

    // Without: Prometheus' own answer, the file put back, the old rules still loaded.
    let plain = backend(&prom);
    match plain.apply(&f.tenant, &f.broken).await.unwrap_err() {
        Error::ConfigRejected { message, .. } => assert!(
            message.starts_with(
                "failed to reload config: one or more errors occurred while applying the new configuration"
            ),
            "{message}"
        ),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), good);
    assert!(plain.confirm(&f.tenant, &f.first).await.unwrap());
    assert!(prom.logs().contains("could not parse expression"));
    // Prometheus loads the directory as it is: a reload now succeeds.
    prom.reload().ensure_success();
    let left: Vec<_> = std::fs::read_dir(prom.rules_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["cluster-a.yml"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_rule_files_load_and_their_alerts_fire() {
    let spec: AlertingSpec = serde_json::from_str(
        r#"{"conditions": [
            {"id": "always", "tenant": "cluster-a", "severity": "critical",
             "prometheus": {"query": "vector(1) > 0"}},
            {"id": "cpu-high", "tenant": "cluster-a", "cpu": {"threshold_percent": 90, "for": "5m"}},
            {"id": "unbound", "prometheus": {"query": "vector(1) > 0", "for": "1m"}}
        ],
        "slos": [
            {"id": "api", "tenant": "cluster-b", "objective": 99.9,
             "sli": {"error_ratio": "sum(rate(errs[{{.window}}])) / sum(rate(reqs[{{.window}}]))"}}
        ]}"#,
    )
    .unwrap();
    let prom = Prometheus::start();
    let backend = backend(&prom).with_promtool(promtool_bin());
    let files = rule_files(&spec);
    assert_eq!(files.len(), 3);
    for (t, file) in &files {
        let applied = backend.apply(t, file).await.unwrap();
        assert_eq!(applied.created.len(), file.groups.len());
        assert!(backend.confirm(t, file).await.unwrap(), "{t}");
        assert!(prom.rules_dir().join(rule_file_name(t)).exists());
    }
    assert!(prom.rules_dir().join("@no-tenant.yml").exists());
    // Prometheus shows `for` in seconds and its own rendering of expressions; the
    // backend still reads the file back as the same groups.
    let current = backend.current(&tenant("cluster-b")).await.unwrap();
    assert_eq!(current.groups[0].name, "slo:api");
    assert_eq!(current.groups[0].rules.len(), 9);
    wait_until(Duration::from_secs(10), "the always alert to fire", || {
        prom.alerts()
            .into_iter()
            .find(|a| a["labels"]["alertname"] == "always" && a["state"] == "firing")
    });
}

#[tokio::test]
async fn credentials_in_the_url_stay_out_of_errors() {
    let dir = tempfile::tempdir().unwrap();
    let port = alert_testkit::free_port();
    let backend = PrometheusRules::new(
        dir.path(),
        &format!("http://admin:hunter2@127.0.0.1:{port}"),
    )
    .unwrap()
    .with_timeout(Duration::from_secs(2))
    .unwrap();
    let f = Fixture::new(tenant("t"), TenantKey::Unbound);
    let err = backend.apply(&f.tenant, &f.first).await.unwrap_err();
    let text = format!("{err} {err:?} {backend:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    // The file that could not be loaded was taken back.
    assert!(!dir.path().join("t.yml").exists());
}
