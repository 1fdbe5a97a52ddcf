//! The graph: sensors, systems and services, and the edges between them.
//!
//! A [`Graph`] is built once with a [`GraphBuilder`] and never changes. Building checks
//! it is a DAG: every child exists, no node reaches itself (a cycle is an error that
//! prints its path, `a -> b -> a`), and no path from a root to a leaf has more than
//! [`MAX_DEPTH`] nodes. A node may have several parents; it is still one node, judged once
//! per evaluation pass.
//!
//! All traversals are iterative, so a deep or malformed graph gives an error, never a
//! stack overflow.

use std::collections::HashMap;
use std::fmt;

use alert_core::Duration;

use crate::aggregation::{Aggregation, MAX_WEIGHT, Propagation};
use crate::error::{Error, Result};
use crate::kind::Kind;

/// The most nodes a path from a root to a leaf may hold (Icinga 2 caps dependency
/// recursion at the same 256).
pub const MAX_DEPTH: usize = 256;

/// A node's position in its graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The index into per-node tables (`0..graph.len()`).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a node is, in Alpacalert's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Measures one thing; a leaf.
    Sensor,
    /// Composes sensors and systems and judges their health.
    System,
    /// A capability others consume; judged like a system over what provides it.
    Service,
}

impl Role {
    /// `"sensor"`, `"system"` or `"service"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Sensor => "sensor",
            Role::System => "system",
            Role::Service => "service",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An edge from a parent to one child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// The child.
    pub child: NodeId,
    /// How the child's state reaches the parent.
    pub propagation: Propagation,
    /// The child's weight for `weighted` (default 1).
    pub weight: u32,
}

/// One node of a built graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Unique name.
    pub name: String,
    /// Sensor, system or service.
    pub role: Role,
    /// For sensors, the kind of thing measured (`alert-health:http`); for systems made by
    /// an instrumentor, the kind instrumented.
    pub kind: Option<Kind>,
    /// How children are judged (sensors: unused, `all`).
    pub aggregation: Aggregation,
    /// Children, in declaration order.
    pub edges: Vec<Edge>,
    /// How long the node must be unhealthy before the evaluator alerts (`for`).
    pub alert_for: Option<Duration>,
    /// Where the node was declared (`systems[0]`), for messages.
    pub origin: String,
}

/// A reference from a node to a child, by name, before building.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeSpec {
    /// The child's name.
    pub child: String,
    /// How the child's state reaches the parent.
    pub propagation: Propagation,
    /// Weight for `weighted`, 0 to 1,000,000.
    pub weight: u32,
}

impl EdgeSpec {
    /// An `as_is` edge of weight 1.
    pub fn to(child: impl Into<String>) -> EdgeSpec {
        EdgeSpec {
            child: child.into(),
            propagation: Propagation::AsIs,
            weight: 1,
        }
    }

    /// The same edge with another propagation.
    pub fn propagate(mut self, propagation: Propagation) -> EdgeSpec {
        self.propagation = propagation;
        self
    }

    /// The same edge with another weight.
    pub fn weight(mut self, weight: u32) -> EdgeSpec {
        self.weight = weight;
        self
    }
}

impl From<&str> for EdgeSpec {
    fn from(child: &str) -> EdgeSpec {
        EdgeSpec::to(child)
    }
}

/// A node before building: children are still names.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    /// Unique name.
    pub name: String,
    /// Sensor, system or service.
    pub role: Role,
    /// See [`Node::kind`].
    pub kind: Option<Kind>,
    /// How children are judged.
    pub aggregation: Aggregation,
    /// Children by name.
    pub children: Vec<EdgeSpec>,
    /// See [`Node::alert_for`].
    pub alert_for: Option<Duration>,
    /// Where the node was declared; defaults to `<role> "<name>"`.
    pub origin: Option<String>,
}

impl NodeSpec {
    /// A sensor of `kind`.
    pub fn sensor(name: impl Into<String>, kind: Kind) -> NodeSpec {
        NodeSpec {
            name: name.into(),
            role: Role::Sensor,
            kind: Some(kind),
            aggregation: Aggregation::All,
            children: Vec::new(),
            alert_for: None,
            origin: None,
        }
    }

    /// A system judging `children` by `aggregation`.
    pub fn system<I, E>(name: impl Into<String>, aggregation: Aggregation, children: I) -> NodeSpec
    where
        I: IntoIterator<Item = E>,
        E: Into<EdgeSpec>,
    {
        NodeSpec {
            name: name.into(),
            role: Role::System,
            kind: None,
            aggregation,
            children: children.into_iter().map(Into::into).collect(),
            alert_for: None,
            origin: None,
        }
    }

