//! `GET /api/v2/status`: the running configuration, the gossip cluster and the version.

use alert_core::Timestamp;
use serde::{Deserialize, Serialize};

/// `alertmanagerStatus`.
///
/// `config.original` is the running configuration as Alertmanager writes it back (Go's
/// YAML of the parsed config, defaults filled in, secrets shown as `<secret>`), not the
/// file's text; [`crate::config_live::is_live`] compares a desired configuration with it.
///
/// ```
/// use alert_cortex_adapter::{AlertmanagerStatus, ClusterState};
/// let s: AlertmanagerStatus = serde_json::from_str(r#"{
///   "cluster": {"name": "01H", "peers": [{"address": "127.0.0.1:9094", "name": "01H"}],
///               "status": "ready"},
///   "config": {"original": "route:\n  receiver: x\n"},
///   "uptime": "2024-05-01T10:00:00.123Z",
///   "versionInfo": {"branch": "HEAD", "buildDate": "", "buildUser": "", "goVersion": "go1.19",
///                   "revision": "", "version": "0.25.0"}
/// }"#)?;
/// assert_eq!(s.cluster.status, ClusterState::Ready);
/// assert_eq!(s.cluster.peers[0].address, "127.0.0.1:9094");
/// assert_eq!(s.version_info.version, "0.25.0");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerStatus {
    /// The gossip cluster as this member sees it.
    pub cluster: ClusterStatus,
    /// Build information.
    pub version_info: VersionInfo,
    /// The running configuration.
    pub config: RunningConfig,
    /// When the process started.
    pub uptime: Timestamp,
}

/// `clusterStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// This member's peer name (a ULID), absent when clustering is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether the cluster has settled.
    pub status: ClusterState,
    /// The members this one knows, itself included.
    #[serde(default)]
    pub peers: Vec<PeerStatus>,
}

/// `clusterStatus.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterState {
    /// Gossip has settled.
    Ready,
    /// Still settling after start.
    Settling,
    /// Clustering is off (`--cluster.listen-address=`).
    Disabled,
    /// A value this crate does not know.
    #[serde(other)]
    Unknown,
}

/// `peerStatus`: one gossip member. `address` is the gossip address
/// (`host:9094` by default), not the API's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeerStatus {
    /// The peer's name (a ULID).
    pub name: String,
    /// The peer's gossip address, `host:port`.
    pub address: String,
}

/// `versionInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VersionInfo {
    /// Release, for example `0.25.0`.
    pub version: String,
    /// Source revision.
    pub revision: String,
    /// Source branch.
    pub branch: String,
    /// Who built it.
    pub build_user: String,
    /// When it was built.
    pub build_date: String,
    /// The Go release it was built with.
    pub go_version: String,
}

/// `alertmanagerConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningConfig {
    /// The running configuration as YAML (see [`AlertmanagerStatus`]).
    pub original: String,
}
