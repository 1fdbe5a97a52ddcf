//! Stands in for Cortex's and Mimir's documented multi-tenant Alertmanager HTTP API: the
//! tenant header (`X-Scope-OrgID`; 401 `no org id` without it, 401 `unable to determine
//! the OrgID: …` for a multi-tenant id), the per-tenant configuration API
//! `/api/v1/alerts` (GET 200 YAML or 404 `alertmanager storage object not found`; POST
//! 201, or 400 with Cortex's validation messages; DELETE 200 whether or not a
//! configuration was stored; 413 over the request size cap), and `<prefix>/api/v2/*`
//! (default prefix `/alertmanager`; 404 `the Alertmanager is not configured` for a tenant
//! without a running Alertmanager). Behind each tenant runs a REAL Alertmanager 0.25
//! process (a gossip cluster of them with several replicas), started and reconfigured by
//! a poller that reads the configuration store, as Cortex's instances poll theirs
//! (`-alertmanager.configs.poll-interval`): a POST is stored at once and running a
//! moment later.
//!
//! Validation runs in Cortex's order: size limit, envelope YAML, empty configuration,
//! `config.Load` (here: the real `amtool check-config`, which also parses templates),
//! the forbidden `*_file` settings, bare template names, template count and size limits.
//!
//! With `replicas: n` the fixture is Cortex without sharding: `n` HTTP endpoints, each
//! answering for every tenant from its own Alertmanager of that tenant; the tenant's `n`
//! Alertmanagers gossip silences, and alerts posted to one endpoint stay there. Each
//! endpoint sends a request to its own process only (no merging), so a client reading
//! across endpoints merges, as it must with vanilla HA.
//!
//! The ruler's configuration API, per tenant (401 `no org id` without the header), under
//! Cortex's paths `/api/v1/rules` and `/api/prom/rules` (its legacy prefix) and Mimir's
//! `/prometheus/config/v1/rules`, each answering as its product does (Cortex's
//! `pkg/ruler/api.go` and Mimir's, read for this fixture): `POST …/{namespace}` with ONE
//! rule group as YAML answers 202 `{"status":"success",…}`, or 400 with `unable to decode
//! rule group` (Cortex: `unable to decoded rule group`) for YAML that does not decode,
//! `invalid rules configuration: …` (Cortex: `invalid rules config: …`) for a group
//! without a name or rules, the rule errors of Prometheus' `rulefmt` (here from the real
//! `promtool check rules`, without line and column, rules numbered from 0 as Cortex
//! numbers them; Mimir joins several with `, `, Cortex shows the first), or the
//! `per-user rules per rule group limit (limit: n actual: m) exceeded` and `per-user rule
//! groups limit …` errors; `GET …/rules` and `GET …/rules/{namespace}` answer a YAML map
//! namespace → groups, and, when there is none, Cortex 404 `no rule groups found` where
//! Mimir answers 200 `{}`; `GET …/{namespace}/{groupName}` the group or 404 `group does
//! not exist`; `DELETE …/{namespace}/{groupName}` 202 or 404 `group does not exist`;
//! `DELETE …/{namespace}` 202 or 404 `group namespace does not exist`. Groups are kept as
//! `rulefmt` keeps them (`name`, `interval`, and per rule `record`/`alert`, `expr`, `for`,
//! `keep_firing_for`, `labels`, `annotations`; unknown keys are dropped) and listed by
//! name. Stored is not evaluated: no ruler runs the rules.
//!
//! What it leaves out: sharding and the ring, the distributor's quorum merge, the
//! fallback configuration, the Grafana-compatibility API, `/multitenant_alertmanager/*`,
//! rule evaluation and the Prometheus-style `<prometheus-http-prefix>/api/v1/rules` of
//! loaded rules, protected namespaces, federated (`source_tenants`) groups.
//!
//! ```no_run
//! use alert_testkit::cortex::CortexFixture;
//! let cortex = CortexFixture::start();
//! let body = "alertmanager_config: |\n  route: {receiver: x}\n  receivers: [{name: x}]\n";
//! assert_eq!(cortex.post_config("tenant-a", body).status, 201);
//! cortex.wait_running("tenant-a");
//! assert_eq!(cortex.get("tenant-a", "/alertmanager/api/v2/receivers").status, 200);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, OriginalUri, Path as UrlPath, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use yaml_serde::{Mapping, Value};

use crate::alertmanager::Alertmanager;
use crate::amtool::amtool;
use crate::binaries::promtool_bin;
use crate::cluster::Cluster;
use crate::http::{HttpResponse, agent};
use crate::poll::poll_until;

use crate::server_thread::{ServerThread, Workers};

/// Settings of the fixture, named after Cortex's flags and limits.
#[derive(Debug, Clone)]
pub struct CortexConfig {
    /// `-http.alertmanager-http-prefix` (`/alertmanager`).
    pub prefix: String,
    /// How many Alertmanager replicas (HTTP endpoints) there are (1).
    pub replicas: usize,
    /// `-alertmanager.configs.poll-interval` (Cortex: 15 s; here 200 ms so tests are quick).
    pub poll_interval: Duration,
    /// `alertmanager_max_config_size_bytes` (0 = no limit).
    pub max_config_size_bytes: usize,
    /// `alertmanager_max_templates_count` (0 = no limit).
    pub max_templates_count: usize,
    /// `alertmanager_max_template_size_bytes` (0 = no limit).
    pub max_template_size_bytes: usize,
    /// `-alertmanager.max-recv-msg-size` (Cortex: 16 MiB); larger bodies get 413.
    pub max_recv_msg_size: usize,
    /// `ruler_max_rules_per_rule_group` (0 = no limit).
    pub ruler_max_rules_per_rule_group: usize,
    /// `ruler_max_rule_groups_per_tenant` (0 = no limit).
    pub ruler_max_rule_groups_per_tenant: usize,
}

