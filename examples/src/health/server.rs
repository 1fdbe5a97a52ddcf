//! The HTTP server of `alert-health serve`.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the HTML status page |
//! | `GET /api/v1/status[?only_failing=true]` | the JSON tree (or the explanation trees) |
//! | `GET /api/v1/explain/{node}` | the node's explanation: tree and paths |
//! | `GET /api/v2/summary.json` | Atlassian Statuspage `summary.json` |
//! | `GET /metrics` | Prometheus metrics ([`super::metrics`]) |
//! | `GET /-/healthy` | `ok` |
//!
//! Everything is rendered from the evaluator's latest published snapshot; no request
//! reads a sensor. Before the first pass the data routes answer 503. Errors are JSON
//! (`{"error": "..."}`) with a 4xx/5xx status.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use alert_core::Duration;
use alert_health_graph::visualiser::Visualiser;
use alert_health_graph::visualiser::html::HtmlStatusPage;
use alert_health_graph::visualiser::json::Json;
use alert_health_graph::visualiser::statuspage::{PageInfo, Statuspage};
use alert_health_graph::{
    Clock, GraphEvaluator, Published, SqliteHistoryStore, StateHistory, StateHistoryStore,
    SystemClock,
};
use axum::Router;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::watch;

use super::cli::{AlertmanagerArgs, HistoryDb, evaluator, load, or_bad_graph};

/// What every handler sees.
#[derive(Clone)]
pub struct AppState {
    latest: watch::Receiver<Option<Arc<Published>>>,
    page: Arc<PageInfo>,
}

fn error(status: StatusCode, text: impl Into<String>) -> Response {
    (
        status,
        axum::Json(serde_json::json!({"error": text.into()})),
    )
        .into_response()
}

fn latest(state: &AppState) -> Option<Arc<Published>> {
    state.latest.borrow().clone()
}

fn not_ready() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "no evaluation has finished yet",
    )
}

fn typed(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn status_page(State(state): State<AppState>) -> Response {
    match latest(&state) {
        Some(p) => typed(
            "text/html; charset=utf-8",
            HtmlStatusPage {
                page: &state.page,
                history: &p.history,
                now: Some(SystemClock.now()),
                live: true,
            }
            .render(&p.snapshot),
        ),
        None => not_ready(),
    }
}

async fn status(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let mut only_failing = false;
    for pair in query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, "true"));
        match (key, value) {
            ("only_failing", "true" | "1") => only_failing = true,
            ("only_failing", "false" | "0") => only_failing = false,
            ("only_failing", other) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("only_failing: expected true or false, got {other:?}"),
                );
            }
            (other, _) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown query parameter {other:?} (expected only_failing)"),
                );
            }
        }
    }
    match latest(&state) {
        Some(p) => axum::Json(Json { only_failing }.to_value(&p.snapshot)).into_response(),
        None => not_ready(),
    }
}

async fn explain(State(state): State<AppState>, UrlPath(node): UrlPath<String>) -> Response {
    let Some(p) = latest(&state) else {
        return not_ready();
    };
    match p.snapshot.graph().find(&node) {
        Ok(id) => {
            let e = p.snapshot.explain(id);
            let paths: Vec<String> = e.paths().iter().map(ToString::to_string).collect();
            axum::Json(serde_json::json!({
                "node": node,
                "state": e.root.state,
                "tree": e.root,
                "paths": paths,
                "truncated": e.truncated,
            }))
            .into_response()
        }
        Err(e) => error(StatusCode::NOT_FOUND, e.to_string()),
    }
}

async fn summary(State(state): State<AppState>) -> Response {
    match latest(&state) {
        Some(p) => axum::Json(
            Statuspage {
                page: &state.page,
                history: &p.history,
            }
            .to_value(&p.snapshot),
        )
        .into_response(),
        None => not_ready(),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    match latest(&state) {
        Some(p) => typed(
            "text/plain; version=0.0.4; charset=utf-8",
            super::metrics::render(&p.snapshot, p.pass),
        ),
        None => not_ready(),
    }
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such route")
}

async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed (only GET)",
    )
}

