//! The control plane's **functional APIs**: what Rancher Opni's gateway "applies to its
//! backends" on a user's behalf — silencing a condition, asking how a condition stands,
//! and sending a test notification through an endpoint.
//!
//! Conditions and endpoints are read from the store ([`DataPlane`]); the work is done by
//! the condition's tenant's Alertmanager ([`AlertmanagerTenancy`]) and, for pending alerts,
//! by Prometheus or a Cortex/Mimir ruler ([`PrometheusApi`]).
//!
//! | route | what |
//! |---|---|
//! | `POST /api/v1/conditions/{id}/silence` | body `{"duration": "2h", "comment": "...", "created_by": "..."}` (`created_by` optional, no other fields): silences the condition's alerts (matchers `alert_condition_id="<id>"`, plus `tenant="<t>"` on a shared Alertmanager when the condition has a tenant) until now + duration. An active silence with exactly those matchers is replaced (posted again with its id, as Opni did), so repeated calls never pile up silences. Waits until every member shows it. 201 when created, 200 when replaced: `{"silence_id", "starts_at", "ends_at", "matchers", "replaced"}`, `replaced` listing the silences it took the place of (Alertmanager updates one in place, keeping its id, or expires it for a new one) |
//! | `DELETE /api/v1/conditions/{id}/silence` | expires every active silence with exactly those matchers, waits until every member shows them expired: `{"expired": [ids]}` (empty when there was none) |
//! | `GET /api/v1/conditions/{id}/status` | `{"condition", "tenant", "state", "alerts", "silences"}` and, when something could not be looked at, `reason`; see below |
//! | `POST /api/v1/endpoints/{id}/test[?tenant=]` | a synthetic notification through Alertmanager to that endpoint's receiver only; `{"endpoint", "tenant", "integration", "result": "delivered"\|"failed", "member", "detail", "test_id", "resolved"}` (and `caveats`, see below); 409 when the running configuration does not route the test alert to the endpoint alone; 504 when no outcome is seen in time |
//!
//! Errors are the data plane's ([`crate::api`]): Prometheus' JSON shape
//! `{"status": "error", "errorType": ..., "error": ...}`; 400 for a malformed body or
//! parameter (naming the field), 404 for an unknown condition or endpoint, 409 when the
//! backend cannot be addressed (a condition bound to no tenant on a per-tenant
//! Alertmanager without an `unbound` tenant) or the endpoint is not in the configuration,
//! 415 for a body that is not JSON, 502 (`errorType` `backend`) when Alertmanager or
//! Prometheus fails, 504 (`timeout`) when a test notification's outcome is not seen in
//! time. No answer or log line shows a URL's credentials ([`alert_core::redact_urls`]).
//!
//! # Status
//!
//! `state` is `firing` when an alert of the condition fires unmuted (Alertmanager holds it
//! active, or Prometheus fires it and no Alertmanager alert carries its labels),
//! `silenced` when every firing alert is muted (a silence, or an inhibition: each alert
//! says which in `state`, `silencedBy`, `inhibitedBy`), `pending` when Prometheus has
//! alerts waiting out their `for`, else `inactive`. Alertmanager's view is merged across
//! the members ([`Cluster::alerts`]); `unanswered` names members that did not answer. A
//! disabled condition is `inactive` with a `reason`, without asking any backend. Without
//! Prometheus (none configured, or it failed) `reason` says so and the state comes from
//! Alertmanager alone. `silences` are the ids of the active silences with the
//! condition's matchers and of any other silence muting its alerts.
//!
//! # Test notifications
//!
//! The configurations the control plane writes hold, for every endpoint receiver, a route
//! before the condition routes:
//!
//! ```yaml
//! - receiver: <endpoint id>
//!   matchers: ['alert_endpoint_test="<endpoint id>"']
//!   group_by: ['...']
//!   group_wait: 0s
//!   group_interval: 1m
//!   repeat_interval: 1h
//!   continue: false
//! ```
//!
//! (`group_by: ['...']` makes each test alert, whose [`TEST_ID_LABEL`] is unique, a group
//! of its own, notified at once; grouped with earlier ones it would wait for the group's
//! next interval.) This is `alert_router::builder::endpoint_test_route`. The test first
//! checks, in every member's running configuration (`GET /api/v2/status`), that the
//! endpoint's receiver has an integration of the endpoint's kind and that the test alert
//! routes to it and nowhere else but the history webhook
//! (`alert_router::builder::HISTORY_RECEIVER`, which sees every alert) — 409 otherwise,
//! because it would go nowhere or to someone else. It then
//! reads each member's `/metrics`, posts `{alertname="EndpointTest",
//! alert_endpoint_test="<id>", test_id="<unique>"}` (plus `tenant` on a shared
//! Alertmanager) to every member (Alertmanager does not gossip alerts), and polls the
//! counters Alertmanager 0.25 keeps per integration type (`<type>` is the endpoint's
//! kind: `webhook`, `slack`, `email`, `pagerduty`, ...):
//!
//! - `alertmanager_notification_requests_total{integration="<type>"}` rising by more than
//!   `alertmanager_notification_requests_failed_total` (one attempt succeeded; seen on two
//!   polls in a row, because the two counters are not updated at the same instant):
//!   **delivered**;
//! - `alertmanager_notifications_failed_total` rising (Alertmanager gave up), or
//!   `alertmanager_notification_requests_failed_total` rising with no success within
//!   [`FunctionalOptions::failure_grace`] (Alertmanager keeps retrying until the group's
//!   timeout, at least a minute for the test route): **failed**, naming the member and
//!   the counter; the member's log has the reason;
//! - nothing by [`FunctionalOptions::test_deadline`]: 504.
//!
//! (`alertmanager_notifications_total` rises before the first attempt and
//! `alertmanager_notifications_failed_total` only when the retries end, so those two alone
//! cannot tell a delivery from an attempt in flight.) Cortex and Mimir keep the same
//! counters per tenant as `cortex_alertmanager_...{user="<tenant>"}` at `<base>/metrics`;
//! that reading is only meaningful when the base URL reaches the one replica that serves
//! the tenant, not a load balancer over several. The test alert is then resolved (posted
//! again with `endsAt` = now) on every member.
//!
//! **Limitation:** the counters are per integration *type*, not per receiver. Another
//! notification of the same type that Alertmanager sends while a test is watched (a real
//! alert to some other Slack receiver, say) is counted as the test's: a failing endpoint
//! can be reported delivered when another endpoint of its type succeeds at that moment,
//! and a working one failed when another fails. Tests of one type are best run one at a
//! time, when the type is quiet. The history webhook is such a notification for `webhook`
//! endpoints: it gets the test alert too, after its own `group_wait` (30s by default,
//! mostly after the test's outcome is seen, but sooner when the alert joins a history
//! group already waiting); the answer's `caveats` say when another receiver reached
//! shares the endpoint's integration type.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use alert_core::silence::{PostableSilence, Silence, SilenceState};
use alert_core::{
    AlertCondition, AlertEndpoint, CONDITION_ID_LABEL, LabelSet, MatchType, Matcher, Matchers,
    TenantId, Timestamp, redact_urls,
};
use alert_cortex_adapter::alert::api_time;
use alert_cortex_adapter::{
    AlertQuery, AlertState, AlertmanagerClient, Cluster, GettableAlert, ORG_ID_HEADER,
    PostableAlert,
};
use alert_router::builder::{HISTORY_RECEIVER, receiver_name};
use alert_router::config::{Config, Receiver};
use alert_router::route::RoutingTree;
use alert_router::rules::TENANT_LABEL;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{error_response, json_body, query_params};
use crate::data_plane::DataPlane;
use crate::error::{Error, Result};
use crate::store::SharedStore;

