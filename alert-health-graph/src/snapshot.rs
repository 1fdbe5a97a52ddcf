//! One evaluated state of a whole graph, and its incremental update.
//!
//! A [`Snapshot`] holds a [`Status`] for every node. [`Snapshot::compute`] judges every
//! system and service once, children before parents, from sensor readings it is given
//! (reading them is the evaluation module's job). [`Snapshot::apply`] takes one new
//! sensor status and recomputes only the sensor's ancestors, in topological order,
//! stopping wherever a node's state did not change (a judgement depends only on its
//! children's states, so nothing above such a node can change); it returns the change log.
//!
//! Visualisers read snapshots: rendering never reads a sensor.

use std::collections::BTreeSet;
use std::sync::Arc;

use alert_core::Timestamp;
use serde::Serialize;

use crate::aggregation::{Judgement, Tally, aggregate, decides};
use crate::graph::{Graph, NodeId, Role};
use crate::state::State;
use crate::status::{Level, Status, StatusMessage};

/// How many decisive children a system's message names before `…`.
const NAMED_CHILDREN: usize = 5;

/// One state change of one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The node's name.
    pub node: String,
    /// Its state before.
    pub old: State,
    /// Its state after.
    pub new: State,
    /// When the change was observed.
    pub at: Timestamp,
}

/// Every node's status at one evaluation.
#[derive(Debug, Clone)]
pub struct Snapshot {
    graph: Arc<Graph>,
    statuses: Vec<Status>,
    evaluated_at: Timestamp,
}

impl Snapshot {
    /// Judges every node of `graph`, children first. `sensor` gives each sensor's status
    /// (it is called once per sensor, in declaration order).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use alert_core::Timestamp;
    /// use alert_health_graph::{Aggregation, GraphBuilder, Kind, NodeSpec, Reading, Snapshot, State};
    ///
    /// let mut b = GraphBuilder::new();
    /// b.add(NodeSpec::sensor("disk", Kind::builtin("constant")))?;
    /// b.add(NodeSpec::sensor("cpu", Kind::builtin("constant")))?;
    /// b.add(NodeSpec::system("host", Aggregation::All, ["disk", "cpu"]))?;
    /// let graph = Arc::new(b.build()?);
    /// let at = Timestamp::UNIX_EPOCH;
    /// let disk = graph.find("disk")?;
    /// let mut snap = Snapshot::compute(graph.clone(), at, |id| {
    ///     let state = if id == disk { State::Failing } else { State::Passing };
    ///     Reading::explained(state, "read").at(at)
    /// });
    /// assert_eq!(snap.state_of("host")?, State::Failing);
    ///
    /// let changes = snap.apply(disk, Reading::new(State::Passing).at(at));
    /// assert_eq!(changes.len(), 2); // disk and host
    /// assert_eq!(snap.state_of("host")?, State::Passing);
    /// # Ok::<(), alert_health_graph::Error>(())
    /// ```
    pub fn compute(
        graph: Arc<Graph>,
        at: Timestamp,
        mut sensor: impl FnMut(NodeId) -> Status,
    ) -> Snapshot {
        let placeholder = Status {
            state: State::Pending,
            messages: Vec::new(),
            observed_at: at,
        };
        let mut statuses = vec![placeholder; graph.len()];
        for &id in graph.sensors() {
            statuses[id.index()] = sensor(id);
        }
        let mut snap = Snapshot {
            graph,
            statuses,
            evaluated_at: at,
        };
        let graph = Arc::clone(&snap.graph);
        for &id in graph.topological_order() {
            if graph.node(id).role != Role::Sensor {
                snap.statuses[id.index()] = snap.judge(id, at);
            }
        }
        snap
    }

    /// The graph this snapshot belongs to.
    pub fn graph(&self) -> &Arc<Graph> {
        &self.graph
    }

    /// When the snapshot was computed (or last updated).
    pub fn evaluated_at(&self) -> Timestamp {
        self.evaluated_at
    }

