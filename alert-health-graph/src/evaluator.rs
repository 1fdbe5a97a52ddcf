//! The evaluator: runs the graph on an interval, keeps the state history, and posts
//! alerts for systems and services unhealthy for longer than their `for` (needs the
//! `runtime` feature; [`AlertmanagerSink`](crate::AlertmanagerSink), in
//! [`crate::alertmanager_sink`], needs `http`).
//!
//! Each pass reads every sensor once: the first pass computes a full snapshot, later
//! passes apply readings incrementally ([`Engine::update`]) and record the change log
//! in the [`StateHistory`]. The [`AlertTracker`] decides what to post; only the leader
//! ([`LeaderElection`]) posts. A resolution that could not be posted is retried on the
//! next pass; firing alerts are re-posted every pass anyway. The latest snapshot and
//! history are published on a watch channel for servers to render.
//!
//! With a [`StateHistoryStore`] ([`GraphEvaluator::with_store`]), each pass's new transitions are
//! appended as one batch on the blocking pool, and the store is pruned to the history's
//! retention (at most hourly). A failed write is logged, reported in
//! [`PassReport::history_error`] and retried with the next pass's batch; evaluation and
//! alerting go on. Rebuild the history at start with [`StateHistory::from_store`] and
//! [`GraphEvaluator::with_history`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use crate::alerting::{AlertPolicy, AlertTracker, NodeAlert};
use crate::error::Result;
use crate::evaluation::Engine;
use crate::history::{NodeTransition, StateHistory};
use crate::history_store::StateHistoryStore;
use crate::snapshot::{Change, Snapshot};
use alert_coordination::{LeaderElection, LocalLease};

/// Where alerts go.
#[async_trait]
pub trait AlertSink: Send + Sync {
    /// Posts alerts (firing and resolved) in one request.
    async fn post(&self, alerts: &[NodeAlert]) -> Result<()>;
}

/// What the evaluator publishes after each pass.
#[derive(Debug, Clone)]
pub struct Published {
    /// The latest snapshot.
    pub snapshot: Arc<Snapshot>,
    /// The state history up to it.
    pub history: Arc<StateHistory>,
    /// Pass number, from 1.
    pub pass: u64,
}

/// What one pass did.
#[derive(Debug, Clone, Default)]
pub struct PassReport {
    /// State changes (empty on the first pass).
    pub changes: Vec<Change>,
    /// Alerts the tracker decided on (posted only by the leader).
    pub alerts: Vec<NodeAlert>,
    /// Whether this evaluator led (and so posted).
    pub leader: bool,
    /// Why posting failed, if it did.
    pub post_error: Option<String>,
    /// Why writing the state history to its store failed, if it did (the transitions
    /// are kept and written with the next pass's).
    pub history_error: Option<String>,
}

/// Transitions kept for a store that keeps failing; beyond this many the oldest are
/// dropped (and the store's history will lack them).
pub const MAX_UNSAVED: usize = 100_000;

/// How far the retention cutoff moves before the store is pruned again.
const PRUNE_EVERY: alert_core::Duration = match alert_core::Duration::from_secs(3600) {
    Some(d) => d,
    None => alert_core::Duration::ZERO,
};

/// Adds a pass's kept transitions to those awaiting the store (when there is one),
/// dropping the oldest beyond [`MAX_UNSAVED`].
fn keep_unsaved(unsaved: &mut Vec<NodeTransition>, kept: Vec<NodeTransition>, stored: bool) {
    if !stored {
        return;
    }
    unsaved.extend(kept);
    if let Some(excess) = unsaved.len().checked_sub(MAX_UNSAVED).filter(|e| *e > 0) {
        tracing::error!(
            dropped = excess,
            "state history store has failed for long; dropping the oldest unsaved transitions"
        );
        unsaved.drain(..excess);
    }
}

/// Appends `unsaved` to `store` in one batch and prunes it when the cutoff has moved on
/// by [`PRUNE_EVERY`], on the blocking pool. What was written leaves `unsaved`; on
/// failure everything stays for the next pass and the error is logged and returned.
async fn save(
    store: &Arc<dyn StateHistoryStore>,
    unsaved: &mut Vec<NodeTransition>,
    cutoff: Option<alert_core::Timestamp>,
    pruned_to: &mut Option<alert_core::Timestamp>,
) -> Option<String> {
    let prune = cutoff.filter(|c| {
        pruned_to.is_none_or(|p| p.checked_add(PRUNE_EVERY).is_none_or(|next| *c >= next))
    });
    if unsaved.is_empty() && prune.is_none() {
        return None;
    }
    let batch = unsaved.clone();
    let store = Arc::clone(store);
    let outcome = tokio::task::spawn_blocking(move || {
        store.append(&batch).map_err(|e| (false, e.to_string()))?;
        if let Some(c) = prune {
            store.prune(c).map_err(|e| (true, e.to_string()))?;
        }
        Ok::<usize, (bool, String)>(batch.len())
    })
    .await
    .unwrap_or_else(|e| Err((false, format!("history store task failed: {e}"))));
    match outcome {
        Ok(written) => {
            unsaved.drain(..written.min(unsaved.len()));
            if prune.is_some() {
                *pruned_to = prune;
            }
            None
        }
        Err((appended, reason)) => {
            if appended {
                unsaved.clear();
                tracing::warn!(error = %reason, "pruning the state history store failed; retrying later");
            } else {
                tracing::warn!(
                    error = %reason,
                    unsaved = unsaved.len(),
                    "writing the state history failed; retrying with the next pass"
                );
            }
            Some(reason)
        }
    }
}

