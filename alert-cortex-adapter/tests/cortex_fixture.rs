//! The client, the HA merge and the Cortex syncer against the Cortex/Mimir fixture of the
//! test kit, which runs a REAL Alertmanager 0.25 behind each tenant.

use std::time::Duration;

use alert_core::silence::PostableSilence;
use alert_core::{LabelSet, ParserMode, Timestamp, parse_matchers};
use alert_cortex_adapter::syncer::conformance::{self, Fixture};
use alert_cortex_adapter::{
    Addressing, AlertQuery, AlertmanagerClient, Backoff, Cluster, ConfigBackend, CortexBackend,
    DesiredConfig, Error, Flavor, PostableAlert, Syncer, TenantState, UserConfig,
};
use alert_router::validate::{TenantLimits, TenantRules};
use alert_testkit::cortex::{CortexConfig, CortexFixture};

const FIRST: &str = "route:\n  receiver: team-a\n  group_wait: 10s\nreceivers:\n  - name: team-a\n";
const SECOND: &str =
    "route:\n  receiver: team-b\n  group_wait: 20s\nreceivers:\n  - name: team-b\n";
const INVALID: &str = "route:\n  receiver: nobody\nreceivers:\n  - name: team-a\n";

fn client(base: &str, tenant: &str) -> AlertmanagerClient {
    AlertmanagerClient::builder(base)
        .addressing(Addressing::cortex(tenant).unwrap())
        .timeout(Duration::from_secs(20))
        .backoff(Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(100),
            multiplier: 2.0,
            max_attempts: 2,
            jitter: false,
        })
        .build()
        .unwrap()
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    tokio::time::timeout(Duration::from_secs(60), async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_api_answers_with_cortex_codes_and_messages() {
    let cortex = CortexFixture::start();
    let a = client(&cortex.url(), "tenant-a");

    // Nothing stored yet: 404 with Cortex's message.
    match a.tenant_config().await.unwrap_err() {
        Error::NotFound { message, .. } => {
            assert_eq!(message, "alertmanager storage object not found")
        }
        other => panic!("unexpected {other:?}"),
    }
    // Nothing running: the v2 API says so.
    match a.status().await.unwrap_err() {
        Error::NotFound { message, url, .. } => {
            assert_eq!(message, "the Alertmanager is not configured");
            assert!(url.ends_with("/alertmanager/api/v2/status"), "{url}");
        }
        other => panic!("unexpected {other:?}"),
    }

    // Without the tenant header: 401 `no org id`.
    let anonymous = AlertmanagerClient::builder(format!("{}/alertmanager", cortex.url()))
        .build()
        .unwrap();
    match anonymous.status().await.unwrap_err() {
        Error::Unauthorized { message, .. } => assert_eq!(message, "no org id"),
        other => panic!("unexpected {other:?}"),
    }

    // Invalid: 400 with Alertmanager's own reason behind Cortex's prefix.
    match a
        .set_tenant_config(&UserConfig::new(INVALID))
        .await
        .unwrap_err()
    {
        Error::Rejected {
            status: 400,
            message,
            ..
        } => assert_eq!(
            message,
            "error validating Alertmanager config: undefined receiver \"nobody\" used in route"
        ),
        other => panic!("unexpected {other:?}"),
    }
    // Empty: Cortex's own message.
    let err = a.set_tenant_config(&UserConfig::new("")).await.unwrap_err();
    assert!(
        err.server_message()
            .unwrap()
            .contains("configuration provided is empty"),
        "{err}"
    );
    // A template name with a path.
    let with_path = UserConfig::new(FIRST).with_template("dir/x.tmpl", "x");
    let err = a.set_tenant_config(&with_path).await.unwrap_err();
    assert_eq!(
        err.server_message(),
        Some(
            "error validating Alertmanager config: invalid template name \"dir/x.tmpl\": the template name cannot contain any path"
        )
    );
    // A forbidden file setting.
    let with_file = "route: {receiver: w}\nreceivers:\n  - name: w\n    webhook_configs:\n      - url: http://127.0.0.1:1/\n        http_config: {bearer_token_file: /etc/token}\n";
    let err = a
        .set_tenant_config(&UserConfig::new(with_file))
        .await
        .unwrap_err();
    assert!(
        err.server_message().unwrap().ends_with(
            "setting password_file, bearer_token_file and credentials_file is not allowed"
        ),
        "{err}"
    );

    // Valid: 201; GET gives back the text byte for byte.
    let cfg = UserConfig::new(FIRST).with_template("t.tmpl", "{{ define \"t\" }}t{{ end }}");
    a.set_tenant_config(&cfg).await.unwrap();
    assert_eq!(a.tenant_config().await.unwrap(), cfg);
    let stored = cortex.stored("tenant-a").unwrap();
    assert_eq!(stored.alertmanager_config, FIRST);

    // Stored is not yet running; the poller starts it.
    wait_until("tenant-a to run", || async {
        a.receivers()
            .await
            .is_ok_and(|r| r.iter().any(|r| r.name == "team-a"))
    })
    .await;

    // Another tenant is separate.
    let b = client(&cortex.url(), "tenant-b");
    assert!(matches!(
        b.tenant_config().await,
        Err(Error::NotFound { .. })
    ));

    // DELETE: 200, also when nothing is stored.
    a.delete_tenant_config().await.unwrap();
    a.delete_tenant_config().await.unwrap();
    b.delete_tenant_config().await.unwrap();
    assert!(matches!(
        a.tenant_config().await,
        Err(Error::NotFound { .. })
    ));
    wait_until("tenant-a to stop", || async {
        matches!(a.status().await, Err(Error::NotFound { .. }))
    })
    .await;
    let statuses: Vec<(String, u16)> = cortex
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/alerts")
        .map(|r| (r.method.clone(), r.status))
        .collect();
    assert!(statuses.contains(&("POST".into(), 201)), "{statuses:?}");
    assert!(statuses.contains(&("DELETE".into(), 200)), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_and_silences_through_the_prefix_stay_per_tenant() {
    let cortex = CortexFixture::start();
    let a = client(&cortex.url(), "tenant-a");
    let b = client(&cortex.url(), "tenant-b");
    a.set_tenant_config(&UserConfig::new(FIRST)).await.unwrap();
    b.set_tenant_config(&UserConfig::new(SECOND)).await.unwrap();
    cortex.wait_running("tenant-a");
    cortex.wait_running("tenant-b");

    let labels = LabelSet::from_pairs([("alertname", "OnlyA")]).unwrap();
    a.post_alerts(&[PostableAlert::new(labels.clone())])
        .await
        .unwrap();
    let got = a.alerts(&AlertQuery::default()).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].fingerprint.fingerprint(), Some(labels.fingerprint()));
    assert_eq!(got[0].receivers[0].name, "team-a");
    assert!(b.alerts(&AlertQuery::default()).await.unwrap().is_empty());

    let groups = a.alert_groups(&AlertQuery::default()).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].receiver.name, "team-a");

    let now = Timestamp::from_jiff(jiff::Timestamp::now());
    let id = a
        .post_silence(&PostableSilence::new(
            &parse_matchers("alertname=\"OnlyA\"", ParserMode::Classic).unwrap(),
            now,
            now.checked_add("1h".parse().unwrap()).unwrap(),
            "test",
            "per tenant",
        ))
        .await
        .unwrap();
    assert_eq!(a.silence(&id).await.unwrap().comment, "per tenant");
    assert_eq!(
        a.silences(&["alertname=\"OnlyA\"".into()])
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(b.silences(&[]).await.unwrap().is_empty());
    assert!(matches!(b.silence(&id).await, Err(Error::NotFound { .. })));
    a.expire_silence(&id).await.unwrap();
    // Filtering with a bad matcher is a 400 carrying Alertmanager's message.
    let err = a
        .alerts(&AlertQuery::default().filter("==="))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(
        err.server_message().unwrap().contains("bad matcher format"),
        "{err}"
    );
    assert!(a.ready().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_reads_across_three_cortex_replicas() {
    let cortex = CortexFixture::start_with(CortexConfig {
        replicas: 3,
        ..CortexConfig::default()
    });
    let replicas: Vec<AlertmanagerClient> = cortex
        .urls()
        .iter()
        .map(|u| {
            let c = client(u, "tenant-ha");
            assert_eq!(
                c.addressing().to_string(),
                "cortex (prefix /alertmanager, tenant tenant-ha)"
            );
            c
        })
        .collect();
    replicas[0]
        .set_tenant_config(&UserConfig::new(FIRST))
        .await
        .unwrap();
    cortex.wait_running("tenant-ha");
    let cluster = Cluster::new(replicas.clone()).unwrap();

    // Alerts are not gossiped: the client posts to every replica.
    let alert = PostableAlert::new(LabelSet::from_pairs([("alertname", "HaCortex")]).unwrap());
    cluster.post_alerts(&[alert]).await.unwrap();
    for r in &replicas {
        assert_eq!(r.alerts(&AlertQuery::default()).await.unwrap().len(), 1);
    }
    // One more only on replica 1: the merged read has the union.
    let extra = PostableAlert::new(LabelSet::from_pairs([("alertname", "OnlyOne")]).unwrap());
    replicas[1].post_alerts(&[extra]).await.unwrap();
    let merged = cluster.alerts(&AlertQuery::default()).await.unwrap();
    assert!(merged.is_complete());
    let names: Vec<&str> = merged
        .value
        .iter()
        .map(|a| a.labels.get("alertname").unwrap_or_default())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // A silence created on one replica is gossiped to the others of the tenant.
    let now = Timestamp::from_jiff(jiff::Timestamp::now());
    let silence = PostableSilence::new(
        &parse_matchers("alertname=\"HaCortex\"", ParserMode::Classic).unwrap(),
        now,
        now.checked_add("1h".parse().unwrap()).unwrap(),
        "test",
        "gossiped",
    );
    let id = cluster
        .create_silence(&silence, Some(Duration::from_secs(30)))
        .await
        .unwrap()
        .value;
    let silences = cluster.silences(&[]).await.unwrap();
    assert_eq!(silences.value.len(), 1);
    assert_eq!(silences.value[0].id, id);
    let groups = cluster.alert_groups(&AlertQuery::default()).await.unwrap();
    assert_eq!(groups.value.len(), 1, "one group (route has no group_by)");
    assert_eq!(groups.value[0].alerts.len(), 2);
}

fn backend(cortex: &CortexFixture) -> CortexBackend {
    CortexBackend::new(client(&cortex.url(), "anonymous"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cortex_backend_passes_the_conformance_suite() {
    let cortex = CortexFixture::start();
    let backend = backend(&cortex);
    let mut fixture = Fixture::new("tenant-c", FIRST, SECOND, INVALID);
    fixture.live_timeout = Duration::from_secs(60);
    conformance::run_all(&backend, &fixture).await.unwrap();
    assert_eq!(
        cortex.stored("tenant-c"),
        None,
        "the suite ends by removing the tenant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cortex_backend_with_tenant_rules_passes_the_conformance_suite() {
    let cortex = CortexFixture::start();
    let backend = backend(&cortex).with_tenant_rules(TenantRules::default());
    let mut fixture = Fixture::new("tenant-r", FIRST, SECOND, INVALID);
    fixture.live_timeout = Duration::from_secs(60);
    conformance::run_all(&backend, &fixture).await.unwrap();
    // The invalid configuration was refused before it was sent, as Cortex refuses it:
    // every POST that reached Cortex was stored.
    let posts: Vec<u16> = cortex
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v1/alerts")
        .map(|r| r.status)
        .collect();
    assert!(!posts.is_empty());
    assert!(posts.iter().all(|s| *s == 201), "{posts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_over_its_limits_is_never_sent_while_the_others_are_applied() {
    let cortex = CortexFixture::start();
    let rules = TenantRules {
        limits: TenantLimits {
            max_config_size_bytes: Some(200),
            ..TenantLimits::default()
        },
        ..TenantRules::default()
    };
    let backend = backend(&cortex).with_tenant_rules(rules);
    let mut syncer = Syncer::new(&backend);
    let big = format!("{FIRST}# {}\n", "x".repeat(300));
    let desired = [
        DesiredConfig::new("small", FIRST, "s1").unwrap(),
        DesiredConfig::new("big", big.as_str(), "b1").unwrap(),
    ];
    let report = syncer.sync(&desired).await;
    assert_eq!(report.tenant("small").unwrap().state, TenantState::Applied);
    let refused = report.tenant("big").unwrap();
    assert_eq!(refused.state, TenantState::Failed);
    assert_eq!(refused.applied_sync_id, None);
    assert_eq!(
        refused.last_error,
        Some(Error::RefusedByTenantRules {
            tenant: "big".into(),
            sync_id: "b1".into(),
            field: "alertmanager_config".into(),
            message: "Alertmanager configuration is too big, limit: 200 bytes".into(),
        })
    );
    assert_eq!(
        (
            cortex.config_writes_for("small"),
            cortex.config_writes_for("big")
        ),
        (1, 0)
    );
    assert!(cortex.stored("big").is_none());
    assert_eq!(
        report.writes, 2,
        "an attempt counts, though nothing was sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncer_posts_only_changed_tenants_and_deletes_removed_ones() {
    let cortex = CortexFixture::start();
    let backend = backend(&cortex);
    let mut syncer = Syncer::new(&backend);
    let desired = |t: &str, cfg: &str, id: &str| DesiredConfig::new(t, cfg, id).unwrap();
    let all = vec![
        desired("t1", FIRST, "a1"),
        desired("t2", FIRST, "a1"),
        desired("t3", SECOND, "b1"),
    ];
    let report = syncer.sync(&all).await;
    assert!(report.all_in_sync(), "{report:?}");
    assert_eq!(report.writes, 3);
    assert_eq!(cortex.config_writes(), 3);
    for t in &report.tenants {
        assert_eq!(t.state, TenantState::Applied);
        assert!(t.latency.is_some());
    }

    // Nothing changed: nothing is sent.
    let report = syncer.sync(&all).await;
    assert_eq!(report.writes, 0);
    assert_eq!(cortex.config_writes(), 3);
    assert!(
        report
            .tenants
            .iter()
            .all(|t| t.state == TenantState::InSync)
    );

    // t2 changes, t3 goes away: one POST, one DELETE.
    let next = vec![desired("t1", FIRST, "a1"), desired("t2", SECOND, "b1")];
    let report = syncer.sync(&next).await;
    assert_eq!(report.writes, 2);
    assert_eq!(cortex.config_writes(), 5);
    assert_eq!(report.tenant("t1").unwrap().state, TenantState::InSync);
    assert_eq!(report.tenant("t2").unwrap().state, TenantState::Applied);
    assert_eq!(report.tenant("t3").unwrap().state, TenantState::Removed);
    assert_eq!(cortex.stored("t3"), None);
    let running = backend
        .running(&"t2".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(running.contains("team-b"), "{running}");
    let mut posts: Vec<String> = cortex
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/alerts" && r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.org_id.clone().unwrap_or_default()))
        .collect();
    let mut last_two = posts.split_off(3);
    last_two.sort();
    assert_eq!(last_two, ["DELETE t3", "POST t2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mimir_and_legacy_prefixes_address_the_same_api() {
    let cortex = CortexFixture::start_with(CortexConfig {
        prefix: "/api/prom/alertmanager".into(),
        ..CortexConfig::default()
    });
    let legacy = AlertmanagerClient::builder(cortex.url())
        .addressing(Addressing::multi_tenant(Flavor::Mimir, "/api/prom/alertmanager", "m").unwrap())
        .build()
        .unwrap();
    legacy
        .set_tenant_config(&UserConfig::new(FIRST))
        .await
        .unwrap();
    cortex.wait_running("m");
    let status = legacy.status().await.unwrap();
    assert!(status.config.original.contains("team-a"));
    // The default prefix is not served here.
    let default = client(&cortex.url(), "m");
    assert!(matches!(
        default.status().await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_org_id_errors_use_cortex_wording() {
    let cortex = CortexFixture::start_with(CortexConfig {
        max_config_size_bytes: 400,
        max_templates_count: 1,
        max_template_size_bytes: 20,
        max_recv_msg_size: 2000,
        ..CortexConfig::default()
    });
    let a = client(&cortex.url(), "tenant-a");
    let big = UserConfig::new(format!("{FIRST}# {}\n", "x".repeat(500)));
    assert_eq!(
        a.set_tenant_config(&big)
            .await
            .unwrap_err()
            .server_message(),
        Some("Alertmanager configuration is too big, limit: 400 bytes")
    );
    let huge = UserConfig::new(format!("{FIRST}# {}\n", "x".repeat(3000)));
    let err = a.set_tenant_config(&huge).await.unwrap_err();
    assert!(matches!(err, Error::Rejected { status: 413, .. }), "{err}");
    let two = UserConfig::new(FIRST)
        .with_template("a.tmpl", "a")
        .with_template("b.tmpl", "b");
    assert_eq!(
        a.set_tenant_config(&two)
            .await
            .unwrap_err()
            .server_message(),
        Some(
            "error validating Alertmanager config: too many templates in the configuration: 2 (limit: 1)"
        )
    );
    let long = UserConfig::new(FIRST).with_template("a.tmpl", "x".repeat(21));
    assert_eq!(
        a.set_tenant_config(&long)
            .await
            .unwrap_err()
            .server_message(),
        Some(
            "error validating Alertmanager config: template a.tmpl is too big: 21 bytes (limit: 20 bytes)"
        )
    );
    // A multi-tenant org id cannot address one tenant's configuration.
    let raw = reqwest::Client::new()
        .get(format!("{}/api/v1/alerts", cortex.url()))
        .header("X-Scope-OrgID", "a|b")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
    assert_eq!(
        raw.text().await.unwrap(),
        "unable to determine the OrgID: multiple org IDs present\n"
    );
    assert!(
        cortex.stored("tenant-a").is_none(),
        "nothing refused was stored"
    );
}
