//! The one error type of `alert-health-graph`.
//!
//! Variants are named for what went wrong. Messages say where (the graph file's line
//! and column, a field path such as `systems[2].children[0]`, a node name, a URL) and
//! what was expected, with the offending value.

/// Everything that can go wrong while building, reading or evaluating a health graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field holds a value of the right type but outside what is allowed.
    #[error("{field}: expected {expected}, got {value:?}")]
    InvalidField {
        /// The field's path.
        field: String,
        /// The offending value.
        value: String,
        /// What would have been accepted.
        expected: String,
    },

    /// A required field is missing.
    #[error("{field}: missing required value")]
    MissingField {
        /// The field's path.
        field: String,
    },

    /// An Alertmanager target whose fields do not go together (alert-core's check, with
    /// its message: the field, what was expected and the value).
    #[error(transparent)]
    InvalidTarget(#[from] alert_core::Error),

    /// Two nodes with one name.
    #[error("duplicate node name {name:?}: {first} and {second}")]
    DuplicateNode {
        /// The repeated name.
        name: String,
        /// Where it was first defined.
        first: String,
        /// Where it was defined again.
        second: String,
    },

    /// A reference to a node that is not defined.
    #[error("{at}: unknown node {name:?}")]
    UnknownNode {
        /// The missing name.
        name: String,
        /// Where it was referenced (`system "db" children[1]`, `systems[0].children[1]`).
        at: String,
    },

    /// A lookup by name (explain, render) of a node the graph does not have.
    #[error("no node named {name:?} in the graph")]
    NoSuchNode {
        /// The name asked for.
        name: String,
    },

    /// The children relation has a cycle; `path` lists it, `a -> b -> a`.
    #[error("cycle in the health graph: {path}")]
    Cycle {
        /// The nodes on the cycle, the first repeated at the end.
        path: String,
    },

    /// A path from a root to a leaf longer than the depth limit.
    #[error("health graph deeper than {limit} levels: {path}")]
    TooDeep {
        /// The limit ([`crate::MAX_DEPTH`]).
        limit: usize,
        /// The start and end of the offending path.
        path: String,
    },

    /// A `Kind` string that is not `namespace:name[#fragment]`.
    #[error("invalid kind {input:?}: {reason}")]
    InvalidKind {
        /// The offending text.
        input: String,
        /// What was expected.
        reason: String,
    },

    /// No instrumentor is registered for a kind (Alpacalert's "no provider").
    #[error("no provider for kind={kind}")]
    UnknownKind {
        /// The kind's string form.
        kind: String,
    },

    /// An instrumentor refused its parameters.
    #[error("{at}: instrumenting kind={kind}: {reason}")]
    Instrument {
        /// The kind's string form.
        kind: String,
        /// Where the sensor was declared.
        at: String,
        /// What was wrong.
        reason: String,
    },

    /// The graph file is not the YAML shape expected.
    #[error("{file}: {reason}")]
    GraphFile {
        /// The file (and line/column when known).
        file: String,
        /// The parser's message.
        reason: String,
    },

    /// Talking to an upstream (HTTP, TCP) failed.
    #[error("{target}: {reason}")]
    Request {
        /// The URL or address.
        target: String,
        /// What failed.
        reason: String,
    },

    /// The state history's store failed while doing `context` (open, migrate, append,
    /// load, prune); `path` is its file (`memory` for the in-memory store).
    #[error("state history {path}: {context}: {reason}")]
    StateHistoryStore {
        /// The store's file.
        path: String,
        /// What the store was doing.
        context: String,
        /// The underlying error.
        reason: String,
    },

    /// A state history file written by a newer release than this one.
    #[error(
        "state history {path}: schema version {found} is newer than this release knows ({supported})"
    )]
    HistorySchemaTooNew {
        /// The file.
        path: String,
        /// The version found in the file.
        found: i64,
        /// The newest version this release can read.
        supported: i64,
    },

    /// A stored transition that cannot be read back.
    #[error("state history {path}: {row}: {reason}")]
    CorruptHistory {
        /// The file.
        path: String,
        /// The row (node name and stored time).
        row: String,
        /// What is wrong with it, with the offending value.
        reason: String,
    },

    /// A Kubernetes API server refused or failed a request (`listing pods in namespace
    /// shop`), or its configuration could not be read. Never holds a bearer token.
    #[error("kubernetes {server}: {what}: {reason}")]
    Kubernetes {
        /// The API server's URL, or the kubeconfig's path.
        server: String,
        /// What was being done.
        what: String,
        /// What went wrong (the `Status` message for API errors).
        reason: String,
    },

    /// An upstream answered, but not with what was expected.
    #[error("{target}: unexpected response: {reason}")]
    UnexpectedResponse {
        /// The URL.
        target: String,
        /// What was wrong with it.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