    /// Moves the snapshot's time forward to `at` (after a pass that changed nothing).
    pub fn mark_evaluated(&mut self, at: Timestamp) {
        self.evaluated_at = self.evaluated_at.max(at);
    }

    /// The status of a node.
    pub fn status(&self, id: NodeId) -> &Status {
        &self.statuses[id.index()]
    }

    /// The state of the node named `name`.
    pub fn state_of(&self, name: &str) -> crate::Result<State> {
        Ok(self.status(self.graph.find(name)?).state)
    }

    /// The worst state of the roots (Unknown for an empty graph).
    pub fn overall(&self) -> State {
        self.graph
            .roots()
            .iter()
            .map(|&id| self.status(id).state)
            .max()
            .unwrap_or(State::Unknown)
    }

    /// Replaces one sensor's status and recomputes its ancestors, stopping where a
    /// state does not change. Returns the state changes, in the order they happened
    /// (the sensor first, then ancestors children-first). Statuses of nodes that are
    /// not sensors are recomputed, never replaced.
    pub fn apply(&mut self, sensor: NodeId, status: Status) -> Vec<Change> {
        let at = status.observed_at;
        self.evaluated_at = self.evaluated_at.max(at);
        let old = self.statuses[sensor.index()].state;
        let new = status.state;
        self.statuses[sensor.index()] = status;
        let mut log = Vec::new();
        if old == new {
            return log;
        }
        log.push(self.change(sensor, old, new, at));
        let graph = Arc::clone(&self.graph);
        // Pending ancestors by topological position: children are always popped first.
        let mut queue: BTreeSet<(u32, NodeId)> = BTreeSet::new();
        for &p in graph.parents(sensor) {
            queue.insert((graph.position(p), p));
        }
        while let Some((_, id)) = queue.pop_first() {
            let old = self.statuses[id.index()].state;
            let status = self.judge(id, at);
            let new = status.state;
            self.statuses[id.index()] = status;
            if old != new {
                log.push(self.change(id, old, new, at));
                for &p in graph.parents(id) {
                    queue.insert((graph.position(p), p));
                }
            }
        }
        log
    }

    fn change(&self, id: NodeId, old: State, new: State, at: Timestamp) -> Change {
        Change {
            node: self.graph.node(id).name.clone(),
            old,
            new,
            at,
        }
    }

    /// The tally of a system's counted children.
    pub(crate) fn tally(&self, id: NodeId) -> Tally {
        let mut tally = Tally::default();
        for e in &self.graph.node(id).edges {
            tally.add(
                self.statuses[e.child.index()].state,
                e.propagation,
                e.weight,
            );
        }
        tally
    }

    /// The judgement of a system from its children's current states.
    pub(crate) fn judgement(&self, id: NodeId) -> (Tally, Judgement) {
        let tally = self.tally(id);
        let judgement = aggregate(&self.graph.node(id).aggregation, &tally);
        (tally, judgement)
    }

    /// The children of a system that decided its state (see [`decides`]).
    pub fn decisive_children(&self, id: NodeId) -> Vec<NodeId> {
        let node = self.graph.node(id);
        if node.role == Role::Sensor {
            return Vec::new();
        }
        let (tally, judgement) = self.judgement(id);
        let mut out: Vec<NodeId> = Vec::new();
        for e in &node.edges {
            let Some(effective) = e.propagation.apply(self.statuses[e.child.index()].state) else {
                continue;
            };
            if decides(&node.aggregation, &judgement, &tally, effective) && !out.contains(&e.child)
            {
                out.push(e.child);
            }
        }
        out
    }

