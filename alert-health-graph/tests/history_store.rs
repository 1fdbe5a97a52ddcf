//! The state history kept in a store: recording, persisting and reloading gives the
//! same history (property test, SQLite and memory), and the evaluator writes through a
//! store, survives its failures, and restarts on the same file with the same history,
//! uptime and "since <first sample>".

#![cfg(feature = "sqlite")]

use alert_core::Timestamp;
use alert_health_graph::{
    MemoryHistoryStore, NodeTransition, State, StateHistory, StateHistoryStore, UptimeWeights,
};
use proptest::prelude::*;

fn t0() -> Timestamp {
    "2024-05-01T00:00:00Z".parse().expect("valid")
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(t0().unix_millis() + ms).expect("in range")
}

/// Records `(node, state, ms after t0)` in order, appending to `store` in batches cut
/// at `cuts` what was kept (or, with `raw`, every record: the store must then drop what
/// the history drops); returns the history.
fn record_and_append(
    records: &[(usize, State, i64)],
    cuts: &[usize],
    store: &dyn StateHistoryStore,
    raw: bool,
) -> StateHistory {
    let mut history = StateHistory::new("20d".parse().expect("valid"));
    let mut batch = Vec::new();
    for (i, &(node, state, ms)) in records.iter().enumerate() {
        let node = format!("node-{node}");
        if history.record(&node, state, at(ms)) || raw {
            batch.push(NodeTransition {
                node,
                at: at(ms),
                state,
            });
        }
        if cuts.contains(&i) {
            store.append(&std::mem::take(&mut batch)).expect("append");
        }
    }
    store.append(&batch).expect("append");
    history
}

fn same_history(a: &StateHistory, b: &StateHistory, now: Timestamp) {
    assert_eq!(a.to_transitions(), b.to_transitions());
    assert_eq!(a.first_sample(), b.first_sample());
    for n in 0..4 {
        let node = format!("node-{n}");
        for days in [1, 7, 30, 90] {
            assert_eq!(
                a.uptime(&node, now, days, UptimeWeights::default()),
                b.uptime(&node, now, days, UptimeWeights::default()),
                "{node} over {days} days"
            );
        }
        assert_eq!(a.first_sample_of(&node), b.first_sample_of(&node));
    }
}

fn state() -> impl Strategy<Value = State> {
    prop::sample::select(State::ALL.to_vec())
}

const HOUR_MS: i64 = 3_600_000;

