//! The alert-rule instrumentors and their sensor (needs the `http` feature).
//!
//! [`RulesInstrumentor`] handles every `prometheus.io` and `grafana.com` kind. A request
//! names an endpoint (`url`, credentials) and which rules ([`Selector`]); it makes one
//! sensor judging the selected rules ([`judge::judge`]) from the endpoint's shared answer
//! ([`RuleReads`]), or, when the request lists its children (`groups:` of a file or
//! folder, `rules:` of a group), an all-of system named after the request over one
//! child per listed name, each asked of the **registry** under the child's kind
//! (`<ns>:RuleGroup`, `<ns>:Rule`) and named `<name>/<child>`: a file or folder →
//! groups → rules, as deep as the graph file spells it.

use std::sync::Arc;

use alert_core::{Duration, Secret, redact_urls};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::judge::{self, Flavor, Selector};
use super::reads::{Auth, Endpoint, RuleReads};
use super::{GRAFANA, PROMETHEUS};
use crate::aggregation::Aggregation;
use crate::error::Result;
use crate::kind::Kind;
use crate::registry::{Component, Instrumentor, Registry, Request};
use crate::sensor::Sensor;
use crate::status::Reading;

/// Judges the rules a [`Selector`] picks from one endpoint's answer.
#[derive(Debug, Clone)]
pub struct RulesSensor {
    reads: RuleReads,
    endpoint: Arc<Endpoint>,
    selector: Selector,
    timeout: Option<Duration>,
}

impl RulesSensor {
    /// A sensor reading `endpoint` through `reads` and judging what `selector` picks.
    pub fn new(reads: RuleReads, endpoint: Arc<Endpoint>, selector: Selector) -> RulesSensor {
        RulesSensor {
            reads,
            endpoint,
            selector,
            timeout: None,
        }
    }
}

#[async_trait]
impl Sensor for RulesSensor {
    async fn read(&self) -> Result<Reading> {
        let answer = self.reads.read(&self.endpoint).await?;
        Ok(judge::judge(&self.selector, &answer))
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

/// `basic_auth: {username, password}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicAuth {
    username: String,
    password: Secret,
}

/// A panel id, written as a number or a string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum PanelId {
    Number(i64),
    Text(String),
}

/// Every parameter any of the kinds takes; [`fields`] says which each accepts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    url: String,
    #[serde(default)]
    bearer_token: Option<Secret>,
    #[serde(default)]
    basic_auth: Option<BasicAuth>,
    #[serde(default)]
    timeout: Option<Duration>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    folder: Option<String>,
    #[serde(default)]
    folder_uid: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    rule_uid: Option<String>,
    #[serde(default)]
    dashboard_uid: Option<String>,
    #[serde(default)]
    panel_id: Option<PanelId>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    rules: Vec<String>,
}

/// The parameters every kind takes.
const ENDPOINT_FIELDS: [&str; 4] = ["url", "bearer_token", "basic_auth", "timeout"];

/// The selection parameters `kind` accepts, and the sets of which one is required.
fn fields(kind: &Kind) -> Option<(&'static [&'static str], &'static [&'static str])> {
    Some(match (kind.namespace(), kind.name()) {
        (PROMETHEUS, "Rules") => (&["file", "groups"], &[]),
        (PROMETHEUS, "RuleGroup") => (&["file", "group", "rules"], &["group"]),
        (PROMETHEUS, "Rule") => (&["file", "group", "rule"], &["rule"]),
        (GRAFANA, "Folder") => (
            &["folder", "folder_uid", "groups"],
            &["folder", "folder_uid"],
        ),
        (GRAFANA, "RuleGroup") => (&["folder", "folder_uid", "group", "rules"], &["group"]),
        (GRAFANA, "Rule") => (
            &["folder", "folder_uid", "group", "rule", "rule_uid"],
            &["rule", "rule_uid"],
        ),
        (GRAFANA, "Dashboard") => (&["dashboard_uid", "panel_id"], &["dashboard_uid"]),
        _ => return None,
    })
}

/// Every kind the instrumentor handles.
pub fn kinds() -> Vec<Kind> {
    [
        (PROMETHEUS, "Rules"),
        (PROMETHEUS, "RuleGroup"),
        (PROMETHEUS, "Rule"),
        (GRAFANA, "Folder"),
        (GRAFANA, "Dashboard"),
        (GRAFANA, "RuleGroup"),
        (GRAFANA, "Rule"),
    ]
    .into_iter()
    .filter_map(|(ns, name)| Kind::new(ns, name).ok())
    .collect()
}

