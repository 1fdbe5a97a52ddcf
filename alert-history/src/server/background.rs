//! The server's background work, for every process that serves the history (the
//! `alert-history-server` binary, or a gateway that embeds the router): recording that
//! the server is alive (its downtime shows as unavailable in timelines), the retention
//! purge, and the store counts behind `/metrics`.
//!
//! Safe with several replicas on one database (PostgreSQL): each replica records its own
//! run (keyed by its start), a purge deletes what is older than the cutoff whichever
//! replica runs it and however many run it at once, and counting only reads. So every
//! replica runs all three; none needs to lead.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use alert_core::Timestamp;

use super::{Metrics, now};
use crate::{Heartbeat, HistoryStore};

/// How often each task runs.
#[derive(Debug, Clone)]
pub struct BackgroundOptions {
    /// When this server started (its run's key).
    pub started_at: Timestamp,
    /// How often the server records that it is alive.
    pub alive_every: Duration,
    /// How often the store's counts are refreshed.
    pub stats_every: Duration,
    /// Episodes last heard of longer ago than this are purged (`None`: kept).
    pub retention: Option<alert_core::Duration>,
    /// How often the purge runs.
    pub purge_every: Duration,
}

/// Runs a store call on the blocking pool.
async fn blocking<T: Send + 'static>(
    store: &Arc<dyn HistoryStore>,
    f: impl FnOnce(&dyn HistoryStore) -> crate::Result<T> + Send + 'static,
) -> Result<T, String> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// Records that the server that started at `started_at` is alive at `at` (call it at
/// start and at a clean stop; [`spawn_background`] calls it in between).
pub async fn record_alive(
    store: &Arc<dyn HistoryStore>,
    started_at: Timestamp,
    at: Timestamp,
) -> Result<(), String> {
    blocking(store, move |s| {
        s.record_heartbeat(&Heartbeat::ServerAlive { started_at, at })
    })
    .await
}

/// Starts the three tasks on the current tokio runtime; they run until the set is
/// dropped or aborted.
pub fn spawn_background(
    store: Arc<dyn HistoryStore>,
    metrics: Arc<Metrics>,
    options: BackgroundOptions,
) -> tokio::task::JoinSet<()> {
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(alive(
        Arc::clone(&store),
        Arc::clone(&metrics),
        options.started_at,
        options.alive_every,
    ));
    tasks.spawn(stats(
        Arc::clone(&store),
        Arc::clone(&metrics),
        options.stats_every,
    ));
    if let Some(retention) = options.retention {
        tasks.spawn(purge(store, metrics, retention, options.purge_every));
    }
    tasks
}

async fn alive(
    store: Arc<dyn HistoryStore>,
    metrics: Arc<Metrics>,
    started_at: Timestamp,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match record_alive(&store, started_at, now()).await {
            // This write is what readiness learns a full or broken disk from when no
            // webhook arrives.
            Ok(()) => metrics.write_succeeded(),
            Err(e) => {
                metrics.store_error("alive");
                metrics.write_failed(&e);
                tracing::warn!(error = %e, "cannot record that the server is alive");
            }
        }
    }
}

async fn purge(
    store: Arc<dyn HistoryStore>,
    metrics: Arc<Metrics>,
    retention: alert_core::Duration,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let Some(before) = now().checked_sub(retention) else {
            continue;
        };
        match blocking(&store, move |s| s.purge(before)).await {
            Ok(outcome) => {
                metrics
                    .purged_episodes
                    .fetch_add(outcome.removed, Ordering::Relaxed);
                metrics
                    .last_purge_seconds
                    .store(now().unix_seconds(), Ordering::Relaxed);
                tracing::info!(removed = outcome.removed, before = %before, "retention purge");
            }
            Err(e) => {
                metrics.store_error("purge");
                tracing::warn!(error = %e, "retention purge failed");
            }
        }
    }
}

async fn stats(store: Arc<dyn HistoryStore>, metrics: Arc<Metrics>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match blocking(&store, |s| s.stats()).await {
            Ok(st) => {
                metrics.episodes.store(st.episodes, Ordering::Relaxed);
                metrics
                    .open_episodes
                    .store(st.open_episodes, Ordering::Relaxed);
                metrics
                    .last_stats_seconds
                    .store(now().unix_seconds(), Ordering::Relaxed);
            }
            Err(e) => {
                metrics.store_error("stats");
                tracing::warn!(error = %e, "cannot read store stats");
            }
        }
    }
}