/// The label a test alert carries with the endpoint's id; the endpoint's test route
/// matches on it.
pub use alert_router::builder::ENDPOINT_TEST_LABEL;

/// The `alertname` of a test alert.
pub const TEST_ALERTNAME: &str = "EndpointTest";

/// The label that makes each test alert unique (and so a group of its own).
pub const TEST_ID_LABEL: &str = "test_id";

/// Who a silence is from when the request does not say.
pub const DEFAULT_CREATED_BY: &str = "alert-gateway";

/// The routes and what each does, for `--help`.
pub const ROUTES: &str = "\
\x20 POST   /api/v1/conditions/{id}/silence       silence the condition {\"duration\", \"comment\", \"created_by\"} (replaces its active silence)
  DELETE /api/v1/conditions/{id}/silence       expire the condition's silences
  GET    /api/v1/conditions/{id}/status        inactive, pending, firing or silenced, with its alerts and silences
  POST   /api/v1/endpoints/{id}/test[?tenant=] send a test notification through the endpoint's receiver";

/// Where the conditions' alerts go: the Alertmanager the functional APIs act on.
#[derive(Debug, Clone)]
pub enum AlertmanagerTenancy {
    /// A vanilla Alertmanager (one member or an HA cluster) serving every tenant with one
    /// configuration; alerts carry the `tenant` label ([`TENANT_LABEL`]).
    Shared(Cluster),
    /// Cortex/Mimir: one configuration per tenant; `client.for_tenant(tenant)` addresses
    /// a tenant. Conditions with no tenant use `unbound`; with `None` they cannot be
    /// acted on (409 saying so).
    PerTenant {
        /// The client, with Cortex/Mimir addressing for any tenant.
        client: AlertmanagerClient,
        /// The tenant whose configuration holds the conditions bound to no tenant.
        unbound: Option<TenantId>,
    },
}

impl AlertmanagerTenancy {
    /// The members a tenant's alerts go to. `no_tenant` starts the 409's message when
    /// there is no tenant to address ("condition x is bound to no tenant").
    pub(crate) fn scope(&self, tenant: Option<&TenantId>, no_tenant: &str) -> Result<Scope> {
        match self {
            AlertmanagerTenancy::Shared(cluster) => Ok(Scope {
                cluster: cluster.clone(),
                tenant: tenant.cloned(),
                tenant_label: tenant.cloned(),
                what: "the shared Alertmanager".to_owned(),
            }),
            AlertmanagerTenancy::PerTenant { client, unbound } => {
                let t = tenant.or(unbound.as_ref()).ok_or_else(|| {
                    Error::Conflict(format!(
                        "{no_tenant}, and this gateway's Alertmanager keeps one configuration \
                         per tenant (Cortex/Mimir) with no tenant configured for conditions \
                         bound to none"
                    ))
                })?;
                let member = client
                    .for_tenant(t.as_str())
                    .map_err(|e| backend("Alertmanager", e))?;
                let cluster = Cluster::new(vec![member]).map_err(|e| backend("Alertmanager", e))?;
                Ok(Scope {
                    cluster,
                    tenant: Some(t.clone()),
                    tenant_label: None,
                    what: format!("tenant {t}'s Alertmanager"),
                })
            }
        }
    }
}

/// Timeouts and polling of the functional APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionalOptions {
    /// How long a silence's creation or expiry may take to show on every member.
    pub silence_wait: Duration,
    /// How long a test notification is watched for before the answer is 504.
    pub test_deadline: Duration,
    /// How long after a failed attempt a test waits for a successful retry before it
    /// answers `failed`.
    pub failure_grace: Duration,
    /// How often the counters are read during a test.
    pub poll_interval: Duration,
    /// The timeout of one `/metrics` read.
    pub metrics_timeout: Duration,
}

impl Default for FunctionalOptions {
    fn default() -> Self {
        FunctionalOptions {
            silence_wait: Duration::from_secs(10),
            test_deadline: Duration::from_secs(30),
            failure_grace: Duration::from_secs(5),
            poll_interval: Duration::from_millis(250),
            metrics_timeout: Duration::from_secs(5),
        }
    }
}

/// What the functional APIs act on.
#[derive(Debug, Clone)]
pub struct Functional {
    /// Where conditions and endpoints are read.
    pub store: SharedStore,
    /// The Alertmanager(s) the conditions' alerts go to.
    pub alertmanager: AlertmanagerTenancy,
    /// Where pending and firing alerts are read; `None`: status from Alertmanager only.
    pub prometheus: Option<PrometheusApi>,
    /// Timeouts and polling.
    pub options: FunctionalOptions,
}

impl Functional {
    /// The functional APIs over these backends, with default options.
    pub fn new(
        store: SharedStore,
        alertmanager: AlertmanagerTenancy,
        prometheus: Option<PrometheusApi>,
    ) -> Functional {
        Functional {
            store,
            alertmanager,
            prometheus,
            options: FunctionalOptions::default(),
        }
    }

    /// The members a tenant's alerts go to. `no_tenant` starts the 409's message when
    /// there is no tenant to address ("condition x is bound to no tenant").
    pub(crate) fn scope(&self, tenant: Option<&TenantId>, no_tenant: &str) -> Result<Scope> {
        self.alertmanager.scope(tenant, no_tenant)
    }
}

/// The members serving one tenant, and how its alerts are told apart.
pub(crate) struct Scope {
    pub(crate) cluster: Cluster,
    /// The tenant the backend addresses or the alerts carry (for Prometheus and metrics).
    tenant: Option<TenantId>,
    /// The tenant label alerts carry (a shared Alertmanager only).
    tenant_label: Option<TenantId>,
    /// For messages.
    what: String,
}

/// `Error::Backend` naming `what`, URLs redacted.
fn backend(what: &str, e: impl fmt::Display) -> Error {
    Error::Backend(redact_urls(&format!("{what}: {e}")))
}

fn now() -> Timestamp {
    Timestamp::from(jiff::Timestamp::now())
}

// ---------------------------------------------------------------------------------------
// Prometheus

/// Cortex's and Mimir's default `-http.prometheus-http-prefix`.
pub const DEFAULT_RULER_PREFIX: &str = "/prometheus";

/// The default timeout of a Prometheus call.
pub const DEFAULT_PROMETHEUS_TIMEOUT: Duration = Duration::from_secs(10);

/// Which Prometheus API serves the alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrometheusFlavor {
    /// A vanilla Prometheus: `GET <base>/api/v1/alerts`, every tenant's alerts.
    Prometheus,
    /// A Cortex/Mimir ruler: `GET <base><prefix>/api/v1/alerts` with
    /// `X-Scope-OrgID: <tenant>`.
    Ruler {
        /// The Prometheus HTTP prefix, [`DEFAULT_RULER_PREFIX`] unless changed.
        prefix: String,
    },
}

/// Reads pending and firing alerts from Prometheus or a Cortex/Mimir ruler, with a timeout
/// on every call.
#[derive(Debug, Clone)]
pub struct PrometheusApi {
    http: reqwest::Client,
    base: String,
    flavor: PrometheusFlavor,
    timeout: Duration,
}

/// One alert as `GET /api/v1/alerts` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusAlert {
    /// The alert's labels.
    pub labels: BTreeMap<String, String>,
    /// The alert's annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// `pending` or `firing`.
    pub state: String,
    /// When the rule's expression first held.
    #[serde(default)]
    pub active_at: Option<String>,
    /// The expression's value, as Prometheus prints it.
    #[serde(default)]
    pub value: Option<String>,
}

