//! What a condition watches: the kinds of alert condition and their settings.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::error::Result;
use crate::field_path::FieldPath;

/// The timeout of an agent-disconnect condition when the spec gives none (Rancher
/// Opni's default for its built-in disconnect alarm).
pub const DEFAULT_DISCONNECT_TIMEOUT: Duration = match Duration::from_secs(600) {
    Some(d) => d,
    None => Duration::ZERO,
};

fn default_disconnect_timeout() -> Duration {
    DEFAULT_DISCONNECT_TIMEOUT
}

fn is_zero(d: &Duration) -> bool {
    d.is_zero()
}

/// What a condition watches.
///
/// In a spec file the kind is one key beside the condition's id (`prometheus: {...}`,
/// `cpu: {...}`, ...). A condition without a kind key is [`ConditionKind::External`].
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ConditionKind {
    /// Alerts come from elsewhere: rules the user already runs, or alerts pushed through
    /// an API, carrying the condition-id label. The condition only routes them. This is
    /// the kind of a condition whose spec names no kind (or says `external: {}`).
    #[default]
    External,
    /// A PromQL alerting rule (`prometheus`).
    Prometheus(PrometheusCondition),
    /// A downstream agent stopped reporting (`agent_disconnect`).
    AgentDisconnect(AgentDisconnectCondition),
    /// Backend components report unhealthy (`component_health`).
    ComponentHealth(ComponentHealthCondition),
    /// Node CPU usage crosses a threshold (`cpu`).
    Cpu(CpuCondition),
    /// Node memory usage crosses a threshold (`memory`).
    Memory(MemoryCondition),
    /// Filesystem usage crosses a threshold (`filesystem`).
    Filesystem(FilesystemCondition),
    /// A Kubernetes object is not in the expected phase (`kube_state`).
    KubeState(KubeStateCondition),
}

/// Who evaluates a condition, which tells the builders what to generate for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvaluatedBy {
    /// A Prometheus-compatible ruler (Cortex/Mimir) evaluates a generated alerting rule.
    Ruler,
    /// The gateway evaluates it itself (agent heartbeats, component health).
    Gateway,
    /// Nothing here evaluates it; alerts arrive from elsewhere.
    External,
}

impl ConditionKind {
    /// Every kind's spec-file key.
    pub const NAMES: [&'static str; 8] = [
        "external",
        "prometheus",
        "agent_disconnect",
        "component_health",
        "cpu",
        "memory",
        "filesystem",
        "kube_state",
    ];

