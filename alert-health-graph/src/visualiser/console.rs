//! The console tree, as Alpacalert prints it.
//!
//! Each node is a line `<tabs><symbol> : <name>` (one tab per level), followed by its
//! messages as `<tabs>- <SEVERITY>: <text>`, then its children one level deeper. A node
//! shared by several parents is printed in full the first time and as
//! `<symbol> : <name> (shown above)` afterwards. With `only_failing`, each root that is
//! not passing is rendered as its [explanation](crate::Snapshot::explain) tree, and
//! passing roots are left out.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::Visualiser;
use crate::explain::ExplainNode;
use crate::graph::NodeId;
use crate::snapshot::Snapshot;
use crate::state::State;
use crate::status::StatusMessage;

/// The text shown for each state, by [`State::rank`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbols(pub [String; 5]);

impl Symbols {
    /// The states' names: `passing`, `pending`, `degraded`, `unknown`, `failing`.
    pub fn names() -> Symbols {
        Symbols(State::ALL.map(|s| s.as_str().to_owned()))
    }

    /// ✅ ⏳ ⚠️ ❔ ❌.
    pub fn emoji() -> Symbols {
        Symbols(["✅", "⏳", "⚠️", "❔", "❌"].map(str::to_owned))
    }

    fn of(&self, state: State) -> &str {
        &self.0[usize::from(state.rank())]
    }
}

impl Default for Symbols {
    fn default() -> Self {
        Symbols::names()
    }
}

/// The console visualiser.
///
/// ```
/// use std::sync::Arc;
/// use alert_core::Timestamp;
/// use alert_health_graph::{Aggregation, GraphBuilder, Kind, NodeSpec, Reading, Snapshot, State};
/// use alert_health_graph::visualiser::{Visualiser, console::Console};
///
/// let mut b = GraphBuilder::new();
/// b.add(NodeSpec::sensor("disk", Kind::builtin("constant")))?;
/// b.add(NodeSpec::service("host", ["disk"]))?;
/// let g = Arc::new(b.build()?);
/// let t = Timestamp::UNIX_EPOCH;
/// let snap = Snapshot::compute(g, t, |_| Reading::explained(State::Failing, "full").at(t));
/// assert_eq!(
///     Console::default().render(&snap),
///     "failing : host\n- ERROR: 1 of 1 not passing: disk\n\tfailing : disk\n\t- ERROR: full\n"
/// );
/// # Ok::<(), alert_health_graph::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Console {
    /// What each state looks like.
    pub symbols: Symbols,
    /// Render only the explanation trees of roots that are not passing.
    pub only_failing: bool,
}

impl Console {
    fn line(&self, out: &mut String, depth: usize, state: State, name: &str, suffix: &str) {
        let tabs = "\t".repeat(depth);
        let _ = writeln!(out, "{tabs}{} : {name}{suffix}", self.symbols.of(state));
    }

    fn messages(out: &mut String, depth: usize, messages: &[StatusMessage]) {
        let tabs = "\t".repeat(depth);
        for m in messages {
            let _ = writeln!(out, "{tabs}- {m}");
        }
    }

    fn node(
        &self,
        out: &mut String,
        snap: &Snapshot,
        id: NodeId,
        depth: usize,
        seen: &mut HashSet<NodeId>,
    ) {
        let node = snap.graph().node(id);
        let status = snap.status(id);
        if !seen.insert(id) {
            self.line(out, depth, status.state, &node.name, " (shown above)");
            return;
        }
        self.line(out, depth, status.state, &node.name, "");
        Console::messages(out, depth, &status.messages);
        for e in &node.edges {
            self.node(out, snap, e.child, depth + 1, seen);
        }
    }

    fn explained(&self, out: &mut String, node: &ExplainNode, depth: usize) {
        self.line(out, depth, node.state, &node.name, "");
        Console::messages(out, depth, &node.messages);
        for c in &node.children {
            self.explained(out, c, depth + 1);
        }
    }
}

impl Visualiser for Console {
    fn render(&self, snapshot: &Snapshot) -> String {
        let mut out = String::new();
        if self.only_failing {
            for &root in snapshot.graph().roots() {
                if !snapshot.status(root).state.is_passing() {
                    self.explained(&mut out, &snapshot.explain(root).root, 0);
                }
            }
        } else {
            let mut seen = HashSet::new();
            for &root in snapshot.graph().roots() {
                self.node(&mut out, snapshot, root, 0, &mut seen);
            }
        }
        out
    }
}