impl PrometheusApi {
    /// A vanilla Prometheus at `base_url` (scheme, host, port, any path prefix).
    pub fn prometheus(base_url: &str) -> Result<PrometheusApi> {
        PrometheusApi::build(base_url, PrometheusFlavor::Prometheus)
    }

    /// A Cortex/Mimir ruler at `base_url`, its Prometheus API under `prefix`
    /// ([`DEFAULT_RULER_PREFIX`]).
    pub fn ruler(base_url: &str, prefix: &str) -> Result<PrometheusApi> {
        let prefix = format!("/{}", prefix.trim_matches('/'));
        let prefix = if prefix == "/" { String::new() } else { prefix };
        PrometheusApi::build(base_url, PrometheusFlavor::Ruler { prefix })
    }

    fn build(base_url: &str, flavor: PrometheusFlavor) -> Result<PrometheusApi> {
        let base = base_url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| Error::Invalid(redact_urls(&format!("Prometheus URL {base:?}: {e}"))))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            return Err(Error::Invalid(redact_urls(&format!(
                "Prometheus URL {base:?}: expected http:// or https:// without a query"
            ))));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| Error::Invalid(format!("HTTP client: {e}")))?;
        Ok(PrometheusApi {
            http,
            base,
            flavor,
            timeout: DEFAULT_PROMETHEUS_TIMEOUT,
        })
    }

    /// Sets the timeout of each call (default [`DEFAULT_PROMETHEUS_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> PrometheusApi {
        self.timeout = timeout;
        self
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Which API this is.
    pub fn flavor(&self) -> &PrometheusFlavor {
        &self.flavor
    }

    /// The pending and firing alerts (of `tenant`, for a ruler, which needs one).
    pub async fn alerts(&self, tenant: Option<&str>) -> Result<Vec<PrometheusAlert>> {
        let (url, org) = match &self.flavor {
            PrometheusFlavor::Prometheus => (format!("{}/api/v1/alerts", self.base), None),
            PrometheusFlavor::Ruler { prefix } => {
                let tenant = tenant.ok_or_else(|| {
                    Error::Conflict(
                        "the ruler's alerts are per tenant, and no tenant applies".to_owned(),
                    )
                })?;
                (format!("{}{prefix}/api/v1/alerts", self.base), Some(tenant))
            }
        };
        let what = format!("Prometheus (GET {url})");
        let mut request = self.http.get(&url).timeout(self.timeout);
        if let Some(org) = org {
            request = request.header(ORG_ID_HEADER, org);
        }
        let response = request.send().await.map_err(|e| backend(&what, e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| backend(&what, e))?;
        if !status.is_success() {
            return Err(backend(
                &what,
                format!("HTTP {}: {}", status.as_u16(), excerpt(&body)),
            ));
        }
        #[derive(Deserialize)]
        struct Answer {
            data: Data,
        }
        #[derive(Deserialize)]
        struct Data {
            alerts: Vec<PrometheusAlert>,
        }
        let answer: Answer = serde_json::from_slice(&body)
            .map_err(|e| backend(&what, format!("unexpected answer: {e}")))?;
        Ok(answer.data.alerts)
    }
}

/// The start of a body, for error messages.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Routes

struct AppState {
    functional: Arc<Functional>,
    plane: DataPlane,
    http: reqwest::Client,
}

type Shared = Arc<AppState>;

/// The functional APIs' routes (see the [module documentation](self)), for the control
/// plane's binary to merge with its others (and put behind [`crate::api::guarded`]).
pub fn routes(functional: Arc<Functional>) -> Router {
    let state = Arc::new(AppState {
        plane: DataPlane::new(Arc::clone(&functional.store)),
        functional,
        http: reqwest::Client::new(),
    });
    Router::new()
        .route(
            "/api/v1/conditions/{id}/silence",
            post(create_silence).delete(expire_silences),
        )
        .route("/api/v1/conditions/{id}/status", get(condition_status))
        .route("/api/v1/endpoints/{id}/test", post(test_endpoint))
        .with_state(state)
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn respond(result: Result<Response>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

// ---------------------------------------------------------------------------------------
// Silences

/// A silence request: `{"duration", "comment", "created_by"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SilenceRequest {
    duration: alert_core::Duration,
    comment: String,
    created_by: String,
}

/// Reads a silence request, naming the field at fault.
fn silence_request(body: &Value) -> Result<SilenceRequest> {
    const FIELDS: [&str; 3] = ["duration", "comment", "created_by"];
    let Value::Object(map) = body else {
        return Err(Error::BadRequest(
            "body: expected an object {\"duration\": \"2h\", \"comment\": \"...\"}".to_owned(),
        ));
    };
    if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(Error::BadRequest(format!(
            "{unknown}: unknown field; expected {}",
            FIELDS.join(", ")
        )));
    }
    let duration = match map.get("duration") {
        Some(Value::String(text)) => {
            let d: alert_core::Duration = text.parse().map_err(|e| {
                Error::BadRequest(format!(
                    "duration: {text:?} is not a duration such as 30m or 2h: {e}"
                ))
            })?;
            if d.is_zero() {
                return Err(Error::BadRequest(format!(
                    "duration: must be greater than zero, not {text:?}"
                )));
            }
            d
        }
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "duration: expected a string such as \"2h\", not {other}"
            )));
        }
        None => {
            return Err(Error::BadRequest(
                "duration: required (such as \"2h\")".to_owned(),
            ));
        }
    };
    let comment = match map.get("comment") {
        Some(Value::String(c)) if !c.trim().is_empty() => c.clone(),
        Some(Value::String(_)) | None => {
            return Err(Error::BadRequest(
                "comment: required, and not empty: say why the condition is silenced".to_owned(),
            ));
        }
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "comment: expected a string, not {other}"
            )));
        }
    };
    let created_by = match map.get("created_by") {
        None | Some(Value::Null) => DEFAULT_CREATED_BY.to_owned(),
        Some(Value::String(c)) if !c.trim().is_empty() => c.clone(),
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "created_by: expected a non-empty string, not {other}"
            )));
        }
    };
    Ok(SilenceRequest {
        duration,
        comment,
        created_by,
    })
}

/// The matchers of a condition's silences: its id, and the tenant label when alerts
/// carry one.
fn silence_matchers(condition: &str, tenant_label: Option<&TenantId>) -> Result<Matchers> {
    let mut matchers = vec![equal(CONDITION_ID_LABEL, condition)?];
    if let Some(t) = tenant_label {
        matchers.push(equal(TENANT_LABEL, t.as_str())?);
    }
    let mut matchers = Matchers::new(matchers);
    matchers.sort();
    Ok(matchers)
}

fn equal(name: &str, value: &str) -> Result<Matcher> {
    Matcher::new(MatchType::Equal, name, value).map_err(|e| Error::Invalid(e.to_string()))
}

/// Whether `silence` has exactly `matchers` (in any order).
fn has_exactly(silence: &Silence, matchers: &Matchers) -> bool {
    let mut theirs: Vec<&Matcher> = silence.matchers.iter().collect();
    let mut ours: Vec<&Matcher> = matchers.iter().collect();
    theirs.sort();
    ours.sort();
    theirs == ours
}

/// The active silences with exactly `matchers`, oldest first.
async fn active_silences(scope: &Scope, matchers: &Matchers) -> Result<Vec<Silence>> {
    let filter: Vec<String> = matchers.iter().map(ToString::to_string).collect();
    let listed = scope
        .cluster
        .silences(&filter)
        .await
        .map_err(|e| backend(&scope.what, e))?;
    let mut active: Vec<Silence> = listed
        .value
        .into_iter()
        .filter(|s| s.status.state == SilenceState::Active && has_exactly(s, matchers))
        .collect();
    active.sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then(a.id.cmp(&b.id)));
    Ok(active)
}

