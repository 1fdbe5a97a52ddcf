//! Stands in for Grafana Loki's HTTP API as documented (push, query_range, delete): JSON
//! push with structured metadata (204), `query_range` over stream selectors and label
//! filters with `limit`, `direction`, inclusive `start` and exclusive `end`, Loki's status
//! codes and error texts (400 for `max_entries_limit_per_query`, out-of-order entries,
//! too old or too new timestamps, bad queries; 401 `no org id` without `X-Scope-OrgID`
//! when auth is on), per-tenant data, and duplicate (timestamp, line) entries dropped.
//!
//! What it leaves out: protobuf+snappy push (answered 415), metric queries, line-format
//! and parser stages (`| json`), and the asynchronous delay of deletions (a delete
//! request is applied at once).
//!
//! ```
//! use alert_testkit::loki::LokiFixture;
//! let loki = LokiFixture::start();
//! let now_ns = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
//! let push = serde_json::json!({"streams": [{"stream": {"job": "t"},
//!     "values": [[ now_ns.to_string(), "hello", {"fp": "1"} ]]}]});
//! let status = loki.push("tenant-a", &push);
//! assert_eq!(status, 204);
//! assert_eq!(loki.entries("tenant-a"), 1);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::server_thread::{ServerThread, Workers};

/// Limits of the fixture, named after Loki's settings (defaults are Loki's).
#[derive(Debug, Clone)]
pub struct LokiConfig {
    /// `auth_enabled`: when true, requests need `X-Scope-OrgID` (else 401 `no org id`);
    /// when false, every request is tenant `fake`.
    pub auth_enabled: bool,
    /// `limits_config.max_entries_limit_per_query` (5000).
    pub max_entries_limit_per_query: usize,
    /// `limits_config.reject_old_samples_max_age` (1 week).
    pub reject_old_samples_max_age: Duration,
    /// `limits_config.creation_grace_period` (10 minutes).
    pub creation_grace_period: Duration,
    /// How far behind the newest entry of its stream an entry may be: half of
    /// `ingester.max_chunk_age` (2 h), so 1 hour.
    pub out_of_order_window: Duration,
    /// `limits_config.max_query_length` (30d1h).
    pub max_query_length: Duration,
}

impl Default for LokiConfig {
    fn default() -> Self {
        LokiConfig {
            auth_enabled: true,
            max_entries_limit_per_query: 5000,
            reject_old_samples_max_age: Duration::from_secs(7 * 24 * 3600),
            creation_grace_period: Duration::from_secs(600),
            out_of_order_window: Duration::from_secs(3600),
            max_query_length: Duration::from_secs(721 * 3600),
        }
    }
}

/// One query_range request as the fixture saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeRequest {
    /// The tenant.
    pub tenant: String,
    /// The LogQL query.
    pub query: String,
    /// Start, nanoseconds (inclusive).
    pub start: i128,
    /// End, nanoseconds (exclusive).
    pub end: i128,
    /// The limit asked for.
    pub limit: usize,
    /// `forward` or `backward`.
    pub direction: String,
}

#[derive(Debug, Clone)]
struct Entry {
    ts: i128,
    line: String,
    metadata: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Stream {
    entries: Vec<Entry>,
    /// (timestamp, line) of every entry, for Loki's duplicate rule.
    keys: std::collections::HashSet<(i128, String)>,
    newest: Option<i128>,
}

#[derive(Default)]
struct Data {
    tenants: HashMap<String, BTreeMap<BTreeMap<String, String>, Stream>>,
    range_requests: Vec<RangeRequest>,
    push_requests: usize,
}

struct Shared {
    config: LokiConfig,
    data: Mutex<Data>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A Loki stand-in on a free loopback port, on its own thread and runtime.
pub struct LokiFixture {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// Stops the server when the fixture is dropped.
    _server: ServerThread,
}

impl std::fmt::Debug for LokiFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LokiFixture")
            .field("addr", &self.addr)
            .finish()
    }
}

