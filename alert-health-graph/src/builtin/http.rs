//! HTTP check, kind `alert-health:http`: status, latency and body.
//!
//! ```yaml
//! http:
//!   url: http://127.0.0.1:8080/healthz
//!   method: GET            # default GET; HEAD, POST, … allowed
//!   expect_status: 200     # or a list [200, 204]; default 200
//!   latency_warn: 500ms    # slower answers are Degraded
//!   body_match: '"ok"'     # a regex the body must match somewhere
//!   timeout: 2s            # the sensor's timeout (Unknown "timed out after 2s")
//! ```
//!
//! Rules, first match wins: no answer (refused, DNS, TLS) → Failing with the error;
//! unexpected status → Failing `HTTP 503, expected 200`; body not matching → Failing
//! `body does not match /…/`; slower than `latency_warn` → Degraded `HTTP 200 in 812ms,
//! above 500ms`; otherwise Passing `HTTP 200 in 12ms`.
//!
//! Messages name the URL without credentials: `user:password@` (sent as basic
//! authentication) and the values of secret query parameters show as `<secret>`.

use std::sync::Arc;

use alert_core::{Duration, redact_urls};
use async_trait::async_trait;
use regex::Regex;
use serde::Deserialize;

use super::Sources;
use crate::error::Result;
use crate::kind::Kind;
use crate::registry::{Component, Instrumentor, Registry, Request};
use crate::sensor::Sensor;
use crate::state::State;
use crate::status::Reading;

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Statuses {
    One(u16),
    Many(Vec<u16>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    url: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    expect_status: Option<Statuses>,
    #[serde(default)]
    latency_warn: Option<Duration>,
    #[serde(default)]
    body_match: Option<String>,
    #[serde(default)]
    timeout: Option<Duration>,
}

/// One HTTP check.
#[derive(Debug, Clone)]
pub struct HttpCheck {
    client: reqwest::Client,
    url: reqwest::Url,
    /// The URL as messages show it, without credentials.
    shown: String,
    method: reqwest::Method,
    expect: Vec<u16>,
    latency_warn: Option<Duration>,
    body_match: Option<Regex>,
    timeout: Option<Duration>,
}

#[async_trait]
impl Sensor for HttpCheck {
    async fn read(&self) -> Result<Reading> {
        let start = tokio::time::Instant::now();
        let sent = self
            .client
            .request(self.method.clone(), self.url.clone())
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                return Ok(Reading::explained(
                    State::Failing,
                    format!(
                        "{} {}: {}",
                        self.method,
                        self.shown,
                        super::request_error_text(e)
                    ),
                ));
            }
        };
        let status = response.status().as_u16();
        let body = if self.body_match.is_some() {
            match response.text().await {
                Ok(b) => Some(b),
                Err(e) => {
                    return Ok(Reading::explained(
                        State::Failing,
                        format!(
                            "reading the body of {}: {}",
                            self.shown,
                            super::request_error_text(e)
                        ),
                    ));
                }
            }
        } else {
            None
        };
        let latency = start.elapsed();
        let took = format!("HTTP {status} in {}ms", latency.as_millis());
        if !self.expect.contains(&status) {
            let expected: Vec<String> = self.expect.iter().map(u16::to_string).collect();
            return Ok(Reading::explained(
                State::Failing,
                format!("HTTP {status}, expected {}", expected.join(" or ")),
            ));
        }
        if let (Some(re), Some(body)) = (&self.body_match, &body)
            && !re.is_match(body)
        {
            return Ok(Reading::explained(
                State::Failing,
                format!("body does not match /{}/", re.as_str()),
            ));
        }
        if let Some(warn) = self.latency_warn
            && latency > warn.to_std()
        {
            return Ok(Reading::explained(
                State::Degraded,
                format!("{took}, above {warn}"),
            ));
        }
        Ok(Reading::explained(State::Passing, took))
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

/// Instruments `alert-health:http`.
#[derive(Debug, Clone)]
pub struct HttpInstrumentor {
    sources: Sources,
}

impl HttpInstrumentor {
    /// Checks made with the client of `sources`.
    pub fn new(sources: Sources) -> HttpInstrumentor {
        HttpInstrumentor { sources }
    }
}

impl Instrumentor for HttpInstrumentor {
    fn kinds(&self) -> Vec<Kind> {
        vec![Kind::builtin("http")]
    }

    fn instrument(&self, _: &Registry, kind: &Kind, r: &Request<'_>) -> Result<Vec<Component>> {
        let p: Params = r.parse(kind)?;
        let shown = redact_urls(&p.url);
        let url = reqwest::Url::parse(&p.url)
            .map_err(|e| r.error(kind, format!("url {shown:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(r.error(kind, format!("url {shown:?}: expected http or https")));
        }
        let shown = redact_urls(url.as_str());
        let method = match &p.method {
            None => reqwest::Method::GET,
            Some(m) => reqwest::Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|_| r.error(kind, format!("method {m:?} is not an HTTP method")))?,
        };
        let expect = match p.expect_status {
            None => vec![200],
            Some(Statuses::One(s)) => vec![s],
            Some(Statuses::Many(v)) => v,
        };
        if expect.is_empty() || expect.iter().any(|s| !(100..=599).contains(s)) {
            return Err(r.error(kind, "expect_status: expected HTTP status codes 100 to 599"));
        }
        let body_match = p
            .body_match
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| r.error(kind, format!("body_match: {e}")))?;
        Ok(vec![Component::Sensor {
            name: r.name.to_owned(),
            kind: kind.clone(),
            sensor: Arc::new(HttpCheck {
                client: self.sources.client.clone(),
                url,
                shown,
                method,
                expect,
                latency_warn: p.latency_warn,
                body_match,
                timeout: p.timeout,
            }),
        }])
    }
}
