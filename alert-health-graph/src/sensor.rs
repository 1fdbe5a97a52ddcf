//! The [`Sensor`] trait: something that measures one thing and reports a [`Reading`].
//!
//! The trait is runtime-agnostic (an `async fn`, boxed): the model compiles without an
//! async runtime, and the evaluation module drives sensors with timeouts and bounded
//! concurrency. A [`SensorSet`] pairs every sensor node of a [`Graph`] with its
//! implementation.

use std::sync::Arc;

use alert_core::Duration;
use async_trait::async_trait;

use crate::error::Result;
use crate::graph::{Graph, NodeId};
use crate::status::Reading;

/// Measures one thing.
///
/// A sensor that cannot measure returns an error; the evaluator turns it into Unknown
/// with the error's text as an `ERROR` message, for this node only. A failed check (a
/// refused connection, a 500) is not an error but a Failing reading.
///
/// ```
/// use alert_health_graph::{Reading, Result, Sensor, State};
///
/// struct DiskFree { percent: u8 }
///
/// #[async_trait::async_trait]
/// impl Sensor for DiskFree {
///     async fn read(&self) -> Result<Reading> {
///         Ok(if self.percent < 10 {
///             Reading::explained(State::Failing, format!("{}% free", self.percent))
///         } else {
///             Reading::new(State::Passing)
///         })
///     }
/// }
/// ```
#[async_trait]
pub trait Sensor: Send + Sync {
    /// Takes one measurement.
    async fn read(&self) -> Result<Reading>;

    /// This sensor's timeout, when it differs from the evaluation's default.
    fn timeout(&self) -> Option<Duration> {
        None
    }

    /// The reading, when the sensor knows it without waiting (a constant, a fact it
    /// was built with). The evaluator then skips the asynchronous machinery (no task,
    /// no timer): still one read per pass, a panic still caught. `None` (the default)
    /// means: call [`Sensor::read`].
    fn immediate(&self) -> Option<Reading> {
        None
    }
}

/// The implementation of every sensor node of one graph.
#[derive(Clone, Default)]
pub struct SensorSet {
    by_node: Vec<Option<Arc<dyn Sensor>>>,
}

impl std::fmt::Debug for SensorSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let present = self.by_node.iter().filter(|s| s.is_some()).count();
        write!(f, "SensorSet({present} sensors)")
    }
}

impl SensorSet {
    /// An empty set sized for `graph`.
    pub fn for_graph(graph: &Graph) -> SensorSet {
        SensorSet {
            by_node: vec![None; graph.len()],
        }
    }

    /// Sets the implementation of the sensor node `id`.
    pub fn insert(&mut self, id: NodeId, sensor: Arc<dyn Sensor>) {
        if self.by_node.len() <= id.index() {
            self.by_node.resize(id.index() + 1, None);
        }
        self.by_node[id.index()] = Some(sensor);
    }

    /// The implementation of `id`, if any.
    pub fn get(&self, id: NodeId) -> Option<&Arc<dyn Sensor>> {
        self.by_node.get(id.index()).and_then(Option::as_ref)
    }
}

/// A sensor with its own timeout, overriding the evaluation's default.
pub struct WithTimeout {
    inner: Arc<dyn Sensor>,
    timeout: Duration,
}

impl WithTimeout {
    /// `inner`, timed out after `timeout`.
    pub fn new(inner: Arc<dyn Sensor>, timeout: Duration) -> WithTimeout {
        WithTimeout { inner, timeout }
    }
}

#[async_trait]
impl Sensor for WithTimeout {
    async fn read(&self) -> Result<Reading> {
        self.inner.read().await
    }

    fn timeout(&self) -> Option<Duration> {
        Some(self.timeout)
    }

    fn immediate(&self) -> Option<Reading> {
        self.inner.immediate()
    }
}
