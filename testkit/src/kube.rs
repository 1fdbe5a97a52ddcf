//! Stands in for a Kubernetes API server, which cannot run on these machines: the
//! documented REST protocol of the parts the gateway's emitter uses (Events) and the
//! reads a Kubernetes client makes (the health graph's Kubernetes instrumentors, through
//! the `kube` crate, among them), enough for the real `kubectl` 1.20 to read it back.
//!
//! - Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/{group}/{version}` (each also
//!   with a trailing slash, as kr8s asks) with
//!   `APIResourceList`s (name, singularName, kind, namespaced, verbs, shortNames).
//! - Reads of every served kind (Pod, Service, ConfigMap, Secret, Namespace, Node,
//!   PersistentVolumeClaim, PersistentVolume, Endpoints, Event; Deployment, ReplicaSet,
//!   StatefulSet, DaemonSet; Job, CronJob; Ingress; StorageClass; events.k8s.io Event):
//!   GET of one object, LIST of a namespace's or of all namespaces' objects as
//!   `{kind: <Kind>List, apiVersion, metadata: {resourceVersion}, items}`, with
//!   `labelSelector` (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`) and `fieldSelector`
//!   (`metadata.name`, `metadata.namespace`, and for events `involvedObject.*`, `reason`,
//!   `type`, `reportingComponent`; `=`, `==`, `!=`).
//! - Events, written and read through both `events.k8s.io/v1` and core `v1` (one stored
//!   object, converted as kube-apiserver converts: `regarding` ↔ `involvedObject`, `note`
//!   ↔ `message`, `reportingController` ↔ `reportingComponent`, `deprecated*` ↔ the old
//!   fields): POST (201; 409 `AlreadyExists`), PATCH with `application/merge-patch+json`
//!   or `application/strategic-merge-patch+json` (415 for other patch types; 404), and
//!   the validation of `pkg/apis/core/validation/events.go`: on create through
//!   events.k8s.io/v1, `eventTime` required, `type` Normal or Warning, the deprecated
//!   fields unset, `series.count` ≥ 2 with `lastObservedTime`; for events with
//!   `eventTime`, `reportingController`, `reportingInstance` (≤ 128), `action` (≤ 128)
//!   and `reason` (≤ 128) required, `note` ≤ 1024, a cluster-scoped `regarding` only in
//!   `default` or `kube-system`; on update only `series` and metadata may change. Faults
//!   are 422 `Invalid` with `details.causes`.
//! - Bearer-token auth: a wrong token is 401 `Unauthorized`; a request without one is
//!   served as kube-apiserver's insecure port served it (kubectl does not send a token
//!   over plain HTTP, and this fixture has no TLS) unless [`KubeApiBuilder::require_token`]
//!   makes it a 401 too. Forbidden verbs for RBAC tests (403
//!   `Forbidden`), a namespace in the body that differs from the URL's (400
//!   `BadRequest`), and every error as a `Status` object.
//! - Every request is recorded (method, path, query, content type, body) so tests can
//!   assert how a client talks to the server.
//!
//! What it leaves out: watches, server-side apply, writes of kinds other than events
//! (tests add objects with [`KubeApi::add`]), admission, the Table format (kubectl's
//! `-o json` and `-o name` work; its default table output is not served), OpenAPI.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};

use crate::server_thread::{ServerThread, Workers};

/// The token [`KubeApi::start`] requires.
pub const DEFAULT_TOKEN: &str = "testkit-kube-token";

/// One served resource.
#[derive(Debug, Clone, Copy)]
struct Resource {
    group: &'static str,
    version: &'static str,
    name: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
}

const RESOURCES: &[Resource] = &[
    res("", "v1", "pods", "pod", "Pod", true, &["po"]),
    res("", "v1", "services", "service", "Service", true, &["svc"]),
    res(
        "",
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        true,
        &["cm"],
    ),
    res("", "v1", "secrets", "secret", "Secret", true, &[]),
    res(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        &["ns"],
    ),
    res("", "v1", "nodes", "node", "Node", false, &["no"]),
    res(
        "",
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        true,
        &["pvc"],
    ),
    res(
        "",
        "v1",
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        false,
        &["pv"],
    ),
    res(
        "",
        "v1",
        "endpoints",
        "endpoints",
        "Endpoints",
        true,
        &["ep"],
    ),
    res("", "v1", "events", "event", "Event", true, &["ev"]),
    res(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
        &["deploy"],
    ),
    res(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        &["rs"],
    ),
    res(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
        &["sts"],
    ),
    res(
        "apps",
        "v1",
        "daemonsets",
        "daemonset",
        "DaemonSet",
        true,
        &["ds"],
    ),
    res("batch", "v1", "jobs", "job", "Job", true, &[]),
    res(
        "batch",
        "v1",
        "cronjobs",
        "cronjob",
        "CronJob",
        true,
        &["cj"],
    ),
    res(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        true,
        &["ing"],
    ),
    res(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "storageclass",
        "StorageClass",
        false,
        &["sc"],
    ),
    res(
        "events.k8s.io",
        "v1",
        "events",
        "event",
        "Event",
        true,
        &["ev"],
    ),
];

