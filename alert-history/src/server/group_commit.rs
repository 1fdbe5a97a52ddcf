//! Group commit: webhook requests that arrive while a write is running share the next
//! one.
//!
//! Each webhook request is acknowledged only once its notifications are durable, and a
//! durable write costs a commit (SQLite's fsync, PostgreSQL's WAL flush) whatever its
//! size. One writer thread takes the first waiting request, then every request queued
//! behind it (up to [`MAX_BATCH_NOTIFICATIONS`] notifications and
//! [`MAX_BATCH_REQUESTS`] requests), appends them all in one [`HistoryStore::append`]
//! and answers each. Appending is a merge that any order and any duplication of
//! notifications leaves the same, so one append of several requests stores what
//! appending them one by one would. When the shared append fails, each request is
//! appended on its own, so one request the store refuses fails alone.
//!
//! When a batch already holds two or more requests (senders are concurrent), the writer
//! waits a little before writing it, as PostgreSQL's `commit_delay` does: a tenth of the
//! previous append's duration ([`DELAY_FRACTION`]), at most [`MAX_DELAY`], then takes
//! what arrived meanwhile. On two cores the senders, the server and the database share,
//! the wait lets the requests in flight reach the queue, so each append carries more of
//! them. Measured with `history-scale` (16 senders, one alert a message, 10 s runs, the
//! 2-core VM): PostgreSQL at 100,000 episodes, whose appends take about 1.9 ms, went from
//! 3,700–4,600 to 5,500 acknowledged notifications/s (groups of 8 → 11 requests,
//! request p50 3.4–4.1 → 2.7 ms); a fixed 150–300 µs wait gave 6,000–6,400/s and a fifth
//! of the append 5,600–6,000/s, but cost SQLite 8 %. SQLite at 10,000,000 episodes,
//! whose appends take about 0.45 ms (a wait of about 45 µs): 12,500–12,600/s against
//! 12,900–13,400/s without, within this VM's noise. A lone sender never waits.
//!
//! The queue is bounded ([`QUEUE_REQUESTS`]): when it is full, requests wait to enter it,
//! so memory stays bounded however many senders there are. The writer stops when the
//! last handle is dropped, after answering what is queued.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alert_core::Timestamp;
use tokio::sync::{mpsc, oneshot};

use crate::{Heartbeat, HistoryStore, Notification};

use super::StoreFailure;
use super::metrics::Metrics;

/// The most notifications one shared append takes (a single larger request goes alone).
pub(crate) const MAX_BATCH_NOTIFICATIONS: usize = 10_000;
/// The most requests one shared append takes.
pub(crate) const MAX_BATCH_REQUESTS: usize = 512;
/// How many requests may wait for the writer.
pub(crate) const QUEUE_REQUESTS: usize = 1_024;
/// The wait before writing a batch of concurrent requests, as a fraction of the
/// previous append's duration.
pub(crate) const DELAY_FRACTION: u32 = 10;
/// The longest wait before writing a batch.
pub(crate) const MAX_DELAY: Duration = Duration::from_millis(1);

/// One request's write: its notifications, and the Watchdog heartbeat it carried.
struct Write {
    notifications: Vec<Notification>,
    heartbeat: Option<Timestamp>,
    done: oneshot::Sender<Result<(), StoreFailure>>,
}

/// The handle requests write through; cloning shares the writer.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Write>,
}

impl GroupCommit {
    /// Starts the writer thread over `store`; `metrics` gets each append's duration
    /// (`append`) and failures.
    pub(crate) fn start(store: Arc<dyn HistoryStore>, metrics: Arc<Metrics>) -> GroupCommit {
        let (queue, mut receiver) = mpsc::channel::<Write>(QUEUE_REQUESTS);
        let spawned = std::thread::Builder::new()
            .name("history-writer".into())
            .spawn(move || {
                let mut last_append = Duration::ZERO;
                while let Some(first) = receiver.blocking_recv() {
                    let mut batch = vec![first];
                    let mut size = batch[0].notifications.len();
                    take_waiting(&mut receiver, &mut batch, &mut size);
                    if batch.len() > 1 && size < MAX_BATCH_NOTIFICATIONS {
                        std::thread::sleep((last_append / DELAY_FRACTION).min(MAX_DELAY));
                        take_waiting(&mut receiver, &mut batch, &mut size);
                    }
                    let started = Instant::now();
                    write(store.as_ref(), &metrics, batch);
                    last_append = started.elapsed();
                }
            });
        if let Err(e) = spawned {
            // Without a thread every write is refused (the receiver is dropped with the
            // closure), and says why.
            tracing::error!(error = %e, "cannot start the history writer thread");
        }
        GroupCommit { queue }
    }