impl Default for CortexConfig {
    fn default() -> Self {
        CortexConfig {
            prefix: "/alertmanager".into(),
            replicas: 1,
            poll_interval: Duration::from_millis(200),
            max_config_size_bytes: 0,
            max_templates_count: 0,
            max_template_size_bytes: 0,
            max_recv_msg_size: 16 << 20,
            ruler_max_rules_per_rule_group: 0,
            ruler_max_rule_groups_per_tenant: 0,
        }
    }
}

/// One request as the fixture saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CortexRequest {
    /// Which replica endpoint answered (0-based).
    pub replica: usize,
    /// The method.
    pub method: String,
    /// The path (no query).
    pub path: String,
    /// The `X-Scope-OrgID` header, if sent.
    pub org_id: Option<String>,
    /// The status the fixture answered.
    pub status: u16,
}

/// A stored tenant configuration (Cortex's `UserConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredConfig {
    /// Template files by name.
    pub template_files: BTreeMap<String, String>,
    /// The Alertmanager configuration, as posted.
    pub alertmanager_config: String,
}

enum Backing {
    Single(Alertmanager),
    Gossip(Cluster),
}

impl Backing {
    fn members(&self) -> &[Alertmanager] {
        match self {
            Backing::Single(am) => std::slice::from_ref(am),
            Backing::Gossip(c) => c.members(),
        }
    }
}

struct Running {
    backing: Backing,
    config: StoredConfig,
}

/// One tenant's rule groups: namespace → group name → group (as `rulefmt` keeps it).
type RuleNamespaces = BTreeMap<String, BTreeMap<String, Value>>;

struct Shared {
    config: CortexConfig,
    store: Mutex<BTreeMap<String, StoredConfig>>,
    /// The ruler's store: tenant → namespace → group name → group.
    rules: Mutex<BTreeMap<String, RuleNamespaces>>,
    /// Base URLs of each running tenant's Alertmanagers, one per replica.
    urls: Mutex<HashMap<String, Vec<String>>>,
    requests: Mutex<Vec<CortexRequest>>,
    stop: AtomicBool,
}

/// A write to the per-tenant configuration API.
fn is_config_write(r: &CortexRequest) -> bool {
    r.path == "/api/v1/alerts" && (r.method == "POST" || r.method == "DELETE")
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Endpoint {
    addr: SocketAddr,
    /// Stops the endpoint's server when dropped.
    _server: ServerThread,
}

/// The fixture: `replicas` HTTP endpoints over one configuration store, and a poller
/// that runs the stored configurations in real Alertmanagers. Dropping it stops
/// everything.
pub struct CortexFixture {
    shared: Arc<Shared>,
    endpoints: Vec<Endpoint>,
    poller: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for CortexFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CortexFixture")
            .field("urls", &self.urls())
            .finish()
    }
}

impl CortexFixture {
    /// One replica, Cortex's defaults but a 200 ms poll interval.
    pub fn start() -> CortexFixture {
        CortexFixture::start_with(CortexConfig::default())
    }

    /// Starts with `config`.
    ///
    /// # Panics
    /// When no port can be bound or no runtime built.
    pub fn start_with(config: CortexConfig) -> CortexFixture {
        let replicas = config.replicas.max(1);
        let shared = Arc::new(Shared {
            config,
            store: Mutex::new(BTreeMap::new()),
            rules: Mutex::new(BTreeMap::new()),
            urls: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let endpoints = (0..replicas)
            .map(|i| start_endpoint(Arc::clone(&shared), i))
            .collect();
        let poller_shared = Arc::clone(&shared);
        let poller = std::thread::Builder::new()
            .name("cortex-fixture-poller".into())
            .spawn(move || run_poller(&poller_shared))
            .unwrap_or_else(|e| panic!("cannot start the Cortex fixture's poller: {e}"));
        CortexFixture {
            shared,
            endpoints,
            poller: Some(poller),
        }
    }

    /// The base URL of replica 0 (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        format!("http://{}", self.endpoints[0].addr)
    }

    /// The base URLs of every replica.
    pub fn urls(&self) -> Vec<String> {
        self.endpoints
            .iter()
            .map(|e| format!("http://{}", e.addr))
            .collect()
    }

    /// The Alertmanager prefix (`/alertmanager`).
    pub fn prefix(&self) -> &str {
        &self.shared.config.prefix
    }

    /// The stored configuration of `tenant`.
    pub fn stored(&self, tenant: &str) -> Option<StoredConfig> {
        lock(&self.shared.store).get(tenant).cloned()
    }

    /// The tenants with running Alertmanagers.
    pub fn running_tenants(&self) -> Vec<String> {
        let mut t: Vec<String> = lock(&self.shared.urls).keys().cloned().collect();
        t.sort();
        t
    }

    /// The base URLs of `tenant`'s Alertmanagers (one per replica), once running.
    pub fn alertmanager_urls(&self, tenant: &str) -> Option<Vec<String>> {
        lock(&self.shared.urls).get(tenant).cloned()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<CortexRequest> {
        lock(&self.shared.requests).clone()
    }

    /// How many POST and DELETE requests reached `/api/v1/alerts`.
    pub fn config_writes(&self) -> usize {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| is_config_write(r))
            .count()
    }

    /// How many POST and DELETE requests reached `/api/v1/alerts` for `tenant` (its
    /// `X-Scope-OrgID`): zero proves a configuration was never sent.
    pub fn config_writes_for(&self, tenant: &str) -> usize {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| is_config_write(r) && r.org_id.as_deref() == Some(tenant))
            .count()
    }

