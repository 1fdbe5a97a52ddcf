//! The revisioned configuration store every deployment of the gateway reads and writes.
//!
//! A [`ConfigStore`] keeps JSON documents under [`Key`]s (a [`Kind`] and an id) and gives
//! every write a **revision** from one store-wide counter that only grows, as etcd does:
//!
//! - writes are transactions ([`Txn`]) of puts, deletes and checks, each with an
//!   [`Expect`]ation on the key's current revision (compare-and-set; [`Expect::Absent`]
//!   creates only), all applied at one new revision or none at all;
//! - a transaction may carry a [`Fence`]: it is refused with [`StoreError::Fenced`] once
//!   the named election has a newer term than the fence's, so a leader that lost its lease
//!   (paused, partitioned) can never write on behalf of its old term;
//! - reads: [`ConfigStore::get`], [`ConfigStore::list`] (optionally at a past revision);
//! - [`ConfigStore::watch`] from a revision replays every change after it, in order and
//!   without gaps, then follows live changes; a watcher whose revision was compacted away
//!   gets [`StoreError::Compacted`] and re-lists;
//! - leases for leader election ([`ConfigStore::acquire`], [`ConfigStore::release`]),
//!   which [`crate::election::Elector`] drives.
//!
//! Backends: [`sqlite`] (the embedded default), `etcd` (feature `etcd`, for replicas) and
//! [`remote`] (a data plane's HTTP API, so the other deployments can run as separate
//! processes). Every backend passes [`conformance`].

pub mod conformance;
#[cfg(feature = "etcd")]
pub mod etcd;
pub mod remote;
pub mod sqlite;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// A store-wide revision. 0 is the revision of the empty store; the first write makes 1.
pub type Revision = u64;

/// The longest id a key may have, in bytes.
pub const MAX_KEY_ID_LEN: usize = 253;

/// The largest value one key may hold, in bytes (etcd's default request limit is 1.5 MiB;
/// this leaves room for the transaction around it).
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// The most operations one transaction may have.
pub const MAX_TXN_OPS: usize = 50_000;

/// What a key holds. The collection name ([`Kind::collection`]) is the key's prefix in
/// every backend and the path segment of the HTTP API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kind {
    /// An [`alert_core::AlertEndpoint`].
    Endpoint,
    /// An [`alert_core::AlertCondition`].
    Condition,
    /// An [`alert_core::Slo`].
    Slo,
    /// The control plane's report on one tenant
    /// ([`crate::control_plane::TenantReport`]), written by the leader under its fence.
    /// Not part of a spec.
    Tenant,
    /// An agent's last heartbeat and reported capabilities
    /// ([`crate::evaluator::AgentRecord`]), id `<tenant>:<agent>`. Not part of a spec.
    Agent,
    /// The evaluator's state of one condition and subject
    /// ([`crate::evaluator::SubjectState`]), written by the leader under its fence. Not
    /// part of a spec.
    Evaluation,
}

impl Kind {
    /// The kinds a spec holds, in the order a spec lists them.
    pub const ALL: [Kind; 3] = [Kind::Endpoint, Kind::Condition, Kind::Slo];

    /// Every kind: the spec's, the control plane's and the evaluator's.
    pub const EVERY: [Kind; 6] = [
        Kind::Endpoint,
        Kind::Condition,
        Kind::Slo,
        Kind::Tenant,
        Kind::Agent,
        Kind::Evaluation,
    ];

    /// Whether a spec holds documents of this kind ([`Kind::ALL`]).
    pub fn is_spec(self) -> bool {
        Kind::ALL.contains(&self)
    }

    /// The collection name: `endpoints`, `conditions`, `slos`, `tenants`, `agents`,
    /// `evaluations`.
    pub fn collection(self) -> &'static str {
        match self {
            Kind::Endpoint => "endpoints",
            Kind::Condition => "conditions",
            Kind::Slo => "slos",
            Kind::Tenant => "tenants",
            Kind::Agent => "agents",
            Kind::Evaluation => "evaluations",
        }
    }

    /// The kind whose collection is `name`.
    pub fn from_collection(name: &str) -> Option<Kind> {
        Kind::EVERY.into_iter().find(|k| k.collection() == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.collection())
    }
}

/// Where a document lives: its kind and id. Displayed as `conditions/cpu-high`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    /// The kind of document.
    pub kind: Kind,
    /// Its id: 1 to [`MAX_KEY_ID_LEN`] printable ASCII characters other than `/`.
    pub id: String,
}

