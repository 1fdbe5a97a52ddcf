//! Alerts in an Alertmanager as a sensor, kind `alert-health:alertmanager`.
//!
//! ```yaml
//! alertmanager:
//!   url: http://127.0.0.1:9093          # or urls: [...] (HA members), or backend, tenant,
//!                                       # prefix, path_template, quorum, request_timeout,
//!                                       # attempts: see crate::alertmanager_target
//!   filter: ['service="db"']            # matched by Alertmanager (server side)
//!   matchers: ['alertname=~"Disk.*"']    # matched here, on the shared answer
//!   silenced: false       # count silenced alerts too (default false)
//!   inhibited: false      # count inhibited alerts too (default false)
//!   unlabelled: failing   # state of an alert without a recognised severity (default failing)
//!   ttl: 10s              # how long one answer is shared (default 10s)
//! ```
//!
//! The sensor reads `GET /api/v2/alerts?active=true&silenced=…&inhibited=…&filter=…`
//! with `alert-cortex-adapter`'s client, so the target may be a vanilla Alertmanager,
//! a Cortex or Mimir tenant, a gateway with a per-tenant path, and one member or the
//! members of an HA cluster ([`AlertmanagerTarget`]). With several members the read goes
//! to all of them and the answers are merged (alerts are not gossiped, so each member may
//! hold a different subset); it succeeds when the target's quorum answered, and the
//! reading then carries a `WARN` message naming each member that did not, with why.
//!
//! Reads go through the shared source cache: every sensor with the same target, `filter`
//! and flags shares one read per TTL. `filter` is matched by Alertmanager itself;
//! `matchers` (Alertmanager 0.25's classic grammar, read with [`alert_core::parse_matcher`])
//! are applied to the shared answer, so many sensors that differ only in `matchers` cost
//! one read. The `severity` label gives each alert's state (read with
//! [`alert_core::Severity::from_label_value`]): critical and error → Failing, warning →
//! Degraded, info → Passing (with a message), anything else → `unlabelled`. The sensor's
//! state is the worst of them; no alerts is Passing, `no alerts firing`. Messages name up
//! to ten alerts with their `summary` (or `description`) annotation. A read that fails
//! (no quorum, an answer other than 2xx such as Alertmanager's 400 for a bad filter) makes
//! the sensor Unknown with the client's error, which names the request and the server's
//! message. URLs in messages never show credentials (`http://<secret>@am:9093`, see
//! [`AlertmanagerTarget`]'s `Display`).

use std::sync::Arc;

use alert_core::{
    Duration, Matchers, ParserMode, SEVERITY_LABEL, Severity, parse_matcher, redact_urls,
};
use alert_cortex_adapter::{AlertQuery, Cluster, GettableAlert, Partial};
use async_trait::async_trait;
use serde::Deserialize;

use super::Sources;
use crate::alertmanager_target::{self, AlertmanagerTarget, request_error};
use crate::error::Result;
use crate::kind::Kind;
use crate::registry::{Component, Instrumentor, Registry, Request};
use crate::sensor::Sensor;
use crate::state::State;
use crate::status::{Level, Reading};

/// How many alerts a reading lists by name.
const LISTED: usize = 10;

fn default_ttl() -> Duration {
    Duration::from_secs(10).unwrap_or(Duration::ZERO)
}

fn default_unlabelled() -> State {
    State::Failing
}

/// The sensor's own parameters (the target's are read by [`AlertmanagerTarget`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    filter: Vec<String>,
    #[serde(default)]
    matchers: Vec<String>,
    #[serde(default)]
    silenced: bool,
    #[serde(default)]
    inhibited: bool,
    #[serde(default = "default_unlabelled")]
    unlabelled: State,
    #[serde(default = "default_ttl")]
    ttl: Duration,
    #[serde(default)]
    timeout: Option<Duration>,
}

/// A merged read of one target's alerts, as the source cache shares it.
pub type AlertsRead = Arc<Partial<Vec<GettableAlert>>>;

/// The state an alert's `severity` label gives.
pub fn state_for_severity(label: Option<&str>, unlabelled: State) -> State {
    match label.and_then(Severity::from_label_value) {
        Some(Severity::Critical | Severity::Error) => State::Failing,
        Some(Severity::Warning) => State::Degraded,
        Some(Severity::Info) => State::Passing,
        None => unlabelled,
    }
}

/// Alerts matching a filter in one Alertmanager (or HA cluster, or tenant).
#[derive(Debug, Clone)]
pub struct AlertmanagerAlerts {
    sources: Sources,
    cluster: Cluster,
    target: String,
    query: AlertQuery,
    key: String,
    matchers: Matchers,
    unlabelled: State,
    ttl: Duration,
    timeout: Option<Duration>,
}

