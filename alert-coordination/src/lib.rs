//! Which replica acts: leader election with **terms**, shared by the gateway's control
//! plane and evaluator and by the health graph's evaluator.
//!
//! A [`LeaderElection`] answers whether a candidate leads and in which term. Terms grow
//! with every new holder, so a term is a fencing token: an action taken on behalf of a
//! term is checked against the election right before it happens
//! ([`LeaderElection::holds`]), and a store that knows the election (the gateway's SQLite
//! and etcd stores) refuses writes of a superseded term in the write's own transaction.
//! [`LocalLease`] is the in-process implementation; `alert_gateway::election::StoreLease`
//! puts the election in the gateway's store, so replicas in other processes take part.
//!
//! ```
//! use std::time::Duration;
//! use alert_coordination::{LeaderElection, LocalLease};
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build()?.block_on(async {
//! let lease = LocalLease::new(Duration::from_secs(30));
//! let term = lease.lead("a").await.expect("a free lease is taken");
//! assert_eq!(lease.lead("b").await, None);
//! assert!(lease.holds("a", term).await);
//! tokio::time::advance(Duration::from_secs(31)).await; // "a" stopped renewing
//! let next = lease.lead("b").await.expect("a lapsed lease is taken over");
//! assert!(next > term);
//! assert!(!lease.holds("a", term).await, "a's term is superseded");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "library code returns errors; tests may unwrap"
    )
)]

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

/// Decides which candidate may act, and in which term.
#[async_trait]
pub trait LeaderElection: Send + Sync {
    /// The term `candidate` leads in now, or `None`; a leader's call renews its lead.
    async fn lead(&self, candidate: &str) -> Option<u64>;

    /// Whether `candidate` still holds `term` (no newer term exists and its lease has not
    /// lapsed): asked right before acting on behalf of the term.
    async fn holds(&self, candidate: &str, term: u64) -> bool;

    /// Gives up the lead, if `candidate` holds it.
    async fn resign(&self, candidate: &str);
}

/// An in-process lease with terms.
#[derive(Debug)]
pub struct LocalLease {
    ttl: Duration,
    state: Mutex<LeaseState>,
}

#[derive(Debug, Default)]
struct LeaseState {
    holder: Option<(String, Instant)>,
    term: u64,
}

impl LocalLease {
    /// A free lease that lasts `ttl` after each renewal.
    pub fn new(ttl: Duration) -> LocalLease {
        LocalLease {
            ttl,
            state: Mutex::new(LeaseState::default()),
        }
    }

    /// The current holder, if the lease has not expired.
    pub fn holder(&self) -> Option<String> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state
            .holder
            .as_ref()
            .filter(|(_, until)| *until > Instant::now())
            .map(|(h, _)| h.clone())
    }

    /// The newest term (0 before anyone led).
    pub fn term(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).term
    }
}

#[async_trait]
impl LeaderElection for LocalLease {
    async fn lead(&self, candidate: &str) -> Option<u64> {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let renewal = match state.holder.as_ref() {
            None => false,
            Some((h, until)) if h == candidate && *until > now => true,
            Some((_, until)) if *until > now => return None,
            Some(_) => false,
        };
        if !renewal {
            state.term += 1;
        }
        state.holder = Some((candidate.to_owned(), now + self.ttl));
        Some(state.term)
    }

    async fn holds(&self, candidate: &str, term: u64) -> bool {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.term == term
            && state
                .holder
                .as_ref()
                .is_some_and(|(h, until)| h == candidate && *until > Instant::now())
    }

    async fn resign(&self, candidate: &str) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.holder.as_ref().is_some_and(|(h, _)| h == candidate) {
            state.holder = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn terms_grow_with_each_new_holder_only() {
        let lease = LocalLease::new(Duration::from_secs(10));
        let t1 = lease.lead("a").await.unwrap();
        assert_eq!(lease.lead("a").await, Some(t1), "a renewal keeps the term");
        lease.resign("a").await;
        let t2 = lease.lead("a").await.unwrap();
        assert!(t2 > t1, "leading again after resigning is a new term");
        lease.resign("b").await;
        assert_eq!(
            lease.holder().as_deref(),
            Some("a"),
            "only the holder resigns"
        );
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(!lease.holds("a", t2).await, "a lapsed lease is not held");
        let t3 = lease.lead("b").await.unwrap();
        assert!(t3 > t2);
        assert_eq!(lease.term(), t3);
    }
}