impl LokiFixture {
    /// Starts with Loki's default limits and auth enabled.
    pub fn start() -> LokiFixture {
        LokiFixture::start_with(LokiConfig::default())
    }

    /// Starts with `config`.
    ///
    /// # Panics
    /// When no port can be bound or no runtime built.
    pub fn start_with(config: LokiConfig) -> LokiFixture {
        let shared = Arc::new(Shared {
            config,
            data: Mutex::new(Data::default()),
        });
        let app = Router::new()
            .route("/loki/api/v1/push", post(push))
            .route("/loki/api/v1/query_range", get(query_range))
            .route("/loki/api/v1/delete", post(delete))
            .route("/ready", get(|| async { "ready\n" }))
            // Loki's distributor takes pushes up to 100 MB (`max_recv_msg_size`).
            .layer(DefaultBodyLimit::max(100 * 1024 * 1024))
            .with_state(Arc::clone(&shared));
        let server = ServerThread::start("the Loki fixture", app, Workers::CurrentThread);
        LokiFixture {
            addr: server.addr(),
            shared,
            _server: server,
        }
    }

    /// `http://127.0.0.1:<port>`, Loki's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many entries `tenant` holds.
    pub fn entries(&self, tenant: &str) -> usize {
        self.shared
            .lock()
            .tenants
            .get(tenant)
            .map_or(0, |streams| streams.values().map(|s| s.entries.len()).sum())
    }

