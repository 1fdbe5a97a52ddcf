//! Stands in for a webhook receiver (the history service, Opni's alerting endpoint, a
//! chat relay): an HTTP server on a free loopback port that records every request.
//!
//! It runs on its own thread with its own Tokio runtime, so it answers while the test
//! thread blocks, whether the test is a plain `#[test]` or a `#[tokio::test]`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::Value;

use crate::server_thread::{ServerThread, Workers};

/// One request the sink received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    /// `POST`, usually.
    pub method: String,
    /// Path and query, e.g. `/hook`.
    pub path: String,
    /// Headers in arrival order, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body, exactly as sent.
    pub body: Vec<u8>,
}

impl ReceivedRequest {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    ///
    /// # Panics
    /// When it is not UTF-8.
    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body)
            .unwrap_or_else(|e| panic!("request body is not UTF-8 ({e}): {:?}", self.body))
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    /// When it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "request body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

#[derive(Default)]
struct Recorded {
    requests: Mutex<Vec<ReceivedRequest>>,
    arrived: Condvar,
}

impl Recorded {
    fn lock(&self) -> MutexGuard<'_, Vec<ReceivedRequest>> {
        // A panic while holding the lock cannot leave the Vec half-written.
        self.requests.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Shared {
    recorded: Recorded,
    status: AtomicU16,
}

/// An HTTP server recording every request; answers 200 unless told otherwise.
///
/// ```
/// use std::time::Duration;
/// use alert_testkit::{WebhookSink, http};
///
/// let sink = WebhookSink::start();
/// http::post_json(&sink.url_for("/hook"), &serde_json::json!({"receiver": "x"}));
/// let got = sink.wait_for(1, Duration::from_secs(5));
/// assert_eq!(got[0].path, "/hook");
/// assert_eq!(got[0].json()["receiver"], "x");
/// ```
pub struct WebhookSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// Stops the server when the sink is dropped.
    _server: ServerThread,
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink")
            .field("addr", &self.addr)
            .field("received", &self.count())
            .finish()
    }
}

impl WebhookSink {
    /// Starts the server on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// When no port can be bound or no runtime built.
    pub fn start() -> WebhookSink {
        let shared = Arc::new(Shared {
            recorded: Recorded::default(),
            status: AtomicU16::new(200),
        });
        let app = Router::new()
            .fallback(record)
            .layer(DefaultBodyLimit::disable())
            .with_state(Arc::clone(&shared));
        let server = ServerThread::start("the webhook sink", app, Workers::CurrentThread);
        WebhookSink {
            addr: server.addr(),
            shared,
            _server: server,
        }
    }

    /// `http://127.0.0.1:<port>/`, a webhook URL for Alertmanager's config.
    pub fn url(&self) -> String {
        self.url_for("/")
    }

    /// `http://127.0.0.1:<port><path>`; any path is accepted and recorded.
    pub fn url_for(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The port the sink listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answers later requests with `status` (e.g. 500 to make Alertmanager retry).
    pub fn set_status(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Every request received so far, in arrival order.
    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.shared.recorded.lock().clone()
    }

    /// How many requests arrived so far.
    pub fn count(&self) -> usize {
        self.shared.recorded.lock().len()
    }

    /// Waits until at least `n` requests arrived and returns all received.
    ///
    /// # Panics
    /// When `timeout` passes first, showing what did arrive.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedRequest> {
        self.wait_until(timeout, &format!("{n} request(s)"), |got| got.len() >= n)
    }

    /// Waits until `done` holds for the requests received so far, and returns them.
    ///
    /// # Panics
    /// When `timeout` passes first, naming `what` and showing what did arrive.
    pub fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        mut done: impl FnMut(&[ReceivedRequest]) -> bool,
    ) -> Vec<ReceivedRequest> {
        let deadline = Instant::now() + timeout;
        let recorded = &self.shared.recorded;
        let mut got = recorded.lock();
        loop {
            if done(&got) {
                return got.clone();
            }
            let now = Instant::now();
            if now >= deadline {
                let bodies: Vec<String> = got
                    .iter()
                    .map(|r| String::from_utf8_lossy(&r.body).into_owned())
                    .collect();
                drop(got);
                panic!(
                    "webhook sink: timed out after {timeout:?} waiting for {what}; received {}:\n{}",
                    bodies.len(),
                    bodies.join("\n")
                );
            }
            got = recorded
                .arrived
                .wait_timeout(got, deadline - now)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let request = ReceivedRequest {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    };
    shared.recorded.lock().push(request);
    shared.recorded.arrived.notify_all();
    StatusCode::from_u16(shared.status.load(Ordering::SeqCst))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
