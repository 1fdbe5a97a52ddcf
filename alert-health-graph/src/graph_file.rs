//! Graphs from YAML.
//!
//! ```yaml
//! sensors:
//!   - {name: db-primary, constant: passing}
//!   - {name: db-replica, tcp: {address: "127.0.0.1:5433"}, timeout: 2s}
//!   - {name: api-up, http: {url: "http://127.0.0.1:8080/healthz", expect_status: 200, timeout: 2s}}
//!   - {name: k8s-pods, kind: "kubernetes.io:Pod", params: {namespace: shop}}
//! systems:
//!   - {name: db, op: at_least, n: 1, warn: 0, children: [db-primary, db-replica]}
//!   - name: edge
//!     op: weighted
//!     n: 60%
//!     children: [{node: api-up, weight: 3}, {node: db, propagate: lower 1}]
//! services:
//!   - {name: reports, system: db, for: 5m}
//! evaluation: {timeout: 10s, concurrency: 16, interval: 30s}
//! alerting: {alertmanager: "http://127.0.0.1:9093", for: 2m, labels: {team: platform}}
//! # or, to an HA pair or a Cortex/Mimir tenant (see crate::alertmanager_target):
//! # alerting: {alertmanager: {urls: [http://am-0:8080, http://am-1:8080], backend: mimir, tenant: ops}}
//! page: {name: "Acme status", partial_outage_weight: 0.3, messages: [edge], refresh: 15s}
//! ```
//!
//! `page.messages` says whose sensor messages the public page (HTML and `summary.json`)
//! shows: `hidden` (the default: sensors report addresses, queries and error texts),
//! `shown`, or a list of nodes, each showing the messages of the sensors at or beneath
//! it. `page.refresh` is how often a browser refreshes the served page (the evaluation
//! interval when absent, else 30 s; at least 1 s).
//!
//! A sensor entry has a `name`, optionally `timeout` (the sensor's own timeout), and
//! either exactly one built-in key (`constant`, `tcp`, `http`, `alertmanager`,
//! `prometheus`, `remote`; see [`crate::builtin`]) or `kind: "namespace:name"` with
//! `params`, instrumented by whatever the [`Registry`] holds for that kind. An
//! instrumentor that makes several components gets an all-of system named after the
//! entry over them.
//!
//! Systems and services take `op` (default `all`; one of `all`, `any`, `optional`,
//! `at_least`, `nth_worst`, `nth_best`, `degraded`, `xor`, `not`, `weighted`), its
//! parameters (`n`, `warn`, `cap`; see [`crate::aggregation`]), `children` (names, or
//! `{node, propagate, weight}`), `system` as a shorthand for one child, and `for` (how
//! long the node must be unhealthy before the evaluator alerts).
//!
//! Errors name the entry (`systems[0]`) and the field; reading a file also names the
//! file, and YAML that does not have this shape is reported with its line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use alert_core::Duration;
use alert_router::config::yaml::{MAX_NESTING, check_nesting};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::aggregation::{Aggregation, Propagation, Threshold};
use crate::alertmanager_target::AlertmanagerTarget;
use crate::assembly::{Assembly, HealthGraph};
use crate::error::{Error, Result};
use crate::graph::{EdgeSpec, Graph, NodeId, NodeSpec, Role};
use crate::history::UptimeWeights;
use crate::kind::Kind;
use crate::registry::{Component, Registry, Request};
use crate::sensor::WithTimeout;
use crate::state::State;
use crate::visualiser::statuspage::{PageInfo, ShownMessages};

/// A whole graph file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphFile {
    /// Sensors.
    #[serde(default)]
    pub sensors: Vec<SensorEntry>,
    /// Systems.
    #[serde(default)]
    pub systems: Vec<JudgedEntry>,
    /// Services.
    #[serde(default)]
    pub services: Vec<JudgedEntry>,
    /// How sensors are read.
    #[serde(default)]
    pub evaluation: EvaluationSection,
    /// Where and when the evaluator alerts.
    #[serde(default)]
    pub alerting: Option<AlertingSection>,
    /// The status page.
    #[serde(default)]
    pub page: PageSection,
}