    fn judge(&self, id: NodeId, at: Timestamp) -> Status {
        let (_, judgement) = self.judgement(id);
        let mut messages = Vec::new();
        if let Some(reason) = &judgement.reason {
            let mut text = reason.clone();
            let named = if judgement.structural {
                Vec::new()
            } else {
                self.decisive_children(id)
            };
            if !named.is_empty() && !judgement.state.is_passing() {
                text.push_str(": ");
                for (i, child) in named.iter().take(NAMED_CHILDREN).enumerate() {
                    if i > 0 {
                        text.push_str(", ");
                    }
                    text.push_str(&self.graph.node(*child).name);
                }
                if named.len() > NAMED_CHILDREN {
                    text.push_str(", …");
                }
            }
            let level = if judgement.state.is_passing() {
                Level::Info
            } else {
                Level::for_state(judgement.state)
            };
            messages.push(StatusMessage::new(level, text));
        }
        Status {
            state: judgement.state,
            messages,
            observed_at: at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregation::{Aggregation, Propagation, Threshold};
    use crate::graph::{EdgeSpec, GraphBuilder, NodeSpec};
    use crate::kind::Kind;
    use crate::status::Reading;
    use std::collections::HashMap;

    fn graph(specs: Vec<NodeSpec>) -> Arc<Graph> {
        let mut b = GraphBuilder::new();
        for s in specs {
            b.add(s).expect("valid spec");
        }
        Arc::new(b.build().expect("valid graph"))
    }

    fn sensor(name: &str) -> NodeSpec {
        NodeSpec::sensor(name, Kind::builtin("constant"))
    }

    fn snapshot(g: &Arc<Graph>, states: &[(&str, State)]) -> Snapshot {
        let map: HashMap<NodeId, State> = states
            .iter()
            .map(|(n, s)| (g.find(n).expect("exists"), *s))
            .collect();
        Snapshot::compute(g.clone(), Timestamp::UNIX_EPOCH, |id| {
            Reading::new(map.get(&id).copied().unwrap_or(State::Passing)).at(Timestamp::UNIX_EPOCH)
        })
    }

    #[test]
    fn messages_name_the_decisive_children() {
        let g = graph(vec![
            sensor("a"),
            sensor("b"),
            sensor("c"),
            NodeSpec::system(
                "pool",
                Aggregation::AtLeast {
                    ok: Threshold::Count(2),
                    warn: Some(Threshold::Count(1)),
                },
                ["a", "b", "c"],
            ),
            NodeSpec::system("empty", Aggregation::All, Vec::<EdgeSpec>::new()),
        ]);
        let snap = snapshot(&g, &[("a", State::Failing), ("c", State::Unknown)]);
        let pool = snap.status(g.find("pool").expect("exists"));
        assert_eq!(pool.state, State::Degraded);
        assert_eq!(
            pool.messages,
            [StatusMessage::new(
                Level::Warn,
                "1 of 3 passing, at least 2 required: a, c"
            )]
        );
        let empty = snap.status(g.find("empty").expect("exists"));
        assert_eq!(empty.state, State::Unknown);
        assert_eq!(empty.messages[0].text, "no children");
    }

    #[test]
    fn incremental_update_stops_where_state_does_not_change() {
        // s1, s2 -> any "pair" -> all "top" -> service "svc"
        let g = graph(vec![
            sensor("s1"),
            sensor("s2"),
            sensor("s3"),
            NodeSpec::system("pair", Aggregation::Any, ["s1", "s2"]),
            NodeSpec::system("top", Aggregation::All, ["pair", "s3"]),
            NodeSpec::service("svc", ["top"]),
        ]);
        let mut snap = snapshot(&g, &[]);
        let at = Timestamp::from_unix(100, 0).expect("valid");
        let s1 = g.find("s1").expect("exists");
        let s2 = g.find("s2").expect("exists");
        // s1 fails: pair is still passing thanks to s2, so only s1 changes.
        let log = snap.apply(s1, Reading::new(State::Failing).at(at));
        assert_eq!(
            log,
            [Change {
                node: "s1".into(),
                old: State::Passing,
                new: State::Failing,
                at
            }]
        );
        // s2 fails too: everything above changes.
        let log = snap.apply(s2, Reading::new(State::Failing).at(at));
        let names: Vec<&str> = log.iter().map(|c| c.node.as_str()).collect();
        assert_eq!(names, ["s2", "pair", "top", "svc"]);
        assert!(log.iter().all(|c| c.new == State::Failing));
        // Same state again: no change at all.
        assert!(
            snap.apply(s2, Reading::new(State::Failing).at(at))
                .is_empty()
        );
        // The incremental result equals a full recomputation.
        let full = snapshot(&g, &[("s1", State::Failing), ("s2", State::Failing)]);
        for id in g.ids() {
            assert_eq!(snap.status(id).state, full.status(id).state);
            assert_eq!(snap.status(id).messages, full.status(id).messages);
        }
    }

    #[test]
    fn edge_rules_are_applied_per_parent() {
        let g = graph(vec![
            sensor("s"),
            NodeSpec::system(
                "soft",
                Aggregation::All,
                [EdgeSpec::to("s").propagate(Propagation::Lower(2))],
            ),
            NodeSpec::system("hard", Aggregation::All, ["s"]),
            NodeSpec::system(
                "blind",
                Aggregation::All,
                [EdgeSpec::to("s").propagate(Propagation::Ignore)],
            ),
        ]);
        let snap = snapshot(&g, &[("s", State::Failing)]);
        assert_eq!(snap.state_of("soft").expect("exists"), State::Degraded);
        assert_eq!(snap.state_of("hard").expect("exists"), State::Failing);
        assert_eq!(snap.state_of("blind").expect("exists"), State::Unknown);
        assert_eq!(snap.overall(), State::Failing);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A random layered DAG: 8 sensors, then systems over earlier nodes.
        fn random_graph(picks: &[(u8, Vec<usize>)]) -> Arc<Graph> {
            let mut specs: Vec<NodeSpec> = (0..8).map(|i| sensor(&format!("s{i}"))).collect();
            for (i, (op, kids)) in picks.iter().enumerate() {
                let n = specs.len();
                let names: Vec<String> = kids.iter().map(|k| specs[k % n].name.clone()).collect();
                let aggregation = match op % 6 {
                    0 => Aggregation::All,
                    1 => Aggregation::Any,
                    2 => Aggregation::AtLeast {
                        ok: Threshold::Count(2),
                        warn: None,
                    },
                    3 => Aggregation::NthWorst {
                        n: 2,
                        cap: State::Failing,
                    },
                    4 => Aggregation::Degraded,
                    _ => Aggregation::Not,
                };
                specs.push(NodeSpec::system(
                    format!("y{i}"),
                    aggregation,
                    names.iter().map(String::as_str),
                ));
            }
            graph(specs)
        }

        proptest! {
            /// Applying sensor changes one by one agrees with recomputing from scratch.
            #[test]
            fn incremental_agrees_with_full(
                picks in prop::collection::vec((0u8..6, prop::collection::vec(0usize..100, 0..4)), 1..20),
                updates in prop::collection::vec((0usize..8, 0u8..5), 1..20),
            ) {
                let g = random_graph(&picks);
                let mut snap = snapshot(&g, &[]);
                let mut current = [State::Passing; 8];
                for (sensor, rank) in updates {
                    current[sensor] = State::from_rank(rank);
                    let id = g.find(&format!("s{sensor}")).unwrap();
                    snap.apply(id, Reading::new(current[sensor]).at(Timestamp::UNIX_EPOCH));
                }
                let names: Vec<String> = (0..8).map(|i| format!("s{i}")).collect();
                let states: Vec<(&str, State)> = names.iter().map(String::as_str).zip(current.iter().copied()).collect();
                let full = snapshot(&g, &states);
                for id in g.ids() {
                    prop_assert_eq!(snap.status(id).state, full.status(id).state, "{}", g.node(id).name);
                }
            }
        }
    }
}