    /// The rule groups stored for `tenant`: namespace → group names, sorted.
    pub fn rule_groups(&self, tenant: &str) -> BTreeMap<String, Vec<String>> {
        lock(&self.shared.rules)
            .get(tenant)
            .map(|namespaces| {
                namespaces
                    .iter()
                    .map(|(ns, groups)| (ns.clone(), groups.keys().cloned().collect()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many POST and DELETE requests reached the ruler API (any flavour's path).
    pub fn rule_writes(&self) -> usize {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| is_ruler_path(&r.path) && (r.method == "POST" || r.method == "DELETE"))
            .count()
    }

    /// Waits (up to 60 s) until `tenant` runs its stored configuration.
    ///
    /// # Panics
    /// When it does not.
    pub fn wait_running(&self, tenant: &str) {
        let ok = poll_until(Duration::from_secs(60), || {
            lock(&self.shared.urls).contains_key(tenant).then_some(())
        });
        assert!(ok.is_some(), "tenant {tenant} is not running after 60 s");
    }

    /// `POST /api/v1/alerts` on replica 0 with a YAML envelope, as `tenant`.
    pub fn post_config(&self, tenant: &str, envelope_yaml: &str) -> HttpResponse {
        self.request("POST", tenant, "/api/v1/alerts", envelope_yaml.as_bytes())
    }

    /// `GET path` on replica 0, as `tenant`.
    pub fn get(&self, tenant: &str, path: &str) -> HttpResponse {
        self.request("GET", tenant, path, b"")
    }

    /// `POST path` on replica 0 with a YAML body, as `tenant`.
    pub fn post(&self, tenant: &str, path: &str, yaml: &str) -> HttpResponse {
        self.request("POST", tenant, path, yaml.as_bytes())
    }

    /// `DELETE path` on replica 0, as `tenant`.
    pub fn delete(&self, tenant: &str, path: &str) -> HttpResponse {
        self.request("DELETE", tenant, path, b"")
    }

    fn request(&self, method: &str, tenant: &str, path: &str, body: &[u8]) -> HttpResponse {
        let url = format!("{}{path}", self.url());
        let agent = agent();
        let result = match method {
            "POST" => agent
                .post(&url)
                .header("X-Scope-OrgID", tenant)
                .header("Content-Type", "application/yaml")
                .send(body),
            "DELETE" => agent.delete(&url).header("X-Scope-OrgID", tenant).call(),
            _ => agent.get(&url).header("X-Scope-OrgID", tenant).call(),
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        HttpResponse {
            status: resp.status().as_u16(),
            body: resp.body_mut().read_to_string().unwrap_or_default(),
        }
    }
}

impl Drop for CortexFixture {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Each endpoint's server stops and joins as it is dropped.
        self.endpoints.clear();
        if let Some(p) = self.poller.take() {
            let _ = p.join();
        }
    }
}

fn start_endpoint(shared: Arc<Shared>, replica: usize) -> Endpoint {
    let state = Arc::new(Replica { shared, replica });
    let prefix = state.shared.config.prefix.trim_end_matches('/').to_owned();
    let mut app = Router::new().route(
        "/api/v1/alerts",
        get(get_config).post(set_config).delete(delete_config),
    );
    for (base, flavor) in RULER_PATHS {
        app = ruler_routes(app, base, flavor);
    }
    let app = app
        .route(&format!("{prefix}/{{*rest}}"), any(proxy))
        .route("/ready", get(|| async { "ready\n" }))
        .layer(DefaultBodyLimit::disable())
        .with_state(state);
    let server = ServerThread::start("the Cortex fixture", app, Workers::Threads(2));
    Endpoint {
        addr: server.addr(),
        _server: server,
    }
}

struct Replica {
    shared: Arc<Shared>,
    replica: usize,
}

impl Replica {
    fn record(&self, method: &Method, path: &str, org: Option<&str>, status: StatusCode) {
        lock(&self.shared.requests).push(CortexRequest {
            replica: self.replica,
            method: method.to_string(),
            path: path.to_owned(),
            org_id: org.map(str::to_owned),
            status: status.as_u16(),
        });
    }
}

/// `http.Error`: the message and a newline, as text.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        [("content-type", "text/plain; charset=utf-8")],
        format!("{}\n", message.into()),
    )
        .into_response()
}

/// dskit's `AuthenticateUser` (401 `no org id`), then Cortex's `tenant.TenantID`
/// (401 `unable to determine the OrgID: …` for several ids).
fn org_id(headers: &HeaderMap) -> Result<String, (StatusCode, &'static str)> {
    let org = headers
        .get("X-Scope-OrgID")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty());
    match org {
        None => Err((StatusCode::UNAUTHORIZED, "no org id")),
        Some(o) if o.contains('|') => Err((
            StatusCode::UNAUTHORIZED,
            "unable to determine the OrgID: multiple org IDs present",
        )),
        Some(o) => Ok(o.to_owned()),
    }
}

async fn get_config(State(r): State<Arc<Replica>>, headers: HeaderMap) -> Response {
    let (org, resp) = match org_id(&headers) {
        Err((status, message)) => (None, error(status, message)),
        Ok(tenant) => {
            let resp = match lock(&r.shared.store).get(&tenant) {
                None => error(
                    StatusCode::NOT_FOUND,
                    "alertmanager storage object not found",
                ),
                Some(cfg) => (
                    StatusCode::OK,
                    [("content-type", "application/yaml")],
                    envelope_yaml(cfg),
                )
                    .into_response(),
            };
            (Some(tenant), resp)
        }
    };
    r.record(
        &Method::GET,
        "/api/v1/alerts",
        org.as_deref(),
        resp.status(),
    );
    resp
}

async fn delete_config(State(r): State<Arc<Replica>>, headers: HeaderMap) -> Response {
    let (org, resp) = match org_id(&headers) {
        Err((status, message)) => (None, error(status, message)),
        Ok(tenant) => {
            lock(&r.shared.store).remove(&tenant);
            (Some(tenant), StatusCode::OK.into_response())
        }
    };
    r.record(
        &Method::DELETE,
        "/api/v1/alerts",
        org.as_deref(),
        resp.status(),
    );
    resp
}

async fn set_config(State(r): State<Arc<Replica>>, headers: HeaderMap, body: Bytes) -> Response {
    let (org, resp) = match org_id(&headers) {
        Err((status, message)) => (None, error(status, message)),
        Ok(tenant) => {
            let shared = Arc::clone(&r.shared);
            let t = tenant.clone();
            let resp = tokio::task::spawn_blocking(move || store_config(&shared, &t, &body))
                .await
                .unwrap_or_else(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()));
            (Some(tenant), resp)
        }
    };
    r.record(
        &Method::POST,
        "/api/v1/alerts",
        org.as_deref(),
        resp.status(),
    );
    resp
}

/// Cortex's `SetUserConfig` + `validateUserConfig`, in their order.
fn store_config(shared: &Shared, tenant: &str, body: &[u8]) -> Response {
    let cfg = &shared.config;
    if body.len() > cfg.max_recv_msg_size {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
    }
    if cfg.max_config_size_bytes > 0 && body.len() > cfg.max_config_size_bytes {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "Alertmanager configuration is too big, limit: {} bytes",
                cfg.max_config_size_bytes
            ),
        );
    }
    let stored = match parse_envelope(body) {
        Ok(s) => s,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("error marshalling YAML Alertmanager config: {e}"),
            );
        }
    };
    if let Err(e) = validate(cfg, &stored) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("error validating Alertmanager config: {e}"),
        );
    }
    lock(&shared.store).insert(tenant.to_owned(), stored);
    StatusCode::CREATED.into_response()
}

