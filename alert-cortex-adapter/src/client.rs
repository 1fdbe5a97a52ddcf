//! The Alertmanager API v2 client for one member (one Alertmanager, or one Cortex/Mimir
//! endpoint for one tenant).
//!
//! Every call has a timeout. Calls that are safe to repeat are retried on transient
//! failures (no connection, timeout, 429, 502, 503, 504) with [`Backoff`]; the others are
//! sent once:
//!
//! | call | retried | why |
//! | --- | --- | --- |
//! | every `GET`, `/-/ready`, `/-/healthy` | yes | reads |
//! | `POST /api/v2/alerts` | yes | Alertmanager merges a re-sent alert into the one it holds, by fingerprint |
//! | `POST /-/reload` | yes | reloading the same file twice loads the same config |
//! | `POST`/`DELETE /api/v1/alerts` (Cortex/Mimir) | yes | each replaces the whole stored config |
//! | `POST /api/v2/silences` | **no** | a repeat creates a second silence (or, with an id, fails on the expired original) |
//! | `DELETE /api/v2/silence/{id}` | **no** | a repeat answers 500 "already expired" |
//!
//! An answer other than 2xx becomes an [`Error`] variant named for the status class,
//! carrying the status code and the server's message.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::addressing::{Addressing, ORG_ID_HEADER};
use crate::alert::{AlertGroup, AlertQuery, GettableAlert, PostableAlert, ReceiverName};
use alert_core::redact_urls;
use alert_core::silence::{PostableSilence, Silence};

use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::status::AlertmanagerStatus;

/// The default timeout of one HTTP call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client for one Alertmanager API endpoint. Cheap to clone (the connection pool is
/// shared).
///
/// ```no_run
/// use alert_cortex_adapter::{AlertQuery, AlertmanagerClient};
/// # async fn run() -> Result<(), alert_cortex_adapter::Error> {
/// let am = AlertmanagerClient::builder("http://127.0.0.1:9093").build()?;
/// let firing = am.alerts(&AlertQuery::default().filter("severity=\"page\"")).await?;
/// println!("{} alerts, running {}", firing.len(), am.status().await?.version_info.version);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AlertmanagerClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    name: String,
    addressing: Addressing,
    timeout: Duration,
    backoff: Backoff,
}

impl std::fmt::Debug for AlertmanagerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertmanagerClient")
            .field("base", &self.inner.base)
            .field("addressing", &self.inner.addressing)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

/// Builds an [`AlertmanagerClient`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base: String,
    name: Option<String>,
    addressing: Addressing,
    timeout: Duration,
    backoff: Backoff,
    http: Option<reqwest::Client>,
}

impl ClientBuilder {
    /// How paths and headers are built (default: a vanilla Alertmanager).
    pub fn addressing(mut self, addressing: Addressing) -> Self {
        self.addressing = addressing;
        self
    }

    /// The timeout of each HTTP call (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy of idempotent calls (default [`Backoff::default`]).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The name used in errors and HA reports (default: the base URL).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Shares an existing `reqwest` client (and its connection pool).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Checks the base URL and builds the client.
    pub fn build(self) -> Result<AlertmanagerClient> {
        let base = self.base.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base).map_err(|e| Error::InvalidRequest {
            what: "base URL",
            value: self.base.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(Error::InvalidRequest {
                what: "base URL",
                value: self.base.clone(),
                reason: "expected http:// or https:// without query or fragment".into(),
            });
        }
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .connect_timeout(self.timeout.min(Duration::from_secs(5)))
                .build()
                .map_err(|e| Error::InvalidRequest {
                    what: "HTTP client",
                    value: base.clone(),
                    reason: error_chain(&e),
                })?,
        };
        Ok(AlertmanagerClient {
            inner: Arc::new(Inner {
                http,
                name: self.name.unwrap_or_else(|| base.clone()),
                base,
                addressing: self.addressing,
                timeout: self.timeout,
                backoff: self.backoff,
            }),
        })
    }
}

/// A request body and its content type.
pub(crate) enum Body {
    Json(Vec<u8>),
    Yaml(String),
}

/// One HTTP call, described before it is sent (and re-sent).
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Body>,
    pub(crate) idempotent: bool,
}

impl Call {
    pub(crate) fn get(path: String) -> Call {
        Call {
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
            idempotent: true,
        }
    }
}

/// A success answer.
pub(crate) struct Answer {
    pub(crate) body: Vec<u8>,
    pub(crate) method: String,
    pub(crate) url: String,
}

