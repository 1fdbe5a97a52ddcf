//! Leader election with fencing tokens, over any [`ConfigStore`](crate::store::ConfigStore)'s leases.
//!
//! The control plane and the evaluator run in several replicas; one leads. An [`Elector`]
//! campaigns for an election's lease in the store; the winner gets a [`Leadership`]
//! whose **term** grows with every new holder. Every store write the leader makes on
//! behalf of its term carries [`Leadership::fence`], and the store refuses it once a newer
//! term exists (SQLite: the election row is read in the write's transaction; etcd: the
//! transaction compares the election key's create revision). So a leader that was paused
//! past its lease (SIGSTOP, a long GC, a partition) and resumes can never overwrite what
//! its successor wrote.
//!
//! The leader renews every `ttl / 3`. It counts itself lost as soon as it cannot prove it
//! still holds the lease: a renewal answered with another holder, or no successful
//! renewal within `ttl` of the last one's start (measured on its own monotonic clock, so
//! it gives up no later than the store's lease lapses).
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use alert_gateway::election::Elector;
//! use alert_gateway::store::{SharedStore, sqlite::SqliteStore};
//!
//! let dir = tempfile::tempdir()?;
//! let store: SharedStore = Arc::new(SqliteStore::open(&dir.path().join("g.db"))?);
//! let a = Elector::new(Arc::clone(&store), "control-plane", "replica-a", Duration::from_secs(5))?;
//! let b = Elector::new(store, "control-plane", "replica-b", Duration::from_secs(5))?;
//! let lead = a.campaign().await?;
//! assert!(b.try_acquire().await?.is_none(), "a leads");
//! let term = lead.term();
//! lead.resign().await;
//! let next = b.campaign().await?;
//! assert!(next.term() > term);
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alert_coordination::LeaderElection;
use async_trait::async_trait;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until};

use crate::store::{Fence, SharedStore, StoreError, check_election_name};

/// The shortest lease accepted (etcd's leases have a 1 s granularity).
pub const MIN_TTL: Duration = Duration::from_secs(1);

/// A candidate in one election.
#[derive(Debug, Clone)]
pub struct Elector {
    store: SharedStore,
    election: String,
    holder: String,
    ttl: Duration,
}

impl Elector {
    /// A candidate `holder` for `election`, holding leases for `ttl` (at least
    /// [`MIN_TTL`]).
    pub fn new(
        store: SharedStore,
        election: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Elector, StoreError> {
        check_election_name(election)?;
        if holder.is_empty() || holder.len() > 253 {
            return Err(StoreError::Invalid(
                "a candidate's name has 1 to 253 bytes".to_owned(),
            ));
        }
        if ttl < MIN_TTL {
            return Err(StoreError::Invalid(format!(
                "a lease lasts at least {MIN_TTL:?}, not {ttl:?}"
            )));
        }
        Ok(Elector {
            store,
            election: election.to_owned(),
            holder: holder.to_owned(),
            ttl,
        })
    }

    /// The election's name.
    pub fn election(&self) -> &str {
        &self.election
    }

    /// This candidate's name.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// One attempt: the leadership if the lease was free (or already ours), else `None`.
    pub async fn try_acquire(&self) -> Result<Option<Leadership>, StoreError> {
        let started = Instant::now();
        let state = self
            .store
            .acquire(&self.election, &self.holder, self.ttl)
            .await?;
        if !state.acquired {
            return Ok(None);
        }
        Ok(Some(Leadership::start(self.clone(), state.term, started)))
    }

    /// Waits until this candidate leads, retrying every `ttl / 3` or 250 ms, whichever is
    /// shorter (store errors are logged and retried).
    pub async fn campaign(&self) -> Result<Leadership, StoreError> {
        loop {
            match self.try_acquire().await {
                Ok(Some(lead)) => {
                    tracing::info!(election = %self.election, holder = %self.holder, term = lead.term(), "leading");
                    return Ok(lead);
                }
                Ok(None) => {}
                Err(e @ (StoreError::Invalid(_) | StoreError::InvalidKey { .. })) => return Err(e),
                Err(e) => {
                    tracing::warn!(election = %self.election, error = %e, "campaign: store unavailable, retrying");
                }
            }
            sleep(self.retry_interval()).await;
        }
    }

    /// How often a follower asks again: a third of the lease, at most 250 ms, so that a
    /// lapsed lease is taken over quickly.
    fn retry_interval(&self) -> Duration {
        (self.ttl / 3).min(Duration::from_millis(250))
    }
}

/// The lead in one term. Dropping it stops renewing (the lease then lapses);
/// [`Leadership::resign`] frees it at once.
#[derive(Debug)]
pub struct Leadership {
    elector: Elector,
    term: u64,
    lost: watch::Receiver<bool>,
    renewer: JoinHandle<()>,
}

impl Leadership {
    fn start(elector: Elector, term: u64, acquired_at: Instant) -> Leadership {
        let (lost_tx, lost) = watch::channel(false);
        let renewer = tokio::spawn(renew(elector.clone(), term, acquired_at, lost_tx));
        Leadership {
            elector,
            term,
            lost,
            renewer,
        }
    }

