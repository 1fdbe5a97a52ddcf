//! The data plane's HTTP API (served by `--target data-plane` and `all`).
//!
//! | route | what |
//! |---|---|
//! | `GET /api/v1/endpoints` | every endpoint, secrets shown as `<secret>` |
//! | `GET\|PUT\|DELETE /api/v1/endpoints/{id}` | one endpoint; `DELETE ?detach=true` also removes it from the conditions and SLOs that attach it (else 409 naming them) |
//! | `GET /api/v1/conditions?tenant=&severity=&kind=` | conditions, filtered |
//! | `GET\|PUT\|DELETE /api/v1/conditions/{id}` | one condition |
//! | `GET /api/v1/slos` , `GET\|PUT\|DELETE /api/v1/slos/{id}` | SLOs |
//! | `GET /api/v1/spec` | the whole state as a spec (YAML when `Accept` asks for it, else JSON) |
//! | `PUT /api/v1/spec?dry_run=true` | replaces the state atomically (YAML or JSON body); answers what was (or would be) created, updated, deleted |
//! | `GET /api/v1/status` | the store and its revision |
//! | `/api/v1/store/...` | the raw store, for gateways whose `--store` is this data plane: `GET kv/{collection}[/{id}]?revision=`, `POST txn`, `GET revision`, `GET watch?after=` (JSON lines), `POST compact`, `POST\|DELETE leases/{election}` |
//! | `GET /metrics` | Prometheus text |
//! | `GET /-/healthy`, `GET /-/ready` | liveness; readiness (the store answers) |
//!
//! Every object answer carries `ETag: "<revision>"`. `If-Match: "<revision>"` on PUT and
//! DELETE applies only at that revision (412 otherwise; `*`: only if it exists),
//! `If-None-Match: *` on PUT creates only (412 when it exists). Errors are JSON in
//! Prometheus' shape, `{"status": "error", "errorType": ..., "error": ...}`: 400 for
//! malformed bodies, parameters and headers, 401 without the bearer token, 404, 409 for
//! reference conflicts, 412, 413 over the body limit, 415 for a body type other than
//! JSON (or YAML for the spec), 422 for invalid objects naming the field path, 503 when
//! the store cannot answer. Secrets are never shown: reads say `<secret>`, and a PUT that
//! sends `<secret>` back keeps the stored value.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alert_core::{AlertCondition, AlertEndpoint, AlertingSpec, Slo};
use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::data_plane::{ConditionFilter, DataPlane, Document, Precondition};
use crate::error::Error;
use crate::metrics::Metrics;
use crate::store::{
    ConfigStore, Event, Key, Kind, LeaseState, Listing, Record, Revision, SharedStore, StoreError,
    Txn, Watch,
};

/// The largest request body [`ApiOptions::default`] accepts: 32 MiB (a spec of tens of
/// thousands of conditions).
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// How often an open watch stream sends a progress line when nothing changes.
pub const WATCH_PROGRESS_INTERVAL: Duration = Duration::from_secs(10);

/// How the API behaves.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// The bearer token every route but the health checks requires (`None`: open).
    pub token: Option<String>,
    /// The largest body accepted.
    pub max_body_bytes: usize,
    /// Where requests and store calls are counted.
    pub metrics: Arc<Metrics>,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            token: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            metrics: Arc::new(Metrics::default()),
        }
    }
}

struct AppState {
    plane: DataPlane,
    store: SharedStore,
    options: ApiOptions,
}

type Shared = Arc<AppState>;

