//! The etcd v3 store (feature `etcd`), for gateways that run in several replicas:
//! `--store etcd:http://h1:2379,http://h2:2379[/prefix]`. Tested against etcd 3.4.
//!
//! ```no_run
//! # async fn demo() -> Result<(), alert_gateway::store::StoreError> {
//! use alert_gateway::store::etcd::EtcdStore;
//! use alert_gateway::store::{ConfigStore, Expect, Key, Kind, Op, Txn};
//!
//! let endpoints = ["http://127.0.0.1:2379".to_owned()];
//! let store = EtcdStore::connect(&endpoints, "/alert-gateway/").await?;
//! let key = Key::new(Kind::Endpoint, "pager")?;
//! let value = r#"{"pagerduty":{"routing_key":"k"}}"#.to_owned();
//! let revision = store.txn(Txn::new(vec![Op::Put { key, value, expect: Expect::Absent }])).await?;
//! assert_eq!(store.revision().await?, revision);
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! Every key lives under a prefix, `/alert-gateway/` unless the URL has a path
//! (`etcd:http://h:2379/team-a` uses `/team-a/`):
//!
//! | key | holds |
//! |---|---|
//! | `<prefix>docs/<collection>/<id>` | a document, its JSON text as is |
//! | `<prefix>collections/<collection>` | rewritten by every transaction that writes the collection; its mod revision is what [`Op::Unchanged`] compares |
//! | `<prefix>revision` | rewritten by every transaction that writes; its mod revision is the store's revision |
//! | `<prefix>elections/<name>` | `{"holder":"…","lease":<id>}`, attached to an etcd lease; its create revision is the term |
//!
//! The two meta keys hold the id of the transaction that wrote them last (see
//! *Resilience*). Watches follow `<prefix>docs/` only, so no meta or election key ever
//! shows up in one.
//!
//! # Revisions
//!
//! Store revisions are etcd revisions: a record's create and mod revisions are its key's,
//! and a transaction answers the revision etcd gave it. etcd counts every write to the
//! cluster, though (election keys, leases expiring, other prefixes), so the store's own
//! revision ([`ConfigStore::revision`], a listing's revision, the answer of a transaction
//! of checks only) is the mod revision of `<prefix>revision`: the last transaction that
//! wrote a document, 0 while there was none (etcd itself starts at 1). Revisions grow but
//! skip numbers. A listing at a revision after the store's is a
//! [`StoreError::FutureRevision`] even when etcd has got that far.
//!
//! # Transactions
//!
//! One [`Txn`] is one etcd transaction: each expectation is a compare (`Absent`: create
//! revision 0; `Exists`: above 0; `At(r)`: mod revision `r`; a delete also needs the key to
//! exist), [`Op::Unchanged`] compares the collection key's mod revision with `since + 1`
//! (`Less`; a collection never written is at 0), and a fence compares the election key's
//! create revision with the term. When a compare fails, the other branch reads every key
//! compared in the same etcd transaction, and the error is worked out from what it read
//! in the order SQLite checks (fence, then the operations in order), so a conflict names
//! the same key, expectation and actual revision. etcd bounds a transaction at
//! `--max-txn-ops` compares and at as many writes (128 by default): a bigger one is refused
//! as [`StoreError::Invalid`].
//!
//! # Elections
//!
//! [`ConfigStore::acquire`] on a free election grants an etcd lease of the TTL (rounded up
//! to whole seconds, at least 1; etcd may grant more, its minimum being 1.5 election
//! timeouts) and creates the election key with it in a create-only transaction: the term
//! is the key's create revision, so every new holder has a higher term. A renewal keeps the
//! lease alive (one keep-alive round trip) and keeps the term; when etcd lets the lease
//! expire, it deletes the key, and the next candidate creates it anew.
//! [`ConfigStore::release`] deletes the key if it is still the holder's term and revokes
//! the lease. A fenced transaction compares the election key's create revision with the
//! fence's term, so it is refused as soon as the holder's lease has lapsed (`current` 0),
//! not only once a successor holds it.
//!
//! # Resilience
//!
//! The store keeps one client per endpoint and sends each call to the endpoint that
//! answered last. A call that fails the way a dead, frozen or leaderless member fails
//! (refused connection, no answer within [`EtcdOptions::call_timeout`], `Unavailable`,
//! no leader) is tried again on the next endpoint, pausing briefly after each round, until
//! [`EtcdOptions::deadline`]; then the store answers [`StoreError::Unavailable`]. Every
//! request requires a leader, so a member that has lost its leader says so at once
//! instead of holding the request until etcd's own timeout.
//!
//! A retried write may have been applied by the attempt that timed out. Each writing
//! transaction puts a unique id in `<prefix>revision`; when a retry then fails its compares,
//! the store walks that key's history back to the revision it had seen before sending, and
//! answers the revision of its own earlier write if it finds the id there. A transaction
//! whose compares still hold after it was applied (its puts all [`Expect::Any`], no
//! delete, no [`Op::Unchanged`] of a collection it writes) may be applied twice that way,
//! with the same values.
//!
//! A watch whose stream breaks (its member died or lost its leader) or falls silent (no
//! answer to a progress request after [`EtcdOptions::watch_idle`] of quiet) resumes after the last revision it delivered on another endpoint; it
//! ends with [`StoreError::Compacted`] if that revision has been compacted meanwhile, or
//! with [`StoreError::Unavailable`] when no endpoint lets it resume within the deadline.
//!
//! [`ConfigStore::compact`] compacts the whole etcd keyspace: other users of the cluster
//! lose their history before that revision too.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alert_core::Secret;
use async_trait::async_trait;
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType, GetOptions, GetResponse, KeyValue,
    KvClient, PutOptions, ResponseHeader, Txn as EtcdTxn, TxnOp, TxnOpResponse, TxnResponse,
    WatchOptions, WatchStream,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{OnceCell, mpsc};
use tokio::time::{Instant, sleep, timeout};

use super::{
    ConfigStore, Event, Expect, Key, Kind, LeaseState, Listing, Op, Record, Revision, StoreError,
    Txn, Watch, check_election_name, check_key_id, redact_url,
};

/// The prefix every key lives under unless the URL or the caller names another.
pub const DEFAULT_PREFIX: &str = "/alert-gateway/";

/// The largest answer the store reads from etcd (a listing of a large collection).
const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// How many earlier versions of `<prefix>revision` a retried transaction looks through
/// for its own write.
const MAX_WALK_BACK: usize = 64;

/// How many times [`ConfigStore::acquire`] starts over when the election key changes
/// under it.
const ACQUIRE_ROUNDS: usize = 5;

// gRPC status codes, as the gRPC specification numbers them (tonic's `Code` values).
const GRPC_CANCELLED: i32 = 1;
const GRPC_UNKNOWN: i32 = 2;
const GRPC_INVALID_ARGUMENT: i32 = 3;
const GRPC_DEADLINE_EXCEEDED: i32 = 4;
const GRPC_NOT_FOUND: i32 = 5;
const GRPC_RESOURCE_EXHAUSTED: i32 = 8;
const GRPC_ABORTED: i32 = 10;
const GRPC_OUT_OF_RANGE: i32 = 11;
const GRPC_INTERNAL: i32 = 13;
const GRPC_UNAVAILABLE: i32 = 14;

/// How the store talks to etcd: timeouts and credentials.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EtcdOptions {
    /// How long one attempt of a call may take before the next endpoint is tried
    /// (default 1 s).
    pub call_timeout: Duration,
    /// How long a call may take in all, retries included, before the store answers
    /// [`StoreError::Unavailable`] (default 10 s).
    pub deadline: Duration,
    /// How long connecting to one endpoint may take (default 500 ms).
    pub connect_timeout: Duration,
    /// How long a watch may be silent before the store asks its member for progress
    /// (default 5 s); a member that does not answer within `call_timeout` is given up
    /// and the watch resumes elsewhere.
    pub watch_idle: Duration,
    /// The etcd user and password, when etcd has authentication enabled.
    pub user: Option<(String, Secret)>,
}

