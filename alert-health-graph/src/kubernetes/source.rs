//! The [`KubeSource`] seam: list one kind, in one namespace or all, with label and field
//! selectors, as JSON. The rules never see it; [`KubeLists`](super::lists::KubeLists)
//! calls it once per kind and namespace per pass. [`MemorySource`] answers from objects
//! given to it (unit tests, examples); `KubeApiSource` (feature `kubernetes`) asks an API
//! server through the `kube` crate.

use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

use super::object;
use super::resource::Resource;
use super::selector::LabelSelector;
use crate::error::{Error, Result};

/// One LIST.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRequest {
    /// The kind.
    pub resource: Resource,
    /// The namespace (`None`: every namespace; ignored for cluster-scoped kinds).
    pub namespace: Option<String>,
    /// `?labelSelector=`.
    pub label_selector: Option<LabelSelector>,
    /// `?fieldSelector=` (`metadata.name=web`; `=`, `==`, `!=`, comma-separated).
    pub field_selector: Option<String>,
}

impl ListRequest {
    /// Every object of `resource` in `namespace`.
    pub fn new(resource: Resource, namespace: Option<&str>) -> ListRequest {
        ListRequest {
            resource,
            namespace: namespace.filter(|_| resource.namespaced).map(str::to_owned),
            label_selector: None,
            field_selector: None,
        }
    }

    /// `deployments in namespace shop`, `nodes`: what errors say was being listed.
    pub fn describe(&self) -> String {
        let mut text = format!("listing {}", self.resource.plural);
        if let Some(ns) = &self.namespace {
            text.push_str(&format!(" in namespace {ns}"));
        }
        if let Some(s) = &self.label_selector {
            text.push_str(&format!(" matching {s}"));
        }
        if let Some(f) = &self.field_selector {
            text.push_str(&format!(" with fields {f}"));
        }
        text
    }
}

impl fmt::Display for ListRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Lists Kubernetes objects.
#[async_trait]
pub trait KubeSource: Send + Sync {
    /// The objects `request` selects, as the API server sends them (`items` of the
    /// list, each with `metadata`, `spec`, `status`). A refusal is an
    /// [`Error::Kubernetes`] naming what was listed.
    async fn list(&self, request: &ListRequest) -> Result<Vec<Value>>;
}

/// Objects held in memory, selected as the API server selects them.
///
/// ```
/// use alert_health_graph::kubernetes::{resource, source::{KubeSource, ListRequest, MemorySource}};
/// let source = MemorySource::new();
/// source.add(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
///     "metadata": {"name": "app", "namespace": "shop", "labels": {"app": "web"}}}));
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let mut request = ListRequest::new(resource::CONFIG_MAP, Some("shop"));
/// request.label_selector = Some("app in (web, api)".parse()?);
/// assert_eq!(source.list(&request).await?.len(), 1);
/// request.field_selector = Some("metadata.name!=app".to_owned());
/// assert!(source.list(&request).await?.is_empty());
/// assert_eq!(source.requests().len(), 2);
/// # Ok::<(), alert_health_graph::Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct MemorySource {
    objects: Mutex<Vec<Value>>,
    requests: Mutex<Vec<ListRequest>>,
}

impl MemorySource {
    /// An empty source.
    pub fn new() -> MemorySource {
        MemorySource::default()
    }

    /// Adds an object (its `apiVersion` and `kind` pick the resource), replacing one of
    /// the same kind, namespace and name.
    pub fn add(&self, object: Value) {
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        let same = |o: &Value| {
            o["apiVersion"] == object["apiVersion"]
                && o["kind"] == object["kind"]
                && object::namespace(o) == object::namespace(&object)
                && object::name(o) == object::name(&object)
        };
        objects.retain(|o| !same(o));
        objects.push(object);
    }

    /// Every LIST asked so far, in order.
    pub fn requests(&self) -> Vec<ListRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Whether `object` satisfies a field selector (`metadata.name`, `metadata.namespace`;
/// `=`, `==`, `!=`), as the API server reads one.
pub fn fields_match(object: &Value, selector: &str) -> Result<bool> {
    for part in selector.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
            (f, v, false)
        } else if let Some((f, v)) = part.split_once("==") {
            (f, v, true)
        } else if let Some((f, v)) = part.split_once('=') {
            (f, v, true)
        } else {
            return Err(Error::InvalidField {
                field: "fieldSelector".to_owned(),
                value: selector.to_owned(),
                expected: "field=value, field==value or field!=value".to_owned(),
            });
        };
        let actual = match field.trim() {
            "metadata.name" => object::name(object),
            "metadata.namespace" => object::namespace(object).unwrap_or_default(),
            other => {
                return Err(Error::InvalidField {
                    field: "fieldSelector".to_owned(),
                    value: other.to_owned(),
                    expected: "metadata.name or metadata.namespace".to_owned(),
                });
            }
        };
        if (actual == value.trim()) != equal {
            return Ok(false);
        }
    }
    Ok(true)
}

#[async_trait]
impl KubeSource for MemorySource {
    async fn list(&self, request: &ListRequest) -> Result<Vec<Value>> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request.clone());
        let objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        let api_version = request.resource.api_version();
        let mut out = Vec::new();
        for o in objects.iter() {
            if o["apiVersion"].as_str() != Some(&api_version)
                || o["kind"].as_str() != Some(request.resource.kind)
            {
                continue;
            }
            if let Some(ns) = &request.namespace
                && object::namespace(o) != Some(ns.as_str())
            {
                continue;
            }
            if let Some(s) = &request.label_selector
                && !s.matches(&object::labels(o))
            {
                continue;
            }
            if let Some(f) = &request.field_selector
                && !fields_match(o, f)?
            {
                continue;
            }
            out.push(o.clone());
        }
        // The API server lists in namespace and name order.
        out.sort_by(|a, b| {
            (object::namespace(a), object::name(a)).cmp(&(object::namespace(b), object::name(b)))
        });
        Ok(out)
    }
}