/// The routes and what each does, for `--help`.
pub const ROUTES: &str = "\
\x20 GET    /api/v1/endpoints                     every endpoint (secrets shown as <secret>)
  GET    /api/v1/endpoints/{id}                one endpoint (ETag: its revision)
  PUT    /api/v1/endpoints/{id}                create or replace (If-Match, If-None-Match: *)
  DELETE /api/v1/endpoints/{id}[?detach=true]  delete (409 while conditions attach it, unless detach)
  GET    /api/v1/conditions[?tenant=&severity=&kind=]
  GET|PUT|DELETE /api/v1/conditions/{id}
  GET    /api/v1/slos
  GET|PUT|DELETE /api/v1/slos/{id}
  GET    /api/v1/spec                          the whole state as a spec (Accept: application/yaml for YAML)
  PUT    /api/v1/spec[?dry_run=true]           replace the whole state atomically (JSON or YAML)
  GET    /api/v1/status                        the store and its revision
  GET    /api/v1/store/kv/{collection}[/{id}][?revision=]   the raw store (for --store http://...)
  POST   /api/v1/store/txn                     an atomic transaction
  GET    /api/v1/store/revision
  GET    /api/v1/store/watch?after=REV         changes after REV, then live (JSON lines)
  POST   /api/v1/store/compact                 {\"revision\": REV}
  POST   /api/v1/store/leases/{election}       take or renew a lease {\"holder\", \"ttl_ms\"}
  DELETE /api/v1/store/leases/{election}?holder=&term=   release it
  POST   /api/v1/emitter/webhook               (emitter) Alertmanager's webhook: cache it, write Kubernetes Events
  GET    /api/v1/messages[?tenant=&condition=&since=&limit=]   (emitter) recent notifications of every replica
  GET    /metrics                              Prometheus metrics
  GET    /-/healthy, /-/ready                  liveness, readiness (no token needed)";

/// The data plane's routes over `store`, served with [`guarded`]'s checks, metrics and
/// health routes.
pub fn router(store: SharedStore, options: ApiOptions) -> Router {
    let routes = data_plane_routes(Arc::clone(&store), &options);
    guarded(routes, options, Some(store))
}

/// The data plane's own routes (objects, spec, status, the raw store), without the
/// checks of [`guarded`].
pub fn data_plane_routes(store: SharedStore, options: &ApiOptions) -> Router {
    let measured: SharedStore = Arc::new(Measured {
        inner: store,
        metrics: Arc::clone(&options.metrics),
    });
    let state = Arc::new(AppState {
        plane: DataPlane::new(Arc::clone(&measured)),
        store: measured,
        options: options.clone(),
    });
    Router::new()
        .route("/api/v1/endpoints", get(list_endpoints))
        .route(
            "/api/v1/endpoints/{id}",
            get(get_object::<AlertEndpoint>)
                .put(put_object::<AlertEndpoint>)
                .delete(delete_object::<AlertEndpoint>),
        )
        .route("/api/v1/conditions", get(list_conditions))
        .route(
            "/api/v1/conditions/{id}",
            get(get_object::<AlertCondition>)
                .put(put_object::<AlertCondition>)
                .delete(delete_object::<AlertCondition>),
        )
        .route("/api/v1/slos", get(list_slos))
        .route(
            "/api/v1/slos/{id}",
            get(get_object::<Slo>)
                .put(put_object::<Slo>)
                .delete(delete_object::<Slo>),
        )
        .route("/api/v1/spec", get(get_spec).put(put_spec))
        .route("/api/v1/status", get(status))
        .route("/api/v1/store/kv/{collection}", get(store_list))
        .route("/api/v1/store/kv/{collection}/{id}", get(store_get))
        .route("/api/v1/store/txn", post(store_txn))
        .route("/api/v1/store/revision", get(store_revision))
        .route("/api/v1/store/watch", get(store_watch))
        .route("/api/v1/store/compact", post(store_compact))
        .route(
            "/api/v1/store/leases/{election}",
            post(store_acquire).delete(store_release),
        )
        .with_state(state)
}

/// What the checks in front of every route need.
struct GuardState {
    options: ApiOptions,
    store: Option<SharedStore>,
}

/// `app` behind the gateway's checks: bearer auth (all but `/-/healthy` and `/-/ready`),
/// the body limit (a declared `Content-Length` over it is refused before the body is
/// read), request counting; plus `/metrics`, `/-/healthy`, `/-/ready` (the store
/// answers, when there is one) and JSON 404/405 answers.
pub fn guarded(app: Router, options: ApiOptions, store: Option<SharedStore>) -> Router {
    let body_limit = DefaultBodyLimit::max(options.max_body_bytes);
    let state = Arc::new(GuardState { options, store });
    app.merge(
        Router::new()
            .route("/metrics", get(metrics))
            .route("/-/healthy", get(|| async { "OK\n" }))
            .route("/-/ready", get(ready))
            .with_state(Arc::clone(&state)),
    )
    .fallback(not_found)
    .method_not_allowed_fallback(method_not_allowed)
    .layer(body_limit)
    .layer(middleware::from_fn_with_state(state, guard))
}

/// Authentication, the declared body size, and request counting, before any handler.
async fn guard(State(state): State<Arc<GuardState>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let path = request.uri().path();
    let open = path == "/-/healthy" || path == "/-/ready";
    let response = if !open
        && let Some(token) = &state.options.token
        && !bearer_admits(request.headers(), token)
    {
        let mut r = error_response(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token",
        );
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    } else if let Some(len) = declared_length(request.headers())
        && len > state.options.max_body_bytes as u64
    {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            &format!(
                "the body has {len} bytes; at most {} are accepted",
                state.options.max_body_bytes
            ),
        )
    } else {
        next.run(request).await
    };
    state
        .options
        .metrics
        .request(method.as_str(), &route, response.status().as_u16());
    response
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Whether `headers` carry `Authorization: Bearer <token>` (scheme case-insensitive, as
/// RFC 7235 says; token compared in constant time).
pub fn bearer_admits(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, credentials)) = given.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let given = credentials.trim().as_bytes();
    let expected = token.as_bytes();
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// A JSON error in Prometheus' API shape.
pub fn error_response(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = json!({"status": "error", "errorType": error_type, "error": message});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::warn!(error = %self, "request failed");
        }
        error_response(status, self.error_type(), &self.to_string())
    }
}

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "bad_data",
        "method not allowed on this route",
    )
}