fn parse_envelope(body: &[u8]) -> Result<StoredConfig, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    if text.trim().is_empty() {
        return Ok(StoredConfig::default());
    }
    let value: Value = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    let Value::Mapping(map) = value else {
        return Err("cannot unmarshal the body into alertmanager.UserConfig".into());
    };
    let alertmanager_config = match map.get("alertmanager_config") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(format!(
                "cannot unmarshal {} into Go struct field UserConfig.alertmanager_config of type string",
                yaml_serde::to_string(other).unwrap_or_default().trim()
            ));
        }
    };
    let mut template_files = BTreeMap::new();
    match map.get("template_files") {
        None | Some(Value::Null) => {}
        Some(Value::Mapping(t)) => {
            for (k, v) in t {
                match (k.as_str(), v.as_str()) {
                    (Some(k), Some(v)) => {
                        template_files.insert(k.to_owned(), v.to_owned());
                    }
                    _ => return Err("template_files must map names to strings".into()),
                }
            }
        }
        Some(_) => return Err("template_files must be a mapping".into()),
    }
    Ok(StoredConfig {
        template_files,
        alertmanager_config,
    })
}

fn envelope_yaml(cfg: &StoredConfig) -> String {
    let mut templates = Mapping::new();
    for (k, v) in &cfg.template_files {
        templates.insert(Value::String(k.clone()), Value::String(v.clone()));
    }
    let mut m = Mapping::new();
    m.insert("template_files".into(), Value::Mapping(templates));
    m.insert(
        "alertmanager_config".into(),
        Value::String(cfg.alertmanager_config.clone()),
    );
    yaml_serde::to_string(&Value::Mapping(m)).unwrap_or_default()
}

fn validate(cfg: &CortexConfig, stored: &StoredConfig) -> Result<(), String> {
    if stored.alertmanager_config.is_empty() {
        return Err("configuration provided is empty, if you'd like to remove your configuration please use the delete configuration endpoint".into());
    }
    // config.Load and the template parse: the real amtool.
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    for (name, body) in &stored.template_files {
        if is_bare_name(name) {
            std::fs::write(dir.path().join(name), body).map_err(|e| e.to_string())?;
        }
    }
    let path = dir.path().join("alertmanager.yml");
    std::fs::write(&path, &stored.alertmanager_config).map_err(|e| e.to_string())?;
    let out = amtool(["check-config".as_ref(), path.as_os_str()]);
    if !out.success() {
        let text = format!("{}{}", out.stdout, out.stderr);
        let msg = text
            .split_once("FAILED: ")
            .map(|(_, rest)| rest.split("\n\n").next().unwrap_or(rest).trim().to_owned())
            .unwrap_or_else(|| text.trim().to_owned());
        return Err(msg);
    }
    let parsed: Value =
        yaml_serde::from_str(&stored.alertmanager_config).map_err(|e| e.to_string())?;
    forbidden_files(&parsed)?;
    if let Some(Value::Sequence(names)) = parsed.get("templates") {
        for n in names.iter().filter_map(Value::as_str) {
            check_template_name(n)?;
        }
    }
    for name in stored.template_files.keys() {
        check_template_name(name)?;
    }
    if cfg.max_templates_count > 0 && stored.template_files.len() > cfg.max_templates_count {
        return Err(format!(
            "too many templates in the configuration: {} (limit: {})",
            stored.template_files.len(),
            cfg.max_templates_count
        ));
    }
    if cfg.max_template_size_bytes > 0 {
        for (name, body) in &stored.template_files {
            if body.len() > cfg.max_template_size_bytes {
                return Err(format!(
                    "template {name} is too big: {} bytes (limit: {} bytes)",
                    body.len(),
                    cfg.max_template_size_bytes
                ));
            }
        }
    }
    Ok(())
}

fn is_bare_name(name: &str) -> bool {
    let p = Path::new(name);
    !name.is_empty()
        && name != "."
        && name != ".."
        && p.file_name().and_then(|f| f.to_str()) == Some(name)
}

fn check_template_name(name: &str) -> Result<(), String> {
    if is_bare_name(name) {
        Ok(())
    } else {
        Err(format!(
            "invalid template name \"{name}\": the template name cannot contain any path"
        ))
    }
}

/// Cortex's reflection scan for settings that read local files.
fn forbidden_files(v: &Value) -> Result<(), String> {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                let Some(key) = k.as_str() else { continue };
                let set = !matches!(child, Value::Null) && child.as_str() != Some("");
                if set && key.ends_with("_file") {
                    return Err(match key {
                        "password_file" | "credentials_file" | "bearer_token_file" => {
                            "setting password_file, bearer_token_file and credentials_file is not allowed".into()
                        }
                        "ca_file" | "cert_file" | "key_file" => {
                            "setting TLS ca_file, cert_file and key_file is not allowed".into()
                        }
                        "api_url_file" | "slack_api_url_file" => {
                            "setting Slack api_url_file and global slack_api_url_file is not allowed".into()
                        }
                        "client_secret_file" => {
                            "setting OAuth2 client_secret_file is not allowed".into()
                        }
                        "api_key_file" => "setting VictorOps api_key_file is not allowed".into(),
                        other => format!("setting {other} is not allowed"),
                    });
                }
                forbidden_files(child)?;
            }
            Ok(())
        }
        Value::Sequence(s) => s.iter().try_for_each(forbidden_files),
        _ => Ok(()),
    }
}

