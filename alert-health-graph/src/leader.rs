//! Only one evaluator acts: leader election (needs the `runtime` feature).
//!
//! Several evaluators may run the same graph (for availability); all evaluate and serve
//! status pages, but only the leader posts alerts. [`LeaderElection`] is the seam for a
//! distributed implementation (a Kubernetes Lease, a database lock); [`LocalLease`] is
//! the in-process default: a lease held by one candidate at a time, renewed on every
//! call, taken over by another candidate only after it expired.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

/// Decides which candidate may act.
#[async_trait]
pub trait LeaderElection: Send + Sync {
    /// Whether `candidate` leads now; a leader's call renews its lead.
    async fn is_leader(&self, candidate: &str) -> bool;

    /// Gives up the lead, if `candidate` holds it.
    async fn resign(&self, candidate: &str);
}

/// An in-process lease.
///
/// ```
/// use std::time::Duration;
/// use alert_health_graph::{LeaderElection, LocalLease};
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build()?.block_on(async {
/// let lease = LocalLease::new(Duration::from_secs(30));
/// assert!(lease.is_leader("a").await);
/// assert!(!lease.is_leader("b").await);
/// tokio::time::advance(Duration::from_secs(31)).await; // "a" stopped renewing
/// assert!(lease.is_leader("b").await);
/// assert!(!lease.is_leader("a").await);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct LocalLease {
    ttl: Duration,
    holder: Mutex<Option<(String, Instant)>>,
}

impl LocalLease {
    /// A free lease that lasts `ttl` after each renewal.
    pub fn new(ttl: Duration) -> LocalLease {
        LocalLease {
            ttl,
            holder: Mutex::new(None),
        }
    }

    /// The current holder, if the lease has not expired.
    pub fn holder(&self) -> Option<String> {
        let holder = self.holder.lock().unwrap_or_else(|e| e.into_inner());
        holder
            .as_ref()
            .filter(|(_, until)| *until > Instant::now())
            .map(|(h, _)| h.clone())
    }
}

#[async_trait]
impl LeaderElection for LocalLease {
    async fn is_leader(&self, candidate: &str) -> bool {
        let now = Instant::now();
        let mut holder = self.holder.lock().unwrap_or_else(|e| e.into_inner());
        let free = match holder.as_ref() {
            None => true,
            Some((h, until)) => h == candidate || *until <= now,
        };
        if free {
            *holder = Some((candidate.to_owned(), now + self.ttl));
        }
        free
    }

    async fn resign(&self, candidate: &str) {
        let mut holder = self.holder.lock().unwrap_or_else(|e| e.into_inner());
        if holder.as_ref().is_some_and(|(h, _)| h == candidate) {
            *holder = None;
        }
    }
}
