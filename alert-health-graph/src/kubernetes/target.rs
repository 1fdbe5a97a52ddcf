//! Which objects a sensor judges: a [`Target`] names a kind, a namespace and a
//! [`Pick`]: one object by name, a label selector, the objects another target owns
//! (`metadata.ownerReferences`), selects (a Service's or a workload's selector) or
//! references (a Pod's volumes and its containers' `env`/`envFrom`, with the keys they
//! need; a PVC's storage class and volume; an Ingress's backends).
//!
//! Targets are what instrumentors hand each other through the registry, as the request's
//! parameters ([`TargetSpec`], the same mapping a graph file writes), so a Deployment
//! asks for `kubernetes.io:ReplicaSet` with `{owned_by: {kind: Deployment, name: web}}`
//! and never calls the ReplicaSet instrumentor itself. Resolving a target is pure: it
//! reads the [`Lists`] of one pass, and [`Target::needs`] says which lists those are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::object::{self, Lists};
use super::resource::{self, Resource};
use super::selector::LabelSelector;

/// A target as written: in a graph file's `params`, or between instrumentors.
///
/// At most one of `name`, `selector`, `owned_by`, `selected_by`, `referenced_by`; none
/// means every object of the kind in the namespace (every namespace without one).
/// Nested targets name their `kind` and inherit the namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// The kind, in nested targets (`Deployment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The namespace (every namespace when absent; ignored for cluster-scoped kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// One object by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Objects whose labels match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// Objects with an owner reference to one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<Box<TargetSpec>>,
    /// Pods matched by these objects' selectors (Services, workloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_by: Option<Box<TargetSpec>>,
    /// Objects these objects refer to by name (volumes, storage class, backends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_by: Option<Box<TargetSpec>>,
}

/// How the objects of a target are picked.
#[derive(Debug, Clone, PartialEq)]
pub enum Pick {
    /// Every object in the namespace.
    All,
    /// The object with this name.
    Name(String),
    /// Objects whose labels match.
    Selector(LabelSelector),
    /// Objects owned by the target's objects.
    OwnedBy(Box<Target>),
    /// Pods matched by the target's objects' selectors.
    SelectedBy(Box<Target>),
    /// Objects the target's objects refer to by name.
    ReferencedBy(Box<Target>),
}

/// Objects of one kind, picked.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The kind.
    pub resource: Resource,
    /// The namespace (`None`: every namespace; always for cluster-scoped kinds).
    pub namespace: Option<String>,
    /// How objects are picked.
    pub pick: Pick,
}

/// One object a target resolved to, or a reference to a missing one.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved<'a> {
    /// `namespace/name` (or `name`).
    pub key: String,
    /// The object, `None` when referenced but absent.
    pub object: Option<&'a Value>,
    /// Who refers to it and how (`volume config of pod shop/web-1`), for references.
    pub referrers: Vec<String>,
    /// Whether every reference to it is optional (`configMap.optional: true`).
    pub optional: bool,
    /// Keys required references need that it lacks: `no key url (env DB_URL of
    /// container app of pod shop/web-1)`.
    pub missing_keys: Vec<String>,
}

impl TargetSpec {
    /// The target for `resource` (or the nested `kind`); `at` names the field in
    /// errors (`sensors[2].params`).
    pub fn target(
        &self,
        resource: Resource,
        inherited: Option<&str>,
        at: &str,
    ) -> Result<Target, String> {
        let namespace = self
            .namespace
            .clone()
            .or_else(|| inherited.map(str::to_owned))
            .filter(|_| resource.namespaced);
        let nested = |spec: &TargetSpec, field: &str| -> Result<Box<Target>, String> {
            let kind = spec
                .kind
                .as_deref()
                .ok_or_else(|| format!("{at}.{field}.kind: missing required value"))?;
            let r = Resource::by_kind(kind).ok_or_else(|| {
                format!(
                    "{at}.{field}.kind: expected one of {}, got {kind:?}",
                    kind_names()
                )
            })?;
            spec.target(r, namespace.as_deref(), &format!("{at}.{field}"))
                .map(Box::new)
        };
        let mut picks = Vec::new();
        if let Some(n) = &self.name {
            picks.push(("name", Pick::Name(n.clone())));
        }
        if let Some(s) = &self.selector {
            picks.push(("selector", Pick::Selector(s.clone())));
        }
        if let Some(o) = &self.owned_by {
            picks.push(("owned_by", Pick::OwnedBy(nested(o, "owned_by")?)));
        }
        if let Some(o) = &self.selected_by {
            let t = nested(o, "selected_by")?;
            if resource != resource::POD {
                return Err(format!(
                    "{at}.selected_by: only pods are selected, not {}",
                    resource.plural
                ));
            }
            picks.push(("selected_by", Pick::SelectedBy(t)));
        }
        if let Some(o) = &self.referenced_by {
            let t = nested(o, "referenced_by")?;
            if references(&t.resource, &resource).is_none() {
                return Err(format!(
                    "{at}.referenced_by: a {} does not refer to {}",
                    t.resource.noun(),
                    resource.plural
                ));
            }
            picks.push(("referenced_by", Pick::ReferencedBy(t)));
        }
        let pick = match picks.len() {
            0 => Pick::All,
            1 => picks.remove(0).1,
            _ => {
                let names: Vec<&str> = picks.iter().map(|p| p.0).collect();
                return Err(format!(
                    "{at}: expected at most one of name, selector, owned_by, selected_by, \
                     referenced_by, got {}",
                    names.join(", ")
                ));
            }
        };
        Ok(Target {
            resource,
            namespace,
            pick,
        })
    }
}

