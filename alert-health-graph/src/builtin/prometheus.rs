//! A threshold on a Prometheus instant query, kind `alert-health:prometheus`.
//!
//! ```yaml
//! prometheus:
//!   url: http://127.0.0.1:9090
//!   query: 'sum by (instance) (rate(http_requests_total{code=~"5.."}[5m]))'
//!   select: {instance: "api-1:80"}   # only series with these exact labels (optional)
//!   fail_if: "> 5"                   # Failing when the value satisfies this
//!   warn_if: "> 1"                   # Degraded when it satisfies this (optional)
//!   absent: unknown                  # state when no series is selected (default unknown)
//!   ttl: 10s                         # how long one answer is shared (default 10s)
//! ```
//!
//! `GET /api/v1/query?query=…` goes through the shared source cache keyed by URL and
//! query, so sensors that pick different series of one query share one call per TTL.
//! Vector and scalar results are read; each selected series is judged (`fail_if` first,
//! then `warn_if`, else Passing; a NaN value is Unknown) and the sensor takes the worst.
//! Conditions are `<`, `<=`, `>`, `>=`, `==` or `!=` and a number.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use alert_core::{Duration, redact_urls};
use async_trait::async_trait;
use serde::Deserialize;

use super::Sources;
use crate::error::{Error, Result};
use crate::kind::Kind;
use crate::registry::{Component, Instrumentor, Registry, Request};
use crate::sensor::Sensor;
use crate::state::State;
use crate::status::Reading;

/// How many series a reading lists.
const LISTED: usize = 10;

/// A comparison with a number: `> 0.9`.
///
/// ```
/// use alert_health_graph::builtin::prometheus::Condition;
/// let c: Condition = "<= 0.5".parse()?;
/// assert!(c.holds(0.5) && !c.holds(0.6));
/// assert_eq!(c.to_string(), "<= 0.5");
/// # Ok::<(), alert_health_graph::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Condition {
    op: Op,
    value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    const ALL: [(&'static str, Op); 6] = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    fn as_str(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("", |(s, _)| s)
    }
}

impl Condition {
    /// Whether `v` satisfies the condition (never for NaN).
    pub fn holds(&self, v: f64) -> bool {
        if v.is_nan() {
            return false;
        }
        match self.op {
            Op::Lt => v < self.value,
            Op::Le => v <= self.value,
            Op::Gt => v > self.value,
            Op::Ge => v >= self.value,
            Op::Eq => v == self.value,
            Op::Ne => v != self.value,
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op.as_str(), self.value)
    }
}

impl FromStr for Condition {
    type Err = Error;