    /// A service provided by `children` (worst of them unless changed).
    pub fn service<I, E>(name: impl Into<String>, children: I) -> NodeSpec
    where
        I: IntoIterator<Item = E>,
        E: Into<EdgeSpec>,
    {
        NodeSpec {
            role: Role::Service,
            ..NodeSpec::system(name, Aggregation::All, children)
        }
    }

    /// The same spec, declared at `origin` (used in error messages).
    pub fn at(mut self, origin: impl Into<String>) -> NodeSpec {
        self.origin = Some(origin.into());
        self
    }

    /// The same spec with an alerting delay.
    pub fn alert_for(mut self, delay: Duration) -> NodeSpec {
        self.alert_for = Some(delay);
        self
    }

    fn origin_or_default(&self) -> String {
        self.origin
            .clone()
            .unwrap_or_else(|| format!("{} {:?}", self.role, self.name))
    }
}

/// Collects node specs and builds a checked [`Graph`].
///
/// ```
/// use alert_health_graph::{Aggregation, GraphBuilder, Kind, NodeSpec};
/// let mut b = GraphBuilder::new();
/// b.add(NodeSpec::system("a", Aggregation::All, ["b"]))?;
/// b.add(NodeSpec::system("b", Aggregation::All, ["a"]))?;
/// let err = b.build().unwrap_err();
/// assert_eq!(err.to_string(), "cycle in the health graph: a -> b -> a");
/// # Ok::<(), alert_health_graph::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct GraphBuilder {
    specs: Vec<NodeSpec>,
    by_name: HashMap<String, usize>,
}

impl GraphBuilder {
    /// An empty builder.
    pub fn new() -> GraphBuilder {
        GraphBuilder::default()
    }

    /// Adds a node. Fails on a duplicate name, an empty name, an invalid aggregation or
    /// a weight above [`MAX_WEIGHT`].
    pub fn add(&mut self, spec: NodeSpec) -> Result<NodeSpecRef> {
        let origin = spec.origin_or_default();
        if spec.name.is_empty() {
            return Err(Error::MissingField {
                field: format!("{origin}.name"),
            });
        }
        if let Some(&first) = self.by_name.get(&spec.name) {
            return Err(Error::DuplicateNode {
                name: spec.name.clone(),
                first: self.specs[first].origin_or_default(),
                second: origin,
            });
        }
        spec.aggregation.validate(&origin)?;
        for (i, edge) in spec.children.iter().enumerate() {
            if edge.weight > MAX_WEIGHT {
                return Err(Error::InvalidField {
                    field: format!("{origin}.children[{i}].weight"),
                    value: edge.weight.to_string(),
                    expected: format!("a weight from 0 to {MAX_WEIGHT}"),
                });
            }
        }
        let index = self.specs.len();
        self.by_name.insert(spec.name.clone(), index);
        self.specs.push(spec);
        Ok(NodeSpecRef(index))
    }

    /// Whether a node of this name was added.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Resolves names, rejects cycles and over-deep paths, and orders the nodes.
    pub fn build(self) -> Result<Graph> {
        let GraphBuilder { specs, by_name } = self;
        let mut nodes = Vec::with_capacity(specs.len());
        for spec in specs {
            let origin = spec.origin_or_default();
            let mut edges = Vec::with_capacity(spec.children.len());
            for (i, e) in spec.children.iter().enumerate() {
                let child = by_name.get(&e.child).ok_or_else(|| Error::UnknownNode {
                    name: e.child.clone(),
                    at: format!("{origin}.children[{i}]"),
                })?;
                edges.push(Edge {
                    child: NodeId(index_u32(*child)?),
                    propagation: e.propagation,
                    weight: e.weight,
                });
            }
            nodes.push(Node {
                name: spec.name,
                role: spec.role,
                kind: spec.kind,
                aggregation: spec.aggregation,
                edges,
                alert_for: spec.alert_for,
                origin,
            });
        }
        Graph::from_nodes(nodes)
    }
}

/// The position of a spec in a [`GraphBuilder`] (the future [`NodeId`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpecRef(pub usize);

fn index_u32(i: usize) -> Result<u32> {
    u32::try_from(i).map_err(|_| Error::InvalidField {
        field: "nodes".to_owned(),
        value: i.to_string(),
        expected: "at most 4294967295 nodes".to_owned(),
    })
}

/// A checked DAG of sensors, systems and services.
#[derive(Debug, Clone)]
pub struct Graph {
    nodes: Vec<Node>,
    by_name: HashMap<String, NodeId>,
    parents: Vec<Vec<NodeId>>,
    /// Children before parents.
    order: Vec<NodeId>,
    /// Position of each node in `order`.
    position: Vec<u32>,
    roots: Vec<NodeId>,
    sensors: Vec<NodeId>,
}

