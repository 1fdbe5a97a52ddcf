//! The emitter deployment: receives Alertmanager's webhook notifications, keeps the
//! recent ones in a **message cache** (bounded per tenant, queryable), and writes each
//! alert as a Kubernetes Event ([`crate::kube_events`]) when a cluster is configured.
//!
//! It is stateless: the cache is memory, and with several replicas behind one address a
//! read **fans out** — the replica that takes `GET /api/v1/messages` asks its peers
//! (`?local=true`) and merges their answers, deduplicated by message id (Alertmanager
//! sends one notification to one replica, so each replica holds what it received).
//!
//! | route | what |
//! |---|---|
//! | `POST /api/v1/emitter/webhook` | Alertmanager's webhook message (version 4); 200 once cached; 400/413/415 for bad bodies |
//! | `GET /api/v1/messages?tenant=&condition=&since=&limit=&local=` | newest first: `{"messages": [...], "partial": [peers that did not answer]}` |
//!
//! A notification's tenant is its alerts' `tenant` label (the label generated rules
//! carry), else `""`. Writing Events never delays the webhook's answer: they go through a
//! bounded queue, and a full queue drops the Event (counted), never the message.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alert_core::{Alert, CONDITION_ID_LABEL, Timestamp, WebhookMessage};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc;

use crate::api::error_response;
use crate::kube_events::EventRecorder;

/// The current time.
fn now() -> Timestamp {
    Timestamp::from_jiff(jiff::Timestamp::now())
}

/// How many messages a tenant keeps by default.
pub const DEFAULT_PER_TENANT: usize = 1000;

/// The most tenants the cache tracks; the least recently written one is dropped past it.
pub const MAX_TENANTS: usize = 10_000;

/// Where Alertmanager posts notifications to the emitter (the control plane's default
/// emitter webhook points here).
pub const WEBHOOK_PATH: &str = "/api/v1/emitter/webhook";

/// The label naming an alert's tenant.
pub const TENANT_LABEL: &str = "tenant";

/// One cached notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedMessage {
    /// `<replica>-<sequence>`: unique across replicas.
    pub id: String,
    /// When this replica received it.
    pub received_at: Timestamp,
    /// The alerts' tenant (`""` when none says).
    pub tenant: String,
    /// Alertmanager's receiver (regex quoting undone).
    pub receiver: String,
    /// The aggregation group's key.
    pub group_key: String,
    /// `firing` or `resolved`.
    pub status: String,
    /// The alerts as sent.
    pub alerts: Vec<Alert>,
}

impl CachedMessage {
    /// Whether any alert belongs to `condition` (its `alert_condition_id`).
    pub fn concerns(&self, condition: &str) -> bool {
        self.alerts
            .iter()
            .any(|a| a.labels.get(CONDITION_ID_LABEL) == Some(condition))
    }
}

/// The tenant of a message: the first alert's `tenant` label, else the group's.
fn tenant_of(message: &WebhookMessage) -> String {
    message
        .alerts
        .iter()
        .find_map(|a| a.labels.get(TENANT_LABEL))
        .or_else(|| message.common_labels.get(TENANT_LABEL))
        .unwrap_or("")
        .to_owned()
}

/// A filter of [`MessageCache::query`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageQuery {
    /// Only this tenant's.
    pub tenant: Option<String>,
    /// Only messages with an alert of this condition.
    pub condition: Option<String>,
    /// Only messages received at or after this.
    pub since: Option<Timestamp>,
    /// At most this many (newest first).
    pub limit: usize,
}

/// Recent notifications, bounded per tenant.
#[derive(Debug)]
pub struct MessageCache {
    replica: String,
    per_tenant: usize,
    sequence: AtomicU64,
    tenants: Mutex<HashMap<String, (u64, VecDeque<CachedMessage>)>>,
}