#[allow(clippy::too_many_arguments)]
const fn res(
    group: &'static str,
    version: &'static str,
    name: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
) -> Resource {
    Resource {
        group,
        version,
        name,
        singular,
        kind,
        namespaced,
        short,
    }
}

impl Resource {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    fn is_event(&self) -> bool {
        self.name == "events"
    }

    fn is_new_event(&self) -> bool {
        self.is_event() && self.group == "events.k8s.io"
    }

    /// Where objects of this resource are stored: events of both APIs share one place.
    fn store_key(&self) -> &'static str {
        if self.is_event() { "events" } else { self.name }
    }

    fn verbs(&self) -> Vec<&'static str> {
        if self.is_event() {
            vec!["create", "get", "list", "patch"]
        } else {
            vec!["get", "list"]
        }
    }
}

/// One request as the fixture saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeRequest {
    /// The method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The body, if it was JSON.
    pub body: Option<Value>,
}

#[derive(Debug, Default)]
struct Store {
    /// (store key, namespace ("" for cluster-scoped), name) → object, in core form.
    objects: BTreeMap<(String, String, String), Value>,
    resource_version: u64,
    uid: u64,
    requests: Vec<KubeRequest>,
}

#[derive(Debug)]
struct Shared {
    token: String,
    require_token: bool,
    forbidden: BTreeSet<(String, String)>,
    store: Mutex<Store>,
    server: String,
}

/// Options of the fixture.
#[derive(Debug, Clone, Default)]
pub struct KubeApiBuilder {
    token: Option<String>,
    require_token: bool,
    forbidden: BTreeSet<(String, String)>,
}

impl KubeApiBuilder {
    /// The bearer token required (default [`DEFAULT_TOKEN`]).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Refuses requests without a token (401), as a TLS API server does.
    pub fn require_token(mut self) -> Self {
        self.require_token = true;
        self
    }

    /// Answers 403 to `verb` (`create`, `patch`, `get`, `list`) on `resource` (`events`),
    /// as a missing RBAC rule would.
    pub fn forbid(mut self, verb: &str, resource: &str) -> Self {
        self.forbidden
            .insert((verb.to_owned(), resource.to_owned()));
        self
    }

    /// Starts the fixture on a free loopback port.
    pub fn start(self) -> KubeApi {
        let slot = Arc::new(Mutex::new(None::<Arc<Shared>>));
        let token = self.token.unwrap_or_else(|| DEFAULT_TOKEN.to_owned());
        // The server address is only known once bound: the app reads it from the shared
        // state, which is filled in right after.
        let app = Router::new()
            .fallback(any(handle))
            .with_state(Arc::clone(&slot));
        let server = ServerThread::start("the Kubernetes API fixture", app, Workers::CurrentThread);
        let shared = Arc::new(Shared {
            token,
            require_token: self.require_token,
            forbidden: self.forbidden,
            store: Mutex::new(Store::default()),
            server: server.addr().to_string(),
        });
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&shared));
        KubeApi { shared, server }
    }
}

type Slot = Arc<Mutex<Option<Arc<Shared>>>>;

/// A running fixture; stops when dropped.
#[derive(Debug)]
pub struct KubeApi {
    shared: Arc<Shared>,
    server: ServerThread,
}

impl KubeApi {
    /// A fixture requiring [`DEFAULT_TOKEN`].
    pub fn start() -> KubeApi {
        KubeApi::builder().start()
    }

