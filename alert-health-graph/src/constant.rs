//! The constant sensor: a fixed state (and message), for facts already known and for
//! tests. Kind `alert-health:constant`.
//!
//! Graph file forms: `constant: failing` or
//! `constant: {state: failing, message: "disk replaced, awaiting rebuild"}`.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;

use crate::error::Result;
use crate::kind::Kind;
use crate::registry::{Component, Instrumentor, Registry, Request};
use crate::sensor::Sensor;
use crate::state::State;
use crate::status::Reading;

/// A sensor that always reads the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstantSensor {
    reading: Reading,
}

impl ConstantSensor {
    /// Always `state`, no message.
    pub fn new(state: State) -> ConstantSensor {
        ConstantSensor {
            reading: Reading::new(state),
        }
    }

    /// Always this reading.
    pub fn reading(reading: Reading) -> ConstantSensor {
        ConstantSensor { reading }
    }
}

#[async_trait]
impl Sensor for ConstantSensor {
    async fn read(&self) -> Result<Reading> {
        Ok(self.reading.clone())
    }

    fn immediate(&self) -> Option<Reading> {
        Some(self.reading.clone())
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Params {
    State(State),
    Full {
        state: State,
        #[serde(default)]
        message: Option<String>,
    },
}

/// Instruments `alert-health:constant`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConstantInstrumentor;

impl Instrumentor for ConstantInstrumentor {
    fn kinds(&self) -> Vec<Kind> {
        vec![Kind::builtin("constant")]
    }

    fn instrument(
        &self,
        _: &Registry,
        kind: &Kind,
        request: &Request<'_>,
    ) -> Result<Vec<Component>> {
        let params: Params = request.parse(kind).map_err(|_| {
            request.error(
                kind,
                format!(
                    "expected a state (passing, pending, degraded, unknown, failing) or \
                     {{state, message}}, got {}",
                    request.params
                ),
            )
        })?;
        let reading = match params {
            Params::State(state)
            | Params::Full {
                state,
                message: None,
            } => Reading::new(state),
            Params::Full {
                state,
                message: Some(m),
            } => Reading::explained(state, m),
        };
        Ok(vec![Component::Sensor {
            name: request.name.to_owned(),
            kind: kind.clone(),
            sensor: Arc::new(ConstantSensor::reading(reading)),
        }])
    }
}