    /// The spec-file key of this kind: `external`, `prometheus`, `agent_disconnect`,
    /// `component_health`, `cpu`, `memory`, `filesystem` or `kube_state`.
    pub fn name(&self) -> &'static str {
        match self {
            ConditionKind::External => "external",
            ConditionKind::Prometheus(_) => "prometheus",
            ConditionKind::AgentDisconnect(_) => "agent_disconnect",
            ConditionKind::ComponentHealth(_) => "component_health",
            ConditionKind::Cpu(_) => "cpu",
            ConditionKind::Memory(_) => "memory",
            ConditionKind::Filesystem(_) => "filesystem",
            ConditionKind::KubeState(_) => "kube_state",
        }
    }

    /// Who evaluates conditions of this kind.
    pub fn evaluated_by(&self) -> EvaluatedBy {
        match self {
            ConditionKind::External => EvaluatedBy::External,
            ConditionKind::AgentDisconnect(_) | ConditionKind::ComponentHealth(_) => {
                EvaluatedBy::Gateway
            }
            ConditionKind::Prometheus(_)
            | ConditionKind::Cpu(_)
            | ConditionKind::Memory(_)
            | ConditionKind::Filesystem(_)
            | ConditionKind::KubeState(_) => EvaluatedBy::Ruler,
        }
    }

    /// How long the condition must hold before it fires (Prometheus' `for`), for the
    /// kinds that have one. An agent disconnect's `timeout` plays that role and is
    /// returned too.
    pub fn for_duration(&self) -> Option<Duration> {
        match self {
            ConditionKind::External => None,
            ConditionKind::Prometheus(k) => Some(k.for_duration),
            ConditionKind::AgentDisconnect(k) => Some(k.timeout),
            ConditionKind::ComponentHealth(k) => Some(k.for_duration),
            ConditionKind::Cpu(k) => Some(k.for_duration),
            ConditionKind::Memory(k) => Some(k.for_duration),
            ConditionKind::Filesystem(k) => Some(k.for_duration),
            ConditionKind::KubeState(k) => Some(k.for_duration),
        }
    }

    /// Whether the condition watches one cluster's data and therefore needs a tenant:
    /// agent disconnect and the node and Kubernetes kinds do; PromQL, component health
    /// and external conditions may be bound to none.
    pub fn requires_tenant(&self) -> bool {
        matches!(
            self,
            ConditionKind::AgentDisconnect(_)
                | ConditionKind::Cpu(_)
                | ConditionKind::Memory(_)
                | ConditionKind::Filesystem(_)
                | ConditionKind::KubeState(_)
        )
    }

    /// Checks the settings; errors name fields under the kind's key.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root(self.name()))
    }

    pub(crate) fn validate_at(&self, path: &FieldPath) -> Result<()> {
        match self {
            ConditionKind::External => Ok(()),
            ConditionKind::Prometheus(k) => path.field("query").require(k.query.trim()),
            ConditionKind::AgentDisconnect(k) => {
                if k.timeout.is_zero() {
                    Err(path.field("timeout").invalid("0s", "a positive duration"))
                } else {
                    Ok(())
                }
            }
            ConditionKind::ComponentHealth(k) => {
                let at = path.field("components");
                if k.components.is_empty() {
                    return Err(at.missing());
                }
                check_names(&at, &k.components)
            }
            ConditionKind::Cpu(k) => {
                check_percent(path, k.threshold_percent)?;
                check_names(&path.field("nodes"), &k.nodes)?;
                for (i, mode) in k.modes.iter().enumerate() {
                    if !CPU_MODES.contains(&mode.as_str()) {
                        return Err(path
                            .field("modes")
                            .index(i)
                            .invalid(mode, format!("one of {}", CPU_MODES.join(", "))));
                    }
                }
                Ok(())
            }
            ConditionKind::Memory(k) => {
                check_percent(path, k.threshold_percent)?;
                check_names(&path.field("nodes"), &k.nodes)
            }
            ConditionKind::Filesystem(k) => {
                check_percent(path, k.threshold_percent)?;
                check_names(&path.field("nodes"), &k.nodes)?;
                check_names(&path.field("devices"), &k.devices)?;
                check_names(&path.field("mountpoints"), &k.mountpoints)?;
                for (i, mount) in k.mountpoints.iter().enumerate() {
                    if !mount.starts_with('/') {
                        return Err(path
                            .field("mountpoints")
                            .index(i)
                            .invalid(mount, "an absolute path like /var"));
                    }
                }
                Ok(())
            }
            ConditionKind::KubeState(k) => k.validate_at(path),
        }
    }
}

/// Checks a list of names: none empty, none repeated.
fn check_names(path: &FieldPath, names: &[String]) -> Result<()> {
    for (i, name) in names.iter().enumerate() {
        path.index(i).require(name)?;
        if names[..i].contains(name) {
            return Err(path.index(i).invalid(name, "each name once"));
        }
    }
    Ok(())
}

/// A PromQL alerting rule: fires while `query` returns samples for `for`.
///
/// ```
/// use alert_core::PrometheusCondition;
/// let p: PrometheusCondition = serde_json::from_str(
///     r#"{"query": "up == 0", "for": "5m"}"#,
/// )?;
/// assert_eq!(p.for_duration.as_secs(), 300);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusCondition {
    /// The PromQL expression; required. Its syntax is checked by the ruler that loads it.
    pub query: String,
    /// How long the expression must return samples before the alert fires; written
    /// `for`, default `0s`.
    #[serde(rename = "for", default, skip_serializing_if = "is_zero")]
    pub for_duration: Duration,
}

/// A downstream agent (the tenant's cluster) has not reported for `timeout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentDisconnectCondition {
    /// How long without a heartbeat counts as disconnected; default
    /// [`DEFAULT_DISCONNECT_TIMEOUT`] (10m), never zero.
    #[serde(default = "default_disconnect_timeout")]
    pub timeout: Duration,
}

impl Default for AgentDisconnectCondition {
    fn default() -> Self {
        AgentDisconnectCondition {
            timeout: DEFAULT_DISCONNECT_TIMEOUT,
        }
    }
}

/// Named backend components (for example Cortex's `distributor`, `ingester`, `ruler`)
/// report unhealthy for `for`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentHealthCondition {
    /// The components watched; at least one, each once.
    pub components: Vec<String>,
    /// How long a component must be unhealthy; written `for`, default `0s`.
    #[serde(rename = "for", default, skip_serializing_if = "is_zero")]
    pub for_duration: Duration,
}

