//! The two small servers the demo runs in its own process: the team's receiver (a webhook
//! sink that keeps what Alertmanager sends and shows it at `GET /`) and the demo app (the
//! scrape target the scenario stops and restarts, with request counters for the SLO).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::DemoError;

/// The most notifications the receiver keeps (the oldest go first).
const KEPT: usize = 1000;

/// One notification the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// The webhook message as sent.
    pub body: Value,
}

/// The team's receiver: `POST /hook` takes Alertmanager's webhook message, `GET /` lists
/// what arrived (newest last).
#[derive(Debug)]
pub struct Receiver {
    /// Its address.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    _task: JoinHandle<()>,
}

impl Receiver {
    /// Serves on `listener`.
    pub fn start(listener: TcpListener) -> Result<Receiver, DemoError> {
        let addr = listener
            .local_addr()
            .map_err(|e| DemoError::io("the receiver's socket", e))?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/hook", axum::routing::post(take))
            .route("/", get(list))
            .with_state(received.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Receiver {
            addr,
            received,
            _task: task,
        })
    }

    /// The webhook URL.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }
}

type Kept = Arc<Mutex<Vec<Received>>>;

async fn take(State(kept): State<Kept>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"status": "error", "error": "the body is not JSON"})),
        )
            .into_response();
    };
    let mut kept = kept.lock().unwrap_or_else(|p| p.into_inner());
    if kept.len() == KEPT {
        kept.remove(0);
    }
    kept.push(Received {
        at: Instant::now(),
        body,
    });
    StatusCode::OK.into_response()
}

async fn list(State(kept): State<Kept>) -> Response {
    let kept = kept.lock().unwrap_or_else(|p| p.into_inner());
    let bodies: Vec<&Value> = kept.iter().map(|r| &r.body).collect();
    axum::Json(json!({"notifications": bodies})).into_response()
}

/// The demo app: `GET /metrics` with `demo_requests_total{code}` counters that grow as if
/// it served 20 requests a second, 0.2% of them failing, and `GET /` saying it is up.
/// Every answer closes its connection, so a stopped app is seen at the next scrape.
#[derive(Debug)]
pub struct DemoApp {
    addr: SocketAddr,
    born: Instant,
    running: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl DemoApp {
    /// Serves on `listener`.
    pub fn start(listener: TcpListener) -> Result<DemoApp, DemoError> {
        let addr = listener
            .local_addr()
            .map_err(|e| DemoError::io("the demo app's socket", e))?;
        let mut app = DemoApp {
            addr,
            born: Instant::now(),
            running: None,
        };
        app.serve(listener);
        Ok(app)
    }

    /// Its address (`host:port`, the scrape target).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn serve(&mut self, listener: TcpListener) {
        let born = self.born;
        let app = Router::new()
            .route("/metrics", get(move || metrics(born)))
            .route(
                "/",
                get(|| async { close("demo app: up\n".to_owned(), "text/plain") }),
            );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        self.running = Some((stop, task));
    }

    /// Stops serving: the port refuses connections once this returns.
    pub async fn stop(&mut self) {
        if let Some((stop, task)) = self.running.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Serves again on the same address.
    pub async fn restart(&mut self) -> Result<(), DemoError> {
        if self.running.is_some() {
            return Ok(());
        }
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(|e| DemoError::io(format!("the demo app's port {}", self.addr), e))?;
        self.serve(listener);
        Ok(())
    }
}

async fn metrics(born: Instant) -> Response {
    let requests = born.elapsed().as_secs_f64() * 20.0;
    let failed = (requests * 0.002).floor();
    let ok = requests.floor() - failed;
    close(
        format!(
            "# HELP demo_requests_total Requests the demo app served, by status code.\n\
             # TYPE demo_requests_total counter\n\
             demo_requests_total{{code=\"200\"}} {ok}\n\
             demo_requests_total{{code=\"500\"}} {failed}\n"
        ),
        "text/plain; version=0.0.4; charset=utf-8",
    )
}

fn close(body: String, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
