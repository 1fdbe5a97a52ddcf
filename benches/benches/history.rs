//! Criterion benchmarks of the embedded history store (SQLite, WAL, `synchronous=FULL`).
//!
//! - `history/ingest`: batched ingest, 1,000 and 10,000 notifications per `append` (half
//!   open new episodes, half resolve them, in time order as Alertmanager sends them,
//!   with random instances, jobs and alert names), into a store that keeps growing;
//! - `history/query`: "active in the last 7 days and alertname=X" over 1,000,000
//!   episodes spread over 30 days (200 alert names, 5,000 instances);
//! - `history/timeline`: one entity's (`instance="node-42"`) 30-day timeline over the
//!   same store, heartbeats included (query + heartbeats + timeline);
//! - `history/purge`: a retention purge removing 100,000 of 150,000 episodes;
//! - `history/timeline/50k overlapping episodes`: the pure timeline of 50,000 episodes
//!   all firing at once, half warning and half critical, with an outage in the middle
//!   (issue #20: 42 s before the sweep).
//!
//! The 1,000,000-episode database is generated once into
//! `target/bench-data/history-1m.db` (deterministic) and reused.

use std::path::{Path, PathBuf};
use std::time::{Duration as StdDuration, Instant};

use alert_benches::history_data::{ANCHOR, DAY, Rng, episode_notification, ingest_batch, ts};
use alert_core::{Alert, AlertStatus, LabelSet, MatchType, Matcher, Matchers};
use alert_history::sqlite::SqliteStore;
use alert_history::{
    EpisodeQuery, Heartbeat, HeartbeatPolicy, HistoryStore, MAX_QUERY_LIMIT, Notification,
    TimeSpan, timeline, unavailable_periods,
};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const EPISODES: usize = 1_000_000;

fn data_dir() -> PathBuf {
    let dir = alert_benches::workspace_root()
        .join("target")
        .join("bench-data");
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    dir
}

/// Fills `store` with `n` episodes (seeded) and a Watchdog heartbeat every minute of
/// the last 30 days, with a one-hour outage 10 days before the anchor.
fn fill(store: &SqliteStore, n: usize, seed: u64) {
    let mut rng = Rng(seed);
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..n {
        batch.push(episode_notification(&mut rng, i, 30));
        if batch.len() == 10_000 {
            store.append(&batch).expect("append");
            batch.clear();
        }
    }
    store.append(&batch).expect("append");
    let outage = (ANCHOR - 10 * DAY)..(ANCHOR - 10 * DAY + 3600);
    for minute in 0..(30 * DAY / 60) {
        let at = ANCHOR - 30 * DAY + minute * 60;
        if !outage.contains(&at) {
            store
                .record_heartbeat(&Heartbeat::Watchdog { at: ts(at) })
                .expect("heartbeat");
        }
    }
}

/// The million-episode store, generated on first use.
fn million() -> SqliteStore {
    let path = data_dir().join("history-1m.db");
    if path.exists()
        && let Ok(store) = SqliteStore::open(&path)
        && store.stats().is_ok_and(|s| s.episodes as usize == EPISODES)
    {
        return store;
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let started = Instant::now();
    let store = SqliteStore::open(&path).expect("create store");
    fill(&store, EPISODES, 42);
    eprintln!(
        "generated {EPISODES} episodes into {} in {:.1}s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    store
}

fn ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("history");
    for batch_size in [1_000usize, 10_000] {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path().join("ingest.db")).expect("open");
        let mut rng = Rng(7);
        let mut next = 0usize;
        group.throughput(Throughput::Elements(batch_size as u64));
        group.sample_size(if batch_size > 1_000 { 10 } else { 30 });
        let name = format!(
            "ingest/{batch_size} notifications per append ({} new, {} resolving)",
            batch_size / 2,
            batch_size / 2
        );
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    // Episodes opened by a firing notification, then resolved in the same
                    // batch (the resolutions are updates of existing rows).
                    ingest_batch(&mut rng, &mut next, batch_size, ANCHOR - 30 * DAY)
                },
                |batch| store.append(&batch).expect("append"),
                BatchSize::LargeInput,
            );
        });
        let stats = store.stats().expect("stats");
        eprintln!(
            "ingest store ({batch_size} a batch) ended with {} episodes",
            stats.episodes
        );
    }
    group.finish();
}

fn query(c: &mut Criterion) {
    let store = million();
    let range = TimeSpan::new(ts(ANCHOR - 7 * DAY), ts(ANCHOR)).expect("range");
    let mut q = EpisodeQuery::new(range);
    q.selectors = Matchers::new(vec![
        Matcher::new(MatchType::Equal, "alertname", "Alert50").expect("matcher"),
    ])
    .into();
    q.limit = MAX_QUERY_LIMIT;
    let page = store.query(&q).expect("query");
    assert!(page.next.is_none());
    eprintln!(
        "query: alertname=Alert50 active in the last 7 days: {} of {EPISODES} episodes",
        page.episodes.len()
    );
    let mut group = c.benchmark_group("history");
    group.bench_function("query/active 7d and alertname=X over 1M episodes", |b| {
        b.iter(|| store.query(&q).expect("query").episodes.len())
    });
    group.finish();
}