async fn create_silence(
    State(state): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(e) = query_params(query.as_deref(), &[]) {
        return e.into_response();
    }
    let body = match json_body(&headers, body, false) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    respond(create_silence_inner(&state, &id, &body).await)
}

async fn create_silence_inner(state: &AppState, id: &str, body: &Value) -> Result<Response> {
    let request = silence_request(body)?;
    let condition = state.plane.get::<AlertCondition>(id).await?.value;
    let scope = state.functional.scope(
        condition.tenant.as_ref(),
        &format!("condition {id} is bound to no tenant"),
    )?;
    let matchers = silence_matchers(id, scope.tenant_label.as_ref())?;
    let existing = active_silences(&scope, &matchers).await?;
    let starts_at = now();
    let ends_at = starts_at
        .checked_add(request.duration)
        .ok_or_else(|| Error::BadRequest(format!("duration: {} is too long", request.duration)))?;
    let mut silence = PostableSilence::new(
        &matchers,
        starts_at,
        ends_at,
        request.created_by,
        request.comment,
    );
    silence.id = existing.first().map(|s| s.id.clone());
    let wait = Some(state.functional.options.silence_wait);
    let created = match scope.cluster.create_silence(&silence, wait).await {
        Err(alert_cortex_adapter::Error::NotFound { .. }) if silence.id.is_some() => {
            // Expired or gone on the member asked since it was listed: create anew (the
            // old one is expired below).
            silence.id = None;
            scope.cluster.create_silence(&silence, wait).await
        }
        other => other,
    }
    .map_err(|e| backend(&scope.what, e))?;
    let silence_id = created.value.clone();
    // Alertmanager expires the silence it replaces; any further copies go here.
    for old in existing.iter().filter(|s| s.id != silence_id) {
        if silence.id.as_deref() == Some(old.id.as_str()) {
            continue;
        }
        // Best effort: the new silence stands either way, and a copy left behind is
        // replaced or expired by the next call.
        if let Err(e) = scope.cluster.expire_silence(&old.id).await {
            tracing::warn!(condition = %id, silence = %old.id, error = %redact_urls(&e.to_string()), "an older silence could not be expired");
        }
    }
    let replaced: Vec<&str> = existing.iter().map(|s| s.id.as_str()).collect();
    let (starts, ends) = match scope.cluster.silence(&silence_id).await {
        Ok(stored) => (stored.value.starts_at, stored.value.ends_at),
        Err(_) => (starts_at, ends_at),
    };
    tracing::info!(condition = %id, silence = %silence_id, replaced = ?replaced, "silenced");
    let mut answer = json!({
        "silence_id": silence_id,
        "starts_at": api_time::format(&starts),
        "ends_at": api_time::format(&ends),
        "matchers": matchers.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "replaced": replaced,
    });
    if !created.failed.is_empty() {
        answer["unanswered"] = json!(redacted_members(created.failed_members()));
    }
    let status = if existing.is_empty() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(status, &answer))
}

fn redacted_members<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    names.into_iter().map(redact_urls).collect()
}

async fn expire_silences(
    State(state): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    respond(
        async {
            query_params(query.as_deref(), &[])?;
            let condition = state.plane.get::<AlertCondition>(&id).await?.value;
            let scope = state.functional.scope(
                condition.tenant.as_ref(),
                &format!("condition {id} is bound to no tenant"),
            )?;
            let matchers = silence_matchers(&id, scope.tenant_label.as_ref())?;
            let active = active_silences(&scope, &matchers).await?;
            let mut expired = Vec::new();
            for s in &active {
                scope
                    .cluster
                    .expire_silence(&s.id)
                    .await
                    .map_err(|e| backend(&scope.what, e))?;
                expired.push(s.id.clone());
            }
            let lagging = wait_expired(&scope, &expired, state.functional.options).await;
            tracing::info!(condition = %id, expired = ?expired, "silences expired");
            let mut answer = json!({"expired": expired});
            if !lagging.is_empty() {
                answer["not_yet_expired_on"] = json!(lagging);
            }
            Ok(json_response(StatusCode::OK, &answer))
        }
        .await,
    )
}

/// Polls every member until each shows every silence in `ids` expired (or does not know
/// it); returns the members that still did not at the deadline.
async fn wait_expired(scope: &Scope, ids: &[String], options: FunctionalOptions) -> Vec<String> {
    if ids.is_empty() {
        return Vec::new();
    }
    let deadline = Instant::now() + options.silence_wait;
    loop {
        let checks = scope.cluster.members().iter().map(|m| async move {
            for id in ids {
                match m.silence(id).await {
                    Ok(s) if s.status.state != SilenceState::Expired => return Some(m.name()),
                    Ok(_) | Err(alert_cortex_adapter::Error::NotFound { .. }) => {}
                    Err(_) => return Some(m.name()),
                }
            }
            None
        });
        let lagging: Vec<String> = join_all(checks)
            .await
            .into_iter()
            .flatten()
            .map(redact_urls)
            .collect();
        if lagging.is_empty() || Instant::now() >= deadline {
            return lagging;
        }
        tokio::time::sleep(options.poll_interval.min(Duration::from_millis(100))).await;
    }
}

// ---------------------------------------------------------------------------------------
// Status

/// One alert of a condition as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct AlertView {
    labels: BTreeMap<String, String>,
    /// `pending`, `firing`, `silenced` or `inhibited`.
    state: &'static str,
    /// `alertmanager` or `prometheus`.
    source: &'static str,
    #[serde(rename = "startsAt", skip_serializing_if = "Option::is_none")]
    starts_at: Option<String>,
    #[serde(rename = "silencedBy", skip_serializing_if = "Vec::is_empty")]
    silenced_by: Vec<String>,
    #[serde(rename = "inhibitedBy", skip_serializing_if = "Vec::is_empty")]
    inhibited_by: Vec<String>,
}

/// Alertmanager's alerts, then Prometheus' pending alerts and the firing ones that no
/// Alertmanager alert carries the labels of.
fn alert_views(prometheus: &[PrometheusAlert], alertmanager: &[GettableAlert]) -> Vec<AlertView> {
    let mut views: Vec<AlertView> = alertmanager
        .iter()
        .map(|a| {
            let state = match a.status.state {
                AlertState::Suppressed if !a.status.silenced_by.is_empty() => "silenced",
                AlertState::Suppressed => "inhibited",
                _ => "firing",
            };
            AlertView {
                labels: a.labels.to_map(),
                state,
                source: "alertmanager",
                starts_at: Some(api_time::format(&a.starts_at)),
                silenced_by: a.status.silenced_by.clone(),
                inhibited_by: a.status.inhibited_by.clone(),
            }
        })
        .collect();
    for p in prometheus {
        let state = match p.state.as_str() {
            "pending" => "pending",
            "firing" => "firing",
            _ => continue,
        };
        let held = alertmanager.iter().any(|a| {
            p.labels
                .iter()
                .all(|(k, v)| a.labels.get(k) == Some(v.as_str()))
        });
        if state == "firing" && held {
            continue;
        }
        views.push(AlertView {
            labels: p.labels.clone(),
            state,
            source: "prometheus",
            starts_at: p.active_at.clone(),
            silenced_by: Vec::new(),
            inhibited_by: Vec::new(),
        });
    }
    views
}