    /// Options.
    pub fn builder() -> KubeApiBuilder {
        KubeApiBuilder::default()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The bearer token it requires.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Writes a kubeconfig for this server (context `testkit`, namespace `default`) into
    /// `dir`, and answers its path.
    pub fn write_kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: testkit\n  cluster:\n    server: {}\n\
             users:\n- name: testkit\n  user:\n    token: {}\ncontexts:\n- name: testkit\n  context:\n    \
             cluster: testkit\n    user: testkit\n    namespace: default\ncurrent-context: testkit\n",
            self.url(),
            self.shared.token
        );
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.shared.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds (or replaces) an object, as a controller would have created it: `apiVersion`
    /// and `kind` pick the resource; server fields (`uid`, `resourceVersion`,
    /// `creationTimestamp`) are filled in when missing.
    ///
    /// # Panics
    /// On an object of a kind the fixture does not serve, or without a name.
    pub fn add(&self, object: Value) {
        let api_version = object["apiVersion"].as_str().unwrap_or_default().to_owned();
        let kind = object["kind"].as_str().unwrap_or_default().to_owned();
        let resource = RESOURCES
            .iter()
            .find(|r| r.api_version() == api_version && r.kind == kind)
            .unwrap_or_else(|| panic!("the fixture serves no {api_version} {kind}"));
        let mut object = if resource.is_new_event() {
            new_event_to_core(&object)
        } else {
            object
        };
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_else(|| panic!("an object needs metadata.name"))
            .to_owned();
        let namespace = if resource.namespaced {
            object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_owned()
        } else {
            String::new()
        };
        let mut store = self.store();
        stamp(&mut store, &mut object, resource, &namespace);
        store
            .objects
            .insert((resource.store_key().to_owned(), namespace, name), object);
    }

    /// Every stored event, in core/v1 form.
    pub fn events(&self) -> Vec<Value> {
        self.store()
            .objects
            .iter()
            .filter(|((k, _, _), _)| k == "events")
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<KubeRequest> {
        self.store().requests.clone()
    }

    /// How many requests matched `method` and a path starting with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.store()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .count()
    }
}

