//! The one error type of `alert-history`.

/// Everything that can go wrong while merging, storing or querying alert history.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value from `alert-core` (label, timestamp, matcher, webhook message) was invalid.
    #[error(transparent)]
    Core(#[from] alert_core::Error),

    /// A time range whose end is not after its start.
    #[error("{field}: start {start} must be before end {end}")]
    EmptyRange {
        /// Which range (for example `query.range`).
        field: String,
        /// The start as given.
        start: String,
        /// The end as given.
        end: String,
    },

    /// An instant the store cannot represent (it keeps nanoseconds since 1970 in 64
    /// bits: years 1677 to 2262).
    #[error(
        "{field}: timestamp {value} is outside the range a store can hold (1677-09-21 to 2262-04-11)"
    )]
    TimestampOutOfRange {
        /// Where the instant was (for example `alerts[3].startsAt`).
        field: String,
        /// The instant.
        value: String,
    },

    /// A pagination cursor that this store did not hand out.
    #[error("invalid cursor {cursor:?}: expected <nanoseconds>-<16 hex digit fingerprint>")]
    InvalidCursor {
        /// The offending cursor.
        cursor: String,
    },

    /// A query limit of zero or above the store's maximum.
    #[error("limit: expected 1 to {max}, got {value}")]
    InvalidLimit {
        /// The offending limit.
        value: usize,
        /// The largest limit accepted.
        max: usize,
    },

    /// A query parameter of the HTTP API that could not be read.
    #[error("invalid parameter {param:?}: {message}")]
    InvalidParameter {
        /// The parameter name, e.g. `start`.
        param: String,
        /// What was wrong, with the offending value.
        message: String,
    },

    /// The embedded database failed; `context` says during what.
    #[error("sqlite ({context}): {reason}")]
    Sqlite {
        /// What the store was doing (for example `append: upsert episode`).
        context: String,
        /// SQLite's message.
        reason: String,
    },

    /// PostgreSQL failed; `context` says during what. Never holds a password: the
    /// database is named by host, port and name only.
    #[error("postgres {database} ({context}): {reason}")]
    Postgres {
        /// The database (`host:port/name`).
        database: String,
        /// What the store was doing (for example `append: supersede`).
        context: String,
        /// PostgreSQL's message (with its detail and hint when it gave them).
        reason: String,
    },

    /// A database written by a newer release than this one.
    #[error("{path}: schema version {found} is newer than this release knows ({supported})")]
    SchemaTooNew {
        /// The database file, or the PostgreSQL database (`host:port/name`).
        path: String,
        /// The version found in the file.
        found: i64,
        /// The newest version this release can read.
        supported: i64,
    },

    /// Loki answered with an error status.
    #[error("loki {endpoint}: HTTP {status}: {body}")]
    LokiStatus {
        /// The endpoint path (for example `/loki/api/v1/push`).
        endpoint: String,
        /// The HTTP status code.
        status: u16,
        /// The response body (Loki's error text).
        body: String,
    },

    /// Loki could not be reached or the exchange failed.
    #[error("loki {endpoint}: {reason}")]
    LokiTransport {
        /// The endpoint path.
        endpoint: String,
        /// What failed.
        reason: String,
    },

    /// A stored record (a database row, a Loki line) could not be read back.
    #[error("{field}: {reason}")]
    Decode {
        /// Where the value was (for example `loki line at 1714557600000000000`).
        field: String,
        /// What was wrong.
        reason: String,
    },

    /// Loki pagination stopped advancing: more entries share one timestamp than a page
    /// holds, so reading on would read a page twice.
    #[error(
        "loki query_range: more than {limit} entries share timestamp {timestamp_ns}; cannot paginate past it"
    )]
    PaginationStuck {
        /// The page size.
        limit: usize,
        /// The shared timestamp.
        timestamp_ns: i128,
    },

    /// A timeline whose segments would list more episode fingerprints than allowed
    /// (see [`crate::timeline_within`]).
    #[error(
        "the timeline would list {listed} episode fingerprints across its segments, more than the {max} allowed: narrow the range or the matchers"
    )]
    TimelineTooLarge {
        /// How many it would list.
        listed: usize,
        /// The most allowed.
        max: usize,
    },

    /// A webhook alert whose `fingerprint` is not the fingerprint of its labels.
    #[error(
        "{field}: fingerprint {given} is not the fingerprint of the alert's labels ({computed})"
    )]
    FingerprintMismatch {
        /// Where the alert was (for example `alerts[3].fingerprint`).
        field: String,
        /// The fingerprint the body gave.
        given: String,
        /// The fingerprint of its labels.
        computed: String,
    },

    /// A credential file that cannot be used.
    #[error("{path}: {reason}")]
    CredentialFile {
        /// The file.
        path: String,
        /// What was wrong (unreadable, empty).
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