impl Answer {
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode {
            method: self.method.clone(),
            url: self.url.clone(),
            reason: e.to_string(),
        })
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl AlertmanagerClient {
    /// Starts building a client for the API at `base_url` (scheme, host, port and any
    /// path the server is mounted under, without `/api/v2`).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base: base_url.into(),
            name: None,
            addressing: Addressing::Alertmanager,
            timeout: DEFAULT_TIMEOUT,
            backoff: Backoff::default(),
            http: None,
        }
    }

    /// The member's name (its base URL unless named otherwise).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// How paths and headers are built.
    pub fn addressing(&self) -> &Addressing {
        &self.inner.addressing
    }

    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The same settings (and connection pool) against another base URL, named after it.
    pub fn with_base_url(&self, base_url: &str) -> Result<AlertmanagerClient> {
        self.rebuild(base_url, None, self.inner.addressing.clone())
    }

    /// The same settings (and connection pool) for another tenant of the same backend.
    pub fn for_tenant(&self, tenant: &str) -> Result<AlertmanagerClient> {
        let addressing = self.inner.addressing.for_tenant(tenant)?;
        self.rebuild(&self.inner.base, Some(self.inner.name.clone()), addressing)
    }

    fn rebuild(
        &self,
        base: &str,
        name: Option<String>,
        addressing: Addressing,
    ) -> Result<AlertmanagerClient> {
        let mut b = AlertmanagerClient::builder(base)
            .addressing(addressing)
            .timeout(self.inner.timeout)
            .backoff(self.inner.backoff)
            .http_client(self.inner.http.clone());
        if let Some(n) = name {
            b = b.name(n);
        }
        b.build()
    }

    /// `GET /api/v2/alerts`, sorted by fingerprint as Alertmanager sorts it.
    pub async fn alerts(&self, query: &AlertQuery) -> Result<Vec<GettableAlert>> {
        let mut call = Call::get(self.inner.addressing.api_path("alerts"));
        call.query = query.to_pairs(true);
        self.send(call).await?.json()
    }

    /// `POST /api/v2/alerts`. Alertmanager answers 400 for invalid alerts but still stores
    /// the valid ones of the same request.
    pub async fn post_alerts(&self, alerts: &[PostableAlert]) -> Result<()> {
        let call = self.json_call(
            Method::POST,
            self.inner.addressing.api_path("alerts"),
            alerts,
            true,
        )?;
        self.send(call).await.map(drop)
    }

    /// `GET /api/v2/alerts/groups`.
    pub async fn alert_groups(&self, query: &AlertQuery) -> Result<Vec<AlertGroup>> {
        let mut call = Call::get(self.inner.addressing.api_path("alerts/groups"));
        call.query = query.to_pairs(false);
        self.send(call).await?.json()
    }

    /// `GET /api/v2/silences`, optionally filtered by matcher strings. Alertmanager 0.25
    /// sorts them active, pending, expired.
    pub async fn silences(&self, filter: &[String]) -> Result<Vec<Silence>> {
        let mut call = Call::get(self.inner.addressing.api_path("silences"));
        call.query = filter
            .iter()
            .map(|f| ("filter".to_owned(), f.clone()))
            .collect();
        self.send(call).await?.json()
    }

    /// `GET /api/v2/silence/{id}`; [`Error::NotFound`] when there is no such silence.
    pub async fn silence(&self, id: &str) -> Result<Silence> {
        self.send(Call::get(
            self.inner.addressing.api_path(&silence_path(id)?),
        ))
        .await?
        .json()
    }

    /// `POST /api/v2/silences`: creates a silence (or, with an id, replaces it) and
    /// returns its id. Sent once: a repeat would create a second silence.
    pub async fn post_silence(&self, silence: &PostableSilence) -> Result<String> {
        #[derive(serde::Deserialize)]
        struct Created {
            #[serde(rename = "silenceID")]
            silence_id: String,
        }
        let call = self.json_call(
            Method::POST,
            self.inner.addressing.api_path("silences"),
            silence,
            false,
        )?;
        Ok(self.send(call).await?.json::<Created>()?.silence_id)
    }

    /// `DELETE /api/v2/silence/{id}`: expires the silence. Alertmanager 0.25 answers 500
    /// for a silence that is already expired or unknown.
    pub async fn expire_silence(&self, id: &str) -> Result<()> {
        let call = Call {
            method: Method::DELETE,
            path: self.inner.addressing.api_path(&silence_path(id)?),
            query: Vec::new(),
            body: None,
            idempotent: false,
        };
        self.send(call).await.map(drop)
    }

    /// `GET /api/v2/status`.
    pub async fn status(&self) -> Result<AlertmanagerStatus> {
        self.send(Call::get(self.inner.addressing.api_path("status")))
            .await?
            .json()
    }

    /// `GET /api/v2/receivers`.
    pub async fn receivers(&self) -> Result<Vec<ReceiverName>> {
        self.send(Call::get(self.inner.addressing.api_path("receivers")))
            .await?
            .json()
    }

    /// `GET /-/ready`: succeeds once the server has loaded its configuration.
    pub async fn ready(&self) -> Result<()> {
        self.send(Call::get(self.inner.addressing.lifecycle_path("ready")))
            .await
            .map(drop)
    }

    /// `GET /-/healthy`.
    pub async fn healthy(&self) -> Result<()> {
        self.send(Call::get(self.inner.addressing.lifecycle_path("healthy")))
            .await
            .map(drop)
    }

    /// `POST /-/reload`: Alertmanager re-reads its configuration file and answers only
    /// once that is done. A file it cannot load gives [`Error::Status`] 500 with its
    /// message (`failed to reload config: …`), and the previous configuration keeps
    /// running.
    pub async fn reload(&self) -> Result<()> {
        let call = Call {
            method: Method::POST,
            path: self.inner.addressing.lifecycle_path("reload"),
            query: Vec::new(),
            body: None,
            idempotent: true,
        };
        self.send(call).await.map(drop)
    }

    pub(crate) fn json_call<T: Serialize + ?Sized>(
        &self,
        method: Method,
        path: String,
        body: &T,
        idempotent: bool,
    ) -> Result<Call> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::InvalidRequest {
            what: "request body",
            value: path.clone(),
            reason: e.to_string(),
        })?;
        Ok(Call {
            method,
            path,
            query: Vec::new(),
            body: Some(Body::Json(bytes)),
            idempotent,
        })
    }

    /// Sends a call, retrying it when it is idempotent and the failure transient.
    pub(crate) async fn send(&self, call: Call) -> Result<Answer> {
        let inner = &self.inner;
        let url = format!("{}{}", inner.base, call.path);
        let attempts = if call.idempotent {
            inner.backoff.max_attempts.max(1)
        } else {
            1
        };
        let mut attempt = 1;
        loop {
            match self.send_once(&call, &url).await {
                Err(e) if attempt < attempts && e.is_transient() => {
                    tracing::debug!(member = %inner.name, url = %redact_urls(&url), attempt, error = %e, "retrying");
                    tokio::time::sleep(inner.backoff.delay(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn send_once(&self, call: &Call, url: &str) -> Result<Answer> {
        let inner = &self.inner;
        let method = call.method.as_str().to_owned();
        let mut req = inner
            .http
            .request(call.method.clone(), url)
            .timeout(inner.timeout);
        if !call.query.is_empty() {
            req = req.query(&call.query);
        }
        if let Some(org) = inner.addressing.org_id() {
            req = req.header(ORG_ID_HEADER, org);
        }
        req = match &call.body {
            Some(Body::Json(b)) => req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.clone()),
            Some(Body::Yaml(s)) => req
                .header(reqwest::header::CONTENT_TYPE, "application/yaml")
                .body(s.clone()),
            None => req,
        };
        // Errors never carry a URL's credentials: every URL and every cause (reqwest's
        // messages quote the URL) is redacted here, where the error is made.
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                Error::Timeout {
                    method: method.clone(),
                    url: redact_urls(url),
                    after: inner.timeout,
                }
            } else {
                Error::Transport {
                    method: method.clone(),
                    url: redact_urls(url),
                    reason: redact_urls(&error_chain(&e)),
                }
            }
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        // The URL actually requested (with the query) names the call in errors.
        let full_url = redact_urls(resp.url().as_str());
        let body = resp.bytes().await.map_err(transport)?;
        if status.is_success() {
            Ok(Answer {
                body: body.to_vec(),
                method,
                url: full_url,
            })
        } else {
            Err(Error::from_status(
                &method,
                &full_url,
                status.as_u16(),
                &String::from_utf8_lossy(&body),
            ))
        }
    }
}

/// `silence/<id>`, refusing ids that would change the path.
fn silence_path(id: &str) -> Result<String> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(Error::InvalidRequest {
            what: "silence id",
            value: id.to_owned(),
            reason: "expected a UUID such as 0d1e5f7a-3c2b-4a69-9d8e-1f2a3b4c5d6e".into(),
        });
    }
    Ok(format!("silence/{id}"))
}

/// An error and its causes, joined with `: `.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
