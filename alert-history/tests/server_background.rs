//! The server's background work ([`spawn_background`]): alive records, the retention
//! purge and the store counts; on PostgreSQL, two replicas running it at once on one
//! database.
#![cfg(all(feature = "server", feature = "sqlite"))]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use alert_core::{Alert, LabelSet, Timestamp};
use alert_history::server::{BackgroundOptions, Metrics, now, spawn_background};
use alert_history::sqlite::SqliteStore;
use alert_history::{HistoryStore, Notification, TimeSpan};

fn notification(name: &str, received: Timestamp) -> Notification {
    let labels = LabelSet::from_pairs([("alertname", name)]).expect("labels");
    Notification {
        alert: Alert::firing(labels, received),
        receiver: "history".into(),
        received_at: received,
    }
}

fn ago(secs: u64) -> Timestamp {
    now()
        .checked_sub(alert_core::Duration::from_secs(secs).expect("duration"))
        .expect("representable")
}

/// An old episode (two days) and a fresh one.
fn fill(store: &dyn HistoryStore) {
    store
        .append(&[
            notification("Old", ago(2 * 86_400)),
            notification("Fresh", ago(60)),
        ])
        .expect("append");
}

fn options(started_at: Timestamp) -> BackgroundOptions {
    BackgroundOptions {
        started_at,
        alive_every: Duration::from_millis(50),
        stats_every: Duration::from_millis(50),
        retention: Some("1d".parse().expect("duration")),
        purge_every: Duration::from_millis(50),
    }
}

/// Polls `done` every 20 ms for up to 20 s.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The newest alive record of the run that started at `started_at`.
fn last_alive(store: &dyn HistoryStore, started_at: Timestamp) -> Option<Timestamp> {
    let range = TimeSpan::new(ago(3600), now()).expect("range");
    store
        .heartbeats(range, alert_core::Duration::ZERO)
        .expect("heartbeats")
        .runs
        .into_iter()
        .find(|r| r.started_at == started_at)
        .map(|r| r.last_alive)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn alive_records_purge_and_counts_run_in_the_background() {
    let dir = tempfile::tempdir().expect("dir");
    let store: Arc<dyn HistoryStore> =
        Arc::new(SqliteStore::open(dir.path().join("h.db")).expect("open"));
    fill(store.as_ref());
    let metrics = Arc::new(Metrics::default());
    let started_at = ago(1);
    runtime().block_on(async {
        let tasks = spawn_background(
            Arc::clone(&store),
            Arc::clone(&metrics),
            options(started_at),
        );
        until("the old episode purged and the counts read", || {
            metrics.purged_episodes.load(Ordering::Relaxed) == 1
                && metrics.episodes.load(Ordering::Relaxed) == 1
        })
        .await;
        until("an alive record after the start", || {
            last_alive(store.as_ref(), started_at).is_some_and(|t| t > started_at)
        })
        .await;
        drop(tasks);
    });
    assert_eq!(store.stats().expect("stats").episodes, 1);
}

/// Two replicas on one PostgreSQL database run everything at once: each keeps its own
/// run, and the old episode is purged exactly once between them.
#[cfg(feature = "postgres")]
#[test]
fn two_replicas_share_the_background_work_on_postgresql() {
    use alert_history::postgres::PostgresStore;
    use alert_testkit::postgres::PostgresServer;

    let db = PostgresServer::shared().create_database();
    let connect = || -> Arc<dyn HistoryStore> {
        Arc::new(PostgresStore::connect(&db.url()).expect("connect"))
    };
    let (a, b) = (connect(), connect());
    fill(a.as_ref());
    let (ma, mb) = (Arc::new(Metrics::default()), Arc::new(Metrics::default()));
    let (sa, sb) = (ago(2), ago(1));
    runtime().block_on(async {
        let ta = spawn_background(Arc::clone(&a), Arc::clone(&ma), options(sa));
        let tb = spawn_background(Arc::clone(&b), Arc::clone(&mb), options(sb));
        until("both replicas counted one episode", || {
            ma.episodes.load(Ordering::Relaxed) == 1 && mb.episodes.load(Ordering::Relaxed) == 1
        })
        .await;
        // The blocking client may not run on a runtime thread: read on the blocking pool.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let store = Arc::clone(&a);
            let alive = tokio::task::spawn_blocking(move || {
                last_alive(store.as_ref(), sa).is_some_and(|t| t > sa)
                    && last_alive(store.as_ref(), sb).is_some_and(|t| t > sb)
            })
            .await
            .expect("read");
            if alive {
                break;
            }
            assert!(Instant::now() < deadline, "both runs alive within 20 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop((ta, tb));
    });
    let purged =
        ma.purged_episodes.load(Ordering::Relaxed) + mb.purged_episodes.load(Ordering::Relaxed);
    assert_eq!(purged, 1, "purged once between the replicas");
    for m in [&ma, &mb] {
        let text = m.render();
        assert!(
            !text.contains("alert_history_store_errors_total{"),
            "{text}"
        );
    }
    // The stores close their connections on a thread of their own when dropped.
    drop((a, b));
}
