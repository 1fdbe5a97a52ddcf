//! The Alertmanager-alerts sensor and the evaluator's sink against REAL backends through
//! `alert-cortex-adapter`: a 3-member Alertmanager 0.25 gossip cluster (merged reads, a
//! killed member named, posts to every member) and the Cortex/Mimir fixture of the test
//! kit, which runs a real Alertmanager per tenant (tenants kept apart by `X-Scope-OrgID`).
#![cfg(feature = "http")]

mod sensor_support;

use std::sync::Arc;
use std::time::Duration;

use alert_health_graph::builtin::basic_registry;
use alert_health_graph::{
    ALERT_NAME, AlertPolicy, AlertSink, AlertmanagerSink, AlertmanagerTarget, Engine,
    GraphEvaluator, GraphFile, Level, NodeAlert, State,
};
use alert_testkit::cortex::CortexFixture;
use alert_testkit::{Alertmanager, wait_until};
use sensor_support::{evaluate, status, texts};
use serde_json::json;

const CONFIG: &str =
    "route:\n  receiver: blackhole\n  group_by: [alertname]\nreceivers:\n  - name: blackhole\n";

/// An alert that stays firing for an hour.
fn firing(labels: serde_json::Value) -> serde_json::Value {
    let ends = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    json!({"labels": labels, "endsAt": ends.to_string()})
}

/// The evaluator's alerts a member holds.
fn evaluator_alerts(am: &Alertmanager) -> Vec<serde_json::Value> {
    am.alerts()
        .into_iter()
        .filter(|a| a["labels"]["alertname"] == ALERT_NAME)
        .collect()
}

