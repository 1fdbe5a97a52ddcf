//! The HTTP side of alert history: Alertmanager's webhook receiver and the history API,
//! as an [`axum::Router`] over any [`HistoryStore`] (feature `server`), and [`serve`],
//! which serves it with the timeouts and limits a server on a network needs.
//!
//! An embedding gateway builds the routes with [`router`], serves or nests them, and runs
//! [`spawn_background`] (alive records, the retention purge and the store counts, safe on
//! every replica of one database); the `alert-history-server` binary of `alert-examples`
//! is such a process (flags and the store around these).
//!
//! | route | what |
//! |---|---|
//! | `GET /?match[]=&by=&range=\|start=&end=&entity=&from=&to=` | the health bar page ([`page`]): one bar per value of the label `by` among the matching episodes (one bar of them all without `by`), segments coloured by state over the last `range` (`1d`, `7d`, `30d`) or `[start, end)`; a segment links to its drill-down (`entity`, `from`, `to`), the episodes that fired in it with their ends as the API gives them; HTML errors (400 for a bad parameter) |
//! | `POST /webhook` | Alertmanager's webhook message (`Content-Type: application/json`); 200 `{"status": "success", "data": {"stored": n}}` only once stored durably, 4xx with a JSON error (nothing stored) for a bad body, 5xx when the store fails (Alertmanager retries) |
//! | `GET /api/v1/episodes?start=&end=&match[]=&limit=&cursor=` | `{"status": "success", "data": {"episodes": [...], "next": cursor}}`; an episode's `endReason` is `resolved`, or an inferred `superseded` or `silent` ([`ServerOptions::silent_end`]) |
//! | `GET /api/v1/timeline?start=&end=&match[]=` | `{"status": "success", "data": {"segments": [{"start", "end", "state", "episodes"}], "unavailable": [...]}}` |
//! | `GET /api/v1/export?start=&end=&match[]=` | JSON lines, one episode a line (no envelope) |
//! | `GET /metrics` | Prometheus text |
//! | `GET /-/healthy`, `GET /-/ready` | liveness; readiness (the store answers reads, and the newest write succeeded) |
//!
//! Each `match[]` is one selector (`{alertname="DiskFull",severity=~"crit.*"}`, or
//! `alertname="DiskFull"` as Alertmanager's parser also takes it): all its matchers must
//! match; several `match[]` are OR-ed; none selects every episode — Prometheus' and
//! Loki's semantics ([`Selectors`](crate::Selectors)), on every route that takes them.
//!
//! The webhook, the API and the page take an optional bearer token or basic auth
//! ([`ServerOptions::auth`]; the page challenges a browser for basic auth);
//! `/metrics` and the health endpoints are open. JSON answers come in the envelope of
//! Prometheus' and Loki's HTTP APIs: `{"status": "success", "data": ...}`, errors
//! `{"status": "error", "errorType", "error"}`; HTML pages on `/`.
//!
//! No handler does store or CPU-heavy work on the async workers: store calls run on
//! tokio's blocking pool (so the router needs a multi-threaded tokio runtime), and the
//! heavy reads (timeline, export and the page: every episode of a range, then the
//! timeline and the JSON or HTML) run there too, at most
//! [`ServerOptions::heavy_reads`] at once, each within
//! [`ServerOptions::request_timeout`] and [`ServerOptions::max_episodes_per_request`].
//! Ingest and health are answered while they run.
//!
//! Request limits, and what a client gets past them:
//!
//! | limit | answer |
//! |---|---|
//! | webhook `Content-Type` not JSON | 415 |
//! | webhook body (declared or sent) over [`ServerOptions::max_body_bytes`] | 413, at once for a declared `Content-Length` |
//! | webhook body not sent within [`ServerOptions::body_timeout`] | 408 |
//! | an alert's `fingerprint` is not its labels' | 400 |
//! | an alert's `startsAt` or `endsAt` is not a time Go's `encoding/json` reads ([`alert_core::Timestamp::parse_json_text`]) | 400 naming it (`alerts[2].startsAt`) |
//! | `start` or `end` is neither Unix seconds nor RFC 3339 as Go's `time.Parse(time.RFC3339Nano, …)` reads it | 400 naming the parameter |
//! | URL over [`MAX_URL_BYTES`] | 414 |
//! | more than [`ServerOptions::max_episodes_per_request`] episodes, or a timeline listing more than [`ServerOptions::max_timeline_fingerprints`] | 422 |
//! | all heavy-read slots busy for the whole [`ServerOptions::request_timeout`], or the read took longer | 503 with `Retry-After` |

