//! The built-in instrumentors, all in namespace `alert-health`:
//!
//! | kind | graph-file key | measures | feature |
//! |---|---|---|---|
//! | `alert-health:constant` | `constant` | nothing: a fixed state ([`crate::constant`]) | always |
//! | `alert-health:tcp` | `tcp` | a TCP connect ([`tcp`]) | `runtime` |
//! | `alert-health:http` | `http` | an HTTP check: status, latency, body ([`http`]) | `http` |
//! | `alert-health:alertmanager` | `alertmanager` | alerts firing in an Alertmanager, an HA cluster or a Cortex/Mimir tenant ([`alertmanager`], via `alert-cortex-adapter`) | `http` |
//! | `alert-health:prometheus` | `prometheus` | a threshold on a Prometheus instant query ([`prometheus`]) | `http` |
//! | `alert-health:remote` | `remote` | another graph's JSON output ([`remote`]) | `http` |
//!
//! Sensors that read a shared upstream (Alertmanager, Prometheus, remote graphs) go
//! through one [`Sources`] cache, so N sensors on one upstream make one call per TTL.
//!
//! Readings and errors name URLs without credentials: `user:password@` and the values of
//! secret query parameters (`token`, `api_key`, …) show as `<secret>`
//! ([`alert_core::redact_urls`]), so no visualiser (console, JSON, status pages, the
//! server's API) can show them. A URL's userinfo is still sent, as basic authentication.

use std::sync::Arc;

use crate::constant::ConstantInstrumentor;
use crate::registry::Registry;

#[cfg(feature = "http")]
pub mod alertmanager;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "http")]
pub mod prometheus;
#[cfg(feature = "http")]
pub mod remote;
#[cfg(feature = "runtime")]
pub mod tcp;

/// What the HTTP-speaking built-ins share: one client (and connection pool), one cache
/// of JSON answers, and one of Alertmanager alert reads.
#[cfg(feature = "http")]
#[derive(Debug, Clone)]
pub struct Sources {
    /// The HTTP client (rustls); Alertmanager clients use its connection pool too.
    pub client: reqwest::Client,
    /// JSON documents by request key.
    pub json: crate::source_cache::SharedCache<Arc<serde_json::Value>>,
    /// Merged `GET /api/v2/alerts` reads by target and query.
    pub alerts: crate::source_cache::SharedCache<alertmanager::AlertsRead>,
}

#[cfg(feature = "http")]
impl Default for Sources {
    fn default() -> Self {
        Sources {
            client: reqwest::Client::builder()
                .user_agent(concat!("alert-health-graph/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_default(),
            json: Arc::new(crate::source_cache::SourceCache::new()),
            alerts: Arc::new(crate::source_cache::SourceCache::new()),
        }
    }
}

#[cfg(feature = "http")]
impl Sources {
    /// `GET url` with query pairs, as JSON, through the cache under `key` (which must
    /// name everything that makes the answer differ).
    pub async fn get_json(
        &self,
        key: String,
        url: String,
        query: Vec<(String, String)>,
        ttl: alert_core::Duration,
    ) -> crate::Result<crate::source_cache::Cached<Arc<serde_json::Value>>> {
        let client = self.client.clone();
        // Errors name the URL without its credentials.
        let shown = alert_core::redact_urls(&url);
        self.json
            .get(&key, ttl.to_std(), async move {
                let request_error = |e: reqwest::Error| crate::Error::Request {
                    target: shown.clone(),
                    reason: request_error_text(e),
                };
                let response = client
                    .get(&url)
                    .query(&query)
                    .send()
                    .await
                    .map_err(request_error)?;
                let status = response.status();
                let body = response.text().await.map_err(request_error)?;
                if !status.is_success() {
                    return Err(crate::Error::UnexpectedResponse {
                        target: shown.clone(),
                        reason: format!("HTTP {}: {}", status.as_u16(), body.trim()),
                    });
                }
                serde_json::from_str(&body).map(Arc::new).map_err(|e| {
                    crate::Error::UnexpectedResponse {
                        target: shown.clone(),
                        reason: format!("not JSON: {e}"),
                    }
                })
            })
            .await
    }
}

/// A reqwest error with its causes (`error sending request: … : Connection refused`),
/// without the URL (callers name it).
#[cfg(feature = "http")]
pub fn request_error_text(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The instrumentors that need nothing shared: `constant`, and `tcp` with the `runtime`
/// feature.
pub fn basic_registry() -> Registry {
    let mut r = Registry::new();
    r.register_all(Arc::new(ConstantInstrumentor));
    #[cfg(feature = "runtime")]
    r.register_all(Arc::new(tcp::TcpInstrumentor));
    r
}

/// Every built-in instrumentor, the HTTP-speaking ones sharing `sources`.
#[cfg(feature = "http")]
pub fn registry(sources: &Sources) -> Registry {
    let mut r = basic_registry();
    r.register_all(Arc::new(http::HttpInstrumentor::new(sources.clone())));
    r.register_all(Arc::new(alertmanager::AlertmanagerInstrumentor::new(
        sources.clone(),
    )));
    r.register_all(Arc::new(prometheus::PrometheusInstrumentor::new(
        sources.clone(),
    )));
    r.register_all(Arc::new(remote::RemoteInstrumentor::new(sources.clone())));
    r
}

/// The graph-file key of each built-in kind, for the loader.
pub const KEYS: [&str; 6] = [
    "constant",
    "tcp",
    "http",
    "alertmanager",
    "prometheus",
    "remote",
];