impl Key {
    /// A key, checking the id.
    pub fn new(kind: Kind, id: impl Into<String>) -> Result<Key, StoreError> {
        let id = id.into();
        check_key_id(&id)?;
        Ok(Key { kind, id })
    }
}

/// Checks an id against the rules of [`Key::id`].
pub fn check_key_id(id: &str) -> Result<(), StoreError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_KEY_ID_LEN
        && id.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidKey {
            id: id.chars().take(80).collect(),
        })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.id)
    }
}

impl FromStr for Key {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Key, StoreError> {
        let invalid = || StoreError::InvalidKey {
            id: s.chars().take(80).collect(),
        };
        let (collection, id) = s.split_once('/').ok_or_else(invalid)?;
        let kind = Kind::from_collection(collection).ok_or_else(invalid)?;
        Key::new(kind, id)
    }
}

/// A document as stored, with its revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Where it lives.
    pub key: Key,
    /// The document (JSON text).
    pub value: String,
    /// The revision that created the key (since its last deletion).
    pub create_revision: Revision,
    /// The revision of the last write to the key: its ETag, and what [`Expect::At`]
    /// compares.
    pub mod_revision: Revision,
}

/// What a transaction expects of a key before it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Nothing: the operation applies whatever the key holds (a delete still needs the
    /// key to exist, see [`Op::Delete`]).
    Any,
    /// The key must not exist (create only; "expected revision 0").
    Absent,
    /// The key must exist, at any revision.
    Exists,
    /// The key's [`Record::mod_revision`] must be this.
    At(Revision),
}

impl Expect {
    /// Whether a key whose current modification revision is `current` (`None`: absent)
    /// meets the expectation. `Any` is met by anything; a delete adds its own
    /// existence rule.
    pub fn holds(self, current: Option<Revision>) -> bool {
        match self {
            Expect::Any => true,
            Expect::Absent => current.is_none(),
            Expect::Exists => current.is_some(),
            Expect::At(r) => current == Some(r),
        }
    }

    /// The expectation for a client's "expected revision": 0 means create only.
    pub fn from_revision(revision: Revision) -> Expect {
        if revision == 0 {
            Expect::Absent
        } else {
            Expect::At(revision)
        }
    }
}

/// One step of a [`Txn`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum Op {
    /// Writes `value` (JSON text) at `key`.
    Put {
        /// The key.
        key: Key,
        /// The document.
        value: String,
        /// What the key must be before.
        expect: Expect,
    },
    /// Removes `key`, which must exist (a missing key fails the transaction with
    /// [`StoreError::Conflict`] whatever `expect` says).
    Delete {
        /// The key.
        key: Key,
        /// What the key must be before.
        expect: Expect,
    },
    /// Changes nothing but fails the transaction unless `key` meets `expect`: the
    /// transaction read `key` and depends on it (a condition's endpoint exists).
    Check {
        /// The key.
        key: Key,
        /// What the key must be.
        expect: Expect,
    },
    /// Fails the transaction if any key of `kind` was written or deleted after
    /// revision `since`: the transaction read the whole collection at `since` and
    /// depends on it (nothing references the endpoint it deletes; a spec replaces
    /// exactly what was there).
    Unchanged {
        /// The collection.
        kind: Kind,
        /// The revision it was read at.
        since: Revision,
    },
}

impl Op {
    /// The key the operation names, if it names one.
    pub fn key(&self) -> Option<&Key> {
        match self {
            Op::Put { key, .. } | Op::Delete { key, .. } | Op::Check { key, .. } => Some(key),
            Op::Unchanged { .. } => None,
        }
    }

    /// Whether it writes.
    pub fn writes(&self) -> bool {
        matches!(self, Op::Put { .. } | Op::Delete { .. })
    }
}

/// A leader's claim: writes carrying it apply only while `term` is still the newest term
/// of `election`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fence {
    /// The election's name.
    pub election: String,
    /// The term the writer leads in (its fencing token).
    pub term: u64,
}

impl fmt::Display for Fence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.election, self.term)
    }
}

impl FromStr for Fence {
    type Err = StoreError;

    /// Reads `election=term`, the form of the `X-Gateway-Fence` header.
    fn from_str(s: &str) -> Result<Fence, StoreError> {
        let invalid = || StoreError::Invalid(format!("fence {s:?}: expected ELECTION=TERM"));
        let (election, term) = s.rsplit_once('=').ok_or_else(invalid)?;
        check_election_name(election)?;
        let term = term.parse().map_err(|_| invalid())?;
        Ok(Fence {
            election: election.to_owned(),
            term,
        })
    }
}