pub mod auth;
pub mod background;
pub mod clock;
pub mod fd_limit;
mod group_commit;
pub mod metrics;
pub mod page;
pub mod params;
pub mod parse_errors;
pub mod serve;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use alert_core::{AlertStatus, MatchType, Matcher, Matchers, WebhookMessage};
use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::BodyExt;
use serde::Serialize;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::health_bar::{BarLimits, HealthBars, MAX_BARS};
use crate::store::check_representable;
use crate::{
    Episode, EpisodeQuery, Error, HeartbeatPolicy, HistoryStore, MAX_QUERY_LIMIT, Notification,
    Segment, Selectors, SilentEnd, TimeSpan, Unavailable, check_fingerprints, timeline_within,
    unavailable_periods,
};

pub use auth::Auth;
pub use background::{BackgroundOptions, record_alive, spawn_background};
pub use clock::now;
pub use metrics::Metrics;
use params::{RangeParams, parse_query_string};
pub use serve::{ServeOptions, serve};

/// The most episodes a timeline or an export reads, by default.
pub const MAX_EPISODES_PER_REQUEST: usize = 200_000;

/// The most episode fingerprints a timeline lists across its segments, by default.
pub const MAX_TIMELINE_FINGERPRINTS: usize = 1_000_000;

/// The largest webhook body [`ServerOptions::default`] accepts: 4 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The longest URL (path and query) answered; longer ones get 414.
pub const MAX_URL_BYTES: usize = 16 * 1024;

/// How the server behaves: credentials, the heartbeat, the limits of a request, and
/// where it counts.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Credentials the webhook and the API require (`None`: open).
    pub auth: Option<Auth>,
    /// Alerts that are the pipeline's heartbeat (Alertmanager's `Watchdog`): recorded as
    /// heartbeats when they fire, and left out of timelines.
    pub heartbeat: Matchers,
    /// How often the heartbeat is expected.
    pub policy: HeartbeatPolicy,
    /// The largest webhook body accepted, in bytes (larger bodies get 413).
    pub max_body_bytes: usize,
    /// How long a client may take to send a webhook body (then 408).
    pub body_timeout: Duration,
    /// The most episodes a timeline or an export reads (more: 422).
    pub max_episodes_per_request: usize,
    /// The most episode fingerprints a timeline lists across its segments (more: 422).
    pub max_timeline_fingerprints: usize,
    /// How long a timeline or an export may take, waiting for a slot included (then
    /// 503).
    pub request_timeout: Duration,
    /// How many timelines and exports run at once; more wait for a slot. The default
    /// ([`default_heavy_reads`]) leaves half the cores to ingest and health.
    pub heavy_reads: usize,
    /// The metrics the handlers count into and `/metrics` renders; share the [`Arc`] to
    /// update the store gauges, or report background writes, from outside.
    pub metrics: Arc<Metrics>,
    /// When an open episode that Alertmanager stopped repeating is taken to have ended
    /// (applied to every answer: episodes, timelines, exports); `None`: never.
    pub silent_end: Option<SilentEnd>,
}