/// `evaluation:` — defaults for reading sensors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationSection {
    /// Default per-sensor timeout (10s when absent).
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Sensors read at once (16 when absent).
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Time between passes of the evaluator (30s when absent).
    #[serde(default)]
    pub interval: Option<Duration>,
}

/// `alerting:` — the evaluator's alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingSection {
    /// The Alertmanager to post to: a URL, comma-separated HA members, or a mapping with
    /// `url`/`urls`, `backend`, `tenant`, `prefix`, `path_template`, `quorum`
    /// ([`AlertmanagerTarget`]).
    #[serde(default)]
    pub alertmanager: Option<AlertmanagerTarget>,
    /// Default `for` of systems and services.
    #[serde(default, rename = "for")]
    pub for_: Option<Duration>,
    /// Labels added to every alert.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `page:` — the status page.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSection {
    /// The page title.
    #[serde(default)]
    pub name: Option<String>,
    /// The page's public URL (Statuspage `page.url`).
    #[serde(default)]
    pub url: Option<String>,
    /// Weight of partial-outage time in uptime (0.3 when absent).
    #[serde(default)]
    pub partial_outage_weight: Option<f64>,
    /// Whose sensor messages the page shows (see the module docs).
    #[serde(default)]
    pub messages: Option<MessagesEntry>,
    /// How often a browser refreshes the served page.
    #[serde(default)]
    pub refresh: Option<Duration>,
}

/// `page.messages`: `hidden`, `shown`, or node names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum MessagesEntry {
    /// `hidden` or `shown`.
    Word(String),
    /// The nodes whose sensors' messages are shown.
    Nodes(Vec<String>),
}

impl GraphFile {
    /// What the status page says about itself, for `graph` as assembled from this file:
    /// title, URL, uptime weights, whose messages it shows and how often it refreshes.
    pub fn page_info(&self, graph: &Graph) -> Result<PageInfo> {
        let defaults = PageInfo::default();
        let messages = match &self.page.messages {
            None => ShownMessages::None,
            Some(MessagesEntry::Word(w)) if w == "hidden" => ShownMessages::None,
            Some(MessagesEntry::Word(w)) if w == "shown" => ShownMessages::All,
            Some(MessagesEntry::Word(w)) => {
                return Err(Error::InvalidField {
                    field: "page.messages".to_owned(),
                    value: w.clone(),
                    expected: "hidden, shown, or a list of node names".to_owned(),
                });
            }
            Some(MessagesEntry::Nodes(names)) => {
                let mut shown = BTreeSet::new();
                for (i, name) in names.iter().enumerate() {
                    let id = graph.find(name).map_err(|_| Error::InvalidField {
                        field: format!("page.messages[{i}]"),
                        value: name.clone(),
                        expected: "the name of a node of the graph".to_owned(),
                    })?;
                    sensors_beneath(graph, id, &mut shown);
                }
                ShownMessages::Of(shown)
            }
        };
        let refresh = self
            .page
            .refresh
            .or(self.evaluation.interval)
            .map_or(defaults.refresh, |d| {
                std::time::Duration::from(d).max(std::time::Duration::from_secs(1))
            });
        Ok(PageInfo {
            name: self.page.name.clone().unwrap_or(defaults.name.clone()),
            url: self.page.url.clone().unwrap_or(defaults.url.clone()),
            weights: UptimeWeights {
                partial_outage: self
                    .page
                    .partial_outage_weight
                    .unwrap_or(defaults.weights.partial_outage),
            },
            messages,
            refresh,
            ..defaults
        })
    }
}

/// Adds the names of the sensors at or beneath `id` to `out` (each shared node once).
fn sensors_beneath(graph: &Graph, id: NodeId, out: &mut BTreeSet<String>) {
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![id];
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        let node = graph.node(id);
        if node.role == Role::Sensor {
            out.insert(node.name.clone());
        }
        todo.extend(node.edges.iter().map(|e| e.child));
    }
}