/// Checks a request's keys against what `kind` accepts: an unknown or misplaced one is
/// named with what is accepted, and one of the required ones must be there.
fn check_fields(kind: &Kind, map: &Map<String, Value>) -> std::result::Result<(), String> {
    let Some((selection, required)) = fields(kind) else {
        return Err("not an alert-rule kind this crate reads".to_owned());
    };
    let accepted: Vec<&str> = ENDPOINT_FIELDS.iter().chain(selection).copied().collect();
    if let Some(extra) = map.keys().find(|k| !accepted.contains(&k.as_str())) {
        return Err(format!(
            "unknown field `{extra}`, expected one of {}",
            accepted.join(", ")
        ));
    }
    if !required.is_empty() && !required.iter().any(|k| map.contains_key(*k)) {
        return Err(format!("missing {}", required.join(" or ")));
    }
    Ok(())
}

/// Instruments the `prometheus.io` and `grafana.com` alert-rule kinds, reading through
/// shared [`RuleReads`].
#[derive(Debug, Clone)]
pub struct RulesInstrumentor {
    reads: RuleReads,
}

impl RulesInstrumentor {
    /// Sensors reading through `reads`.
    pub fn new(reads: RuleReads) -> RulesInstrumentor {
        RulesInstrumentor { reads }
    }
}

impl Instrumentor for RulesInstrumentor {
    fn kinds(&self) -> Vec<Kind> {
        kinds()
    }

