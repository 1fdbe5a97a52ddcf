//! The HTTP side of alert history: Alertmanager's webhook receiver and the history API,
//! as an [`axum::Router`] over any [`HistoryStore`] (feature `server`).
//!
//! An embedding gateway builds the routes with [`router`] and serves or nests them;
//! the `alert-history-server` binary of `alert-examples` is such a process (flags, the
//! store, background tasks for liveness, retention and store counts).
//!
//! | route | what |
//! |---|---|
//! | `POST /webhook` | Alertmanager's webhook message; 200 only once stored durably, 4xx with a JSON error (nothing stored) for a bad body, 5xx when the store fails (Alertmanager retries) |
//! | `GET /api/v1/episodes?start=&end=&match[]=&limit=&cursor=` | `{"episodes": [...], "next": cursor}` |
//! | `GET /api/v1/timeline?start=&end=&match[]=` | `{"segments": [{"start", "end", "state", "episodes"}]}` |
//! | `GET /api/v1/export?start=&end=&match[]=` | JSON lines, one episode a line |
//! | `GET /metrics` | Prometheus text |
//! | `GET /-/healthy`, `GET /-/ready` | liveness; readiness (the store answers) |
//!
//! The webhook and the API take an optional bearer token or basic auth
//! ([`ServerOptions::auth`]); `/metrics` and the health endpoints are open. Errors are
//! JSON in the shape of Prometheus' API (`{"status": "error", "errorType", "error"}`).
//! Store calls run on tokio's blocking pool, so the router needs a multi-threaded
//! tokio runtime.

pub mod auth;
pub mod clock;
pub mod metrics;
pub mod params;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use alert_core::{AlertStatus, MatchType, Matcher, Matchers, WebhookMessage};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::json;

use crate::store::check_representable;
use crate::{
    Episode, EpisodeQuery, Error, Heartbeat, HeartbeatPolicy, HistoryStore, MAX_QUERY_LIMIT,
    Notification, Segment, TimeRange, Unavailable, timeline, unavailable_periods,
};

pub use auth::Auth;
pub use clock::now;
pub use metrics::Metrics;
use params::{RangeParams, parse_query_string};

/// The most episodes a timeline or an export reads.
pub const MAX_EPISODES_PER_REQUEST: usize = 200_000;

/// The largest webhook body [`ServerOptions::default`] accepts: 4 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How the server behaves: credentials, the heartbeat, the body limit, and where it
/// counts.
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
    /// The metrics the handlers count into and `/metrics` renders; share the [`Arc`] to
    /// update the store gauges from outside.
    pub metrics: Arc<Metrics>,
}

impl Default for ServerOptions {
    /// No auth, `alertname="Watchdog"` as the heartbeat with Alertmanager's default
    /// intervals, [`DEFAULT_MAX_BODY_BYTES`], fresh metrics.
    fn default() -> Self {
        let heartbeat = Matcher::new(MatchType::Equal, "alertname", "Watchdog")
            .map(|m| Matchers::new(vec![m]))
            .unwrap_or_default();
        ServerOptions {
            auth: None,
            heartbeat,
            policy: HeartbeatPolicy::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            metrics: Arc::new(Metrics::default()),
        }
    }
}