/// `value` as a JSON answer (500 if it cannot be written, which plain data cannot cause).
pub(crate) fn serialized(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => json_response(status, body),
        Err(e) => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &e.to_string(),
        ),
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn with_etag(mut response: Response, revision: Revision) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{revision}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// Reads the query string into a map; repeated or unknown parameters are refused.
/// Reads the query string; unknown or repeated parameters are refused.
pub(crate) fn query_params(
    raw: Option<&str>,
    allowed: &[&str],
) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(out);
    };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(name).map_err(Error::BadRequest)?;
        let value = percent_decode(value).map_err(Error::BadRequest)?;
        if !allowed.contains(&name.as_str()) {
            return Err(Error::BadRequest(format!(
                "unknown query parameter {name:?}; this route takes {}",
                if allowed.is_empty() {
                    "none".to_owned()
                } else {
                    allowed.join(", ")
                }
            )));
        }
        if out.insert(name.clone(), value).is_some() {
            return Err(Error::BadRequest(format!(
                "query parameter {name:?} given twice"
            )));
        }
    }
    Ok(out)
}

/// A query-string component decoded (`+` is a space, `%XX` a byte, UTF-8 required).
pub(crate) fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad percent-encoding in the query: {s:?}"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "the query is not UTF-8 after decoding".to_owned())
}

fn bool_param(params: &BTreeMap<String, String>, name: &str) -> Result<bool, Error> {
    match params.get(name).map(String::as_str) {
        None | Some("false" | "0") => Ok(false),
        Some("" | "true" | "1") => Ok(true),
        Some(other) => Err(Error::BadRequest(format!(
            "query parameter {name}: expected true or false, not {other:?}"
        ))),
    }
}

fn revision_param(
    params: &BTreeMap<String, String>,
    name: &str,
) -> Result<Option<Revision>, Error> {
    params
        .get(name)
        .map(|v| {
            v.parse().map_err(|_| {
                Error::BadRequest(format!(
                    "query parameter {name}: expected a revision (a whole number), not {v:?}"
                ))
            })
        })
        .transpose()
}