    /// The stream label sets of `tenant`.
    pub fn streams(&self, tenant: &str) -> Vec<BTreeMap<String, String>> {
        self.shared
            .lock()
            .tenants
            .get(tenant)
            .map(|streams| streams.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Every query_range request so far, in arrival order.
    pub fn range_requests(&self) -> Vec<RangeRequest> {
        self.shared.lock().range_requests.clone()
    }

    /// How many push requests arrived.
    pub fn push_requests(&self) -> usize {
        self.shared.lock().push_requests
    }

    /// Pushes a JSON body directly (as a client would) and returns the status code.
    pub fn push(&self, tenant: &str, body: &Value) -> u16 {
        let (status, _) = do_push(
            &self.shared,
            Some(tenant),
            body.to_string().as_bytes(),
            Some("application/json"),
        );
        status.as_u16()
    }
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, format!("{}\n", message.into())).into_response()
}

/// The tenant of a request, or Loki's 401.
fn tenant(shared: &Shared, headers: &HeaderMap) -> Result<String, Box<Response>> {
    if !shared.config.auth_enabled {
        return Ok("fake".to_owned());
    }
    match headers.get("X-Scope-OrgID").and_then(|v| v.to_str().ok()) {
        Some(t) if !t.is_empty() => Ok(t.to_owned()),
        _ => Err(Box::new(error(StatusCode::UNAUTHORIZED, "no org id"))),
    }
}

fn rfc3339(ns: i128) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i128::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

fn stream_string(labels: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

fn valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

async fn push(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let tenant = match tenant(&shared, &headers) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    let (status, message) = do_push(&shared, Some(&tenant), &body, content_type);
    if status == StatusCode::NO_CONTENT {
        status.into_response()
    } else {
        error(status, message)
    }
}

fn do_push(
    shared: &Shared,
    tenant: Option<&str>,
    body: &[u8],
    content_type: Option<&str>,
) -> (StatusCode, String) {
    let tenant = tenant.unwrap_or("fake").to_owned();
    if !content_type.is_some_and(|c| c.starts_with("application/json")) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "this Loki fixture only takes JSON pushes (Content-Type: application/json)".into(),
        );
    }
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("loghttp.PushRequest: {e}")),
    };
    let Some(streams) = parsed.get("streams").and_then(Value::as_array) else {
        return (
            StatusCode::BAD_REQUEST,
            "loghttp.PushRequest.Streams: expected an array".into(),
        );
    };
    // Validate the whole request's shape first: a malformed request stores nothing.
    let mut incoming: Vec<(BTreeMap<String, String>, Vec<Entry>)> = Vec::new();
    for s in streams {
        let mut labels = BTreeMap::new();
        if let Some(obj) = s.get("stream").and_then(Value::as_object) {
            for (k, v) in obj {
                let Some(v) = v.as_str() else {
                    return (
                        StatusCode::BAD_REQUEST,
                        format!("stream label {k}: expected a string"),
                    );
                };
                if !valid_label_name(k) {
                    return (
                        StatusCode::BAD_REQUEST,
                        format!(
                            "error parsing labels '{}' with error: invalid label name {k:?}",
                            stream_string(&labels)
                        ),
                    );
                }
                labels.insert(k.clone(), v.to_owned());
            }
        }
        if labels.is_empty() {
            return (
                StatusCode::BAD_REQUEST,
                "error at least one label pair is required per stream".into(),
            );
        }
        if labels.len() > 15 {
            return (
                StatusCode::BAD_REQUEST,
                format!(
                    "entry for stream '{}' has {} label names; limit 15",
                    stream_string(&labels),
                    labels.len()
                ),
            );
        }
        let mut entries = Vec::new();
        for v in s
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(arr) = v.as_array() else {
                return (
                    StatusCode::BAD_REQUEST,
                    "values: expected [timestamp, line] arrays".into(),
                );
            };
            let ts = match arr.first() {
                Some(Value::String(s)) => match s.parse::<i128>() {
                    Ok(ts) => ts,
                    Err(_) => return (StatusCode::BAD_REQUEST, format!("invalid timestamp {s:?}")),
                },
                // Loki's JSON push wants the timestamp as a string.
                _ => {
                    return (
                        StatusCode::BAD_REQUEST,
                        "timestamp must be a string of nanoseconds".into(),
                    );
                }
            };
            let Some(line) = arr.get(1).and_then(Value::as_str) else {
                return (StatusCode::BAD_REQUEST, "line must be a string".into());
            };
            let mut metadata = BTreeMap::new();
            if let Some(m) = arr.get(2) {
                let Some(obj) = m.as_object() else {
                    return (
                        StatusCode::BAD_REQUEST,
                        "invalid structured metadata".into(),
                    );
                };
                for (k, v) in obj {
                    match v.as_str() {
                        Some(v) if valid_label_name(k) => {
                            metadata.insert(k.clone(), v.to_owned());
                        }
                        _ => {
                            return (
                                StatusCode::BAD_REQUEST,
                                "invalid structured metadata".into(),
                            );
                        }
                    }
                }
            }
            entries.push(Entry {
                ts,
                line: line.to_owned(),
                metadata,
            });
        }
        incoming.push((labels, entries));
    }

    // Per-entry validation: valid entries are kept, invalid ones reported (as Loki does).
    let cfg = &shared.config;
    let now = now_ns();
    let oldest_allowed = now - cfg.reject_old_samples_max_age.as_nanos() as i128;
    let newest_allowed = now + cfg.creation_grace_period.as_nanos() as i128;
    let mut data = shared.lock();
    data.push_requests += 1;
    let streams = data.tenants.entry(tenant).or_default();
    let mut errors: Vec<String> = Vec::new();
    let mut total = 0;
    for (labels, entries) in incoming {
        let name = stream_string(&labels);
        let stream = streams.entry(labels).or_default();
        for e in entries {
            total += 1;
            if e.ts < oldest_allowed {
                errors.push(format!(
                    "entry for stream '{name}' has timestamp too old: {}, oldest acceptable timestamp is: {}",
                    rfc3339(e.ts),
                    rfc3339(oldest_allowed)
                ));
                continue;
            }
            if e.ts > newest_allowed {
                errors.push(format!(
                    "entry for stream '{name}' has timestamp too new: {}",
                    rfc3339(e.ts)
                ));
                continue;
            }
            if let Some(newest) = stream.newest {
                let cutoff = newest - cfg.out_of_order_window.as_nanos() as i128;
                if e.ts < cutoff {
                    errors.push(format!(
                        "entry with timestamp {} ignored, reason: 'entry too far behind, entry timestamp is: {}, oldest acceptable timestamp is: {}' for stream: {name}",
                        rfc3339(e.ts),
                        rfc3339(e.ts),
                        rfc3339(cutoff)
                    ));
                    continue;
                }
            }
            // An entry identical in timestamp and line to one already stored is dropped.
            if !stream.keys.insert((e.ts, e.line.clone())) {
                continue;
            }
            stream.newest = stream.newest.max(Some(e.ts));
            stream.entries.push(e);
        }
        stream.entries.sort_by_key(|x| x.ts);
    }
    streams.retain(|_, s| !s.entries.is_empty());
    if errors.is_empty() {
        (StatusCode::NO_CONTENT, String::new())
    } else {
        let n = errors.len();
        errors.truncate(10);
        (
            StatusCode::BAD_REQUEST,
            format!("{},\ntotal ignored: {n} out of {total}", errors.join(",\n")),
        )
    }
}

