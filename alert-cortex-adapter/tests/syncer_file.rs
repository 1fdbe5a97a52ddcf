//! The vanilla backend (configuration file + `/-/reload`) against a REAL Alertmanager 0.25.

use std::time::Duration;

use alert_cortex_adapter::syncer::conformance::{self, Fixture};
use alert_cortex_adapter::{
    AlertmanagerClient, ConfigBackend, DesiredConfig, Error, FileReloadBackend, FileTarget,
    SyncReport, Syncer, TenantState,
};
use alert_testkit::{Alertmanager, MINIMAL_CONFIG};

const FIRST: &str = "route:\n  receiver: team-a\n  group_wait: 10s\nreceivers:\n  - name: team-a\n";
const SECOND: &str = "route:\n  receiver: team-b\n  group_wait: 20s\n  routes:\n    - matchers: [severity=page]\n      receiver: team-b\nreceivers:\n  - name: team-b\n";
/// Alertmanager refuses it: `undefined receiver "nobody" used in route`.
const INVALID: &str = "route:\n  receiver: nobody\nreceivers:\n  - name: team-a\n";

fn backend(am: &Alertmanager) -> FileReloadBackend {
    let client = AlertmanagerClient::builder(am.base_url()).build().unwrap();
    FileReloadBackend::new()
        .with_target(
            "global".parse().unwrap(),
            FileTarget {
                config_path: am.config_path().to_path_buf(),
                client,
            },
        )
        .with_fallback(MINIMAL_CONFIG)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_backend_passes_the_conformance_suite() {
    let am = Alertmanager::start(MINIMAL_CONFIG);
    let backend = backend(&am);
    let mut fixture = Fixture::new("global", FIRST, SECOND, INVALID);
    fixture.live_timeout = Duration::from_secs(30);
    conformance::run_all(&backend, &fixture).await.unwrap();
    // After the suite removed the tenant, the fallback runs.
    let running = backend
        .running(&"global".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(running.contains("receiver: blackhole"), "{running}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_config_leaves_the_old_file_and_process_config() {
    let am = Alertmanager::start(MINIMAL_CONFIG);
    let backend = backend(&am);
    let mut syncer = Syncer::new(&backend);
    let report: SyncReport = syncer
        .sync(&[DesiredConfig::new("global", SECOND, "v2").unwrap()])
        .await;
    assert!(report.all_in_sync(), "{report:?}");
    assert!(
        am.status()["config"]["original"]
            .as_str()
            .unwrap()
            .contains("team-b")
    );

    let report = syncer
        .sync(&[DesiredConfig::new("global", INVALID, "v3").unwrap()])
        .await;
    let t = report.tenant("global").unwrap();
    assert_eq!(t.state, TenantState::Failed);
    assert_eq!(t.applied_sync_id.as_deref(), Some("v2"));
    match t.last_error.as_ref().unwrap() {
        Error::ConfigRejected {
            message,
            sync_id,
            tenant,
        } => {
            assert_eq!((tenant.as_str(), sync_id.as_str()), ("global", "v3"));
            assert!(
                message.contains("undefined receiver \"nobody\" used in route"),
                "{message}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    // The file on disk is the old one again, and the process still runs it.
    assert_eq!(std::fs::read_to_string(am.config_path()).unwrap(), SECOND);
    assert!(
        am.status()["config"]["original"]
            .as_str()
            .unwrap()
            .contains("team-b")
    );
    // A restart would load the good file.
    assert!(am.reload().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_written_beside_the_config() {
    let am = Alertmanager::start(MINIMAL_CONFIG);
    let backend = backend(&am);
    let config =
        "templates: [extra.tmpl]\nroute:\n  receiver: team-a\nreceivers:\n  - name: team-a\n";
    let desired = DesiredConfig::new("global", config, "t1")
        .unwrap()
        .with_template("extra.tmpl", "{{ define \"x\" }}x{{ end }}");
    let report = Syncer::new(&backend)
        .sync(std::slice::from_ref(&desired))
        .await;
    assert!(report.all_in_sync(), "{report:?}");
    let dir = am.config_path().parent().unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("extra.tmpl")).unwrap(),
        "{{ define \"x\" }}x{{ end }}"
    );
    let original = am.status()["config"]["original"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(original.contains("extra.tmpl"), "{original}");

    // A template that does not parse is refused by the reload.
    let broken = desired
        .clone()
        .with_template("extra.tmpl", "{{ define \"x\" }}");
    let broken = DesiredConfig {
        sync_id: "t2".into(),
        ..broken
    };
    let err = backend.apply(&broken).await.unwrap_err();
    assert!(matches!(err, Error::ConfigRejected { .. }), "{err}");
}

#[tokio::test]
async fn unknown_tenant_is_an_error_not_a_panic() {
    let backend = FileReloadBackend::new();
    let d = DesiredConfig::new("nobody", FIRST, "x").unwrap();
    let report = Syncer::new(&backend).sync(&[d]).await;
    let t = report.tenant("nobody").unwrap();
    assert_eq!(t.state, TenantState::Failed);
    assert!(matches!(t.last_error, Some(Error::UnknownTenant { .. })));
}
