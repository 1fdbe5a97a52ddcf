//! The conformance suite every [`StateHistoryStore`] must pass.
//!
//! Each public function is one test; [`history_store_conformance!`](crate::history_store_conformance)
//! expands to one `#[test]` per function. A [`Backend`] opens stores on *fresh, empty*
//! storage for each test and on the *same* storage for every `open` of one test, so
//! that durability is checked by reopening. These functions panic on a failed check:
//! they are test code.
//!
//! ```ignore
//! struct MyBackend { dir: tempfile::TempDir }
//! impl alert_health_graph::history_store::conformance::Backend for MyBackend {
//!     fn open(&self) -> Box<dyn alert_health_graph::StateHistoryStore> { /* ... */ }
//! }
//! alert_health_graph::history_store_conformance!(MyBackend { dir: tempfile::tempdir().unwrap() });
//! ```

use std::sync::Arc;

use alert_core::Timestamp;

use super::StateHistoryStore;
use crate::history::{NodeTransition, StateHistory, UptimeWeights};
use crate::state::State;

/// Opens stores on the storage of one test.
pub trait Backend {
    /// A store on this test's storage (the same storage on every call).
    fn open(&self) -> Box<dyn StateHistoryStore>;
}

/// A [`Backend`] whose `open` hands out one store, made once (for stores without
/// storage of their own, such as [`MemoryHistoryStore`](super::MemoryHistoryStore)).
pub struct Fresh {
    store: Arc<dyn StateHistoryStore>,
}

impl Fresh {
    /// The backend of the store `make` returns.
    pub fn new(make: impl FnOnce() -> Box<dyn StateHistoryStore>) -> Fresh {
        Fresh {
            store: Arc::from(make()),
        }
    }
}

impl Backend for Fresh {
    fn open(&self) -> Box<dyn StateHistoryStore> {
        Box::new(Arc::clone(&self.store))
    }
}

/// Expands to one `#[test]` per conformance test. `$make` is evaluated once per test
/// and must yield a [`Backend`] on fresh storage.
#[macro_export]
macro_rules! history_store_conformance {
    ($make:expr) => {
        $crate::history_store_conformance!(@tests $make;
            append_then_load_round_trips,
            repeats_and_older_records_are_dropped,
            a_batch_is_all_or_nothing_in_order,
            prune_keeps_the_state_at_the_cutoff,
            load_applies_the_cutoff_without_a_prune,
            transitions_at_one_instant_keep_their_order,
            rebuilt_history_equals_the_recorded_one,
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let backend = $make;
                $crate::history_store::conformance::$name(&backend);
            }
        )*
    };
}