/// `<prefix>/*`: sent to this replica's Alertmanager of the tenant, prefix stripped.
async fn proxy(
    State(r): State<Arc<Replica>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let (org, resp) = match org_id(&headers) {
        Err((status, message)) => (None, error(status, message)),
        Ok(tenant) => {
            let base = lock(&r.shared.urls)
                .get(&tenant)
                .and_then(|urls| urls.get(r.replica).cloned());
            let resp = match base {
                None => error(StatusCode::NOT_FOUND, "the Alertmanager is not configured"),
                Some(base) => {
                    let rest = path
                        .strip_prefix(r.shared.config.prefix.trim_end_matches('/'))
                        .unwrap_or(&path)
                        .to_owned();
                    let url = match uri.query() {
                        Some(q) => format!("{base}{rest}?{q}"),
                        None => format!("{base}{rest}"),
                    };
                    let content_type = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("application/json")
                        .to_owned();
                    let m = method.clone();
                    tokio::task::spawn_blocking(move || forward(&m, &url, &content_type, &body))
                        .await
                        .unwrap_or_else(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
                }
            };
            (Some(tenant), resp)
        }
    };
    r.record(&method, &path, org.as_deref(), resp.status());
    resp
}

fn forward(method: &Method, url: &str, content_type: &str, body: &[u8]) -> Response {
    let agent = agent();
    let result = match *method {
        Method::GET => agent.get(url).call(),
        Method::DELETE => agent.delete(url).call(),
        Method::POST => agent
            .post(url)
            .header("Content-Type", content_type)
            .send(body),
        Method::PUT => agent
            .put(url)
            .header("Content-Type", content_type)
            .send(body),
        _ => return error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    };
    match result {
        Ok(mut resp) => {
            let status = StatusCode::from_u16(resp.status().as_u16())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json")
                .to_owned();
            let body = resp.body_mut().read_to_vec().unwrap_or_default();
            (status, [("content-type", ct)], body).into_response()
        }
        Err(e) => error(StatusCode::BAD_GATEWAY, e.to_string()),
    }
}

/// Cortex instances poll the store and start, reconfigure or stop each tenant's
/// Alertmanager to match it.
fn run_poller(shared: &Shared) {
    let mut running: HashMap<String, Running> = HashMap::new();
    while !shared.stop.load(Ordering::SeqCst) {
        let store = lock(&shared.store).clone();
        running.retain(|tenant, _| {
            let keep = store.contains_key(tenant);
            if !keep {
                lock(&shared.urls).remove(tenant);
            }
            keep
        });
        for (tenant, cfg) in &store {
            if shared.stop.load(Ordering::SeqCst) {
                break;
            }
            match running.get_mut(tenant) {
                Some(r) if r.config == *cfg => {}
                Some(r) => {
                    // A configuration that does not load leaves the last working one
                    // running (and on disk); it is not tried again until it changes.
                    for am in r.backing.members() {
                        if !reconfigure(am, cfg) {
                            let _ = std::fs::write(am.config_path(), &r.config.alertmanager_config);
                        }
                    }
                    r.config = cfg.clone();
                }
                None => {
                    let backing = start_backing(shared.config.replicas.max(1), cfg);
                    let urls = backing
                        .members()
                        .iter()
                        .map(Alertmanager::base_url)
                        .collect();
                    lock(&shared.urls).insert(tenant.clone(), urls);
                    running.insert(
                        tenant.clone(),
                        Running {
                            backing,
                            config: cfg.clone(),
                        },
                    );
                }
            }
        }
        std::thread::sleep(shared.config.poll_interval);
    }
}

fn write_templates(dir: &Path, cfg: &StoredConfig) {
    for (name, body) in &cfg.template_files {
        if is_bare_name(name) {
            let _ = std::fs::write(dir.join(name), body);
        }
    }
}

fn reconfigure(am: &Alertmanager, cfg: &StoredConfig) -> bool {
    if let Some(dir) = am.config_path().parent() {
        write_templates(dir, cfg);
    }
    am.reload_with(&cfg.alertmanager_config).is_success()
}

fn start_backing(replicas: usize, cfg: &StoredConfig) -> Backing {
    // Start on a minimal configuration, then write templates beside the file and load the
    // tenant's: the templates must sit in the process's own directory.
    let backing = if replicas == 1 {
        Backing::Single(Alertmanager::start(crate::MINIMAL_CONFIG))
    } else {
        Backing::Gossip(Cluster::start(replicas, crate::MINIMAL_CONFIG))
    };
    for am in backing.members() {
        reconfigure(am, cfg);
    }
    backing
}

/// Which product a ruler path answers as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RulerFlavor {
    Cortex,
    Mimir,
}

/// The ruler configuration API's base paths: Cortex's, Cortex's legacy one (under
/// `-http.prefix`, `/api/prom`), Mimir's (under `-http.prometheus-http-prefix`).
const RULER_PATHS: [(&str, RulerFlavor); 3] = [
    ("/api/v1/rules", RulerFlavor::Cortex),
    ("/api/prom/rules", RulerFlavor::Cortex),
    ("/prometheus/config/v1/rules", RulerFlavor::Mimir),
];