impl AlertmanagerAlerts {
    fn judge(&self, read: &Partial<Vec<GettableAlert>>) -> Reading {
        let judged: Vec<(State, String)> = read
            .value
            .iter()
            .filter(|a| self.matchers.is_empty() || self.matchers.matches(&a.labels))
            .map(|a| {
                let sev = a.labels.get(SEVERITY_LABEL);
                (state_for_severity(sev, self.unlabelled), describe(a))
            })
            .collect();
        let reading = Reading::worst_of(judged, LISTED, "alerts")
            .unwrap_or_else(|| Reading::explained(State::Passing, "no alerts firing"));
        if read.failed.is_empty() {
            return reading;
        }
        let members = read.answered.len() + read.failed.len();
        let failed: Vec<String> = read.failed.iter().map(ToString::to_string).collect();
        reading.with_message(
            Level::Warn,
            redact_urls(&format!(
                "{} of {members} members did not answer: {}",
                read.failed.len(),
                failed.join("; ")
            )),
        )
    }
}

fn describe(alert: &GettableAlert) -> String {
    let name = alert.labels.get("alertname").unwrap_or("");
    let rest: Vec<String> = alert
        .labels
        .iter()
        .filter(|(k, _)| *k != "alertname")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    let mut text = format!("firing: {name}{{{}}}", rest.join(", "));
    if let Some(s) = alert
        .annotations
        .get("summary")
        .or_else(|| alert.annotations.get("description"))
    {
        text.push_str(": ");
        text.push_str(s);
    }
    text
}

#[async_trait]
impl Sensor for AlertmanagerAlerts {
    async fn read(&self) -> Result<Reading> {
        let cluster = self.cluster.clone();
        let query = self.query.clone();
        let target = self.target.clone();
        let got = self
            .sources
            .alerts
            .get(&self.key, self.ttl.to_std(), async move {
                match cluster.alerts(&query).await {
                    Ok(read) => Ok(Arc::new(read)),
                    Err(e) => Err(request_error(&target, e)),
                }
            })
            .await?;
        Ok(self.judge(&got.value))
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

/// Instruments `alert-health:alertmanager`.
#[derive(Debug, Clone)]
pub struct AlertmanagerInstrumentor {
    sources: Sources,
}

impl AlertmanagerInstrumentor {
    /// Sensors reading through `sources`.
    pub fn new(sources: Sources) -> AlertmanagerInstrumentor {
        AlertmanagerInstrumentor { sources }
    }
}

impl Instrumentor for AlertmanagerInstrumentor {
    fn kinds(&self) -> Vec<Kind> {
        vec![Kind::builtin("alertmanager")]
    }

    fn instrument(&self, _: &Registry, kind: &Kind, r: &Request<'_>) -> Result<Vec<Component>> {
        // The target's fields and the sensor's own share one mapping.
        let serde_json::Value::Object(mut own) = r.params.clone() else {
            return Err(r.error(kind, "expected a mapping with url or urls"));
        };
        let target: serde_json::Map<String, serde_json::Value> = alertmanager_target::FIELDS
            .iter()
            .filter_map(|f| own.remove(*f).map(|v| ((*f).to_owned(), v)))
            .collect();
        let target = AlertmanagerTarget::deserialize(serde_json::Value::Object(target))
            .map_err(|e| r.error(kind, e.to_string()))?;
        let p = Params::deserialize(serde_json::Value::Object(own))
            .map_err(|e| r.error(kind, e.to_string()))?;
        let cluster = alertmanager_target::cluster(&target, Some(&self.sources.client))
            .map_err(|e| r.error(kind, e.to_string()))?;
        let mut filter = p.filter.clone();
        filter.sort();
        let query = AlertQuery {
            filter,
            active: Some(true),
            silenced: Some(p.silenced),
            inhibited: Some(p.inhibited),
            ..AlertQuery::default()
        };
        let key = format!("alertmanager {target:?} {:?}", query.to_pairs(true));
        let mut matchers = Matchers::new(Vec::new());
        for (i, m) in p.matchers.iter().enumerate() {
            let matcher = parse_matcher(m, ParserMode::Classic)
                .map_err(|e| r.error(kind, format!("matchers[{i}]: {e}")))?;
            matchers.push(matcher);
        }
        Ok(vec![Component::Sensor {
            name: r.name.to_owned(),
            kind: kind.clone(),
            sensor: Arc::new(AlertmanagerAlerts {
                sources: self.sources.clone(),
                cluster,
                target: target.to_string(),
                query,
                key,
                matchers,
                unlabelled: p.unlabelled,
                ttl: p.ttl,
                timeout: p.timeout,
            }),
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_labels_map_to_states() {
        let f = State::Failing;
        assert_eq!(state_for_severity(Some("critical"), f), State::Failing);
        assert_eq!(state_for_severity(Some("page"), f), State::Failing);
        assert_eq!(state_for_severity(Some("error"), f), State::Failing);
        assert_eq!(state_for_severity(Some("warning"), f), State::Degraded);
        assert_eq!(state_for_severity(Some("info"), f), State::Passing);
        assert_eq!(
            state_for_severity(Some("whatever"), State::Unknown),
            State::Unknown
        );
        assert_eq!(state_for_severity(None, State::Degraded), State::Degraded);
    }
}
