//! Stands in for Grafana, which cannot be installed on these machines: the
//! Prometheus-compatible rules endpoint of Grafana-managed alerting,
//! `GET /api/prometheus/grafana/api/v1/rules`, as Grafana 11 serves it
//! (`pkg/services/ngalert/api/prometheus/api_prometheus.go`, `toRuleGroup` and
//! `RuleAlertStateMutatorGenerator`; the models of
//! `pkg/services/ngalert/api/tooling/definitions/prom.go`).
//!
//! - The answer: `{"status": "success", "data": {"groups": [...], "totals": {...}}}`;
//!   groups sorted by folder then name, each with `name`, `file` (the folder's title),
//!   `folderUid`, `rules`, `totals`, `interval`, `lastEvaluation`, `evaluationTime`; a
//!   rule with `state` derived from its instances as Grafana derives it (`firing` when one
//!   is `Alerting`, else `pending` when one is `Pending`, else `inactive`), `name`, `uid`,
//!   `folderUid`, `query`, `duration`, `annotations`, `health` (`ok`, `error`, `nodata`),
//!   `lastError`, `type: alerting`, `totals` and `alerts`: the instances, most important
//!   first (Alerting, Pending, Error, NoData, Normal), their labels the rule's plus
//!   `alertname` and `grafana_folder` (internal `__…__` labels left out, as without
//!   `includeInternalLabels`). Empty `alerts`, `labels` and `lastError` are omitted, as
//!   Go's `omitempty` omits them.
//! - Authentication as Grafana's `authn` clients answer an API request: a service-account
//!   token or API key as `Authorization: Bearer`, or as the basic-auth password of user
//!   `api_key`; basic authentication with a user's password. No credentials: 401
//!   `{"message":"Unauthorized","messageId":"auth.unauthorized",…}`; a wrong token: 401
//!   `Invalid API key` (`api-key.invalid`); a wrong password: 401 `Invalid username or
//!   password` (`basic-auth.invalid-credentials`); each with `statusCode` and `traceID`.
//! - A failure on demand ([`GrafanaFixture::fail_rules`]): 500 with Grafana's error
//!   envelope, `{"status":"error","errorType":"server_error","error":"failure getting
//!   rules: …"}`.
//! - Every request is recorded (method, path, query, which credentials, never their
//!   value), so tests count how a client talks to it.
//!
//! What it leaves out: every other Grafana API (answered 404 `{"message":"Not found"}`),
//! the query filters of the rules endpoint (`folder_uid`, `rule_group`, `dashboard_uid`,
//! `state`, `matcher`, pagination: a client reading everything and picking, as the health
//! graph does, never sends them), organisations and folder permissions, evaluation
//! itself (tests set each rule's instances and health).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};

use crate::server_thread::{ServerThread, Workers};

/// The service-account token the fixture accepts unless told otherwise.
pub const DEFAULT_TOKEN: &str = "glsa_testkit_0123456789abcdef";

/// The path of the rules endpoint.
pub const RULES_PATH: &str = "/api/prometheus/grafana/api/v1/rules";

/// One Grafana-managed alert rule, with the instances its last evaluation left.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    folder: String,
    folder_uid: String,
    group: String,
    title: String,
    uid: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    health: String,
    last_error: Option<String>,
    for_seconds: u64,
    instances: Vec<(String, BTreeMap<String, String>)>,
}