/// Loki's accepted time forms: nanoseconds, float seconds, or RFC 3339.
fn parse_time(s: &str) -> Option<i128> {
    if let Ok(ns) = s.parse::<i128>() {
        return Some(ns);
    }
    if let Ok(secs) = s.parse::<f64>() {
        return Some((secs * 1e9) as i128);
    }
    parse_rfc3339(s)
}

fn parse_rfc3339(s: &str) -> Option<i128> {
    // YYYY-MM-DDTHH:MM:SS[.fff]Z only (what clients send).
    let b = s.as_bytes();
    if b.len() < 20 || !s.ends_with('Z') || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i128>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac = s.get(19..s.len() - 1).unwrap_or("");
    let nanos = if let Some(f) = frac.strip_prefix('.') {
        let mut digits = f.to_owned();
        digits.truncate(9);
        while digits.len() < 9 {
            digits.push('0');
        }
        digits.parse::<i128>().ok()?
    } else if frac.is_empty() {
        0
    } else {
        return None;
    };
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000_000) + nanos)
}

/// One `name op "value"` matcher of a selector or label filter.
#[derive(Debug)]
struct LabelMatcher {
    name: String,
    op: String,
    value: String,
}

impl LabelMatcher {
    fn matches(&self, v: Option<&str>) -> bool {
        let v = v.unwrap_or("");
        match self.op.as_str() {
            "=" => v == self.value,
            "!=" => v != self.value,
            _ => false,
        }
    }
}

/// One label filter stage: alternatives joined by `or`, each a list of matchers that
/// must all hold (joined by `,` or `and`, which binds tighter than `or`, as in LogQL).
#[derive(Debug)]
struct LabelFilter {
    any_of: Vec<Vec<LabelMatcher>>,
}

impl LabelFilter {
    /// Whether the filter holds for an entry whose label `name` is `get(name)`.
    fn holds<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.any_of
            .iter()
            .any(|all| all.iter().all(|m| m.matches(get(&m.name))))
    }
}

/// The subset of LogQL the fixture understands: `{selector}` followed by label filters
/// `| name="value"` / `| name!="value"`, several joined by `,`, `and` or `or` (on
/// stream labels or structured metadata), and line filters `|= "text"` / `!= "text"`.
#[derive(Debug)]
struct LogQuery {
    selector: Vec<LabelMatcher>,
    label_filters: Vec<LabelFilter>,
    line_contains: Vec<(bool, String)>,
}