/// The precondition of `If-Match` / `If-None-Match`.
fn precondition(headers: &HeaderMap) -> Result<Precondition, Error> {
    let read = |name: header::HeaderName| -> Result<Option<String>, Error> {
        headers
            .get(&name)
            .map(|v| {
                v.to_str()
                    .map(|s| s.trim().to_owned())
                    .map_err(|_| Error::BadRequest(format!("{name}: not a readable header value")))
            })
            .transpose()
    };
    let if_match = read(header::IF_MATCH)?;
    let if_none_match = read(header::IF_NONE_MATCH)?;
    match (if_match, if_none_match) {
        (Some(_), Some(_)) => Err(Error::BadRequest(
            "give If-Match or If-None-Match, not both".to_owned(),
        )),
        (Some(m), None) if m == "*" => Ok(Precondition::IfExists),
        (Some(m), None) => {
            let tag = m
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(&m);
            tag.parse::<Revision>()
                .ok()
                .filter(|r| *r > 0)
                .map(Precondition::IfMatch)
                .ok_or_else(|| {
                    Error::BadRequest(format!(
                        "If-Match: expected an ETag such as \"42\" (a revision this API gave), not {m:?}"
                    ))
                })
        }
        (None, Some(m)) if m == "*" => Ok(Precondition::IfNoneMatch),
        (None, Some(m)) => Err(Error::BadRequest(format!(
            "If-None-Match: only * (create only) is supported, not {m:?}"
        ))),
        (None, None) => Ok(Precondition::None),
    }
}

/// The body as JSON (or YAML when `yaml_too`), refusing other content types (415),
/// oversized (413) and malformed bodies (400).
pub(crate) fn json_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    yaml_too: bool,
) -> Result<Value, Box<Response>> {
    let body = body.map_err(|rejection| -> Box<Response> {
        let status = rejection.status();
        Box::new(if status == StatusCode::PAYLOAD_TOO_LARGE {
            error_response(status, "too_large", &rejection.body_text())
        } else {
            error_response(StatusCode::BAD_REQUEST, "bad_data", &rejection.body_text())
        })
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let is_yaml = matches!(
        content_type.as_str(),
        "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml"
    );
    let is_json = content_type == "application/json" || content_type.ends_with("+json");
    if is_yaml && yaml_too {
        let text = std::str::from_utf8(&body).map_err(|_| {
            Box::new(error_response(
                StatusCode::BAD_REQUEST,
                "bad_data",
                "the body is not UTF-8",
            ))
        })?;
        // yaml_serde's depth limit costs time quadratic in the depth: refuse deep bodies first.
        alert_router::config::yaml::check_nesting(text, alert_router::config::yaml::MAX_NESTING)
            .map_err(|e| {
                Box::new(error_response(
                    StatusCode::BAD_REQUEST,
                    "bad_data",
                    &format!("body: {e}"),
                ))
            })?;
        return yaml_serde::from_str::<Value>(text).map_err(|e| {
            Box::new(error_response(
                StatusCode::BAD_REQUEST,
                "bad_data",
                &format!("body: {e}"),
            ))
        });
    }
    if !is_json {
        let wanted = if yaml_too {
            "application/json or application/yaml"
        } else {
            "application/json"
        };
        return Err(Box::new(error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            &format!("Content-Type {content_type:?}: expected {wanted}"),
        )));
    }
    serde_json::from_slice(&body).map_err(|e| {
        Box::new(error_response(
            StatusCode::BAD_REQUEST,
            "bad_data",
            &format!("body: {e}"),
        ))
    })
}

fn object_response<T: Document>(status: StatusCode, value: &T, revision: Revision) -> Response {
    match serde_json::to_string(&value.shown()) {
        Ok(body) => with_etag(json_response(status, body), revision),
        Err(e) => Error::Store(StoreError::Data(e.to_string())).into_response(),
    }
}

async fn get_object<T: Document>(
    State(state): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        query_params(query.as_deref(), &[])?;
        state.plane.get::<T>(&id).await
    }
    .await;
    match result {
        Ok(v) => object_response(StatusCode::OK, &v.value, v.revision),
        Err(e) => e.into_response(),
    }
}

async fn put_object<T: Document>(
    State(state): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(e) = query_params(query.as_deref(), &[]) {
        return e.into_response();
    }
    let pre = match precondition(&headers) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let body = match json_body(&headers, body, false) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    match state.plane.put::<T>(&id, body, pre).await {
        Ok((v, created)) => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            object_response(status, &v.value, v.revision)
        }
        Err(e) => e.into_response(),
    }
}

