//! The Kubernetes instrumentors and their sensors (needs the `runtime` feature).
//!
//! [`KubeInstrumentor`] handles every `kubernetes.io` kind. A request's parameters are a
//! [`TargetSpec`] and an optional `combine` ([`parse_params`]); it makes one sensor judging the target's objects by their kind's rule
//! and, for kinds that depend on others, asks the **registry** for the dependencies'
//! kinds with targets derived from its own (never calling a rule of another kind
//! itself), so whatever is registered for `kubernetes.io:ReplicaSet` judges a
//! Deployment's ReplicaSets:
//!
//! | kind | own sensor | dependencies (through the registry) |
//! |---|---|---|
//! | Deployment | conditions, replicas, rollout | ReplicaSet `owned_by` |
//! | ReplicaSet, StatefulSet, DaemonSet | ready replicas | Pod `owned_by` (as replicas) |
//! | Pod | phase, conditions | `Pod#container`, `Pod#volume` (same target) |
//! | `Pod#container` | container and init container states | |
//! | `Pod#volume` | | ConfigMap, Secret (volumes, `env`, `envFrom`: all the kubelet needs to start the pod), PersistentVolumeClaim `referenced_by` |
//! | Service | ready endpoints | Pod `selected_by` (as replicas) |
//! | Ingress | paths, address | `Ingress#path` (same target) |
//! | `Ingress#path` | backends exist with their ports | Service `referenced_by` |
//! | PersistentVolumeClaim | phase | StorageClass, PersistentVolume `referenced_by` |
//! | CronJob | schedule | Job `owned_by` (newest only) |
//! | Job, ConfigMap, Secret, PersistentVolume, StorageClass, Node, Namespace | rule | |
//!
//! A kind with dependencies becomes an all-of system named after the request, over its
//! own sensor (`<name>/<kind>`) and each dependency (`<name>/replicasets`, …).
//!
//! How a sensor combines the objects it picked ([`Combine`]): `each` (the worst; the
//! default), `replicas` (interchangeable copies: Failing only when none passes, else
//! Degraded when some do not), `newest` (only the most recently created counts: a
//! CronJob's last Job). Each object's message names it and says why
//! (`pod shop/web-1: container app: waiting: ImagePullBackOff: …`).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::lists::KubeLists;
use super::object::{self, Lists};
use super::resource::{self, Resource};
use super::rules::{self, Finding};
use super::target::{Pick, Resolved, Target, TargetSpec};
use crate::aggregation::Aggregation;
use crate::error::Result;
use crate::kind::Kind;
use crate::registry::{Component, Instrumentor, Registry, Request};
use crate::sensor::Sensor;
use crate::state::State;
use crate::status::{Level, Reading};

/// The namespace of the Kubernetes kinds.
pub const NAMESPACE: &str = "kubernetes.io";

/// How many objects a reading lists by name.
const LISTED: usize = 10;

/// How a sensor judges the objects it picked together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    /// The worst object decides.
    #[default]
    Each,
    /// Interchangeable replicas: Failing (or worse) only when none passes; Degraded
    /// when some do not; none at all fails.
    Replicas,
    /// Only the newest object (by `metadata.creationTimestamp`) counts.
    Newest,
}

/// What of an object a sensor judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    /// The kind's own rule ([`rules::judge`]).
    Own,
    /// A pod's containers ([`rules::pod::containers`]).
    Containers,
    /// An Ingress's paths ([`rules::network::ingress_path_findings`]).
    IngressPaths,
}

/// Reads a request's parameters: a [`TargetSpec`] and `combine` beside it.
pub fn parse_params(
    params: &serde_json::Value,
) -> std::result::Result<(TargetSpec, Combine), String> {
    let mut map = match params {
        serde_json::Value::Null => serde_json::Map::new(),
        serde_json::Value::Object(m) => m.clone(),
        other => {
            return Err(format!(
                "expected a mapping (namespace, name, selector…), got {other}"
            ));
        }
    };
    let combine = match map.remove("combine") {
        None => Combine::default(),
        Some(c) => serde_json::from_value(c).map_err(|e| format!("combine: {e}"))?,
    };
    let spec = serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| e.to_string())?;
    Ok((spec, combine))
}

/// The parameters of a dependency's request: `spec` and `combine`.
fn params_of(
    spec: &TargetSpec,
    combine: Combine,
) -> std::result::Result<serde_json::Value, String> {
    let mut v = serde_json::to_value(spec).map_err(|e| e.to_string())?;
    if let serde_json::Value::Object(m) = &mut v {
        let c = serde_json::to_value(combine).map_err(|e| e.to_string())?;
        m.insert("combine".to_owned(), c);
    }
    Ok(v)
}