    /// The term: this leadership's fencing token.
    pub fn term(&self) -> u64 {
        self.term
    }

    /// What writes on behalf of this term carry.
    pub fn fence(&self) -> Fence {
        Fence {
            election: self.elector.election.clone(),
            term: self.term,
        }
    }

    /// Whether the lead is still held, as far as this process can tell. The store's
    /// fence check is the real guarantee; this only lets the leader stop early.
    pub fn is_current(&self) -> bool {
        !*self.lost.borrow()
    }

    /// Resolves once the lead is lost.
    pub async fn lost(&mut self) {
        let _ = self.lost.wait_for(|lost| *lost).await;
    }

    /// A future that resolves once the lead is lost, for holders that share the
    /// leadership (`Arc<Leadership>`) and so cannot call [`Leadership::lost`].
    pub fn lost_signal(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut lost = self.lost.clone();
        async move {
            let _ = lost.wait_for(|lost| *lost).await;
        }
    }

    /// Gives the lead up now.
    pub async fn resign(self) {
        self.renewer.abort();
        if let Err(e) = self
            .elector
            .store
            .release(&self.elector.election, &self.elector.holder, self.term)
            .await
        {
            tracing::warn!(election = %self.elector.election, error = %e, "resign failed; the lease will lapse");
        }
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

async fn renew(elector: Elector, term: u64, mut valid_from: Instant, lost: watch::Sender<bool>) {
    let every = elector.ttl / 3;
    loop {
        let deadline = valid_from + elector.ttl;
        sleep_until((Instant::now() + every).min(deadline)).await;
        let started = Instant::now();
        let attempt = tokio::select! {
            r = elector.store.acquire(&elector.election, &elector.holder, elector.ttl) => Some(r),
            () = sleep_until(deadline) => None,
        };
        match attempt {
            Some(Ok(state)) if state.acquired && state.term == term => valid_from = started,
            Some(Ok(state)) => {
                tracing::warn!(election = %elector.election, term, holder = %state.holder, new_term = state.term, "lost the lead");
                let _ = lost.send(true);
                return;
            }
            Some(Err(e)) => {
                tracing::warn!(election = %elector.election, term, error = %e, "cannot renew the lead");
            }
            None => {}
        }
        if Instant::now() >= valid_from + elector.ttl {
            tracing::warn!(election = %elector.election, term, "lost the lead: no renewal within the lease");
            let _ = lost.send(true);
            return;
        }
    }
}

/// Marks one term of leadership of a deployment (`what`: "control plane",
/// "evaluator"): `set(true)` when made, `set(false)` and a warning when dropped, however
/// the leading future ends ([`run_while_leading`] drops it when the lead is lost).
pub struct TermMark<'a> {
    what: &'static str,
    term: u64,
    set: Box<dyn Fn(bool) + Send + Sync + 'a>,
}

impl<'a> TermMark<'a> {
    /// Marks term `term` of `what` as leading.
    pub fn new(what: &'static str, term: u64, set: impl Fn(bool) + Send + Sync + 'a) -> Self {
        set(true);
        TermMark {
            what,
            term,
            set: Box::new(set),
        }
    }
}

impl Drop for TermMark<'_> {
    fn drop(&mut self) {
        (self.set)(false);
        tracing::warn!(term = self.term, "{} no longer leads", self.what);
    }
}

/// Runs `work` whenever this candidate leads, for as long as it leads; campaigns again
/// after a loss. `work` gets the leadership (for its fence) and should return when
/// [`Leadership::lost`] resolves; it is dropped (cancelled) when the lead is lost.
pub async fn run_while_leading<F, Fut>(elector: Elector, mut work: F) -> Result<(), StoreError>
where
    F: FnMut(Arc<Leadership>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        let lead = elector.campaign().await?;
        let mut watcher = lead.lost.clone();
        let lead = Arc::new(lead);
        tokio::select! {
            () = work(Arc::clone(&lead)) => {}
            _ = watcher.wait_for(|lost| *lost) => {}
        }
        if let Ok(lead) = Arc::try_unwrap(lead)
            && lead.is_current()
        {
            lead.resign().await;
        }
    }
}

/// An election kept in the gateway's store, as the shared [`LeaderElection`] trait, so
/// that a health-graph evaluator (or anything else written against the trait) elects
/// across processes with the store's terms.
#[derive(Debug)]
pub struct StoreLease {
    store: SharedStore,
    election: String,
    ttl: Duration,
    terms: Mutex<HashMap<String, u64>>,
}