impl Default for EtcdOptions {
    fn default() -> EtcdOptions {
        EtcdOptions {
            call_timeout: Duration::from_secs(1),
            deadline: Duration::from_secs(10),
            connect_timeout: Duration::from_millis(500),
            watch_idle: Duration::from_secs(5),
            user: None,
        }
    }
}

impl EtcdOptions {
    /// The defaults.
    pub fn new() -> EtcdOptions {
        EtcdOptions::default()
    }

    /// With another per-attempt timeout.
    pub fn call_timeout(mut self, timeout: Duration) -> EtcdOptions {
        self.call_timeout = timeout;
        self
    }

    /// With another overall deadline.
    pub fn deadline(mut self, deadline: Duration) -> EtcdOptions {
        self.deadline = deadline;
        self
    }

    /// With another silence after which a watch checks on its member.
    pub fn watch_idle(mut self, idle: Duration) -> EtcdOptions {
        self.watch_idle = idle;
        self
    }

    /// With etcd credentials.
    pub fn user(mut self, name: impl Into<String>, password: impl Into<Secret>) -> EtcdOptions {
        self.user = Some((name.into(), password.into()));
        self
    }
}

/// The etcd store. Cheap to clone (shared state).
#[derive(Clone)]
pub struct EtcdStore {
    inner: Arc<Inner>,
}

struct Inner {
    members: Vec<Member>,
    prefix: String,
    options: EtcdOptions,
    /// The endpoint that answered last: where the next call goes first.
    preferred: AtomicUsize,
    /// The newest etcd revision any answer carried: a write sent after reading it gets a
    /// higher revision.
    seen: AtomicU64,
    /// How many times a watch stream broke and was resumed.
    watch_resumes: AtomicU64,
}

/// One endpoint and its client, connected on first use.
struct Member {
    url: String,
    client: OnceCell<Client>,
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("endpoints", &self.endpoints_text())
            .field("prefix", &self.inner.prefix)
            .finish()
    }
}

/// Why a call gave up.
enum Failure {
    /// etcd answered with an error that no retry changes.
    Refused(etcd_client::Error),
    /// No endpoint answered in time (the message says what was tried and what went
    /// wrong last).
    Unavailable(String),
}

impl Failure {
    /// The store error for `what` failing this way.
    fn into_store(self, what: &str) -> StoreError {
        match self {
            Failure::Refused(e) => refused(what, &e),
            Failure::Unavailable(message) => StoreError::Unavailable(message),
        }
    }
}

/// What the attempts of a successful call tell.
#[derive(Debug, Clone, Copy)]
struct Attempts {
    /// An earlier attempt failed in a way that leaves open whether etcd applied it.
    uncertain: bool,
    /// The endpoint that answered.
    endpoint: usize,
}

/// How a failed attempt failed.
enum Class {
    /// etcd refused the request: trying again changes nothing.
    Final,
    /// The request never reached a member that could apply it: try the next endpoint.
    NotSent,
    /// No answer, or a broken one: etcd may or may not have applied it. Try the next
    /// endpoint.
    Unknown,
}

fn grpc_code(status: &etcd_client::Error) -> Option<i32> {
    match status {
        etcd_client::Error::GRpcStatus(s) => Some(s.code() as i32),
        _ => None,
    }
}

fn classify(e: &etcd_client::Error) -> Class {
    use etcd_client::Error as E;
    match e {
        E::GRpcStatus(s) => {
            let message = s.message();
            match s.code() as i32 {
                GRPC_UNAVAILABLE
                    if message.contains("tcp connect error")
                        || message.contains("onnection refused")
                        || message.contains("no leader") =>
                {
                    Class::NotSent
                }
                GRPC_UNAVAILABLE
                | GRPC_DEADLINE_EXCEEDED
                | GRPC_CANCELLED
                | GRPC_UNKNOWN
                | GRPC_ABORTED
                | GRPC_RESOURCE_EXHAUSTED
                | GRPC_INTERNAL => Class::Unknown,
                _ => Class::Final,
            }
        }
        E::TransportError(_) | E::IoError(_) | E::WatchError(_) => Class::Unknown,
        E::LeaseKeepAliveError(message) if message.contains("not found") => Class::Final,
        E::LeaseKeepAliveError(_) => Class::Unknown,
        _ => Class::Final,
    }
}

/// What an `OutOfRange` answer about a revision means.
enum RangeError {
    Compacted,
    Future,
}

fn range_error(e: &etcd_client::Error) -> Option<RangeError> {
    let etcd_client::Error::GRpcStatus(s) = e else {
        return None;
    };
    if s.code() as i32 != GRPC_OUT_OF_RANGE {
        return None;
    }
    if s.message().contains("compacted") {
        Some(RangeError::Compacted)
    } else if s.message().contains("future revision") {
        Some(RangeError::Future)
    } else {
        None
    }
}

/// The store error for etcd refusing `what` with `e`.
fn refused(what: &str, e: &etcd_client::Error) -> StoreError {
    let message = match e {
        etcd_client::Error::GRpcStatus(s) => s.message().to_owned(),
        other => other.to_string(),
    };
    match e {
        etcd_client::Error::GRpcStatus(s) if s.code() as i32 == GRPC_INVALID_ARGUMENT => {
            let hint = if message.contains("too many operations") {
                " (etcd's --max-txn-ops bounds the operations of one transaction, 128 by default)"
            } else if message.contains("too large") {
                " (etcd's --max-request-bytes bounds one request, 1.5 MiB by default)"
            } else {
                ""
            };
            StoreError::Invalid(format!("etcd refused the {what}: {message}{hint}"))
        }
        etcd_client::Error::InvalidArgs(_) | etcd_client::Error::InvalidUri(_) => {
            StoreError::Invalid(format!("etcd {what}: {message}"))
        }
        _ => StoreError::Unavailable(format!("etcd {what}: {message}")),
    }
}

fn to_i64(r: u64) -> i64 {
    i64::try_from(r).unwrap_or(i64::MAX)
}

fn to_u64(r: i64) -> u64 {
    u64::try_from(r).unwrap_or(0)
}

fn header_revision(header: Option<&ResponseHeader>) -> Revision {
    header.map(|h| to_u64(h.revision())).unwrap_or(0)
}

/// A unique id for one transaction: random (std's per-process random hash keys), with
/// the process, the time and a counter mixed in.
fn txn_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut halves = [0u64; 2];
    for half in &mut halves {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u128(nanos);
        h.write_u32(std::process::id());
        *half = h.finish();
    }
    format!("{:016x}{:016x}-{n}", halves[0], halves[1])
}

/// What an election key holds.
#[derive(Debug, Serialize, Deserialize)]
struct Claim {
    holder: String,
    lease: i64,
}

/// One endpoint of an `etcd:` URL, taken apart.
#[derive(Debug, PartialEq, Eq)]
struct ParsedEndpoint {
    /// `scheme://host:port`, without credentials or path.
    url: String,
    /// `user:password@`, percent-decoded.
    user: Option<(String, String)>,
    /// The path, if any (`/prefix`).
    path: Option<String>,
}

