//! Events written to the Kubernetes API fixture (which the real kubectl 1.20 reads back
//! in the test kit's own tests) pass the API server's validation; repeats become a series;
//! two replicas write one Event; server errors are retried.

use alert_core::{Alert, AlertStatus, LabelSet, Secret, Timestamp};
use alert_gateway::kube_events::{EventRecorder, ObjectReference, Reporter, Written};
use alert_testkit::kube::KubeApi;
use std::process::Command;
use std::time::Duration;

fn alert() -> Alert {
    let mut a = Alert::firing(
        LabelSet::from_pairs([("alertname", "CPUHigh"), ("alert_condition_id", "cpu-high")])
            .unwrap(),
        "2026-12-07T00:00:00Z".parse().unwrap(),
    );
    a.annotations = LabelSet::from_pairs([("summary", "CPU high on web")]).unwrap();
    a
}

fn recorder(api: &KubeApi, instance: &str) -> EventRecorder {
    EventRecorder::new(
        &api.url(),
        Some(Secret::new(api.token())),
        ObjectReference {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "web".into(),
        },
        Reporter {
            controller: "alert-gateway.io/emitter".into(),
            instance: instance.into(),
        },
    )
    .unwrap()
    .with_retries(3, Duration::from_millis(10))
}

fn now() -> Timestamp {
    "2026-12-07T00:05:00Z".parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_are_a_series_and_replicas_share_one_event() {
    // Tokens are checked when sent (a wrong one is a 401); anonymous reads stay open so
    // that kubectl, which sends no token over plain HTTP, can read the events back.
    let api = KubeApi::start();
    let a = recorder(&api, "emitter-0");
    let b = recorder(&api, "emitter-1");
    assert_eq!(a.record(&alert(), now()).await.unwrap(), Written::Created);
    assert_eq!(
        a.record(&alert(), now()).await.unwrap(),
        Written::Repeated(2)
    );
    // The other replica gets the same notification: 409, then it counts the repeat.
    assert_eq!(
        b.record(&alert(), now()).await.unwrap(),
        Written::Repeated(3)
    );
    let mut resolved = alert();
    resolved.status = AlertStatus::Resolved;
    assert_eq!(a.record(&resolved, now()).await.unwrap(), Written::Created);
    let events = api.events();
    assert_eq!(events.len(), 2, "one event per alert and status");
    let firing = events.iter().find(|e| e["type"] == "Warning").unwrap();
    assert_eq!(firing["series"]["count"], 3);
    assert_eq!(firing["message"], "CPU high on web");
    assert_eq!(firing["reportingComponent"], "alert-gateway.io/emitter");

    // kubectl 1.20 reads them back.
    let dir = tempfile::tempdir().unwrap();
    let config = api.write_kubeconfig(dir.path());
    let out = Command::new(alert_testkit::kubectl_bin())
        .arg("--kubeconfig")
        .arg(&config)
        .args(["get", "events", "-n", "shop", "-o", "json"])
        .output()
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_sent() {
    let api = KubeApi::builder().require_token().start();
    assert_eq!(
        recorder(&api, "e").record(&alert(), now()).await.unwrap(),
        Written::Created
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_reported_and_a_dead_server_is_retried() {
    let forbidden = KubeApi::builder().forbid("create", "events").start();
    let err = recorder(&forbidden, "e")
        .record(&alert(), now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("(403)"), "{err}");

    let gone = {
        let api = KubeApi::start();
        api.url()
    };
    let dead = EventRecorder::new(
        &gone,
        None,
        ObjectReference {
            api_version: "v1".into(),
            kind: "Node".into(),
            namespace: String::new(),
            name: "n1".into(),
        },
        Reporter {
            controller: "alert-gateway.io/emitter".into(),
            instance: "e".into(),
        },
    )
    .unwrap()
    .with_retries(3, Duration::from_millis(10));
    let err = dead.record(&alert(), now()).await.unwrap_err();
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
}