fn t(minutes: i64) -> Timestamp {
    // 2024-05-01T00:00:00Z plus `minutes`.
    Timestamp::from_unix_millis(1_714_521_600_000 + minutes * 60_000)
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn nt(node: &str, minutes: i64, state: State) -> NodeTransition {
    NodeTransition {
        node: node.to_owned(),
        at: t(minutes),
        state,
    }
}

fn load_all(store: &dyn StateHistoryStore) -> Vec<NodeTransition> {
    store
        .load(t(-1_000_000))
        .unwrap_or_else(|e| panic!("load: {e}"))
}

fn append(store: &dyn StateHistoryStore, batch: &[NodeTransition]) {
    store
        .append(batch)
        .unwrap_or_else(|e| panic!("append: {e}"));
}

/// Appended transitions come back ordered by node, then oldest first, also from a
/// reopened store; an empty store loads empty and an empty batch is accepted.
pub fn append_then_load_round_trips(backend: &dyn Backend) {
    let store = backend.open();
    assert_eq!(load_all(&*store), [], "a new store is empty");
    append(&*store, &[]);
    append(
        &*store,
        &[
            nt("web", 0, State::Passing),
            nt("db", 0, State::Passing),
            nt("db", 5, State::Failing),
        ],
    );
    append(
        &*store,
        &[nt("db", 7, State::Degraded), nt("web", 9, State::Unknown)],
    );
    let expected = [
        nt("db", 0, State::Passing),
        nt("db", 5, State::Failing),
        nt("db", 7, State::Degraded),
        nt("web", 0, State::Passing),
        nt("web", 9, State::Unknown),
    ];
    assert_eq!(load_all(&*store), expected);
    drop(store);
    assert_eq!(load_all(&*backend.open()), expected, "after reopening");
}

/// A repeat of a node's latest state, or a transition older than it, is not kept,
/// whether in the same batch or a later one.
pub fn repeats_and_older_records_are_dropped(backend: &dyn Backend) {
    let store = backend.open();
    append(
        &*store,
        &[
            nt("db", 0, State::Passing),
            nt("db", 1, State::Passing),
            nt("db", 2, State::Failing),
        ],
    );
    append(
        &*store,
        &[
            nt("db", 3, State::Failing),
            nt("db", 1, State::Degraded),
            nt("db", 4, State::Passing),
        ],
    );
    assert_eq!(
        load_all(&*store),
        [
            nt("db", 0, State::Passing),
            nt("db", 2, State::Failing),
            nt("db", 4, State::Passing),
        ]
    );
}

/// Batches keep their order across nodes, and each one is kept whole.
pub fn a_batch_is_all_or_nothing_in_order(backend: &dyn Backend) {
    let store = backend.open();
    let batch: Vec<NodeTransition> = (0..200)
        .map(|i| {
            let state = if i % 2 == 0 {
                State::Passing
            } else {
                State::Failing
            };
            nt(&format!("n{}", i % 7), i, state)
        })
        .collect();
    append(&*store, &batch);
    let mut recorded = StateHistory::default();
    for t in &batch {
        recorded.record(&t.node, t.state, t.at);
    }
    assert_eq!(load_all(&*store), recorded.to_transitions());
}

/// Pruning keeps per node the state in force at the cutoff, moved to it (of several at
/// or before the cutoff, the latest; one exactly at the cutoff stays), and every later
/// change; a node whose only change is before the cutoff keeps it.
pub fn prune_keeps_the_state_at_the_cutoff(backend: &dyn Backend) {
    let store = backend.open();
    append(
        &*store,
        &[
            nt("a", 0, State::Passing),
            nt("a", 10, State::Failing),
            nt("a", 20, State::Passing),
            nt("a", 60, State::Degraded),
            nt("b", 0, State::Unknown),
            nt("c", 0, State::Passing),
            nt("c", 30, State::Failing),
            nt("d", 40, State::Passing),
        ],
    );
    store.prune(t(30)).unwrap_or_else(|e| panic!("prune: {e}"));
    let expected = [
        nt("a", 30, State::Passing),
        nt("a", 60, State::Degraded),
        nt("b", 30, State::Unknown),
        nt("c", 30, State::Failing),
        nt("d", 40, State::Passing),
    ];
    assert_eq!(load_all(&*store), expected);
    drop(store);
    let store = backend.open();
    assert_eq!(load_all(&*store), expected, "after reopening");
    // Pruning again at the same cutoff changes nothing; appending after it works.
    store.prune(t(30)).unwrap_or_else(|e| panic!("prune: {e}"));
    append(&*store, &[nt("b", 70, State::Passing)]);
    assert_eq!(load_all(&*store).len(), 6);
}

/// `load(cutoff)` answers as if the store had been pruned at `cutoff`, without pruning.
pub fn load_applies_the_cutoff_without_a_prune(backend: &dyn Backend) {
    let store = backend.open();
    append(
        &*store,
        &[
            nt("a", 0, State::Passing),
            nt("a", 10, State::Failing),
            nt("a", 50, State::Passing),
            nt("b", 45, State::Failing),
        ],
    );
    assert_eq!(
        store.load(t(20)).unwrap_or_else(|e| panic!("load: {e}")),
        [
            nt("a", 20, State::Failing),
            nt("a", 50, State::Passing),
            nt("b", 45, State::Failing),
        ]
    );
    assert_eq!(load_all(&*store).len(), 4, "nothing was removed");
}

/// Two transitions of one node at one instant (the first held for no time) are both
/// kept, in the order recorded, as [`StateHistory::record`] keeps them.
pub fn transitions_at_one_instant_keep_their_order(backend: &dyn Backend) {
    let store = backend.open();
    let batch = [
        nt("a", 0, State::Passing),
        nt("a", 5, State::Failing),
        nt("a", 5, State::Passing),
        nt("a", 5, State::Degraded),
    ];
    append(&*store, &batch);
    assert_eq!(load_all(&*store), batch);
    store.prune(t(5)).unwrap_or_else(|e| panic!("prune: {e}"));
    assert_eq!(load_all(&*store), [nt("a", 5, State::Degraded)]);
}

/// Recording a sequence in a [`StateHistory`] and appending what it kept, then
/// rebuilding with [`StateHistory::from_store`], gives the same transitions, uptime and
/// first samples.
pub fn rebuilt_history_equals_the_recorded_one(backend: &dyn Backend) {
    let store = backend.open();
    let mut recorded = StateHistory::default();
    let states = State::ALL;
    let mut batch = Vec::new();
    for i in 0..500i64 {
        let node = format!("node-{}", i % 5);
        let state = states[((i * 7 + i / 3) % 5) as usize];
        let at = t(i * 37);
        if recorded.record(&node, state, at) {
            batch.push(NodeTransition { node, at, state });
        }
        if i % 50 == 49 {
            append(&*store, &std::mem::take(&mut batch));
        }
    }
    append(&*store, &batch);
    let now = t(500 * 37);
    recorded.prune(now);
    drop(store);
    let store = backend.open();
    let rebuilt = StateHistory::from_store(&*store, recorded.retention(), now)
        .unwrap_or_else(|e| panic!("from_store: {e}"));
    assert_eq!(rebuilt.to_transitions(), recorded.to_transitions());
    for n in 0..5 {
        let node = format!("node-{n}");
        let w = UptimeWeights::default();
        assert_eq!(
            rebuilt.uptime(&node, now, 90, w),
            recorded.uptime(&node, now, 90, w)
        );
        assert_eq!(
            rebuilt.first_sample_of(&node),
            recorded.first_sample_of(&node)
        );
    }
    assert_eq!(rebuilt.first_sample(), Some(t(0)));
}
