//! The one error type of `alert-cortex-adapter`.
//!
//! Variants are named for what went wrong. Every variant that comes from a server keeps
//! the HTTP status and the server's own message (Alertmanager, Cortex and Mimir answer
//! errors as a JSON string or plain text; either is unwrapped to the text), and names the
//! request (`GET http://…/api/v2/alerts`) it answered.
//!
//! The enum is `Clone` and `PartialEq` so that a syncer can keep the last error of each
//! tenant in its report; transport failures are therefore kept as their rendered text.

use std::time::Duration;

/// Everything that can go wrong while talking to Alertmanager, Cortex or Mimir.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A base URL, path template or header value that cannot be used to build a request.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidRequest {
        /// What was being built (`base URL`, `path template`, `tenant header`).
        what: &'static str,
        /// The offending value.
        value: String,
        /// What was expected.
        reason: String,
    },

    /// A tenant id that Cortex and Mimir would refuse, or an empty one.
    #[error(transparent)]
    Core(#[from] alert_core::Error),

    /// The request never got an answer: connection refused, reset, TLS failure.
    #[error("{method} {url}: {reason}")]
    Transport {
        /// The HTTP method.
        method: String,
        /// The full URL.
        url: String,
        /// The client's description of the failure, with its causes.
        reason: String,
    },

    /// No answer arrived within the call's timeout.
    #[error("{method} {url}: no answer within {after:?}")]
    Timeout {
        /// The HTTP method.
        method: String,
        /// The full URL.
        url: String,
        /// The timeout that passed.
        after: Duration,
    },

    /// The server refused the request because it carried no usable tenant id
    /// (HTTP 401 from Cortex/Mimir: `no org id`, `unable to determine the OrgID: …`).
    #[error("{method} {url}: HTTP 401: {message}")]
    Unauthorized {
        /// The HTTP method.
        method: String,
        /// The full URL.
        url: String,
        /// The server's message.
        message: String,
    },

    /// The thing asked for does not exist (HTTP 404): no configuration stored for the
    /// tenant, no silence with that id, no Alertmanager configured for the tenant.
    #[error("{method} {url}: HTTP 404: {message}")]
    NotFound {
        /// The HTTP method.
        method: String,
        /// The full URL.
        url: String,
        /// The server's message (empty when the body was `null` or empty).
        message: String,
    },

    /// The server refused what was sent (HTTP 400, 413 or 422): an invalid alert, silence
    /// or filter, or a configuration that failed validation or is too large.
    #[error("{method} {url}: HTTP {status}: {message}")]
    Rejected {
        /// The HTTP method.
        method: String,
        /// The full URL.
        url: String,
        /// The status code.
        status: u16,
        /// The server's message, for example
        /// `error validating Alertmanager config: …`.
        message: String,
    },

    /// Any other non-success answer (5xx, 403, 405, 410, …).
    #[error("{method} {url}: HTTP {status}: {message}")]
    Status {
        /// The HTTP method.
        method: String,
        /// The full URL.
        url: String,
        /// The status code.
        status: u16,
        /// The server's message.
        message: String,
    },

    /// A success answer whose body is not what the API promises.
    #[error("{method} {url}: cannot read the answer: {reason}")]
    Decode {
        /// The HTTP method.
        method: String,
        /// The full URL.
        url: String,
        /// The decoder's message, with the JSON path where it failed.
        reason: String,
    },

    /// A YAML document (a configuration envelope or an Alertmanager configuration) that
    /// cannot be read or written.
    #[error("{what}: {reason}")]
    Yaml {
        /// Which document (`tenant "a" configuration`, `config.original`, …).
        what: String,
        /// The parser's message, with line and column where it has them.
        reason: String,
    },

    /// Two answers that must agree to be merged do not (Cortex's merger wording).
    #[error("cannot merge answers: {reason}")]
    Merge {
        /// What did not agree, for example `unexpected mismatched silence ids`.
        reason: String,
    },

    /// Fewer HA members answered than the quorum needs.
    #[error(
        "only {answered} of {members} members answered, {quorum} needed; failed: {}",
        failures.iter().map(|f| format!("{} ({})", f.member, f.error)).collect::<Vec<_>>().join("; ")
    )]
    QuorumNotReached {
        /// How many members there are.
        members: usize,
        /// How many answered with success.
        answered: usize,
        /// How many answers are needed.
        quorum: usize,
        /// Each member that failed and why.
        failures: Vec<MemberFailure>,
    },

    /// A member list that cannot be used (empty, or no peer maps to an API URL).
    #[error("member list: {reason}")]
    Members {
        /// What is wrong with it.
        reason: String,
    },

    /// Something written to one member did not show on the others before the deadline.
    #[error("{what} not visible on {} after {waited:?}", members.join(", "))]
    NotVisible {
        /// What was awaited (`silence 0f1e…`).
        what: String,
        /// The members still missing it.
        members: Vec<String>,
        /// How long the call waited.
        waited: Duration,
    },

    /// A configuration the syncer applied did not become the running one in time.
    #[error(
        "tenant {tenant:?}: configuration {sync_id} not live after {waited:?}{}",
        detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    NotLive {
        /// The tenant.
        tenant: String,
        /// The sync id that was applied.
        sync_id: String,
        /// How long the syncer polled.
        waited: Duration,
        /// The last thing the backend said, if it said anything.
        detail: Option<String>,
    },

    /// The backend refused a configuration; the previous one keeps running.
    #[error("tenant {tenant:?}: configuration {sync_id} rejected: {message}")]
    ConfigRejected {
        /// The tenant.
        tenant: String,
        /// The sync id that was refused.
        sync_id: String,
        /// The backend's message (Alertmanager's reload error, Cortex's validation error).
        message: String,
    },

    /// A configuration refused before it was sent, because it breaks a Cortex/Mimir
    /// tenant rule: a per-tenant limit (`alertmanager_max_config_size_bytes`,
    /// `alertmanager_max_templates_count`, `alertmanager_max_template_size_bytes`) or a
    /// setting they do not allow. Nothing was sent; the previous configuration keeps
    /// running.
    #[error(
        "tenant {tenant:?}: configuration {sync_id} breaks the tenant rules and was not sent: {field}: {message}"
    )]
    RefusedByTenantRules {
        /// The tenant.
        tenant: String,
        /// The sync id that was refused.
        sync_id: String,
        /// What is over the limit or not allowed (`alertmanager_config`,
        /// `template_files`, `template_files.a.tmpl`,
        /// `receivers[0].webhook_configs[0].http_config.bearer_token_file`).
        field: String,
        /// Cortex's (or Mimir's) wording (`Alertmanager configuration is too big,
        /// limit: 400 bytes`).
        message: String,
    },

    /// The backend has no place for this tenant (a file backend without a target for it).
    #[error("tenant {tenant:?}: {reason}")]
    UnknownTenant {
        /// The tenant.
        tenant: String,
        /// Why it cannot be served.
        reason: String,
    },

    /// A local file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        reason: String,
    },
}

