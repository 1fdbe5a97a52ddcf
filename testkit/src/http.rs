//! Stands in for nothing: a small synchronous HTTP client for tests on loopback.
//!
//! Plain HTTP only (no TLS), no proxy (a CI machine's `http_proxy` must not catch
//! requests to 127.0.0.1), a 30 s overall timeout. A 4xx or 5xx answer is returned, not
//! raised; transport errors panic, since a test cannot go on without an answer.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

/// An HTTP answer: its status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body as text.
    pub body: String,
}

impl HttpResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    /// When it is not JSON, showing the status and body.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} answer is not JSON ({e}): {:?}",
                self.status, self.body
            )
        })
    }

    /// `self` if the status is 2xx.
    ///
    /// # Panics
    /// Otherwise, showing the status and body.
    #[track_caller]
    pub fn ensure_success(self) -> HttpResponse {
        assert!(
            self.is_success(),
            "expected a 2xx answer, got HTTP {}: {}",
            self.status,
            self.body
        );
        self
    }
}

/// The test kit's one HTTP client: no proxy, statuses are not errors, 30 s per call.
pub(crate) fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into()
    })
}

/// `GET url`, or the transport error (connection refused while a process starts, say).
pub fn try_get(url: &str) -> Result<HttpResponse, String> {
    finish(url, agent().get(url).call())
}

/// `GET url`.
///
/// # Panics
/// On a transport error.
#[track_caller]
pub fn get(url: &str) -> HttpResponse {
    try_get(url).unwrap_or_else(|e| panic!("{e}"))
}

/// `GET url`, expecting 2xx and a JSON body.
///
/// # Panics
/// On a transport error, another status or a body that is not JSON.
#[track_caller]
pub fn get_json(url: &str) -> Value {
    get(url).ensure_success().json()
}

/// `POST url` with `body` and the given `Content-Type`.
///
/// # Panics
/// On a transport error.
#[track_caller]
pub fn post(url: &str, content_type: &str, body: &[u8]) -> HttpResponse {
    let result = agent()
        .post(url)
        .header("Content-Type", content_type)
        .send(body);
    finish(url, result).unwrap_or_else(|e| panic!("{e}"))
}

/// `POST url` with `body` as JSON.
///
/// # Panics
/// On a transport error.
#[track_caller]
pub fn post_json(url: &str, body: &Value) -> HttpResponse {
    post(url, "application/json", body.to_string().as_bytes())
}

/// `DELETE url`.
///
/// # Panics
/// On a transport error.
#[track_caller]
pub fn delete(url: &str) -> HttpResponse {
    finish(url, agent().delete(url).call()).unwrap_or_else(|e| panic!("{e}"))
}

fn finish(
    url: &str,
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<HttpResponse, String> {
    let mut response = result.map_err(|e| format!("HTTP request to {url} failed: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("reading the answer of {url} failed: {e}"))?;
    Ok(HttpResponse { status, body })
}
