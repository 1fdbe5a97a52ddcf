//! `alertctl config sync` against the Cortex/Mimir fixture (real Alertmanagers behind it)
//! and against a REAL vanilla Alertmanager.

mod alertctl_support;

use alert_testkit::Alertmanager;
use alert_testkit::cortex::CortexFixture;
use alertctl_support::alertctl;

fn spec(dir: &std::path::Path, cpu_tenant: &str, disk_wait: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
endpoints:
  - id: ops-hook
    webhook: {{url: "http://127.0.0.1:1/ops"}}
  - id: db-hook
    webhook: {{url: "http://127.0.0.1:1/db"}}
conditions:
  - id: cpu-high
    tenant: {cpu_tenant}
    endpoints: [ops-hook]
  - id: disk-full
    tenant: cluster-b
    endpoints:
      - {{id: db-hook, group_wait: {disk_wait}, group_interval: 5m, repeat_interval: 4h}}
"#
    );
    let path = dir.join("spec.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The data lines of the status table: (tenant, state).
fn states(out: &str) -> Vec<(String, String)> {
    out.lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<&str> = l.split("  ").filter(|c| !c.is_empty()).collect();
            (cols[0].trim().to_owned(), cols[1].trim().to_owned())
        })
        .collect()
}

#[test]
fn cortex_sync_posts_changed_tenants_only() {
    let cortex = CortexFixture::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("--alertmanager.url={}", cortex.url());
    let spec_a = spec(dir.path(), "cluster-a", "30s");
    let spec_path = spec_a.to_str().unwrap().to_owned();
    let sync = |backend: &str| {
        alertctl(&[
            "config",
            "sync",
            "--spec",
            &spec_path,
            "--backend",
            backend,
            &url,
        ])
    };

    let (code, out, err) = sync("cortex");
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(
        out.starts_with("Tenant     State    Sync ID       Latency"),
        "{out}"
    );
    assert_eq!(
        states(&out),
        [
            ("cluster-a".into(), "applied".into()),
            ("cluster-b".into(), "applied".into())
        ]
    );
    assert_eq!(cortex.config_writes(), 2);
    let stored = cortex.stored("cluster-b").unwrap().alertmanager_config;
    assert!(stored.contains("http://127.0.0.1:1/db"), "{stored}");

    // Unchanged: a new run finds both stored and running, and sends nothing.
    let (code, out, err) = sync("mimir");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        states(&out),
        [
            ("cluster-a".into(), "in sync".into()),
            ("cluster-b".into(), "in sync".into())
        ]
    );
    assert_eq!(cortex.config_writes(), 2);

    // One tenant changes: one write.
    spec(dir.path(), "cluster-a", "45s");
    let (code, out, err) = sync("cortex");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        states(&out),
        [
            ("cluster-a".into(), "in sync".into()),
            ("cluster-b".into(), "applied".into())
        ]
    );
    assert_eq!(cortex.config_writes(), 3);
}