impl MessageCache {
    /// A cache of `per_tenant` messages per tenant; `replica` prefixes message ids.
    pub fn new(replica: &str, per_tenant: usize) -> MessageCache {
        MessageCache {
            replica: replica.to_owned(),
            per_tenant: per_tenant.max(1),
            sequence: AtomicU64::new(0),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// Caches `message`, received at `at`; answers the cached copy.
    pub fn insert(&self, message: &WebhookMessage, at: Timestamp) -> CachedMessage {
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let cached = CachedMessage {
            id: format!("{}-{seq}", self.replica),
            received_at: at,
            tenant: tenant_of(message),
            receiver: message.receiver_unquoted(),
            group_key: message.group_key.clone(),
            status: message.status.as_str().to_owned(),
            alerts: message.alerts.clone(),
        };
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        if !tenants.contains_key(&cached.tenant) && tenants.len() >= MAX_TENANTS {
            // Drop the tenant written to least recently.
            if let Some(oldest) = tenants
                .iter()
                .min_by_key(|(_, (last, _))| *last)
                .map(|(k, _)| k.clone())
            {
                tenants.remove(&oldest);
            }
        }
        let (last, queue) = tenants.entry(cached.tenant.clone()).or_default();
        *last = seq;
        if queue.len() == self.per_tenant {
            queue.pop_front();
        }
        queue.push_back(cached.clone());
        cached
    }

    /// The messages matching `query`, newest first.
    pub fn query(&self, query: &MessageQuery) -> Vec<CachedMessage> {
        let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<CachedMessage> = tenants
            .iter()
            .filter(|(t, _)| query.tenant.as_ref().is_none_or(|q| q == *t))
            .flat_map(|(_, (_, queue))| queue.iter())
            .filter(|m| query.since.is_none_or(|s| m.received_at >= s))
            .filter(|m| query.condition.as_deref().is_none_or(|c| m.concerns(c)))
            .cloned()
            .collect();
        out.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(b.id.cmp(&a.id)));
        out.truncate(query.limit);
        out
    }
}

/// How the emitter behaves.
#[derive(Debug, Clone)]
pub struct EmitterOptions {
    /// This replica's name (message ids, `reportingInstance`).
    pub replica: String,
    /// Messages kept per tenant.
    pub per_tenant: usize,
    /// Other replicas' base URLs, asked on reads.
    pub peers: Vec<String>,
    /// The bearer token sent to peers (the gateway's own `--auth.token-file`).
    pub peer_token: Option<String>,
    /// Where Events go, if anywhere.
    pub events: Option<EventRecorder>,
    /// The largest webhook body.
    pub max_body_bytes: usize,
}

impl Default for EmitterOptions {
    fn default() -> Self {
        EmitterOptions {
            replica: "emitter".into(),
            per_tenant: DEFAULT_PER_TENANT,
            peers: Vec::new(),
            peer_token: None,
            events: None,
            max_body_bytes: 4 * 1024 * 1024,
        }
    }
}

struct EmitterState {
    cache: MessageCache,
    peers: Vec<String>,
    peer_token: Option<String>,
    client: reqwest::Client,
    events: Option<mpsc::Sender<Alert>>,
    dropped_events: AtomicU64,
    max_body_bytes: usize,
}

/// The emitter's routes (merge them into the gateway's router).
pub fn router(options: EmitterOptions) -> Router {
    let events = options.events.map(|recorder| {
        let (tx, mut rx) = mpsc::channel::<Alert>(10_000);
        tokio::spawn(async move {
            while let Some(alert) = rx.recv().await {
                if let Err(e) = recorder.record(&alert, now()).await {
                    tracing::warn!(error = %e, "cannot write a Kubernetes event");
                }
            }
        });
        tx
    });
    let state = Arc::new(EmitterState {
        cache: MessageCache::new(&options.replica, options.per_tenant),
        peers: options.peers,
        peer_token: options.peer_token,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default(),
        events,
        dropped_events: AtomicU64::new(0),
        max_body_bytes: options.max_body_bytes,
    });
    Router::new()
        .route(WEBHOOK_PATH, post(webhook))
        .route("/api/v1/messages", get(messages))
        .with_state(state)
}

async fn webhook(
    State(state): State<Arc<EmitterState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json") {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Alertmanager's webhook sends application/json",
        );
    }
    let body = match body {
        Ok(b) if b.len() <= state.max_body_bytes => b,
        Ok(_) => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "body over the limit",
            );
        }
        Err(e) => return error_response(e.status(), "bad_data", &e.body_text()),
    };
    let message = match WebhookMessage::from_json(&body) {
        Ok(m) => m,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, "bad_data", &e.to_string()),
    };
    let cached = state.cache.insert(&message, now());
    if let Some(events) = &state.events {
        for alert in message.alerts {
            if events.try_send(alert).is_err() {
                state.dropped_events.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"status": "success", "id": cached.id}).to_string(),
    )
        .into_response()
}

#[derive(Serialize, Deserialize)]
struct Answer {
    messages: Vec<CachedMessage>,
    #[serde(default)]
    partial: Vec<String>,
}