impl Graph {
    fn from_nodes(nodes: Vec<Node>) -> Result<Graph> {
        let n = nodes.len();
        index_u32(n)?;
        let order = topological_order(&nodes)?;
        let mut position = vec![0u32; n];
        for (pos, id) in order.iter().enumerate() {
            position[id.index()] = pos as u32;
        }
        check_depth(&nodes, &order)?;
        let mut parents: Vec<Vec<NodeId>> = vec![Vec::new(); n];
        for (i, node) in nodes.iter().enumerate() {
            for e in &node.edges {
                let list = &mut parents[e.child.index()];
                let me = NodeId(i as u32);
                if list.last() != Some(&me) {
                    list.push(me);
                }
            }
        }
        for list in &mut parents {
            list.sort_unstable();
            list.dedup();
        }
        let by_name = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| (node.name.clone(), NodeId(i as u32)))
            .collect();
        let mut roots: Vec<NodeId> = (0..n as u32)
            .map(NodeId)
            .filter(|id| parents[id.index()].is_empty())
            .collect();
        let rank = |role: Role| match role {
            Role::Service => 0,
            Role::System => 1,
            Role::Sensor => 2,
        };
        roots.sort_by_key(|id| (rank(nodes[id.index()].role), *id));
        let sensors = (0..n as u32)
            .map(NodeId)
            .filter(|id| nodes[id.index()].role == Role::Sensor)
            .collect();
        Ok(Graph {
            nodes,
            by_name,
            parents,
            order,
            position,
            roots,
            sensors,
        })
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node with this id.
    ///
    /// # Panics
    /// When `id` comes from another graph and is out of range.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The node named `name`.
    pub fn find(&self, name: &str) -> Result<NodeId> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| Error::NoSuchNode {
                name: name.to_owned(),
            })
    }

    /// Every node id, in declaration order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = NodeId> + '_ {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// The parents of a node (each once), by id.
    pub fn parents(&self, id: NodeId) -> &[NodeId] {
        &self.parents[id.index()]
    }

    /// Nodes without parents: services first, then systems, then sensors, each in
    /// declaration order.
    pub fn roots(&self) -> &[NodeId] {
        &self.roots
    }

    /// Every sensor, in declaration order.
    pub fn sensors(&self) -> &[NodeId] {
        &self.sensors
    }

    /// Every node, children before parents.
    pub fn topological_order(&self) -> &[NodeId] {
        &self.order
    }

    /// The position of `id` in [`Graph::topological_order`].
    pub fn position(&self, id: NodeId) -> u32 {
        self.position[id.index()]
    }
}

/// Children-first order by iterative depth-first search; a back edge is a cycle, reported
/// with its path.
fn topological_order(nodes: &[Node]) -> Result<Vec<NodeId>> {
    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    const BLACK: u8 = 2;
    let n = nodes.len();
    let mut colour = vec![WHITE; n];
    let mut order = Vec::with_capacity(n);
    // (node, index of the next edge to follow)
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..n {
        if colour[start] != WHITE {
            continue;
        }
        colour[start] = GREY;
        stack.push((start, 0));
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(edge) = nodes[node].edges.get(*next) {
                *next += 1;
                let child = edge.child.index();
                match colour[child] {
                    WHITE => {
                        colour[child] = GREY;
                        stack.push((child, 0));
                    }
                    GREY => {
                        let from = stack.iter().position(|&(s, _)| s == child).unwrap_or(0);
                        let mut path: Vec<&str> = stack[from..]
                            .iter()
                            .map(|&(s, _)| nodes[s].name.as_str())
                            .collect();
                        path.push(nodes[child].name.as_str());
                        return Err(Error::Cycle {
                            path: path.join(" -> "),
                        });
                    }
                    _ => {}
                }
            } else {
                colour[node] = BLACK;
                order.push(NodeId(node as u32));
                stack.pop();
            }
        }
    }
    Ok(order)
}

