//! [`RuleReads`]: one fetch of a rules API per pass, shared by every sensor on that
//! endpoint (needs the `http` feature).
//!
//! As [`KubeLists`](crate::kubernetes::KubeLists) shares one LIST, every alert-rule sensor
//! of one endpoint (URL, flavor and credentials) shares one `GET` of the rules API, parsed
//! once: within the TTL (default 5 s, longer than a pass and shorter than any sensible
//! interval) the parsed answer is reused, and while a fetch is in flight every other
//! sensor joins it. Sensors then pick their rules from the answer in memory, so a graph
//! of a hundred rules costs one request per pass. Errors are shared with the sensors
//! waiting on that fetch, not cached.
//!
//! Credentials: a bearer token (`Authorization: Bearer …`, Grafana's service-account
//! tokens and API keys, a proxy in front of Prometheus), basic authentication, or the
//! URL's `user:password@` (sent as basic authentication). None of them is ever part of
//! an error, a cache key or `Debug`: errors name the URL through
//! [`alert_core::redact_urls`], and the server's answer passes through
//! [`alert_core::redact::redact_secrets`] before it is quoted.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use alert_core::{Secret, redact_urls};

use super::answer::{self, RulesAnswer};
use super::judge::Flavor;
use crate::error::{Error, Result};
use crate::source_cache::SourceCache;

/// How long one answer is shared by default.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5);

/// How a request authenticates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// No header (a URL's `user:password@` is still sent as basic authentication).
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic …`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
}

impl Auth {
    /// Distinguishes credentials in cache keys without holding them: two sensors with
    /// different tokens never share an answer.
    fn tag(&self) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        match self {
            Auth::None => return "none".to_owned(),
            Auth::Bearer(token) => ("bearer", token.expose()).hash(&mut h),
            Auth::Basic { username, password } => {
                ("basic", username, password.expose()).hash(&mut h)
            }
        }
        format!("{:016x}", h.finish())
    }

    fn secrets(&self) -> Vec<&str> {
        match self {
            Auth::None => Vec::new(),
            Auth::Bearer(token) => vec![token.expose()],
            Auth::Basic { password, .. } => vec![password.expose()],
        }
    }
}

/// One rules API: whose, where, and how to authenticate. `Debug` shows the URL without
/// its credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Prometheus or Grafana.
    pub flavor: Flavor,
    /// The server's base URL (`http://prometheus:9090`, `https://grafana.example/`), with
    /// any path prefix it is served under.
    pub base: reqwest::Url,
    /// Credentials.
    pub auth: Auth,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("flavor", &self.flavor)
            .field("url", &self.shown())
            .field("auth", &self.auth)
            .finish()
    }
}

impl Endpoint {
    /// The rules API's URL: `<base>/api/v1/rules?type=alert` (Prometheus leaves recording
    /// rules out) or `<base>/api/prometheus/grafana/api/v1/rules`.
    pub fn url(&self) -> String {
        let base = self.base.as_str().trim_end_matches('/');
        match self.flavor {
            Flavor::Prometheus => format!("{base}/api/v1/rules?type=alert"),
            Flavor::Grafana => format!("{base}/api/prometheus/grafana/api/v1/rules"),
        }
    }

    /// [`url`](Self::url) without credentials, for messages.
    pub fn shown(&self) -> String {
        redact_urls(&self.url())
    }

    fn key(&self) -> String {
        format!("{:?} {} {}", self.flavor, self.url(), self.auth.tag())
    }
}

/// Rules API answers, shared; clones share the cache.
#[derive(Clone)]
pub struct RuleReads {
    client: reqwest::Client,
    cache: Arc<SourceCache<Arc<RulesAnswer>>>,
    ttl: Duration,
}

impl std::fmt::Debug for RuleReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RuleReads(ttl {:?}, {:?})", self.ttl, self.cache)
    }
}

impl RuleReads {
    /// Reads through `client` (share the one of [`crate::builtin::Sources`]), each answer
    /// shared for [`DEFAULT_TTL`].
    pub fn new(client: reqwest::Client) -> RuleReads {
        RuleReads {
            client,
            cache: Arc::new(SourceCache::new()),
            ttl: DEFAULT_TTL,
        }
    }

    /// The same, sharing each answer for `ttl`.
    pub fn with_ttl(mut self, ttl: Duration) -> RuleReads {
        self.ttl = ttl;
        self
    }

    /// `endpoint`'s rules, fetched and parsed at most once per TTL.
    pub async fn read(&self, endpoint: &Endpoint) -> Result<Arc<RulesAnswer>> {
        let client = self.client.clone();
        let endpoint_owned = endpoint.clone();
        let got = self
            .cache
            .get(&endpoint.key(), self.ttl, fetch(client, endpoint_owned))
            .await?;
        Ok(got.value)
    }
}

/// One `GET` of the rules API, parsed.
async fn fetch(client: reqwest::Client, endpoint: Endpoint) -> Result<Arc<RulesAnswer>> {
    let shown = endpoint.shown();
    let secrets = endpoint.auth.secrets();
    let redact = |text: String| alert_core::redact::redact_secrets(&text, secrets.iter().copied());
    let request_error = |e: reqwest::Error| Error::Request {
        target: shown.clone(),
        reason: redact(crate::builtin::request_error_text(e)),
    };
    let mut request = client
        .get(endpoint.url())
        .header(reqwest::header::ACCEPT, "application/json");
    request = match &endpoint.auth {
        Auth::None => request,
        Auth::Bearer(token) => request.bearer_auth(token.expose()),
        Auth::Basic { username, password } => request.basic_auth(username, Some(password.expose())),
    };
    let response = request.send().await.map_err(request_error)?;
    let status = response.status();
    let body = response.bytes().await.map_err(request_error)?;
    let unexpected = |reason: String| Error::UnexpectedResponse {
        target: shown.clone(),
        reason: redact(reason),
    };
    if !status.is_success() {
        return Err(unexpected(answer::describe_failure(status.as_u16(), &body)));
    }
    answer::parse(&body).map(Arc::new).map_err(unexpected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keys_and_debug_never_hold_credentials() {
        let endpoint = Endpoint {
            flavor: Flavor::Grafana,
            base: reqwest::Url::parse("https://admin:hunter2@grafana.example/sub/").expect("valid"),
            auth: Auth::Bearer(Secret::new("glsa_t0ken")),
        };
        assert_eq!(
            endpoint.url(),
            "https://admin:hunter2@grafana.example/sub/api/prometheus/grafana/api/v1/rules"
        );
        assert_eq!(
            endpoint.shown(),
            "https://<secret>@grafana.example/sub/api/prometheus/grafana/api/v1/rules"
        );
        assert!(!endpoint.key().contains("glsa_t0ken"));
        let debug = format!("{endpoint:?}");
        assert!(
            !debug.contains("glsa_t0ken") && !debug.contains("hunter2"),
            "{debug}"
        );
        let other = Endpoint {
            auth: Auth::Bearer(Secret::new("another")),
            ..endpoint.clone()
        };
        assert_ne!(endpoint.key(), other.key());
        let prometheus = Endpoint {
            flavor: Flavor::Prometheus,
            base: reqwest::Url::parse("http://127.0.0.1:9090").expect("valid"),
            auth: Auth::None,
        };
        assert_eq!(
            prometheus.url(),
            "http://127.0.0.1:9090/api/v1/rules?type=alert"
        );
    }
}
