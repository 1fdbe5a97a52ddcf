//! The HTTP side of `alert-history-server`: the webhook receiver and the history API.
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
//! The webhook and the API take an optional bearer token or basic auth; `/metrics` and
//! the health endpoints are open.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use alert_core::{AlertStatus, Matchers, WebhookMessage};
use alert_history::store::check_representable;
use alert_history::{
    Episode, EpisodeQuery, Heartbeat, HeartbeatPolicy, HistoryStore, MAX_QUERY_LIMIT, Notification,
    Segment, TimeRange, Unavailable, timeline, unavailable_periods,
};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::json;

use super::auth::Auth;
use super::clock::now;
use super::metrics::Metrics;
use super::params::{ParamError, RangeParams, parse_query_string};

/// The most episodes a timeline or an export reads.
pub const MAX_EPISODES_PER_REQUEST: usize = 200_000;

/// Everything the handlers share.
pub struct AppState {
    /// The store.
    pub store: Arc<dyn HistoryStore>,
    /// This process' metrics.
    pub metrics: Arc<Metrics>,
    /// Required credentials, if any.
    pub auth: Option<Auth>,
    /// Alerts that are the pipeline's heartbeat.
    pub heartbeat: Matchers,
    /// How often the heartbeat is expected.
    pub policy: HeartbeatPolicy,
    /// The largest webhook body accepted.
    pub max_body_bytes: usize,
}

/// The router of the server.
pub fn router(state: Arc<AppState>) -> Router {
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

fn bad_param(e: ParamError) -> Response {
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
    f: impl FnOnce(&dyn HistoryStore) -> alert_history::Result<T> + Send + 'static,
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
                alert_history::Error::InvalidCursor { .. }
                | alert_history::Error::InvalidLimit { .. }
                | alert_history::Error::EmptyRange { .. }
                | alert_history::Error::TimestampOutOfRange { .. } => StatusCode::BAD_REQUEST,
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
) -> alert_history::Result<Result<Vec<Episode>, usize>> {
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