    fn from_str(s: &str) -> Result<Condition> {
        let t = s.trim();
        let invalid = || Error::InvalidField {
            field: "condition".to_owned(),
            value: s.to_owned(),
            expected: "an operator (<, <=, >, >=, ==, !=) and a number, like \"> 0.9\"".to_owned(),
        };
        let (op, rest) = Op::ALL
            .iter()
            .find_map(|(text, op)| t.strip_prefix(text).map(|rest| (*op, rest)))
            .ok_or_else(invalid)?;
        let value: f64 = rest.trim().parse().map_err(|_| invalid())?;
        if value.is_nan() {
            return Err(invalid());
        }
        Ok(Condition { op, value })
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

fn default_ttl() -> Duration {
    Duration::from_secs(10).unwrap_or(Duration::ZERO)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    url: String,
    query: String,
    #[serde(default)]
    select: BTreeMap<String, String>,
    fail_if: Condition,
    #[serde(default)]
    warn_if: Option<Condition>,
    #[serde(default)]
    absent: Option<State>,
    #[serde(default = "default_ttl")]
    ttl: Duration,
    #[serde(default)]
    timeout: Option<Duration>,
}

#[derive(Debug, Deserialize)]
struct QueryResponse {
    status: String,
    #[serde(default)]
    data: Option<QueryData>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum QueryData {
    Vector(Vec<Sample>),
    Scalar((f64, String)),
    Matrix(serde::de::IgnoredAny),
    String(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
struct Sample {
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

/// A threshold on one query's series.
#[derive(Debug, Clone)]
pub struct PrometheusThreshold {
    sources: Sources,
    url: String,
    query: String,
    select: BTreeMap<String, String>,
    fail_if: Condition,
    warn_if: Option<Condition>,
    absent: State,
    ttl: Duration,
    timeout: Option<Duration>,
}

impl PrometheusThreshold {
    fn judge(&self, series: Vec<(BTreeMap<String, String>, String)>) -> Reading {
        let selected: Vec<_> = series
            .into_iter()
            .filter(|(labels, _)| {
                self.select
                    .iter()
                    .all(|(k, v)| labels.get(k).is_some_and(|x| x == v))
            })
            .collect();
        if selected.is_empty() {
            return Reading::explained(self.absent, "query returned no selected series");
        }
        let judged: Vec<(State, String)> = selected
            .into_iter()
            .map(|(labels, raw)| {
                let shown: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                let series = format!("{{{}}}", shown.join(", "));
                let value = parse_sample(&raw);
                let state = match value {
                    None => State::Unknown,
                    Some(v) if self.fail_if.holds(v) => State::Failing,
                    Some(v) if self.warn_if.is_some_and(|w| w.holds(v)) => State::Degraded,
                    Some(_) => State::Passing,
                };
                let why = match state {
                    State::Failing => format!(" ({})", self.fail_if),
                    State::Degraded => self.warn_if.map_or(String::new(), |w| format!(" ({w})")),
                    _ => String::new(),
                };
                (state, format!("{series} = {raw}{why}"))
            })
            .collect();
        Reading::worst_of(judged, LISTED, "series").unwrap_or_default()
    }
}

fn parse_sample(raw: &str) -> Option<f64> {
    let v: f64 = match raw {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    (!v.is_nan()).then_some(v)
}

#[async_trait]
impl Sensor for PrometheusThreshold {
    async fn read(&self) -> Result<Reading> {
        let key = format!("prometheus {} {}", self.url, self.query);
        let got = self
            .sources
            .get_json(
                key,
                self.url.clone(),
                vec![("query".to_owned(), self.query.clone())],
                self.ttl,
            )
            .await?;
        let unexpected = |reason: String| Error::UnexpectedResponse {
            target: redact_urls(&self.url),
            reason,
        };
        let response = QueryResponse::deserialize(&*got.value)
            .map_err(|e| unexpected(format!("not a query response: {e}")))?;
        if response.status != "success" {
            return Err(unexpected(format!(
                "status {}: {}",
                response.status,
                response.error.unwrap_or_default()
            )));
        }
        let series = match response.data {
            Some(QueryData::Vector(samples)) => {
                samples.into_iter().map(|s| (s.metric, s.value.1)).collect()
            }
            Some(QueryData::Scalar((_, v))) => vec![(BTreeMap::new(), v)],
            Some(QueryData::Matrix(_) | QueryData::String(_)) | None => {
                return Err(unexpected(
                    "expected a vector or scalar result (an instant query)".to_owned(),
                ));
            }
        };
        Ok(self.judge(series))
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

/// Instruments `alert-health:prometheus`.
#[derive(Debug, Clone)]
pub struct PrometheusInstrumentor {
    sources: Sources,
}

impl PrometheusInstrumentor {
    /// Sensors reading through `sources`.
    pub fn new(sources: Sources) -> PrometheusInstrumentor {
        PrometheusInstrumentor { sources }
    }
}

impl Instrumentor for PrometheusInstrumentor {
    fn kinds(&self) -> Vec<Kind> {
        vec![Kind::builtin("prometheus")]
    }

    fn instrument(&self, _: &Registry, kind: &Kind, r: &Request<'_>) -> Result<Vec<Component>> {
        let p: Params = r.parse(kind)?;
        let base = reqwest::Url::parse(&p.url)
            .map_err(|e| r.error(kind, format!("url {:?}: {e}", redact_urls(&p.url))))?;
        if p.query.trim().is_empty() {
            return Err(r.error(kind, "query: missing required value"));
        }
        Ok(vec![Component::Sensor {
            name: r.name.to_owned(),
            kind: kind.clone(),
            sensor: Arc::new(PrometheusThreshold {
                sources: self.sources.clone(),
                url: format!("{}/api/v1/query", base.as_str().trim_end_matches('/')),
                query: p.query,
                select: p.select,
                fail_if: p.fail_if,
                warn_if: p.warn_if,
                absent: p.absent.unwrap_or(State::Unknown),
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
    fn conditions_parse_and_hold() {
        for (text, yes, no) in [
            ("< 1", 0.5, 1.0),
            ("<=1", 1.0, 1.5),
            ("> 0.9", 0.95, 0.9),
            (">= 0.9", 0.9, 0.8),
            ("== 0", 0.0, 1.0),
            ("!= 0", 1.0, 0.0),
        ] {
            let c: Condition = text.parse().expect("valid");
            assert!(c.holds(yes) && !c.holds(no), "{text}");
            assert!(!c.holds(f64::NAN));
        }
        for bad in ["1", "< x", "=< 1", "", "> NaN"] {
            assert!(bad.parse::<Condition>().is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// A condition's string form parses back to the same condition, and agrees with
        /// the comparison it names.
        #[test]
        fn conditions_round_trip(op in 0usize..6, value in -1e9f64..1e9, probe in -1e9f64..1e9) {
            let c: Condition = format!("{} {value}", Op::ALL[op].0).parse().unwrap();
            proptest::prop_assert_eq!(c.to_string().parse::<Condition>().unwrap(), c);
            let expected = match Op::ALL[op].1 {
                Op::Lt => probe < value,
                Op::Le => probe <= value,
                Op::Gt => probe > value,
                Op::Ge => probe >= value,
                Op::Eq => probe == value,
                Op::Ne => probe != value,
            };
            proptest::prop_assert_eq!(c.holds(probe), expected);
        }

        /// Arbitrary text never panics the condition parser.
        #[test]
        fn condition_parser_does_not_panic(text in ".{0,16}") {
            let _ = text.parse::<Condition>();
        }
    }

    #[test]
    fn samples_read_prometheus_spellings() {
        assert_eq!(parse_sample("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_sample("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_sample("NaN"), None);
        assert_eq!(parse_sample("0.25"), Some(0.25));
    }
}