/// One HA member that did not answer, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFailure {
    /// The member's name (its base URL unless named otherwise).
    pub member: String,
    /// What went wrong.
    pub error: Box<Error>,
}

impl std::fmt::Display for MemberFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.member, self.error)
    }
}

impl Error {
    /// The HTTP status the server answered with, when the error is a server's answer.
    ///
    /// ```
    /// use alert_cortex_adapter::Error;
    /// let e = Error::NotFound { method: "GET".into(), url: "http://x/api/v1/alerts".into(),
    ///     message: "alertmanager storage object not found".into() };
    /// assert_eq!(e.status(), Some(404));
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { .. } => Some(401),
            Error::NotFound { .. } => Some(404),
            Error::Rejected { status, .. } | Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's own message, when the error is a server's answer.
    pub fn server_message(&self) -> Option<&str> {
        match self {
            Error::Unauthorized { message, .. }
            | Error::NotFound { message, .. }
            | Error::Rejected { message, .. }
            | Error::Status { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Whether trying the same request again may succeed: transport failures, timeouts,
    /// 429 and 502/503/504. A 500 is not transient: Alertmanager answers 500 for a
    /// configuration it cannot load or a silence it cannot expire, which a retry repeats.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::Status { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// Maps a non-success answer to its variant, keeping the server's message.
    pub(crate) fn from_status(method: &str, url: &str, status: u16, body: &str) -> Error {
        let message = server_message(body);
        let (method, url) = (method.to_owned(), url.to_owned());
        match status {
            401 => Error::Unauthorized {
                method,
                url,
                message,
            },
            404 => Error::NotFound {
                method,
                url,
                message,
            },
            400 | 413 | 422 => Error::Rejected {
                method,
                url,
                status,
                message,
            },
            _ => Error::Status {
                method,
                url,
                status,
                message,
            },
        }
    }
}

/// The text of an error body: a JSON string is unquoted, `null` is empty, a JSON object
/// with `error` or `message` gives that field, anything else is the trimmed text.
fn server_message(body: &str) -> String {
    let trimmed = body.trim();
    match serde_json::from_str::<serde_json::Value>(trimmed) {
        Ok(serde_json::Value::String(s)) => s.trim().to_owned(),
        Ok(serde_json::Value::Null) => String::new(),
        Ok(serde_json::Value::Object(map)) => ["error", "message", "msg"]
            .iter()
            .find_map(|k| map.get(*k).and_then(|v| v.as_str()))
            .map(str::to_owned)
            .unwrap_or_else(|| trimmed.to_owned()),
        _ => trimmed.to_owned(),
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_are_unwrapped() {
        assert_eq!(
            server_message("\"bad matcher format: x\"\n"),
            "bad matcher format: x"
        );
        assert_eq!(server_message("null"), "");
        assert_eq!(server_message("no org id\n"), "no org id");
        assert_eq!(
            server_message(r#"{"status":"error","error":"boom"}"#),
            "boom"
        );
        assert_eq!(server_message("[1,2]"), "[1,2]");
    }

    #[test]
    fn statuses_map_to_variants() {
        let e = Error::from_status(
            "POST",
            "http://h/api/v1/alerts",
            400,
            "error validating Alertmanager config: x\n",
        );
        assert!(matches!(e, Error::Rejected { status: 400, .. }));
        assert_eq!(
            e.to_string(),
            "POST http://h/api/v1/alerts: HTTP 400: error validating Alertmanager config: x"
        );
        assert!(matches!(
            Error::from_status("GET", "u", 401, "no org id"),
            Error::Unauthorized { .. }
        ));
        assert!(matches!(
            Error::from_status("GET", "u", 404, "null"),
            Error::NotFound { .. }
        ));
        let e = Error::from_status("GET", "u", 503, "Alertmanager not ready");
        assert!(e.is_transient());
        assert_eq!(e.server_message(), Some("Alertmanager not ready"));
        assert!(!Error::from_status("POST", "u", 500, "failed to reload config").is_transient());
    }
}