    /// Appends `notifications` (and records `heartbeat`), durably, with whatever other
    /// requests are waiting.
    pub(crate) async fn append(
        &self,
        notifications: Vec<Notification>,
        heartbeat: Option<Timestamp>,
    ) -> Result<(), StoreFailure> {
        let (done, answer) = oneshot::channel();
        let write = Write {
            notifications,
            heartbeat,
            done,
        };
        let stopped = || StoreFailure::Task("the history writer has stopped".into());
        self.queue.send(write).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Adds the requests waiting in `receiver` to `batch`, within the batch's limits.
fn take_waiting(receiver: &mut mpsc::Receiver<Write>, batch: &mut Vec<Write>, size: &mut usize) {
    while batch.len() < MAX_BATCH_REQUESTS && *size < MAX_BATCH_NOTIFICATIONS {
        match receiver.try_recv() {
            Ok(next) => {
                *size += next.notifications.len();
                batch.push(next);
            }
            Err(_) => break,
        }
    }
}

/// Writes a batch: one append for all, or on failure one per request; answers each.
fn write(store: &dyn HistoryStore, metrics: &Metrics, batch: Vec<Write>) {
    if batch.len() > 1 {
        let all: Vec<Notification> = batch
            .iter()
            .flat_map(|w| w.notifications.iter().cloned())
            .collect();
        let heartbeats: Vec<Timestamp> = batch.iter().filter_map(|w| w.heartbeat).collect();
        if timed_append(store, metrics, &all, &heartbeats).is_ok() {
            for w in batch {
                // A request whose client went away has no one to answer.
                let _ = w.done.send(Ok(()));
            }
            return;
        }
    }
    for w in batch {
        let heartbeats: Vec<Timestamp> = w.heartbeat.into_iter().collect();
        let result = timed_append(store, metrics, &w.notifications, &heartbeats);
        if let Err(failure) = &result {
            metrics.store_error("append");
            tracing::error!(operation = "append", error = %failure.message(), "store failed");
        }
        let _ = w.done.send(result);
    }
}

/// One append and its heartbeats, timed as `append`; a panic in the store is a failure
/// of this write, not the end of the writer.
fn timed_append(
    store: &dyn HistoryStore,
    metrics: &Metrics,
    notifications: &[Notification],
    heartbeats: &[Timestamp],
) -> Result<(), StoreFailure> {
    let started = Instant::now();
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        store.append(notifications)?;
        for &at in heartbeats {
            store.record_heartbeat(&Heartbeat::Watchdog { at })?;
        }
        Ok(())
    }));
    metrics.observe_store("append", started.elapsed().as_secs_f64());
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(StoreFailure::Store(e)),
        Err(_) => Err(StoreFailure::Task(
            "the store panicked while appending".into(),
        )),
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use std::sync::Mutex;
    use std::sync::mpsc as std_mpsc;

    use alert_core::{Fingerprint, WebhookMessage};

    use super::*;
    use crate::sqlite::SqliteStore;
    use crate::{
        AppendOutcome, Episode, EpisodePage, EpisodeQuery, Error, HeartbeatLog, PurgeOutcome,
        Result, StoreStats, TimeSpan,
    };
    use alert_core::Duration;

    /// A SQLite store whose first append waits for a signal (so that the requests
    /// sent meanwhile queue up), which records the size of every append and refuses
    /// any append holding an alert named `Refused`.
    struct Gated {
        inner: SqliteStore,
        gate: Mutex<Option<std_mpsc::Receiver<()>>>,
        sizes: Mutex<Vec<usize>>,
    }

    impl HistoryStore for Gated {
        fn append(&self, notifications: &[Notification]) -> Result<AppendOutcome> {
            self.sizes.lock().unwrap().push(notifications.len());
            if let Some(gate) = self.gate.lock().unwrap().take() {
                gate.recv().unwrap();
            }
            if notifications
                .iter()
                .any(|n| n.alert.labels.get("alertname") == Some("Refused"))
            {
                return Err(Error::Sqlite {
                    context: "append".into(),
                    reason: "refused by the test".into(),
                });
            }
            self.inner.append(notifications)
        }
        fn query(&self, query: &EpisodeQuery) -> Result<EpisodePage> {
            self.inner.query(query)
        }
        fn episodes_of(&self, fingerprint: Fingerprint, range: TimeSpan) -> Result<Vec<Episode>> {
            self.inner.episodes_of(fingerprint, range)
        }
        fn record_heartbeat(&self, heartbeat: &Heartbeat) -> Result<()> {
            self.inner.record_heartbeat(heartbeat)
        }
        fn heartbeats(&self, range: TimeSpan, max_gap: Duration) -> Result<HeartbeatLog> {
            self.inner.heartbeats(range, max_gap)
        }
        fn purge(&self, before: Timestamp) -> Result<PurgeOutcome> {
            self.inner.purge(before)
        }
        fn stats(&self) -> Result<StoreStats> {
            self.inner.stats()
        }
    }

    fn notifications(alertname: &str) -> Vec<Notification> {
        let body = format!(
            r#"{{"receiver":"history","status":"firing","alerts":[{{"status":"firing",
            "labels":{{"alertname":"{alertname}"}},"annotations":{{}},
            "startsAt":"2024-05-01T10:00:00Z","endsAt":"0001-01-01T00:00:00Z",
            "generatorURL":""}}],"version":"4"}}"#
        );
        let message = WebhookMessage::from_json(body.as_bytes()).unwrap();
        Notification::from_message(&message, "2024-05-01T10:00:30Z".parse().unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_requests_share_one_append_and_a_refused_one_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (open, gate) = std_mpsc::channel();
        let store = Arc::new(Gated {
            inner: SqliteStore::open(dir.path().join("h.db")).unwrap(),
            gate: Mutex::new(Some(gate)),
            sizes: Mutex::new(Vec::new()),
        });
        let writer = GroupCommit::start(store.clone(), Arc::new(Metrics::default()));

        // The first write holds the writer; ten more queue behind it, one refused.
        let first = tokio::spawn({
            let writer = writer.clone();
            async move { writer.append(notifications("First"), None).await }
        });
        while store.sizes.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        let names: Vec<String> = (0..10)
            .map(|i| {
                if i == 4 {
                    "Refused".into()
                } else {
                    format!("Queued{i}")
                }
            })
            .collect();
        let mut queued = Vec::new();
        for name in &names {
            let writer = writer.clone();
            let batch = notifications(name);
            queued.push(tokio::spawn(
                async move { writer.append(batch, None).await },
            ));
        }
        // All ten are in the queue before the writer goes on.
        while writer.queue.capacity() > QUEUE_REQUESTS - 10 {
            tokio::task::yield_now().await;
        }
        open.send(()).unwrap();

        assert!(first.await.unwrap().is_ok());
        for (name, task) in names.iter().zip(queued) {
            let result = task.await.unwrap();
            assert_eq!(result.is_err(), name == "Refused", "{name}");
        }
        // The first alone; the ten together (refused); then each of the ten alone.
        let sizes = store.sizes.lock().unwrap().clone();
        assert_eq!(sizes, [1, 10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
        let stored = store
            .inner
            .query(&EpisodeQuery::new(
                TimeSpan::new(
                    "2024-05-01T00:00:00Z".parse().unwrap(),
                    "2024-05-02T00:00:00Z".parse().unwrap(),
                )
                .unwrap(),
            ))
            .unwrap();
        assert_eq!(stored.episodes.len(), 10, "First and the nine accepted");
    }
}