/// Half the cores this process may use, at least one.
pub fn default_heavy_reads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl Default for ServerOptions {
    /// No auth, `alertname="Watchdog"` as the heartbeat with Alertmanager's default
    /// intervals, [`DEFAULT_MAX_BODY_BYTES`] sent within 20 s, [`MAX_EPISODES_PER_REQUEST`]
    /// and [`MAX_TIMELINE_FINGERPRINTS`] within 30 s, [`default_heavy_reads`], fresh
    /// metrics, silent episodes ended after Alertmanager's default repeat interval
    /// ([`SilentEnd::default`]).
    fn default() -> Self {
        let heartbeat = Matcher::new(MatchType::Equal, "alertname", "Watchdog")
            .map(|m| Matchers::new(vec![m]))
            .unwrap_or_default();
        ServerOptions {
            auth: None,
            heartbeat,
            policy: HeartbeatPolicy::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_timeout: Duration::from_secs(20),
            max_episodes_per_request: MAX_EPISODES_PER_REQUEST,
            max_timeline_fingerprints: MAX_TIMELINE_FINGERPRINTS,
            request_timeout: Duration::from_secs(30),
            heavy_reads: default_heavy_reads(),
            metrics: Arc::new(Metrics::default()),
            silent_end: Some(SilentEnd::default()),
        }
    }
}

/// Everything the handlers share.
struct AppState {
    store: Arc<dyn HistoryStore>,
    options: ServerOptions,
    /// One permit per heavy read that may run.
    heavy: Arc<Semaphore>,
    /// The webhook's writes, committed together when they arrive together.
    writer: group_commit::GroupCommit,
}

/// The routes of the server (see the [module docs](self)) over `store`.
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use alert_history::server::{ServerOptions, router};
/// use alert_history::sqlite::SqliteStore;
/// use axum::body::{Body, to_bytes};
/// use axum::http::Request;
/// use tower::ServiceExt;
///
/// let dir = tempfile::tempdir()?;
/// let store = Arc::new(SqliteStore::open(dir.path().join("history.db"))?);
/// let app = router(store, ServerOptions::default());
/// let message = r#"{"receiver":"history","status":"firing","alerts":[
///   {"status":"firing","labels":{"alertname":"DiskFull"},"annotations":{},
///    "startsAt":"2024-05-01T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":""}],
///   "version":"4"}"#;
/// tokio::runtime::Runtime::new()?.block_on(async {
///     let post = Request::post("/webhook")
///         .header("content-type", "application/json")
///         .body(Body::from(message))?;
///     let stored = app.clone().oneshot(post).await?;
///     assert_eq!(stored.status(), 200);
///     let get = Request::get("/api/v1/episodes?start=2024-05-01T09:00:00Z&end=2024-05-01T11:00:00Z&match[]=alertname%3D%22DiskFull%22")
///         .body(Body::empty())?;
///     let found = app.oneshot(get).await?;
///     let body = to_bytes(found.into_body(), 1 << 20).await?;
///     let answer: serde_json::Value = serde_json::from_slice(&body)?;
///     assert_eq!(answer["status"], "success");
///     assert_eq!(answer["data"]["episodes"].as_array().map(Vec::len), Some(1));
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })
/// # }
/// # #[cfg(not(feature = "sqlite"))]
/// # fn main() {}
/// ```
pub fn router(store: Arc<dyn HistoryStore>, options: ServerOptions) -> Router {
    let heavy = Arc::new(Semaphore::new(options.heavy_reads.max(1)));
    let writer = group_commit::GroupCommit::start(Arc::clone(&store), Arc::clone(&options.metrics));
    let state = Arc::new(AppState {
        store,
        options,
        heavy,
        writer,
    });
    Router::new()
        .route("/", get(page_handler))
        .route("/webhook", post(webhook))
        .route("/api/v1/episodes", get(episodes))
        .route("/api/v1/timeline", get(timeline_handler))
        .route("/api/v1/export", get(export))
        .route("/metrics", get(metrics))
        .route("/-/healthy", get(|| async { "OK\n" }))
        .route("/-/ready", get(ready))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "bad_data",
                "method not allowed on this endpoint",
            )
        })
        .layer(axum::middleware::from_fn(refuse_long_urls))
        .with_state(state)
}

