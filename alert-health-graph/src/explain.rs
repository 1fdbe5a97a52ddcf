//! Why a node is in its state: the minimal paths down to what decided it.
//!
//! From a node, [`Snapshot::explain`] follows only the *decisive* children (see
//! [`crate::decides`]: for worst-of the children in the node's state, for `at_least` the
//! children that are not passing, and so on) down to sensors, or to systems whose
//! judgement is structural (no children, too few children) or `optional`. Each leaf of
//! the explanation carries its messages. This is Icinga's `--blame --root-cause` tree.
//!
//! The explanation is a tree; a shared node reached along two paths appears on both. To
//! stay bounded on wide DAGs it holds at most [`MAX_EXPLAIN_NODES`] nodes; beyond that
//! the remaining branches are cut and [`Explanation::truncated`] is set.

use serde::Serialize;

use crate::graph::{NodeId, Role};
use crate::snapshot::Snapshot;
use crate::state::State;
use crate::status::StatusMessage;

/// The most nodes one explanation holds.
pub const MAX_EXPLAIN_NODES: usize = 10_000;

/// One node of an explanation tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplainNode {
    /// The node's id in its graph.
    #[serde(skip)]
    pub id: NodeId,
    /// The node's name.
    pub name: String,
    /// Sensor, system or service.
    pub role: &'static str,
    /// The node's state.
    pub state: State,
    /// The node's messages.
    pub messages: Vec<StatusMessage>,
    /// The decisive children, explained in turn.
    pub children: Vec<ExplainNode>,
}

/// One root-to-leaf path of an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplainPath {
    /// Node names from the explained node to the deciding leaf.
    pub nodes: Vec<String>,
    /// The leaf's state.
    pub state: State,
    /// The leaf's messages.
    pub messages: Vec<StatusMessage>,
}

impl std::fmt::Display for ExplainPath {
    /// `svc -> db -> db-primary (failing): connection refused; …`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.nodes.join(" -> "), self.state)?;
        for (i, m) in self.messages.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            f.write_str(&m.text)?;
        }
        Ok(())
    }
}

/// Why a node is in its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The explained node and, beneath it, what decided it.
    pub root: ExplainNode,
    /// Whether branches were cut at [`MAX_EXPLAIN_NODES`].
    pub truncated: bool,
}

impl Explanation {
    /// Every root-to-leaf path, depth first, in child order.
    pub fn paths(&self) -> Vec<ExplainPath> {
        let mut out = Vec::new();
        let mut stack: Vec<(&ExplainNode, usize)> = vec![(&self.root, 0)];
        let mut names: Vec<String> = vec![self.root.name.clone()];
        while let Some((node, next)) = stack.last_mut() {
            let node: &ExplainNode = node;
            if node.children.is_empty() {
                out.push(ExplainPath {
                    nodes: names.clone(),
                    state: node.state,
                    messages: node.messages.clone(),
                });
                stack.pop();
                names.pop();
            } else if let Some(child) = node.children.get(*next) {
                *next += 1;
                names.push(child.name.clone());
                stack.push((child, 0));
            } else {
                stack.pop();
                names.pop();
            }
        }
        out
    }
}

impl Snapshot {
    /// Explains the node `id` (see the [module docs](self)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use alert_core::Timestamp;
    /// use alert_health_graph::{Aggregation, GraphBuilder, Kind, NodeSpec, Reading, Snapshot, State};
    ///
    /// let mut b = GraphBuilder::new();
    /// for s in ["primary", "replica", "cache"] {
    ///     b.add(NodeSpec::sensor(s, Kind::builtin("constant")))?;
    /// }
    /// b.add(NodeSpec::system("db", Aggregation::Any, ["primary", "replica"]))?;
    /// b.add(NodeSpec::service("api", ["db", "cache"]))?;
    /// let graph = Arc::new(b.build()?);
    /// let t = Timestamp::UNIX_EPOCH;
    /// let snap = Snapshot::compute(graph.clone(), t, |id| match graph.node(id).name.as_str() {
    ///     "cache" => Reading::new(State::Passing).at(t),
    ///     _ => Reading::explained(State::Failing, "connection refused").at(t),
    /// });
    /// let why = snap.explain(graph.find("api")?);
    /// let paths: Vec<String> = why.paths().iter().map(ToString::to_string).collect();
    /// assert_eq!(paths, [
    ///     "api -> db -> primary (failing): connection refused",
    ///     "api -> db -> replica (failing): connection refused",
    /// ]);
    /// # Ok::<(), alert_health_graph::Error>(())
    /// ```
    pub fn explain(&self, id: NodeId) -> Explanation {
        let mut budget = MAX_EXPLAIN_NODES.saturating_sub(1);
        let mut truncated = false;
        let mut root = self.explain_leaf(id);
        // Work list of (path of child indexes from the root, node id) to expand.
        let mut work: Vec<(Vec<usize>, NodeId)> = vec![(Vec::new(), id)];
        while let Some((path, node)) = work.pop() {
            let decisive = self.decisive_children(node);
            let mut children = Vec::with_capacity(decisive.len());
            for (i, child) in decisive.into_iter().enumerate() {
                if budget == 0 {
                    truncated = true;
                    break;
                }
                budget -= 1;
                children.push(self.explain_leaf(child));
                let mut child_path = path.clone();
                child_path.push(i);
                work.push((child_path, child));
            }
            let mut target = &mut root;
            for &i in &path {
                target = &mut target.children[i];
            }
            target.children = children;
        }
        Explanation { root, truncated }
    }