/// Checks an election name: the same rules as a key id.
pub fn check_election_name(name: &str) -> Result<(), StoreError> {
    check_key_id(name).map_err(|_| StoreError::Invalid(format!(
        "election name {:?}: expected 1 to {MAX_KEY_ID_LEN} printable ASCII characters other than /",
        name.chars().take(80).collect::<String>()
    )))
}

/// An atomic group of operations, optionally fenced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Txn {
    /// The operations, applied in order at one revision. A key may be written at most
    /// once in a transaction.
    pub ops: Vec<Op>,
    /// Refuse the whole transaction unless this term is the election's newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence: Option<Fence>,
}

impl Txn {
    /// A transaction of `ops`, unfenced.
    pub fn new(ops: Vec<Op>) -> Txn {
        Txn { ops, fence: None }
    }

    /// The same transaction carrying `fence`.
    pub fn fenced(mut self, fence: Option<Fence>) -> Txn {
        self.fence = fence;
        self
    }

    /// Checks what every backend refuses the same way: sizes, and a key written twice.
    pub fn check(&self) -> Result<(), StoreError> {
        if self.ops.len() > MAX_TXN_OPS {
            return Err(StoreError::Invalid(format!(
                "a transaction has at most {MAX_TXN_OPS} operations, this one {}",
                self.ops.len()
            )));
        }
        let mut written = std::collections::HashSet::new();
        for op in &self.ops {
            if let Some(key) = op.key() {
                check_key_id(&key.id)?;
            }
            if let Op::Put { key, value, .. } = op
                && value.len() > MAX_VALUE_BYTES
            {
                return Err(StoreError::Invalid(format!(
                    "{key}: a value holds at most {MAX_VALUE_BYTES} bytes, this one {}",
                    value.len()
                )));
            }
            if op.writes()
                && let Some(key) = op.key()
                && !written.insert(key.clone())
            {
                return Err(StoreError::Invalid(format!(
                    "{key} is written twice in one transaction"
                )));
            }
        }
        if let Some(fence) = &self.fence {
            check_election_name(&fence.election)?;
        }
        Ok(())
    }
}

/// A whole collection at one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// The revision the listing reflects (the store's revision when read now).
    pub revision: Revision,
    /// The documents, ordered by id.
    pub records: Vec<Record>,
}

/// One change, as a watcher sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The revision of the transaction that made it (a transaction's changes share one).
    pub revision: Revision,
    /// The key changed.
    pub key: Key,
    /// The new document; `None` for a deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The outcome of [`ConfigStore::acquire`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseState {
    /// Who holds the election now.
    pub holder: String,
    /// The holder's term: a new holder gets a higher term than any before it.
    pub term: u64,
    /// Whether the caller holds it.
    pub acquired: bool,
}

/// Changes from a revision on: see [`ConfigStore::watch`].
#[derive(Debug)]
pub struct Watch {
    receiver: mpsc::Receiver<Result<Event, StoreError>>,
}

impl Watch {
    /// How many events a backend buffers for a watcher before it waits for the reader.
    pub const BUFFER: usize = 1024;

    /// A watch and the sender its backend feeds.
    pub fn channel() -> (mpsc::Sender<Result<Event, StoreError>>, Watch) {
        let (sender, receiver) = mpsc::channel(Watch::BUFFER);
        (sender, Watch { receiver })
    }

    /// The next change; `Some(Err(Compacted))` when the watcher fell behind a compaction
    /// (then `None`), `None` when the store went away.
    pub async fn next(&mut self) -> Option<Result<Event, StoreError>> {
        self.receiver.recv().await
    }
}

/// What can go wrong in a store. Each variant maps to one HTTP status in the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum StoreError {
    /// A transaction's expectation did not hold; nothing was applied.
    #[error("{key}: expected {}, but it is {}", describe_expect(*expected), describe_current(*actual))]
    Conflict {
        /// The key whose expectation failed.
        key: Key,
        /// What the transaction expected.
        expected: Expect,
        /// The key's modification revision (`None`: absent).
        actual: Option<Revision>,
    },
    /// An [`Op::Unchanged`] failed: the collection changed after the transaction read it.
    #[error("{kind} changed after revision {since} (now at {modified})")]
    Changed {
        /// The collection.
        kind: Kind,
        /// The revision the transaction read it at.
        since: Revision,
        /// The newest write to it.
        modified: Revision,
    },
    /// The fence's term is no longer the election's newest; nothing was applied.
    #[error("fenced: term {term} of election {election:?} was superseded by term {current}")]
    Fenced {
        /// The election.
        election: String,
        /// The term the writer claimed.
        term: u64,
        /// The election's newest term (0: the election's lease has lapsed).
        current: u64,
    },
    /// The revision asked for has been compacted away: re-list.
    #[error("revision {requested} has been compacted (oldest available: {compacted})")]
    Compacted {
        /// What was asked for.
        requested: Revision,
        /// The oldest revision still readable.
        compacted: Revision,
    },
    /// A revision after the store's newest.
    #[error("revision {requested} is in the future (the store is at {current})")]
    FutureRevision {
        /// What was asked for.
        requested: Revision,
        /// The store's newest revision.
        current: Revision,
    },
    /// An id that cannot be a key.
    #[error("invalid key id {id:?}: expected 1 to 253 printable ASCII characters other than /")]
    InvalidKey {
        /// The id (its first 80 characters).
        id: String,
    },
    /// A request the store refuses as malformed (too large, a key written twice).
    #[error("{0}")]
    Invalid(String),
    /// The backend cannot answer now (no quorum, the database is locked or gone, a
    /// timeout); nothing acknowledged was lost, and the caller may retry.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The stored data is not what this version understands (a newer schema, a corrupt
    /// value).
    #[error("store data error: {0}")]
    Data(String),
}

