//! Where the [state history](crate::history) is kept across restarts.
//!
//! [`StateHistoryStore`] is the seam: [`load`](StateHistoryStore::load) everything within the
//! retention window at start, [`append`](StateHistoryStore::append) each evaluation pass's
//! new transitions as one batch, [`prune`](StateHistoryStore::prune) what fell out of the
//! window. A store keeps exactly what [`StateHistory`] keeps: appending applies
//! [`StateHistory::record`]'s rule (a transition repeating its node's latest state, or
//! older than it, is dropped), and pruning keeps per node the state in force at the
//! cutoff, moved to the cutoff. So recording, appending what was kept, and rebuilding
//! with [`StateHistory::from_store`] gives the same history, whenever either side was
//! pruned.
//!
//! Implementations: [`MemoryHistoryStore`] (tests; nothing survives the process) and,
//! with feature `sqlite`, [`sqlite::SqliteHistoryStore`] (one file, the default of
//! `alert-health serve`). Every implementation passes [`conformance`].
//!
//! ```
//! use alert_core::{Duration, Timestamp};
//! use alert_health_graph::{MemoryHistoryStore, StateHistoryStore, State, StateHistory};
//!
//! let t = |s: &str| s.parse::<Timestamp>().unwrap();
//! let store = MemoryHistoryStore::default();
//! let mut history = StateHistory::default();
//! let mut kept = Vec::new();
//! for (state, at) in [(State::Passing, "2024-05-01T00:00:00Z"), (State::Passing, "2024-05-01T00:00:30Z"),
//!                     (State::Failing, "2024-05-01T00:01:00Z")] {
//!     if history.record("db", state, t(at)) {
//!         kept.push(alert_health_graph::NodeTransition { node: "db".into(), at: t(at), state });
//!     }
//! }
//! store.append(&kept)?;
//! let now = t("2024-05-02T00:00:00Z");
//! let again = StateHistory::from_store(&store, history.retention(), now)?;
//! assert_eq!(again.transitions("db"), history.transitions("db"));
//! # Ok::<(), alert_health_graph::Error>(())
//! ```

pub mod conformance;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::sync::Mutex;

use alert_core::{Duration, Timestamp};

use crate::error::Result;
use crate::history::{NodeTransition, StateHistory};

/// Keeps per-node state transitions across restarts. Calls block (file I/O): an async
/// caller runs them on the blocking pool, as the evaluator does.
pub trait StateHistoryStore: Send + Sync {
    /// Every kept transition, as pruning at `cutoff` would leave them: per node the
    /// state in force at `cutoff` (moved to `cutoff`) and every change after it. Ordered
    /// by node name, then oldest first.
    fn load(&self, cutoff: Timestamp) -> Result<Vec<NodeTransition>>;

    /// Appends `batch` (in record order) atomically: all of it or, on error, none.
    /// A transition whose node's latest stored transition has the same state, or is
    /// later, is dropped, as [`StateHistory::record`] drops it.
    fn append(&self, batch: &[NodeTransition]) -> Result<()>;

    /// Drops transitions before `cutoff`, keeping per node the state in force at
    /// `cutoff`, moved to `cutoff` (as [`StateHistory::prune_before`]).
    fn prune(&self, cutoff: Timestamp) -> Result<()>;
}

/// A shared store is a store.
impl<S: StateHistoryStore + ?Sized> StateHistoryStore for std::sync::Arc<S> {
    fn load(&self, cutoff: Timestamp) -> Result<Vec<NodeTransition>> {
        (**self).load(cutoff)
    }

    fn append(&self, batch: &[NodeTransition]) -> Result<()> {
        (**self).append(batch)
    }

    fn prune(&self, cutoff: Timestamp) -> Result<()> {
        (**self).prune(cutoff)
    }
}

/// A store in memory: for tests, and for running without a file (nothing survives the
/// process).
#[derive(Debug)]
pub struct MemoryHistoryStore {
    history: Mutex<StateHistory>,
}

impl Default for MemoryHistoryStore {
    fn default() -> Self {
        MemoryHistoryStore {
            // The store prunes only when told to.
            history: Mutex::new(StateHistory::new(Duration::ZERO)),
        }
    }
}

impl MemoryHistoryStore {
    fn history(&self) -> std::sync::MutexGuard<'_, StateHistory> {
        self.history.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl StateHistoryStore for MemoryHistoryStore {
    fn load(&self, cutoff: Timestamp) -> Result<Vec<NodeTransition>> {
        let mut copy = self.history().clone();
        copy.prune_before(cutoff);
        Ok(copy.to_transitions())
    }

    fn append(&self, batch: &[NodeTransition]) -> Result<()> {
        let mut history = self.history();
        for t in batch {
            history.record(&t.node, t.state, t.at);
        }
        Ok(())
    }

    fn prune(&self, cutoff: Timestamp) -> Result<()> {
        self.history().prune_before(cutoff);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryHistoryStore;

    crate::history_store_conformance!(super::conformance::Fresh::new(|| Box::new(
        MemoryHistoryStore::default()
    )));
}