/// One sensor entry: a name, a kind and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorEntry {
    /// The node name.
    pub name: String,
    /// The kind to instrument.
    pub kind: Kind,
    /// The kind's parameters.
    pub params: Value,
    /// The key the parameters were under (`http`, or `params`).
    pub key: String,
    /// The sensor's own timeout.
    pub timeout: Option<Duration>,
}

impl<'de> Deserialize<'de> for SensorEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut map: BTreeMap<String, Value> = BTreeMap::deserialize(d)?;
        let name = match map.remove("name") {
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "name: expected a string, got {other}"
                )));
            }
            None => return Err(D::Error::missing_field("name")),
        };
        let timeout = map
            .remove("timeout")
            .map(Duration::deserialize)
            .transpose()
            .map_err(|e| D::Error::custom(format!("sensor {name:?}: timeout: {e}")))?;
        let (kind, params, key) = if let Some(kind) = map.remove("kind") {
            let kind = Kind::deserialize(kind)
                .map_err(|e| D::Error::custom(format!("sensor {name:?}: kind: {e}")))?;
            let params = map.remove("params").unwrap_or(Value::Null);
            (kind, params, "params".to_owned())
        } else {
            let keys: Vec<String> = map.keys().cloned().collect();
            let builtin: Vec<&String> = keys
                .iter()
                .filter(|k| crate::builtin::KEYS.contains(&k.as_str()))
                .collect();
            let [key] = builtin.as_slice() else {
                return Err(D::Error::custom(format!(
                    "sensor {name:?}: expected exactly one of {} (or kind and params), got {}",
                    crate::builtin::KEYS.join(", "),
                    if builtin.is_empty() {
                        "none".to_owned()
                    } else {
                        builtin
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                )));
            };
            let key = (*key).clone();
            let params = map.remove(&key).unwrap_or(Value::Null);
            (Kind::builtin(&key), params, key)
        };
        if let Some(extra) = map.keys().next() {
            return Err(D::Error::custom(format!(
                "sensor {name:?}: unknown field `{extra}`"
            )));
        }
        Ok(SensorEntry {
            name,
            kind,
            params,
            key,
            timeout,
        })
    }
}

/// A child reference: a name, or `{node, propagate, weight}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildEntry(pub EdgeSpec);

impl<'de> Deserialize<'de> for ChildEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            node: String,
            #[serde(default)]
            propagate: Option<String>,
            #[serde(default)]
            weight: Option<u32>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Full(Full),
        }
        let raw = Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "expected a node name or {node, propagate, weight} (propagate: as_is, \
                 raise K, lower K, ignore, fixed STATE)",
            )
        })?;
        Ok(ChildEntry(match raw {
            Raw::Name(n) => EdgeSpec::to(n),
            Raw::Full(f) => {
                let mut e = EdgeSpec::to(f.node);
                if let Some(p) = f.propagate {
                    e = e.propagate(p.parse::<Propagation>().map_err(serde::de::Error::custom)?);
                }
                if let Some(w) = f.weight {
                    e = e.weight(w);
                }
                e
            }
        }))
    }
}

/// A system or service entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgedEntry {
    /// The node name.
    pub name: String,
    /// The aggregation (`all` when absent).
    #[serde(default)]
    pub op: Option<String>,
    /// `at_least`/`weighted`: the ok level; `nth_*`: the position.
    #[serde(default)]
    pub n: Option<Threshold>,
    /// `at_least`/`weighted`: the warn level.
    #[serde(default)]
    pub warn: Option<Threshold>,
    /// `nth_*`: the worst state it may give.
    #[serde(default)]
    pub cap: Option<State>,
    /// Shorthand for one child.
    #[serde(default)]
    pub system: Option<ChildEntry>,
    /// Children.
    #[serde(default)]
    pub children: Vec<ChildEntry>,
    /// How long unhealthy before alerting.
    #[serde(default, rename = "for")]
    pub for_: Option<Duration>,
}