async fn delete_object<T: Document>(
    State(state): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let allowed: &[&str] = if T::KIND == Kind::Endpoint {
        &["detach"]
    } else {
        &[]
    };
    let result = async {
        let params = query_params(query.as_deref(), allowed)?;
        let detach = bool_param(&params, "detach")?;
        let pre = precondition(&headers)?;
        state.plane.delete(T::KIND, &id, pre, detach).await
    }
    .await;
    match result {
        Ok(revision) => json_response(StatusCode::OK, json!({"revision": revision}).to_string()),
        Err(e) => e.into_response(),
    }
}

/// `{"revision": R, "items": [{"revision": r, "object": {...}}]}`.
fn listing_body(revision: Revision, items: impl Iterator<Item = (Revision, String)>) -> String {
    let mut body = format!("{{\"revision\":{revision},\"items\":[");
    for (i, (r, object)) in items.enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!("{{\"revision\":{r},\"object\":"));
        body.push_str(&object);
        body.push('}');
    }
    body.push_str("]}");
    body
}

async fn list_endpoints(State(state): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let result = async {
        query_params(query.as_deref(), &[])?;
        let (revision, items) = state.plane.list::<AlertEndpoint>().await?;
        let shown = items
            .into_iter()
            .map(|v| {
                serde_json::to_string(&v.value.redacted())
                    .map(|s| (v.revision, s))
                    .map_err(|e| Error::Store(StoreError::Data(e.to_string())))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok::<_, Error>(listing_body(revision, shown.into_iter()))
    }
    .await;
    match result {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(e) => e.into_response(),
    }
}

async fn list_conditions(State(state): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let result = async {
        let params = query_params(query.as_deref(), &["tenant", "severity", "kind"])?;
        let filter = ConditionFilter {
            tenant: params.get("tenant").cloned(),
            severity: params.get("severity").cloned(),
            kind: params.get("kind").cloned(),
        };
        let listing = state.plane.list_raw(Kind::Condition).await?;
        if filter.is_empty() {
            // Stored documents are the canonical JSON and hold no secrets: as they are.
            let revision = listing.revision;
            return Ok::<_, Error>(listing_body(
                revision,
                listing
                    .records
                    .into_iter()
                    .map(|r| (r.mod_revision, r.value)),
            ));
        }
        let plane_filter = filter.clone();
        let kept = tokio::task::spawn_blocking(move || {
            let mut kept = Vec::new();
            for record in listing.records {
                let condition: AlertCondition = crate::data_plane::decode(&record)?;
                if plane_filter.admits(&condition) {
                    kept.push((record.mod_revision, record.value));
                }
            }
            Ok::<_, Error>((listing.revision, kept))
        })
        .await
        .map_err(|e| Error::Store(StoreError::Unavailable(e.to_string())))??;
        Ok(listing_body(kept.0, kept.1.into_iter()))
    }
    .await;
    match result {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(e) => e.into_response(),
    }
}

async fn list_slos(State(state): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let result = async {
        query_params(query.as_deref(), &[])?;
        let listing = state.plane.list_raw(Kind::Slo).await?;
        Ok::<_, Error>(listing_body(
            listing.revision,
            listing
                .records
                .into_iter()
                .map(|r| (r.mod_revision, r.value)),
        ))
    }
    .await;
    match result {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(e) => e.into_response(),
    }
}

fn wants_yaml(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("yaml"))
}

/// A spec for people: endpoints' secrets redacted.
fn shown_spec(spec: &AlertingSpec) -> AlertingSpec {
    let mut shown = spec.clone();
    for e in &mut shown.endpoints {
        *e = e.redacted();
    }
    shown
}

async fn get_spec(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let result = async {
        query_params(query.as_deref(), &[])?;
        state.plane.spec().await
    }
    .await;
    let (revision, spec) = match result {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let shown = shown_spec(&spec);
    let response = if wants_yaml(&headers) {
        match yaml_serde::to_string(&shown) {
            Ok(text) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/yaml")],
                text,
            )
                .into_response(),
            Err(e) => Error::Store(StoreError::Data(e.to_string())).into_response(),
        }
    } else {
        match serde_json::to_string(&shown) {
            Ok(text) => json_response(StatusCode::OK, text),
            Err(e) => Error::Store(StoreError::Data(e.to_string())).into_response(),
        }
    };
    with_etag(response, revision)
}

async fn put_spec(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let params = match query_params(query.as_deref(), &["dry_run"]) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let dry_run = match bool_param(&params, "dry_run") {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let body = match json_body(&headers, body, true) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    match state.plane.apply_spec(body, dry_run).await {
        Ok(plan) => {
            let mut value = json!({
                "dry_run": dry_run,
                "based_on": plan.based_on,
                "created": plan.created,
                "updated": plan.updated,
                "deleted": plan.deleted,
                "unchanged": plan.unchanged,
            });
            if let Some(r) = plan.revision {
                value["revision"] = json!(r);
            }
            json_response(StatusCode::OK, value.to_string())
        }
        Err(e) => e.into_response(),
    }
}

async fn status(State(state): State<Shared>) -> Response {
    match state.store.revision().await {
        Ok(revision) => json_response(
            StatusCode::OK,
            json!({"store": state.store.describe(), "revision": revision}).to_string(),
        ),
        Err(e) => Error::from(e).into_response(),
    }
}

async fn ready(State(state): State<Arc<GuardState>>) -> Response {
    let Some(store) = &state.store else {
        return (StatusCode::OK, "OK\n").into_response();
    };
    match tokio::time::timeout(Duration::from_secs(5), store.revision()).await {
        Ok(Ok(_)) => (StatusCode::OK, "OK\n").into_response(),
        Ok(Err(e)) => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &e.to_string(),
        ),
        Err(_) => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the store did not answer within 5 s",
        ),
    }
}