impl AlertRule {
    /// A rule titled `title` (UID `uid`) in group `group` of folder `folder` (UID
    /// `folder_uid`), healthy and without instances.
    pub fn new(folder: &str, folder_uid: &str, group: &str, title: &str, uid: &str) -> AlertRule {
        AlertRule {
            folder: folder.to_owned(),
            folder_uid: folder_uid.to_owned(),
            group: group.to_owned(),
            title: title.to_owned(),
            uid: uid.to_owned(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            health: "ok".to_owned(),
            last_error: None,
            for_seconds: 0,
            instances: Vec::new(),
        }
    }

    /// Adds a label of the rule (every instance has it too).
    pub fn label(mut self, name: &str, value: &str) -> AlertRule {
        self.labels.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Adds an annotation (`__dashboardUid__` and `__panelId__` link a panel).
    pub fn annotation(mut self, name: &str, value: &str) -> AlertRule {
        self.annotations.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The pending period (`for`), seconds.
    pub fn pending_period(mut self, seconds: u64) -> AlertRule {
        self.for_seconds = seconds;
        self
    }

    /// The rule's health, `ok`, `error` (with `last_error`) or `nodata`.
    pub fn health(mut self, health: &str, last_error: Option<&str>) -> AlertRule {
        self.health = health.to_owned();
        self.last_error = last_error.map(str::to_owned);
        self
    }

    /// Adds an instance in `state` (`Normal`, `Alerting`, `Pending`, `NoData`, `Error`,
    /// perhaps with a reason: `Alerting (NoData)`) with its series' labels.
    pub fn instance(mut self, state: &str, labels: &[(&str, &str)]) -> AlertRule {
        let labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.instances.push((state.to_owned(), labels));
        self
    }
}

/// One request as the fixture saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrafanaRequest {
    /// The method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// `bearer`, `basic` or `none`: which credentials came, never their value.
    pub credentials: String,
}

#[derive(Debug, Default)]
struct Store {
    rules: Vec<AlertRule>,
    failure: Option<String>,
    requests: Vec<GrafanaRequest>,
}

#[derive(Debug)]
struct Shared {
    token: String,
    users: BTreeMap<String, String>,
    store: Mutex<Store>,
}

/// Options of the fixture.
#[derive(Debug, Clone, Default)]
pub struct GrafanaBuilder {
    token: Option<String>,
    users: BTreeMap<String, String>,
}

impl GrafanaBuilder {
    /// The service-account token accepted (default [`DEFAULT_TOKEN`]).
    pub fn token(mut self, token: &str) -> GrafanaBuilder {
        self.token = Some(token.to_owned());
        self
    }

    /// A user who may sign in with basic authentication.
    pub fn user(mut self, name: &str, password: &str) -> GrafanaBuilder {
        self.users.insert(name.to_owned(), password.to_owned());
        self
    }

    /// Starts the fixture on a free loopback port.
    pub fn start(self) -> GrafanaFixture {
        let shared = Arc::new(Shared {
            token: self.token.unwrap_or_else(|| DEFAULT_TOKEN.to_owned()),
            users: self.users,
            store: Mutex::new(Store::default()),
        });
        let app = Router::new()
            .fallback(any(handle))
            .with_state(Arc::clone(&shared));
        let server = ServerThread::start("the Grafana fixture", app, Workers::CurrentThread);
        GrafanaFixture { shared, server }
    }
}

/// A running fixture; stops when dropped.
#[derive(Debug)]
pub struct GrafanaFixture {
    shared: Arc<Shared>,
    server: ServerThread,
}

impl GrafanaFixture {
    /// A fixture accepting [`DEFAULT_TOKEN`] and no user.
    pub fn start() -> GrafanaFixture {
        GrafanaFixture::builder().start()
    }

    /// Options.
    pub fn builder() -> GrafanaBuilder {
        GrafanaBuilder::default()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The token it accepts.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.shared.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a rule (rules of one group keep the order they were added in).
    pub fn add_rule(&self, rule: AlertRule) {
        self.store().rules.push(rule);
    }

    /// Removes every rule of `group` in folder `folder`, as deleting the group does.
    pub fn delete_group(&self, folder: &str, group: &str) {
        self.store()
            .rules
            .retain(|r| !(r.folder == folder && r.group == group));
    }

    /// Makes the rules endpoint fail with `reason` (500), or answer again with `None`.
    pub fn fail_rules(&self, reason: Option<&str>) {
        self.store().failure = reason.map(str::to_owned);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<GrafanaRequest> {
        self.store().requests.clone()
    }

    /// How many requests were made to `path`.
    pub fn count(&self, path: &str) -> usize {
        self.store()
            .requests
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    /// The answer a signed-in client gets from the rules endpoint now.
    pub fn rules_answer(&self) -> Value {
        render(&self.store().rules)
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Grafana's `errutil` public error body.
fn unauthorized(message: &str, message_id: &str) -> Response {
    json_response(
        StatusCode::UNAUTHORIZED,
        &json!({"message": message, "messageId": message_id, "statusCode": 401, "traceID": ""}),
    )
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (scheme, credential) = match authorization.as_deref().and_then(|a| a.split_once(' ')) {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest.trim().to_owned()),
        None => ("none".to_owned(), String::new()),
    };
    let mut store = shared.store.lock().unwrap_or_else(|e| e.into_inner());
    store.requests.push(GrafanaRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        credentials: scheme.clone(),
    });
    match scheme.as_str() {
        "bearer" if credential == shared.token => {}
        "bearer" => return unauthorized("Invalid API key", "api-key.invalid"),
        "basic" => {
            let decoded = decode_base64(&credential).unwrap_or_default();
            let (user, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
            let ok = if user == "api_key" {
                password == shared.token
            } else {
                shared.users.get(user).is_some_and(|p| p == password)
            };
            if !ok {
                return if user == "api_key" {
                    unauthorized("Invalid API key", "api-key.invalid")
                } else {
                    unauthorized(
                        "Invalid username or password",
                        "basic-auth.invalid-credentials",
                    )
                };
            }
        }
        _ => return unauthorized("Unauthorized", "auth.unauthorized"),
    }
    if uri.path() != RULES_PATH {
        return json_response(StatusCode::NOT_FOUND, &json!({"message": "Not found"}));
    }
    if method != Method::GET {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"message": "Method Not Allowed"}),
        );
    }
    if let Some(reason) = &store.failure {
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"status": "error", "errorType": "server_error",
                    "error": format!("failure getting rules: {reason}")}),
        );
    }
    json_response(StatusCode::OK, &render(&store.rules))
}