/// An evaluator of a graph file whose one service is failing, posting (with `for: 0s`)
/// to the file's `alerting.alertmanager`.
fn failing_service_evaluator(alerting: &str) -> (GraphEvaluator, Arc<AlertmanagerSink>) {
    let file = GraphFile::parse(
        &format!(
            "sensors:\n  - {{name: disk, constant: {{state: failing, message: disk full}}}}\n\
             services:\n  - {{name: storage, system: disk}}\n\
             alerting: {alerting}\n"
        ),
        "ha.yml",
    )
    .expect("valid graph file");
    let target = file
        .alerting
        .as_ref()
        .and_then(|a| a.alertmanager.clone())
        .expect("a target");
    let sink = Arc::new(AlertmanagerSink::for_target(&target, None).expect("valid target"));
    let built = file.assemble(&basic_registry()).expect("assembles");
    let policy = AlertPolicy {
        default_for: alert_core::Duration::ZERO,
        ..AlertPolicy::default()
    };
    let evaluator = GraphEvaluator::new(Engine::new(built.graph, built.sensors), policy)
        .with_sink(sink.clone() as Arc<dyn AlertSink>);
    (evaluator, sink)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gossip_cluster_is_read_merged_and_posted_to_every_member() {
    let mut kit = tokio::task::spawn_blocking(|| alert_testkit::Cluster::start(3, CONFIG))
        .await
        .expect("cluster started");
    let urls: Vec<String> = kit.members().iter().map(Alertmanager::base_url).collect();
    // Alerts are not gossiped: each member holds what was posted to it.
    kit[0]
        .post_alerts(&json!([firing(json!(
            {"alertname": "DiskFull", "service": "db", "severity": "critical"}
        ))]))
        .ensure_success();
    kit[1]
        .post_alerts(&json!([firing(json!(
            {"alertname": "SlowQueries", "service": "db", "severity": "warning"}
        ))]))
        .ensure_success();
    for m in kit.members() {
        m.post_alerts(&json!([firing(json!(
            {"alertname": "CacheCold", "service": "cache", "severity": "warning"}
        ))]))
        .ensure_success();
    }
    let members = format!("[{}]", urls.join(", "));
    let graph = format!(
        r#"
sensors:
  - {{name: db, alertmanager: {{urls: {members}, filter: ['service="db"']}}}}
  - {{name: cache, alertmanager: {{urls: {members}, filter: ['service="cache"']}}}}
  - {{name: db-on-2, alertmanager: {{url: "{}", filter: ['service="db"']}}}}
  - {{name: db-strict, alertmanager: {{urls: {members}, quorum: all, filter: ['service="db"']}}}}
"#,
        urls[2]
    );

    // Every member answers: the read is the union, each alert once.
    let snap = evaluate(&graph).await;
    assert_eq!(status(&snap, "db").state, State::Failing);
    assert_eq!(
        texts(&snap, "db"),
        [
            r#"firing: DiskFull{service="db", severity="critical"}"#,
            r#"firing: SlowQueries{service="db", severity="warning"}"#,
        ]
    );
    assert_eq!(
        texts(&snap, "cache"),
        [r#"firing: CacheCold{service="cache", severity="warning"}"#],
        "one alert held by three members is one alert"
    );
    assert_eq!(status(&snap, "db-on-2").state, State::Passing);
    assert_eq!(texts(&snap, "db-on-2"), ["no alerts firing"]);
    assert_eq!(status(&snap, "db-strict").state, State::Failing);

    // The evaluator posts to every member.
    let (mut evaluator, sink) =
        failing_service_evaluator(&format!("{{alertmanager: {{urls: {members}}}}}"));
    let report = evaluator.pass().await;
    assert_eq!(report.post_error, None);
    assert_eq!(report.alerts.len(), 1);
    assert!(sink.failed_members().is_empty());
    for m in kit.members() {
        let got = wait_until(Duration::from_secs(10), "the evaluator's alert", || {
            let a = evaluator_alerts(m);
            (!a.is_empty()).then_some(a)
        });
        assert_eq!(got[0]["labels"]["node"], "storage", "on {}", m.base_url());
    }

    // One member dies: reads still succeed from the other two, and say which failed.
    kit.kill(2);
    let snap = evaluate(&graph).await;
    let db = status(&snap, "db");
    assert_eq!(db.state, State::Failing);
    assert_eq!(db.messages.len(), 3, "{:?}", db.messages);
    let warning = &db.messages[2];
    assert_eq!(warning.severity, Level::Warn);
    assert!(
        warning.text.starts_with(&format!(
            "1 of 3 members did not answer: {0}: GET {0}/api/v2/alerts: ",
            urls[2]
        )) && warning.text.contains("Connection refused"),
        "{}",
        warning.text
    );
    assert_eq!(status(&snap, "cache").state, State::Degraded);
    // Reading the dead member alone, or requiring every member, fails, naming it.
    for (name, expected) in [
        (
            "db-on-2",
            format!("alertmanager at {0}: GET {0}/api/v2/alerts: ", urls[2]),
        ),
        (
            "db-strict",
            format!(
                "alertmanager at {}: only 2 of 3 members answered, 3 needed; failed: {} (GET ",
                urls.join(", "),
                urls[2]
            ),
        ),
    ] {
        assert_eq!(status(&snap, name).state, State::Unknown, "{name}");
        let text = &texts(&snap, name)[0];
        assert!(text.starts_with(&expected), "{name}: {text}");
    }

    // Posting goes on with two of three (a majority); the sink names the dead member.
    let report = evaluator.pass().await;
    assert_eq!(report.post_error, None);
    let failed = sink.failed_members();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].starts_with(&format!("{}: POST ", urls[2])),
        "{failed:?}"
    );
}