/// Everything the handlers share.
struct AppState {
    store: Arc<dyn HistoryStore>,
    metrics: Arc<Metrics>,
    auth: Option<Auth>,
    heartbeat: Matchers,
    policy: HeartbeatPolicy,
    max_body_bytes: usize,
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
///     let post = Request::post("/webhook").body(Body::from(message))?;
///     let stored = app.clone().oneshot(post).await?;
///     assert_eq!(stored.status(), 200);
///     let get = Request::get("/api/v1/episodes?start=2024-05-01T09:00:00Z&end=2024-05-01T11:00:00Z&match[]=alertname%3D%22DiskFull%22")
///         .body(Body::empty())?;
///     let found = app.oneshot(get).await?;
///     let body = to_bytes(found.into_body(), 1 << 20).await?;
///     let page: serde_json::Value = serde_json::from_slice(&body)?;
///     assert_eq!(page["episodes"].as_array().map(Vec::len), Some(1));
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })
/// # }
/// # #[cfg(not(feature = "sqlite"))]
/// # fn main() {}
/// ```
pub fn router(store: Arc<dyn HistoryStore>, options: ServerOptions) -> Router {
    let state = Arc::new(AppState {
        store,
        metrics: options.metrics,
        auth: options.auth,
        heartbeat: options.heartbeat,
        policy: options.policy,
        max_body_bytes: options.max_body_bytes,
    });
    let limit = state.max_body_bytes;
    Router::new()
        .route(
            "/webhook",
            post(webhook).layer(DefaultBodyLimit::max(limit)),
        )
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
        .with_state(state)
}

/// A JSON error in the shape of Prometheus' API: `{"status": "error", "errorType", "error"}`.
fn error(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    let body = json!({"status": "error", "errorType": kind, "error": message.into()});
    (status, axum::Json(body)).into_response()
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

/// Runs a store call on a blocking thread, timing it and counting failures.
async fn with_store<T: Send + 'static>(
    state: &Arc<AppState>,
    op: &'static str,
    f: impl FnOnce(&dyn HistoryStore) -> crate::Result<T> + Send + 'static,
) -> Result<T, Response> {
    let store = Arc::clone(&state.store);
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || f(store.as_ref())).await;
    state
        .metrics
        .observe_store(op, started.elapsed().as_secs_f64());
    match result {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            state.metrics.store_error(op);
            tracing::error!(operation = op, error = %e, "store failed");
            let status = match e {
                Error::InvalidCursor { .. }
                | Error::InvalidLimit { .. }
                | Error::EmptyRange { .. }
                | Error::TimestampOutOfRange { .. } => StatusCode::BAD_REQUEST,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            let kind = if status == StatusCode::BAD_REQUEST {
                "bad_data"
            } else {
                "unavailable"
            };
            Err(error(status, kind, e.to_string()))
        }
        Err(join) => {
            state.metrics.store_error(op);
            Err(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("store task failed: {join}"),
            ))
        }
    }
}

async fn webhook(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let response = webhook_inner(&state, &headers, body).await;
    state.metrics.webhook_request(response.status().as_u16());
    response
}

async fn webhook_inner(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(auth) = &state.auth
        && !auth.admits(headers)
    {
        return unauthorized();
    }
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let status = rejection.status();
            return error(
                status,
                "bad_data",
                format!(
                    "{} (the limit is {} bytes)",
                    rejection.body_text(),
                    state.max_body_bytes
                ),
            );
        }
    };
    let message = match WebhookMessage::from_json(&body) {
        Ok(m) => m,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_data", e.to_string()),
    };
    let received_at = now();
    let notifications = Notification::from_message(&message, received_at);
    if let Err(e) = check_representable(&notifications) {
        return error(StatusCode::BAD_REQUEST, "bad_data", e.to_string());
    }
    let heartbeat = notifications
        .iter()
        .any(|n| n.alert.status == AlertStatus::Firing && state.heartbeat.matches(&n.alert.labels));
    let count = notifications.len();
    let stored = with_store(state, "append", move |s| {
        s.append(&notifications)?;
        if heartbeat {
            s.record_heartbeat(&Heartbeat::Watchdog { at: received_at })?;
        }
        Ok(())
    })
    .await;
    if let Err(r) = stored {
        return r;
    }
    let m = &state.metrics;
    m.notifications_received
        .fetch_add(count as u64, Ordering::Relaxed);
    m.last_write_seconds
        .store(received_at.unix_seconds(), Ordering::Relaxed);
    if heartbeat {
        m.last_heartbeat_seconds
            .store(received_at.unix_seconds(), Ordering::Relaxed);
    }
    (
        StatusCode::OK,
        axum::Json(json!({"status": "success", "stored": count})),
    )
        .into_response()
}