fn now() -> String {
    // RFC 3339 in UTC with second precision, as metav1.Time serialises.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Fills in the server's fields and the next resource version.
fn stamp(store: &mut Store, object: &mut Value, resource: &Resource, namespace: &str) {
    store.resource_version += 1;
    let rv = store.resource_version.to_string();
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    let meta = &mut object["metadata"];
    if meta["uid"].is_null() {
        store.uid += 1;
        meta["uid"] = json!(format!("00000000-0000-4000-8000-{:012x}", store.uid));
    }
    if meta["creationTimestamp"].is_null() {
        meta["creationTimestamp"] = json!(now());
    }
    meta["resourceVersion"] = json!(rv);
    if resource.namespaced {
        meta["namespace"] = json!(namespace);
    }
    let stored = if resource.is_event() {
        // Events are stored in core form.
        RESOURCES[9]
    } else {
        *resource
    };
    object["apiVersion"] = json!(stored.api_version());
    object["kind"] = json!(stored.kind);
}

/// The pairs of (events.k8s.io/v1 name, core/v1 name) that differ.
const EVENT_RENAMES: [(&str, &str); 7] = [
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn new_event_to_core(event: &Value) -> Value {
    let mut out = event.clone();
    if let Value::Object(map) = &mut out {
        for (new, old) in EVENT_RENAMES {
            if let Some(v) = map.remove(new) {
                map.insert(old.to_owned(), v);
            }
        }
        map.insert("apiVersion".into(), json!("v1"));
    }
    out
}

fn core_event_to_new(event: &Value) -> Value {
    let mut out = event.clone();
    if let Value::Object(map) = &mut out {
        for (new, old) in EVENT_RENAMES {
            if let Some(v) = map.remove(old) {
                map.insert(new.to_owned(), v);
            }
        }
        map.insert("apiVersion".into(), json!("events.k8s.io/v1"));
    }
    out
}

/// An object as served by `resource`'s API.
fn served(object: &Value, resource: &Resource) -> Value {
    if resource.is_new_event() {
        core_event_to_new(object)
    } else {
        object.clone()
    }
}

fn status(code: StatusCode, reason: &str, message: &str, details: Option<Value>) -> Response {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    if let Some(details) = details {
        body["details"] = details;
    }
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn ok_json(code: StatusCode, body: Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A cause of a 422.
fn cause(field: &str, reason: &str, message: &str) -> Value {
    json!({"reason": reason, "message": message, "field": field})
}

fn invalid(resource: &Resource, name: &str, causes: Vec<Value>) -> Response {
    let messages: Vec<String> = causes
        .iter()
        .map(|c| {
            format!(
                "{}: {}",
                c["field"].as_str().unwrap_or(""),
                c["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    let group_kind = if resource.group.is_empty() {
        resource.kind.to_owned()
    } else {
        format!("{}.{}", resource.kind, resource.group)
    };
    status(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Invalid",
        &format!(
            "{group_kind} \"{name}\" is invalid: [{}]",
            messages.join(", ")
        ),
        Some(
            json!({"name": name, "group": resource.group, "kind": resource.kind, "causes": causes}),
        ),
    )
}

fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// A qualified name (`example.com/name` or `name`), as `reportingController` must be.
fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric();
    name_ok && prefix.is_none_or(is_dns_subdomain)
}

/// The validation of `pkg/apis/core/validation/events.go` on an event in core form;
/// `strict` for creates through events.k8s.io/v1.
fn validate_event(event: &Value, namespace: &str, strict: bool) -> Vec<Value> {
    let mut causes = Vec::new();
    let name = event["metadata"]["name"].as_str().unwrap_or_default();
    if !is_dns_subdomain(name) {
        causes.push(cause(
            "metadata.name",
            "FieldValueInvalid",
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'",
        ));
    }
    let (n, o) = if strict {
        ("note", "regarding")
    } else {
        ("message", "involvedObject")
    };
    let field = |core: &str| -> String {
        if strict {
            EVENT_RENAMES
                .iter()
                .find(|(_, old)| *old == core)
                .map(|(new, _)| (*new).to_owned())
                .unwrap_or_else(|| core.to_owned())
        } else {
            core.to_owned()
        }
    };
    let has_event_time = !event["eventTime"].is_null();
    if strict {
        if !has_event_time {
            causes.push(cause("eventTime", "FieldValueRequired", "Required value"));
        }
        for old in ["source", "firstTimestamp", "lastTimestamp", "count"] {
            let set = match &event[old] {
                Value::Null => false,
                Value::Object(m) => !m.is_empty(),
                Value::Number(n) => n.as_u64() != Some(0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if set {
                causes.push(cause(&field(old), "FieldValueInvalid", "needs to be unset"));
            }
        }
        if !event["series"].is_null() {
            if event["series"]["count"].as_u64().unwrap_or(0) < 2 {
                causes.push(cause(
                    "series.count",
                    "FieldValueInvalid",
                    "should be at least 2",
                ));
            }
            if event["series"]["lastObservedTime"].is_null() {
                causes.push(cause(
                    "series.lastObservedTime",
                    "FieldValueRequired",
                    "Required value",
                ));
            }
        }
    }
    let event_type = event["type"].as_str().unwrap_or_default();
    if (strict || !event_type.is_empty()) && event_type != "Normal" && event_type != "Warning" {
        causes.push(cause(
            "type",
            "FieldValueNotSupported",
            &format!(
                "Unsupported value: \"{event_type}\": supported values: \"Normal\", \"Warning\""
            ),
        ));
    }
    let regarding_ns = event["involvedObject"]["namespace"]
        .as_str()
        .unwrap_or_default();
    if has_event_time {
        if regarding_ns.is_empty() && namespace != "default" && namespace != "kube-system" {
            causes.push(cause(
                &format!("{o}.namespace"),
                "FieldValueInvalid",
                "does not match event.namespace",
            ));
        }
        let controller = event["reportingComponent"].as_str().unwrap_or_default();
        if controller.is_empty() {
            causes.push(cause(
                &field("reportingComponent"),
                "FieldValueRequired",
                "Required value",
            ));
        } else if !is_qualified_name(controller) {
            causes.push(cause(
                &field("reportingComponent"),
                "FieldValueInvalid",
                "must be a qualified name",
            ));
        }
        for (core, max) in [("reportingInstance", 128), ("action", 128), ("reason", 128)] {
            let value = event[core].as_str().unwrap_or_default();
            if value.is_empty() {
                causes.push(cause(core, "FieldValueRequired", "Required value"));
            } else if value.len() > max {
                causes.push(cause(
                    core,
                    "FieldValueInvalid",
                    &format!("can have at most {max} characters"),
                ));
            }
        }
    } else if !regarding_ns.is_empty() && regarding_ns != namespace {
        causes.push(cause(
            &format!("{o}.namespace"),
            "FieldValueInvalid",
            "does not match event.namespace",
        ));
    }
    if event["message"].as_str().unwrap_or_default().len() > 1024 {
        causes.push(cause(
            n,
            "FieldValueTooLong",
            "can have at most 1024 characters",
        ));
    }
    causes
}

/// The fields an events.k8s.io/v1 update may not change (core names).
const EVENT_IMMUTABLE: [&str; 12] = [
    "involvedObject",
    "reason",
    "message",
    "source",
    "firstTimestamp",
    "lastTimestamp",
    "count",
    "type",
    "eventTime",
    "action",
    "related",
    "reportingComponent",
];

/// RFC 7386 merge patch (strategic merge patch behaves the same on an Event's fields).
fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// One parsed label-selector requirement.
enum Requirement {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_label_selector(s: &str) -> Result<Vec<Requirement>, String> {
    let mut out = Vec::new();
    for part in split_top(s)
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let set = |rest: &str| -> Result<Vec<String>, String> {
            let inner = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| format!("unable to parse requirement: {part}"))?;
            Ok(inner.split(',').map(|v| v.trim().to_owned()).collect())
        };
        let req = if let Some(key) = part.strip_prefix('!') {
            Requirement::NotExists(key.trim().to_owned())
        } else if let Some((k, v)) = part.split_once("!=") {
            Requirement::Ne(k.trim().to_owned(), v.trim().to_owned())
        } else if let Some((k, v)) = part.split_once("==") {
            Requirement::Eq(k.trim().to_owned(), v.trim().to_owned())
        } else if let Some((k, v)) = part.split_once('=') {
            Requirement::Eq(k.trim().to_owned(), v.trim().to_owned())
        } else if let Some((k, rest)) = part.split_once(" notin ") {
            Requirement::NotIn(k.trim().to_owned(), set(rest)?)
        } else if let Some((k, rest)) = part.split_once(" in ") {
            Requirement::In(k.trim().to_owned(), set(rest)?)
        } else if part
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_./".contains(&c))
        {
            Requirement::Exists(part.to_owned())
        } else {
            return Err(format!("unable to parse requirement: {part}"));
        };
        out.push(req);
    }
    Ok(out)
}

fn labels_match(object: &Value, requirements: &[Requirement]) -> bool {
    let labels = &object["metadata"]["labels"];
    let get = |k: &str| labels[k].as_str();
    requirements.iter().all(|r| match r {
        Requirement::Eq(k, v) => get(k) == Some(v.as_str()),
        Requirement::Ne(k, v) => get(k) != Some(v.as_str()),
        Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
        Requirement::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
        Requirement::Exists(k) => get(k).is_some(),
        Requirement::NotExists(k) => get(k).is_none(),
    })
}

/// The value of a supported field-selector field, or an error for an unsupported one.
fn field_value<'a>(object: &'a Value, field: &str, resource: &Resource) -> Result<&'a str, String> {
    // events.k8s.io/v1 names `regarding.*` what core/v1 names `involvedObject.*`.
    let field = match field.strip_prefix("regarding.") {
        Some(rest) if resource.is_event() => format!("involvedObject.{rest}"),
        _ => field.to_owned(),
    };
    let path: Option<Vec<&str>> = match field.as_str() {
        "metadata.name" => Some(vec!["metadata", "name"]),
        "metadata.namespace" => Some(vec!["metadata", "namespace"]),
        f if resource.is_event() => match f {
            "involvedObject.kind"
            | "involvedObject.namespace"
            | "involvedObject.name"
            | "involvedObject.uid"
            | "involvedObject.apiVersion"
            | "involvedObject.resourceVersion"
            | "involvedObject.fieldPath" => Some(f.split('.').collect()),
            "reason" | "type" | "reportingComponent" => Some(vec![f]),
            "source" => Some(vec!["source", "component"]),
            _ => None,
        },
        _ => None,
    };
    let path = path.ok_or_else(|| format!("field label not supported: {field}"))?;
    let mut v = object;
    for p in path {
        v = &v[p];
    }
    Ok(v.as_str().unwrap_or(""))
}

fn fields_match(object: &Value, selector: &str, resource: &Resource) -> Result<bool, String> {
    for part in selector.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
            (f, v, false)
        } else if let Some((f, v)) = part.split_once("==") {
            (f, v, true)
        } else if let Some((f, v)) = part.split_once('=') {
            (f, v, true)
        } else {
            return Err(format!(
                "invalid selector: '{part}'; can't understand '{part}'"
            ));
        };
        let actual = field_value(object, field.trim(), resource)?;
        if (actual == value.trim()) != equal {
            return Ok(false);
        }
    }
    Ok(true)
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(h) => {
                        out.push(h);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn discovery(shared: &Shared, path: &str) -> Option<Value> {
    // kube-apiserver answers discovery paths with a trailing slash too (kr8s asks for
    // `/version/` and `/api/`).
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    };
    let resource_json = |r: &Resource| {
        let mut v = json!({
            "name": r.name,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs(),
        });
        if !r.short.is_empty() {
            v["shortNames"] = json!(r.short);
        }
        v
    };
    match path {
        "/version" => Some(json!({
            "major": "1", "minor": "20", "gitVersion": "v1.20.2",
            "gitCommit": "", "gitTreeState": "clean", "buildDate": "2021-01-13T13:20:00Z",
            "goVersion": "go1.15.5", "compiler": "gc", "platform": "linux/amd64"
        })),
        "/api" => Some(json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": shared.server}]
        })),
        "/apis" => {
            let mut groups: Vec<&str> = RESOURCES
                .iter()
                .map(|r| r.group)
                .filter(|g| !g.is_empty())
                .collect();
            groups.dedup();
            let groups: Vec<Value> = groups
                .iter()
                .map(|g| {
                    let gv = json!({"groupVersion": format!("{g}/v1"), "version": "v1"});
                    json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
                })
                .collect();
            Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
        }
        _ => {
            let gv = if path == "/api/v1" {
                Some("v1".to_owned())
            } else {
                path.strip_prefix("/apis/")
                    .filter(|rest| rest.matches('/').count() == 1)
                    .map(str::to_owned)
            }?;
            let resources: Vec<Value> = RESOURCES
                .iter()
                .filter(|r| r.api_version() == gv)
                .map(resource_json)
                .collect();
            if resources.is_empty() {
                return None;
            }
            Some(
                json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
            )
        }
    }
}

/// Where a request points: the resource, the namespace (if any) and the name (if any).
fn locate(path: &str) -> Option<(Resource, Option<String>, Option<String>)> {
    let (api_version, rest) = if let Some(rest) = path.strip_prefix("/api/v1/") {
        ("v1".to_owned(), rest)
    } else {
        let rest = path.strip_prefix("/apis/")?;
        let mut parts = rest.splitn(3, '/');
        let group = parts.next()?;
        let version = parts.next()?;
        (format!("{group}/{version}"), parts.next()?)
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let find = |name: &str| {
        RESOURCES
            .iter()
            .find(|r| r.api_version() == api_version && r.name == name)
            .copied()
    };
    match segments.as_slice() {
        [res] => Some((find(res)?, None, None)),
        ["namespaces", ns, res] => {
            let r = find(res)?;
            r.namespaced.then(|| (r, Some((*ns).to_owned()), None))
        }
        ["namespaces", ns, res, name] => {
            let r = find(res)?;
            r.namespaced
                .then(|| (r, Some((*ns).to_owned()), Some((*name).to_owned())))
        }
        [res, name] => {
            let r = find(res)?;
            (!r.namespaced).then(|| (r, None, Some((*name).to_owned())))
        }
        _ => None,
    }
}

async fn handle(
    State(slot): State<Slot>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(shared) = slot.lock().unwrap_or_else(|e| e.into_inner()).clone() else {
        return status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "starting",
            None,
        );
    };
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_owned());
    {
        let mut store = shared.store.lock().unwrap_or_else(|e| e.into_inner());
        store.requests.push(KubeRequest {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            content_type: content_type.clone(),
            body: serde_json::from_slice(&body).ok(),
        });
    }
    let authorized = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        None => !shared.require_token,
        Some(given) => given.split_once(' ').is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && token.trim() == shared.token
        }),
    };
    if !authorized {
        return status(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Unauthorized",
            None,
        );
    }
    if method == Method::GET
        && let Some(doc) = discovery(&shared, &path)
    {
        return ok_json(StatusCode::OK, doc);
    }
    let Some((resource, namespace, name)) = locate(&path) else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
            None,
        );
    };
    let verb = match (&method, &name) {
        (&Method::GET, Some(_)) => "get",
        (&Method::GET, None) => "list",
        (&Method::POST, None) => "create",
        (&Method::PATCH, Some(_)) => "patch",
        _ => {
            return status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                None,
            );
        }
    };
    if !resource.verbs().contains(&verb) {
        return status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            None,
        );
    }
    if shared
        .forbidden
        .contains(&(verb.to_owned(), resource.name.to_owned()))
    {
        let group = if resource.group.is_empty() {
            String::new()
        } else {
            format!(" in API group \"{}\"", resource.group)
        };
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{}.{} is forbidden: User \"system:serviceaccount:testkit\" cannot {verb} resource \"{}\"{group}",
                resource.name, resource.group, resource.name
            ),
            Some(json!({"kind": resource.name, "group": resource.group})),
        );
    }
    let mut store = shared.store.lock().unwrap_or_else(|e| e.into_inner());
    let ns_key = namespace.clone().unwrap_or_default();
    match verb {
        "list" => {
            let label_selector = query_param(&query, "labelSelector").unwrap_or_default();
            let requirements = match parse_label_selector(&label_selector) {
                Ok(r) => r,
                Err(e) => return status(StatusCode::BAD_REQUEST, "BadRequest", &e, None),
            };
            let field_selector = query_param(&query, "fieldSelector").unwrap_or_default();
            let mut items = Vec::new();
            for ((key, ns, _), object) in &store.objects {
                if key != resource.store_key() || (namespace.is_some() && *ns != ns_key) {
                    continue;
                }
                if !labels_match(object, &requirements) {
                    continue;
                }
                match fields_match(object, &field_selector, &resource) {
                    Ok(true) => items.push(served(object, &resource)),
                    Ok(false) => {}
                    Err(e) => return status(StatusCode::BAD_REQUEST, "BadRequest", &e, None),
                }
            }
            ok_json(
                StatusCode::OK,
                json!({
                    "kind": format!("{}List", resource.kind),
                    "apiVersion": resource.api_version(),
                    "metadata": {"resourceVersion": store.resource_version.to_string()},
                    "items": items,
                }),
            )
        }
        "get" => {
            let key = (
                resource.store_key().to_owned(),
                ns_key,
                name.clone().unwrap_or_default(),
            );
            match store.objects.get(&key) {
                Some(object) => ok_json(StatusCode::OK, served(object, &resource)),
                None => not_found(&resource, name.as_deref().unwrap_or("")),
            }
        }
        "create" => {
            let Ok(object) = serde_json::from_slice::<Value>(&body) else {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "the body of the request was in an unknown format",
                    None,
                );
            };
            if content_type.as_deref() != Some("application/json") {
                return status(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
                    None,
                );
            }
            if let Some(body_ns) = object["metadata"]["namespace"].as_str()
                && !body_ns.is_empty()
                && body_ns != ns_key
            {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                    None,
                );
            }
            let mut core = if resource.is_new_event() {
                new_event_to_core(&object)
            } else {
                object
            };
            let name = core["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let causes = validate_event(&core, &ns_key, resource.is_new_event());
            if !causes.is_empty() {
                return invalid(&resource, &name, causes);
            }
            let key = (
                resource.store_key().to_owned(),
                ns_key.clone(),
                name.clone(),
            );
            if store.objects.contains_key(&key) {
                return status(
                    StatusCode::CONFLICT,
                    "AlreadyExists",
                    &format!(
                        "{}.{} \"{name}\" already exists",
                        resource.name, resource.group
                    ),
                    Some(json!({"name": name, "group": resource.group, "kind": resource.name})),
                );
            }
            stamp(&mut store, &mut core, &resource, &ns_key);
            let answer = served(&core, &resource);
            store.objects.insert(key, core);
            ok_json(StatusCode::CREATED, answer)
        }
        _ => {
            // patch
            let merge = matches!(
                content_type.as_deref(),
                Some("application/merge-patch+json" | "application/strategic-merge-patch+json")
            );
            if !merge {
                return status(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    &format!(
                        "the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (got {:?})",
                        content_type.unwrap_or_default()
                    ),
                    None,
                );
            }
            let Ok(patch) = serde_json::from_slice::<Value>(&body) else {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "the body of the request was in an unknown format",
                    None,
                );
            };
            let name = name.unwrap_or_default();
            let key = (
                resource.store_key().to_owned(),
                ns_key.clone(),
                name.clone(),
            );
            let Some(old) = store.objects.get(&key).cloned() else {
                return not_found(&resource, &name);
            };
            let mut view = served(&old, &resource);
            merge_patch(&mut view, &patch);
            let mut new = if resource.is_new_event() {
                new_event_to_core(&view)
            } else {
                view
            };
            let mut causes = Vec::new();
            if resource.is_new_event() {
                for field in EVENT_IMMUTABLE {
                    if old[field] != new[field] {
                        let shown = EVENT_RENAMES
                            .iter()
                            .find(|(_, core)| *core == field)
                            .map(|(n, _)| *n)
                            .unwrap_or(field);
                        causes.push(cause(shown, "FieldValueInvalid", "field is immutable"));
                    }
                }
                if !new["series"].is_null() && new["series"]["count"].as_u64().unwrap_or(0) < 2 {
                    causes.push(cause(
                        "series.count",
                        "FieldValueInvalid",
                        "should be at least 2",
                    ));
                }
            }
            if old["metadata"]["name"] != new["metadata"]["name"] {
                causes.push(cause(
                    "metadata.name",
                    "FieldValueInvalid",
                    "field is immutable",
                ));
            }
            if !causes.is_empty() {
                return invalid(&resource, &name, causes);
            }
            stamp(&mut store, &mut new, &resource, &ns_key);
            let answer = served(&new, &resource);
            store.objects.insert(key, new);
            ok_json(StatusCode::OK, answer)
        }
    }
}