/// The condition's state from its alerts: firing, else silenced, else pending, else
/// inactive.
fn overall_state(views: &[AlertView]) -> &'static str {
    let any = |states: &[&str]| views.iter().any(|v| states.contains(&v.state));
    if any(&["firing"]) {
        "firing"
    } else if any(&["silenced", "inhibited"]) {
        "silenced"
    } else if any(&["pending"]) {
        "pending"
    } else {
        "inactive"
    }
}

async fn condition_status(
    State(state): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    respond(
        async {
            query_params(query.as_deref(), &[])?;
            let condition = state.plane.get::<AlertCondition>(&id).await?.value;
            status_inner(&state, &condition).await
        }
        .await,
    )
}

async fn status_inner(state: &AppState, condition: &AlertCondition) -> Result<Response> {
    let id = condition.id.as_str();
    let mut answer = json!({
        "condition": id,
        "tenant": condition.tenant.as_ref().map(TenantId::as_str),
    });
    if condition.disabled {
        answer["state"] = json!("inactive");
        answer["reason"] = json!(
            "the condition is disabled: it is neither evaluated nor routed (a silence mutes for a while)"
        );
        answer["alerts"] = json!([]);
        answer["silences"] = json!([]);
        return Ok(json_response(StatusCode::OK, &answer));
    }
    let scope = state.functional.scope(
        condition.tenant.as_ref(),
        &format!("condition {id} is bound to no tenant"),
    )?;
    let matchers = silence_matchers(id, scope.tenant_label.as_ref())?;
    let query = AlertQuery::default().filter(equal(CONDITION_ID_LABEL, id)?.to_string());
    let (am, silences, prometheus) = tokio::join!(
        scope.cluster.alerts(&query),
        active_silences(&scope, &matchers),
        prometheus_alerts(state, condition, &scope),
    );
    let am = am.map_err(|e| backend(&scope.what, e))?;
    let silences = silences?;
    let (prometheus, reason) = match prometheus {
        Ok(alerts) => (alerts, None),
        Err(reason) => (Vec::new(), Some(reason)),
    };
    let views = alert_views(&prometheus, &am.value);
    let mut ids: BTreeSet<String> = silences.into_iter().map(|s| s.id).collect();
    ids.extend(views.iter().flat_map(|v| v.silenced_by.iter().cloned()));
    answer["state"] = json!(overall_state(&views));
    answer["alerts"] = json!(views);
    answer["silences"] = json!(ids);
    if let Some(reason) = reason {
        answer["reason"] = json!(reason);
    }
    if !am.failed.is_empty() {
        answer["unanswered"] = json!(redacted_members(am.failed_members()));
    }
    Ok(json_response(StatusCode::OK, &answer))
}

/// The condition's alerts in Prometheus, or why there are none to show.
async fn prometheus_alerts(
    state: &AppState,
    condition: &AlertCondition,
    scope: &Scope,
) -> std::result::Result<Vec<PrometheusAlert>, String> {
    let Some(prometheus) = &state.functional.prometheus else {
        return Err(
            "no Prometheus is configured: pending alerts are not visible, and the state comes \
             from Alertmanager alone"
                .to_owned(),
        );
    };
    let tenant = condition
        .tenant
        .as_ref()
        .or(scope.tenant.as_ref())
        .map(TenantId::as_str);
    match prometheus.alerts(tenant).await {
        Ok(alerts) => Ok(alerts
            .into_iter()
            .filter(|a| {
                a.labels.get(CONDITION_ID_LABEL).map(String::as_str) == Some(condition.id.as_str())
            })
            .collect()),
        Err(e) => Err(format!(
            "Prometheus could not be read, so the state comes from Alertmanager alone: {e}"
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Test notifications

/// Alertmanager's per-integration notification counters on one member.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Counters {
    /// `alertmanager_notifications_total`: notifications begun.
    notifications: f64,
    /// `alertmanager_notifications_failed_total`: notifications given up on.
    notifications_failed: f64,
    /// `alertmanager_notification_requests_total`: attempts made.
    requests: f64,
    /// `alertmanager_notification_requests_failed_total`: attempts that failed.
    requests_failed: f64,
}

/// The four counters of `integration` in a `/metrics` text: Alertmanager's own names, or
/// Cortex's and Mimir's `cortex_alertmanager_...` series of `tenant` (label `user`).
fn parse_counters(text: &str, integration: &str, tenant: Option<&str>) -> Counters {
    let mut c = Counters::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(Sample {
            name,
            labels,
            value,
        }) = parse_sample(line)
        else {
            continue;
        };
        let (base, multi_tenant) = match name.strip_prefix("cortex_") {
            Some(rest) => (rest, true),
            None => (name, false),
        };
        let slot = match base {
            "alertmanager_notifications_total" => &mut c.notifications,
            "alertmanager_notifications_failed_total" => &mut c.notifications_failed,
            "alertmanager_notification_requests_total" => &mut c.requests,
            "alertmanager_notification_requests_failed_total" => &mut c.requests_failed,
            _ => continue,
        };
        let label = |n: &str| labels.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        if label("integration") != Some(integration) {
            continue;
        }
        if multi_tenant && (tenant.is_none() || label("user") != tenant) {
            continue;
        }
        *slot += value;
    }
    c
}

/// One sample of the Prometheus text format.
#[derive(Debug, Clone, PartialEq)]
struct Sample<'a> {
    name: &'a str,
    labels: Vec<(String, String)>,
    value: f64,
}

/// One sample line of the Prometheus text format: name, labels, value (no timestamp).
fn parse_sample(line: &str) -> Option<Sample<'_>> {
    let name_end = line.find(['{', ' ', '\t']).unwrap_or(line.len());
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices().peekable();
        let end = loop {
            while chars
                .next_if(|(_, c)| *c == ',' || c.is_whitespace())
                .is_some()
            {}
            let (start, c) = *chars.peek()?;
            if c == '}' {
                break start + 1;
            }
            let mut label = String::new();
            while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=') {
                label.push(c);
            }
            chars.next()?; // '='
            if chars.next()?.1 != '"' {
                return None;
            }
            let mut value = String::new();
            loop {
                match chars.next()?.1 {
                    '"' => break,
                    '\\' => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    other => value.push(other),
                }
            }
            labels.push((label.trim().to_owned(), value));
        };
        rest = body.get(end..)?;
    }
    let value = rest.split_whitespace().next()?.parse().ok()?;
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// What the counters of one member did since they were first read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Movement {
    /// More attempts than failed attempts: one succeeded.
    Delivered,
    /// Alertmanager gave a notification up.
    GaveUp,
    /// Attempts failed, none succeeded (yet).
    AttemptFailed,
    /// Nothing happened.
    Quiet,
}

fn movement(before: &Counters, after: &Counters) -> Movement {
    let rose = |b: f64, a: f64| (a - b).max(0.0);
    let requests = rose(before.requests, after.requests);
    let requests_failed = rose(before.requests_failed, after.requests_failed);
    if requests > requests_failed {
        Movement::Delivered
    } else if rose(before.notifications_failed, after.notifications_failed) > 0.0 {
        Movement::GaveUp
    } else if requests_failed > 0.0 {
        Movement::AttemptFailed
    } else {
        Movement::Quiet
    }
}

/// How a test notification ended.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Delivered { member: String, detail: String },
    Failed { member: String, detail: String },
    TimedOut { detail: String },
}

/// One member watched during a test.
struct Watched<'a> {
    member: &'a AlertmanagerClient,
    before: Counters,
}

/// Names for the counters in messages: Alertmanager's or Cortex's.
struct CounterNames {
    prefix: &'static str,
    selector: String,
}