impl JudgedEntry {
    /// The aggregation this entry describes; `at` names the entry for errors.
    pub fn aggregation(&self, at: &str) -> Result<Aggregation> {
        let op = self.op.as_deref().unwrap_or("all");
        let none = |field: &str, present: bool| -> Result<()> {
            if present {
                Err(Error::InvalidField {
                    field: format!("{at}.{field}"),
                    value: "(set)".to_owned(),
                    expected: format!("no {field} for op {op}"),
                })
            } else {
                Ok(())
            }
        };
        let required = |field: &str| Error::MissingField {
            field: format!("{at}.{field}"),
        };
        let simple = |a: Aggregation| -> Result<Aggregation> {
            none("n", self.n.is_some())?;
            none("warn", self.warn.is_some())?;
            none("cap", self.cap.is_some())?;
            Ok(a)
        };
        let position = || -> Result<u32> {
            match self.n {
                None => Ok(1),
                Some(Threshold::Count(n)) => u32::try_from(n).map_err(|_| Error::InvalidField {
                    field: format!("{at}.n"),
                    value: n.to_string(),
                    expected: "a position up to 4294967295".to_owned(),
                }),
                Some(t @ Threshold::Percent(_)) => Err(Error::InvalidField {
                    field: format!("{at}.n"),
                    value: t.to_string(),
                    expected: "a position (a whole number), not a percentage".to_owned(),
                }),
            }
        };
        let aggregation = match op {
            "all" => simple(Aggregation::All)?,
            "any" => simple(Aggregation::Any)?,
            "optional" => simple(Aggregation::Optional)?,
            "degraded" => simple(Aggregation::Degraded)?,
            "xor" => simple(Aggregation::Xor)?,
            "not" => simple(Aggregation::Not)?,
            "at_least" | "weighted" => {
                none("cap", self.cap.is_some())?;
                let ok = self.n.ok_or_else(|| required("n"))?;
                if op == "at_least" {
                    Aggregation::AtLeast {
                        ok,
                        warn: self.warn,
                    }
                } else {
                    Aggregation::Weighted {
                        ok,
                        warn: self.warn,
                    }
                }
            }
            "nth_worst" | "nth_best" => {
                none("warn", self.warn.is_some())?;
                let n = position()?;
                let cap = self.cap.unwrap_or(State::Failing);
                if op == "nth_worst" {
                    Aggregation::NthWorst { n, cap }
                } else {
                    Aggregation::NthBest { n, cap }
                }
            }
            other => {
                return Err(Error::InvalidField {
                    field: format!("{at}.op"),
                    value: other.to_owned(),
                    expected: "one of all, any, optional, at_least, nth_worst, nth_best, \
                               degraded, xor, not, weighted"
                        .to_owned(),
                });
            }
        };
        aggregation.validate(at)?;
        Ok(aggregation)
    }

    fn spec(&self, role: Role, at: &str, default_for: Option<Duration>) -> Result<NodeSpec> {
        let aggregation = self.aggregation(at)?;
        let children: Vec<EdgeSpec> = self
            .system
            .iter()
            .chain(self.children.iter())
            .map(|c| c.0.clone())
            .collect();
        let mut spec = NodeSpec::system(self.name.clone(), aggregation, children).at(at);
        spec.role = role;
        spec.alert_for = self.for_.or(default_for);
        Ok(spec)
    }
}

