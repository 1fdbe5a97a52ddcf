//! What the router tests of the history server share: a runtime and one request through
//! the router, answered within 10 s.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use alert_history::HistoryStore;
use alert_history::server::{ServerOptions, router};
use alert_history::sqlite::SqliteStore;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use tower::ServiceExt;

/// A multi-threaded runtime (the router runs store calls on the blocking pool).
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The router over a SQLite store in `dir`.
pub(crate) fn app(dir: &std::path::Path, options: ServerOptions) -> Router {
    let store = SqliteStore::open(dir.join("history.db")).expect("open");
    router(Arc::new(store) as Arc<dyn HistoryStore>, options)
}

/// Sends `request`; the status, headers and body.
pub(crate) async fn call_raw(
    app: &Router,
    request: Request<Body>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = tokio::time::timeout(Duration::from_secs(10), app.clone().oneshot(request))
        .await
        .expect("answered within 10 s")
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), 1 << 24).await.expect("body");
    (status, headers, body.to_vec())
}

/// A body as JSON, or as a JSON string when it is not JSON.
pub(crate) fn json_or_text(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or(serde_json::Value::String(
        String::from_utf8_lossy(body).into_owned(),
    ))
}