fn not_found(resource: &Resource, name: &str) -> Response {
    let what = if resource.group.is_empty() {
        resource.name.to_owned()
    } else {
        format!("{}.{}", resource.name, resource.group)
    };
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{what} \"{name}\" not found"),
        Some(json!({"name": name, "group": resource.group, "kind": resource.name})),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_as_kubernetes_documents_them() {
        let pod = json!({"metadata": {"name": "p", "labels": {"app": "web", "tier": "front"}}});
        let ok = |s: &str| labels_match(&pod, &parse_label_selector(s).unwrap());
        assert!(ok("app=web"));
        assert!(ok("app==web,tier!=back"));
        assert!(ok("app in (web, api),!missing"));
        assert!(ok("tier notin (back)"));
        assert!(ok("app"));
        assert!(!ok("app=api"));
        assert!(!ok("missing"));
        assert!(!ok("tier in (back)"));
        assert!(parse_label_selector("app in web").is_err());
    }

    #[test]
    fn events_convert_both_ways() {
        let new = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "note": "n",
                         "regarding": {"name": "x"}, "reportingController": "c"});
        let core = new_event_to_core(&new);
        assert_eq!(core["message"], "n");
        assert_eq!(core["involvedObject"]["name"], "x");
        assert_eq!(core["reportingComponent"], "c");
        assert_eq!(core_event_to_new(&core)["note"], "n");
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert!(is_qualified_name("alert-gateway"));
        assert!(is_qualified_name("example.com/alert-gateway"));
        assert!(!is_qualified_name("Not A Name"));
    }
}

