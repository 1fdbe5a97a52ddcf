//! TCP connect check, kind `alert-health:tcp`.
//!
//! `tcp: {address: "127.0.0.1:5432", timeout: 2s}`. Connected: Passing, with the
//! message `connected to ADDRESS`; refused or unreachable: Failing with the OS error;
//! no answer within the
//! timeout: Unknown `timed out after 2s` (the sensor's timeout, default the
//! evaluation's).

use std::sync::Arc;

use alert_core::Duration;
use async_trait::async_trait;
use serde::Deserialize;

use crate::error::Result;
use crate::kind::Kind;
use crate::registry::{Component, Instrumentor, Registry, Request};
use crate::sensor::Sensor;
use crate::state::State;
use crate::status::Reading;

/// Parameters of a TCP check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpCheck {
    /// `host:port`.
    pub address: String,
    /// The sensor's timeout.
    #[serde(default)]
    pub timeout: Option<Duration>,
}

#[async_trait]
impl Sensor for TcpCheck {
    async fn read(&self) -> Result<Reading> {
        Ok(match tokio::net::TcpStream::connect(&self.address).await {
            Ok(_) => Reading::explained(State::Passing, format!("connected to {}", self.address)),
            Err(e) => Reading::explained(
                State::Failing,
                format!("connecting to {}: {e}", self.address),
            ),
        })
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

/// Instruments `alert-health:tcp`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpInstrumentor;

impl Instrumentor for TcpInstrumentor {
    fn kinds(&self) -> Vec<Kind> {
        vec![Kind::builtin("tcp")]
    }

    fn instrument(&self, _: &Registry, kind: &Kind, r: &Request<'_>) -> Result<Vec<Component>> {
        let check: TcpCheck = r.parse(kind)?;
        if check.address.rsplit_once(':').is_none() {
            return Err(r.error(
                kind,
                format!("address {:?} is not host:port", check.address),
            ));
        }
        Ok(vec![Component::Sensor {
            name: r.name.to_owned(),
            kind: kind.clone(),
            sensor: Arc::new(check),
        }])
    }
}