fn kind_names() -> String {
    resource::ALL
        .iter()
        .map(|r| r.kind)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One reference by name from one object to another.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    name: String,
    /// How: `volume config`, `env DB_URL of container app`.
    how: String,
    optional: bool,
    /// Keys the reference needs in the object's `data` (volume `items`, `env` keys).
    keys: Vec<String>,
}

impl Reference {
    fn new(name: &str, how: String) -> Reference {
        Reference {
            name: name.to_owned(),
            how,
            optional: false,
            keys: Vec::new(),
        }
    }
}

/// The references `referrer` makes to objects of kind `to`; `None` when a `referrer`
/// never refers to a `to`.
type Extract = fn(&Value) -> Vec<Reference>;

fn references(referrer: &Resource, to: &Resource) -> Option<Extract> {
    Some(match (referrer.kind, to.kind) {
        ("Pod", "ConfigMap") => |pod| pod_config(pod, ConfigKind::ConfigMap),
        ("Pod", "Secret") => |pod| pod_config(pod, ConfigKind::Secret),
        ("Pod", "PersistentVolumeClaim") => |pod| {
            object::array(&pod["spec"]["volumes"])
                .iter()
                .filter_map(|v| {
                    let claim = v["persistentVolumeClaim"]["claimName"].as_str()?;
                    let how = format!("volume {}", v["name"].as_str().unwrap_or("?"));
                    Some(Reference::new(claim, how))
                })
                .collect()
        },
        ("PersistentVolumeClaim", "StorageClass") => |pvc| {
            pvc["spec"]["storageClassName"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(|s| Reference::new(s, "storageClassName".to_owned()))
                .into_iter()
                .collect()
        },
        ("PersistentVolumeClaim", "PersistentVolume") => |pvc| {
            pvc["spec"]["volumeName"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(|s| Reference::new(s, "volumeName".to_owned()))
                .into_iter()
                .collect()
        },
        ("Ingress", "Service") => |ing| {
            super::rules::network::ingress_paths(ing)
                .into_iter()
                .filter_map(|p| Some(Reference::new(&p.service?, format!("path {}", p.shown))))
                .collect()
        },
        _ => return None,
    })
}

#[derive(Clone, Copy)]
enum ConfigKind {
    ConfigMap,
    Secret,
}

/// The ConfigMaps or Secrets a pod needs: volumes (direct, with the keys their `items`
/// name, or projected), and its containers' `env` (`configMapKeyRef`, `secretKeyRef`)
/// and `envFrom`. The kubelet does not start a container without them
/// (`CreateContainerConfigError`, or a volume that never mounts), unless `optional`.
fn pod_config(pod: &Value, kind: ConfigKind) -> Vec<Reference> {
    let (volume_source, volume_name, key_ref, from_ref) = match kind {
        ConfigKind::ConfigMap => ("configMap", "name", "configMapKeyRef", "configMapRef"),
        ConfigKind::Secret => ("secret", "secretName", "secretKeyRef", "secretRef"),
    };
    let optional = |s: &Value| s["optional"].as_bool().unwrap_or(false);
    let keys = |s: &Value| -> Vec<String> {
        object::array(&s["items"])
            .iter()
            .filter_map(|i| i["key"].as_str().map(str::to_owned))
            .collect()
    };
    let mut out = Vec::new();
    for v in object::array(&pod["spec"]["volumes"]) {
        let how = format!("volume {}", v["name"].as_str().unwrap_or("?"));
        let direct = &v[volume_source];
        if let Some(name) = direct[volume_name].as_str() {
            out.push(Reference {
                optional: optional(direct),
                keys: keys(direct),
                ..Reference::new(name, how.clone())
            });
        }
        for p in object::array(&v["projected"]["sources"]) {
            let s = &p[volume_source];
            if let Some(name) = s["name"].as_str() {
                out.push(Reference {
                    optional: optional(s),
                    keys: keys(s),
                    ..Reference::new(name, how.clone())
                });
            }
        }
    }
    let containers = ["initContainers", "containers"]
        .into_iter()
        .flat_map(|f| object::array(&pod["spec"][f]));
    for c in containers {
        let container = c["name"].as_str().unwrap_or("?");
        for e in object::array(&c["env"]) {
            let r = &e["valueFrom"][key_ref];
            if let Some(name) = r["name"].as_str() {
                let how = format!(
                    "env {} of container {container}",
                    e["name"].as_str().unwrap_or("?")
                );
                out.push(Reference {
                    optional: optional(r),
                    keys: r["key"].as_str().map(str::to_owned).into_iter().collect(),
                    ..Reference::new(name, how)
                });
            }
        }
        for e in object::array(&c["envFrom"]) {
            let r = &e[from_ref];
            if let Some(name) = r["name"].as_str() {
                out.push(Reference {
                    optional: optional(r),
                    ..Reference::new(name, format!("envFrom of container {container}"))
                });
            }
        }
    }
    out
}

/// Whether a ConfigMap or Secret has `key` in `data` or `binaryData`.
fn has_key(object: &Value, key: &str) -> bool {
    ["data", "binaryData"]
        .into_iter()
        .any(|f| object[f].get(key).is_some())
}

impl Target {
    /// The lists resolving this target reads: `(resource, namespace)` pairs.
    pub fn needs(&self) -> Vec<(Resource, Option<String>)> {
        let mut out = vec![(self.resource, self.namespace.clone())];
        match &self.pick {
            Pick::OwnedBy(t) | Pick::SelectedBy(t) | Pick::ReferencedBy(t) => out.extend(t.needs()),
            Pick::All | Pick::Name(_) | Pick::Selector(_) => {}
        }
        out
    }

    /// How the pick reads in messages: `pods owned by replicaset shop/web-5d4f`.
    pub fn describe(&self) -> String {
        let plural = self.resource.plural;
        let in_ns = match &self.namespace {
            Some(ns) => format!(" in namespace {ns}"),
            None => String::new(),
        };
        match &self.pick {
            Pick::All => format!("{plural}{in_ns}"),
            Pick::Name(n) => match &self.namespace {
                Some(ns) => format!("{} {ns}/{n}", self.resource.noun()),
                None => format!("{} {n}", self.resource.noun()),
            },
            Pick::Selector(s) => format!("{plural}{in_ns} matching {s}"),
            Pick::OwnedBy(t) => format!("{plural} owned by {}", t.describe()),
            Pick::SelectedBy(t) => format!("{plural} selected by {}", t.describe()),
            Pick::ReferencedBy(t) => format!("{plural} referenced by {}", t.describe()),
        }
    }

    /// The objects picked, in the order listed (references in the order referred to).
    pub fn resolve<'a>(&'a self, lists: &'a Lists) -> Vec<Resolved<'a>> {
        let ns = self.namespace.as_deref();
        let found = |o: &'a Value| Resolved {
            key: object::key(o),
            object: Some(o),
            referrers: Vec::new(),
            optional: false,
            missing_keys: Vec::new(),
        };
        match &self.pick {
            Pick::All => lists
                .objects(&self.resource, ns)
                .into_iter()
                .map(found)
                .collect(),
            Pick::Name(n) => vec![match lists.find(&self.resource, ns, n) {
                Some(o) => found(o),
                None => Resolved {
                    key: match ns {
                        Some(ns) => format!("{ns}/{n}"),
                        None => n.clone(),
                    },
                    object: None,
                    referrers: Vec::new(),
                    optional: false,
                    missing_keys: Vec::new(),
                },
            }],
            Pick::Selector(s) => lists
                .selected(&self.resource, ns, s)
                .into_iter()
                .map(found)
                .collect(),
            Pick::OwnedBy(owner) => {
                let uids: Vec<&str> = owner
                    .resolve(lists)
                    .iter()
                    .filter_map(|r| r.object.map(object::uid))
                    .filter(|u| !u.is_empty())
                    .collect();
                lists
                    .owned_by(&self.resource, ns, &uids)
                    .into_iter()
                    .map(found)
                    .collect()
            }
            Pick::SelectedBy(by) => {
                let mut out: Vec<&'a Value> = Vec::new();
                for o in by.resolve(lists).iter().filter_map(|r| r.object) {
                    if let Some(s) = pod_selector(o) {
                        out.extend(lists.selected(&self.resource, object::namespace(o), &s));
                    }
                }
                let mut seen = std::collections::HashSet::new();
                out.retain(|o| seen.insert(object::key(o)));
                out.into_iter().map(found).collect()
            }
            Pick::ReferencedBy(by) => {
                let Some(extract) = references(&by.resource, &self.resource) else {
                    return Vec::new();
                };
                let mut out: Vec<Resolved<'a>> = Vec::new();
                let mut index: BTreeMap<String, usize> = BTreeMap::new();
                for referrer in by.resolve(lists).iter().filter_map(|r| r.object) {
                    let ref_ns = object::namespace(referrer).filter(|_| self.resource.namespaced);
                    for r in extract(referrer) {
                        let key = match ref_ns {
                            Some(ns) => format!("{ns}/{}", r.name),
                            None => r.name.clone(),
                        };
                        let by_text =
                            format!("{} of {}", r.how, object::describe(&by.resource, referrer));
                        let i = match index.get(&key) {
                            Some(&i) => {
                                out[i].referrers.push(by_text.clone());
                                out[i].optional &= r.optional;
                                i
                            }
                            None => {
                                let object = lists.find(&self.resource, ref_ns, &r.name);
                                index.insert(key.clone(), out.len());
                                out.push(Resolved {
                                    key,
                                    object,
                                    referrers: vec![by_text.clone()],
                                    optional: r.optional,
                                    missing_keys: Vec::new(),
                                });
                                out.len() - 1
                            }
                        };
                        if let Some(o) = out[i].object
                            && !r.optional
                        {
                            for k in r.keys.iter().filter(|k| !has_key(o, k)) {
                                out[i].missing_keys.push(format!("no key {k} ({by_text})"));
                            }
                        }
                    }
                }
                out
            }
        }
    }
}

/// The selector an object applies to pods: a Service's `spec.selector` map, a
/// workload's `spec.selector` (`matchLabels`, `matchExpressions`). `None` when it has
/// none (a Service without a selector selects no pods, not every pod).
pub fn pod_selector(o: &Value) -> Option<LabelSelector> {
    let s = &o["spec"]["selector"];
    if o["kind"].as_str() == Some("Service") {
        let labels = object::string_map(s);
        return (!labels.is_empty()).then(|| LabelSelector::from_labels(&labels));
    }
    let at = format!("{} spec.selector", object::key(o));
    LabelSelector::from_object(s, &at)
        .ok()
        .filter(|sel| !sel.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: Value) -> TargetSpec {
        serde_json::from_value(v).expect("valid spec")
    }

    #[test]
    fn specs_become_targets_or_say_what_is_wrong() {
        let t =
            spec(json!({"namespace": "shop", "owned_by": {"kind": "Deployment", "name": "web"}}))
                .target(resource::REPLICA_SET, None, "p")
                .expect("valid");
        assert_eq!(t.describe(), "replicasets owned by deployment shop/web");
        assert_eq!(
            t.needs(),
            [
                (resource::REPLICA_SET, Some("shop".into())),
                (resource::DEPLOYMENT, Some("shop".into()))
            ]
        );
        for (v, err) in [
            (
                json!({"name": "a", "selector": "x=y"}),
                "p: expected at most one of name, selector, owned_by, selected_by, referenced_by, got name, selector",
            ),
            (
                json!({"owned_by": {"name": "a"}}),
                "p.owned_by.kind: missing required value",
            ),
            (
                json!({"owned_by": {"kind": "Gadget"}}),
                "p.owned_by.kind: expected one of Pod,",
            ),
            (
                json!({"referenced_by": {"kind": "Node"}}),
                "p.referenced_by: a node does not refer to configmaps",
            ),
        ] {
            let e = spec(v).target(resource::CONFIG_MAP, None, "p").unwrap_err();
            assert!(e.starts_with(err), "{e}");
        }
    }
}