async fn metrics(State(state): State<Arc<GuardState>>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.options.metrics.render(),
    )
        .into_response()
}

fn collection(name: &str) -> Result<Kind, Error> {
    Kind::from_collection(name).ok_or_else(|| {
        Error::BadRequest(format!(
            "unknown collection {name:?}; expected endpoints, conditions or slos"
        ))
    })
}

async fn store_get(
    State(state): State<Shared>,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    let result = async {
        let key = Key::new(collection(&name)?, id)?;
        state.store.get(&key).await?.ok_or(Error::NotFound(key))
    }
    .await;
    match result {
        Ok(record) => match serde_json::to_string(&record) {
            Ok(body) => with_etag(json_response(StatusCode::OK, body), record.mod_revision),
            Err(e) => Error::Store(StoreError::Data(e.to_string())).into_response(),
        },
        Err(e) => e.into_response(),
    }
}

async fn store_list(
    State(state): State<Shared>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        let kind = collection(&name)?;
        let params = query_params(query.as_deref(), &["revision"])?;
        let at = revision_param(&params, "revision")?;
        Ok::<Listing, Error>(state.store.list(kind, at).await?)
    }
    .await;
    match result {
        Ok(listing) => match serde_json::to_string(&listing) {
            Ok(body) => json_response(StatusCode::OK, body),
            Err(e) => Error::Store(StoreError::Data(e.to_string())).into_response(),
        },
        Err(e) => store_error_response(e),
    }
}

/// Store errors over the raw routes carry the typed error, so a remote store can
/// reconstruct it.
fn store_error_response(e: Error) -> Response {
    let mut response = e.clone().into_response();
    if let Error::Store(store_error) = &e
        && let Ok(detail) = serde_json::to_string(store_error)
        && let Ok(v) = HeaderValue::from_str(&detail)
    {
        response.headers_mut().insert(STORE_ERROR_HEADER, v);
    }
    response
}

/// The header that carries a typed [`StoreError`] (JSON) on the raw store routes.
pub const STORE_ERROR_HEADER: &str = "x-gateway-store-error";

async fn store_txn(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match json_body(&headers, body, false) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let txn: Txn = match serde_json::from_value(body) {
        Ok(t) => t,
        Err(e) => {
            return Error::BadRequest(format!("transaction: {e}")).into_response();
        }
    };
    match state.store.txn(txn).await {
        Ok(revision) => json_response(StatusCode::OK, json!({"revision": revision}).to_string()),
        Err(e) => store_error_response(Error::Store(e)),
    }
}

