//! Crash safety: `kill -9` of alert-history-server while Alertmanager delivers to it.
//! Every notification it answered 200 for is in the store after a restart, and
//! Alertmanager's retries bring the rest.
//!
//! A recording proxy sits between Alertmanager and the server, so the test knows which
//! requests were acknowledged.

mod history_support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alert_testkit::{Alertmanager, free_port, wait_until};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use history_support::{HistoryServer, now_secs, rfc3339_in};
use serde_json::{Value, json};

/// (fingerprint, startsAt) of every alert in the bodies the server answered 200 for.
#[derive(Default)]
struct Acked {
    keys: Mutex<BTreeSet<(String, String)>>,
    target: Mutex<String>,
    /// Requests the server did not answer 200 (it was dead or restarting).
    failed: std::sync::atomic::AtomicUsize,
}

async fn forward(State(acked): State<Arc<Acked>>, body: Bytes) -> StatusCode {
    let target = acked.target.lock().expect("lock").clone();
    let sent = body.clone();
    let status = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        agent
            .post(&target)
            .header("Content-Type", "application/json")
            .send(&sent[..])
            .map(|r| r.status().as_u16())
            .unwrap_or(502)
    })
    .await
    .unwrap_or(502);
    if status != 200 {
        acked
            .failed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    } else {
        let v: Value = serde_json::from_slice(&body).expect("Alertmanager sends JSON");
        let mut keys = acked.keys.lock().expect("lock");
        for a in v["alerts"].as_array().expect("alerts") {
            keys.insert(key(a));
        }
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY)
}

fn key(a: &Value) -> (String, String) {
    let starts: alert_core::Timestamp = a["startsAt"]
        .as_str()
        .expect("startsAt")
        .parse()
        .expect("RFC 3339");
    (
        a["fingerprint"].as_str().expect("fingerprint").to_owned(),
        starts.to_utc().to_string(),
    )
}

fn stored(server: &HistoryServer) -> BTreeSet<(String, String)> {
    server.export(2).iter().map(key).collect()
}

#[test]
fn kill_9_while_alertmanager_delivers_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = HistoryServer::start(dir.path(), &["--synchronous", "full"]);

    let acked = Arc::new(Acked::default());
    *acked.target.lock().expect("lock") = server.url("/webhook");
    let proxy_port = free_port();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let app = Router::new()
        .route("/webhook", axum::routing::post(forward))
        .with_state(Arc::clone(&acked));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", proxy_port)))
        .expect("bind proxy");
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let am = Alertmanager::start(&format!(
        r#"
route:
  receiver: history
  group_by: ['instance']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: history
    webhook_configs:
      - url: 'http://127.0.0.1:{proxy_port}/webhook'
        send_resolved: true
"#
    ));
    // 400 alerts, one group each: 400 webhook requests, delivered concurrently.
    let starts = rfc3339_in(0);
    let alerts: Vec<Value> = (0..400)
        .map(|i| json!({"labels": {"alertname": "Crash", "instance": format!("node-{i}")}, "startsAt": starts}))
        .collect();
    for chunk in alerts.chunks(100) {
        am.post_alerts(&json!(chunk)).ensure_success();
    }
    wait_until(
        Duration::from_secs(30),
        "some acknowledged notifications",
        || (acked.keys.lock().expect("lock").len() >= 40).then_some(()),
    );
    server.kill9();
    let acked_before_kill = acked.keys.lock().expect("lock").clone();
    assert!(
        acked_before_kill.len() < 400,
        "the kill came too late to test anything"
    );
    server.restart();

    let after_restart = stored(&server);
    let missing: Vec<_> = acked_before_kill.difference(&after_restart).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");

    // Alertmanager retries the notifications that failed while the server was down.
    let all = wait_until(Duration::from_secs(60), "all 400 alerts stored", || {
        let s = stored(&server);
        (s.len() == 400).then_some(s)
    });
    let acked_all = acked.keys.lock().expect("lock").clone();
    assert!(acked_all.is_subset(&all));
    let failed = acked.failed.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        failed > 0,
        "no delivery failed: the kill did not interrupt Alertmanager"
    );
    eprintln!(
        "acknowledged before the kill: {}, failed deliveries retried: {failed}",
        acked_before_kill.len()
    );
    // The server's own downtime shows in timelines, from its last alive record to the
    // restart.
    let tl = server.get_data(&format!(
        "/api/v1/timeline?start={}&end={}",
        now_secs() - 600,
        now_secs() + 1
    ));
    let down: Vec<&Value> = tl["unavailable"]
        .as_array()
        .expect("unavailable")
        .iter()
        .collect();
    assert_eq!(down.len(), 1, "{tl:#}");
    assert_eq!(down[0]["cause"], "server_down");
    assert!(
        tl["segments"]
            .as_array()
            .expect("segments")
            .iter()
            .any(|s| s["state"] == "unavailable")
    );
    drop(am);
    runtime.shutdown_background();
}