fn is_ruler_path(path: &str) -> bool {
    RULER_PATHS.iter().any(|(base, _)| {
        path.strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

impl RulerFlavor {
    fn of(mimir: bool) -> RulerFlavor {
        if mimir {
            RulerFlavor::Mimir
        } else {
            RulerFlavor::Cortex
        }
    }

    /// `ErrBadRuleGroup` (Cortex's spelling keeps its typo).
    fn undecodable(self) -> &'static str {
        match self {
            RulerFlavor::Cortex => "unable to decoded rule group",
            RulerFlavor::Mimir => "unable to decode rule group",
        }
    }

    /// The prefix of the group-level errors of `ValidateRuleGroup`.
    fn invalid(self) -> &'static str {
        match self {
            RulerFlavor::Cortex => "invalid rules config",
            RulerFlavor::Mimir => "invalid rules configuration",
        }
    }
}

fn ruler_routes(
    app: Router<Arc<Replica>>,
    base: &str,
    flavor: RulerFlavor,
) -> Router<Arc<Replica>> {
    let namespace = format!("{base}/{{namespace}}");
    let group = format!("{base}/{{namespace}}/{{group}}");
    match flavor {
        RulerFlavor::Cortex => app
            .route(base, get(list_rules::<false>))
            .route(
                &namespace,
                get(list_namespace::<false>)
                    .post(set_rule_group::<false>)
                    .delete(delete_namespace::<false>),
            )
            .route(
                &group,
                get(get_rule_group::<false>).delete(delete_rule_group::<false>),
            ),
        RulerFlavor::Mimir => app
            .route(base, get(list_rules::<true>))
            .route(
                &namespace,
                get(list_namespace::<true>)
                    .post(set_rule_group::<true>)
                    .delete(delete_namespace::<true>),
            )
            .route(
                &group,
                get(get_rule_group::<true>).delete(delete_rule_group::<true>),
            ),
    }
}

async fn list_rules<const MIMIR: bool>(
    State(r): State<Arc<Replica>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let flavor = RulerFlavor::of(MIMIR);
    ruler(
        r,
        Method::GET,
        uri.path(),
        &headers,
        move |shared, tenant| list_groups(shared, flavor, tenant, None),
    )
    .await
}

async fn list_namespace<const MIMIR: bool>(
    State(r): State<Arc<Replica>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    UrlPath(namespace): UrlPath<String>,
) -> Response {
    let flavor = RulerFlavor::of(MIMIR);
    ruler(
        r,
        Method::GET,
        uri.path(),
        &headers,
        move |shared, tenant| list_groups(shared, flavor, tenant, Some(&namespace)),
    )
    .await
}

async fn get_rule_group<const MIMIR: bool>(
    State(r): State<Arc<Replica>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    UrlPath((namespace, group)): UrlPath<(String, String)>,
) -> Response {
    ruler(
        r,
        Method::GET,
        uri.path(),
        &headers,
        move |shared, tenant| match lock(&shared.rules)
            .get(tenant)
            .and_then(|n| n.get(&namespace))
            .and_then(|groups| groups.get(&group))
        {
            Some(g) => yaml_response(g),
            None => error(StatusCode::NOT_FOUND, "group does not exist"),
        },
    )
    .await
}

async fn set_rule_group<const MIMIR: bool>(
    State(r): State<Arc<Replica>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    UrlPath(namespace): UrlPath<String>,
    body: Bytes,
) -> Response {
    let flavor = RulerFlavor::of(MIMIR);
    ruler(
        r,
        Method::POST,
        uri.path(),
        &headers,
        move |shared, tenant| store_rule_group(shared, flavor, tenant, &namespace, &body),
    )
    .await
}

async fn delete_rule_group<const MIMIR: bool>(
    State(r): State<Arc<Replica>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    UrlPath((namespace, group)): UrlPath<(String, String)>,
) -> Response {
    ruler(
        r,
        Method::DELETE,
        uri.path(),
        &headers,
        move |shared, tenant| {
            let mut rules = lock(&shared.rules);
            let removed = rules
                .get_mut(tenant)
                .and_then(|n| n.get_mut(&namespace))
                .and_then(|groups| groups.remove(&group));
            if removed.is_none() {
                return error(StatusCode::NOT_FOUND, "group does not exist");
            }
            prune_rules(&mut rules, tenant);
            accepted()
        },
    )
    .await
}

async fn delete_namespace<const MIMIR: bool>(
    State(r): State<Arc<Replica>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    UrlPath(namespace): UrlPath<String>,
) -> Response {
    ruler(
        r,
        Method::DELETE,
        uri.path(),
        &headers,
        move |shared, tenant| {
            let mut rules = lock(&shared.rules);
            let removed = rules.get_mut(tenant).and_then(|n| n.remove(&namespace));
            if removed.is_none() {
                return error(StatusCode::NOT_FOUND, "group namespace does not exist");
            }
            prune_rules(&mut rules, tenant);
            accepted()
        },
    )
    .await
}

/// The tenant header checked as for the Alertmanager API, then `op` on a blocking thread
/// (a POST runs `promtool`), and the request recorded.
async fn ruler<F>(
    r: Arc<Replica>,
    method: Method,
    path: &str,
    headers: &HeaderMap,
    op: F,
) -> Response
where
    F: FnOnce(&Shared, &str) -> Response + Send + 'static,
{
    let (org, resp) = match org_id(headers) {
        Err((status, message)) => (None, error(status, message)),
        Ok(tenant) => {
            let shared = Arc::clone(&r.shared);
            let t = tenant.clone();
            let resp = tokio::task::spawn_blocking(move || op(&shared, &t))
                .await
                .unwrap_or_else(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()));
            (Some(tenant), resp)
        }
    };
    r.record(&method, path, org.as_deref(), resp.status());
    resp
}

/// Drops a tenant's empty namespaces, and the tenant once it has none.
fn prune_rules(rules: &mut BTreeMap<String, RuleNamespaces>, tenant: &str) {
    if let Some(namespaces) = rules.get_mut(tenant) {
        namespaces.retain(|_, groups| !groups.is_empty());
        if namespaces.is_empty() {
            rules.remove(tenant);
        }
    }
}

/// `respondAccepted`: 202 and the Prometheus API's success envelope.
fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [("content-type", "application/json")],
        r#"{"status":"success","data":null,"errorType":"","error":""}"#,
    )
        .into_response()
}

/// `marshalAndSend`: 200 and YAML.
fn yaml_response(value: &Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/yaml")],
        yaml_serde::to_string(value).unwrap_or_default(),
    )
        .into_response()
}

