//! [`KubeLists`]: every Kubernetes sensor's reads, shared (needs the `runtime` feature).
//!
//! As the Prometheus sensors share one query per TTL through the
//! [`SourceCache`], the Kubernetes sensors share one
//! LIST per kind and namespace: a sensor asks for the collections its target needs
//! ([`Target::needs`](super::target::Target::needs)), and every other sensor of the
//! same pass asking for the same collection gets the same answer, joining a LIST in
//! flight rather than starting its own. Sensors list whole collections (a namespace's
//! pods, all StorageClasses) and pick by name, selector or owner from them in memory,
//! so a graph of a hundred Deployments costs one LIST of deployments, one of replica
//! sets and one of pods per pass, not one per object; each collection is indexed once
//! when listed ([`Collection`]). The TTL (default 5 s) is shorter than any sensible
//! evaluation interval and longer than a pass (a pass that took longer would list
//! again); errors are not cached.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::object::{Collection, Lists};
use super::resource::Resource;
use super::source::{KubeSource, ListRequest};
use crate::error::Result;
use crate::source_cache::SourceCache;

/// How long one LIST is shared by default.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5);

/// A [`KubeSource`] with one shared cache of collections.
#[derive(Clone)]
pub struct KubeLists {
    source: Arc<dyn KubeSource>,
    cache: Arc<SourceCache<Arc<Collection>>>,
    ttl: Duration,
}

impl std::fmt::Debug for KubeLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KubeLists(ttl {:?}, {:?})", self.ttl, self.cache)
    }
}

impl KubeLists {
    /// Lists from `source`, shared for [`DEFAULT_TTL`].
    pub fn new(source: Arc<dyn KubeSource>) -> KubeLists {
        KubeLists {
            source,
            cache: Arc::new(SourceCache::new()),
            ttl: DEFAULT_TTL,
        }
    }

    /// The same, sharing each LIST for `ttl`.
    pub fn with_ttl(mut self, ttl: Duration) -> KubeLists {
        self.ttl = ttl;
        self
    }

    /// The objects of `resource` in `namespace` (every namespace when `None`), listed
    /// and indexed at most once per TTL.
    pub async fn list(
        &self,
        resource: Resource,
        namespace: Option<&str>,
    ) -> Result<Arc<Collection>> {
        let request = ListRequest::new(resource, namespace);
        let key = format!(
            "{}/{} {}",
            resource.api_version(),
            resource.plural,
            request.namespace.as_deref().unwrap_or("*")
        );
        let source = Arc::clone(&self.source);
        let got = self
            .cache
            .get(&key, self.ttl, async move {
                let items: Vec<Value> = source.list(&request).await?;
                Ok(Arc::new(Collection::new(items)))
            })
            .await?;
        Ok(got.value)
    }

    /// Every collection in `needs`, each listed (or found in the cache) once.
    pub async fn lists(&self, needs: &[(Resource, Option<String>)]) -> Result<Lists> {
        let mut lists = Lists::new();
        let mut seen = Vec::new();
        for (resource, namespace) in needs {
            let namespace = namespace.clone().filter(|_| resource.namespaced);
            if seen.contains(&(*resource, namespace.clone())) {
                continue;
            }
            seen.push((*resource, namespace.clone()));
            let items = self.list(*resource, namespace.as_deref()).await?;
            lists.insert(*resource, namespace, items);
        }
        Ok(lists)
    }
}