/// A PromQL comparison operator, written as PromQL writes it.
///
/// Equality is `==`: Rancher Opni offered `=`, which is not a PromQL operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CompareOp {
    /// `>` (the default).
    #[default]
    #[serde(rename = ">")]
    Gt,
    /// `>=`.
    #[serde(rename = ">=")]
    Ge,
    /// `<`.
    #[serde(rename = "<")]
    Lt,
    /// `<=`.
    #[serde(rename = "<=")]
    Le,
    /// `==`.
    #[serde(rename = "==")]
    Eq,
    /// `!=`.
    #[serde(rename = "!=")]
    Ne,
}

impl CompareOp {
    /// Every operator, in declaration order.
    pub const ALL: [CompareOp; 6] = [
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
        CompareOp::Eq,
        CompareOp::Ne,
    ];

    /// The PromQL operator.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
        }
    }

    /// Whether `value <op> threshold` holds.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            CompareOp::Gt => value > threshold,
            CompareOp::Ge => value >= threshold,
            CompareOp::Lt => value < threshold,
            CompareOp::Le => value <= threshold,
            CompareOp::Eq => value == threshold,
            CompareOp::Ne => value != threshold,
        }
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a threshold percentage: finite, 0 to 100.
fn check_percent(path: &FieldPath, percent: f64) -> Result<()> {
    if !percent.is_finite() || !(0.0..=100.0).contains(&percent) {
        return Err(path
            .field("threshold_percent")
            .invalid(percent.to_string(), "a percentage from 0 to 100"));
    }
    Ok(())
}

/// The CPU modes node_exporter reports in `node_cpu_seconds_total{mode=...}`.
pub const CPU_MODES: [&str; 8] = [
    "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
];

/// Node CPU usage compared with a threshold.
///
/// Usage is the share of time spent in `modes` (all modes but `idle` when empty), per
/// node, over the nodes in `nodes` (all nodes when empty).
///
/// ```
/// use alert_core::{CompareOp, CpuCondition};
/// let cpu: CpuCondition = serde_json::from_str(
///     r#"{"threshold_percent": 90, "for": "5m", "nodes": ["node-1"]}"#,
/// )?;
/// assert_eq!(cpu.operator, CompareOp::Gt);
/// assert_eq!(cpu.threshold_percent, 90.0);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuCondition {
    /// How usage compares with the threshold; default `>`.
    #[serde(default)]
    pub operator: CompareOp,
    /// The threshold in percent, 0 to 100; required.
    pub threshold_percent: f64,
    /// How long the comparison must hold; written `for`, default `0s`.
    #[serde(rename = "for", default, skip_serializing_if = "is_zero")]
    pub for_duration: Duration,
    /// The nodes watched; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// The CPU modes counted as usage (see [`CPU_MODES`]); empty means all but `idle`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modes: Vec<String>,
}

/// Node memory usage (`1 - MemAvailable / MemTotal`) compared with a threshold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryCondition {
    /// How usage compares with the threshold; default `>`.
    #[serde(default)]
    pub operator: CompareOp,
    /// The threshold in percent, 0 to 100; required.
    pub threshold_percent: f64,
    /// How long the comparison must hold; written `for`, default `0s`.
    #[serde(rename = "for", default, skip_serializing_if = "is_zero")]
    pub for_duration: Duration,
    /// The nodes watched; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
}

/// Filesystem usage (`1 - avail / size`) compared with a threshold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesystemCondition {
    /// How usage compares with the threshold; default `>`.
    #[serde(default)]
    pub operator: CompareOp,
    /// The threshold in percent, 0 to 100; required.
    pub threshold_percent: f64,
    /// How long the comparison must hold; written `for`, default `0s`.
    #[serde(rename = "for", default, skip_serializing_if = "is_zero")]
    pub for_duration: Duration,
    /// The nodes watched; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// The mount points watched (absolute paths); empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mountpoints: Vec<String>,
    /// The devices watched, like `/dev/sda1`; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
}

/// The Kubernetes objects whose phase kube-state-metrics reports
/// (`kube_<kind>_status_phase`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KubeObjectKind {
    /// A pod (namespaced).
    #[default]
    Pod,
    /// A persistent volume claim (namespaced).
    PersistentVolumeClaim,
    /// A persistent volume (cluster-wide).
    PersistentVolume,
    /// A namespace (cluster-wide).
    Namespace,
}

