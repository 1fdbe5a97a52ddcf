//! Reading sensors: per-sensor timeouts, bounded concurrency, bulkheads, and full or
//! incremental passes (needs the `runtime` feature).
//!
//! One pass reads every sensor of the graph exactly once, at most
//! [`EvaluationOptions::concurrency`] at a time, then judges every system once from
//! those readings ([`Snapshot::compute`]). A sensor node shared by many parents is still
//! read once. A sensor that does not answer within its timeout (default
//! [`DEFAULT_TIMEOUT`], 10 s) is Unknown with the message `timed out after 10s`; one that
//! returns an error is Unknown with the error's text; one that panics is Unknown with
//! `sensor panicked: <message>`. None of these affects any other node's reading.
//!
//! Sensors that answer [`Sensor::immediate`](crate::Sensor::immediate) (constants) are read synchronously, before
//! the asynchronous ones, and take no concurrency slot; an asynchronous read that is
//! ready at its first poll (a cache hit) never arms its timer.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use alert_core::Duration;
use futures::{FutureExt, StreamExt};

use crate::clock::{Clock, SystemClock};
use crate::graph::{Graph, NodeId};
use crate::sensor::SensorSet;
use crate::snapshot::{Change, Snapshot};
use crate::state::State;
use crate::status::{Level, Reading, Status};

/// The default per-sensor timeout, 10 s (as Gatus).
pub const DEFAULT_TIMEOUT: Duration = match Duration::from_secs(10) {
    Some(d) => d,
    None => Duration::ZERO,
};

/// The default number of sensors read at once.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// How a pass reads sensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluationOptions {
    /// Timeout of a sensor that does not set its own.
    pub timeout: Duration,
    /// How many sensors are read at once (at least 1).
    pub concurrency: usize,
}