/// `StateByImportance` of `prom.go`: Alerting, Pending, Error, NoData, Normal.
fn importance(state: &str) -> u8 {
    match state.split(" (").next().unwrap_or(state) {
        "Alerting" => 0,
        "Pending" => 1,
        "Error" => 2,
        "NoData" => 3,
        _ => 4,
    }
}

/// The answer for `rules`, as `PrepareRuleGroupStatuses` and `toRuleGroup` build it.
fn render(rules: &[AlertRule]) -> Value {
    let mut groups: BTreeMap<(String, String, String), Vec<&AlertRule>> = BTreeMap::new();
    for r in rules {
        groups
            .entry((r.folder.clone(), r.group.clone(), r.folder_uid.clone()))
            .or_default()
            .push(r);
    }
    let evaluated = "2024-05-14T09:20:00Z";
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    let rendered: Vec<Value> = groups
        .into_iter()
        .map(|((folder, group, folder_uid), rules)| {
            let mut group_totals: BTreeMap<String, i64> = BTreeMap::new();
            let rendered: Vec<Value> = rules
                .into_iter()
                .map(|r| {
                    let value = render_rule(r, evaluated);
                    let state = value["state"].as_str().unwrap_or("inactive").to_owned();
                    *group_totals.entry(state).or_default() += 1;
                    if r.health == "error" || r.health == "nodata" {
                        *group_totals.entry(r.health.clone()).or_default() += 1;
                    }
                    value
                })
                .collect();
            for (k, v) in &group_totals {
                *totals.entry(k.clone()).or_default() += v;
            }
            json!({"name": group, "file": folder, "folderUid": folder_uid, "rules": rendered,
                   "totals": group_totals, "interval": 60, "lastEvaluation": evaluated,
                   "evaluationTime": 0.012})
        })
        .collect();
    json!({"status": "success", "data": {"groups": rendered, "totals": totals}})
}