fn describe_expect(expect: Expect) -> String {
    match expect {
        Expect::Any => "anything".to_owned(),
        Expect::Absent => "no such key (create only)".to_owned(),
        Expect::Exists => "an existing key".to_owned(),
        Expect::At(r) => format!("revision {r}"),
    }
}

fn describe_current(actual: Option<Revision>) -> String {
    match actual {
        None => "absent".to_owned(),
        Some(r) => format!("at revision {r}"),
    }
}

/// The revisioned store. See the [module docs](self) for the contract; [`conformance`]
/// checks it.
#[async_trait]
pub trait ConfigStore: Send + Sync + fmt::Debug {
    /// The document at `key`, if any.
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError>;

    /// Every document of `kind`, ordered by id: now (`at: None`), or as it was at a past
    /// revision (`Compacted` before the oldest kept, `FutureRevision` after the newest).
    async fn list(&self, kind: Kind, at: Option<Revision>) -> Result<Listing, StoreError>;

    /// Applies `txn` atomically and durably, returning its new revision (the current
    /// revision when it writes nothing). On any failed expectation or fence nothing is
    /// applied.
    async fn txn(&self, txn: Txn) -> Result<Revision, StoreError>;

    /// The newest revision.
    async fn revision(&self) -> Result<Revision, StoreError>;

    /// Every change with a revision above `after`, in order, then live changes.
    /// `Compacted` (at once or later) when changes after `after` are no longer kept.
    async fn watch(&self, after: Revision) -> Result<Watch, StoreError>;

    /// Forgets history before `revision`: later [`ConfigStore::list`]s at older
    /// revisions and watches from before it fail with `Compacted`.
    async fn compact(&self, revision: Revision) -> Result<(), StoreError>;

    /// Takes or renews the lease of `election` for `holder` for `ttl`: granted when the
    /// lease is free, expired, or already `holder`'s. A newly granted lease gets a term
    /// above every earlier term of the election; a renewal keeps its term.
    async fn acquire(
        &self,
        election: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseState, StoreError>;

    /// Gives the lease up if `holder` still holds it in `term`.
    async fn release(&self, election: &str, holder: &str, term: u64) -> Result<(), StoreError>;

    /// A short description for logs and `/api/v1/status` (no credentials).
    fn describe(&self) -> String;
}

/// A shared store.
pub type SharedStore = Arc<dyn ConfigStore>;

/// Opens the store a `--store` URL names:
///
/// | URL | store |
/// |---|---|
/// | `sqlite:PATH` (or `sqlite://PATH`) | [`sqlite::SqliteStore`], created if missing |
/// | `etcd:http://h1:2379,http://h2:2379[/prefix]` | the etcd store (feature `etcd`) |
/// | `http://host:port` or `https://...` | [`remote::RemoteStore`], a data plane's API |
///
/// `token` is the bearer token the remote store sends. Errors name the URL with any
/// credentials in it removed.
pub async fn open(url: &str, token: Option<String>) -> Result<SharedStore, StoreError> {
    let shown = redact_url(url);
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err(StoreError::Invalid(format!(
                "store {shown:?}: sqlite: needs a file path, as in sqlite:./data/gateway.db"
            )));
        }
        let path = std::path::PathBuf::from(path);
        let store = tokio::task::spawn_blocking(move || sqlite::SqliteStore::open(&path))
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))??;
        return Ok(Arc::new(store));
    }
    if let Some(rest) = url.strip_prefix("etcd:") {
        #[cfg(feature = "etcd")]
        {
            let store = etcd::EtcdStore::connect_url(rest).await?;
            return Ok(Arc::new(store));
        }
        #[cfg(not(feature = "etcd"))]
        {
            let _ = rest;
            return Err(StoreError::Invalid(format!(
                "store {shown:?}: this build has no etcd support (feature `etcd`)"
            )));
        }
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        return Ok(Arc::new(remote::RemoteStore::new(url, token)?));
    }
    Err(StoreError::Invalid(format!(
        "store {shown:?}: expected sqlite:PATH, etcd:URL[,URL...] or http(s)://HOST:PORT"
    )))
}