/// `ListRules`: namespace → groups, of one namespace or all.
fn list_groups(
    shared: &Shared,
    flavor: RulerFlavor,
    tenant: &str,
    namespace: Option<&str>,
) -> Response {
    let rules = lock(&shared.rules);
    let mut out = Mapping::new();
    for (ns, groups) in rules.get(tenant).into_iter().flatten() {
        if namespace.is_none_or(|wanted| wanted == ns) {
            out.insert(
                Value::String(ns.clone()),
                Value::Sequence(groups.values().cloned().collect()),
            );
        }
    }
    if out.is_empty() && flavor == RulerFlavor::Cortex {
        return error(StatusCode::NOT_FOUND, "no rule groups found");
    }
    yaml_response(&Value::Mapping(out))
}

/// `CreateRuleGroup`, in its order: decode, validate, the two limits, store.
fn store_rule_group(
    shared: &Shared,
    flavor: RulerFlavor,
    tenant: &str,
    namespace: &str,
    body: &[u8],
) -> Response {
    let bad = |message: String| error(StatusCode::BAD_REQUEST, message);
    let Some((name, group, rule_count)) = decode_rule_group(body) else {
        return bad(flavor.undecodable().to_owned());
    };
    if name.is_empty() {
        return bad(format!(
            "{}: rule group name must not be empty",
            flavor.invalid()
        ));
    }
    if rule_count == 0 {
        return bad(format!(
            "{}: rule group '{name}' has no rules",
            flavor.invalid()
        ));
    }
    match check_rules(&group) {
        Ok(()) => {}
        Err(RuleCheck::Undecodable) => return bad(flavor.undecodable().to_owned()),
        Err(RuleCheck::Invalid(errors)) => {
            return bad(match flavor {
                RulerFlavor::Mimir => errors.join(", "),
                RulerFlavor::Cortex => errors.into_iter().next().unwrap_or_default(),
            });
        }
    }
    let limits = &shared.config;
    let max_rules = limits.ruler_max_rules_per_rule_group;
    if max_rules > 0 && rule_count > max_rules {
        return bad(format!(
            "per-user rules per rule group limit (limit: {max_rules} actual: {rule_count}) exceeded"
        ));
    }
    let mut rules = lock(&shared.rules);
    let max_groups = limits.ruler_max_rule_groups_per_tenant;
    if max_groups > 0 {
        // As both products count: the groups stored plus one, also when replacing one.
        let stored: usize = rules
            .get(tenant)
            .map(|n| n.values().map(BTreeMap::len).sum())
            .unwrap_or(0);
        if stored + 1 > max_groups {
            return bad(format!(
                "per-user rule groups limit (limit: {max_groups} actual: {}) exceeded",
                stored + 1
            ));
        }
    }
    rules
        .entry(tenant.to_owned())
        .or_default()
        .entry(namespace.to_owned())
        .or_default()
        .insert(name, group);
    accepted()
}

/// A body as `yaml.Unmarshal` into `rulefmt.RuleGroup` reads it: the group's name, the
/// group as `rulefmt` keeps it (known keys only, `for: 0s` dropped as `omitempty` drops
/// it) and the number of rules; `None` when it does not decode.
fn decode_rule_group(body: &[u8]) -> Option<(String, Value, usize)> {
    let text = std::str::from_utf8(body).ok()?;
    let value: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        yaml_serde::from_str(text).ok()?
    };
    let map = match value {
        Value::Null => Mapping::new(),
        Value::Mapping(m) => m,
        _ => return None,
    };
    let name = scalar(map.get("name"))?.unwrap_or_default();
    let mut group = Mapping::new();
    group.insert("name".into(), Value::String(name.clone()));
    if let Some(interval) = scalar(map.get("interval"))? {
        group.insert("interval".into(), Value::String(interval));
    }
    let rules = match map.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(rules)) => rules
            .iter()
            .map(decode_rule)
            .collect::<Option<Vec<Value>>>()?,
        Some(_) => return None,
    };
    let count = rules.len();
    group.insert("rules".into(), Value::Sequence(rules));
    Some((name, Value::Mapping(group), count))
}

fn decode_rule(rule: &Value) -> Option<Value> {
    let map = match rule {
        Value::Mapping(m) => m,
        Value::Null => &Mapping::new(),
        _ => return None,
    };
    let mut out = Mapping::new();
    for key in ["record", "alert", "expr", "for", "keep_firing_for"] {
        let Some(v) = scalar(map.get(key))? else {
            continue;
        };
        let keep = match key {
            "expr" => true,
            // `model.Duration` with `omitempty`: zero is left out.
            "for" | "keep_firing_for" => !is_zero_duration(&v),
            _ => !v.is_empty(),
        };
        if keep {
            out.insert(key.into(), Value::String(v));
        }
    }
    for key in ["labels", "annotations"] {
        match map.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Mapping(m)) => {
                let mut strings = Mapping::new();
                for (k, v) in m {
                    strings.insert(
                        Value::String(scalar(Some(k))?.unwrap_or_default()),
                        Value::String(scalar(Some(v))?.unwrap_or_default()),
                    );
                }
                if !strings.is_empty() {
                    out.insert(key.into(), Value::Mapping(strings));
                }
            }
            Some(_) => return None,
        }
    }
    Some(Value::Mapping(out))
}

/// `0s`, `0`, `0m`, … (and the empty string).
fn is_zero_duration(d: &str) -> bool {
    d.chars().filter(char::is_ascii_digit).all(|c| c == '0')
}

/// A YAML scalar as the text a Go string field gets: `Some(None)` when absent or null,
/// `None` when it is not a scalar.
fn scalar(value: Option<&Value>) -> Option<Option<String>> {
    match value {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(Value::Number(n)) => Some(Some(n.to_string())),
        Some(Value::Bool(b)) => Some(Some(b.to_string())),
        Some(_) => None,
    }
}

/// Why `promtool` refused a group.
enum RuleCheck {
    /// A value did not decode (a duration, say): `ErrBadRuleGroup` in Cortex and Mimir,
    /// which decode before they validate.
    Undecodable,
    /// `rulefmt`'s errors, one per problem.
    Invalid(Vec<String>),
}