fn parse_query(raw: Option<&str>) -> Result<(MessageQuery, bool), String> {
    let mut query = MessageQuery {
        limit: 100,
        ..MessageQuery::default()
    };
    let mut local = false;
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = crate::api::percent_decode(value)?;
        match name {
            "tenant" => query.tenant = Some(value),
            "condition" => query.condition = Some(value),
            "since" => {
                query.since = Some(
                    value
                        .parse()
                        .map_err(|e| format!("since: {e} (expected RFC 3339)"))?,
                )
            }
            "limit" => {
                query.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=10_000).contains(l))
                    .ok_or_else(|| format!("limit: expected 1 to 10000, not {value:?}"))?
            }
            "local" => local = value == "true" || value == "1",
            other => return Err(format!("unknown query parameter {other:?}")),
        }
    }
    Ok((query, local))
}

async fn messages(State(state): State<Arc<EmitterState>>, RawQuery(raw): RawQuery) -> Response {
    let (query, local) = match parse_query(raw.as_deref()) {
        Ok(q) => q,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, "bad_data", &e),
    };
    let mut messages = state.cache.query(&query);
    let mut partial = Vec::new();
    if !local {
        let mut peer_query = raw.clone().unwrap_or_default();
        if !peer_query.is_empty() {
            peer_query.push('&');
        }
        peer_query.push_str("local=true");
        let asks = state.peers.iter().map(|peer| {
            let mut request = state.client.get(format!(
                "{}/api/v1/messages?{peer_query}",
                peer.trim_end_matches('/')
            ));
            if let Some(token) = &state.peer_token {
                request = request.bearer_auth(token);
            }
            async move {
                let answer = match request.send().await {
                    Ok(r) if r.status().is_success() => r.json::<Answer>().await.ok(),
                    _ => None,
                };
                (peer.clone(), answer)
            }
        });
        for (peer, answer) in futures::future::join_all(asks).await {
            match answer {
                Some(a) => messages.extend(a.messages),
                None => partial.push(crate::store::redact_url(&peer)),
            }
        }
        messages.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(b.id.cmp(&a.id)));
        messages.dedup_by(|a, b| a.id == b.id);
        messages.truncate(query.limit);
    }
    crate::api::serialized(StatusCode::OK, &Answer { messages, partial })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(tenant: &str, condition: &str) -> WebhookMessage {
        let body = format!(
            r#"{{"receiver":"hook","status":"firing","alerts":[{{"status":"firing",
            "labels":{{"alertname":"A","tenant":"{tenant}","alert_condition_id":"{condition}"}},
            "annotations":{{}},"startsAt":"2026-12-07T00:00:00Z","endsAt":"0001-01-01T00:00:00Z",
            "generatorURL":""}}],"version":"4","groupKey":"{{}}:{{}}"}}"#
        );
        WebhookMessage::from_json(body.as_bytes()).unwrap()
    }

    #[test]
    fn the_cache_is_bounded_per_tenant_and_filters() {
        let cache = MessageCache::new("r0", 3);
        let t = |s: &str| -> Timestamp { s.parse().unwrap() };
        for i in 0..5 {
            cache.insert(&message("a", "cpu"), t(&format!("2026-12-07T00:00:0{i}Z")));
        }
        cache.insert(&message("b", "disk"), t("2026-12-07T00:00:09Z"));
        let all = cache.query(&MessageQuery {
            limit: 100,
            ..Default::default()
        });
        assert_eq!(all.len(), 4, "3 of tenant a, 1 of b");
        assert_eq!(all[0].tenant, "b", "newest first");
        let a = cache.query(&MessageQuery {
            tenant: Some("a".into()),
            limit: 100,
            ..Default::default()
        });
        assert_eq!(
            a.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["r0-5", "r0-4", "r0-3"]
        );
        let since = cache.query(&MessageQuery {
            since: Some(t("2026-12-07T00:00:04Z")),
            limit: 100,
            ..Default::default()
        });
        assert_eq!(since.len(), 2);
        let disk = cache.query(&MessageQuery {
            condition: Some("disk".into()),
            limit: 1,
            ..Default::default()
        });
        assert_eq!(disk[0].tenant, "b");
        assert!(parse_query(Some("limit=0")).is_err());
        assert!(parse_query(Some("since=yesterday")).is_err());
        assert!(parse_query(Some("who=me")).is_err());
    }
}