/// A cluster of the size the health graph's speed target names, as
/// [`large_cluster`] builds it.
#[derive(Debug, Clone)]
pub struct LargeCluster {
    /// Every object, to [`KubeApi::add`] (or an in-memory source).
    pub objects: Vec<Value>,
    /// A graph file naming every Deployment (`d<N>`) and Service (`s<N>`).
    pub graph_yaml: String,
}

/// `deployments` healthy Deployments in namespace `big` (`app-<N>`, one ReplicaSet
/// each, `pods_per_deployment` running pods each mounting the ConfigMap `shared`), a
/// Service with ready Endpoints per Deployment, and the graph file naming them all: at
/// 1,000 and 5, the health graph's speed target (5,000 pods, 1,000 Deployments, 1,000
/// Services).
pub fn large_cluster(deployments: usize, pods_per_deployment: usize) -> LargeCluster {
    let mut objects = Vec::with_capacity(deployments * (4 + pods_per_deployment) + 1);
    let mut graph_yaml = String::from("sensors:\n");
    for d in 0..deployments {
        let app = format!("app-{d}");
        objects.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": app, "namespace": "big", "uid": format!("d-{d}")},
            "spec": {"replicas": pods_per_deployment, "selector": {"matchLabels": {"app": app}}},
            "status": {"replicas": pods_per_deployment, "updatedReplicas": pods_per_deployment,
                "readyReplicas": pods_per_deployment, "availableReplicas": pods_per_deployment,
                "conditions": [{"type": "Available", "status": "True"},
                    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}}));
        objects.push(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": format!("{app}-rs"), "namespace": "big", "uid": format!("rs-{d}"),
                "ownerReferences": [{"kind": "Deployment", "name": app, "uid": format!("d-{d}")}]},
            "spec": {"replicas": pods_per_deployment},
            "status": {"replicas": pods_per_deployment, "readyReplicas": pods_per_deployment}}));
        objects.push(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": app, "namespace": "big"},
            "spec": {"selector": {"app": app}, "ports": [{"port": 80}]}}));
        objects.push(json!({"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": app, "namespace": "big"},
            "subsets": [{"addresses": [{"ip": "10.0.0.1"}]}]}));
        for p in 0..pods_per_deployment {
            objects.push(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("{app}-{p}"), "namespace": "big", "labels": {"app": app},
                    "ownerReferences": [{"kind": "ReplicaSet", "name": format!("{app}-rs"), "uid": format!("rs-{d}")}]},
                "spec": {"containers": [{"name": "c"}], "volumes": [{"name": "cfg", "configMap": {"name": "shared"}}]},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [{"name": "c", "ready": true, "state": {"running": {}}}]}}));
        }
        graph_yaml.push_str(&format!(
            "  - {{name: d{d}, kind: kubernetes.io/Deployment, params: {{namespace: big, name: {app}}}}}\n\
             \x20 - {{name: s{d}, kind: kubernetes.io/Service, params: {{namespace: big, name: {app}}}}}\n"
        ));
    }
    objects.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "shared", "namespace": "big"}}));
    LargeCluster {
        objects,
        graph_yaml,
    }
}