/// Judges the objects of one target, read through the shared lists.
#[derive(Debug, Clone)]
pub struct ObjectsSensor {
    lists: KubeLists,
    target: Target,
    aspect: Aspect,
    combine: Combine,
}

impl ObjectsSensor {
    /// A sensor judging `aspect` of `target`'s objects.
    pub fn new(
        lists: KubeLists,
        target: Target,
        aspect: Aspect,
        combine: Combine,
    ) -> ObjectsSensor {
        ObjectsSensor {
            lists,
            target,
            aspect,
            combine,
        }
    }

    /// The lists a read needs.
    pub fn needs(&self) -> Vec<(Resource, Option<String>)> {
        let mut needs = self.target.needs();
        let ns = self.target.namespace.clone();
        match self.aspect {
            Aspect::Own => needs.extend(
                rules::needs(&self.target.resource)
                    .into_iter()
                    .map(|r| (r, ns.clone())),
            ),
            Aspect::Containers => {}
            Aspect::IngressPaths => needs.push((resource::SERVICE, ns)),
        }
        needs
    }

    /// The reading from one pass's lists (pure).
    pub fn judge(&self, lists: &Lists) -> Reading {
        judge(&self.target, self.aspect, self.combine, lists)
    }
}

#[async_trait]
impl Sensor for ObjectsSensor {
    async fn read(&self) -> Result<Reading> {
        let lists = self.lists.lists(&self.needs()).await?;
        Ok(self.judge(&lists))
    }
}

/// One picked object judged: its state and `pod shop/web-1: why`.
fn judge_one(target: &Target, aspect: Aspect, r: &Resolved<'_>, lists: &Lists) -> Finding {
    let noun = target.resource.noun();
    let Some(o) = r.object else {
        let by = if r.referrers.is_empty() {
            String::new()
        } else {
            format!(" ({})", r.referrers.join(", "))
        };
        return if r.optional {
            (
                State::Passing,
                format!("{noun} {} absent, optional{by}", r.key),
            )
        } else {
            (State::Failing, format!("{noun} {} not found{by}", r.key))
        };
    };
    let mut findings = match aspect {
        Aspect::Own => rules::judge(&target.resource, o, lists),
        Aspect::Containers => rules::pod::containers(o),
        Aspect::IngressPaths => rules::network::ingress_path_findings(o, lists),
    };
    findings.extend(r.missing_keys.iter().map(|k| (State::Failing, k.clone())));
    let state = findings.iter().map(|f| f.0).max().unwrap_or(State::Passing);
    let shown: Vec<&str> = findings
        .iter()
        .filter(|f| state.is_passing() || !f.0.is_passing())
        .map(|f| f.1.as_str())
        .collect();
    let why = if shown.is_empty() {
        "nothing to check".to_owned()
    } else {
        shown.join("; ")
    };
    (
        state,
        format!("{}: {why}", object::describe(&target.resource, o)),
    )
}

/// The reading of `aspect` of `target`'s objects, combined (pure).
pub fn judge(target: &Target, aspect: Aspect, combine: Combine, lists: &Lists) -> Reading {
    let mut resolved = target.resolve(lists);
    let plural = target.resource.plural;
    if let Pick::SelectedBy(by) = &target.pick {
        let any_selector = by
            .resolve(lists)
            .iter()
            .filter_map(|r| r.object)
            .any(|o| super::target::pod_selector(o).is_some());
        if !any_selector {
            return Reading::explained(
                State::Passing,
                format!("{} selects no pods (no selector)", by.describe()),
            );
        }
    }
    if resolved.is_empty() {
        let derived = matches!(
            target.pick,
            Pick::OwnedBy(_) | Pick::SelectedBy(_) | Pick::ReferencedBy(_)
        );
        let state = match combine {
            Combine::Replicas => State::Failing,
            Combine::Newest => State::Passing,
            Combine::Each if derived => State::Passing,
            Combine::Each => State::Failing,
        };
        return Reading::explained(state, format!("no {}", target.describe()));
    }
    let mut skipped = 0;
    if combine == Combine::Newest && resolved.len() > 1 {
        resolved.sort_by(|a, b| {
            let (a, b) = (
                a.object.map_or("", object::created),
                b.object.map_or("", object::created),
            );
            b.cmp(a)
        });
        skipped = resolved.len() - 1;
        resolved.truncate(1);
    }
    let items: Vec<Finding> = resolved
        .iter()
        .map(|r| judge_one(target, aspect, r, lists))
        .collect();
    let total = items.len();
    let passing = items.iter().filter(|f| f.0.is_passing()).count();
    let worst = items.iter().map(|f| f.0).max().unwrap_or(State::Passing);
    let mut reading = Reading::worst_of(items, LISTED, plural).unwrap_or_default();
    if combine == Combine::Replicas && passing > 0 && worst > State::Degraded {
        reading.state = State::Degraded;
        reading.messages.insert(
            0,
            crate::status::StatusMessage::new(
                Level::Warn,
                format!("{passing}/{total} {plural} passing"),
            ),
        );
    }
    if skipped > 0 {
        reading = reading.with_message(
            Level::Info,
            format!(
                "newest of {} {plural}; older ones do not count",
                skipped + 1
            ),
        );
    }
    reading
}

