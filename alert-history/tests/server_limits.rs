//! The router's limits and checks, driven without a socket: what the webhook accepts
//! (JSON only, bodies within size and time, fingerprints that are the labels'), what
//! readiness says while writes fail, and how heavy reads are bounded.
#![cfg(all(feature = "server", feature = "sqlite"))]

mod server_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use alert_core::{Duration as AmDuration, Fingerprint, Timestamp};
use alert_history::server::{ServerOptions, router};
use alert_history::sqlite::SqliteStore;
use alert_history::{AppendOutcome, Episode};
use alert_history::{
    EpisodePage, EpisodeQuery, Error, Heartbeat, HeartbeatLog, HistoryStore, Notification,
    PurgeOutcome, StoreStats, TimeSpan,
};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use server_support::{call_raw, json_or_text, runtime};

/// A SQLite store whose writes can be made to fail (a full disk) and whose reads can be
/// made slow.
struct Flaky {
    inner: SqliteStore,
    writes_fail: AtomicBool,
    read_delay_ms: AtomicU64,
}

impl Flaky {
    fn new(dir: &std::path::Path) -> Arc<Flaky> {
        Arc::new(Flaky {
            inner: SqliteStore::open(dir.join("history.db")).expect("open"),
            writes_fail: AtomicBool::new(false),
            read_delay_ms: AtomicU64::new(0),
        })
    }

    fn write(&self) -> alert_history::Result<()> {
        if self.writes_fail.load(Ordering::SeqCst) {
            return Err(Error::Sqlite {
                context: "append".into(),
                reason: "database or disk is full".into(),
            });
        }
        Ok(())
    }

    fn read(&self) {
        std::thread::sleep(Duration::from_millis(
            self.read_delay_ms.load(Ordering::SeqCst),
        ));
    }
}

impl HistoryStore for Flaky {
    fn append(&self, notifications: &[Notification]) -> alert_history::Result<AppendOutcome> {
        self.write()?;
        self.inner.append(notifications)
    }
    fn query(&self, query: &EpisodeQuery) -> alert_history::Result<EpisodePage> {
        self.read();
        self.inner.query(query)
    }
    fn episodes_of(
        &self,
        fingerprint: Fingerprint,
        range: TimeSpan,
    ) -> alert_history::Result<Vec<Episode>> {
        self.inner.episodes_of(fingerprint, range)
    }
    fn record_heartbeat(&self, heartbeat: &Heartbeat) -> alert_history::Result<()> {
        self.write()?;
        self.inner.record_heartbeat(heartbeat)
    }
    fn heartbeats(
        &self,
        range: TimeSpan,
        max_gap: AmDuration,
    ) -> alert_history::Result<HeartbeatLog> {
        self.inner.heartbeats(range, max_gap)
    }
    fn purge(&self, before: Timestamp) -> alert_history::Result<PurgeOutcome> {
        self.write()?;
        self.inner.purge(before)
    }
    fn stats(&self) -> alert_history::Result<StoreStats> {
        self.inner.stats()
    }
}
fn now_rfc3339() -> String {
    alert_history::server::now().to_string()
}

fn message(alerts: Value) -> String {
    json!({"receiver": "history", "status": "firing", "alerts": alerts, "version": "4",
           "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
           "groupKey": "{}:{}", "truncatedAlerts": 0})
    .to_string()
}

fn firing(labels: Value, starts_at: &str) -> Value {
    json!({"status": "firing", "labels": labels, "annotations": {}, "startsAt": starts_at,
           "endsAt": "0001-01-01T00:00:00Z", "generatorURL": ""})
}

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
    let (status, headers, body) = call_raw(app, request).await;
    (status, json_or_text(&body), headers)
}

fn post_json(body: String) -> Request<Body> {
    Request::post("/webhook")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request")
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

/// Asserts a Prometheus-shaped JSON error whose text contains `contains`.
fn assert_error(got: &(StatusCode, Value, axum::http::HeaderMap), status: u16, contains: &str) {
    assert_eq!(got.0.as_u16(), status, "{}", got.1);
    assert_eq!(got.1["status"], "error", "{}", got.1);
    let text = got.1["error"].as_str().unwrap_or_default();
    assert!(
        text.contains(contains),
        "{text:?} should contain {contains:?}"
    );
}

/// A body that sends `first` and then nothing, ever (a client that stopped sending).
struct Stalled(Option<Bytes>);

impl hyper::body::Body for Stalled {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        match self.0.take() {
            Some(b) => std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(b)))),
            None => std::task::Poll::Pending,
        }
    }
}