impl StoreLease {
    /// The election `election` in `store`, with leases of `ttl`.
    pub fn new(
        store: SharedStore,
        election: &str,
        ttl: Duration,
    ) -> Result<StoreLease, StoreError> {
        check_election_name(election)?;
        Ok(StoreLease {
            store,
            election: election.to_owned(),
            ttl: ttl.max(MIN_TTL),
            terms: Mutex::new(HashMap::new()),
        })
    }
}

#[async_trait]
impl LeaderElection for StoreLease {
    async fn lead(&self, candidate: &str) -> Option<u64> {
        match self
            .store
            .acquire(&self.election, candidate, self.ttl)
            .await
        {
            Ok(state) if state.acquired => {
                self.terms
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(candidate.to_owned(), state.term);
                Some(state.term)
            }
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(election = %self.election, error = %e, "cannot reach the election; not leading");
                None
            }
        }
    }

    async fn holds(&self, candidate: &str, term: u64) -> bool {
        matches!(
            self.store.acquire(&self.election, candidate, self.ttl).await,
            Ok(state) if state.acquired && state.term == term
        )
    }

    async fn resign(&self, candidate: &str) {
        let term = self
            .terms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(candidate);
        if let Some(term) = term
            && let Err(e) = self.store.release(&self.election, candidate, term).await
        {
            tracing::warn!(election = %self.election, error = %e, "resign failed; the lease will lapse");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{Expect, Key, Kind, Op, Txn};

    fn store() -> (SharedStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("g.db")).unwrap();
        (Arc::new(store), dir)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_leader_is_succeeded_and_fenced() {
        let (store, _dir) = store();
        let ttl = Duration::from_secs(1);
        let a = Elector::new(Arc::clone(&store), "cp", "a", ttl).unwrap();
        let b = Elector::new(Arc::clone(&store), "cp", "b", ttl).unwrap();
        let lead_a = a.campaign().await.unwrap();
        let fence_a = lead_a.fence();
        // a stops renewing (as if paused): b takes over once the lease lapses.
        drop(lead_a);
        let started = Instant::now();
        let lead_b = tokio::time::timeout(Duration::from_secs(5), b.campaign())
            .await
            .unwrap()
            .unwrap();
        assert!(
            started.elapsed() < ttl + Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
        assert!(lead_b.term() > fence_a.term);
        let key = Key::new(Kind::Condition, "x").unwrap();
        let write = |fence| {
            Txn::new(vec![Op::Put {
                key: key.clone(),
                value: "1".into(),
                expect: Expect::Any,
            }])
            .fenced(Some(fence))
        };
        let err = store.txn(write(fence_a)).await.unwrap_err();
        assert!(matches!(err, StoreError::Fenced { .. }), "{err:?}");
        store.txn(write(lead_b.fence())).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_leader_keeps_its_lead_by_renewing() {
        let (store, _dir) = store();
        let ttl = Duration::from_secs(1);
        let a = Elector::new(Arc::clone(&store), "cp", "a", ttl).unwrap();
        let b = Elector::new(store, "cp", "b", ttl).unwrap();
        let lead = a.campaign().await.unwrap();
        for _ in 0..6 {
            sleep(Duration::from_millis(400)).await;
            assert!(b.try_acquire().await.unwrap().is_none(), "a renews");
            assert!(lead.is_current());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_usurped_leader_notices() {
        let (store, _dir) = store();
        let ttl = Duration::from_secs(1);
        let a = Elector::new(Arc::clone(&store), "cp", "a", ttl).unwrap();
        let mut lead = a.campaign().await.unwrap();
        // Someone frees the lease behind a's back and b takes it.
        store.release("cp", "a", lead.term()).await.unwrap();
        let b = store
            .acquire("cp", "b", Duration::from_secs(30))
            .await
            .unwrap();
        assert!(b.acquired);
        tokio::time::timeout(Duration::from_secs(3), lead.lost())
            .await
            .expect("a notices within one renewal");
        assert!(!lead.is_current());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_shared_trait_elects_through_the_store() {
        let (store, _dir) = store();
        let a = StoreLease::new(Arc::clone(&store), "evaluator", Duration::from_secs(5)).unwrap();
        let b = StoreLease::new(store, "evaluator", Duration::from_secs(5)).unwrap();
        let term = a.lead("a").await.expect("a leads");
        assert_eq!(
            b.lead("b").await,
            None,
            "one store, one leader across instances"
        );
        assert!(a.holds("a", term).await);
        a.resign("a").await;
        let next = b.lead("b").await.expect("b leads after a resigned");
        assert!(next > term);
        assert!(!a.holds("a", term).await, "a's term is superseded");
    }

    #[test]
    fn candidates_are_checked() {
        let (store, _dir) = store();
        assert!(Elector::new(Arc::clone(&store), "a/b", "x", MIN_TTL).is_err());
        assert!(Elector::new(Arc::clone(&store), "ok", "", MIN_TTL).is_err());
        assert!(Elector::new(store, "ok", "x", Duration::from_millis(10)).is_err());
    }
}