/// Instruments every `kubernetes.io` kind, reading through shared [`KubeLists`].
#[derive(Debug, Clone)]
pub struct KubeInstrumentor {
    lists: KubeLists,
}

impl KubeInstrumentor {
    /// Sensors reading through `lists`.
    pub fn new(lists: KubeLists) -> KubeInstrumentor {
        KubeInstrumentor { lists }
    }
}

/// Every kind the instrumentor handles, sub-kinds included.
pub fn kinds() -> Vec<Kind> {
    let mut names: Vec<String> = resource::ALL
        .iter()
        .filter(|r| r.kind != "Endpoints")
        .map(|r| r.kind.to_owned())
        .collect();
    names.extend(["Pod#container", "Pod#volume", "Ingress#path"].map(str::to_owned));
    names
        .into_iter()
        .filter_map(|n| Kind::new(NAMESPACE, n).ok())
        .collect()
}

impl Target {
    /// This target as a nested spec (with its kind), for a dependency's `owned_by`,
    /// `selected_by` or `referenced_by`.
    pub fn spec(&self) -> TargetSpec {
        let mut spec = TargetSpec {
            kind: Some(self.resource.kind.to_owned()),
            namespace: self.namespace.clone(),
            ..TargetSpec::default()
        };
        match &self.pick {
            Pick::All => {}
            Pick::Name(n) => spec.name = Some(n.clone()),
            Pick::Selector(s) => spec.selector = Some(s.clone()),
            Pick::OwnedBy(t) => spec.owned_by = Some(Box::new(t.spec())),
            Pick::SelectedBy(t) => spec.selected_by = Some(Box::new(t.spec())),
            Pick::ReferencedBy(t) => spec.referenced_by = Some(Box::new(t.spec())),
        }
        spec
    }
}

/// How a dependency is picked from its dependant.
#[derive(Clone, Copy)]
enum Via {
    Same,
    OwnedBy,
    SelectedBy,
    ReferencedBy,
}

/// A kind's dependencies: (kind name, node suffix, pick, combine).
fn dependencies(kind: &str) -> &'static [(&'static str, &'static str, Via, Combine)] {
    match kind {
        "Deployment" => &[("ReplicaSet", "replicasets", Via::OwnedBy, Combine::Each)],
        "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
            &[("Pod", "pods", Via::OwnedBy, Combine::Replicas)]
        }
        "Pod" => &[
            ("Pod#container", "containers", Via::Same, Combine::Each),
            ("Pod#volume", "volumes", Via::Same, Combine::Each),
        ],
        "Pod#volume" => &[
            ("ConfigMap", "configmaps", Via::ReferencedBy, Combine::Each),
            ("Secret", "secrets", Via::ReferencedBy, Combine::Each),
            (
                "PersistentVolumeClaim",
                "claims",
                Via::ReferencedBy,
                Combine::Each,
            ),
        ],
        "Service" => &[("Pod", "pods", Via::SelectedBy, Combine::Replicas)],
        "Ingress" => &[("Ingress#path", "paths", Via::Same, Combine::Each)],
        "Ingress#path" => &[("Service", "services", Via::ReferencedBy, Combine::Each)],
        "PersistentVolumeClaim" => &[
            (
                "StorageClass",
                "storageclass",
                Via::ReferencedBy,
                Combine::Each,
            ),
            (
                "PersistentVolume",
                "volume",
                Via::ReferencedBy,
                Combine::Each,
            ),
        ],
        "CronJob" => &[("Job", "jobs", Via::OwnedBy, Combine::Newest)],
        _ => &[],
    }
}