fn entity_timeline(c: &mut Criterion) {
    let store = million();
    let range = TimeSpan::new(ts(ANCHOR - 30 * DAY), ts(ANCHOR)).expect("range");
    let selectors: alert_history::Selectors = Matchers::new(vec![
        Matcher::new(MatchType::Equal, "instance", "node-42").expect("matcher"),
    ])
    .into();
    let policy = HeartbeatPolicy {
        repeat_interval: "1m".parse().expect("duration"),
        group_interval: "10s".parse().expect("duration"),
        slack: "30s".parse().expect("duration"),
    };
    let run = || {
        let mut q = EpisodeQuery::new(range);
        q.selectors = selectors.clone();
        q.limit = MAX_QUERY_LIMIT;
        let episodes = store.query(&q).expect("query").episodes;
        let log = store
            .heartbeats(range, policy.max_gap().expect("fits"))
            .expect("heartbeats");
        let down = unavailable_periods(&log, &policy, range, ts(ANCHOR));
        (episodes.len(), timeline(range, &episodes, &down))
    };
    let (n, segments) = run();
    eprintln!(
        "timeline: instance=node-42 over 30 days: {n} episodes, {} segments",
        segments.len()
    );
    let mut group = c.benchmark_group("history");
    group.bench_function("timeline/one entity 30 days over 1M episodes", |b| {
        b.iter(|| run().1.len())
    });
    group.finish();
}

fn overlapping_timeline(c: &mut Criterion) {
    use alert_history::{Episode, Unavailable, UnavailableCause};
    let episodes: Vec<Episode> = (0..50_000i64)
        .map(|i| {
            let severity = if i % 2 == 0 { "warning" } else { "critical" };
            let labels = LabelSet::from_pairs([
                ("alertname", format!("A{i}")),
                ("severity", severity.to_owned()),
            ])
            .expect("labels");
            let at = ts(ANCHOR - DAY + i);
            Episode::from_notification(&Notification {
                alert: Alert::firing(labels, at),
                receiver: "history".into(),
                received_at: at,
            })
        })
        .collect();
    let range = TimeSpan::new(ts(ANCHOR - DAY), ts(ANCHOR)).expect("range");
    let down = [Unavailable {
        start: ts(ANCHOR - DAY / 2),
        end: ts(ANCHOR - DAY / 2 + 600),
        cause: UnavailableCause::ServerDown,
    }];
    let mut group = c.benchmark_group("history");
    group.sample_size(20);
    group.throughput(Throughput::Elements(episodes.len() as u64));
    group.bench_function("timeline/50k overlapping episodes", |b| {
        b.iter(|| timeline(range, &episodes, &down).len())
    });
    group.finish();
}

fn copy_db(from: &Path, to: &Path) {
    std::fs::copy(from, to).expect("copy database");
}

fn purge(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let template = dir.path().join("template.db");
    {
        let store = SqliteStore::open(&template).expect("open");
        // 100,000 episodes last heard of long ago, 50,000 recent ones.
        let mut rng = Rng(99);
        let mut batch = Vec::with_capacity(10_000);
        for i in 0..150_000 {
            let mut n = episode_notification(&mut rng, i, 30);
            let (start, seen) = if i < 100_000 {
                (ANCHOR - 60 * DAY + (i as i64), ANCHOR - 50 * DAY)
            } else {
                (ANCHOR - DAY + (i as i64 % 3600), ANCHOR - 60)
            };
            n.alert.starts_at = ts(start);
            n.alert.status = AlertStatus::Resolved;
            n.alert.ends_at = Some(ts(start + 600));
            n.received_at = ts(seen);
            batch.push(n);
            if batch.len() == 10_000 {
                store.append(&batch).expect("append");
                batch.clear();
            }
        }
        // Checkpoint the WAL into the file so that copying the file copies everything.
        drop(store);
    }
    let mut group = c.benchmark_group("history");
    group.sample_size(10);
    group.measurement_time(StdDuration::from_secs(30));
    group.bench_function("purge/100k of 150k episodes", |b| {
        b.iter_batched(
            || {
                let work = dir.path().join("work.db");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
                }
                copy_db(&template, &work);
                SqliteStore::open(&work).expect("open copy")
            },
            |store| {
                let removed = store.purge(ts(ANCHOR - 30 * DAY)).expect("purge").removed;
                assert_eq!(removed, 100_000);
                store
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(
    benches,
    ingest,
    query,
    entity_timeline,
    overlapping_timeline,
    purge
);
criterion_main!(benches);