/// A successful JSON answer in the envelope of Prometheus' and Loki's APIs:
/// `{"status": "success", "data": data}`.
fn success(data: impl Serialize) -> Response {
    #[derive(Serialize)]
    struct Envelope<T> {
        status: &'static str,
        data: T,
    }
    axum::Json(Envelope {
        status: "success",
        data,
    })
    .into_response()
}

/// A JSON error in the shape of Prometheus' API: `{"status": "error", "errorType", "error"}`.
fn error(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    let body = json!({"status": "error", "errorType": kind, "error": message.into()});
    (status, axum::Json(body)).into_response()
}

/// How a handler words an error: [`json_error`] for the API, an HTML page for `/`.
trait Reply: Fn(StatusCode, &str, String) -> Response + Send + Sync + 'static {}
impl<F: Fn(StatusCode, &str, String) -> Response + Send + Sync + 'static> Reply for F {}

/// [`error`] as a [`Reply`].
fn json_error(status: StatusCode, kind: &str, message: String) -> Response {
    error(status, kind, message)
}

/// [`error`], and the connection is closed after it (the body was not read).
fn error_and_close(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    let mut r = error(status, kind, message);
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// 503 that tells the client when to come back.
fn unavailable_retry(
    reply: &impl Reply,
    kind: &str,
    message: impl Into<String>,
    after: Duration,
) -> Response {
    let mut r = reply(StatusCode::SERVICE_UNAVAILABLE, kind, message.into());
    if let Ok(v) = HeaderValue::from_str(&after.as_secs().max(1).to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn bad_param(e: Error) -> Response {
    error(StatusCode::BAD_REQUEST, "bad_data", e.to_string())
}

fn unauthorized() -> Response {
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing or wrong credentials",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer, Basic realm=\"alert-history\""),
    );
    r
}

/// 414 for a URL over [`MAX_URL_BYTES`], before any handler runs.
async fn refuse_long_urls(request: Request, next: Next) -> Response {
    let len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if len > MAX_URL_BYTES {
        return error(
            StatusCode::URI_TOO_LONG,
            "bad_data",
            format!(
                "the URL is {len} bytes, more than the {MAX_URL_BYTES} allowed: use fewer or shorter match[] parameters"
            ),
        );
    }
    next.run(request).await
}

/// A store call that failed.
enum StoreFailure {
    /// The store said no.
    Store(Error),
    /// The blocking task panicked or was cancelled.
    Task(String),
}

impl StoreFailure {
    /// Whether the request was at fault (a bad cursor, limit or range) rather than the
    /// store.
    fn is_bad_request(&self) -> bool {
        matches!(
            self,
            StoreFailure::Store(
                Error::InvalidCursor { .. }
                    | Error::InvalidLimit { .. }
                    | Error::EmptyRange { .. }
                    | Error::TimestampOutOfRange { .. }
            )
        )
    }

    fn message(&self) -> String {
        match self {
            StoreFailure::Store(e) => e.to_string(),
            StoreFailure::Task(e) => format!("store task failed: {e}"),
        }
    }

    fn response(&self) -> Response {
        self.reply(&json_error)
    }

    fn reply(&self, reply: &impl Reply) -> Response {
        match self {
            _ if self.is_bad_request() => {
                reply(StatusCode::BAD_REQUEST, "bad_data", self.message())
            }
            StoreFailure::Store(_) => reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                self.message(),
            ),
            StoreFailure::Task(_) => reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                self.message(),
            ),
        }
    }
}

/// Counts and logs a failed store operation.
fn store_failed(state: &AppState, op: &'static str, failure: &StoreFailure) {
    state.options.metrics.store_error(op);
    tracing::error!(operation = op, error = %failure.message(), "store failed");
}

/// Runs a store call on a blocking thread, timing it and counting failures.
async fn store_call<T: Send + 'static>(
    state: &Arc<AppState>,
    op: &'static str,
    f: impl FnOnce(&dyn HistoryStore) -> crate::Result<T> + Send + 'static,
) -> Result<T, StoreFailure> {
    let store = Arc::clone(&state.store);
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || f(store.as_ref())).await;
    state
        .options
        .metrics
        .observe_store(op, started.elapsed().as_secs_f64());
    let failure = match result {
        Ok(Ok(v)) => return Ok(v),
        Ok(Err(e)) => StoreFailure::Store(e),
        Err(join) => StoreFailure::Task(join.to_string()),
    };
    store_failed(state, op, &failure);
    Err(failure)
}