/// Each rule's `Validate()` (expression, names, labels, annotation templates), by the
/// real `promtool check rules` on a file holding the group.
fn check_rules(group: &Value) -> Result<(), RuleCheck> {
    let invalid = |e: String| RuleCheck::Invalid(vec![e]);
    let dir = tempfile::tempdir().map_err(|e| invalid(e.to_string()))?;
    let path = dir.path().join("group.yml");
    let mut file = Mapping::new();
    file.insert("groups".into(), Value::Sequence(vec![group.clone()]));
    let text = yaml_serde::to_string(&Value::Mapping(file)).map_err(|e| invalid(e.to_string()))?;
    std::fs::write(&path, text).map_err(|e| invalid(e.to_string()))?;
    let out = std::process::Command::new(promtool_bin())
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .map_err(|e| invalid(format!("cannot run promtool: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let failed = text
        .split_once("FAILED:")
        .map_or(text.as_str(), |(_, rest)| rest);
    if failed.contains("yaml:") || failed.contains("not a valid duration") {
        return Err(RuleCheck::Undecodable);
    }
    let file_prefix = format!("{}: ", path.display());
    let errors: Vec<String> = failed
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Checking "))
        .filter(|l| !l.is_empty())
        .map(|l| cortex_rule_error(l.strip_prefix(&file_prefix).unwrap_or(l)))
        .collect();
    Err(RuleCheck::Invalid(errors))
}

/// A `rulefmt` error as Cortex and Mimir show it for a posted group: without the line and
/// column (they point into the fixture's file), rules numbered from 0.
fn cortex_rule_error(line: &str) -> String {
    let mut rest = line;
    // `L:C: ` once, or twice for errors with an alternative node.
    while let Some((pos, after)) = rest.split_once(": ") {
        let is_position = pos.split_once(':').is_some_and(|(l, c)| {
            !l.is_empty()
                && !c.is_empty()
                && (l.chars().chain(c.chars())).all(|ch| ch.is_ascii_digit())
        });
        if !is_position {
            break;
        }
        rest = after;
    }
    if let Some(i) = rest.find(", rule ") {
        let start = i + ", rule ".len();
        let digits: String = rest[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(n) = digits.parse::<usize>() {
            return format!(
                "{}{}{}",
                &rest[..start],
                n.saturating_sub(1),
                &rest[start + digits.len()..]
            );
        }
    }
    rest.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_and_rejects_non_strings() {
        let cfg = StoredConfig {
            template_files: BTreeMap::from([(
                "a.tmpl".into(),
                "{{ define \"a\" }}a{{ end }}\n".into(),
            )]),
            alertmanager_config: "route: {receiver: x}\nreceivers: [{name: x}]\n".into(),
        };
        let yaml = envelope_yaml(&cfg);
        assert_eq!(parse_envelope(yaml.as_bytes()).unwrap(), cfg);
        assert_eq!(parse_envelope(b"").unwrap(), StoredConfig::default());
        assert!(parse_envelope(b"alertmanager_config: [1]").is_err());
        assert!(parse_envelope(b"template_files: [a]").is_err());
        // Unknown keys are ignored, as yaml.Unmarshal ignores them.
        assert!(parse_envelope(b"alertmanager_config: x\nother: 1\n").is_ok());
    }

    #[test]
    fn file_settings_are_forbidden_with_cortex_messages() {
        let check = |yaml: &str| forbidden_files(&yaml_serde::from_str(yaml).unwrap());
        assert_eq!(
            check(
                "receivers: [{name: a, webhook_configs: [{http_config: {basic_auth: {password_file: /p}}}]}]"
            ),
            Err(
                "setting password_file, bearer_token_file and credentials_file is not allowed"
                    .into()
            )
        );
        assert_eq!(
            check("receivers: [{name: a, slack_configs: [{api_url_file: /u}]}]"),
            Err("setting Slack api_url_file and global slack_api_url_file is not allowed".into())
        );
        assert_eq!(
            check("global: {smtp_auth_password_file: /p}"),
            Err("setting smtp_auth_password_file is not allowed".into())
        );
        assert_eq!(
            check("receivers: [{name: a, webhook_configs: [{url_file: ''}]}]"),
            Ok(())
        );
    }

    #[test]
    fn template_names_must_be_bare() {
        assert!(check_template_name("a.tmpl").is_ok());
        assert!(check_template_name("*.tmpl").is_ok());
        assert_eq!(
            check_template_name("x/y"),
            Err("invalid template name \"x/y\": the template name cannot contain any path".into())
        );
    }
    #[test]
    fn rule_groups_decode_as_rulefmt_keeps_them() {
        let (name, group, count) = decode_rule_group(
            b"name: g\ninterval: 1m\nextra: x\nrules:\n- alert: A\n  expr: up == 0\n  for: 0s\n  labels: {severity: 1}\n  other: y\n- record: r\n  expr: 1\n",
        )
        .unwrap();
        assert_eq!((name.as_str(), count), ("g", 2));
        assert_eq!(
            yaml_serde::to_string(&group).unwrap(),
            "name: g\ninterval: 1m\nrules:\n- alert: A\n  expr: up == 0\n  labels:\n    severity: '1'\n- record: r\n  expr: '1'\n"
        );
        assert!(decode_rule_group(b"rules: 5").is_none());
        assert!(decode_rule_group(b"[1]").is_none());
        assert_eq!(decode_rule_group(b"").unwrap().2, 0);
    }

    #[test]
    fn rule_errors_lose_their_position_and_count_from_zero() {
        assert_eq!(
            cortex_rule_error(
                "5:11: group \"g\", rule 1, \"A\": could not parse expression: 1:6: parse error: unexpected end of input"
            ),
            "group \"g\", rule 0, \"A\": could not parse expression: 1:6: parse error: unexpected end of input"
        );
        assert_eq!(cortex_rule_error("something else"), "something else");
        assert!(is_ruler_path("/api/v1/rules"));
        assert!(is_ruler_path("/prometheus/config/v1/rules/ns/g"));
        assert!(!is_ruler_path("/api/v1/rulesx"));
    }
}
