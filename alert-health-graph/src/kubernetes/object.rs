//! Reading Kubernetes objects as the API server sends them (JSON), and [`Lists`]: the
//! collections one evaluation pass listed.
//!
//! The objects stay `serde_json::Value`s rather than typed structs (`k8s-openapi`'s):
//! the rules read a few dozen fields of seventeen kinds, every one of them optional in
//! the API, and an object of a newer or older API version than the types were generated
//! for must still be judged on the fields it has rather than fail to deserialise as a
//! whole list. The accessors here treat an absent field as Kubernetes does (its default)
//! and a field of the wrong type as absent; rules that need a field say which.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use super::resource::Resource;

/// `metadata.name` (empty when absent).
pub fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

/// `metadata.namespace`, for namespaced objects.
pub fn namespace(object: &Value) -> Option<&str> {
    object["metadata"]["namespace"].as_str()
}

/// `metadata.uid` (empty when absent).
pub fn uid(object: &Value) -> &str {
    object["metadata"]["uid"].as_str().unwrap_or_default()
}

/// `metadata.creationTimestamp` (RFC 3339 in UTC, so it sorts as text).
pub fn created(object: &Value) -> &str {
    object["metadata"]["creationTimestamp"]
        .as_str()
        .unwrap_or_default()
}

/// `metadata.labels` (string values only).
pub fn labels(object: &Value) -> BTreeMap<String, String> {
    string_map(&object["metadata"]["labels"])
}

/// A JSON map's string values.
pub fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// The uids in `metadata.ownerReferences`.
pub fn owner_uids(object: &Value) -> impl Iterator<Item = &str> {
    object["metadata"]["ownerReferences"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(|o| o["uid"].as_str())
}

/// `namespace/name`, or `name` for cluster-scoped objects.
pub fn key(object: &Value) -> String {
    match namespace(object) {
        Some(ns) => format!("{ns}/{}", name(object)),
        None => name(object).to_owned(),
    }
}

/// `pod shop/web-1`: the noun of the kind and the object's key, as messages name it.
pub fn describe(resource: &Resource, object: &Value) -> String {
    format!("{} {}", resource.noun(), key(object))
}

/// An integer field (`status.readyReplicas`), or `default` when absent, as the API
/// omits zero counts.
pub fn int(v: &Value, default: i64) -> i64 {
    v.as_i64().unwrap_or(default)
}

/// The elements of an array field (none when absent).
pub fn array(v: &Value) -> &[Value] {
    v.as_array().map_or(&[][..], Vec::as_slice)
}

/// One entry of `status.conditions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// `type` (`Ready`, `Available`).
    pub kind: String,
    /// `status`: `True`, `False` or `Unknown`.
    pub status: String,
    /// `reason` (CamelCase), if any.
    pub reason: Option<String>,
    /// `message`, if any.
    pub message: Option<String>,
}

impl Condition {
    /// `Ready False: ContainersNotReady: containers with unready status: [app]`.
    pub fn explain(&self) -> String {
        let mut text = format!("{} {}", self.kind, self.status);
        for part in [&self.reason, &self.message].into_iter().flatten() {
            if !part.is_empty() {
                text.push_str(": ");
                text.push_str(part);
            }
        }
        text
    }

    /// Whether `status` is `True`.
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }
}

/// `status.conditions` of an object.
pub fn conditions(object: &Value) -> Vec<Condition> {
    array(&object["status"]["conditions"])
        .iter()
        .filter_map(|c| {
            Some(Condition {
                kind: c["type"].as_str()?.to_owned(),
                status: c["status"].as_str().unwrap_or("Unknown").to_owned(),
                reason: c["reason"].as_str().map(str::to_owned),
                message: c["message"].as_str().map(str::to_owned),
            })
        })
        .collect()
}

/// The condition of type `kind`, if reported.
pub fn condition(object: &Value, kind: &str) -> Option<Condition> {
    conditions(object).into_iter().find(|c| c.kind == kind)
}