#[test]
fn vanilla_sync_writes_the_file_and_reloads() {
    let am = Alertmanager::start(alert_testkit::MINIMAL_CONFIG);
    let dir = tempfile::tempdir().unwrap();
    let spec_path = spec(dir.path(), "cluster-b", "30s");
    let url = format!("--alertmanager.url={}", am.base_url());
    let file = am.config_path().to_str().unwrap().to_owned();
    let (code, out, err) = alertctl(&[
        "config",
        "sync",
        "--spec",
        spec_path.to_str().unwrap(),
        &url,
        "--config.file",
        &file,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(states(&out), [("cluster-b".into(), "applied".into())]);
    let original = am.status()["config"]["original"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(original.contains("http://127.0.0.1:1/ops"), "{original}");

    // Two tenants but no --tenant: refused with the list.
    let two = spec(dir.path(), "cluster-a", "30s");
    let (code, _, err) = alertctl(&[
        "config",
        "sync",
        "--spec",
        two.to_str().unwrap(),
        &url,
        "--config.file",
        &file,
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("spec builds 2: cluster-a, cluster-b; choose one with --tenant"),
        "{err}"
    );
    let (code, out, err) = alertctl(&[
        "config",
        "sync",
        "--spec",
        two.to_str().unwrap(),
        &url,
        "--config.file",
        &file,
        "--tenant",
        "cluster-a",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(states(&out), [("cluster-a".into(), "applied".into())]);
}

#[test]
fn a_spec_error_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "conditions:\n  - {id: x, endpoints: [missing]}\n").unwrap();
    let (code, _, err) = alertctl(&[
        "config",
        "sync",
        "--spec",
        path.to_str().unwrap(),
        "--backend",
        "cortex",
        "--alertmanager.url=http://127.0.0.1:1",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with(&format!("alertctl: error: {}", path.display())),
        "{err}"
    );
}

#[test]
fn cortex_sync_checks_tenant_limits_before_sending() {
    let cortex = CortexFixture::start();
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(400);
    let path = dir.path().join("limits.yaml");
    std::fs::write(
        &path,
        format!(
            r#"
endpoints:
  - id: ops-hook
    webhook: {{url: "http://127.0.0.1:1/ops"}}
  - id: long-hook
    webhook: {{url: "http://127.0.0.1:1/{long}"}}
conditions:
  - {{id: heartbeat, endpoints: [ops-hook]}}
  - {{id: cpu-high, tenant: cluster-a, endpoints: [ops-hook]}}
  - {{id: disk-full, tenant: cluster-b, endpoints: [long-hook]}}
"#
        ),
    )
    .unwrap();
    // cluster-a's configuration fits exactly; cluster-b's does not.
    let built = alert_examples::alertctl::build::build_spec_file(&path).unwrap();
    let size = |tenant: &str| {
        built
            .iter()
            .find(|c| c.tenant.to_string() == tenant)
            .map(|c| c.yaml.len())
            .unwrap()
    };
    let limit = size("cluster-a");
    assert!(size("cluster-b") > limit);
    let (code, out, err) = alertctl(&[
        "config",
        "sync",
        "--spec",
        path.to_str().unwrap(),
        "--backend",
        "mimir",
        &format!("--alertmanager.url={}", cortex.url()),
        "--default-tenant",
        "cluster-a",
        &format!("--limits.max-config-size-bytes={limit}"),
        "--limits.max-templates-count=0",
    ]);
    assert_eq!(code, 1, "{err}\n{out}");
    assert!(
        err.contains(
            "alertctl: warning: conditions bound to no tenant are left out: --default-tenant cluster-a has conditions of its own"
        ),
        "{err}"
    );
    assert!(
        err.ends_with("alertctl: error: 1 of 2 tenants failed\n"),
        "{err}"
    );
    assert_eq!(
        states(&out),
        [
            ("cluster-a".into(), "applied".into()),
            ("cluster-b".into(), "failed".into())
        ]
    );
    let refused = out.lines().find(|l| l.starts_with("cluster-b")).unwrap();
    assert!(
        refused.trim_end().ends_with(&format!(
            "breaks the tenant rules and was not sent: alertmanager_config: Alertmanager configuration is too big, limit: {limit} bytes"
        )),
        "{refused}"
    );
    // Nothing was sent for cluster-b; cluster-a was stored.
    assert_eq!(
        (
            cortex.config_writes_for("cluster-a"),
            cortex.config_writes_for("cluster-b")
        ),
        (1, 0)
    );
    assert!(cortex.stored("cluster-b").is_none());
}

#[test]
fn tenant_limits_are_refused_for_a_vanilla_alertmanager() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = spec(dir.path(), "cluster-b", "30s");
    let (code, out, err) = alertctl(&[
        "config",
        "sync",
        "--spec",
        spec_path.to_str().unwrap(),
        "--alertmanager.url=http://127.0.0.1:1",
        "--config.file",
        dir.path().join("am.yml").to_str().unwrap(),
        "--limits.max-templates-count=3",
    ]);
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "alertctl: error: --limits.max-templates-count is a Cortex/Mimir tenant limit: use it with --backend cortex or --backend mimir; an Alertmanager has no tenant limits\n"
    );
    assert!(!dir.path().join("am.yml").exists());
}