impl Default for EvaluationOptions {
    fn default() -> Self {
        EvaluationOptions {
            timeout: DEFAULT_TIMEOUT,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// A graph with its sensors, ready to evaluate.
///
/// ```
/// use std::sync::Arc;
/// use alert_health_graph::{Aggregation, Engine, GraphBuilder, Kind, NodeSpec, SensorSet, State};
/// use alert_health_graph::constant::ConstantSensor;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// let mut b = GraphBuilder::new();
/// b.add(NodeSpec::sensor("up", Kind::builtin("constant")))?;
/// b.add(NodeSpec::sensor("down", Kind::builtin("constant")))?;
/// b.add(NodeSpec::system("either", Aggregation::Any, ["up", "down"]))?;
/// let graph = Arc::new(b.build()?);
/// let mut sensors = SensorSet::for_graph(&graph);
/// sensors.insert(graph.find("up")?, Arc::new(ConstantSensor::new(State::Passing)));
/// sensors.insert(graph.find("down")?, Arc::new(ConstantSensor::new(State::Failing)));
/// let engine = Engine::new(graph, sensors);
/// let snapshot = engine.evaluate().await;
/// assert_eq!(snapshot.state_of("either")?, State::Passing);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Engine {
    graph: Arc<Graph>,
    sensors: SensorSet,
    options: EvaluationOptions,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("nodes", &self.graph.len())
            .field("sensors", &self.sensors)
            .field("options", &self.options)
            .finish()
    }
}

impl Engine {
    /// An engine with default options and the system clock.
    pub fn new(graph: Arc<Graph>, sensors: SensorSet) -> Engine {
        Engine {
            graph,
            sensors,
            options: EvaluationOptions::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same engine with other options (a concurrency of 0 is read as 1).
    pub fn with_options(mut self, options: EvaluationOptions) -> Engine {
        self.options = EvaluationOptions {
            concurrency: options.concurrency.max(1),
            ..options
        };
        self
    }

    /// The same engine stamping statuses with `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Engine {
        self.clock = clock;
        self
    }

    /// The graph.
    pub fn graph(&self) -> &Arc<Graph> {
        &self.graph
    }

    /// The clock statuses are stamped with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The immediate reading of a sensor node, if it has one (see
    /// [`Sensor::immediate`](crate::Sensor::immediate)); a panic becomes Unknown.
    fn read_immediate(&self, id: NodeId) -> Option<Reading> {
        let sensor = self.sensors.get(id)?;
        match std::panic::catch_unwind(AssertUnwindSafe(|| sensor.immediate())) {
            Ok(reading) => reading,
            Err(panic) => Some(panicked(&*panic)),
        }
    }

    /// Reads one sensor node, with its timeout and bulkhead.
    pub async fn read(&self, id: NodeId) -> Status {
        if let Some(reading) = self.read_immediate(id) {
            return reading.at(self.clock.now());
        }
        let Some(sensor) = self.sensors.get(id) else {
            return Status::explained(State::Unknown, "no sensor implementation", self.clock.now());
        };
        let limit = sensor.timeout().unwrap_or(self.options.timeout);
        let mut read = AssertUnwindSafe(sensor.read()).catch_unwind();
        // Ready at once (a cache hit): no timer.
        let outcome = match (&mut read).now_or_never() {
            Some(done) => Ok(done),
            None => tokio::time::timeout(limit.to_std(), read).await,
        };
        let reading = match outcome {
            Err(_) => Reading::explained(State::Unknown, format!("timed out after {limit}")),
            Ok(Err(panic)) => panicked(&*panic),
            Ok(Ok(Err(error))) => {
                Reading::new(State::Unknown).with_message(Level::Error, error.to_string())
            }
            Ok(Ok(Ok(reading))) => reading,
        };
        reading.at(self.clock.now())
    }

    /// Reads every sensor once, at most `concurrency` at a time; the statuses are
    /// returned by node index (`None` for nodes that are not sensors).
    pub async fn read_all(&self) -> Vec<Option<Status>> {
        let mut table: Vec<Option<Status>> = vec![None; self.graph.len()];
        let now = self.clock.now();
        let mut waiting = Vec::new();
        for &id in self.graph.sensors() {
            match self.read_immediate(id) {
                Some(reading) => table[id.index()] = Some(reading.at(now)),
                None => waiting.push(id),
            }
        }
        let mut reads = futures::stream::iter(waiting)
            .map(|id| async move { (id, self.read(id).await) })
            .buffer_unordered(self.options.concurrency);
        while let Some((id, status)) = reads.next().await {
            table[id.index()] = Some(status);
        }
        table
    }

    /// One full pass: every sensor read once, every system judged once.
    pub async fn evaluate(&self) -> Snapshot {
        let mut table = self.read_all().await;
        let now = self.clock.now();
        Snapshot::compute(Arc::clone(&self.graph), now, |id| {
            table[id.index()]
                .take()
                .unwrap_or_else(|| Status::explained(State::Unknown, "not read", now))
        })
    }

    /// Reads one sensor again and propagates its change incrementally.
    pub async fn refresh(&self, snapshot: &mut Snapshot, id: NodeId) -> Vec<Change> {
        let status = self.read(id).await;
        snapshot.apply(id, status)
    }

    /// Reads every sensor once and applies each reading incrementally: only ancestors of
    /// sensors whose state changed are recomputed. Returns the change log of the pass.
    pub async fn update(&self, snapshot: &mut Snapshot) -> Vec<Change> {
        let table = self.read_all().await;
        let mut log = Vec::new();
        for (index, status) in table.into_iter().enumerate() {
            if let Some(status) = status {
                log.extend(snapshot.apply(NodeId(index as u32), status));
            }
        }
        log
    }
}

/// Unknown, `sensor panicked: <message>`.
fn panicked(panic: &(dyn std::any::Any + Send)) -> Reading {
    let text = if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    };
    Reading::new(State::Unknown).with_message(Level::Error, format!("sensor panicked: {text}"))
}
