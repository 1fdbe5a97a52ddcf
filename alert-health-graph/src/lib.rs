//! Sensors, Systems and Services (the Alpacalert design) over a DAG.
//!
//! Sensors measure one thing, systems compose sensors and systems and judge their
//! health, services are what others consume. The model (states, statuses, aggregations,
//! the graph, snapshots, explanations) is pure.

pub mod aggregation;
pub mod error;
pub mod explain;
pub mod graph;
pub mod kind;
pub mod snapshot;
pub mod state;
pub mod status;

pub use aggregation::{
    Aggregation, Judgement, MAX_WEIGHT, NO_CHILDREN, Propagation, Tally, Threshold, aggregate,
    decides,
};
pub use error::{Error, Result};
pub use explain::{ExplainNode, ExplainPath, Explanation, MAX_EXPLAIN_NODES};
pub use graph::{Edge, EdgeSpec, Graph, GraphBuilder, MAX_DEPTH, Node, NodeId, NodeSpec, Role};
pub use kind::{BUILTIN_NAMESPACE, Kind};
pub use snapshot::{Change, Snapshot};
pub use state::State;
pub use status::{Level, Message, Reading, Status};