/// Auth check and parameters for the API endpoints.
fn api_params(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<String>,
) -> Result<RangeParams, Box<Response>> {
    if let Some(auth) = &state.auth
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
        matchers: p.matchers,
        limit: p.limit.unwrap_or(1000),
        cursor: p.cursor,
    };
    match with_store(&state, "query", move |s| s.query(&query)).await {
        Ok(page) => axum::Json(EpisodesBody {
            episodes: page.episodes,
            next: page.next.map(|c| c.to_string()),
        })
        .into_response(),
        Err(r) => r,
    }
}

/// Every episode overlapping `range` that matches `matchers`, up to the request cap.
fn all_episodes(
    store: &dyn HistoryStore,
    range: TimeRange,
    matchers: Matchers,
) -> crate::Result<Result<Vec<Episode>, usize>> {
    let mut query = EpisodeQuery::new(range);
    query.matchers = matchers;
    query.limit = MAX_QUERY_LIMIT;
    let mut out = Vec::new();
    loop {
        let page = store.query(&query)?;
        out.extend(page.episodes);
        if out.len() > MAX_EPISODES_PER_REQUEST {
            return Ok(Err(out.len()));
        }
        match page.next {
            Some(c) => query.cursor = Some(c),
            None => return Ok(Ok(out)),
        }
    }
}

fn too_many(n: usize) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_many",
        format!(
            "more than {MAX_EPISODES_PER_REQUEST} episodes ({n} read): narrow the range or the matchers"
        ),
    )
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
    let range = p.range;
    let matchers = p.matchers;
    let heartbeat = state.heartbeat.clone();
    let policy = state.policy;
    let max_gap = policy.max_gap().unwrap_or(alert_core::Duration::ZERO);
    let at = now();
    let result = with_store(&state, "timeline", move |s| {
        let episodes = match all_episodes(s, range, matchers)? {
            Ok(e) => e,
            Err(n) => return Ok(Err(n)),
        };
        let log = s.heartbeats(range, max_gap)?;
        Ok(Ok((episodes, log)))
    })
    .await;
    let (episodes, log) = match result {
        Ok(Ok(v)) => v,
        Ok(Err(n)) => return too_many(n),
        Err(r) => return r,
    };
    // The heartbeat is the pipeline's, not the entity's.
    let episodes: Vec<Episode> = episodes
        .into_iter()
        .filter(|e| !heartbeat.matches(&e.labels))
        .collect();
    let unavailable = unavailable_periods(&log, &policy, range, at);
    let segments = timeline(range, &episodes, &unavailable);
    axum::Json(TimelineBody {
        segments,
        unavailable,
    })
    .into_response()
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
    let (range, matchers) = (p.range, p.matchers);
    match with_store(&state, "export", move |s| all_episodes(s, range, matchers)).await {
        Ok(Ok(episodes)) => {
            let mut body = Vec::with_capacity(episodes.len() * 256);
            for e in &episodes {
                // Episodes always serialise: string keys, strings and numbers.
                if serde_json::to_writer(&mut body, e).is_ok() {
                    body.push(b'\n');
                }
            }
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/x-ndjson")],
                body,
            )
                .into_response()
        }
        Ok(Err(n)) => too_many(n),
        Err(r) => r,
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let at = now();
    let probe = with_store(&state, "ready", move |s| {
        let start = at
            .checked_sub(alert_core::Duration::from_secs(1).unwrap_or_default())
            .unwrap_or(at);
        let range = TimeRange::new(start, at)?;
        s.heartbeats(range, alert_core::Duration::ZERO).map(drop)
    })
    .await;
    match probe {
        Ok(()) => (StatusCode::OK, "OK\n").into_response(),
        Err(r) => r,
    }
}