impl CounterNames {
    fn new(integration: &str, tenant: Option<&str>, multi_tenant: bool) -> CounterNames {
        match (multi_tenant, tenant) {
            (true, Some(t)) => CounterNames {
                prefix: "cortex_",
                selector: format!("{{integration=\"{integration}\",user=\"{t}\"}}"),
            },
            _ => CounterNames {
                prefix: "",
                selector: format!("{{integration=\"{integration}\"}}"),
            },
        }
    }

    fn name(&self, counter: &str) -> String {
        format!("{}alertmanager_{counter}{}", self.prefix, self.selector)
    }
}

/// Reads one member's counters.
async fn read_counters(
    http: &reqwest::Client,
    member: &AlertmanagerClient,
    integration: &str,
    tenant: Option<&str>,
    timeout: Duration,
) -> std::result::Result<Counters, String> {
    let url = format!("{}/metrics", member.base_url());
    let response = http
        .get(&url)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| redact_urls(&format!("GET {url}: {e}")))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| redact_urls(&format!("GET {url}: {e}")))?;
    if !status.is_success() {
        return Err(redact_urls(&format!(
            "GET {url}: HTTP {}: {}",
            status.as_u16(),
            excerpt(text.as_bytes())
        )));
    }
    Ok(parse_counters(&text, integration, tenant))
}

/// Polls the watched members' counters until one shows the outcome, or the deadline.
async fn watch(
    http: &reqwest::Client,
    watched: &[Watched<'_>],
    integration: &str,
    tenant: Option<&str>,
    names: &CounterNames,
    options: FunctionalOptions,
) -> Outcome {
    let started = Instant::now();
    let mut delivered_last: Vec<bool> = vec![false; watched.len()];
    let mut first_failure: Option<(Instant, usize, Counters)> = None;
    loop {
        tokio::time::sleep(options.poll_interval).await;
        let reads =
            join_all(watched.iter().map(|w| {
                read_counters(http, w.member, integration, tenant, options.metrics_timeout)
            }))
            .await;
        let timed_out = started.elapsed() >= options.test_deadline;
        for (i, (w, read)) in watched.iter().zip(reads).enumerate() {
            let Ok(now) = read else {
                delivered_last[i] = false;
                continue;
            };
            let member = redact_urls(w.member.name());
            match movement(&w.before, &now) {
                Movement::Delivered if delivered_last[i] || timed_out => {
                    let attempts = now.requests - w.before.requests;
                    let failed = now.requests_failed - w.before.requests_failed;
                    return Outcome::Delivered {
                        detail: format!(
                            "{member}: {} rose by {attempts} and {} by {failed}: the {integration} \
                             integration accepted the test notification",
                            names.name("notification_requests_total"),
                            names.name("notification_requests_failed_total"),
                        ),
                        member,
                    };
                }
                Movement::Delivered => delivered_last[i] = true,
                Movement::GaveUp => {
                    let failed = now.notifications_failed - w.before.notifications_failed;
                    return Outcome::Failed {
                        detail: format!(
                            "{member}: {} rose by {failed}: Alertmanager gave the notification \
                             up; the member's log has the reason (\"Notify for alerts failed\")",
                            names.name("notifications_failed_total"),
                        ),
                        member,
                    };
                }
                Movement::AttemptFailed => {
                    delivered_last[i] = false;
                    if first_failure.is_none() {
                        first_failure = Some((Instant::now(), i, w.before));
                    }
                }
                Movement::Quiet => delivered_last[i] = false,
            }
        }
        if let Some((at, i, before)) = first_failure
            && (at.elapsed() >= options.failure_grace || timed_out)
            && let Some(w) = watched.get(i)
        {
            let member = redact_urls(w.member.name());
            let now = read_counters(http, w.member, integration, tenant, options.metrics_timeout)
                .await
                .unwrap_or(before);
            let failed = (now.requests_failed - before.requests_failed).max(1.0);
            return Outcome::Failed {
                detail: format!(
                    "{member}: {} rose by {failed} and no attempt succeeded within {:?}; \
                     Alertmanager keeps retrying until the group's timeout. The member's log \
                     has the reason (\"Notify attempt failed\")",
                    names.name("notification_requests_failed_total"),
                    options.failure_grace,
                ),
                member,
            };
        }
        if timed_out {
            return Outcome::TimedOut {
                detail: format!(
                    "neither {} nor {} moved on any member within {:?}: the receiver may have \
                     no {integration} integration, or Alertmanager has not sent the \
                     notification yet",
                    names.name("notification_requests_total"),
                    names.name("notification_requests_failed_total"),
                    options.test_deadline,
                ),
            };
        }
    }
}

/// A test id no other test of this process (or, with the time in it, of another) shares.
fn unique_test_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = jiff::Timestamp::now().as_nanosecond();
    format!("{nanos:x}-{:x}-{n}", std::process::id())
}

/// How many integrations of Alertmanager type `kind` (`webhook`, `slack`, ...) a receiver
/// has.
fn integrations(receiver: &Receiver, kind: &str) -> usize {
    match kind {
        "discord" => receiver.discord_configs.len(),
        "email" => receiver.email_configs.len(),
        "pagerduty" => receiver.pagerduty_configs.len(),
        "slack" => receiver.slack_configs.len(),
        "webhook" => receiver.webhook_configs.len(),
        "opsgenie" => receiver.opsgenie_configs.len(),
        "wechat" => receiver.wechat_configs.len(),
        "pushover" => receiver.pushover_configs.len(),
        "victorops" => receiver.victorops_configs.len(),
        "sns" => receiver.sns_configs.len(),
        "telegram" => receiver.telegram_configs.len(),
        "webex" => receiver.webex_configs.len(),
        _ => 0,
    }
}

/// Checks, on every member's running configuration, that `labels` routes to `receiver`,
/// which has an integration of type `integration`, and otherwise only to the history
/// webhook. Returns the caveats to report: other receivers reached whose notifications
/// move the same counters.
async fn check_test_route(
    scope: &Scope,
    endpoint: &AlertEndpoint,
    labels: &LabelSet,
    receiver: &str,
    integration: &str,
) -> Result<Vec<String>> {
    let statuses = scope
        .cluster
        .statuses()
        .await
        .map_err(|e| backend(&scope.what, e))?;
    let mut caveats = BTreeSet::new();
    for (member, status) in &statuses.value {
        let member = redact_urls(member);
        let config = Config::from_yaml(&status.config.original).map_err(|e| {
            backend(
                &scope.what,
                format!("member {member}: its running configuration cannot be read: {e}"),
            )
        })?;
        let Some(target) = config.receiver(receiver) else {
            return Err(Error::Conflict(format!(
                "endpoint {} is not in the configuration of {} (member {member} has no receiver \
                 {receiver:?}): no condition of this tenant attaches it yet, or the control \
                 plane has not written it; a test alert would go nowhere",
                endpoint.id, scope.what
            )));
        };
        if integrations(target, integration) == 0 {
            return Err(Error::Conflict(format!(
                "receiver {receiver:?} in the configuration of {} (member {member}) has no \
                 {integration} integration, but endpoint {} is of that kind: the configuration \
                 is not the control plane's latest",
                scope.what, endpoint.id
            )));
        }
        let tree = RoutingTree::new(&config.route).map_err(|e| {
            backend(
                &scope.what,
                format!("member {member}: its routing tree cannot be read: {e}"),
            )
        })?;
        let reached = tree.receivers(labels);
        let elsewhere = reached
            .iter()
            .any(|r| *r != receiver && *r != HISTORY_RECEIVER);
        if elsewhere || !reached.contains(&receiver) {
            return Err(Error::Conflict(format!(
                "on member {member} of {} a test alert for endpoint {} would reach {reached:?} \
                 rather than receiver {receiver:?} (and at most the history webhook): the configuration lacks the endpoint's test \
                 route (matchers ['{ENDPOINT_TEST_LABEL}=\"{}\"'], continue: false, before the \
                 condition routes)",
                scope.what, endpoint.id, endpoint.id
            )));
        }
        for other in reached.iter().filter(|r| **r != receiver) {
            if config
                .receiver(other)
                .is_some_and(|r| integrations(r, integration) > 0)
            {
                caveats.insert(format!(
                    "receiver {other:?} also gets the test alert (after its own group_wait), and \
                     its {integration} notifications move the same counters"
                ));
            }
        }
    }
    Ok(caveats.into_iter().collect())
}

