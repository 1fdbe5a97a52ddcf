//! Sensors, Systems and Services (the Alpacalert design) over a DAG.
//!
//! Sensors measure one thing, systems compose sensors and systems and judge their
//! health, services are what others consume. The model (states, statuses, aggregations,
//! the graph, snapshots, explanations) is pure.

pub mod aggregation;
pub mod alerting;
pub mod assembly;
pub mod builtin;
pub mod clock;
pub mod constant;
pub mod error;
pub mod explain;
pub mod graph;
pub mod graph_file;
pub mod history;
pub mod kind;
pub mod registry;
pub mod sensor;
pub mod snapshot;
pub mod state;
pub mod status;
pub mod visualiser;

#[cfg(feature = "runtime")]
pub mod evaluation;
#[cfg(feature = "runtime")]
pub mod evaluator;
#[cfg(feature = "runtime")]
pub mod leader;
#[cfg(feature = "runtime")]
pub mod source_cache;

pub use aggregation::{
    Aggregation, Judgement, MAX_WEIGHT, NO_CHILDREN, Propagation, Tally, Threshold, aggregate,
    decides,
};
pub use alerting::{ALERT_NAME, AlertPolicy, AlertTracker, PostableAlert};
pub use assembly::{Assembly, HealthGraph};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use explain::{ExplainNode, ExplainPath, Explanation, MAX_EXPLAIN_NODES};
pub use graph::{Edge, EdgeSpec, Graph, GraphBuilder, MAX_DEPTH, Node, NodeId, NodeSpec, Role};
pub use graph_file::GraphFile;
pub use history::{DayUptime, StateHistory, Transition, Uptime, UptimeWeights};
pub use kind::{BUILTIN_NAMESPACE, Kind};
pub use registry::{Component, Instrumentor, Registry, Request};
pub use sensor::{Sensor, SensorSet, WithTimeout};
pub use snapshot::{Change, Snapshot};
pub use state::State;
pub use status::{Level, Message, Reading, Status};

#[cfg(feature = "runtime")]
pub use evaluation::{DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Engine, EvaluationOptions};
#[cfg(feature = "http")]
pub use evaluator::AlertmanagerSink;
#[cfg(feature = "runtime")]
pub use evaluator::{AlertSink, Evaluator, PassReport, Published};
#[cfg(feature = "runtime")]
pub use leader::{LeaderElection, LocalLease};
#[cfg(feature = "runtime")]
pub use source_cache::{Cached, SharedCache, SourceCache};
