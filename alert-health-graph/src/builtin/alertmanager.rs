//! Alerts in an Alertmanager as a sensor, kind `alert-health:alertmanager`.
//!
//! ```yaml
//! alertmanager:
//!   url: http://127.0.0.1:9093
//!   filter: ['service="db"']            # matched by Alertmanager (server side)
//!   matchers: ['alertname=~"Disk.*"']    # matched here, on the shared answer
//!   silenced: false       # count silenced alerts too (default false)
//!   inhibited: false      # count inhibited alerts too (default false)
//!   unlabelled: failing   # state of an alert without a recognised severity (default failing)
//!   ttl: 10s              # how long one answer is shared (default 10s)
//! ```
//!
//! The sensor reads `GET /api/v2/alerts?active=true&silenced=…&inhibited=…&filter=…`
//! through the shared source cache: every sensor with the same URL, `filter` and flags
//! shares one call per TTL. `filter` is matched by Alertmanager itself; `matchers`
//! (Alertmanager 0.25's classic grammar, read with [`alert_core::parse_matcher`]) are
//! applied to the shared answer, so many sensors that differ only in `matchers` cost one
//! call. The `severity` label
//! gives each alert's state (read with [`alert_core::Severity::from_label_value`]):
//! critical and error → Failing, warning → Degraded, info → Passing (with a message),
//! anything else → `unlabelled`. The sensor's state is the worst of them; no alerts is
//! Passing, `no alerts firing`. Messages name up to ten alerts with their `summary` (or
//! `description`) annotation.
//!
//! (The request is made here with reqwest; `alert-cortex-adapter`'s API client is the
//! intended home for it.)

use std::collections::BTreeMap;
use std::sync::Arc;

use alert_core::{
    Duration, LabelSet, Matchers, ParserMode, SEVERITY_LABEL, Severity, parse_matcher,
};
use async_trait::async_trait;
use serde::Deserialize;

use super::Sources;
use crate::error::{Error, Result};
use crate::kind::Kind;
use crate::registry::{Component, Instrumentor, Registry, Request};
use crate::sensor::Sensor;
use crate::state::State;
use crate::status::Reading;

/// How many alerts a reading lists by name.
const LISTED: usize = 10;

fn default_ttl() -> Duration {
    Duration::from_secs(10).unwrap_or(Duration::ZERO)
}

fn default_unlabelled() -> State {
    State::Failing
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    url: String,
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

/// One alert as `GET /api/v2/alerts` returns it (the fields this sensor reads).
#[derive(Debug, Clone, Deserialize)]
struct GettableAlert {
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// The state an alert's `severity` label gives.
pub fn state_for_severity(label: Option<&str>, unlabelled: State) -> State {
    match label.and_then(Severity::from_label_value) {
        Some(Severity::Critical | Severity::Error) => State::Failing,
        Some(Severity::Warning) => State::Degraded,
        Some(Severity::Info) => State::Passing,
        None => unlabelled,
    }
}

/// Alerts matching a filter in one Alertmanager.
#[derive(Debug, Clone)]
pub struct AlertmanagerAlerts {
    sources: Sources,
    url: String,
    query: Vec<(String, String)>,
    key: String,
    matchers: Matchers,
    unlabelled: State,
    ttl: Duration,
    timeout: Option<Duration>,
}

impl AlertmanagerAlerts {
    fn judge(&self, alerts: &[GettableAlert]) -> Reading {
        if alerts.is_empty() {
            return Reading::explained(State::Passing, "no alerts firing");
        }
        let judged: Vec<(State, String)> = alerts
            .iter()
            .map(|a| {
                let sev = a.labels.get(SEVERITY_LABEL).map(String::as_str);
                (state_for_severity(sev, self.unlabelled), describe(a))
            })
            .collect();
        Reading::worst_of(judged, LISTED, "alerts").unwrap_or_default()
    }
}

fn describe(alert: &GettableAlert) -> String {
    let name = alert.labels.get("alertname").map_or("", String::as_str);
    let rest: Vec<String> = alert
        .labels
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
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
        let got = self
            .sources
            .get_json(
                self.key.clone(),
                self.url.clone(),
                self.query.clone(),
                self.ttl,
            )
            .await?;
        let mut alerts: Vec<GettableAlert> =
            Vec::deserialize(&*got.value).map_err(|e| Error::UnexpectedResponse {
                target: self.url.clone(),
                reason: format!("not a list of alerts: {e}"),
            })?;
        if !self.matchers.is_empty() {
            alerts.retain(|a| {
                LabelSet::try_from(a.labels.clone()).is_ok_and(|l| self.matchers.matches(&l))
            });
        }
        Ok(self.judge(&alerts))
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
        let p: Params = r.parse(kind)?;
        let base = reqwest::Url::parse(&p.url)
            .map_err(|e| r.error(kind, format!("url {:?}: {e}", p.url)))?;
        let url = format!("{}/api/v2/alerts", base.as_str().trim_end_matches('/'));
        let mut query = vec![
            ("active".to_owned(), "true".to_owned()),
            ("silenced".to_owned(), p.silenced.to_string()),
            ("inhibited".to_owned(), p.inhibited.to_string()),
        ];
        let mut filter = p.filter.clone();
        filter.sort();
        query.extend(filter.iter().map(|f| ("filter".to_owned(), f.clone())));
        let key = format!("alertmanager {url} {query:?}");
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
                url,
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