/// Longest root-to-leaf path in nodes, computed children first; over [`MAX_DEPTH`] is an
/// error naming the path's ends.
fn check_depth(nodes: &[Node], order: &[NodeId]) -> Result<()> {
    let mut height = vec![0usize; nodes.len()];
    let mut deepest_child: Vec<Option<NodeId>> = vec![None; nodes.len()];
    for &id in order {
        let node = &nodes[id.index()];
        let mut best = 0;
        for e in &node.edges {
            let h = height[e.child.index()];
            if h > best {
                best = h;
                deepest_child[id.index()] = Some(e.child);
            }
        }
        height[id.index()] = best + 1;
        if best + 1 > MAX_DEPTH {
            let mut path = vec![id];
            let mut at = id;
            while let Some(c) = deepest_child[at.index()] {
                path.push(c);
                at = c;
            }
            let name = |i: NodeId| nodes[i.index()].name.as_str();
            let shown = if path.len() > 6 {
                format!(
                    "{} -> {} -> {} -> ... -> {} ({} nodes)",
                    name(path[0]),
                    name(path[1]),
                    name(path[2]),
                    name(path[path.len() - 1]),
                    path.len()
                )
            } else {
                path.iter()
                    .map(|&i| name(i))
                    .collect::<Vec<_>>()
                    .join(" -> ")
            };
            return Err(Error::TooDeep {
                limit: MAX_DEPTH,
                path: shown,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sensor(name: &str) -> NodeSpec {
        NodeSpec::sensor(name, Kind::builtin("constant"))
    }

    fn build(specs: Vec<NodeSpec>) -> Result<Graph> {
        let mut b = GraphBuilder::new();
        for s in specs {
            b.add(s)?;
        }
        b.build()
    }

    #[test]
    fn cycles_print_their_path() {
        let err = build(vec![
            NodeSpec::system("top", Aggregation::All, ["a"]),
            NodeSpec::system("a", Aggregation::All, ["x", "b"]),
            sensor("x"),
            NodeSpec::system("b", Aggregation::Any, ["c"]),
            NodeSpec::system("c", Aggregation::All, ["a"]),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            Error::Cycle {
                path: "a -> b -> c -> a".to_owned()
            }
        );
        let err = build(vec![NodeSpec::system("self", Aggregation::All, ["self"])])
            .unwrap_err()
            .to_string();
        assert_eq!(err, "cycle in the health graph: self -> self");
    }

    #[test]
    fn unknown_children_and_duplicates_are_located() {
        let err = build(vec![
            sensor("db-primary"),
            NodeSpec::system("db", Aggregation::All, ["db-primary", "db-replica"]).at("systems[0]"),
        ])
        .unwrap_err()
        .to_string();
        assert_eq!(err, "systems[0].children[1]: unknown node \"db-replica\"");
        let err = build(vec![
            sensor("x").at("sensors[0]"),
            sensor("x").at("sensors[3]"),
        ])
        .unwrap_err()
        .to_string();
        assert_eq!(err, "duplicate node name \"x\": sensors[0] and sensors[3]");
    }

    #[test]
    fn shared_nodes_have_several_parents_and_roots_are_ordered() {
        let g = build(vec![
            sensor("s"),
            NodeSpec::system("a", Aggregation::All, ["s"]),
            NodeSpec::system("b", Aggregation::Any, ["s", "a"]),
            NodeSpec::service("svc", ["b"]),
            sensor("lonely"),
        ])
        .expect("valid");
        let s = g.find("s").expect("exists");
        let names = |ids: &[NodeId]| -> Vec<&str> {
            ids.iter().map(|&i| g.node(i).name.as_str()).collect()
        };
        assert_eq!(names(g.parents(s)), ["a", "b"]);
        assert_eq!(names(g.roots()), ["svc", "lonely"]);
        // Children come before parents.
        for id in g.ids() {
            for e in &g.node(id).edges {
                assert!(g.position(e.child) < g.position(id));
            }
        }
    }

    #[test]
    fn depth_limit_is_enforced_without_recursion() {
        let chain = |len: usize| {
            let mut specs = vec![sensor("n0")];
            for i in 1..len {
                specs.push(NodeSpec::system(
                    format!("n{i}"),
                    Aggregation::All,
                    [format!("n{}", i - 1).as_str()],
                ));
            }
            build(specs)
        };
        assert!(chain(MAX_DEPTH).is_ok());
        let err = chain(MAX_DEPTH + 1).unwrap_err().to_string();
        assert_eq!(
            err,
            "health graph deeper than 256 levels: n256 -> n255 -> n254 -> ... -> n0 (257 nodes)"
        );
        // Ten thousand levels: an error, not a stack overflow.
        assert!(matches!(chain(10_000), Err(Error::TooDeep { .. })));
        // A ten-thousand-node cycle is found iteratively too.
        let mut specs: Vec<NodeSpec> = (0..10_000)
            .map(|i| {
                NodeSpec::system(
                    format!("c{i}"),
                    Aggregation::All,
                    [format!("c{}", (i + 1) % 10_000).as_str()],
                )
            })
            .collect();
        specs.push(sensor("z"));
        assert!(matches!(build(specs), Err(Error::Cycle { .. })));
    }

    #[test]
    fn bad_parameters_are_rejected_where_declared() {
        let err = build(vec![
            sensor("s"),
            NodeSpec {
                children: vec![EdgeSpec::to("s").weight(MAX_WEIGHT + 1)],
                ..NodeSpec::system("w", Aggregation::All, Vec::<EdgeSpec>::new())
            }
            .at("systems[1]"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("systems[1].children[0].weight"), "{err}");
        let err = build(vec![sensor("")]).unwrap_err().to_string();
        assert!(err.contains("name: missing"), "{err}");
    }
}