async fn test_endpoint(
    State(state): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    respond(test_endpoint_inner(&state, &id, query.as_deref()).await)
}

async fn test_endpoint_inner(state: &AppState, id: &str, query: Option<&str>) -> Result<Response> {
    let params = query_params(query, &["tenant"])?;
    let tenant = params
        .get("tenant")
        .map(|t| {
            TenantId::new(t.clone())
                .map_err(|e| Error::BadRequest(format!("query parameter tenant: {e}")))
        })
        .transpose()?;
    let endpoint = state.plane.get::<AlertEndpoint>(id).await?.value;
    let scope = state.functional.scope(
        tenant.as_ref(),
        &format!("the test of endpoint {id} names no tenant (?tenant=)"),
    )?;
    let integration = endpoint.kind.name();
    let receiver = receiver_name(&endpoint.id);
    let test_id = unique_test_id();
    let mut pairs = vec![
        ("alertname", TEST_ALERTNAME.to_owned()),
        (ENDPOINT_TEST_LABEL, endpoint.id.as_str().to_owned()),
        (TEST_ID_LABEL, test_id.clone()),
    ];
    if let Some(t) = &scope.tenant_label {
        pairs.push((TENANT_LABEL, t.as_str().to_owned()));
    }
    let labels = LabelSet::from_pairs(pairs).map_err(|e| Error::Invalid(e.to_string()))?;
    let caveats = check_test_route(&scope, &endpoint, &labels, receiver, integration).await?;

    let options = state.functional.options;
    let tenant_str = scope.tenant.as_ref().map(TenantId::as_str);
    let members = scope.cluster.members();
    let multi_tenant = members.iter().any(|m| m.addressing().org_id().is_some());
    let names = CounterNames::new(integration, tenant_str, multi_tenant);
    let before = join_all(members.iter().map(|m| {
        read_counters(
            &state.http,
            m,
            integration,
            tenant_str,
            options.metrics_timeout,
        )
    }))
    .await;
    let mut watched = Vec::new();
    let mut unreadable = Vec::new();
    for (member, read) in members.iter().zip(before) {
        match read {
            Ok(before) => watched.push(Watched { member, before }),
            Err(e) => unreadable.push(e),
        }
    }
    if watched.is_empty() {
        return Err(backend(
            &scope.what,
            format!(
                "no member's /metrics could be read, so a test notification's outcome could not \
                 be seen: {}",
                unreadable.join("; ")
            ),
        ));
    }

    let starts_at = now();
    let mut alert = PostableAlert::new(labels);
    alert.annotations = LabelSet::from_pairs([(
        "summary",
        format!("A test notification from the alerting gateway for endpoint {id}"),
    )])
    .map_err(|e| Error::Invalid(e.to_string()))?;
    alert.starts_at = Some(starts_at);
    // Long enough never to resolve by itself while watched; resolved explicitly below.
    let hold = alert_core::Duration::try_from(options.test_deadline + Duration::from_secs(300))
        .unwrap_or(alert_core::Duration::ZERO);
    alert.ends_at = starts_at.checked_add(hold);
    scope
        .cluster
        .post_alerts(std::slice::from_ref(&alert))
        .await
        .map_err(|e| backend(&scope.what, e))?;
    tracing::info!(endpoint = %id, %test_id, integration, "test notification posted");

    let outcome = watch(
        &state.http,
        &watched,
        integration,
        tenant_str,
        &names,
        options,
    )
    .await;

    alert.ends_at = Some(now());
    let resolved = match scope.cluster.post_alerts(&[alert]).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(endpoint = %id, %test_id, error = %redact_urls(&e.to_string()), "the test alert could not be resolved");
            false
        }
    };
    let (result, member, mut detail) = match outcome {
        Outcome::Delivered { member, detail } => ("delivered", member, detail),
        Outcome::Failed { member, detail } => ("failed", member, detail),
        Outcome::TimedOut { detail } => {
            tracing::warn!(endpoint = %id, %test_id, "test notification: no outcome in time");
            return Ok(error_response(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                &format!("endpoint {id}, test {test_id}: {detail}"),
            ));
        }
    };
    if !unreadable.is_empty() {
        detail.push_str(&format!(" (not watched: {})", unreadable.join("; ")));
    }
    tracing::info!(endpoint = %id, %test_id, result, %member, "test notification");
    let mut answer = json!({
        "endpoint": id,
        "tenant": scope.tenant.as_ref().map(TenantId::as_str),
        "integration": integration,
        "result": result,
        "member": member,
        "detail": detail,
        "test_id": test_id,
        "resolved": resolved,
    });
    if !caveats.is_empty() {
        answer["caveats"] = json!(caveats);
    }
    Ok(json_response(StatusCode::OK, &answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_requests_name_the_field_at_fault() {
        let ok = silence_request(&json!({"duration": "2h", "comment": "maintenance"})).unwrap();
        assert_eq!(ok.duration.as_secs(), 7200);
        assert_eq!(ok.created_by, DEFAULT_CREATED_BY);
        let by = silence_request(&json!({"duration": "90m", "comment": "c", "created_by": "ops"}))
            .unwrap();
        assert_eq!(by.created_by, "ops");
        for (body, field) in [
            (json!({"duration": "abc", "comment": "c"}), "duration: "),
            (json!({"duration": "0s", "comment": "c"}), "duration: "),
            (json!({"duration": "1.5h", "comment": "c"}), "duration: "),
            (json!({"duration": 3600, "comment": "c"}), "duration: "),
            (json!({"comment": "c"}), "duration: "),
            (json!({"duration": "1h"}), "comment: "),
            (json!({"duration": "1h", "comment": "  "}), "comment: "),
            (
                json!({"duration": "1h", "comment": "c", "created_by": 1}),
                "created_by: ",
            ),
            (
                json!({"duration": "1h", "comment": "c", "endsAt": "x"}),
                "endsAt: unknown field",
            ),
            (json!(["1h"]), "body: "),
        ] {
            let e = silence_request(&body).unwrap_err();
            assert_eq!(e.status(), 400, "{body}");
            assert!(e.to_string().starts_with(field), "{body}: {e}");
        }
    }

    #[test]
    fn silence_matchers_are_the_condition_and_its_tenant_label() {
        let plain = silence_matchers("cpu-high", None).unwrap();
        assert_eq!(plain.to_string(), r#"{alert_condition_id="cpu-high"}"#);
        let t = TenantId::new("cluster-a").unwrap();
        let tenanted = silence_matchers("cpu-high", Some(&t)).unwrap();
        assert_eq!(
            tenanted.to_string(),
            r#"{alert_condition_id="cpu-high",tenant="cluster-a"}"#
        );
        let silence = |m: &str| -> Silence {
            serde_json::from_value(json!({
                "id": "s", "matchers": serde_json::from_str::<Value>(m).unwrap(),
                "startsAt": "2024-05-01T10:00:00Z", "endsAt": "2024-05-01T12:00:00Z",
                "createdBy": "x", "comment": "y", "status": {"state": "active"},
                "updatedAt": "2024-05-01T10:00:00Z"
            }))
            .unwrap()
        };
        let same = silence(
            r#"[{"name":"tenant","value":"cluster-a","isRegex":false,"isEqual":true},
                {"name":"alert_condition_id","value":"cpu-high","isRegex":false,"isEqual":true}]"#,
        );
        assert!(has_exactly(&same, &tenanted));
        assert!(!has_exactly(&same, &plain), "an extra matcher is not ours");
        let regex = silence(
            r#"[{"name":"alert_condition_id","value":"cpu-high","isRegex":true,"isEqual":true}]"#,
        );
        assert!(!has_exactly(&regex, &plain), "the match type counts");
    }

    const METRICS: &str = r#"# HELP alertmanager_notifications_total The total number of attempted notifications.
# TYPE alertmanager_notifications_total counter
alertmanager_notifications_total{integration="email"} 0
alertmanager_notifications_total{integration="webhook"} 2
alertmanager_notifications_failed_total{integration="webhook"} 1
alertmanager_notification_requests_total{integration="webhook"} 10
alertmanager_notification_requests_failed_total{integration="webhook"} 9
alertmanager_notification_latency_seconds_count{integration="webhook"} 10
cortex_alertmanager_notifications_total{integration="webhook",user="t1"} 5
cortex_alertmanager_notification_requests_total{integration="webhook",user="t2"} 7
cortex_alertmanager_notification_requests_total{user="t1", integration="webhook"} 4
weird_metric{a="x\"y,z}",integration="webhook"} 3
"#;

    #[test]
    fn counters_are_read_for_one_integration_and_tenant() {
        assert_eq!(
            parse_counters(METRICS, "webhook", None),
            Counters {
                notifications: 2.0,
                notifications_failed: 1.0,
                requests: 10.0,
                requests_failed: 9.0,
            }
        );
        assert_eq!(parse_counters(METRICS, "slack", None), Counters::default());
        let t1 = parse_counters(METRICS, "webhook", Some("t1"));
        assert_eq!(
            t1.notifications, 7.0,
            "vanilla and the tenant's Cortex series"
        );
        assert_eq!(t1.requests, 14.0);
        let sample = parse_sample(r#"weird_metric{a="x\"y,z}",b="\\"} 3"#).unwrap();
        assert_eq!(sample.name, "weird_metric");
        assert_eq!(sample.labels[0], ("a".to_owned(), "x\"y,z}".to_owned()));
        assert_eq!(sample.labels[1], ("b".to_owned(), "\\".to_owned()));
        assert_eq!(sample.value, 3.0);
        assert!(parse_sample("broken{a=\"x} 1").is_none());
        assert_eq!(parse_sample("plain 1e3").map(|s| s.value), Some(1000.0));
    }

    #[test]
    fn movements_tell_delivery_from_failure() {
        let c = |r: f64, rf: f64, nf: f64| Counters {
            notifications: 0.0,
            notifications_failed: nf,
            requests: r,
            requests_failed: rf,
        };
        let before = c(10.0, 9.0, 1.0);
        assert_eq!(movement(&before, &before), Movement::Quiet);
        assert_eq!(movement(&before, &c(11.0, 9.0, 1.0)), Movement::Delivered);
        assert_eq!(
            movement(&before, &c(14.0, 12.0, 1.0)),
            Movement::Delivered,
            "a success among another notification's failed retries"
        );
        assert_eq!(
            movement(&before, &c(12.0, 11.0, 1.0)),
            Movement::AttemptFailed
        );
        assert_eq!(movement(&before, &c(12.0, 11.0, 2.0)), Movement::GaveUp);
        assert_eq!(
            movement(&before, &c(0.0, 0.0, 0.0)),
            Movement::Quiet,
            "a restarted member's reset counters are not movement"
        );
    }

    fn am_alert(labels: &[(&str, &str)], state: &str, silenced_by: &[&str]) -> GettableAlert {
        serde_json::from_value(json!({
            "labels": labels.iter().cloned().collect::<BTreeMap<_, _>>(),
            "annotations": {}, "receivers": [], "fingerprint": "0a",
            "startsAt": "2024-05-01T10:00:00Z", "updatedAt": "2024-05-01T10:00:00Z",
            "endsAt": "2024-05-01T11:00:00Z",
            "status": {"state": state, "silencedBy": silenced_by, "inhibitedBy": []}
        }))
        .unwrap()
    }

    fn prom_alert(labels: &[(&str, &str)], state: &str) -> PrometheusAlert {
        PrometheusAlert {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: BTreeMap::new(),
            state: state.to_owned(),
            active_at: Some("2024-05-01T09:59:00Z".to_owned()),
            value: Some("1e+00".to_owned()),
        }
    }

    #[test]
    fn states_merge_prometheus_and_alertmanager() {
        let id = [(CONDITION_ID_LABEL, "c"), ("alertname", "A")];
        assert_eq!(overall_state(&alert_views(&[], &[])), "inactive");
        let pending = alert_views(&[prom_alert(&id, "pending")], &[]);
        assert_eq!(overall_state(&pending), "pending");
        let firing = alert_views(&[prom_alert(&id, "firing")], &[]);
        assert_eq!(overall_state(&firing), "firing");
        assert_eq!(firing[0].source, "prometheus");

        // Alertmanager holds the alert Prometheus fires (with an external label more):
        // its view wins.
        let mut held: Vec<(&str, &str)> = id.to_vec();
        held.push(("replica", "0"));
        let silenced = alert_views(
            &[prom_alert(&id, "firing")],
            &[am_alert(&held, "suppressed", &["s1"])],
        );
        assert_eq!(silenced.len(), 1);
        assert_eq!(silenced[0].state, "silenced");
        assert_eq!(silenced[0].silenced_by, ["s1"]);
        assert_eq!(overall_state(&silenced), "silenced");

        let inhibited = alert_views(&[], &[am_alert(&id, "suppressed", &[])]);
        assert_eq!(inhibited[0].state, "inhibited");
        assert_eq!(overall_state(&inhibited), "silenced");

        let mixed = alert_views(
            &[prom_alert(
                &[(CONDITION_ID_LABEL, "c"), ("pod", "b")],
                "pending",
            )],
            &[
                am_alert(&id, "suppressed", &["s1"]),
                am_alert(&[(CONDITION_ID_LABEL, "c"), ("pod", "x")], "active", &[]),
            ],
        );
        assert_eq!(overall_state(&mixed), "firing", "one unmuted alert fires");
        assert_eq!(mixed.len(), 3);
    }

    #[test]
    fn query_parameters_are_strict() {
        let p = query_params(Some("tenant=cluster%2Da"), &["tenant"]).unwrap();
        assert_eq!(p["tenant"], "cluster-a");
        assert_eq!(query_params(None, &[]).unwrap().len(), 0);
        assert!(query_params(Some("x=1"), &["tenant"]).is_err());
        assert!(query_params(Some("tenant=a&tenant=b"), &["tenant"]).is_err());
    }

    #[test]
    fn ruler_prefixes_are_normalised() {
        let r = PrometheusApi::ruler("http://ruler:8080/", "prometheus/").unwrap();
        assert_eq!(
            r.flavor(),
            &PrometheusFlavor::Ruler {
                prefix: "/prometheus".to_owned()
            }
        );
        assert_eq!(r.base_url(), "http://ruler:8080");
        let e = PrometheusApi::prometheus("ftp://user:pw@h/").unwrap_err();
        assert!(!e.to_string().contains("pw"), "{e}");
    }
}