/// The routes, serving what `latest` publishes.
pub fn router(latest: watch::Receiver<Option<Arc<Published>>>, page: PageInfo) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/api/v1/status", get(status))
        .route("/api/v1/explain/{node}", get(explain))
        .route("/api/v2/summary.json", get(summary))
        .route("/metrics", get(metrics))
        .route("/-/healthy", get(|| async { "ok" }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(AppState {
            latest,
            page: Arc::new(page),
        })
}

/// Opens the history file (creating its directory), rebuilds the state history from
/// it, and has `evaluator` start from that history and write through the file; on the
/// blocking pool.
pub async fn with_history_file(
    evaluator: GraphEvaluator,
    path: &Path,
    now: alert_core::Timestamp,
) -> alert_health_graph::Result<GraphEvaluator> {
    let path = path.to_path_buf();
    let retention = StateHistory::default().retention();
    let opened = tokio::task::spawn_blocking(move || {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                alert_health_graph::Error::StateHistoryStore {
                    path: path.display().to_string(),
                    context: format!("create directory {}", dir.display()),
                    reason: e.to_string(),
                }
            })?;
        }
        let store = SqliteHistoryStore::open(&path)?;
        let history = StateHistory::from_store(&store, retention, now)?;
        Ok::<_, alert_health_graph::Error>((store, history))
    })
    .await
    .map_err(|e| alert_health_graph::Error::StateHistoryStore {
        path: String::new(),
        context: "open".to_owned(),
        reason: e.to_string(),
    })?;
    let (store, history) = opened?;
    tracing::info!(
        path = %store.path().display(),
        transitions = history.to_transitions().len(),
        since = ?history.first_sample().map(|t| t.to_string()),
        "state history loaded"
    );
    let store: Arc<dyn StateHistoryStore> = Arc::new(store);
    Ok(evaluator.with_history(history).with_store(store))
}

/// `alert-health serve`: exits 2 on a bad graph, 1 when the address cannot be bound or
/// the history file cannot be opened, 0 after Ctrl-C.
pub async fn serve_command(
    graph: &Path,
    listen: SocketAddr,
    interval: Option<Duration>,
    history: &HistoryDb,
    alertmanager: &AlertmanagerArgs,
    kubeconfig: Option<&Path>,
) -> ExitCode {
    let loaded = match or_bad_graph(load(graph, kubeconfig).await) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let mut evaluator = match or_bad_graph(evaluator(&loaded, interval, alertmanager)) {
        Ok(e) => e,
        Err(code) => return code,
    };
    if let HistoryDb::File(path) = history {
        let now = loaded.engine.clock().now();
        evaluator = match with_history_file(evaluator, path, now).await {
            Ok(e) => e,
            Err(e) => {
                eprintln!(
                    "alert-health: {e} (choose another file with --history.db PATH, or \
                     --history.db none to keep the history in memory)"
                );
                return ExitCode::FAILURE;
            }
        };
    }
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("alert-health: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut page = loaded.page.clone();
    if let (None, Some(interval)) = (loaded.file.page.refresh, interval) {
        // `--interval` overrides the file's evaluation interval, and so the page's refresh.
        page.refresh = interval.to_std().max(std::time::Duration::from_secs(1));
    }
    let app = router(evaluator.subscribe(), page);
    let (stop, stopped) = watch::channel(false);
    let mut stopped_eval = stopped.clone();
    let evaluation = tokio::spawn(evaluator.run(async move {
        let _ = stopped_eval.wait_for(|s| *s).await;
    }));
    tracing::info!(%listen, "alert-health serving");
    let mut stopped_http = stopped;
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = stopped_http.wait_for(|s| *s) => {}
            }
        })
        .await;
    let _ = stop.send(true);
    let _ = evaluation.await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("alert-health: server failed: {e}");
            ExitCode::FAILURE
        }
    }
}
