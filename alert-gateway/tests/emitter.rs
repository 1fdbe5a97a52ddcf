//! The emitter with real Alertmanager 0.25 notifications: the message cache answers them
//! (across two replicas), and the Kubernetes API fixture gets one Event per alert whose
//! repeats are a series, which the real kubectl 1.20 lists.

use std::time::Duration;

use alert_core::Secret;
use alert_gateway::api::{ApiOptions, guarded};
use alert_gateway::emitter::{self, EmitterOptions};
use alert_gateway::kube_events::{EventRecorder, ObjectReference, Reporter};
use alert_gateway::server::{ServeOptions, serve};
use alert_testkit::Alertmanager;
use alert_testkit::kube::KubeApi;
use serde_json::{Value, json};

struct Replica {
    base: String,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn replica(name: &str, peers: Vec<String>, events: Option<EventRecorder>) -> Replica {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = guarded(
        emitter::router(EmitterOptions {
            replica: name.into(),
            peers,
            events,
            ..EmitterOptions::default()
        }),
        ApiOptions::default(),
        None,
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(serve(listener, app, ServeOptions::default(), stopped));
    Replica { base, _stop: stop }
}

async fn messages(base: &str, query: &str) -> Value {
    reqwest::get(format!("{base}/api/v1/messages?{query}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn wait_for(mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "not within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_notifications_reach_the_cache_and_kubernetes() {
    let kube = KubeApi::start();
    let recorder = EventRecorder::new(
        &kube.url(),
        Some(Secret::new(kube.token())),
        ObjectReference {
            api_version: "apps/v1".into(),
            kind: "StatefulSet".into(),
            namespace: "monitoring".into(),
            name: "alertmanager".into(),
        },
        Reporter {
            controller: "alert-gateway.io/emitter".into(),
            instance: "emitter-0".into(),
        },
    )
    .unwrap();
    let emitter = replica("emitter-0", Vec::new(), Some(recorder)).await;
    let hook = format!("{}/api/v1/emitter/webhook", emitter.base);
    let config = format!(
        "route: {{receiver: emitter, group_wait: 0s, group_interval: 1s, repeat_interval: 2s}}\n\
         receivers: [{{name: emitter, webhook_configs: [{{url: '{hook}', send_resolved: true}}]}}]\n"
    );
    let am = tokio::task::spawn_blocking(move || Alertmanager::start(&config))
        .await
        .unwrap();
    let alert = json!([{"labels": {"alertname": "CPUHigh", "alert_condition_id": "cpu-high", "tenant": "cluster-a"},
                        "annotations": {"summary": "CPU high"}}]);
    let posted = alert.clone();
    let am = tokio::task::spawn_blocking(move || {
        am.post_alerts(&posted).ensure_success();
        am
    })
    .await
    .unwrap();

    // The first notification and at least one repeat (repeat_interval 2s).
    wait_for(async || {
        messages(&emitter.base, "tenant=cluster-a&condition=cpu-high").await["messages"]
            .as_array()
            .is_some_and(|m| m.len() >= 2)
    })
    .await;
    let got = messages(&emitter.base, "tenant=cluster-a").await;
    let first = &got["messages"][0];
    assert_eq!(first["receiver"], "emitter");
    assert_eq!(first["status"], "firing");
    assert_eq!(first["alerts"][0]["labels"]["alertname"], "CPUHigh");
    assert!(
        messages(&emitter.base, "tenant=other").await["messages"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // One Event for the alert, its repeats counted in a series.
    wait_for(async || {
        kube.events()
            .iter()
            .any(|e| e["series"]["count"].as_u64().is_some_and(|c| c >= 2))
    })
    .await;
    let events = kube.events();
    assert_eq!(events.len(), 1, "repeats are one event: {events:?}");
    assert_eq!(events[0]["type"], "Warning");
    assert_eq!(events[0]["reason"], "cpu-high");
    assert_eq!(events[0]["involvedObject"]["name"], "alertmanager");

    let dir = tempfile::tempdir().unwrap();
    let config = kube.write_kubeconfig(dir.path());
    let out = std::process::Command::new(alert_testkit::kubectl_bin())
        .arg("--kubeconfig")
        .arg(&config)
        .args(["get", "events", "-n", "monitoring", "-o", "json"])
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(listed["items"][0]["message"], "CPU high");
    drop(am);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_through_any_replica_sees_every_message() {
    // Ports are only known once bound: start b, then a pointing at b, then check both ways
    // through a (b has no peers; a read through b sees only b's).
    let b = replica("b", Vec::new(), None).await;
    let a = replica("a", vec![b.base.clone(), "http://127.0.0.1:1".into()], None).await;
    let client = reqwest::Client::new();
    let body = |name: &str| {
        format!(
            r#"{{"receiver":"r","status":"firing","alerts":[{{"status":"firing","labels":{{"alertname":"{name}","tenant":"t"}},
            "annotations":{{}},"startsAt":"2026-12-07T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":""}}],"version":"4"}}"#
        )
    };
    for (base, name) in [(&a.base, "OnA"), (&b.base, "OnB")] {
        let r = client
            .post(format!("{base}/api/v1/emitter/webhook"))
            .header("content-type", "application/json")
            .body(body(name))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let merged = messages(&a.base, "tenant=t").await;
    let names: Vec<&str> = merged["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["alerts"][0]["labels"]["alertname"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{merged}");
    assert!(names.contains(&"OnA") && names.contains(&"OnB"));
    assert_eq!(
        merged["partial"],
        json!(["http://127.0.0.1:1"]),
        "an unreachable peer is named"
    );
    let local = messages(&a.base, "tenant=t&local=true").await;
    assert_eq!(local["messages"].as_array().unwrap().len(), 1);

    // Bad input: nothing cached.
    let bad = client
        .post(format!("{}/api/v1/emitter/webhook", a.base))
        .header("content-type", "application/json")
        .body("{\"receiver\":")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let wrong_type = client
        .post(format!("{}/api/v1/emitter/webhook", a.base))
        .body(body("X"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);
    assert_eq!(
        messages(&a.base, "tenant=t&local=true").await["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