fn render_rule(r: &AlertRule, evaluated: &str) -> Value {
    let mut state = "inactive";
    let mut rule_totals: BTreeMap<String, i64> = BTreeMap::new();
    let mut instances: Vec<&(String, BTreeMap<String, String>)> = r.instances.iter().collect();
    instances.sort_by_key(|(s, _)| importance(s));
    let alerts: Vec<Value> = instances
        .into_iter()
        .map(|(instance_state, series)| {
            let base = instance_state.split(" (").next().unwrap_or(instance_state);
            *rule_totals.entry(base.to_ascii_lowercase()).or_default() += 1;
            match base {
                "Alerting" => state = "firing",
                "Pending" if state == "inactive" => state = "pending",
                _ => {}
            }
            let mut labels = r.labels.clone();
            labels.extend(series.clone());
            labels.insert("alertname".to_owned(), r.title.clone());
            labels.insert("grafana_folder".to_owned(), r.folder.clone());
            json!({"labels": labels, "annotations": r.annotations, "state": instance_state,
                   "activeAt": "2024-05-14T09:00:00Z",
                   "value": if matches!(base, "Alerting" | "Pending") { "1e+00" } else { "" }})
        })
        .collect();
    let mut rule = Map::new();
    rule.insert("state".to_owned(), json!(state));
    rule.insert("name".to_owned(), json!(r.title));
    rule.insert("query".to_owned(), json!(""));
    if r.for_seconds > 0 {
        rule.insert("duration".to_owned(), json!(r.for_seconds));
    }
    rule.insert("annotations".to_owned(), json!(r.annotations));
    if !alerts.is_empty() {
        rule.insert("alerts".to_owned(), Value::Array(alerts));
    }
    rule.insert("totals".to_owned(), json!(rule_totals));
    rule.insert("uid".to_owned(), json!(r.uid));
    rule.insert("folderUid".to_owned(), json!(r.folder_uid));
    if !r.labels.is_empty() {
        rule.insert("labels".to_owned(), json!(r.labels));
    }
    rule.insert("health".to_owned(), json!(r.health));
    if let Some(e) = r.last_error.as_deref().filter(|e| !e.is_empty()) {
        rule.insert("lastError".to_owned(), json!(e));
    }
    rule.insert("type".to_owned(), json!("alerting"));
    rule.insert("lastEvaluation".to_owned(), json!(evaluated));
    rule.insert("evaluationTime".to_owned(), json!(0.012));
    Value::Object(rule)
}

/// A basic-auth header's `user:password`, `None` when it is not base64 of UTF-8.
fn decode_base64(text: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_states_follow_the_instances_and_empty_fields_are_omitted() {
        let rules = vec![
            AlertRule::new("Shop", "shop", "checkout", "Latency", "lat")
                .instance("Normal", &[("route", "/")])
                .instance("Pending", &[("route", "/pay")]),
            AlertRule::new("Platform", "pl", "cpu", "CPU", "cpu")
                .label("team", "dba")
                .instance("Normal", &[("host", "a")])
                .instance("Alerting (NoData)", &[("host", "b")]),
            AlertRule::new("Platform", "pl", "cpu", "Quiet", "q"),
        ];
        let answer = render(&rules);
        let groups = answer["data"]["groups"].as_array().expect("groups");
        assert_eq!(groups[0]["file"], "Platform");
        assert_eq!(groups[1]["file"], "Shop");
        let cpu = &groups[0]["rules"][0];
        assert_eq!(cpu["state"], "firing");
        assert_eq!(cpu["alerts"][0]["state"], "Alerting (NoData)");
        assert_eq!(cpu["alerts"][0]["labels"]["team"], "dba");
        assert_eq!(cpu["alerts"][0]["labels"]["alertname"], "CPU");
        let quiet = groups[0]["rules"][1].as_object().expect("rule");
        assert!(!quiet.contains_key("alerts") && !quiet.contains_key("labels"));
        assert!(!quiet.contains_key("lastError"));
        assert_eq!(groups[1]["rules"][0]["state"], "pending");
        assert_eq!(answer["data"]["totals"]["firing"], 1);
        assert_eq!(answer["data"]["totals"]["inactive"], 1);
    }

    #[test]
    fn basic_credentials_decode() {
        assert_eq!(
            decode_base64("YWRtaW46YWRtaW4=").as_deref(),
            Some("admin:admin")
        );
        assert_eq!(decode_base64("!!"), None);
    }
}