/// One listed collection with the indexes resolution needs, built once per LIST (not
/// per sensor): objects by namespace and name, by owner uid, by label pair, and every
/// object's labels read once. With them a graph of a thousand Deployments over five
/// thousand pods resolves each target from its own objects instead of scanning the
/// collection for every sensor.
#[derive(Debug, Default)]
pub struct Collection {
    items: Vec<Value>,
    labels: Vec<BTreeMap<String, String>>,
    by_name: HashMap<(Option<String>, String), usize>,
    by_owner: HashMap<String, Vec<usize>>,
    by_label: HashMap<(String, String), Vec<usize>>,
}

impl Collection {
    /// Indexes `items` (in the order listed).
    pub fn new(items: Vec<Value>) -> Collection {
        let mut c = Collection {
            labels: items.iter().map(labels).collect(),
            ..Collection::default()
        };
        for (i, o) in items.iter().enumerate() {
            c.by_name
                .insert((namespace(o).map(str::to_owned), name(o).to_owned()), i);
            for uid in owner_uids(o) {
                c.by_owner.entry(uid.to_owned()).or_default().push(i);
            }
            for (k, v) in &c.labels[i] {
                c.by_label
                    .entry((k.clone(), v.clone()))
                    .or_default()
                    .push(i);
            }
        }
        c.items = items;
        c
    }

    /// The objects, in the order listed.
    pub fn items(&self) -> &[Value] {
        &self.items
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The collections listed for one pass: objects by resource and namespace (`None`: all
/// namespaces, and always for cluster-scoped kinds). The pure rules read only these.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    by: HashMap<(Resource, Option<String>), Arc<Collection>>,
}

impl Lists {
    /// No collections.
    pub fn new() -> Lists {
        Lists::default()
    }

    /// Every object grouped into all-namespace collections by `apiVersion` and `kind`
    /// (for tests and the in-memory source); objects of other kinds are left out.
    pub fn from_objects(objects: impl IntoIterator<Item = Value>) -> Lists {
        let mut grouped: HashMap<Resource, Vec<Value>> = HashMap::new();
        for o in objects {
            let found = Resource::by_kind(o["kind"].as_str().unwrap_or_default())
                .filter(|r| Some(r.api_version().as_str()) == o["apiVersion"].as_str());
            if let Some(r) = found {
                grouped.entry(r).or_default().push(o);
            }
        }
        let mut lists = Lists::new();
        for r in super::resource::ALL {
            let items = grouped.remove(&r).unwrap_or_default();
            lists.insert(r, None, Arc::new(Collection::new(items)));
        }
        lists
    }

    /// Records the collection of `resource` in `namespace`.
    pub fn insert(
        &mut self,
        resource: Resource,
        namespace: Option<String>,
        items: Arc<Collection>,
    ) {
        let namespace = namespace.filter(|_| resource.namespaced);
        self.by.insert((resource, namespace), items);
    }

    /// Whether the collection of `resource` in `namespace` (or of all namespaces) was
    /// listed.
    pub fn has(&self, resource: &Resource, namespace: Option<&str>) -> bool {
        self.collection(resource, namespace).is_some()
    }

    /// The collection holding `resource` in `namespace`, and whether its objects must
    /// still be filtered by namespace (an all-namespace collection).
    fn collection(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
    ) -> Option<(&Collection, bool)> {
        let ns = namespace.filter(|_| resource.namespaced);
        if let Some(ns) = ns
            && let Some(c) = self.by.get(&(*resource, Some(ns.to_owned())))
        {
            return Some((c, false));
        }
        self.by
            .get(&(*resource, None))
            .map(|c| (&**c, ns.is_some()))
    }

    /// The objects at `indexes` of the collection, in namespace `ns` when `filter`.
    fn pick<'a>(
        c: &'a Collection,
        indexes: impl IntoIterator<Item = usize>,
        ns: Option<&str>,
        filter: bool,
    ) -> Vec<&'a Value> {
        indexes
            .into_iter()
            .filter_map(|i| c.items.get(i))
            .filter(|o| !filter || self::namespace(o) == ns)
            .collect()
    }