/// A Cortex configuration envelope routing everything to one receiver.
const ENVELOPE: &str = "alertmanager_config: |\n  route: {receiver: team, group_wait: 1s}\n  receivers: [{name: team}]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cortex_and_mimir_tenants_are_read_and_posted_apart() {
    let cortex = tokio::task::spawn_blocking(|| {
        let cortex = CortexFixture::start();
        for tenant in ["tenant-a", "tenant-b"] {
            assert_eq!(cortex.post_config(tenant, ENVELOPE).status, 201);
        }
        cortex.wait_running("tenant-a");
        cortex.wait_running("tenant-b");
        cortex
    })
    .await
    .expect("fixture started");
    let url = cortex.url();

    // The evaluator posts to tenant-a through Cortex's prefix and tenant header.
    let (mut evaluator, _sink) = failing_service_evaluator(&format!(
        "{{alertmanager: {{url: \"{url}\", backend: cortex, tenant: tenant-a}}}}"
    ));
    let report = evaluator.pass().await;
    assert_eq!(report.post_error, None);
    // And a second alert, posted through the sink as Mimir, for tenant-a's own services.
    let mimir_a: AlertmanagerTarget = yaml_serde::from_str(&format!(
        "{{url: \"{url}\", backend: mimir, tenant: tenant-a}}"
    ))
    .expect("valid");
    let now = alert_core::Timestamp::from_jiff(jiff::Timestamp::now());
    AlertmanagerSink::for_target(&mimir_a, None)
        .expect("valid target")
        .post(&[NodeAlert {
            labels: alert_core::LabelSet::from_pairs([
                ("alertname", "QueueFull"),
                ("service", "queue"),
                ("severity", "critical"),
            ])
            .expect("valid"),
            annotations: alert_core::LabelSet::from_pairs([("summary", "queue at 100%")])
                .expect("valid"),
            starts_at: now,
            ends_at: now
                .checked_add("1h".parse().expect("valid"))
                .expect("in range"),
            generator_url: String::new(),
        }])
        .await
        .expect("posted");

    let graph = format!(
        r#"
sensors:
  - {{name: a-queue, alertmanager: {{url: "{url}", backend: cortex, tenant: tenant-a, filter: ['service="queue"']}}}}
  - {{name: a-health, alertmanager: {{url: "{url}", backend: mimir, tenant: tenant-a, filter: ['alertname="{ALERT_NAME}"']}}}}
  - {{name: b-queue, alertmanager: {{url: "{url}", backend: mimir, tenant: tenant-b, filter: ['service="queue"']}}}}
  - {{name: c-queue, alertmanager: {{url: "{url}", backend: cortex, tenant: tenant-c}}}}
"#
    );
    let snap = evaluate(&graph).await;
    assert_eq!(status(&snap, "a-queue").state, State::Failing);
    assert_eq!(
        texts(&snap, "a-queue"),
        [r#"firing: QueueFull{service="queue", severity="critical"}: queue at 100%"#]
    );
    assert_eq!(status(&snap, "a-health").state, State::Failing);
    assert_eq!(
        texts(&snap, "a-health"),
        [format!(
            r#"firing: {ALERT_NAME}{{node="storage", role="service", severity="critical"}}: storage is failing"#
        )]
    );
    // Tenants are apart: tenant-b holds none of tenant-a's alerts.
    assert_eq!(status(&snap, "b-queue").state, State::Passing);
    assert_eq!(texts(&snap, "b-queue"), ["no alerts firing"]);
    // A tenant without an Alertmanager: Cortex's 404, with the tenant named.
    assert_eq!(status(&snap, "c-queue").state, State::Unknown);
    let text = &texts(&snap, "c-queue")[0];
    assert!(
        text.starts_with(&format!(
            "cortex tenant tenant-c at {url}: GET {url}/alertmanager/api/v2/alerts?"
        )) && text.ends_with(": HTTP 404: the Alertmanager is not configured"),
        "{text}"
    );
    // Every API request carried its tenant in X-Scope-OrgID, under the prefix.
    let api: Vec<_> = cortex
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/alertmanager/api/v2/"))
        .collect();
    assert_eq!(api.len(), 6, "{api:?}");
    for r in &api {
        assert!(
            matches!(
                r.org_id.as_deref(),
                Some("tenant-a" | "tenant-b" | "tenant-c")
            ),
            "{r:?}"
        );
    }
    assert_eq!(
        api.iter()
            .filter(|r| r.method == "POST" && r.path == "/alertmanager/api/v2/alerts")
            .count(),
        2
    );
}
