//! Putting a graph together from instrumented components and plain nodes, keeping each
//! sensor node's implementation: the result is a [`HealthGraph`].

use std::sync::Arc;

use crate::error::Result;
use crate::graph::{EdgeSpec, Graph, GraphBuilder, NodeSpec};
use crate::registry::Component;
use crate::sensor::{Sensor, SensorSet};

/// A built graph and the implementation of each of its sensors.
#[derive(Debug, Clone)]
pub struct HealthGraph {
    /// The checked DAG.
    pub graph: Arc<Graph>,
    /// One implementation per sensor node.
    pub sensors: SensorSet,
}

/// Collects nodes and components, then builds a [`HealthGraph`].
///
/// ```
/// use std::sync::Arc;
/// use alert_health_graph::{Aggregation, Assembly, Component, Kind, NodeSpec, State};
/// use alert_health_graph::constant::ConstantSensor;
///
/// let mut a = Assembly::new();
/// a.add_component(Component::Sensor {
///     name: "disk".into(),
///     kind: Kind::builtin("constant"),
///     sensor: Arc::new(ConstantSensor::new(State::Passing)),
/// }, "sensors[0]")?;
/// a.add_node(NodeSpec::system("host", Aggregation::All, ["disk"]))?;
/// let built = a.build()?;
/// assert_eq!(built.graph.len(), 2);
/// # Ok::<(), alert_health_graph::Error>(())
/// ```
#[derive(Default)]
pub struct Assembly {
    builder: GraphBuilder,
    sensors: Vec<(String, Arc<dyn Sensor>)>,
}

impl Assembly {
    /// Nothing yet.
    pub fn new() -> Assembly {
        Assembly::default()
    }

    /// Adds a node that is not a sensor (a sensor node added this way gets no
    /// implementation and reads Unknown).
    pub fn add_node(&mut self, spec: NodeSpec) -> Result<()> {
        self.builder.add(spec).map(|_| ())
    }

    /// Adds a component and, for systems, everything beneath it; `origin` says where it
    /// was declared. Returns the component's name.
    pub fn add_component(&mut self, component: Component, origin: &str) -> Result<String> {
        match component {
            Component::Sensor { name, kind, sensor } => {
                self.builder
                    .add(NodeSpec::sensor(name.clone(), kind).at(origin))?;
                self.sensors.push((name.clone(), sensor));
                Ok(name)
            }
            Component::System {
                name,
                kind,
                aggregation,
                children,
            } => {
                let mut edges = Vec::with_capacity(children.len());
                for (i, child) in children.into_iter().enumerate() {
                    let child_name = self.add_component(child, &format!("{origin}[{i}]"))?;
                    edges.push(EdgeSpec::to(child_name));
                }
                let spec = NodeSpec {
                    kind,
                    ..NodeSpec::system(name.clone(), aggregation, edges)
                };
                self.builder.add(spec.at(origin))?;
                Ok(name)
            }
        }
    }

    /// Whether a node of this name was added.
    pub fn contains(&self, name: &str) -> bool {
        self.builder.contains(name)
    }

    /// Builds and checks the graph and pairs every sensor with its node.
    pub fn build(self) -> Result<HealthGraph> {
        let graph = Arc::new(self.builder.build()?);
        let mut sensors = SensorSet::for_graph(&graph);
        for (name, sensor) in self.sensors {
            sensors.insert(graph.find(&name)?, sensor);
        }
        Ok(HealthGraph { graph, sensors })
    }
}