impl Instrumentor for KubeInstrumentor {
    fn kinds(&self) -> Vec<Kind> {
        kinds()
    }

    fn instrument(
        &self,
        registry: &Registry,
        kind: &Kind,
        r: &Request<'_>,
    ) -> Result<Vec<Component>> {
        let (spec, combine) = parse_params(r.params).map_err(|e| r.error(kind, e))?;
        let resource = Resource::by_kind(kind.base_name())
            .filter(|res| res.kind != "Endpoints")
            .ok_or_else(|| r.error(kind, "not a Kubernetes kind this crate reads"))?;
        let target = spec
            .target(resource, None, r.at)
            .map_err(|e| r.error(kind, e))?;
        let aspect = match kind.name() {
            "Pod#container" => Some(Aspect::Containers),
            "Ingress#path" => Some(Aspect::IngressPaths),
            "Pod#volume" => None,
            _ => Some(Aspect::Own),
        };
        let deps = dependencies(kind.name());
        let own = aspect.map(|aspect| Component::Sensor {
            name: if deps.is_empty() {
                r.name.to_owned()
            } else {
                format!("{}/{}", r.name, kind.fragment().unwrap_or(&resource.noun()))
            },
            kind: kind.clone(),
            sensor: Arc::new(ObjectsSensor::new(
                self.lists.clone(),
                target.clone(),
                aspect,
                combine,
            )),
        });
        if deps.is_empty() {
            return Ok(own.into_iter().collect());
        }
        let mut children: Vec<Component> = own.into_iter().collect();
        for (dep_kind, suffix, via, dep_combine) in deps {
            let dep = Kind::new(NAMESPACE, *dep_kind)?;
            let mut spec = match via {
                Via::Same => target.spec(),
                Via::OwnedBy => TargetSpec {
                    owned_by: Some(Box::new(target.spec())),
                    ..TargetSpec::default()
                },
                Via::SelectedBy => TargetSpec {
                    selected_by: Some(Box::new(target.spec())),
                    ..TargetSpec::default()
                },
                Via::ReferencedBy => TargetSpec {
                    referenced_by: Some(Box::new(target.spec())),
                    ..TargetSpec::default()
                },
            };
            spec.namespace = target.namespace.clone();
            spec.kind = None;
            let combine = match via {
                Via::Same => combine,
                _ => *dep_combine,
            };
            let params = params_of(&spec, combine).map_err(|e| r.error(kind, e))?;
            let name = format!("{}/{suffix}", r.name);
            let at = format!("{} -> {dep}", r.at);
            children.push(registry.instrument_one(
                &dep,
                &Request {
                    name: &name,
                    params: &params,
                    at: &at,
                },
            )?);
        }
        Ok(vec![Component::System {
            name: r.name.to_owned(),
            kind: Some(kind.clone()),
            aggregation: Aggregation::All,
            children,
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubernetes::rules::tests::shop;
    use crate::kubernetes::source::MemorySource;
    use serde_json::json;

    fn target(kind: Resource, spec: serde_json::Value) -> Target {
        let (spec, _) = parse_params(&spec).expect("valid");
        spec.target(kind, None, "p").expect("valid")
    }

    fn lines(r: &Reading) -> Vec<String> {
        r.messages.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn replicas_fail_only_when_none_passes() {
        let lists = Lists::from_objects(shop());
        let web = target(
            resource::POD,
            json!({"namespace": "shop", "selector": "app=web"}),
        );
        let r = judge(&web, Aspect::Own, Combine::Replicas, &lists);
        assert_eq!(r.state, State::Degraded);
        assert_eq!(lines(&r)[0], "WARN: 3/4 pods passing");
        assert_eq!(
            judge(&web, Aspect::Own, Combine::Each, &lists).state,
            State::Failing
        );
        let api = target(
            resource::POD,
            json!({"namespace": "shop", "selector": "app=api"}),
        );
        assert_eq!(
            judge(&api, Aspect::Own, Combine::Replicas, &lists).state,
            State::Failing
        );
        let none = target(
            resource::POD,
            json!({"namespace": "shop", "selector": "app=gone"}),
        );
        let r = judge(&none, Aspect::Own, Combine::Replicas, &lists);
        assert_eq!(
            lines(&r),
            ["ERROR: no pods in namespace shop matching app=gone"]
        );
    }

    #[test]
    fn a_missing_named_object_fails_and_an_absent_dependency_set_passes() {
        let lists = Lists::from_objects(shop());
        let gone = target(
            resource::DEPLOYMENT,
            json!({"namespace": "shop", "name": "gone"}),
        );
        let r = judge(&gone, Aspect::Own, Combine::Each, &lists);
        assert_eq!(lines(&r), ["ERROR: deployment shop/gone not found"]);
        let jobs = target(
            resource::JOB,
            json!({"namespace": "shop", "owned_by": {"kind": "CronJob", "name": "weekly"}}),
        );
        let r = judge(&jobs, Aspect::Own, Combine::Newest, &lists);
        assert_eq!(lines(&r), ["INFO: no jobs owned by cronjob shop/weekly"]);
        let headless = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "ext", "namespace": "shop"},
            "spec": {"type": "ExternalName", "externalName": "db.example.com"}});
        let lists = Lists::from_objects([headless]);
        let pods = target(
            resource::POD,
            json!({"namespace": "shop", "selected_by": {"kind": "Service", "name": "ext"}}),
        );
        let r = judge(&pods, Aspect::Own, Combine::Replicas, &lists);
        assert_eq!(
            lines(&r),
            ["INFO: service shop/ext selects no pods (no selector)"]
        );
    }

    #[test]
    fn volume_items_need_their_keys_unless_optional() {
        let pod = |optional: bool| {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
                "spec": {"volumes": [{"name": "cfg", "configMap": {"name": "db-config", "optional": optional,
                    "items": [{"key": "host", "path": "host"}, {"key": "port", "path": "port"}]}}]}})
        };
        let cms = target(
            resource::CONFIG_MAP,
            json!({"namespace": "shop", "referenced_by": {"kind": "Pod", "name": "p"}}),
        );
        let mut objects = shop();
        objects.push(pod(false));
        let r = judge(
            &cms,
            Aspect::Own,
            Combine::Each,
            &Lists::from_objects(objects),
        );
        assert_eq!(
            lines(&r),
            ["ERROR: configmap shop/db-config: no key port (volume cfg of pod shop/p)"]
        );
        let mut objects = shop();
        objects.push(pod(true));
        let r = judge(
            &cms,
            Aspect::Own,
            Combine::Each,
            &Lists::from_objects(objects),
        );
        assert_eq!(r.state, State::Passing);
    }