impl KubeObjectKind {
    /// The lowercase name, as in the metric `kube_<name>_status_phase`.
    pub fn as_str(self) -> &'static str {
        match self {
            KubeObjectKind::Pod => "pod",
            KubeObjectKind::PersistentVolumeClaim => "persistentvolumeclaim",
            KubeObjectKind::PersistentVolume => "persistentvolume",
            KubeObjectKind::Namespace => "namespace",
        }
    }

    /// The phases kube-state-metrics reports for this kind.
    pub fn phases(self) -> &'static [&'static str] {
        match self {
            KubeObjectKind::Pod => &["Pending", "Running", "Succeeded", "Failed", "Unknown"],
            KubeObjectKind::PersistentVolumeClaim => &["Pending", "Bound", "Lost"],
            KubeObjectKind::PersistentVolume => {
                &["Pending", "Available", "Bound", "Released", "Failed"]
            }
            KubeObjectKind::Namespace => &["Active", "Terminating"],
        }
    }

    /// Whether objects of this kind live in a namespace.
    pub fn is_namespaced(self) -> bool {
        matches!(
            self,
            KubeObjectKind::Pod | KubeObjectKind::PersistentVolumeClaim
        )
    }
}

/// A Kubernetes object (or every object of a kind) has not been in `expected_state` for
/// `for`.
///
/// The alert fires when the object's phase is **not** the expected one; to alert on a
/// phase instead (say `Failed`), pick the healthy phase as expected. Rancher Opni alerted
/// when the object *was* in the given state, matched a `state` label the metrics do not
/// have (they use `phase`), and offered kinds that report no phase; this kind avoids all
/// three.
///
/// ```
/// use alert_core::{KubeObjectKind, KubeStateCondition};
/// let k: KubeStateCondition = serde_json::from_str(
///     r#"{"object_kind": "pod", "namespace": "shop", "name": "checkout-0",
///         "expected_state": "Running", "for": "10m"}"#,
/// )?;
/// assert_eq!(k.object_kind, KubeObjectKind::Pod);
/// assert!(alert_core::ConditionKind::KubeState(k).validate().is_ok());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeStateCondition {
    /// The kind of object; default `pod`.
    #[serde(default)]
    pub object_kind: KubeObjectKind,
    /// The namespace, for namespaced kinds; `None` watches every namespace. Must be
    /// `None` for cluster-wide kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's name; `None` watches every object of the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The phase the object should be in, one of [`KubeObjectKind::phases`]; required.
    pub expected_state: String,
    /// How long the object may be out of that phase; written `for`, default `0s`.
    #[serde(rename = "for", default, skip_serializing_if = "is_zero")]
    pub for_duration: Duration,
}

/// Whether `s` is a Kubernetes DNS label (namespace names): at most 63 lowercase
/// letters, digits and `-`, starting and ending with a letter or digit.
fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Whether `s` is a Kubernetes DNS subdomain (most object names): at most 253
/// characters of dot-separated DNS labels.
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

