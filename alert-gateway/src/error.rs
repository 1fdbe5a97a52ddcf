//! The one error type of `alert-gateway`.

use crate::store::{Key, StoreError};

/// What a data-plane operation can fail with. Each variant has one HTTP status
/// ([`Error::status`]) and one `errorType` ([`Error::error_type`]) in the API.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A body, parameter or header that cannot be read at all (400).
    #[error("{0}")]
    BadRequest(String),
    /// A well-formed object that is not valid; the message names the field path
    /// (`conditions[cpu-high].endpoints[0].id: ...`) (422).
    #[error("{0}")]
    Invalid(String),
    /// No such object (404).
    #[error("{0} not found")]
    NotFound(Key),
    /// The object exists (with `If-None-Match: *`) or is not at the revision `If-Match`
    /// named (412).
    #[error("{key}: precondition failed: {reason}")]
    PreconditionFailed {
        /// The object.
        key: Key,
        /// What did not hold.
        reason: String,
    },
    /// The change conflicts with other objects: an endpoint that conditions still
    /// attach, an id another collection uses (409).
    #[error("{0}")]
    Conflict(String),
    /// The store refused or failed the operation.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A backend the gateway acts on (Alertmanager, Prometheus, a Cortex/Mimir ruler)
    /// failed or refused the call; the message names the backend and says what it
    /// answered, URLs redacted (502).
    #[error("{0}")]
    Backend(String),
    /// The alerting cluster driver ([`crate::backend`]) could not do something to one of
    /// its members (start it, stop it, write its configuration, pick its ports) or to the
    /// cluster as a whole (`member` is `None`: no binary, an unusable data directory)
    /// (502).
    #[error(
        "alerting cluster{}: {action}: {reason}",
        member.as_ref().map(|m| format!(" member {m}")).unwrap_or_default()
    )]
    Cluster {
        /// The member (`controller-0`, `worker-2`), or `None` for the whole cluster.
        member: Option<String>,
        /// What was being done (`start`, `write alertmanager.yml`, `find the binary`).
        action: String,
        /// What went wrong.
        reason: String,
    },
}

impl Error {
    /// The HTTP status the API answers with.
    pub fn status(&self) -> u16 {
        match self {
            Error::BadRequest(_) => 400,
            Error::Invalid(_) => 422,
            Error::NotFound(_) => 404,
            Error::PreconditionFailed { .. } => 412,
            Error::Conflict(_) => 409,
            Error::Backend(_) | Error::Cluster { .. } => 502,
            Error::Store(e) => match e {
                StoreError::Conflict { .. } => 412,
                StoreError::Changed { .. } => 409,
                StoreError::Fenced { .. } => 409,
                StoreError::Compacted { .. } => 410,
                StoreError::FutureRevision { .. }
                | StoreError::InvalidKey { .. }
                | StoreError::Invalid(_) => 400,
                StoreError::Unavailable(_) => 503,
                StoreError::Data(_) => 500,
            },
        }
    }

    /// The `errorType` of the JSON error body.
    pub fn error_type(&self) -> &'static str {
        match self.status() {
            400 => "bad_data",
            404 => "not_found",
            409 => "conflict",
            410 => "compacted",
            412 => "precondition_failed",
            422 => "invalid",
            502 => "backend",
            503 => "unavailable",
            _ => "internal",
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