    fn instrument(
        &self,
        registry: &Registry,
        kind: &Kind,
        r: &Request<'_>,
    ) -> Result<Vec<Component>> {
        let map = match r.params {
            Value::Object(m) => m,
            other => {
                return Err(r.error(
                    kind,
                    format!("expected a mapping (url, and which rules), got {other}"),
                ));
            }
        };
        check_fields(kind, map).map_err(|e| r.error(kind, e))?;
        let p: Params = r.parse(kind)?;
        let flavor = if kind.namespace() == GRAFANA {
            Flavor::Grafana
        } else {
            Flavor::Prometheus
        };
        let base = reqwest::Url::parse(&p.url)
            .map_err(|e| r.error(kind, format!("url {:?}: {e}", redact_urls(&p.url))))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(r.error(
                kind,
                format!("url {:?}: expected http or https", redact_urls(&p.url)),
            ));
        }
        let auth = match (p.bearer_token, p.basic_auth) {
            (Some(_), Some(_)) => {
                return Err(r.error(kind, "bearer_token and basic_auth: expected at most one"));
            }
            (Some(token), None) => Auth::Bearer(token),
            (None, Some(b)) => Auth::Basic {
                username: b.username,
                password: b.password,
            },
            (None, None) => Auth::None,
        };
        // A list of children: an all-of system over one registry request per name.
        let children = match (p.groups.as_slice(), p.rules.as_slice()) {
            ([], []) => None,
            (groups, []) => Some(("RuleGroup", "groups", "group", groups)),
            (_, rules) => Some(("Rule", "rules", "rule", rules)),
        };
        if let Some((child_kind, list_key, one_key, names)) = children {
            let dep = Kind::new(kind.namespace(), child_kind)?;
            let mut made = Vec::with_capacity(names.len());
            for child in names {
                let mut params = map.clone();
                params.remove(list_key);
                params.insert(one_key.to_owned(), Value::String(child.clone()));
                let params = Value::Object(params);
                let name = format!("{}/{child}", r.name);
                let at = format!("{} -> {dep}", r.at);
                made.push(registry.instrument_one(
                    &dep,
                    &Request {
                        name: &name,
                        params: &params,
                        at: &at,
                    },
                )?);
            }
            return Ok(vec![Component::System {
                name: r.name.to_owned(),
                kind: Some(kind.clone()),
                aggregation: Aggregation::All,
                children: made,
            }]);
        }
        let selector = Selector {
            flavor,
            container: p.file.or(p.folder),
            folder_uid: p.folder_uid,
            group: p.group,
            rule: p.rule,
            rule_uid: p.rule_uid,
            dashboard_uid: p.dashboard_uid,
            panel_id: p.panel_id.map(|id| match id {
                PanelId::Number(n) => n.to_string(),
                PanelId::Text(t) => t,
            }),
        };
        let endpoint = Arc::new(Endpoint { flavor, base, auth });
        let mut sensor = RulesSensor::new(self.reads.clone(), endpoint, selector);
        sensor.timeout = p.timeout;
        Ok(vec![Component::Sensor {
            name: r.name.to_owned(),
            kind: kind.clone(),
            sensor: Arc::new(sensor),
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn instrument(kind: &str, params: Value) -> Result<Vec<Component>> {
        let registry = super::super::registry(RuleReads::new(reqwest::Client::new()));
        registry.instrument(
            &kind.parse()?,
            &Request {
                name: "x",
                params: &params,
                at: "sensors[0].params",
            },
        )
    }

    #[test]
    fn listed_children_become_systems_through_the_registry() {
        let made = instrument(
            "grafana.com/Folder",
            json!({"url": "http://g:3000", "folder": "Platform", "groups": ["cpu", "disk"]}),
        )
        .expect("valid");
        assert_eq!(
            format!("{made:?}"),
            "[System(x, all, [Sensor(x/cpu, grafana.com:RuleGroup), Sensor(x/disk, grafana.com:RuleGroup)])]"
        );
        let made = instrument(
            "prometheus.io/Rules",
            json!({"url": "http://p:9090", "file": "shop.yml", "groups": ["shop"], "rules": ["A", "B"]}),
        );
        // `rules` belongs to a group: a file refuses it.
        assert!(
            made.unwrap_err()
                .to_string()
                .contains("unknown field `rules`")
        );
        let made = instrument(
            "prometheus.io/RuleGroup",
            json!({"url": "http://p:9090", "group": "shop", "rules": ["A", "B"]}),
        )
        .expect("valid");
        assert_eq!(
            format!("{made:?}"),
            "[System(x, all, [Sensor(x/A, prometheus.io:Rule), Sensor(x/B, prometheus.io:Rule)])]"
        );
    }

    #[test]
    fn bad_params_are_located_and_never_show_credentials() {
        for (kind, params, expected) in [
            (
                "prometheus.io/Rule",
                json!({"url": "http://p:9090", "group": "shop"}),
                "sensors[0].params: instrumenting kind=prometheus.io:Rule: missing rule",
            ),
            (
                "prometheus.io/Rule",
                json!({"url": "http://p:9090", "rule": "A", "folder": "Platform"}),
                "sensors[0].params: instrumenting kind=prometheus.io:Rule: unknown field `folder`, \
                 expected one of url, bearer_token, basic_auth, timeout, file, group, rule",
            ),
            (
                "grafana.com/Folder",
                json!({"url": "http://g:3000"}),
                "sensors[0].params: instrumenting kind=grafana.com:Folder: missing folder or folder_uid",
            ),
            (
                "grafana.com/Dashboard",
                json!("http://g:3000"),
                "sensors[0].params: instrumenting kind=grafana.com:Dashboard: expected a mapping",
            ),
            (
                "grafana.com/Rule",
                json!({"url": "http://g:3000", "rule": "A", "bearer_token": "s3cr3t",
                       "basic_auth": {"username": "u", "password": "pw"}}),
                "sensors[0].params: instrumenting kind=grafana.com:Rule: bearer_token and basic_auth: expected at most one",
            ),
            (
                "grafana.com/Rule",
                json!({"url": "ftp://admin:pw@g", "rule": "A"}),
                "sensors[0].params: instrumenting kind=grafana.com:Rule: url \"ftp://<secret>@g\": expected http or https",
            ),
        ] {
            let err = instrument(kind, params).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}\nexpected: {expected}");
            assert!(!err.contains("s3cr3t") && !err.contains(":pw@"), "{err}");
        }
    }

    #[test]
    fn every_kind_is_registered() {
        let names: Vec<String> = kinds().iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "prometheus.io:Rules",
                "prometheus.io:RuleGroup",
                "prometheus.io:Rule",
                "grafana.com:Folder",
                "grafana.com:Dashboard",
                "grafana.com:RuleGroup",
                "grafana.com:Rule"
            ]
        );
        for k in kinds() {
            assert!(fields(&k).is_some(), "{k}");
        }
    }
}