    #[test]
    fn targets_travel_between_instrumentors_as_specs() {
        for spec in [
            json!({"namespace": "shop", "name": "web"}),
            json!({"namespace": "shop", "selector": "app=web,tier notin (cache)"}),
            json!({"namespace": "shop", "owned_by": {"kind": "ReplicaSet",
                   "owned_by": {"kind": "Deployment", "name": "web"}}}),
        ] {
            let t = target(resource::POD, spec);
            let back = t.spec().target(resource::POD, None, "p").expect("valid");
            assert_eq!(back, t);
        }
    }

    #[test]
    fn bad_params_are_located() {
        let registry = crate::kubernetes::registry(KubeLists::new(Arc::new(MemorySource::new())));
        for (kind, params, expected) in [
            (
                "kubernetes.io:Pod",
                json!({"namespace": "shop", "nmae": "x"}),
                "sensors[0].params: instrumenting kind=kubernetes.io:Pod: unknown field `nmae`",
            ),
            (
                "kubernetes.io:Pod",
                json!({"combine": "most"}),
                "sensors[0].params: instrumenting kind=kubernetes.io:Pod: combine: unknown variant `most`",
            ),
            (
                "kubernetes.io:Service",
                json!({"selector": "app in web"}),
                "sensors[0].params: instrumenting kind=kubernetes.io:Service: selector: expected label",
            ),
            (
                "kubernetes.io:Deployment",
                json!("web"),
                "sensors[0].params: instrumenting kind=kubernetes.io:Deployment: expected a mapping",
            ),
        ] {
            let err = registry
                .instrument(
                    &kind.parse().expect("valid"),
                    &Request {
                        name: "x",
                        params: &params,
                        at: "sensors[0].params",
                    },
                )
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(expected), "{err}\nexpected: {expected}");
        }
    }

    #[test]
    fn every_kind_is_registered() {
        let names: Vec<String> = kinds().iter().map(ToString::to_string).collect();
        assert_eq!(names.len(), 19);
        for k in [
            "kubernetes.io:Pod#container",
            "kubernetes.io:Pod#volume",
            "kubernetes.io:Ingress#path",
            "kubernetes.io:StorageClass",
        ] {
            assert!(names.contains(&k.to_owned()), "{k}");
        }
    }
}