impl KubeStateCondition {
    fn validate_at(&self, path: &FieldPath) -> Result<()> {
        let kind = self.object_kind;
        if let Some(namespace) = &self.namespace {
            let at = path.field("namespace");
            if !kind.is_namespaced() {
                return Err(at.invalid(
                    namespace,
                    format!("no namespace: {} objects are cluster-wide", kind.as_str()),
                ));
            }
            if !is_dns_label(namespace) {
                return Err(at.invalid(
                    namespace,
                    "a namespace name: at most 63 of a-z 0-9 -, starting and ending \
                     with a letter or digit",
                ));
            }
        }
        if let Some(name) = &self.name
            && !is_dns_subdomain(name)
        {
            return Err(path.field("name").invalid(
                name,
                "a Kubernetes object name: at most 253 of a-z 0-9 - ., in \
                 dot-separated parts that start and end with a letter or digit",
            ));
        }
        let at = path.field("expected_state");
        at.require(&self.expected_state)?;
        if !kind.phases().contains(&self.expected_state.as_str()) {
            return Err(at.invalid(
                &self.expected_state,
                format!(
                    "a {} phase: one of {}",
                    kind.as_str(),
                    kind.phases().join(", ")
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn field(kind: ConditionKind) -> String {
        match kind.validate().unwrap_err() {
            Error::MissingField { field } | Error::InvalidField { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_fault_names_its_field() {
        assert_eq!(
            field(ConditionKind::Prometheus(PrometheusCondition::default())),
            "prometheus.query"
        );
        assert_eq!(
            field(ConditionKind::AgentDisconnect(AgentDisconnectCondition {
                timeout: Duration::ZERO
            })),
            "agent_disconnect.timeout"
        );
        assert_eq!(
            field(ConditionKind::ComponentHealth(
                ComponentHealthCondition::default()
            )),
            "component_health.components"
        );
        assert_eq!(
            field(ConditionKind::ComponentHealth(ComponentHealthCondition {
                components: vec!["ruler".into(), "ruler".into()],
                ..Default::default()
            })),
            "component_health.components[1]"
        );
        for bad in [-1.0, 100.5, f64::NAN, f64::INFINITY] {
            assert_eq!(
                field(ConditionKind::Cpu(CpuCondition {
                    threshold_percent: bad,
                    ..Default::default()
                })),
                "cpu.threshold_percent"
            );
        }
        assert_eq!(
            field(ConditionKind::Cpu(CpuCondition {
                threshold_percent: 90.0,
                modes: vec!["user".into(), "guest".into()],
                ..Default::default()
            })),
            "cpu.modes[1]"
        );
        assert_eq!(
            field(ConditionKind::Memory(MemoryCondition {
                threshold_percent: 90.0,
                nodes: vec![String::new()],
                ..Default::default()
            })),
            "memory.nodes[0]"
        );
        assert_eq!(
            field(ConditionKind::Filesystem(FilesystemCondition {
                threshold_percent: 90.0,
                mountpoints: vec!["var".into()],
                ..Default::default()
            })),
            "filesystem.mountpoints[0]"
        );
        let kube = |namespace: Option<&str>, name: Option<&str>, state: &str, kind| {
            ConditionKind::KubeState(KubeStateCondition {
                object_kind: kind,
                namespace: namespace.map(Into::into),
                name: name.map(Into::into),
                expected_state: state.into(),
                for_duration: Duration::ZERO,
            })
        };
        assert_eq!(
            field(kube(Some("Shop"), None, "Running", KubeObjectKind::Pod)),
            "kube_state.namespace"
        );
        assert_eq!(
            field(kube(Some("a"), None, "Active", KubeObjectKind::Namespace)),
            "kube_state.namespace"
        );
        assert_eq!(
            field(kube(None, Some("-x"), "Running", KubeObjectKind::Pod)),
            "kube_state.name"
        );
        assert_eq!(
            field(kube(None, None, "Bound", KubeObjectKind::Pod)),
            "kube_state.expected_state"
        );
        assert_eq!(
            field(kube(None, None, "", KubeObjectKind::Pod)),
            "kube_state.expected_state"
        );
        assert!(
            kube(
                None,
                Some("pv-1.data"),
                "Bound",
                KubeObjectKind::PersistentVolume
            )
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn operators_read_as_promql() {
        for op in CompareOp::ALL {
            let json = serde_json::to_string(&op).expect("ser");
            assert_eq!(json, format!("\"{op}\""));
            assert_eq!(serde_json::from_str::<CompareOp>(&json).expect("de"), op);
        }
        assert!(serde_json::from_str::<CompareOp>("\"=\"").is_err());
        assert!(CompareOp::Ge.holds(90.0, 90.0));
        assert!(!CompareOp::Gt.holds(90.0, 90.0));
        assert!(CompareOp::Ne.holds(1.0, 2.0));
    }

    #[test]
    fn kind_facts() {
        let cpu = ConditionKind::Cpu(CpuCondition::default());
        assert_eq!(cpu.evaluated_by(), EvaluatedBy::Ruler);
        assert!(cpu.requires_tenant());
        assert_eq!(
            ConditionKind::External.evaluated_by(),
            EvaluatedBy::External
        );
        assert_eq!(ConditionKind::External.for_duration(), None);
        let gone = ConditionKind::AgentDisconnect(AgentDisconnectCondition::default());
        assert_eq!(gone.evaluated_by(), EvaluatedBy::Gateway);
        assert_eq!(gone.for_duration(), Some(DEFAULT_DISCONNECT_TIMEOUT));
        assert!(!ConditionKind::Prometheus(PrometheusCondition::default()).requires_tenant());
        for (kind, name) in [
            (ConditionKind::External, "external"),
            (cpu, "cpu"),
            (gone, "agent_disconnect"),
        ] {
            assert_eq!(kind.name(), name);
            assert!(ConditionKind::NAMES.contains(&name));
        }
    }

    #[test]
    fn defaults_when_reading() {
        let gone: AgentDisconnectCondition = serde_json::from_str("{}").expect("de");
        assert_eq!(gone.timeout.to_string(), "10m");
        let fs: FilesystemCondition =
            serde_json::from_str(r#"{"threshold_percent": 85, "operator": ">="}"#).expect("de");
        assert_eq!(fs.operator, CompareOp::Ge);
        assert_eq!(
            serde_json::to_string(&fs).expect("ser"),
            r#"{"operator":">=","threshold_percent":85.0}"#
        );
    }
}