/// Runs a graph on an interval and turns its health into alerts.
pub struct GraphEvaluator {
    engine: Engine,
    tracker: AlertTracker,
    history: StateHistory,
    snapshot: Option<Snapshot>,
    sink: Option<Arc<dyn AlertSink>>,
    leader: Arc<dyn LeaderElection>,
    candidate: String,
    interval: Duration,
    unsent: Vec<NodeAlert>,
    store: Option<Arc<dyn StateHistoryStore>>,
    unsaved: Vec<NodeTransition>,
    store_pruned_to: Option<alert_core::Timestamp>,
    pass: u64,
    publish: watch::Sender<Option<Arc<Published>>>,
}

impl std::fmt::Debug for GraphEvaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphEvaluator")
            .field("candidate", &self.candidate)
            .field("interval", &self.interval)
            .field("pass", &self.pass)
            .finish()
    }
}

impl GraphEvaluator {
    /// An evaluator of `engine`'s graph with `policy`, every 30 s, leading alone (its own
    /// [`LocalLease`]), posting nowhere until [`GraphEvaluator::with_sink`].
    pub fn new(engine: Engine, policy: AlertPolicy) -> GraphEvaluator {
        let interval = Duration::from_secs(30);
        GraphEvaluator {
            engine,
            tracker: AlertTracker::new(policy),
            history: StateHistory::default(),
            snapshot: None,
            sink: None,
            leader: Arc::new(LocalLease::new(interval * 3)),
            candidate: "evaluator".to_owned(),
            interval,
            unsent: Vec::new(),
            store: None,
            unsaved: Vec::new(),
            store_pruned_to: None,
            pass: 0,
            publish: watch::Sender::new(None),
        }
    }

    /// The same evaluator posting to `sink`.
    pub fn with_sink(mut self, sink: Arc<dyn AlertSink>) -> GraphEvaluator {
        self.sink = Some(sink);
        self
    }

    /// The same evaluator competing for `election` as `candidate`.
    pub fn with_leader(
        mut self,
        election: Arc<dyn LeaderElection>,
        candidate: impl Into<String>,
    ) -> GraphEvaluator {
        self.leader = election;
        self.candidate = candidate.into();
        self
    }

    /// The same evaluator running every `interval`.
    pub fn with_interval(mut self, interval: Duration) -> GraphEvaluator {
        self.interval = interval;
        self
    }

    /// The same evaluator starting from an existing history (kept across restarts).
    pub fn with_history(mut self, history: StateHistory) -> GraphEvaluator {
        self.history = history;
        self
    }

    /// The same evaluator writing each pass's state changes through `store` (see the
    /// module docs). It does not load from it: start from
    /// [`StateHistory::from_store`] with [`GraphEvaluator::with_history`].
    pub fn with_store(mut self, store: Arc<dyn StateHistoryStore>) -> GraphEvaluator {
        self.store = Some(store);
        self
    }

    /// Transitions recorded but not yet written to the store.
    pub fn unsaved(&self) -> &[NodeTransition] {
        &self.unsaved
    }

    /// A receiver of what each pass publishes.
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<Published>>> {
        self.publish.subscribe()
    }

    /// The state history so far.
    pub fn history(&self) -> &StateHistory {
        &self.history
    }

    /// The latest snapshot, after the first pass.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// One pass: read, judge, record, decide, post (if leader), write the history's
    /// changes to the store (if any), publish.
    pub async fn pass(&mut self) -> PassReport {
        let mut report = PassReport::default();
        let snapshot = match self.snapshot.as_mut() {
            None => {
                let snap = self.engine.evaluate().await;
                let kept = self.history.record_snapshot(&snap);
                keep_unsaved(&mut self.unsaved, kept, self.store.is_some());
                self.snapshot.insert(snap)
            }
            Some(snap) => {
                report.changes = self.engine.update(snap).await;
                snap.mark_evaluated(self.engine.clock().now());
                let kept = self.history.record_changes(&report.changes);
                keep_unsaved(&mut self.unsaved, kept, self.store.is_some());
                snap
            }
        };
        let now = snapshot.evaluated_at();
        self.history.prune(now);
        report.alerts = self.tracker.observe(snapshot);
        let term = self.leader.lead(&self.candidate).await;
        report.leader = term.is_some();
        if let (Some(term), Some(sink)) = (term, &self.sink) {
            let mut batch = std::mem::take(&mut self.unsent);
            batch.extend(report.alerts.iter().cloned());
            // The fence: judging and posting take time; post only if no newer term has
            // begun meanwhile (a paused leader resuming must not post stale alerts).
            if !batch.is_empty() && !self.leader.holds(&self.candidate, term).await {
                report.leader = false;
                self.unsent.clear();
            } else if !batch.is_empty()
                && let Err(e) = sink.post(&batch).await
            {
                report.post_error = Some(e.to_string());
                self.unsent = batch
                    .into_iter()
                    .filter(|a| a.is_resolved_at(now))
                    .collect();
            }
        } else if term.is_none() {
            self.unsent.clear();
        }
        // After posting: alerts should not wait for the disk.
        if let Some(store) = &self.store {
            let cutoff = self.history.cutoff(now);
            report.history_error =
                save(store, &mut self.unsaved, cutoff, &mut self.store_pruned_to).await;
        }
        self.pass += 1;
        self.publish.send_replace(Some(Arc::new(Published {
            snapshot: Arc::new(snapshot.clone()),
            history: Arc::new(self.history.clone()),
            pass: self.pass,
        })));
        report
    }

    /// Runs passes every interval until `shutdown` completes, then resigns the lead.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = ticks.tick() => {
                    self.pass().await;
                }
            }
        }
        self.leader.resign(&self.candidate).await;
    }
}