async fn store_revision(State(state): State<Shared>) -> Response {
    match state.store.revision().await {
        Ok(revision) => json_response(StatusCode::OK, json!({"revision": revision}).to_string()),
        Err(e) => store_error_response(Error::Store(e)),
    }
}

#[derive(Deserialize)]
struct CompactBody {
    revision: Revision,
}

async fn store_compact(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match json_body(&headers, body, false) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let request: CompactBody = match serde_json::from_value(body) {
        Ok(t) => t,
        Err(e) => return Error::BadRequest(format!("compact: {e}")).into_response(),
    };
    match state.store.compact(request.revision).await {
        Ok(()) => json_response(StatusCode::OK, "{}".to_owned()),
        Err(e) => store_error_response(Error::Store(e)),
    }
}

#[derive(Deserialize, Serialize)]
struct AcquireBody {
    holder: String,
    ttl_ms: u64,
}

async fn store_acquire(
    State(state): State<Shared>,
    Path(election): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match json_body(&headers, body, false) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let request: AcquireBody = match serde_json::from_value(body) {
        Ok(t) => t,
        Err(e) => return Error::BadRequest(format!("lease: {e}")).into_response(),
    };
    if request.holder.is_empty() || request.ttl_ms < 100 || request.ttl_ms > 3_600_000 {
        return Error::BadRequest(
            "lease: holder must be non-empty and ttl_ms between 100 and 3600000".to_owned(),
        )
        .into_response();
    }
    match state
        .store
        .acquire(
            &election,
            &request.holder,
            Duration::from_millis(request.ttl_ms),
        )
        .await
    {
        Ok(lease) => match serde_json::to_string(&lease) {
            Ok(body) => json_response(StatusCode::OK, body),
            Err(e) => Error::Store(StoreError::Data(e.to_string())).into_response(),
        },
        Err(e) => store_error_response(Error::Store(e)),
    }
}

async fn store_release(
    State(state): State<Shared>,
    Path(election): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        let params = query_params(query.as_deref(), &["holder", "term"])?;
        let holder = params
            .get("holder")
            .ok_or_else(|| Error::BadRequest("query parameter holder is required".to_owned()))?;
        let term = revision_param(&params, "term")?
            .ok_or_else(|| Error::BadRequest("query parameter term is required".to_owned()))?;
        Ok::<_, Error>(state.store.release(&election, holder, term).await?)
    }
    .await;
    match result {
        Ok(()) => json_response(StatusCode::OK, "{}".to_owned()),
        Err(e) => store_error_response(e),
    }
}

/// One line of a watch stream.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchLine {
    /// A change.
    Event(Event),
    /// Nothing changed; the stream is alive at this revision.
    Progress(Revision),
    /// The watch ended with this error.
    Error(StoreError),
}