fn parse_query(q: &str) -> Result<LogQuery, String> {
    let err = |what: &str| format!("parse error : {what} in {q:?}");
    let q = q.trim();
    let rest = q
        .strip_prefix('{')
        .ok_or_else(|| err("queries must start with a stream selector"))?;
    let close = find_unquoted(rest, '}').ok_or_else(|| err("unclosed stream selector"))?;
    let selector = parse_matchers(&rest[..close], ',').map_err(|e| err(&e))?;
    if selector.is_empty() {
        return Err(err("queries require at least one matcher"));
    }
    let mut tail = rest[close + 1..].trim();
    let mut label_filters = Vec::new();
    let mut line_contains = Vec::new();
    while !tail.is_empty() {
        let (positive, after) = if let Some(a) = tail.strip_prefix("|=") {
            (Some(true), a)
        } else if let Some(a) = tail.strip_prefix("!=") {
            (Some(false), a)
        } else if let Some(a) = tail.strip_prefix('|') {
            (None, a)
        } else {
            return Err(err("expected a pipeline stage"));
        };
        let after = after.trim_start();
        let next = stage_end(after);
        let stage = after[..next].trim();
        match positive {
            Some(p) => {
                let text: String = serde_json::from_str(stage)
                    .map_err(|_| err("line filters need a quoted string"))?;
                line_contains.push((p, text));
            }
            None => {
                let mut any_of = Vec::new();
                for alternative in split_unquoted_word(stage, "or") {
                    let mut all_of = Vec::new();
                    for part in split_unquoted_word(alternative, "and") {
                        let ms = parse_matchers(part, ',').map_err(|e| err(&e))?;
                        if ms.is_empty() {
                            return Err(err(
                                "unsupported pipeline stage (this fixture takes label filters only)",
                            ));
                        }
                        all_of.extend(ms);
                    }
                    any_of.push(all_of);
                }
                label_filters.push(LabelFilter { any_of });
            }
        }
        tail = after[next..].trim();
    }
    Ok(LogQuery {
        selector,
        label_filters,
        line_contains,
    })
}

/// The first index of `s` outside double quotes (backslash escapes honoured) at which
/// `stop(rest_of_s, text_before)` holds.
fn scan_unquoted(s: &str, stop: impl Fn(&str, &str) -> bool) -> Option<usize> {
    let mut in_quote = false;
    let mut escaped = false;
    for (i, ch) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if ch == '\\' {
            escaped = true;
        } else if ch == '"' {
            in_quote = !in_quote;
        } else if !in_quote && stop(&s[i..], &s[..i]) {
            return Some(i);
        }
    }
    None
}

/// Where the pipeline stage at the start of `s` ends: at the next unquoted `|`, or at an
/// unquoted `!=` that follows a quoted string (a negative line filter).
fn stage_end(s: &str) -> usize {
    scan_unquoted(s, |rest, before| {
        rest.starts_with('|') || (rest.starts_with("!=") && before.trim_end().ends_with('"'))
    })
    .unwrap_or(s.len())
}

/// `s` split at every unquoted `word` standing alone between whitespace (LogQL's `or`
/// and `and`).
fn split_unquoted_word<'a>(s: &'a str, word: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut rest = s;
    loop {
        let at = scan_unquoted(rest, |tail, before| {
            before.ends_with(char::is_whitespace)
                && tail
                    .strip_prefix(word)
                    .is_some_and(|after| after.starts_with(char::is_whitespace))
        });
        match at {
            Some(i) => {
                parts.push(rest[..i].trim());
                rest = &rest[i + word.len()..];
            }
            None => {
                parts.push(rest.trim());
                return parts;
            }
        }
    }
}

fn find_unquoted(s: &str, c: char) -> Option<usize> {
    scan_unquoted(s, |rest, _| rest.starts_with(c))
}