/// Records: a node, a state, and a step in time in whole hours (mostly forward, often
/// none, sometimes backwards, which the history ignores), so that records at one
/// instant and at a pruning cutoff are common.
fn records() -> impl Strategy<Value = Vec<(usize, State, i64)>> {
    let step = prop_oneof![Just(0i64), -2i64..0, 0i64..72].prop_map(|h| h * HOUR_MS);
    prop::collection::vec((0usize..4, state(), step), 0..60).prop_map(|steps| {
        let mut now = 0;
        steps
            .into_iter()
            .map(|(node, state, step)| {
                now += step;
                (node, state, now)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn recorded_persisted_and_reloaded_is_the_same_history(
        records in records(),
        cuts in prop::collection::vec(0usize..60, 0..6),
        prune_after_h in prop::option::of(0i64..24 * 40),
        now_after_h in 0i64..24 * 10,
        raw in any::<bool>(),
    ) {
        let (prune_after_ms, now_after_ms) = (prune_after_h.map(|h| h * HOUR_MS), now_after_h * HOUR_MS);
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = alert_health_graph::SqliteHistoryStore::open(dir.path().join("h.db"))
            .expect("open");
        let memory = MemoryHistoryStore::default();
        let last = records.iter().map(|r| r.2).max().unwrap_or(0);
        let now = at(last.max(0) + now_after_ms);
        for store in [&sqlite as &dyn StateHistoryStore, &memory] {
            let mut history = record_and_append(&records, &cuts, store, raw);
            if let Some(ms) = prune_after_ms {
                // Both sides pruned, at the same instant.
                let cutoff = at(ms);
                history.prune_before(cutoff);
                store.prune(cutoff).expect("prune");
            }
            history.prune(now);
            let reloaded = StateHistory::from_store(store, history.retention(), now)
                .expect("reload");
            same_history(&reloaded, &history, now);
        }
        // And from a reopened file.
        drop(sqlite);
        let reopened = alert_health_graph::SqliteHistoryStore::open(dir.path().join("h.db"))
            .expect("reopen");
        let a = StateHistory::from_store(&reopened, "20d".parse().expect("valid"), now)
            .expect("reload");
        let b = StateHistory::from_store(&memory, "20d".parse().expect("valid"), now)
            .expect("reload");
        same_history(&a, &b, now);
    }
}

#[cfg(feature = "runtime")]
mod evaluator {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use alert_core::Duration;
    use alert_health_graph::Result;
    use alert_health_graph::visualiser::Visualiser;
    use alert_health_graph::visualiser::html::HtmlStatusPage;
    use alert_health_graph::visualiser::statuspage::{PageInfo, Statuspage};
    use alert_health_graph::{
        AlertPolicy, Engine, Error, GraphBuilder, GraphEvaluator, Kind, ManualClock, NodeSpec,
        Reading, Sensor, SensorSet,
    };
    use async_trait::async_trait;

    use super::*;

    /// A sensor whose state the test switches.
    struct Switch(Mutex<State>);

    impl Switch {
        fn set(&self, state: State) {
            *self.0.lock().expect("not poisoned") = state;
        }
    }

    #[async_trait]
    impl Sensor for Switch {
        async fn read(&self) -> Result<Reading> {
            Ok(Reading::new(*self.0.lock().expect("not poisoned")))
        }
    }

    /// db-primary -> db (system) -> reports (service), on `clock`.
    fn engine(switch: Arc<Switch>, clock: Arc<ManualClock>) -> Engine {
        let mut b = GraphBuilder::new();
        b.add(NodeSpec::sensor("db-primary", Kind::builtin("test")))
            .expect("valid");
        b.add(NodeSpec::system(
            "db",
            alert_health_graph::Aggregation::All,
            ["db-primary"],
        ))
        .expect("valid");
        b.add(NodeSpec::service("reports", ["db"])).expect("valid");
        let graph = Arc::new(b.build().expect("valid"));
        let mut sensors = SensorSet::for_graph(&graph);
        sensors.insert(graph.find("db-primary").expect("exists"), switch);
        Engine::new(graph, sensors).with_clock(clock)
    }

    fn minutes(n: u64) -> Duration {
        Duration::from_secs(n * 60).expect("valid")
    }

    #[tokio::test]
    async fn a_restarted_evaluator_has_the_same_history_uptime_and_since() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("history.db");
        let clock = Arc::new(ManualClock::new(
            "2024-05-03T10:00:00Z".parse().expect("valid"),
        ));
        let switch = Arc::new(Switch(Mutex::new(State::Passing)));
        let first = t_of(&clock);

        // The first run: passing, failing for 30 minutes, passing again.
        let store = Arc::new(alert_health_graph::SqliteHistoryStore::open(&path).expect("open"));
        let mut ev = GraphEvaluator::new(
            engine(switch.clone(), clock.clone()),
            AlertPolicy::default(),
        )
        .with_store(store.clone());
        for state in [
            State::Passing,
            State::Failing,
            State::Failing,
            State::Passing,
        ] {
            switch.set(state);
            let report = ev.pass().await;
            assert_eq!(report.history_error, None);
            assert!(ev.unsaved().is_empty());
            clock.advance(minutes(15));
        }
        let before = ev.history().clone();
        assert_eq!(before.transitions("reports").len(), 3);
        drop(ev);
        drop(store);

        // The restart, a day later, on the same file.
        clock.advance(minutes(24 * 60));
        let now = t_of(&clock);
        let store = Arc::new(alert_health_graph::SqliteHistoryStore::open(&path).expect("reopen"));
        let restored = StateHistory::from_store(&*store, StateHistory::default().retention(), now)
            .expect("load");
        same_history_named(&restored, &before, now);
        assert_eq!(restored.first_sample(), Some(first));

        let mut ev = GraphEvaluator::new(
            engine(switch.clone(), clock.clone()),
            AlertPolicy::default(),
        )
        .with_history(restored)
        .with_store(store.clone());
        let report = ev.pass().await;
        assert_eq!(report.history_error, None);
        // Still passing: the first pass after the restart records no transition.
        assert_eq!(ev.history().to_transitions(), before.to_transitions());
        let snapshot = ev.snapshot().expect("evaluated").clone();
        let page = PageInfo::default();
        let html = HtmlStatusPage {
            page: &page,
            history: ev.history(),
            now: None,
            live: false,
        }
        .render(&snapshot);
        assert!(html.contains("uptime since 2024-05-03"), "{html}");
        assert!(
            html.contains(
                "history since <time datetime=\"2024-05-03T10:00:00Z\">2024-05-03</time>"
            )
        );
        let summary = Statuspage {
            page: &page,
            history: ev.history(),
        }
        .to_value(&snapshot);
        assert_eq!(summary["page"]["history_since"], "2024-05-03T10:00:00Z");
        let reports = summary["components"]
            .as_array()
            .expect("components")
            .iter()
            .find(|c| c["id"] == "reports")
            .expect("reports");
        assert_eq!(reports["uptime"]["start_label"], "since 2024-05-03");

        // A change after the restart lands in the same file.
        switch.set(State::Degraded);
        clock.advance(minutes(1));
        ev.pass().await;
        let again = StateHistory::from_store(&*store, ev.history().retention(), t_of(&clock))
            .expect("load");
        same_history_named(&again, ev.history(), t_of(&clock));
    }

    fn t_of(clock: &ManualClock) -> Timestamp {
        use alert_health_graph::Clock;
        clock.now()
    }

    fn same_history_named(a: &StateHistory, b: &StateHistory, now: Timestamp) {
        assert_eq!(a.to_transitions(), b.to_transitions());
        for node in ["db-primary", "db", "reports"] {
            assert_eq!(
                a.uptime(node, now, 90, UptimeWeights::default()),
                b.uptime(node, now, 90, UptimeWeights::default()),
                "{node}"
            );
        }
    }

    /// A memory store that fails while `fail` is set.
    #[derive(Default)]
    struct Flaky {
        inner: MemoryHistoryStore,
        fail: AtomicBool,
    }

    impl StateHistoryStore for Flaky {
        fn load(&self, cutoff: Timestamp) -> Result<Vec<NodeTransition>> {
            self.inner.load(cutoff)
        }

        fn append(&self, batch: &[NodeTransition]) -> Result<()> {
            if self.fail.load(Ordering::SeqCst) {
                return Err(Error::StateHistoryStore {
                    path: "flaky.db".into(),
                    context: "append".into(),
                    reason: "disk I/O error".into(),
                });
            }
            self.inner.append(batch)
        }

        fn prune(&self, cutoff: Timestamp) -> Result<()> {
            self.inner.prune(cutoff)
        }
    }

    #[tokio::test]
    async fn a_failed_write_is_reported_and_retried_and_evaluation_goes_on() {
        let clock = Arc::new(ManualClock::new(
            "2024-05-03T10:00:00Z".parse().expect("valid"),
        ));
        let switch = Arc::new(Switch(Mutex::new(State::Passing)));
        let store = Arc::new(Flaky::default());
        let mut ev = GraphEvaluator::new(
            engine(switch.clone(), clock.clone()),
            AlertPolicy::default(),
        )
        .with_store(store.clone());
        store.fail.store(true, Ordering::SeqCst);
        let report = ev.pass().await;
        assert_eq!(
            report.history_error.as_deref(),
            Some("state history flaky.db: append: disk I/O error")
        );
        assert_eq!(
            ev.unsaved().len(),
            3,
            "the first pass's three transitions wait"
        );
        clock.advance(minutes(1));
        switch.set(State::Failing);
        let report = ev.pass().await;
        assert!(report.history_error.is_some());
        assert_eq!(report.changes.len(), 3, "evaluation went on");
        assert_eq!(ev.unsaved().len(), 6);
        // Nothing changes in this pass, but the backlog is written.
        store.fail.store(false, Ordering::SeqCst);
        clock.advance(minutes(1));
        let report = ev.pass().await;
        assert_eq!(report.history_error, None);
        assert!(ev.unsaved().is_empty());
        let now = t_of(&clock);
        let loaded =
            StateHistory::from_store(&*store, ev.history().retention(), now).expect("load");
        same_history_named(&loaded, ev.history(), now);
    }

    #[tokio::test]
    async fn the_store_is_pruned_with_the_history() {
        let clock = Arc::new(ManualClock::new(
            "2024-05-03T10:00:00Z".parse().expect("valid"),
        ));
        let switch = Arc::new(Switch(Mutex::new(State::Passing)));
        let store = Arc::new(MemoryHistoryStore::default());
        let mut ev = GraphEvaluator::new(
            engine(switch.clone(), clock.clone()),
            AlertPolicy::default(),
        )
        .with_history(StateHistory::new("1d".parse().expect("valid")))
        .with_store(store.clone());
        ev.pass().await;
        clock.advance(minutes(60));
        switch.set(State::Failing);
        ev.pass().await;
        clock.advance(minutes(3 * 24 * 60));
        ev.pass().await;
        let everything = store
            .load(Timestamp::from_unix_millis(0).expect("valid"))
            .expect("load");
        assert_eq!(everything, ev.history().to_transitions());
        assert!(
            everything.iter().all(|t| t.at
                == t_of(&clock)
                    .checked_sub("1d".parse().expect("valid"))
                    .expect("valid")),
            "one transition per node, moved to the cutoff: {everything:?}"
        );
    }
}