fn stalled_body(first: &'static [u8]) -> Body {
    Body::new(Stalled(Some(Bytes::from_static(first))))
}

/// The store, the router over it with `options`, and the store itself.
fn app(dir: &std::path::Path, options: ServerOptions) -> (Router, Arc<Flaky>) {
    let store = Flaky::new(dir);
    (
        router(Arc::clone(&store) as Arc<dyn HistoryStore>, options),
        store,
    )
}

#[test]
fn the_webhook_requires_a_json_content_type() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, _) = app(dir.path(), ServerOptions::default());
    let body = message(json!([firing(json!({"alertname": "A"}), &now_rfc3339())]));
    runtime().block_on(async {
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let mut r = Request::post("/webhook");
            if let Some(c) = content_type {
                r = r.header(header::CONTENT_TYPE, c);
            }
            let got = call(&app, r.body(Body::from(body.clone())).expect("request")).await;
            assert_error(&got, 415, "application/json");
        }
        for content_type in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
        ] {
            let r = Request::post("/webhook")
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body.clone()))
                .expect("request");
            assert_eq!(call(&app, r).await.0, StatusCode::OK, "{content_type}");
        }
    });
}

#[test]
fn a_forged_fingerprint_is_refused_and_the_victim_stays_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, _) = app(dir.path(), ServerOptions::default());
    let started = now_rfc3339();
    let victim = firing(
        json!({"alertname": "DiskFull", "instance": "db-1"}),
        &started,
    );
    let victim_fp =
        alert_core::LabelSet::from_pairs([("alertname", "DiskFull"), ("instance", "db-1")])
            .expect("labels")
            .fingerprint();
    let mut forged = firing(json!({"alertname": "Other"}), &started);
    forged["status"] = json!("resolved");
    forged["endsAt"] = json!(now_rfc3339());
    forged["fingerprint"] = json!(victim_fp.to_string());
    runtime().block_on(async {
        assert_eq!(
            call(&app, post_json(message(json!([victim])))).await.0,
            StatusCode::OK
        );
        let got = call(&app, post_json(message(json!([forged])))).await;
        assert_error(&got, 400, "alerts[0].fingerprint");
        let got = call(&app, get("/api/v1/episodes")).await;
        let episodes = got.1["data"]["episodes"]
            .as_array()
            .expect("episodes")
            .clone();
        assert_eq!(episodes.len(), 1, "{episodes:?}");
        assert_eq!(episodes[0]["labels"]["alertname"], "DiskFull");
        assert_eq!(
            episodes[0]["endsAt"],
            Value::Null,
            "the victim is still firing"
        );
        // The right fingerprint, given or not, is accepted.
        let mut honest = firing(
            json!({"alertname": "DiskFull", "instance": "db-1"}),
            &started,
        );
        honest["fingerprint"] = json!(victim_fp.to_string());
        assert_eq!(
            call(&app, post_json(message(json!([honest])))).await.0,
            StatusCode::OK
        );
    });
}

#[test]
fn a_declared_body_over_the_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = ServerOptions {
        max_body_bytes: 1024,
        ..ServerOptions::default()
    };
    let (app, _) = app(dir.path(), options);
    runtime().block_on(async {
        // The client declares 100 MB and sends 10 bytes: the answer cannot wait for the rest.
        let r = Request::post("/webhook")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, "100000000")
            .body(stalled_body(b"{\"receiver"))
            .expect("request");
        let started = Instant::now();
        let got = call(&app, r).await;
        assert_error(&got, 413, "1024");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            got.2.get(header::CONNECTION).map(|v| v.as_bytes()),
            Some(&b"close"[..])
        );
        // Undeclared (chunked) bodies are cut at the limit as they arrive.
        let r = Request::post("/webhook")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(vec![b' '; 4096]))
            .expect("request");
        assert_error(&call(&app, r).await, 413, "1024");
    });
}

#[test]
fn a_body_that_stops_coming_times_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = ServerOptions {
        body_timeout: Duration::from_millis(300),
        ..ServerOptions::default()
    };
    let (app, _) = app(dir.path(), options);
    runtime().block_on(async {
        let r = Request::post("/webhook")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, "500")
            .body(stalled_body(b"{\"receiver\":"))
            .expect("request");
        let got = call(&app, r).await;
        assert_error(&got, 408, "not sent within");
        assert_eq!(
            got.2.get(header::CONNECTION).map(|v| v.as_bytes()),
            Some(&b"close"[..])
        );
    });
}

