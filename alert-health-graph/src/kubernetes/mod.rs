//! Kubernetes objects as Sensors and Systems: the instrumentors of the Alpacalert
//! design's Kubernetes kinds, registered under `Kind("kubernetes.io", …)`.
//!
//! ```yaml
//! sensors:
//!   - {name: web, kind: kubernetes.io/Deployment, params: {namespace: shop, name: web}}
//!   - {name: api, kind: kubernetes.io/Service, params: {namespace: shop, name: api}}
//!   - {name: workers, kind: kubernetes.io/Pod, params: {namespace: shop, selector: "app=worker", combine: replicas}}
//!   - {name: nodes, kind: kubernetes.io/Node}
//! ```
//!
//! `params` is a [`target::TargetSpec`]: `namespace` (all when absent), and at most one
//! of `name`, `selector` (`app=web,env in (prod)`, a map of labels, or
//! `{matchLabels, matchExpressions}`), `owned_by`, `selected_by`, `referenced_by`; and
//! `combine` (`each`, `replicas`, `newest`). The kind may be written
//! `kubernetes.io:Deployment` or `kubernetes.io/Deployment`.
//!
//! Boundaries, one concept per module:
//!
//! - pure: [`resource`] (the kinds read and their API paths), [`selector`] (label
//!   selectors, both forms), [`object`] (reading objects as JSON; [`object::Lists`], one
//!   pass's collections), [`target`] (which objects: by name, selector, owner, selector
//!   of another object, reference), [`rules`] (one object judged: the Kubernetes
//!   semantics, and every decision about them, live here), [`source`] (the
//!   [`source::KubeSource`] seam and the in-memory [`source::MemorySource`]).
//! - feature `runtime`: [`lists`] (one LIST per kind and namespace per pass, shared by
//!   every sensor), [`instrumentor`] (the sensors, and dependencies through the registry).
//! - feature `kubernetes`: [`client`] (the source over an API server: the `kube` crate,
//!   kubeconfig or in-cluster configuration). It translates; it does not judge.

pub mod object;
pub mod resource;
pub mod rules;
pub mod selector;
pub mod source;
pub mod target;

#[cfg(feature = "kubernetes")]
pub mod client;
#[cfg(feature = "runtime")]
pub mod instrumentor;
#[cfg(feature = "runtime")]
pub mod lists;

#[cfg(feature = "runtime")]
pub use instrumentor::{KubeInstrumentor, NAMESPACE};
#[cfg(feature = "runtime")]
pub use lists::KubeLists;

/// A registry of the Kubernetes instrumentors reading through `lists`.
#[cfg(feature = "runtime")]
pub fn registry(lists: KubeLists) -> crate::Registry {
    let mut r = crate::Registry::new();
    r.register_all(std::sync::Arc::new(KubeInstrumentor::new(lists)));
    r
}