/// [`store_call`], failures answered.
async fn with_store<T: Send + 'static>(
    state: &Arc<AppState>,
    op: &'static str,
    f: impl FnOnce(&dyn HistoryStore) -> crate::Result<T> + Send + 'static,
) -> Result<T, Response> {
    store_call(state, op, f).await.map_err(|f| f.response())
}

async fn webhook(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let response = webhook_inner(&state, &headers, body).await;
    state
        .options
        .metrics
        .webhook_request(response.status().as_u16());
    response
}

/// Whether `headers` declare a JSON body: `application/json`, parameters (a charset)
/// allowed, in any case.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// The webhook body, read within the body timeout and the size limit.
async fn read_body(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Vec<u8>, Response> {
    let limit = state.options.max_body_bytes;
    let too_large = |what: String| {
        error_and_close(
            StatusCode::PAYLOAD_TOO_LARGE,
            "bad_data",
            format!("{what} (the limit is {limit} bytes)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = declared
        && n > limit as u64
    {
        return Err(too_large(format!("the declared body is {n} bytes")));
    }
    let read = async {
        let mut body = body;
        let mut out = Vec::with_capacity(declared.map_or(8192, |n| n as usize));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                error_and_close(
                    StatusCode::BAD_REQUEST,
                    "bad_data",
                    format!("cannot read the body: {e}"),
                )
            })?;
            if let Ok(data) = frame.into_data() {
                if out.len() + data.len() > limit {
                    return Err(too_large("the body is larger".into()));
                }
                out.extend_from_slice(&data);
            }
        }
        Ok(out)
    };
    let timeout = state.options.body_timeout;
    match tokio::time::timeout(timeout, read).await {
        Ok(read) => read,
        Err(_) => Err(error_and_close(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!("the body was not sent within {}s", timeout.as_secs_f64()),
        )),
    }
}

async fn webhook_inner(state: &Arc<AppState>, headers: &HeaderMap, body: Body) -> Response {
    if let Some(auth) = &state.options.auth
        && !auth.admits(headers)
    {
        return unauthorized();
    }
    if !is_json(headers) {
        let given = headers
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        return error_and_close(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad_data",
            format!(
                "Content-Type must be application/json (Alertmanager's webhook), got {}",
                given.map_or("none".to_owned(), |g| format!("{g:?}"))
            ),
        );
    }
    let body = match read_body(state, headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let message = match WebhookMessage::from_json(&body) {
        Ok(m) => m,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_data", e.to_string()),
    };
    let received_at = now();
    let notifications = Notification::from_message(&message, received_at);
    if let Err(e) =
        check_representable(&notifications).and_then(|()| check_fingerprints(&notifications))
    {
        return error(StatusCode::BAD_REQUEST, "bad_data", e.to_string());
    }
    let heartbeat = notifications.iter().any(|n| {
        n.alert.status == AlertStatus::Firing && state.options.heartbeat.matches(&n.alert.labels)
    });
    let count = notifications.len();
    let stored = state
        .writer
        .append(notifications, heartbeat.then_some(received_at))
        .await;
    let m = &state.options.metrics;
    if let Err(failure) = stored {
        if !failure.is_bad_request() {
            m.write_failed(&failure.message());
        }
        return failure.response();
    }
    m.write_succeeded();
    m.notifications_received
        .fetch_add(count as u64, Ordering::Relaxed);
    m.last_write_seconds
        .store(received_at.unix_seconds(), Ordering::Relaxed);
    if heartbeat {
        m.last_heartbeat_seconds
            .store(received_at.unix_seconds(), Ordering::Relaxed);
    }
    success(json!({ "stored": count }))
}

/// Auth check and parameters for the API endpoints.
fn api_params(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<String>,
) -> Result<RangeParams, Box<Response>> {
    if let Some(auth) = &state.options.auth
        && !auth.admits(headers)
    {
        return Err(Box::new(unauthorized()));
    }
    let pairs = parse_query_string(query.as_deref().unwrap_or(""));
    RangeParams::parse(&pairs, now()).map_err(|e| Box::new(bad_param(e)))
}

#[derive(Serialize)]
struct EpisodesBody {
    episodes: Vec<Episode>,
    next: Option<String>,
}

async fn episodes(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = match api_params(&state, &headers, q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let query = EpisodeQuery {
        range: p.range,
        selectors: p.selectors,
        limit: p.limit.unwrap_or(1000),
        cursor: p.cursor,
        details: true,
    };
    let range = query.range;
    let silent_end = state.options.silent_end.clone();
    let at = now();
    match with_store(&state, "query", move |s| s.query(&query)).await {
        Ok(mut page) => success(EpisodesBody {
            episodes: {
                end_silent(silent_end.as_ref(), &mut page.episodes, at);
                // An episode ended before the range is no longer in it.
                page.episodes.retain(|e| e.overlaps(&range));
                page.episodes
            },
            next: page.next.map(|c| c.to_string()),
        }),
        Err(r) => r,
    }
}

/// Why a heavy read stopped before its answer.
enum Stop {
    /// The store failed.
    Store(StoreFailure),
    /// More episodes than a request may read (this many read so far).
    TooMany(usize),
    /// An answer larger than allowed.
    TooLarge(Error),
    /// The request's time ran out (or its client went away).
    OutOfTime,
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Store(StoreFailure::Store(e))
    }
}

/// What a heavy read may still spend: checked between units of work (a page of
/// episodes, the timeline), so a read past its time stops at the next check.
struct Budget {
    deadline: Instant,
    cancelled: Arc<AtomicBool>,
    max_episodes: usize,
}

impl Budget {
    fn check(&self) -> Result<(), Stop> {
        if self.cancelled.load(Ordering::Relaxed) || Instant::now() >= self.deadline {
            Err(Stop::OutOfTime)
        } else {
            Ok(())
        }
    }
}

/// Tells the blocking work to stop when the request is answered or dropped first.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs a heavy read on the blocking pool: in one of the [`ServerOptions::heavy_reads`]
/// slots, within [`ServerOptions::request_timeout`] (waiting for the slot included).
/// `f` builds the whole response there, JSON included.
async fn heavy_read(
    state: &Arc<AppState>,
    op: &'static str,
    f: impl FnOnce(&dyn HistoryStore, &Budget) -> Result<Response, Stop> + Send + 'static,
) -> Response {
    heavy_read_replying(state, op, json_error, f).await
}

/// [`heavy_read`], its errors worded by `reply`.
async fn heavy_read_replying(
    state: &Arc<AppState>,
    op: &'static str,
    reply: impl Reply,
    f: impl FnOnce(&dyn HistoryStore, &Budget) -> Result<Response, Stop> + Send + 'static,
) -> Response {
    let timeout = state.options.request_timeout;
    let started = Instant::now();
    let deadline = started + timeout;
    let slot =
        tokio::time::timeout_at(deadline.into(), Arc::clone(&state.heavy).acquire_owned()).await;
    let Ok(Ok(permit)) = slot else {
        return unavailable_retry(
            &reply,
            "busy",
            format!(
                "{} timeline, export and page reads ran for the whole {}s this request may take: try again later",
                state.options.heavy_reads.max(1),
                timeout.as_secs_f64()
            ),
            timeout,
        );
    };
    let cancelled = Arc::new(AtomicBool::new(false));
    let _cancel = CancelOnDrop(Arc::clone(&cancelled));
    let budget = Budget {
        deadline,
        cancelled,
        max_episodes: state.options.max_episodes_per_request,
    };
    let store = Arc::clone(&state.store);
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f(store.as_ref(), &budget)
    });
    let outcome = tokio::time::timeout_at(deadline.into(), task).await;
    state
        .options
        .metrics
        .observe_store(op, started.elapsed().as_secs_f64());
    let stop = match outcome {
        Ok(Ok(Ok(response))) => return response,
        Ok(Ok(Err(stop))) => stop,
        Ok(Err(join)) => Stop::Store(StoreFailure::Task(join.to_string())),
        Err(_) => Stop::OutOfTime,
    };
    match stop {
        Stop::Store(failure) => {
            store_failed(state, op, &failure);
            failure.reply(&reply)
        }
        Stop::TooMany(n) => reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many",
            format!(
                "more than {} episodes ({n} read): narrow the range or the matchers",
                state.options.max_episodes_per_request
            ),
        ),
        Stop::TooLarge(e) => reply(StatusCode::UNPROCESSABLE_ENTITY, "too_many", e.to_string()),
        Stop::OutOfTime => unavailable_retry(
            &reply,
            "timeout",
            format!(
                "the read took longer than the {}s a request may take: narrow the range or the matchers",
                timeout.as_secs_f64()
            ),
            timeout,
        ),
    }
}