impl GraphFile {
    /// Reads a graph file's text; `file` names it in errors.
    ///
    /// ```
    /// use alert_health_graph::GraphFile;
    /// let err = GraphFile::parse("sensors:\n  - {name: x, constnt: passing}\n", "g.yml")
    ///     .unwrap_err().to_string();
    /// assert!(err.starts_with("g.yml: sensors: sensor \"x\": expected exactly one of"), "{err}");
    /// assert!(err.contains("line 2"), "{err}");
    /// ```
    pub fn parse(text: &str, file: &str) -> Result<GraphFile> {
        // yaml_serde's depth limit costs time quadratic in the depth: refuse deep files first.
        check_nesting(text, MAX_NESTING).map_err(|e| Error::GraphFile {
            file: file.to_owned(),
            reason: e.to_string(),
        })?;
        yaml_serde::from_str(text).map_err(|e| Error::GraphFile {
            file: file.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Reads a graph file from disk.
    pub fn load(path: &Path) -> Result<GraphFile> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::GraphFile {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        GraphFile::parse(&text, &file)
    }

    /// Instruments every sensor with `registry` and builds the checked graph.
    ///
    /// ```
    /// use alert_health_graph::{GraphFile, builtin};
    /// let file = GraphFile::parse(r#"
    /// sensors:
    ///   - {name: db-primary, constant: passing}
    ///   - {name: db-replica, constant: failing}
    /// systems:
    ///   - {name: db, op: at_least, n: 1, children: [db-primary, db-replica]}
    /// services:
    ///   - {name: reports, system: db}
    /// "#, "example.yml")?;
    /// let built = file.assemble(&builtin::basic_registry())?;
    /// assert_eq!(built.graph.len(), 4);
    /// # Ok::<(), alert_health_graph::Error>(())
    /// ```
    pub fn assemble(&self, registry: &Registry) -> Result<HealthGraph> {
        let mut assembly = Assembly::new();
        for (i, entry) in self.sensors.iter().enumerate() {
            let at = format!("sensors[{i}]");
            let params_at = format!("{at}.{}", entry.key);
            let request = Request {
                name: &entry.name,
                params: &entry.params,
                at: &params_at,
            };
            let component = registry
                .instrument_one(&entry.kind, &request)?
                .renamed(entry.name.clone());
            let component = match (component, entry.timeout) {
                (Component::Sensor { name, kind, sensor }, Some(t)) => Component::Sensor {
                    name,
                    kind,
                    sensor: Arc::new(WithTimeout::new(sensor, t)),
                },
                (c, _) => c,
            };
            assembly.add_component(component, &at)?;
        }
        let default_for = self.alerting.as_ref().and_then(|a| a.for_);
        for (i, entry) in self.systems.iter().enumerate() {
            assembly.add_node(entry.spec(
                Role::System,
                &format!("systems[{i}]"),
                default_for,
            )?)?;
        }
        for (i, entry) in self.services.iter().enumerate() {
            assembly.add_node(entry.spec(
                Role::Service,
                &format!("services[{i}]"),
                default_for,
            )?)?;
        }
        assembly.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::basic_registry;

    fn assemble(text: &str) -> Result<HealthGraph> {
        GraphFile::parse(text, "g.yml")?.assemble(&basic_registry())
    }

    fn page_info(text: &str) -> Result<PageInfo> {
        let file = GraphFile::parse(text, "g.yml")?;
        file.page_info(&file.assemble(&basic_registry())?.graph)
    }

    const PAGE_GRAPH: &str = "sensors:\n\
        - {name: a, constant: passing}\n\
        - {name: b, constant: passing}\n\
        - {name: c, constant: passing}\n\
        systems:\n\
        - {name: ab, children: [a, b]}\n\
        - {name: both, children: [ab, a]}\n\
        services:\n\
        - {name: shop, children: [both, c]}\n";

    #[test]
    fn the_page_shows_sensors_messages_as_the_file_says() -> Result<()> {
        let info = page_info(PAGE_GRAPH)?;
        assert_eq!(info.messages, ShownMessages::None);
        assert_eq!(info.refresh, std::time::Duration::from_secs(30));
        let info = page_info(&format!(
            "{PAGE_GRAPH}page: {{messages: shown, refresh: 10s}}\n"
        ))?;
        assert_eq!(info.messages, ShownMessages::All);
        assert_eq!(info.refresh, std::time::Duration::from_secs(10));
        // A named node shows the sensors at or beneath it, each once.
        let info = page_info(&format!("{PAGE_GRAPH}page: {{messages: [both, c]}}\n"))?;
        assert_eq!(
            info.messages,
            ShownMessages::Of(["a", "b", "c"].map(String::from).into())
        );
        assert!(info.messages.shows(Role::Sensor, "a"));
        assert!(!ShownMessages::Of(["a".into()].into()).shows(Role::Sensor, "b"));
        assert!(ShownMessages::None.shows(Role::System, "ab"));
        // The evaluation interval, at least 1 s.
        let info = page_info(&format!("{PAGE_GRAPH}evaluation: {{interval: 100ms}}\n"))?;
        assert_eq!(info.refresh, std::time::Duration::from_secs(1));
        let e = page_info(&format!("{PAGE_GRAPH}page: {{messages: [both, nope]}}\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("page.messages[1]") && e.contains("nope"), "{e}");
        let e = page_info(&format!("{PAGE_GRAPH}page: {{messages: visible}}\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("page.messages") && e.contains("hidden, shown"),
            "{e}"
        );
        Ok(())
    }

    /// yaml_serde alone took about 25 s (release) to refuse these; the depth check
    /// refuses them after 128 levels, and lets a file at yaml_serde's limit through to it.
    #[test]
    fn deeply_nested_files_are_refused_at_once() {
        let n = 100_000;
        for text in [
            format!("sensors: {}{}\n", "[".repeat(n), "]".repeat(n)),
            format!("sensors: {}b{}\n", "{a: ".repeat(n), "}".repeat(n)),
        ] {
            let started = std::time::Instant::now();
            let e = GraphFile::parse(&text, "g.yml").unwrap_err().to_string();
            eprintln!("refused in {:?}", started.elapsed());
            // The 128th `[` or `{` after the top-level mapping.
            assert!(
                e == "g.yml: line 1 column 137: nested more than 128 levels deep"
                    || e == "g.yml: line 1 column 518: nested more than 128 levels deep",
                "{e}"
            );
        }
        let e = GraphFile::parse("sensors: [[[x]]]\n", "g.yml").unwrap_err();
        assert!(!e.to_string().contains("nested"), "{e}");
    }

    #[test]
    fn the_issue_shape_reads_and_names_the_missing_replica() {
        let text = r#"
sensors:
  - {name: db-primary, constant: passing}
  - {name: api-up, http: {url: "http://127.0.0.1:8080/healthz", expect_status: 200, timeout: 2s}}
systems:
  - {name: db, op: at_least, n: 1, children: [db-primary, db-replica]}
services:
  - {name: reports, system: db}
"#;
        let file = GraphFile::parse(text, "g.yml").expect("the shape parses");
        assert_eq!(file.sensors[1].kind, Kind::builtin("http"));
        assert_eq!(
            file.systems[0].aggregation("systems[0]").expect("valid"),
            Aggregation::AtLeast {
                ok: Threshold::Count(1),
                warn: None
            }
        );
        // Without the http feature's registry, the http sensor has no provider.
        let err = file.assemble(&basic_registry()).unwrap_err().to_string();
        assert_eq!(err, "no provider for kind=alert-health:http");
        let text = text.replace(
            "  - {name: api-up",
            "  - {name: api-up-x, constant: passing}\n#",
        );
        let err = assemble(&text).unwrap_err().to_string();
        assert_eq!(err, "systems[0].children[1]: unknown node \"db-replica\"");
    }

    #[test]
    fn ops_parameters_and_edges_are_read() {
        let g = assemble(
            r#"
sensors:
  - {name: a, constant: failing}
  - {name: b, constant: {state: passing, message: fine}}
  - {name: c, constant: degraded}
systems:
  - {name: w, op: weighted, n: 60%, warn: 30%, children: [{node: a, weight: 3}, {node: b, weight: 5}, c]}
  - {name: soft, children: [{node: a, propagate: lower 2}]}
  - {name: worst2, op: nth_worst, n: 2, cap: degraded, children: [a, b, c]}
services:
  - {name: svc, system: w, for: 5m}
"#,
        )
        .expect("valid");
        let w = g.graph.node(g.graph.find("w").expect("exists"));
        assert_eq!(w.aggregation.to_string(), "weighted 60% (warn 30%)");
        assert_eq!(w.edges[1].weight, 5);
        let soft = g.graph.node(g.graph.find("soft").expect("exists"));
        assert_eq!(soft.edges[0].propagation, Propagation::Lower(2));
        let svc = g.graph.node(g.graph.find("svc").expect("exists"));
        assert_eq!(svc.role, Role::Service);
        assert_eq!(svc.alert_for, Some("5m".parse().expect("valid")));
        let worst2 = g.graph.node(g.graph.find("worst2").expect("exists"));
        assert_eq!(
            worst2.aggregation,
            Aggregation::NthWorst {
                n: 2,
                cap: State::Degraded
            }
        );
    }

    #[test]
    fn bad_entries_are_located() {
        let cases = [
            (
                "systems:\n  - {name: s, op: sometimes}\n",
                "systems[0].op: expected one of all",
            ),
            (
                "systems:\n  - {name: s, op: at_least}\n",
                "systems[0].n: missing required value",
            ),
            (
                "systems:\n  - {name: s, op: any, n: 2}\n",
                "systems[0].n: expected no n for op any",
            ),
            (
                "systems:\n  - {name: s, op: at_least, n: 1, warn: 2}\n",
                "systems[0].warn: expected a warn level not above the ok level 1",
            ),
            (
                "systems:\n  - {name: s, op: nth_best, n: 50%}\n",
                "systems[0].n: expected a position (a whole number), not a percentage",
            ),
            (
                "sensors:\n  - {name: x, constant: green}\n",
                "sensors[0].constant: instrumenting kind=alert-health:constant: expected a state",
            ),
            (
                "sensors:\n  - {name: x, kind: \"nope\"}\n",
                "invalid kind \"nope\"",
            ),
            (
                "sensors:\n  - {name: x, kind: \"acme.io:Thing\"}\n",
                "no provider for kind=acme.io:Thing",
            ),
            (
                "sensors:\n  - {name: x, constant: passing, tcp: {}}\n",
                "expected exactly one of",
            ),
            (
                "sensors:\n  - {name: x, constant: passing, colour: red}\n",
                "unknown field `colour`",
            ),
            (
                "systems:\n  - {name: s, children: [{node: a, propagate: sideways}]}\n",
                "propagation: expected as_is, raise K, lower K (K from 1 to 4), ignore or fixed STATE, got \"sideways\" at line 2",
            ),
            (
                "sensors:\n  - {name: a, constant: passing}\n  - {name: a, constant: passing}\n",
                "duplicate node name \"a\": sensors[0] and sensors[1]",
            ),
            (
                "systems:\n  - {name: a, children: [b]}\n  - {name: b, children: [a]}\n",
                "cycle in the health graph: a -> b -> a",
            ),
            ("colour: red\n", "unknown field `colour`"),
        ];
        for (text, expected) in cases {
            let err = assemble(text).unwrap_err().to_string();
            assert!(
                err.contains(expected),
                "{text}\n=> {err}\nexpected: {expected}"
            );
        }
    }

    proptest::proptest! {
        /// Arbitrary YAML-ish text gives a graph or an error, never a panic.
        #[test]
        fn arbitrary_files_do_not_panic(text in "[a-z:{}\\[\\], \n-]{0,80}") {
            let _ = GraphFile::parse(&text, "p.yml").and_then(|f| f.assemble(&basic_registry()));
        }

        /// Generated graphs of constants always assemble, with every node present.
        #[test]
        fn generated_graphs_assemble(n in 1usize..12, fan in 1usize..4) {
            let mut text = String::from("sensors:\n");
            for i in 0..n {
                text.push_str(&format!("  - {{name: s{i}, constant: passing}}\n"));
            }
            text.push_str("systems:\n");
            for i in 0..n {
                let kids: Vec<String> = (0..fan).map(|k| format!("s{}", (i + k) % n)).collect();
                text.push_str(&format!("  - {{name: y{i}, op: any, children: [{}]}}\n", kids.join(", ")));
            }
            let g = assemble(&text).unwrap();
            proptest::prop_assert_eq!(g.graph.len(), 2 * n);
        }
    }

    #[test]
    fn sensor_timeouts_wrap_the_sensor() {
        let g =
            assemble("sensors:\n  - {name: x, constant: passing, timeout: 3s}\n").expect("valid");
        let id = g.graph.find("x").expect("exists");
        let sensor = g.sensors.get(id).expect("present");
        assert_eq!(sensor.timeout(), Some("3s".parse().expect("valid")));
    }
}