/// `url` with any `user:password@` replaced by `<secret>@` and the values of query
/// parameters that usually carry credentials replaced by `<secret>`, for messages.
///
/// ```
/// use alert_gateway::store::redact_url;
/// assert_eq!(redact_url("http://u:p@h:9095/x?token=abc&a=1"), "http://<secret>@h:9095/x?token=<secret>&a=1");
/// assert_eq!(redact_url("etcd:http://h1:2379,http://root:pw@h2:2379"), "etcd:http://h1:2379,http://<secret>@h2:2379");
/// ```
pub fn redact_url(url: &str) -> String {
    // One redaction for the whole family (alertctl, alert-health and the gateway).
    alert_core::redact_urls(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_print() {
        let key: Key = "conditions/cpu-high".parse().unwrap();
        assert_eq!(key.kind, Kind::Condition);
        assert_eq!(key.to_string(), "conditions/cpu-high");
        assert!("nope/x".parse::<Key>().is_err());
        assert!("conditions/".parse::<Key>().is_err());
        assert!("conditions/a/b".parse::<Key>().is_err());
        assert!(Key::new(Kind::Slo, "a b").is_err());
        assert!(Key::new(Kind::Slo, "x".repeat(254)).is_err());
    }

    #[test]
    fn expectations() {
        assert!(Expect::Any.holds(None));
        assert!(Expect::Absent.holds(None));
        assert!(!Expect::Absent.holds(Some(3)));
        assert!(Expect::Exists.holds(Some(3)));
        assert!(!Expect::Exists.holds(None));
        assert!(Expect::At(3).holds(Some(3)));
        assert!(!Expect::At(3).holds(Some(4)));
        assert_eq!(Expect::from_revision(0), Expect::Absent);
        assert_eq!(Expect::from_revision(7), Expect::At(7));
    }

    #[test]
    fn fences_parse() {
        let fence: Fence = "control-plane=12".parse().unwrap();
        assert_eq!(fence.term, 12);
        assert_eq!(fence.to_string(), "control-plane=12");
        assert!("control-plane".parse::<Fence>().is_err());
        assert!("x=y".parse::<Fence>().is_err());
    }

    #[test]
    fn txn_checks() {
        let key = Key::new(Kind::Endpoint, "a").unwrap();
        let put = Op::Put {
            key: key.clone(),
            value: "{}".into(),
            expect: Expect::Any,
        };
        assert!(Txn::new(vec![put.clone()]).check().is_ok());
        let twice = Txn::new(vec![put.clone(), put.clone()]);
        assert!(
            twice
                .check()
                .unwrap_err()
                .to_string()
                .contains("written twice")
        );
        let check_and_put = Txn::new(vec![
            Op::Check {
                key,
                expect: Expect::Exists,
            },
            put,
        ]);
        assert!(check_and_put.check().is_ok());
    }

    #[tokio::test]
    async fn bad_store_urls_are_refused_with_the_reason() {
        for (url, expected) in [
            (
                "mysql://h/db",
                "expected sqlite:PATH, etcd:URL[,URL...] or http(s)://HOST:PORT",
            ),
            ("sqlite:", "sqlite: needs a file path"),
            ("http://", "store \"http://\""),
            ("https://user:pw@", "store \"https://<secret>@\""),
            ("", "expected sqlite:PATH"),
        ] {
            let err = open(url, None).await.unwrap_err().to_string();
            assert!(err.contains(expected), "{url:?}: {err}");
            assert!(
                !err.contains("pw"),
                "{url:?}: a password is never shown: {err}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let under_a_file = format!("sqlite:{}/gateway.db", file.display());
        let err = open(&under_a_file, None).await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(err.to_string().contains("a-file"), "names the path: {err}");
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("sqlite:./x.db"), "sqlite:./x.db");
        assert_eq!(redact_url("http://h:1/p"), "http://h:1/p");
        assert_eq!(
            redact_url("https://user@h/p?api_key=1"),
            "https://<secret>@h/p?api_key=<secret>"
        );
    }
}