    /// The objects of `resource` in `namespace` (every namespace when `None`), from the
    /// namespace's collection or filtered from the all-namespace one.
    pub fn objects<'a>(&'a self, resource: &Resource, namespace: Option<&str>) -> Vec<&'a Value> {
        let ns = namespace.filter(|_| resource.namespaced);
        match self.collection(resource, ns) {
            Some((c, filter)) => Lists::pick(c, 0..c.len(), ns, filter),
            None => Vec::new(),
        }
    }

    /// The object of `resource` named `name` in `namespace`.
    pub fn find<'a>(
        &'a self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<&'a Value> {
        let ns = namespace.filter(|_| resource.namespaced);
        let (c, _) = self.collection(resource, ns)?;
        match ns {
            Some(ns) => c
                .by_name
                .get(&(Some(ns.to_owned()), name.to_owned()))
                .and_then(|i| c.items.get(*i)),
            // Every namespace: the first of that name.
            None => c.items.iter().find(|o| self::name(o) == name),
        }
    }

    /// The objects of `resource` in `namespace` with an owner reference to one of
    /// `uids`, in the order listed.
    pub fn owned_by<'a>(
        &'a self,
        resource: &Resource,
        namespace: Option<&str>,
        uids: &[&str],
    ) -> Vec<&'a Value> {
        let ns = namespace.filter(|_| resource.namespaced);
        let Some((c, filter)) = self.collection(resource, ns) else {
            return Vec::new();
        };
        let mut indexes: Vec<usize> = uids
            .iter()
            .filter_map(|u| c.by_owner.get(*u))
            .flatten()
            .copied()
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        Lists::pick(c, indexes, ns, filter)
    }

    /// The objects of `resource` in `namespace` whose labels `selector` matches, in
    /// the order listed (through the label index when it requires a label value).
    pub fn selected<'a>(
        &'a self,
        resource: &Resource,
        namespace: Option<&str>,
        selector: &super::selector::LabelSelector,
    ) -> Vec<&'a Value> {
        let ns = namespace.filter(|_| resource.namespaced);
        let Some((c, filter)) = self.collection(resource, ns) else {
            return Vec::new();
        };
        let candidates: Vec<usize> = selector
            .requirements()
            .iter()
            .find_map(|r| match r {
                super::selector::Requirement::Equals(k, v) => Some(
                    c.by_label
                        .get(&(k.clone(), v.clone()))
                        .cloned()
                        .unwrap_or_default(),
                ),
                _ => None,
            })
            .unwrap_or_else(|| (0..c.len()).collect());
        let matching = candidates
            .into_iter()
            .filter(|i| c.labels.get(*i).is_some_and(|l| selector.matches(l)));
        Lists::pick(c, matching, ns, filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_explain_themselves() {
        let pod = json!({"status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
             "message": "containers with unready status: [app]"}]}});
        let ready = condition(&pod, "Ready").expect("reported");
        assert_eq!(
            ready.explain(),
            "Ready False: ContainersNotReady: containers with unready status: [app]"
        );
        assert!(condition(&pod, "PodScheduled").is_none());
    }

    #[test]
    fn lists_answer_by_namespace() {
        let lists = Lists::from_objects([
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "y"}}),
            json!({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "wrong-group"}}),
        ]);
        let cm = super::super::resource::CONFIG_MAP;
        assert_eq!(lists.objects(&cm, Some("x")).len(), 1);
        assert_eq!(lists.objects(&cm, None).len(), 2);
        assert!(lists.find(&cm, Some("y"), "a").is_some());
        assert!(lists.find(&cm, Some("z"), "a").is_none());
    }
}