fn parse_matchers(s: &str, sep: char) -> Result<Vec<LabelMatcher>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let end = find_unquoted(rest, sep).unwrap_or(rest.len());
        let part = rest[..end].trim();
        let op_at = part
            .find(['=', '!'])
            .ok_or_else(|| format!("expected a matcher, got {part:?}"))?;
        let name = part[..op_at].trim().to_owned();
        let after = &part[op_at..];
        let op = ["!=", "=~", "!~", "="]
            .into_iter()
            .find(|op| after.starts_with(op))
            .ok_or_else(|| format!("unknown operator in {part:?}"))?;
        if op == "=~" || op == "!~" {
            return Err(format!(
                "regex matchers are not supported by this fixture: {part:?}"
            ));
        }
        let value: String = serde_json::from_str(after[op.len()..].trim())
            .map_err(|_| format!("matcher values must be double-quoted strings: {part:?}"))?;
        if !valid_label_name(&name) {
            return Err(format!("invalid label name {name:?}"));
        }
        out.push(LabelMatcher {
            name,
            op: op.to_owned(),
            value,
        });
        rest = rest.get(end + 1..).unwrap_or("").trim();
    }
    Ok(out)
}

async fn query_range(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let tenant = match tenant(&shared, &headers) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let cfg = &shared.config;
    let Some(query) = params.get("query") else {
        return error(StatusCode::BAD_REQUEST, "query parameter is required");
    };
    let parsed = match parse_query(query) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
        None => 100,
        Some(Ok(l)) => l,
        Some(Err(e)) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if limit > cfg.max_entries_limit_per_query {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "max entries limit per query exceeded, limit > max_entries_limit_per_query ({limit} > {})",
                cfg.max_entries_limit_per_query
            ),
        );
    }
    let now = now_ns();
    let time = |name: &str, default: i128| match params.get(name) {
        None => Ok(default),
        Some(v) => parse_time(v).ok_or_else(|| {
            Box::new(error(
                StatusCode::BAD_REQUEST,
                format!("cannot parse {v:?} to a valid timestamp"),
            ))
        }),
    };
    let end = match time("end", now) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let start = match time("start", end - 3_600_000_000_000) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    if end < start {
        return error(
            StatusCode::BAD_REQUEST,
            "end timestamp must not be before or equal to start time",
        );
    }
    if end - start > cfg.max_query_length.as_nanos() as i128 {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "the query time range exceeds the limit (query length: {}s, limit: {}s)",
                (end - start) / 1_000_000_000,
                cfg.max_query_length.as_secs()
            ),
        );
    }
    let direction = params
        .get("direction")
        .map_or("backward", String::as_str)
        .to_owned();
    if direction != "forward" && direction != "backward" {
        return error(
            StatusCode::BAD_REQUEST,
            format!("invalid direction {direction:?}"),
        );
    }
    let categorize = headers
        .get("X-Loki-Response-Encoding-Flags")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("categorize-labels"));

    let mut data = shared.lock();
    data.range_requests.push(RangeRequest {
        tenant: tenant.clone(),
        query: query.clone(),
        start,
        end,
        limit,
        direction: direction.clone(),
    });
    let mut hits: Vec<(&BTreeMap<String, String>, &Entry)> = Vec::new();
    if let Some(streams) = data.tenants.get(&tenant) {
        for (labels, stream) in streams {
            if !parsed
                .selector
                .iter()
                .all(|m| m.matches(labels.get(&m.name).map(String::as_str)))
            {
                continue;
            }
            for e in &stream.entries {
                if e.ts < start || e.ts >= end {
                    continue;
                }
                let label_ok = parsed.label_filters.iter().all(|f| {
                    f.holds(|name| {
                        e.metadata
                            .get(name)
                            .or_else(|| labels.get(name))
                            .map(String::as_str)
                    })
                });
                let line_ok = parsed
                    .line_contains
                    .iter()
                    .all(|(positive, text)| e.line.contains(text.as_str()) == *positive);
                if label_ok && line_ok {
                    hits.push((labels, e));
                }
            }
        }
    }
    if direction == "forward" {
        hits.sort_by_key(|(_, e)| e.ts);
    } else {
        hits.sort_by_key(|(_, e)| std::cmp::Reverse(e.ts));
    }
    hits.truncate(limit);
    // Group back into streams; without categorize-labels, structured metadata becomes part
    // of the stream's labels, as Loki returns it.
    let mut grouped: BTreeMap<BTreeMap<String, String>, Vec<Value>> = BTreeMap::new();
    for (labels, e) in hits {
        if categorize {
            grouped.entry(labels.clone()).or_default().push(json!([
                e.ts.to_string(),
                e.line,
                {"structuredMetadata": e.metadata}
            ]));
        } else {
            let mut all = labels.clone();
            all.extend(e.metadata.clone());
            grouped
                .entry(all)
                .or_default()
                .push(json!([e.ts.to_string(), e.line]));
        }
    }
    let result: Vec<Value> = grouped
        .into_iter()
        .map(|(stream, values)| json!({"stream": stream, "values": values}))
        .collect();
    let body = json!({
        "status": "success",
        "data": {"resultType": "streams", "result": result, "stats": {}},
    });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn delete(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let tenant = match tenant(&shared, &headers) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let Some(query) = params.get("query") else {
        return error(StatusCode::BAD_REQUEST, "query parameter is required");
    };
    let parsed = match parse_query(query) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let Some(start) = params.get("start").and_then(|s| parse_time(s)) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid start time: require unix seconds or RFC3339 format",
        );
    };
    let end = params
        .get("end")
        .and_then(|s| parse_time(s))
        .unwrap_or_else(now_ns);
    let mut data = shared.lock();
    if let Some(streams) = data.tenants.get_mut(&tenant) {
        for (labels, stream) in streams.iter_mut() {
            if parsed
                .selector
                .iter()
                .all(|m| m.matches(labels.get(&m.name).map(String::as_str)))
            {
                // Deletion bounds are inclusive, in Loki's delete API.
                stream.entries.retain(|e| e.ts < start || e.ts > end);
                stream.keys = stream
                    .entries
                    .iter()
                    .map(|e| (e.ts, e.line.clone()))
                    .collect();
            }
        }
        streams.retain(|_, s| !s.entries.is_empty());
    }
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let q = parse_query(
            r#"{service_name="alert-history", kind="alert"} | fingerprint="00ff" |= "x""#,
        )
        .expect("parses");
        assert_eq!(q.selector.len(), 2);
        assert_eq!(q.label_filters[0].any_of[0][0].name, "fingerprint");
        assert_eq!(q.line_contains, vec![(true, "x".to_owned())]);
        let q = parse_query(r#"{a="b"} |= "x" != "y" | c!="d""#).expect("parses");
        assert_eq!(
            q.line_contains,
            vec![(true, "x".to_owned()), (false, "y".to_owned())]
        );
        assert_eq!(
            (
                q.label_filters[0].any_of[0][0].name.as_str(),
                q.label_filters[0].any_of[0][0].op.as_str()
            ),
            ("c", "!=")
        );
        let q =
            parse_query(r#"{a="b"} | x="1" or x="2" and y="3", z="or" | w="4""#).expect("parses");
        let shape: Vec<Vec<usize>> = q
            .label_filters
            .iter()
            .map(|f| f.any_of.iter().map(Vec::len).collect())
            .collect();
        assert_eq!(shape, [vec![1, 3], vec![1]], "and binds tighter than or");
        let get = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        };
        assert!(q.label_filters[0].holds(get(&[("x", "1")])));
        assert!(q.label_filters[0].holds(get(&[("x", "2"), ("y", "3"), ("z", "or")])));
        assert!(!q.label_filters[0].holds(get(&[("x", "2"), ("y", "3")])));
        assert!(parse_query("{}").is_err());
        assert!(parse_query(r#"{a="b"} | json"#).is_err());
        assert!(parse_query(r#"a="b""#).is_err());
    }

    #[test]
    fn times() {
        assert_eq!(
            parse_time("1700000000000000000"),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(parse_time("1700000000.5"), Some(1_700_000_000_500_000_000));
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z"),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(
            parse_time("2023-11-14T22:13:20.25Z"),
            Some(1_700_000_000_250_000_000)
        );
        assert_eq!(rfc3339(1_700_000_000_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_time("yesterday"), None);
    }
}