    fn explain_leaf(&self, id: NodeId) -> ExplainNode {
        let node = self.graph().node(id);
        let status = self.status(id);
        ExplainNode {
            id,
            name: node.name.clone(),
            role: node.role.as_str(),
            state: status.state,
            messages: status.messages.clone(),
            children: Vec::new(),
        }
    }

    /// Whether `id` is a sensor (explanations end there).
    pub fn is_sensor(&self, id: NodeId) -> bool {
        self.graph().node(id).role == Role::Sensor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregation::{Aggregation, Threshold};
    use crate::graph::{Graph, GraphBuilder, NodeSpec};
    use crate::kind::Kind;
    use crate::status::{Level, Reading};
    use alert_core::Timestamp;
    use std::sync::Arc;

    fn build(specs: Vec<NodeSpec>) -> Arc<Graph> {
        let mut b = GraphBuilder::new();
        for s in specs {
            b.add(s).expect("valid");
        }
        Arc::new(b.build().expect("valid"))
    }

    fn sensor(n: &str) -> NodeSpec {
        NodeSpec::sensor(n, Kind::builtin("constant"))
    }

    fn snap(g: &Arc<Graph>, failing: &[&str]) -> Snapshot {
        let t = Timestamp::UNIX_EPOCH;
        Snapshot::compute(g.clone(), t, |id| {
            let name = g.node(id).name.as_str();
            if failing.contains(&name) {
                Reading::explained(State::Failing, format!("{name} is down")).at(t)
            } else {
                Reading::new(State::Passing).at(t)
            }
        })
    }

    fn path_strings(e: &Explanation) -> Vec<String> {
        e.paths().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn explain_follows_only_decisive_children_through_a_shared_node() {
        let g = build(vec![
            sensor("disk"),
            sensor("net"),
            sensor("cpu"),
            NodeSpec::system("host", Aggregation::All, ["disk", "net"]),
            NodeSpec::system(
                "pool",
                Aggregation::AtLeast {
                    ok: Threshold::Count(2),
                    warn: None,
                },
                ["host", "cpu", "net"],
            ),
            NodeSpec::service("svc", ["pool", "host"]),
        ]);
        let s = snap(&g, &["disk", "net"]);
        let e = s.explain(g.find("svc").expect("exists"));
        assert!(!e.truncated);
        assert_eq!(
            path_strings(&e),
            [
                "svc -> pool -> host -> disk (failing): disk is down",
                "svc -> pool -> host -> net (failing): net is down",
                "svc -> pool -> net (failing): net is down",
                "svc -> host -> disk (failing): disk is down",
                "svc -> host -> net (failing): net is down",
            ]
        );
        // The passing sensor "cpu" did not decide "pool" (failing), so it is absent.
        assert!(
            e.paths()
                .iter()
                .all(|p| !p.nodes.contains(&"cpu".to_owned()))
        );
    }

    #[test]
    fn explanations_end_at_structural_and_optional_nodes() {
        let g = build(vec![
            sensor("s"),
            NodeSpec::system("empty", Aggregation::All, Vec::<&str>::new()),
            NodeSpec::system("opt", Aggregation::Optional, ["s"]),
            NodeSpec::system("top", Aggregation::All, ["empty", "opt"]),
        ]);
        let s = snap(&g, &["s"]);
        let e = s.explain(g.find("top").expect("exists"));
        assert_eq!(path_strings(&e), ["top -> empty (unknown): no children"]);
        let e = s.explain(g.find("opt").expect("exists"));
        assert_eq!(e.root.state, State::Passing);
        assert_eq!(
            e.root.messages,
            [StatusMessage::new(
                Level::Info,
                "optional: worst child is failing, ignored"
            )]
        );
        assert!(e.root.children.is_empty());
    }

    #[test]
    fn wide_explanations_are_truncated_not_unbounded() {
        // 14 levels, each node over the level below and its twin: 2^14 paths.
        let mut specs = vec![sensor("l0")];
        for level in 1..=14 {
            let below = format!("l{}", level - 1);
            let twin = format!("t{}", level - 1);
            if level == 1 {
                specs.push(NodeSpec::system("t0", Aggregation::All, ["l0"]));
            }
            specs.push(NodeSpec::system(
                format!("l{level}"),
                Aggregation::All,
                [below.as_str(), twin.as_str()],
            ));
            specs.push(NodeSpec::system(
                format!("t{level}"),
                Aggregation::All,
                [below.as_str(), twin.as_str()],
            ));
        }
        let g = build(specs);
        let s = snap(&g, &["l0"]);
        let e = s.explain(g.find("l14").expect("exists"));
        assert!(e.truncated);
        let mut count = 0;
        let mut stack = vec![&e.root];
        while let Some(n) = stack.pop() {
            count += 1;
            stack.extend(n.children.iter());
        }
        assert_eq!(count, MAX_EXPLAIN_NODES);
    }
}