fn parse_endpoint(text: &str) -> Result<ParsedEndpoint, StoreError> {
    let invalid = |why: &str| {
        StoreError::Invalid(format!(
            "etcd endpoint {:?}: {why}",
            redact_url(text.trim())
        ))
    };
    let text = text.trim();
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| invalid("expected http://HOST:PORT"))?;
    match scheme {
        "http" => {}
        "https" => {
            return Err(invalid(
                "https needs etcd-client's TLS support, which this build does not include",
            ));
        }
        _ => return Err(invalid("expected http://HOST:PORT")),
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let (user, host) = match authority.rfind('@') {
        Some(at) => {
            let info = &authority[..at];
            let (name, password) = info.split_once(':').unwrap_or((info, ""));
            (
                Some((percent_decode(name), percent_decode(password))),
                &authority[at + 1..],
            )
        }
        None => (None, authority),
    };
    if host.is_empty() || host.contains(['?', '#', ' ']) {
        return Err(invalid("expected http://HOST:PORT"));
    }
    let path = path
        .filter(|p| !p.trim_matches('/').is_empty())
        .map(str::to_owned);
    Ok(ParsedEndpoint {
        url: format!("{scheme}://{host}"),
        user,
        path,
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `prefix` as keys use it: with a leading and a trailing `/`.
fn normalize_prefix(prefix: &str) -> Result<String, StoreError> {
    let trimmed = prefix.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(DEFAULT_PREFIX.to_owned());
    }
    if trimmed.contains("//") || trimmed.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err(StoreError::Invalid(format!(
            "etcd key prefix {prefix:?}: expected printable ASCII segments separated by /"
        )));
    }
    Ok(format!("/{trimmed}/"))
}

impl EtcdStore {
    /// Connects to the endpoints and prefix of an `etcd:` store URL without its `etcd:`:
    /// `http://h1:2379,http://h2:2379[/prefix]`. Credentials may come as
    /// `http://user:password@h1:2379`.
    pub async fn connect_url(rest: &str) -> Result<EtcdStore, StoreError> {
        let parsed = rest
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(parse_endpoint)
            .collect::<Result<Vec<_>, _>>()?;
        let shown = || redact_url(rest);
        let mut prefix: Option<&str> = None;
        let mut user: Option<&(String, String)> = None;
        for endpoint in &parsed {
            if let Some(path) = endpoint.path.as_deref() {
                if prefix.is_some_and(|p| p != path) {
                    return Err(StoreError::Invalid(format!(
                        "etcd:{}: the endpoints name different key prefixes",
                        shown()
                    )));
                }
                prefix = Some(path);
            }
            if let Some(u) = endpoint.user.as_ref() {
                if user.is_some_and(|known| known != u) {
                    return Err(StoreError::Invalid(format!(
                        "etcd:{}: the endpoints name different users",
                        shown()
                    )));
                }
                user = Some(u);
            }
        }
        let mut options = EtcdOptions::default();
        if let Some((name, password)) = user {
            options = options.user(name.clone(), password.clone());
        }
        let endpoints: Vec<String> = parsed.iter().map(|e| e.url.clone()).collect();
        EtcdStore::connect_with(&endpoints, prefix.unwrap_or(DEFAULT_PREFIX), options).await
    }

    /// Connects to `endpoints` (`http://host:port` each) with keys under `prefix` and the
    /// default [`EtcdOptions`].
    pub async fn connect(endpoints: &[String], prefix: &str) -> Result<EtcdStore, StoreError> {
        EtcdStore::connect_with(endpoints, prefix, EtcdOptions::default()).await
    }

    /// Connects to `endpoints` with keys under `prefix`, and checks that etcd answers
    /// (within [`EtcdOptions::deadline`]).
    pub async fn connect_with(
        endpoints: &[String],
        prefix: &str,
        options: EtcdOptions,
    ) -> Result<EtcdStore, StoreError> {
        let mut members = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            let parsed = parse_endpoint(endpoint)?;
            if parsed.user.is_some() || parsed.path.is_some() {
                return Err(StoreError::Invalid(format!(
                    "etcd endpoint {:?}: expected http://HOST:PORT (give credentials and the prefix separately)",
                    redact_url(endpoint)
                )));
            }
            members.push(Member {
                url: parsed.url,
                client: OnceCell::new(),
            });
        }
        if members.is_empty() {
            return Err(StoreError::Invalid(
                "etcd: expected at least one endpoint, as in etcd:http://127.0.0.1:2379".to_owned(),
            ));
        }
        let store = EtcdStore {
            inner: Arc::new(Inner {
                members,
                prefix: normalize_prefix(prefix)?,
                options,
                preferred: AtomicUsize::new(0),
                seen: AtomicU64::new(0),
                watch_resumes: AtomicU64::new(0),
            }),
        };
        store.revision().await?;
        Ok(store)
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// How many times a watch of this store lost its stream and resumed on another (or
    /// the same) endpoint, for diagnostics.
    pub fn watch_resumes(&self) -> u64 {
        self.inner.watch_resumes.load(Ordering::Relaxed)
    }

    fn endpoints_text(&self) -> String {
        let urls: Vec<&str> = self.inner.members.iter().map(|m| m.url.as_str()).collect();
        redact_url(&urls.join(","))
    }

    fn docs_root(&self) -> String {
        format!("{}docs/", self.inner.prefix)
    }

    fn docs_prefix(&self, kind: Kind) -> String {
        format!("{}docs/{}/", self.inner.prefix, kind.collection())
    }

    fn doc_key(&self, key: &Key) -> String {
        format!(
            "{}docs/{}/{}",
            self.inner.prefix,
            key.kind.collection(),
            key.id
        )
    }

    fn collection_key(&self, kind: Kind) -> String {
        format!("{}collections/{}", self.inner.prefix, kind.collection())
    }

    fn revision_key(&self) -> String {
        format!("{}revision", self.inner.prefix)
    }

    fn election_key(&self, election: &str) -> String {
        format!("{}elections/{election}", self.inner.prefix)
    }

    /// The [`Key`] of a document key read from etcd.
    fn parse_doc_key(&self, raw: &[u8]) -> Result<Key, StoreError> {
        let bad = || {
            StoreError::Data(format!(
                "etcd key {:?} is not a document key",
                String::from_utf8_lossy(raw)
            ))
        };
        let text = std::str::from_utf8(raw).map_err(|_| bad())?;
        let rest = text.strip_prefix(&self.docs_root()).ok_or_else(bad)?;
        let (collection, id) = rest.split_once('/').ok_or_else(bad)?;
        let kind = Kind::from_collection(collection).ok_or_else(bad)?;
        check_key_id(id).map_err(|_| bad())?;
        Ok(Key {
            kind,
            id: id.to_owned(),
        })
    }

    fn record(&self, kv: &KeyValue) -> Result<Record, StoreError> {
        let key = self.parse_doc_key(kv.key())?;
        let value = std::str::from_utf8(kv.value())
            .map_err(|e| StoreError::Data(format!("{key}: the stored value is not UTF-8: {e}")))?
            .to_owned();
        Ok(Record {
            key,
            value,
            create_revision: to_u64(kv.create_revision()),
            mod_revision: to_u64(kv.mod_revision()),
        })
    }

    fn observe(&self, header: Option<&ResponseHeader>) {
        self.inner
            .seen
            .fetch_max(header_revision(header), Ordering::AcqRel);
    }

    /// The client of endpoint `i`, connecting it on first use.
    async fn client(&self, i: usize) -> Result<Client, etcd_client::Error> {
        let member = &self.inner.members[i];
        let options = &self.inner.options;
        let client = member
            .client
            .get_or_try_init(|| async {
                let mut connect = ConnectOptions::new()
                    .with_connect_timeout(options.connect_timeout)
                    .with_keep_alive(Duration::from_secs(10), Duration::from_secs(5))
                    .with_keep_alive_while_idle(false)
                    .with_require_leader(true);
                if let Some((name, password)) = &options.user {
                    connect = connect
                        .with_user(name.clone(), password.expose())
                        .with_auto_token_refresh(true);
                }
                Client::connect([member.url.as_str()], Some(connect)).await
            })
            .await?;
        Ok(client.clone())
    }

    /// Runs `f` against one endpoint after another (starting with the one that answered
    /// last) until one answers, etcd refuses the request, or the deadline passes.
    async fn call<T, F, Fut>(&self, what: &str, mut f: F) -> Result<(T, Attempts), Failure>
    where
        F: FnMut(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        let options = &self.inner.options;
        let started = Instant::now();
        let n = self.inner.members.len();
        let first = self.inner.preferred.load(Ordering::Relaxed) % n;
        let mut uncertain = false;
        let mut last_error = String::from("no attempt made");
        let mut attempt = 0usize;
        loop {
            let remaining = options.deadline.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                let outcome = if uncertain {
                    "; an attempt got no answer and may have been applied: read before retrying"
                } else {
                    ""
                };
                return Err(Failure::Unavailable(format!(
                    "etcd {what}: no member of {} answered within {:?} ({attempt} attempts; last: {last_error}){outcome}",
                    self.endpoints_text(),
                    options.deadline
                )));
            }
            let i = (first + attempt) % n;
            let limit = options.call_timeout.min(remaining);
            let result = timeout(limit, async {
                let client = self.client(i).await?;
                f(client).await
            })
            .await;
            match result {
                Ok(Ok(value)) => {
                    self.inner.preferred.store(i, Ordering::Relaxed);
                    return Ok((
                        value,
                        Attempts {
                            uncertain,
                            endpoint: i,
                        },
                    ));
                }
                Ok(Err(e)) => match classify(&e) {
                    Class::Final => return Err(Failure::Refused(e)),
                    Class::NotSent => {
                        last_error = format!("{}: {e}", self.inner.members[i].url);
                    }
                    Class::Unknown => {
                        uncertain = true;
                        last_error = format!("{}: {e}", self.inner.members[i].url);
                    }
                },
                Err(_) => {
                    uncertain = true;
                    last_error =
                        format!("{}: no answer within {limit:?}", self.inner.members[i].url);
                }
            }
            tracing::debug!(what, endpoint = %self.inner.members[i].url, error = %last_error, "etcd call failed; trying the next endpoint");
            attempt += 1;
            if attempt.is_multiple_of(n) {
                // A whole round failed (an election, a restart): wait a little.
                let round = u32::try_from(attempt / n).unwrap_or(u32::MAX).min(5);
                let pause = Duration::from_millis(25 << round)
                    .min(options.deadline.saturating_sub(started.elapsed()));
                sleep(pause).await;
            }
        }
    }

    /// One range read of `key`.
    async fn get_raw(&self, what: &str, key: &str) -> Result<Option<KeyValue>, StoreError> {
        let (resp, _) = self
            .call(what, |c| {
                let key = key.to_owned();
                async move { kv(&c).get(key, None).await }
            })
            .await
            .map_err(|f| f.into_store(what))?;
        self.observe(resp.header());
        Ok(resp.kvs().first().cloned())
    }

    /// Sends a transaction, returning etcd's answer and whether an earlier attempt may
    /// have been applied.
    async fn send(&self, what: &str, request: &EtcdTxn) -> Result<(TxnResponse, bool), Failure> {
        let (resp, attempts) = self
            .call(what, |c| {
                let request = request.clone();
                async move { kv(&c).txn(request).await }
            })
            .await?;
        self.observe(resp.header());
        Ok((resp, attempts.uncertain))
    }

    /// The translation of `txn` into one etcd transaction, its write stamped with `id`.
    fn plan(&self, txn: &Txn, id: &str) -> Plan {
        let mut compares = Vec::new();
        let mut reads = Vec::new();
        let mut read_set = std::collections::HashSet::new();
        let mut read = |key: String, reads: &mut Vec<String>| {
            if read_set.insert(key.clone()) {
                reads.push(key);
            }
        };
        let mut success = Vec::new();
        let mut written = BTreeSet::new();
        if let Some(fence) = &txn.fence {
            let key = self.election_key(&fence.election);
            compares.push(Compare::create_revision(
                key.clone(),
                CompareOp::Equal,
                to_i64(fence.term),
            ));
            read(key, &mut reads);
        }
        for op in &txn.ops {
            match op {
                Op::Put { key, value, expect } => {
                    let doc = self.doc_key(key);
                    expect_compares(&doc, *expect, false, &mut compares);
                    success.push(TxnOp::put(doc.clone(), value.clone(), None));
                    written.insert(key.kind);
                    read(doc, &mut reads);
                }
                Op::Delete { key, expect } => {
                    let doc = self.doc_key(key);
                    expect_compares(&doc, *expect, true, &mut compares);
                    success.push(TxnOp::delete(doc.clone(), None));
                    written.insert(key.kind);
                    read(doc, &mut reads);
                }
                Op::Check { key, expect } => {
                    let doc = self.doc_key(key);
                    expect_compares(&doc, *expect, false, &mut compares);
                    read(doc, &mut reads);
                }
                Op::Unchanged { kind, since } => {
                    let meta = self.collection_key(*kind);
                    compares.push(Compare::mod_revision(
                        meta.clone(),
                        CompareOp::Less,
                        to_i64(since.saturating_add(1)),
                    ));
                    read(meta, &mut reads);
                }
            }
        }
        let revision_key = self.revision_key();
        let writes = !written.is_empty();
        if writes {
            for kind in written {
                success.push(TxnOp::put(self.collection_key(kind), id, None));
            }
            success.push(TxnOp::put(revision_key.clone(), id, None));
            // A retry looks for its own earlier write there.
            read(revision_key, &mut reads);
        } else {
            success.push(TxnOp::get(revision_key, None));
        }
        let failure: Vec<TxnOp> = reads.iter().map(|k| TxnOp::get(k.clone(), None)).collect();
        Plan {
            request: EtcdTxn::new()
                .when(compares)
                .and_then(success)
                .or_else(failure),
            reads,
            writes,
        }
    }

    /// What etcd's answer `resp` to the transaction `plan` made of `txn` (stamped `id`)
    /// means; `uncertain` when an earlier attempt may have been applied, `lower` the
    /// newest revision seen before the first attempt.
    async fn outcome(
        &self,
        txn: &Txn,
        plan: &Plan,
        id: &str,
        lower: i64,
        resp: &TxnResponse,
        uncertain: bool,
    ) -> Result<Revision, StoreError> {
        if resp.succeeded() {
            if plan.writes {
                return Ok(header_revision(resp.header()));
            }
            // Checks only: the store's revision, read in the same transaction.
            let gets = ranges(resp)?;
            return Ok(gets
                .first()
                .and_then(|g| g.kvs().first())
                .map(|kv| to_u64(kv.mod_revision()))
                .unwrap_or(0));
        }
        let gets = ranges(resp)?;
        let state: HashMap<String, KeyValue> = plan
            .reads
            .iter()
            .zip(&gets)
            .filter_map(|(key, g)| g.kvs().first().map(|kv| (key.clone(), kv.clone())))
            .collect();
        if uncertain && plan.writes {
            // The attempt that got no answer may be what fails the compares now.
            let current = state.get(&self.revision_key()).cloned();
            if let Some(revision) = self.find_own_write(id, current, lower).await? {
                return Ok(revision);
            }
        }
        Err(self.diagnose(txn, &state))
    }

    /// Why a transaction's compares failed, from the keys its other branch read: the
    /// first failed expectation in the order SQLite checks them.
    fn diagnose(&self, txn: &Txn, state: &HashMap<String, KeyValue>) -> StoreError {
        let now = |key: &str| state.get(key);
        if let Some(fence) = &txn.fence {
            let current = now(&self.election_key(&fence.election))
                .map(|kv| to_u64(kv.create_revision()))
                .unwrap_or(0);
            if current != fence.term {
                return StoreError::Fenced {
                    election: fence.election.clone(),
                    term: fence.term,
                    current,
                };
            }
        }
        for op in &txn.ops {
            match op {
                Op::Put { key, expect, .. } | Op::Check { key, expect } => {
                    let actual = now(&self.doc_key(key)).map(|kv| to_u64(kv.mod_revision()));
                    if !expect.holds(actual) {
                        return StoreError::Conflict {
                            key: key.clone(),
                            expected: *expect,
                            actual,
                        };
                    }
                }
                Op::Delete { key, expect } => {
                    let actual = now(&self.doc_key(key)).map(|kv| to_u64(kv.mod_revision()));
                    if actual.is_none() || !expect.holds(actual) {
                        return StoreError::Conflict {
                            key: key.clone(),
                            expected: *expect,
                            actual,
                        };
                    }
                }
                Op::Unchanged { kind, since } => {
                    let modified = now(&self.collection_key(*kind))
                        .map(|kv| to_u64(kv.mod_revision()))
                        .unwrap_or(0);
                    if modified > *since {
                        return StoreError::Changed {
                            kind: *kind,
                            since: *since,
                            modified,
                        };
                    }
                }
            }
        }
        StoreError::Data(
            "etcd refused the transaction, yet every expectation holds in what it read".to_owned(),
        )
    }

    /// The revision at which the transaction stamped `id` was applied, if it was: looks
    /// through the versions of `<prefix>revision` newer than `lower`, starting at
    /// `current`.
    async fn find_own_write(
        &self,
        id: &str,
        mut current: Option<KeyValue>,
        lower: i64,
    ) -> Result<Option<Revision>, StoreError> {
        let key = self.revision_key();
        for _ in 0..MAX_WALK_BACK {
            let Some(version) = current else {
                return Ok(None);
            };
            if version.value() == id.as_bytes() {
                return Ok(Some(to_u64(version.mod_revision())));
            }
            // Our write, if applied, came after `lower`.
            if version.mod_revision() <= lower.saturating_add(1) {
                return Ok(None);
            }
            let before = version.mod_revision() - 1;
            let result = self
                .call("transaction check", |c| {
                    let key = key.clone();
                    async move {
                        kv(&c)
                            .get(key, Some(GetOptions::new().with_revision(before)))
                            .await
                    }
                })
                .await;
            current = match result {
                Ok((resp, _)) => resp.kvs().first().cloned(),
                Err(Failure::Refused(e)) if range_error(&e).is_some() => break,
                Err(f) => return Err(f.into_store("transaction check")),
            };
        }
        Err(StoreError::Unavailable(
            "etcd transaction: an attempt timed out and whether it was applied can no longer be told; read the keys and try again"
                .to_owned(),
        ))
    }

    /// The oldest revision etcd still keeps, when a read at `at` was refused as
    /// compacted. etcd's error does not say; a watch from `at` is cancelled with it.
    async fn compaction_point(&self, at: Revision) -> Revision {
        let key = self.revision_key();
        let start = to_i64(at.max(1));
        let wait = self.inner.options.call_timeout / 2;
        let result = self
            .call("compaction point", |c| {
                let key = key.clone();
                async move {
                    let mut stream = c
                        .watch_client()
                        .watch(key, Some(WatchOptions::new().with_start_revision(start)))
                        .await?;
                    loop {
                        match timeout(wait, stream.message()).await {
                            Ok(Ok(Some(m))) if m.canceled() => return Ok(m.compact_revision()),
                            Ok(Ok(Some(m))) if m.created() => continue,
                            // Events, or silence: not compacted after all.
                            Ok(Ok(Some(_))) | Err(_) => return Ok(0),
                            Ok(Ok(None)) => {
                                return Err(etcd_client::Error::WatchError(
                                    "the watch closed".to_owned(),
                                ));
                            }
                            Ok(Err(e)) => return Err(e),
                        }
                    }
                }
            })
            .await;
        match result {
            Ok((point, _)) if point > 0 => to_u64(point),
            _ => at.saturating_add(1),
        }
    }

    /// The error for a read at `requested` that etcd refused with `e`.
    async fn revision_error(
        &self,
        what: &str,
        requested: Revision,
        e: &etcd_client::Error,
    ) -> StoreError {
        match range_error(e) {
            Some(RangeError::Compacted) => StoreError::Compacted {
                requested,
                compacted: self.compaction_point(requested).await,
            },
            Some(RangeError::Future) => match self.revision().await {
                Ok(current) => StoreError::FutureRevision { requested, current },
                Err(e) => e,
            },
            None => refused(what, e),
        }
    }

    /// Opens a watch of every document change after `after` on the first endpoint that
    /// answers.
    async fn open_watch(&self, after: Revision) -> Result<Opened, StoreError> {
        let key = self.docs_root();
        let start = to_i64(after.saturating_add(1));
        let (opened, attempts) = self
            .call("watch", |c| {
                let key = key.clone();
                async move {
                    let mut stream = c
                        .watch_client()
                        .max_decoding_message_size(MAX_RESPONSE_BYTES)
                        .watch(
                            key,
                            Some(WatchOptions::new().with_prefix().with_start_revision(start)),
                        )
                        .await?;
                    // The first answer says whether the watch was created.
                    match stream.message().await? {
                        Some(m) if m.canceled() && m.compact_revision() > 0 => {
                            Ok(Opened::Compacted(to_u64(m.compact_revision())))
                        }
                        Some(m) if m.created() && !m.canceled() => {
                            Ok(Opened::Stream(Box::new(stream), 0))
                        }
                        Some(m) => Err(etcd_client::Error::WatchError(format!(
                            "the watch was not created: {:?}",
                            m.cancel_reason()
                        ))),
                        None => Err(etcd_client::Error::WatchError(
                            "the watch closed before it was created".to_owned(),
                        )),
                    }
                }
            })
            .await
            .map_err(|f| f.into_store("watch"))?;
        Ok(match opened {
            Opened::Stream(stream, _) => Opened::Stream(stream, attempts.endpoint),
            compacted => compacted,
        })
    }

    /// Feeds `sender` from `stream`, resuming on another endpoint when it breaks.
    async fn follow(
        self,
        mut stream: Box<WatchStream>,
        mut endpoint: usize,
        after: Revision,
        sender: mpsc::Sender<Result<Event, StoreError>>,
    ) {
        let mut last = after;
        let mut asked_progress = false;
        loop {
            let wait = if asked_progress {
                self.inner.options.call_timeout
            } else {
                self.inner.options.watch_idle
            };
            let message = tokio::select! {
                m = timeout(wait, stream.message()) => m,
                () = sender.closed() => return,
            };
            let broken = match message {
                Ok(Ok(Some(resp))) => {
                    asked_progress = false;
                    if resp.canceled() {
                        if resp.compact_revision() > 0 {
                            let _ = sender
                                .send(Err(StoreError::Compacted {
                                    requested: last,
                                    compacted: to_u64(resp.compact_revision()),
                                }))
                                .await;
                            return;
                        }
                        format!("etcd cancelled the watch: {:?}", resp.cancel_reason())
                    } else {
                        for event in resp.events() {
                            let item = self.event(event);
                            let stop = item.is_err();
                            if let Ok(e) = &item {
                                last = last.max(e.revision);
                            }
                            if sender.send(item).await.is_err() || stop {
                                return;
                            }
                        }
                        continue;
                    }
                }
                Ok(Ok(None)) => "the stream ended".to_owned(),
                Ok(Err(e)) => e.to_string(),
                Err(_) if !asked_progress => {
                    // Silence: ask for progress, which a live member answers at once.
                    asked_progress = true;
                    match stream.request_progress().await {
                        Ok(()) => continue,
                        Err(e) => e.to_string(),
                    }
                }
                Err(_) => "no answer to a progress request".to_owned(),
            };
            tracing::info!(endpoint = %self.inner.members[endpoint].url, reason = %broken, after = last, "etcd watch broken; resuming");
            self.inner.watch_resumes.fetch_add(1, Ordering::Relaxed);
            // Send the next calls elsewhere first, if nothing else moved them yet.
            let n = self.inner.members.len();
            let _ = self.inner.preferred.compare_exchange(
                endpoint,
                (endpoint + 1) % n,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            match self.open_watch(last).await {
                Ok(Opened::Stream(s, i)) => {
                    stream = s;
                    endpoint = i;
                    asked_progress = false;
                }
                Ok(Opened::Compacted(compacted)) => {
                    let _ = sender
                        .send(Err(StoreError::Compacted {
                            requested: last,
                            compacted,
                        }))
                        .await;
                    return;
                }
                Err(e) => {
                    let _ = sender.send(Err(e)).await;
                    return;
                }
            }
        }
    }

    fn event(&self, event: &etcd_client::Event) -> Result<Event, StoreError> {
        let kv = event
            .kv()
            .ok_or_else(|| StoreError::Data("an etcd watch event without a key".to_owned()))?;
        let key = self.parse_doc_key(kv.key())?;
        let value = match event.event_type() {
            EventType::Put => Some(
                std::str::from_utf8(kv.value())
                    .map_err(|e| {
                        StoreError::Data(format!("{key}: the stored value is not UTF-8: {e}"))
                    })?
                    .to_owned(),
            ),
            EventType::Delete => None,
        };
        Ok(Event {
            revision: to_u64(kv.mod_revision()),
            key,
            value,
        })
    }

    /// The claim on `key` and its term, if the election has a holder.
    async fn read_claim(&self, key: &str) -> Result<Option<(Claim, u64)>, StoreError> {
        self.get_raw("election read", key)
            .await?
            .map(|kv| parse_claim(key, &kv))
            .transpose()
    }

    /// Keeps lease `id` alive once: `false` when it is gone.
    async fn keep_alive(&self, id: i64) -> Result<bool, StoreError> {
        let result = self
            .call("lease renewal", |c| async move {
                c.lease_client().keep_alive(id).await.map(|_| ())
            })
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(Failure::Refused(e)) if lease_gone(&e) => Ok(false),
            Err(f) => Err(f.into_store("lease renewal")),
        }
    }

    /// Revokes lease `id`; a lease already gone is fine.
    async fn revoke(&self, id: i64) -> Result<(), StoreError> {
        let result = self
            .call("lease revocation", |c| async move {
                c.lease_client().revoke(id).await.map(|_| ())
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(Failure::Refused(e)) if lease_gone(&e) => Ok(()),
            Err(f) => Err(f.into_store("lease revocation")),
        }
    }

    /// Deletes `key` if it is still the incarnation created at `term`.
    async fn delete_claim(&self, key: &str, term: u64) -> Result<(), StoreError> {
        let request = EtcdTxn::new()
            .when([Compare::create_revision(
                key,
                CompareOp::Equal,
                to_i64(term),
            )])
            .and_then([TxnOp::delete(key, None)]);
        self.send("election release", &request)
            .await
            .map_err(|f| f.into_store("election release"))?;
        Ok(())
    }
}

/// What [`EtcdStore::open_watch`] found.
enum Opened {
    /// A created watch, and the endpoint it runs on.
    Stream(Box<WatchStream>, usize),
    /// The start was compacted away; etcd keeps revisions from this one.
    Compacted(Revision),
}

/// An etcd transaction for a [`Txn`].
struct Plan {
    request: EtcdTxn,
    /// The keys the failure branch reads, in order.
    reads: Vec<String>,
    /// Whether it writes (else its success branch reads `<prefix>revision`).
    writes: bool,
}

fn expect_compares(key: &str, expect: Expect, must_exist: bool, out: &mut Vec<Compare>) {
    let exists = || Compare::create_revision(key, CompareOp::Greater, 0);
    match expect {
        Expect::Any => {
            if must_exist {
                out.push(exists());
            }
        }
        Expect::Absent => {
            out.push(Compare::create_revision(key, CompareOp::Equal, 0));
            if must_exist {
                out.push(exists());
            }
        }
        Expect::Exists => out.push(exists()),
        Expect::At(r) => {
            out.push(Compare::mod_revision(key, CompareOp::Equal, to_i64(r)));
            if r == 0 || must_exist {
                // An absent key has mod revision 0 in etcd, but no key is "at 0".
                out.push(exists());
            }
        }
    }
}

/// The KV client of `client`, reading answers up to [`MAX_RESPONSE_BYTES`].
fn kv(client: &Client) -> KvClient {
    client
        .kv_client()
        .max_decoding_message_size(MAX_RESPONSE_BYTES)
}

fn lease_gone(e: &etcd_client::Error) -> bool {
    match e {
        etcd_client::Error::LeaseKeepAliveError(m) => m.contains("not found"),
        other => grpc_code(other) == Some(GRPC_NOT_FOUND),
    }
}

fn parse_claim(key: &str, kv: &KeyValue) -> Result<(Claim, u64), StoreError> {
    let claim: Claim = serde_json::from_slice(kv.value()).map_err(|e| {
        StoreError::Data(format!(
            "etcd key {key} does not hold an election claim: {e}"
        ))
    })?;
    Ok((claim, to_u64(kv.create_revision())))
}

/// The range answers of a transaction branch that only reads.
fn ranges(resp: &TxnResponse) -> Result<Vec<GetResponse>, StoreError> {
    resp.op_responses()
        .into_iter()
        .map(|r| match r {
            TxnOpResponse::Get(g) => Ok(g),
            _ => Err(StoreError::Data(
                "etcd answered a read with something else".to_owned(),
            )),
        })
        .collect()
}

#[async_trait]
impl ConfigStore for EtcdStore {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        check_key_id(&key.id)?;
        self.get_raw("get", &self.doc_key(key))
            .await?
            .map(|kv| self.record(&kv))
            .transpose()
    }

    async fn list(&self, kind: Kind, at: Option<Revision>) -> Result<Listing, StoreError> {
        let mut range = GetOptions::new().with_prefix();
        if let Some(at) = at {
            // etcd reads revision 0 as "now"; at 1 nothing was ever written.
            range = range.with_revision(to_i64(at.max(1)));
        }
        let request = EtcdTxn::new().and_then([
            TxnOp::get(self.revision_key(), None),
            TxnOp::get(self.docs_prefix(kind), Some(range)),
        ]);
        let resp = match self.send("list", &request).await {
            Ok((resp, _)) => resp,
            Err(Failure::Refused(e)) => {
                return Err(match at {
                    Some(at) => self.revision_error("list", at, &e).await,
                    None => refused("list", &e),
                });
            }
            Err(f) => return Err(f.into_store("list")),
        };
        let gets = ranges(&resp)?;
        let [revision, docs] = gets.as_slice() else {
            return Err(StoreError::Data(
                "etcd answered a listing with the wrong number of reads".to_owned(),
            ));
        };
        let current = revision
            .kvs()
            .first()
            .map(|kv| to_u64(kv.mod_revision()))
            .unwrap_or(0);
        let records = docs
            .kvs()
            .iter()
            .map(|kv| self.record(kv))
            .collect::<Result<Vec<_>, _>>()?;
        match at {
            None => Ok(Listing {
                revision: current,
                records,
            }),
            Some(at) if at > current => Err(StoreError::FutureRevision {
                requested: at,
                current,
            }),
            Some(at) => Ok(Listing {
                revision: at,
                records,
            }),
        }
    }

    async fn txn(&self, txn: Txn) -> Result<Revision, StoreError> {
        txn.check()?;
        let id = txn_id();
        let plan = self.plan(&txn, &id);
        let lower = to_i64(self.inner.seen.load(Ordering::Acquire));
        let (resp, uncertain) = self
            .send("transaction", &plan.request)
            .await
            .map_err(|f| f.into_store("transaction"))?;
        self.outcome(&txn, &plan, &id, lower, &resp, uncertain)
            .await
    }

    async fn revision(&self) -> Result<Revision, StoreError> {
        Ok(self
            .get_raw("revision", &self.revision_key())
            .await?
            .map(|kv| to_u64(kv.mod_revision()))
            .unwrap_or(0))
    }

    async fn watch(&self, after: Revision) -> Result<Watch, StoreError> {
        let (stream, endpoint) = match self.open_watch(after).await? {
            Opened::Stream(stream, endpoint) => (stream, endpoint),
            Opened::Compacted(compacted) => {
                return Err(StoreError::Compacted {
                    requested: after,
                    compacted,
                });
            }
        };
        let (sender, watch) = Watch::channel();
        tokio::spawn(self.clone().follow(stream, endpoint, after, sender));
        Ok(watch)
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        let current = self.revision().await?;
        if revision > current {
            return Err(StoreError::FutureRevision {
                requested: revision,
                current,
            });
        }
        if revision == 0 {
            return Ok(());
        }
        let result = self
            .call("compaction", |c| async move {
                kv(&c).compact(to_i64(revision), None).await
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(Failure::Refused(e)) => match range_error(&e) {
                // Already compacted that far: nothing to do, as in SQLite.
                Some(RangeError::Compacted) => Ok(()),
                Some(RangeError::Future) => Err(StoreError::FutureRevision {
                    requested: revision,
                    current,
                }),
                None => Err(refused("compaction", &e)),
            },
            Err(f) => Err(f.into_store("compaction")),
        }
    }

    async fn acquire(
        &self,
        election: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseState, StoreError> {
        check_election_name(election)?;
        let key = self.election_key(election);
        let seconds = ttl
            .as_secs()
            .saturating_add(u64::from(ttl.subsec_nanos() > 0));
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX).max(1);
        for _ in 0..ACQUIRE_ROUNDS {
            match self.read_claim(&key).await? {
                Some((claim, term)) if claim.holder != holder => {
                    return Ok(LeaseState {
                        holder: claim.holder,
                        term,
                        acquired: false,
                    });
                }
                Some((claim, term)) => {
                    if self.keep_alive(claim.lease).await? {
                        return Ok(LeaseState {
                            holder: holder.to_owned(),
                            term,
                            acquired: true,
                        });
                    }
                    // The lease lapsed since the read: etcd deletes the key; help it.
                    self.delete_claim(&key, term).await?;
                }
                None => {
                    let (grant, _) = self
                        .call("lease grant", |c| async move {
                            c.lease_client().grant(seconds, None).await
                        })
                        .await
                        .map_err(|f| f.into_store("lease grant"))?;
                    let lease = grant.id();
                    let value = serde_json::to_string(&Claim {
                        holder: holder.to_owned(),
                        lease,
                    })
                    .map_err(|e| StoreError::Data(e.to_string()))?;
                    let request = EtcdTxn::new()
                        .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
                        .and_then([TxnOp::put(
                            key.as_str(),
                            value,
                            Some(PutOptions::new().with_lease(lease)),
                        )])
                        .or_else([TxnOp::get(key.as_str(), None)]);
                    let (resp, _) = self
                        .send("election", &request)
                        .await
                        .map_err(|f| f.into_store("election"))?;
                    if resp.succeeded() {
                        return Ok(LeaseState {
                            holder: holder.to_owned(),
                            term: header_revision(resp.header()),
                            acquired: true,
                        });
                    }
                    let now = ranges(&resp)?
                        .first()
                        .and_then(|g| g.kvs().first().cloned());
                    if let Some(kv) = &now {
                        let (claim, term) = parse_claim(&key, kv)?;
                        if claim.lease == lease {
                            // An attempt that timed out did create it.
                            return Ok(LeaseState {
                                holder: holder.to_owned(),
                                term,
                                acquired: true,
                            });
                        }
                    }
                    // Someone was quicker; read again who.
                    self.revoke(lease).await?;
                }
            }
        }
        Err(StoreError::Unavailable(format!(
            "election {election:?}: the lease changed hands {ACQUIRE_ROUNDS} times while acquiring it; try again"
        )))
    }

    async fn release(&self, election: &str, holder: &str, term: u64) -> Result<(), StoreError> {
        check_election_name(election)?;
        let key = self.election_key(election);
        let Some((claim, created)) = self.read_claim(&key).await? else {
            return Ok(());
        };
        if claim.holder != holder || created != term {
            return Ok(());
        }
        self.delete_claim(&key, term).await?;
        self.revoke(claim.lease).await
    }

    fn describe(&self) -> String {
        format!(
            "etcd:{} (prefix {})",
            self.endpoints_text(),
            self.inner.prefix
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use alert_testkit::etcd::{Etcd, EtcdCluster};
    use tokio::time::Instant;

    use super::*;
    use crate::store::SharedStore;

    crate::store_conformance!(async {
        let etcd = tokio::task::spawn_blocking(Etcd::start).await.unwrap();
        let store = EtcdStore::connect(&etcd.endpoints(), "/t/").await.unwrap();
        (Arc::new(store) as SharedStore, etcd)
    });

    mod three_members {
        use super::*;

        crate::store_conformance!(async {
            let cluster = tokio::task::spawn_blocking(|| EtcdCluster::start(3))
                .await
                .unwrap();
            let store = EtcdStore::connect(&cluster.endpoints(), "/t/")
                .await
                .unwrap();
            (Arc::new(store) as SharedStore, cluster)
        });
    }

    fn put(id: &str, value: &str, expect: Expect) -> Txn {
        Txn::new(vec![Op::Put {
            key: Key::new(Kind::Condition, id).unwrap(),
            value: value.to_owned(),
            expect,
        }])
    }

    #[test]
    fn urls_are_parsed() {
        let e = parse_endpoint("http://root:p%40ss@h1:2379/team-a").unwrap();
        assert_eq!(e.url, "http://h1:2379");
        assert_eq!(e.user, Some(("root".to_owned(), "p@ss".to_owned())));
        assert_eq!(e.path.as_deref(), Some("/team-a"));
        assert_eq!(parse_endpoint("http://h:1/").unwrap().path, None);
        assert!(parse_endpoint("h:2379").is_err());
        assert!(parse_endpoint("https://h:2379").is_err());
        assert!(parse_endpoint("http:///x").is_err());
        assert_eq!(normalize_prefix("").unwrap(), DEFAULT_PREFIX);
        assert_eq!(normalize_prefix("/team-a").unwrap(), "/team-a/");
        assert_eq!(normalize_prefix("a/b/").unwrap(), "/a/b/");
        assert!(normalize_prefix("/a b/").is_err());
        let err = parse_endpoint("ftp://u:hunter2@h").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn expectations_become_compares() {
        let count = |expect, must_exist| {
            let mut out = Vec::new();
            expect_compares("k", expect, must_exist, &mut out);
            out.len()
        };
        assert_eq!(count(Expect::Any, false), 0);
        assert_eq!(count(Expect::Any, true), 1);
        assert_eq!(count(Expect::Absent, false), 1);
        assert_eq!(count(Expect::Exists, true), 1);
        assert_eq!(count(Expect::At(3), false), 1);
        assert_eq!(count(Expect::At(0), false), 2, "no key is at revision 0");
        assert_ne!(txn_id(), txn_id());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn urls_name_the_prefix_and_hide_credentials() {
        let etcd = tokio::task::spawn_blocking(Etcd::start).await.unwrap();
        let url = format!("{}/team-a", etcd.client_url());
        let store = EtcdStore::connect_url(&url).await.unwrap();
        assert_eq!(store.prefix(), "/team-a/");
        let r = store.txn(put("a", "1", Expect::Absent)).await.unwrap();
        let raw = blocking(|| etcd.get("/team-a/docs/conditions/a"));
        assert_eq!(raw.as_deref(), Some("1"));
        assert_eq!(store.revision().await.unwrap(), r);
        let described = store.describe();
        assert!(described.contains(&etcd.client_url()) && described.contains("/team-a/"));
        let err = EtcdStore::connect_url("http://u:hunter2@h1:1,http://u:other@h2:1")
            .await
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    /// Runs a blocking test-kit call (process control) without stalling the runtime.
    fn blocking<T>(f: impl FnOnce() -> T) -> T {
        tokio::task::block_in_place(f)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acknowledged_writes_survive_a_leader_kill_and_no_quorum_is_unavailable() {
        let mut cluster = blocking(|| EtcdCluster::start(3));
        let endpoints = cluster.endpoints();
        let store = Arc::new(EtcdStore::connect(&endpoints, "/f/").await.unwrap());
        let quick = EtcdStore::connect_with(
            &endpoints,
            "/f/",
            EtcdOptions::new().deadline(Duration::from_secs(3)),
        )
        .await
        .unwrap();

        // A writer creating key after key, recording what the store acknowledged.
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicUsize::new(0));
        let writer = tokio::spawn({
            let (store, stop, acked) = (Arc::clone(&store), Arc::clone(&stop), Arc::clone(&acked));
            async move {
                let mut log = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let (id, value) = (format!("w{i}"), format!("value {i}"));
                    let result = store.txn(put(&id, &value, Expect::Absent)).await;
                    if result.is_ok() {
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                    log.push((id, value, Instant::now(), result));
                }
                log
            }
        });
        let wait_for_acks = |n: usize| {
            let acked = Arc::clone(&acked);
            async move {
                let deadline = Instant::now() + Duration::from_secs(20);
                while acked.load(Ordering::Relaxed) < n {
                    assert!(
                        Instant::now() < deadline,
                        "only {acked:?} writes acknowledged"
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        wait_for_acks(20).await;
        let leader = blocking(|| cluster.wait_for_leader());
        let killed_at = Instant::now();
        blocking(|| cluster.kill(leader));
        let before = acked.load(Ordering::Relaxed);
        wait_for_acks(before + 20).await;
        stop.store(true, Ordering::Relaxed);
        let log = writer.await.unwrap();

        let resumed = log
            .iter()
            .find(|(_, _, at, r)| *at > killed_at && r.is_ok())
            .map(|(_, _, at, _)| at.duration_since(killed_at))
            .unwrap();
        assert!(
            resumed < Duration::from_secs(5),
            "writes resumed after {resumed:?}"
        );
        for (id, value, _, result) in &log {
            match result {
                Ok(r) => {
                    let key = Key::new(Kind::Condition, id.as_str()).unwrap();
                    let got = store.get(&key).await.unwrap();
                    let got = got.unwrap_or_else(|| panic!("acknowledged {id} is missing"));
                    assert_eq!((&got.value, got.mod_revision), (value, *r), "{id}");
                }
                Err(e) => assert!(matches!(e, StoreError::Unavailable(_)), "{id}: {e:?}"),
            }
        }
        eprintln!(
            "failover: {} writes, {} acknowledged, first after the kill {resumed:?} later",
            log.len(),
            log.iter().filter(|l| l.3.is_ok()).count()
        );

        // One member of three: no quorum, an answer within the deadline all the same.
        let second = blocking(|| cluster.wait_for_leader());
        blocking(|| cluster.kill(second));
        let started = Instant::now();
        let err = quick
            .txn(put("no-quorum", "x", Expect::Absent))
            .await
            .unwrap_err();
        let took = started.elapsed();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(took < Duration::from_secs(5), "gave up after {took:?}");
        eprintln!("no quorum: {err} after {took:?}");

        blocking(|| cluster.restart(leader));
        let r = store
            .txn(put("after-restart", "y", Expect::Absent))
            .await
            .unwrap();
        assert!(r > 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_watch_survives_the_death_of_its_member() {
        let mut cluster = blocking(|| EtcdCluster::start(3));
        let store = EtcdStore::connect(&cluster.endpoints(), "/w/")
            .await
            .unwrap();
        let start = store.revision().await.unwrap();
        // The store calls the endpoint that answered last: the watch runs on it.
        let mut watch = store.watch(start).await.unwrap();
        let member = store.inner.preferred.load(Ordering::Relaxed);
        let mut written = Vec::new();
        for i in 0..5 {
            let r = store
                .txn(put(&format!("k{i}"), &i.to_string(), Expect::Any))
                .await;
            written.push((r.unwrap(), i.to_string()));
        }
        blocking(|| cluster.kill(member));
        for i in 5..10 {
            let r = store
                .txn(put(&format!("k{i}"), &i.to_string(), Expect::Absent))
                .await;
            written.push((r.unwrap(), i.to_string()));
        }
        let mut seen = Vec::new();
        while seen.len() < written.len() {
            let event = tokio::time::timeout(Duration::from_secs(15), watch.next())
                .await
                .expect("an event within 15 s")
                .expect("the watch is open")
                .expect("an event, not an error");
            seen.push((event.revision, event.value.unwrap_or_default()));
        }
        assert_eq!(seen, written, "every change once, in order");
        assert_eq!(
            store.watch_resumes(),
            1,
            "the watch ran on the member killed"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_watch_resumes_when_its_member_freezes() {
        let mut cluster = blocking(|| EtcdCluster::start(3));
        let options = EtcdOptions::new().watch_idle(Duration::from_millis(500));
        let store = EtcdStore::connect_with(&cluster.endpoints(), "/z/", options)
            .await
            .unwrap();
        let start = store.revision().await.unwrap();
        let mut watch = store.watch(start).await.unwrap();
        let member = store.inner.preferred.load(Ordering::Relaxed);
        let mut written = Vec::new();
        for i in 0..3 {
            let r = store.txn(put(&format!("k{i}"), "v", Expect::Absent)).await;
            written.push(r.unwrap());
        }
        // SIGSTOP: the member keeps its connections open and answers nothing.
        blocking(|| cluster.stop(member));
        for i in 3..6 {
            let r = store.txn(put(&format!("k{i}"), "v", Expect::Absent)).await;
            written.push(r.unwrap());
        }
        let mut seen = Vec::new();
        while seen.len() < written.len() {
            let event = tokio::time::timeout(Duration::from_secs(15), watch.next())
                .await
                .expect("an event within 15 s")
                .expect("the watch is open")
                .expect("an event, not an error");
            seen.push(event.revision);
        }
        assert_eq!(seen, written, "every change once, in order");
        assert!(store.watch_resumes() >= 1);
        blocking(|| cluster.cont(member));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_retried_write_that_was_applied_answers_its_revision() {
        let etcd = tokio::task::spawn_blocking(Etcd::start).await.unwrap();
        let store = EtcdStore::connect(&etcd.endpoints(), "/r/").await.unwrap();
        let txn = put("a", "1", Expect::Absent);
        let id = txn_id();
        let plan = store.plan(&txn, &id);
        let lower = to_i64(store.inner.seen.load(Ordering::Acquire));
        // The first attempt is applied, but its answer is lost.
        let (first, _) = store.send("test", &plan.request).await.ok().unwrap();
        assert!(first.succeeded());
        let applied = header_revision(first.header());
        // Other writes come between it and the retry.
        for id in ["b", "c"] {
            store.txn(put(id, "2", Expect::Absent)).await.unwrap();
        }
        let (retry, _) = store.send("test", &plan.request).await.ok().unwrap();
        assert!(!retry.succeeded(), "create-only, and the key exists");
        let answer = store.outcome(&txn, &plan, &id, lower, &retry, true).await;
        assert_eq!(answer, Ok(applied), "the retry finds its own write");
        let conflict = StoreError::Conflict {
            key: Key::new(Kind::Condition, "a").unwrap(),
            expected: Expect::Absent,
            actual: Some(applied),
        };
        let answer = store.outcome(&txn, &plan, &id, lower, &retry, false).await;
        assert_eq!(answer, Err(conflict.clone()), "without doubt, a conflict");
        // Another writer's retry of the same operation is a conflict.
        let other_id = txn_id();
        let other = store.plan(&txn, &other_id);
        let (resp, _) = store.send("test", &other.request).await.ok().unwrap();
        let answer = store
            .outcome(&txn, &other, &other_id, lower, &resp, true)
            .await;
        assert_eq!(answer, Err(conflict));
        // A checks-only transaction answers the store's revision, not etcd's.
        store
            .acquire("e", "x", Duration::from_secs(5))
            .await
            .unwrap();
        let checks = Txn::new(vec![Op::Check {
            key: Key::new(Kind::Condition, "a").unwrap(),
            expect: Expect::Exists,
        }]);
        let r = store.txn(checks).await.unwrap();
        assert_eq!(r, store.revision().await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_elector_keeps_renewing_and_its_successor_fences_it() {
        use crate::election::Elector;
        let etcd = tokio::task::spawn_blocking(Etcd::start).await.unwrap();
        let store: SharedStore =
            Arc::new(EtcdStore::connect(&etcd.endpoints(), "/e/").await.unwrap());
        let ttl = Duration::from_secs(1);
        let a = Elector::new(Arc::clone(&store), "cp", "a", ttl).unwrap();
        let b = Elector::new(Arc::clone(&store), "cp", "b", ttl).unwrap();
        let lead = a.campaign().await.unwrap();
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert!(b.try_acquire().await.unwrap().is_none(), "a renews");
            assert!(lead.is_current());
        }
        let fence = lead.fence();
        drop(lead);
        let next = tokio::time::timeout(Duration::from_secs(5), b.campaign())
            .await
            .unwrap()
            .unwrap();
        assert!(next.term() > fence.term);
        let err = store
            .txn(put("x", "1", Expect::Any).fenced(Some(fence)))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Fenced { .. }), "{err:?}");
        store
            .txn(put("x", "1", Expect::Any).fenced(Some(next.fence())))
            .await
            .unwrap();
    }
}