/// Ends the silent episodes by `policy` at `now` (nothing when `None`).
fn end_silent(policy: Option<&SilentEnd>, episodes: &mut [Episode], now: alert_core::Timestamp) {
    if let Some(policy) = policy {
        policy.apply(episodes, now);
    }
}

/// Every episode overlapping `range` that `selectors` select, within the budget.
fn all_episodes(
    store: &dyn HistoryStore,
    range: TimeSpan,
    selectors: Selectors,
    details: bool,
    budget: &Budget,
) -> Result<Vec<Episode>, Stop> {
    let mut query = EpisodeQuery::new(range);
    query.selectors = selectors;
    query.details = details;
    query.limit = MAX_QUERY_LIMIT.min(budget.max_episodes.saturating_add(1));
    let mut out = Vec::new();
    loop {
        budget.check()?;
        let page = store.query(&query)?;
        out.extend(page.episodes);
        if out.len() > budget.max_episodes {
            return Err(Stop::TooMany(out.len()));
        }
        match page.next {
            Some(c) => query.cursor = Some(c),
            None => return Ok(out),
        }
    }
}

#[derive(Serialize)]
struct TimelineBody {
    segments: Vec<Segment>,
    unavailable: Vec<Unavailable>,
}

async fn timeline_handler(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = match api_params(&state, &headers, q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let (range, selectors) = (p.range, p.selectors);
    let heartbeat = state.options.heartbeat.clone();
    let policy = state.options.policy;
    let max_listed = state.options.max_timeline_fingerprints;
    let max_gap = policy.max_gap().unwrap_or(alert_core::Duration::ZERO);
    let at = now();
    let silent_end = state.options.silent_end.clone();
    heavy_read(&state, "timeline", move |s, budget| {
        let mut episodes = all_episodes(s, range, selectors, false, budget)?;
        end_silent(silent_end.as_ref(), &mut episodes, at);
        budget.check()?;
        let log = s.heartbeats(range, max_gap)?;
        // The heartbeat is the pipeline's, not the entity's.
        episodes.retain(|e| !heartbeat.matches(&e.labels));
        let unavailable = unavailable_periods(&log, &policy, range, at);
        let segments =
            timeline_within(range, &episodes, &unavailable, max_listed).map_err(Stop::TooLarge)?;
        budget.check()?;
        Ok(success(TimelineBody {
            segments,
            unavailable,
        }))
    })
    .await
}

async fn export(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = match api_params(&state, &headers, q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let (range, selectors) = (p.range, p.selectors);
    let silent_end = state.options.silent_end.clone();
    let at = now();
    heavy_read(&state, "export", move |s, budget| {
        let mut episodes = all_episodes(s, range, selectors, true, budget)?;
        end_silent(silent_end.as_ref(), &mut episodes, at);
        episodes.retain(|e| e.overlaps(&range));
        let mut body = Vec::with_capacity(episodes.len() * 256);
        for e in &episodes {
            // Episodes always serialise: string keys, strings and numbers.
            if serde_json::to_writer(&mut body, e).is_ok() {
                body.push(b'\n');
            }
        }
        budget.check()?;
        Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-ndjson")],
            body,
        )
            .into_response())
    })
    .await
}

