//! The Kubernetes resources the instrumentors read: API group, version, plural name,
//! kind and scope, as the API server's discovery documents them.

use std::fmt;

/// One kind of Kubernetes object as the API serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resource {
    /// The API group (`""` for the core group).
    pub group: &'static str,
    /// The version (`v1`).
    pub version: &'static str,
    /// The plural resource name in URLs (`deployments`).
    pub plural: &'static str,
    /// The kind (`Deployment`).
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
}

const fn r(
    group: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> Resource {
    Resource {
        group,
        version: "v1",
        plural,
        kind,
        namespaced,
    }
}

/// `v1 Pod`.
pub const POD: Resource = r("", "pods", "Pod", true);
/// `v1 Service`.
pub const SERVICE: Resource = r("", "services", "Service", true);
/// `v1 Endpoints` (what a Service's ready addresses are read from).
pub const ENDPOINTS: Resource = r("", "endpoints", "Endpoints", true);
/// `v1 ConfigMap`.
pub const CONFIG_MAP: Resource = r("", "configmaps", "ConfigMap", true);
/// `v1 Secret`.
pub const SECRET: Resource = r("", "secrets", "Secret", true);
/// `v1 PersistentVolumeClaim`.
pub const PVC: Resource = r("", "persistentvolumeclaims", "PersistentVolumeClaim", true);
/// `v1 PersistentVolume`.
pub const PV: Resource = r("", "persistentvolumes", "PersistentVolume", false);
/// `v1 Namespace`.
pub const NAMESPACE: Resource = r("", "namespaces", "Namespace", false);
/// `v1 Node`.
pub const NODE: Resource = r("", "nodes", "Node", false);
/// `apps/v1 Deployment`.
pub const DEPLOYMENT: Resource = r("apps", "deployments", "Deployment", true);
/// `apps/v1 ReplicaSet`.
pub const REPLICA_SET: Resource = r("apps", "replicasets", "ReplicaSet", true);
/// `apps/v1 StatefulSet`.
pub const STATEFUL_SET: Resource = r("apps", "statefulsets", "StatefulSet", true);
/// `apps/v1 DaemonSet`.
pub const DAEMON_SET: Resource = r("apps", "daemonsets", "DaemonSet", true);
/// `batch/v1 Job`.
pub const JOB: Resource = r("batch", "jobs", "Job", true);
/// `batch/v1 CronJob`.
pub const CRON_JOB: Resource = r("batch", "cronjobs", "CronJob", true);
/// `networking.k8s.io/v1 Ingress`.
pub const INGRESS: Resource = r("networking.k8s.io", "ingresses", "Ingress", true);
/// `storage.k8s.io/v1 StorageClass`.
pub const STORAGE_CLASS: Resource = r("storage.k8s.io", "storageclasses", "StorageClass", false);

/// Every resource read.
pub const ALL: [Resource; 17] = [
    POD,
    SERVICE,
    ENDPOINTS,
    CONFIG_MAP,
    SECRET,
    PVC,
    PV,
    NAMESPACE,
    NODE,
    DEPLOYMENT,
    REPLICA_SET,
    STATEFUL_SET,
    DAEMON_SET,
    JOB,
    CRON_JOB,
    INGRESS,
    STORAGE_CLASS,
];

impl Resource {
    /// The resource of a kind name (`Deployment`), if read here.
    pub fn by_kind(kind: &str) -> Option<Resource> {
        ALL.into_iter().find(|r| r.kind == kind)
    }

    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The collection's path: `/api/v1/namespaces/{ns}/pods`, `/apis/apps/v1/deployments`
    /// (all namespaces when `namespace` is `None`, always for cluster-scoped kinds).
    pub fn list_path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{base}/namespaces/{ns}/{}", self.plural),
            _ => format!("{base}/{}", self.plural),
        }
    }

    /// The lower-case kind for messages (`deployment`, `persistentvolumeclaim`).
    pub fn noun(&self) -> String {
        self.kind.to_ascii_lowercase()
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.api_version(), self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_api_layout() {
        assert_eq!(POD.list_path(Some("shop")), "/api/v1/namespaces/shop/pods");
        assert_eq!(DEPLOYMENT.list_path(None), "/apis/apps/v1/deployments");
        assert_eq!(NODE.list_path(Some("shop")), "/api/v1/nodes");
        assert_eq!(Resource::by_kind("Ingress"), Some(INGRESS));
        assert_eq!(INGRESS.to_string(), "networking.k8s.io/v1 Ingress");
    }
}