#[test]
fn readiness_follows_whether_writes_succeed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, store) = app(dir.path(), ServerOptions::default());
    let body = message(json!([firing(json!({"alertname": "A"}), &now_rfc3339())]));
    runtime().block_on(async {
        assert_eq!(call(&app, get("/-/ready")).await.0, StatusCode::OK);
        store.writes_fail.store(true, Ordering::SeqCst);
        assert_error(
            &call(&app, post_json(body.clone())).await,
            503,
            "disk is full",
        );
        assert_error(&call(&app, get("/-/ready")).await, 503, "disk is full");
        let metrics = call(&app, get("/metrics")).await.1;
        assert!(
            metrics
                .as_str()
                .unwrap_or_default()
                .contains("alert_history_store_writable 0\n"),
            "{metrics}"
        );
        // Liveness is not readiness.
        assert_eq!(call(&app, get("/-/healthy")).await.0, StatusCode::OK);
        store.writes_fail.store(false, Ordering::SeqCst);
        assert_eq!(call(&app, post_json(body)).await.0, StatusCode::OK);
        assert_eq!(call(&app, get("/-/ready")).await.0, StatusCode::OK);
    });
}

#[test]
fn an_over_long_url_gets_a_json_414() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, _) = app(dir.path(), ServerOptions::default());
    let long = format!("/api/v1/episodes?match[]={}", "a".repeat(20_000));
    runtime().block_on(async {
        assert_error(&call(&app, get(&long)).await, 414, "16384");
        let long_path = format!("/{}", "x".repeat(20_000));
        assert_error(&call(&app, get(&long_path)).await, 414, "16384");
    });
}

/// `n` firing alerts, overlapping, in one message per 1,000.
fn many(app: &Router, rt: &tokio::runtime::Runtime, n: usize) {
    let started = now_rfc3339();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let alerts: Vec<Value> = chunk
            .iter()
            .map(|i| firing(json!({"alertname": "Load", "n": i.to_string()}), &started))
            .collect();
        let got = rt.block_on(call(app, post_json(message(json!(alerts)))));
        assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    }
}

#[test]
fn heavy_reads_are_bounded_in_episodes_and_in_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = ServerOptions {
        max_episodes_per_request: 50,
        request_timeout: Duration::from_millis(500),
        heavy_reads: 1,
        ..ServerOptions::default()
    };
    let (app, store) = app(dir.path(), options);
    let rt = runtime();
    many(&app, &rt, 60);
    rt.block_on(async {
        let got = call(&app, get("/api/v1/timeline")).await;
        assert_error(&got, 422, "more than 50 episodes");
        assert_error(
            &call(&app, get("/api/v1/export")).await,
            422,
            "more than 50 episodes",
        );
        let few = "/api/v1/timeline?match[]=n%3D~%22[0-9]%22";
        assert_eq!(call(&app, get(few)).await.0, StatusCode::OK);

        // A read slower than the request may take is answered 503 on time.
        store.read_delay_ms.store(2000, Ordering::SeqCst);
        let started = Instant::now();
        let got = call(&app, get(few)).await;
        assert_error(&got, 503, "longer than");
        assert!(got.2.contains_key(header::RETRY_AFTER));
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        // Its slot is held until the store call returns: the next heavy read finds none.
        let got = call(&app, get(few)).await;
        assert_error(&got, 503, "try again later");
        // Ingest and health do not wait for heavy reads.
        let started = Instant::now();
        assert_eq!(call(&app, get("/-/healthy")).await.0, StatusCode::OK);
        let body = message(json!([firing(json!({"alertname": "B"}), &now_rfc3339())]));
        assert_eq!(call(&app, post_json(body)).await.0, StatusCode::OK);
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
        store.read_delay_ms.store(0, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(call(&app, get(few)).await.0, StatusCode::OK);
    });
}

#[test]
fn a_timeline_listing_too_many_fingerprints_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = ServerOptions {
        max_timeline_fingerprints: 10,
        ..ServerOptions::default()
    };
    let (app, _) = app(dir.path(), options);
    let rt = runtime();
    many(&app, &rt, 11);
    rt.block_on(async {
        assert_error(
            &call(&app, get("/api/v1/timeline")).await,
            422,
            "11 episode fingerprints",
        );
    });
}