/// The Content Security Policy of the page: inline styles, no script, forms to itself.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// An HTML answer of the page.
fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The page's error: what was wrong, and the form filled with `query` to fix it.
fn html_error(status: StatusCode, query: &page::PageQuery, message: &str) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    html(
        status,
        page::render_error(status.as_u16(), reason, query, message),
    )
}

/// `GET /`: the health bar page ([`page`]), its reads bounded as the timeline's are.
async fn page_handler(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Some(auth) = &state.options.auth
        && !auth.admits(&headers)
    {
        let mut r = html_error(
            StatusCode::UNAUTHORIZED,
            &page::PageQuery::default(),
            "this server requires credentials (the same as its API's)",
        );
        let challenge = match auth {
            Auth::Basic { .. } => "Basic realm=\"alert-history\"",
            Auth::Bearer(_) => "Bearer realm=\"alert-history\"",
        };
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
        return r;
    }
    let query = page::PageQuery::from_pairs(&parse_query_string(q.as_deref().unwrap_or("")));
    let at = now();
    let params = match query.parse(at) {
        Ok(p) => p,
        Err(e) => return html_error(StatusCode::BAD_REQUEST, &query, &e.to_string()),
    };
    let heartbeat = state.options.heartbeat.clone();
    let policy = state.options.policy;
    let max_gap = policy.max_gap().unwrap_or(alert_core::Duration::ZERO);
    let silent_end = state.options.silent_end.clone();
    let limits = BarLimits {
        max_bars: MAX_BARS,
        max_listed: state.options.max_timeline_fingerprints,
    };
    let reply_query = query.clone();
    let reply = move |status: StatusCode, _kind: &str, message: String| {
        html_error(status, &reply_query, &message)
    };
    heavy_read_replying(&state, "page", reply, move |s, budget| {
        let range = params.range;
        let mut episodes = all_episodes(s, range, params.selectors.clone(), true, budget)?;
        end_silent(silent_end.as_ref(), &mut episodes, at);
        // The heartbeat is the pipeline's, not an entity's.
        episodes.retain(|e| !heartbeat.matches(&e.labels));
        budget.check()?;
        let log = s.heartbeats(range, max_gap)?;
        let unavailable = unavailable_periods(&log, &policy, range, at);
        let bars = HealthBars::build(range, episodes, unavailable, params.by.as_deref(), limits)
            .map_err(Stop::TooLarge)?;
        let Some(drawn) = page::drawn_bars(&bars) else {
            return Ok(html_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &query,
                &format!(
                    "the bars would draw more than {} segments: narrow the period or the matchers, or group by another label",
                    page::MAX_SEGMENTS
                ),
            ));
        };
        budget.check()?;
        Ok(html(
            StatusCode::OK,
            page::render(&query, &params, &bars, &drawn, at),
        ))
    })
    .await
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.options.metrics.render(),
    )
        .into_response()
}

/// Ready when the newest write succeeded (a webhook append, or a write reported with
/// [`Metrics::write_failed`] and [`Metrics::write_succeeded`] such as the binary's
/// liveness record) and the store answers a read.
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if let Some(e) = state.options.metrics.write_failure() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("the newest store write failed: {e}"),
        );
    }
    let at = now();
    let probe = with_store(&state, "ready", move |s| {
        let start = at
            .checked_sub(alert_core::Duration::from_secs(1).unwrap_or_default())
            .unwrap_or(at);
        let range = TimeSpan::new(start, at)?;
        s.heartbeats(range, alert_core::Duration::ZERO).map(drop)
    })
    .await;
    match probe {
        Ok(()) => (StatusCode::OK, "OK\n").into_response(),
        Err(r) => r,
    }
}