async fn store_watch(State(state): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let after = match query_params(query.as_deref(), &["after"])
        .and_then(|p| revision_param(&p, "after"))
    {
        Ok(Some(a)) => a,
        Ok(None) => {
            return Error::BadRequest("query parameter after is required".to_owned())
                .into_response();
        }
        Err(e) => return e.into_response(),
    };
    let watch = match state.store.watch(after).await {
        Ok(w) => w,
        Err(e) => return store_error_response(Error::Store(e)),
    };
    let metrics = Arc::clone(&state.options.metrics);
    metrics.watchers(1);
    let stream = futures::stream::unfold(
        (watch, WatcherGuard(metrics), after, false),
        |(mut watch, guard, mut last, done): (Watch, WatcherGuard, Revision, bool)| async move {
            if done {
                return None;
            }
            let line = tokio::select! {
                item = watch.next() => match item {
                    Some(Ok(event)) => {
                        last = last.max(event.revision);
                        WatchLine::Event(event)
                    }
                    Some(Err(e)) => WatchLine::Error(e),
                    None => return None,
                },
                () = tokio::time::sleep(WATCH_PROGRESS_INTERVAL) => WatchLine::Progress(last),
            };
            let done = matches!(line, WatchLine::Error(_));
            let mut text = serde_json::to_string(&line).unwrap_or_default();
            text.push('\n');
            Some((
                Ok::<_, Infallible>(Bytes::from(text)),
                (watch, guard, last, done),
            ))
        },
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response()
}

struct WatcherGuard(Arc<Metrics>);

impl Drop for WatcherGuard {
    fn drop(&mut self) {
        self.0.watchers(-1);
    }
}

/// A store that times every call into the metrics.
#[derive(Debug)]
struct Measured {
    inner: SharedStore,
    metrics: Arc<Metrics>,
}

impl Measured {
    fn observe<T>(&self, op: &'static str, started: Instant, result: &Result<T, StoreError>) {
        let outcome = if result.is_ok() { "ok" } else { "error" };
        self.metrics.store_call(op, outcome, started.elapsed());
    }
}

#[async_trait]
impl ConfigStore for Measured {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let started = Instant::now();
        let r = self.inner.get(key).await;
        self.observe("get", started, &r);
        r
    }

    async fn list(&self, kind: Kind, at: Option<Revision>) -> Result<Listing, StoreError> {
        let started = Instant::now();
        let r = self.inner.list(kind, at).await;
        self.observe("list", started, &r);
        if let Ok(l) = &r {
            self.metrics.revision(l.revision);
        }
        r
    }

    async fn txn(&self, txn: Txn) -> Result<Revision, StoreError> {
        let started = Instant::now();
        let r = self.inner.txn(txn).await;
        self.observe("txn", started, &r);
        if let Ok(rev) = &r {
            self.metrics.revision(*rev);
        }
        r
    }

    async fn revision(&self) -> Result<Revision, StoreError> {
        let started = Instant::now();
        let r = self.inner.revision().await;
        self.observe("revision", started, &r);
        if let Ok(rev) = &r {
            self.metrics.revision(*rev);
        }
        r
    }

    async fn watch(&self, after: Revision) -> Result<Watch, StoreError> {
        let started = Instant::now();
        let r = self.inner.watch(after).await;
        self.observe("watch", started, &r);
        r
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        let started = Instant::now();
        let r = self.inner.compact(revision).await;
        self.observe("compact", started, &r);
        r
    }

    async fn acquire(
        &self,
        election: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseState, StoreError> {
        let started = Instant::now();
        let r = self.inner.acquire(election, holder, ttl).await;
        self.observe("acquire", started, &r);
        r
    }

    async fn release(&self, election: &str, holder: &str, term: u64) -> Result<(), StoreError> {
        let started = Instant::now();
        let r = self.inner.release(election, holder, term).await;
        self.observe("release", started, &r);
        r
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut h = HeaderMap::new();
        assert!(!bearer_admits(&h, "t0k"));
        for given in ["Bearer t0k", "bearer t0k", "BEARER  t0k"] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(given).unwrap());
            assert!(bearer_admits(&h, "t0k"), "{given}");
        }
        for given in ["Bearer t0", "Basic t0k", "t0k", "Bearer t0kk"] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(given).unwrap());
            assert!(!bearer_admits(&h, "t0k"), "{given}");
        }
    }

    #[test]
    fn preconditions_read() {
        let mut h = HeaderMap::new();
        assert_eq!(precondition(&h).unwrap(), Precondition::None);
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"12\""));
        assert_eq!(precondition(&h).unwrap(), Precondition::IfMatch(12));
        h.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(precondition(&h).unwrap(), Precondition::IfExists);
        for bad in ["\"x\"", "W/\"3\"", "\"0\"", ""] {
            h.insert(header::IF_MATCH, HeaderValue::from_str(bad).unwrap());
            assert_eq!(precondition(&h).unwrap_err().status(), 400, "{bad}");
        }
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert_eq!(precondition(&h).unwrap(), Precondition::IfNoneMatch);
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"3\""));
        assert_eq!(precondition(&h).unwrap_err().status(), 400);
    }

    #[test]
    fn query_parameters_are_strict() {
        let p = query_params(Some("tenant=cluster%2Da&kind=cpu"), &["tenant", "kind"]).unwrap();
        assert_eq!(p["tenant"], "cluster-a");
        assert!(query_params(Some("x=1"), &["tenant"]).is_err());
        assert!(query_params(Some("tenant=a&tenant=b"), &["tenant"]).is_err());
        assert!(query_params(Some("tenant=%zz"), &["tenant"]).is_err());
    }
}
