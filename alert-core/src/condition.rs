//! Alert conditions: what to watch, how bad it is, and whom to tell.
//!
//! An [`AlertCondition`] names a [`ConditionKind`] (a PromQL rule, an agent disconnect,
//! a CPU threshold, ...), the tenant (cluster) it belongs to, its severity, labels and
//! message, and the endpoints it notifies with per-endpoint timing. The router builds one
//! Alertmanager route per attached endpoint, matching alerts on the
//! [`CONDITION_ID_LABEL`] label.
//!
//! In a spec file:
//!
//! ```
//! use alert_core::{AlertCondition, ConditionKind, Severity};
//!
//! let condition: AlertCondition = serde_json::from_str(r#"{
//!     "id": "cpu-high",
//!     "tenant": "cluster-a",
//!     "name": "CPU high",
//!     "severity": "critical",
//!     "labels": {"team": "infra"},
//!     "cpu": {"threshold_percent": 90, "for": "5m"},
//!     "endpoints": [
//!         {"id": "ops-slack", "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"},
//!         "pager"
//!     ]
//! }"#)?;
//! assert_eq!(condition.severity, Severity::Critical);
//! assert!(matches!(condition.kind, ConditionKind::Cpu(_)));
//! let ids: Vec<&str> = condition.endpoint_ids().map(|id| id.as_str()).collect();
//! assert_eq!(ids, ["ops-slack", "pager"]);
//! assert_eq!(
//!     condition.alert_labels().to_string(),
//!     r#"{alert_condition_id="cpu-high", severity="critical", team="infra"}"#
//! );
//!
//! // Errors name the field path.
//! let err = serde_json::from_str::<AlertCondition>(r#"{
//!     "id": "cpu-high", "endpoints": [{"id": "pager", "repeat_interval": "0s"}]
//! }"#).unwrap_err();
//! assert!(err.to_string().starts_with(
//!     "conditions[cpu-high].endpoints[0].repeat_interval: "
//! ));
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod kind;

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::duration::Duration;
use crate::error::{Error, Result};
use crate::field_path::FieldPath;
use crate::id::{ConditionId, EndpointId, check_id, display_name, serialize_identity};
use crate::labels::LabelSet;
use crate::severity::{SEVERITY_LABEL, Severity};
use crate::tenant::TenantId;

pub use kind::{
    AgentDisconnectCondition, CPU_MODES, CompareOp, ComponentHealthCondition, ConditionKind,
    CpuCondition, DEFAULT_DISCONNECT_TIMEOUT, EvaluatedBy, FilesystemCondition, KubeObjectKind,
    KubeStateCondition, MemoryCondition, PrometheusCondition,
};

/// The label every alert of a condition carries, with the condition's id as value. The
/// router matches routes on it (`alert_condition_id="cpu-high"`), so a rule or a pushed
/// alert reaches a condition's endpoints by carrying it. The counterpart of Rancher
/// Opni's `opni_uuid`.
pub const CONDITION_ID_LABEL: &str = "alert_condition_id";

/// The annotation a condition's message title goes into (Prometheus' usual `summary`).
pub const TITLE_ANNOTATION: &str = "summary";

/// The annotation a condition's message body goes into (Prometheus' usual
/// `description`).
pub const BODY_ANNOTATION: &str = "description";

/// The name of the list conditions live in, as error paths print it.
const CONDITIONS: &str = "conditions";

/// One alert condition. See the [module documentation](self) for the spec-file shape.
///
/// Serialised as a mapping with `id`, the descriptive fields that are set, one kind key
/// (none for [`ConditionKind::External`]), `throttle`, `endpoints` and `message`.
/// Reading validates the whole condition; every error names its field path, like
/// `conditions[cpu-high].endpoints[0].repeat_interval`. Endpoint references are checked
/// against the endpoints by [`crate::AlertingSpec::validate`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawCondition")]
pub struct AlertCondition {
    /// The id; unique in a spec and the value of [`CONDITION_ID_LABEL`].
    pub id: ConditionId,
    /// A human name; may be empty (see [`AlertCondition::display_name`]).
    pub name: String,
    /// Free text for people; also the default message body.
    pub description: String,
    /// The tenant (cluster) the condition belongs to; `None` binds it to no tenant.
    /// Kinds that watch one cluster's data require one
    /// ([`ConditionKind::requires_tenant`]).
    pub tenant: Option<TenantId>,
    /// How urgent the condition is; default [`Severity::Warning`]. Its alerts carry it
    /// as the [`SEVERITY_LABEL`] label.
    pub severity: Severity,
    /// Labels added to the condition's alerts. [`CONDITION_ID_LABEL`] and
    /// [`SEVERITY_LABEL`] are set from the condition and may not be given here.
    pub labels: LabelSet,
    /// Annotations added to the condition's alerts (a runbook URL, a dashboard link).
    pub annotations: LabelSet,
    /// What the condition watches.
    pub kind: ConditionKind,
    /// Timing for every attached endpoint that does not set its own.
    pub throttle: Throttle,
    /// The endpoints notified, each once, in order.
    pub endpoints: Vec<AttachedEndpoint>,
    /// The notification's title and body.
    pub message: ConditionMessage,
    /// A disabled condition is kept but neither evaluated nor routed. (Muting for a while
    /// is a silence, not a flag.)
    pub disabled: bool,
}

/// Alertmanager's notification timing for one condition's alerts at one endpoint.
///
/// `None` leaves the value to the enclosing route (in the end Alertmanager's defaults:
/// 30s, 5m, 4h). Rancher Opni's names map as: initial delay → `group_wait`, throttle →
/// `group_interval`, repeat → `repeat_interval`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    /// How long to wait for more alerts before the first notification of a group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<Duration>,
    /// How long to wait before notifying about alerts added to a notified group; never
    /// zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<Duration>,
    /// How long to wait before repeating an unchanged notification; never zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<Duration>,
}

impl Throttle {
    /// Whether no value is set.
    pub fn is_empty(&self) -> bool {
        self.group_wait.is_none() && self.group_interval.is_none() && self.repeat_interval.is_none()
    }

    /// Each value of `self`, or of `fallback` where `self` has none.
    pub fn or(self, fallback: Throttle) -> Throttle {
        Throttle {
            group_wait: self.group_wait.or(fallback.group_wait),
            group_interval: self.group_interval.or(fallback.group_interval),
            repeat_interval: self.repeat_interval.or(fallback.repeat_interval),
        }
    }

    /// Checks the values as Alertmanager checks a route's; errors name fields under
    /// `throttle`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&FieldPath::root("throttle"))
    }

    fn validate_at(&self, path: &FieldPath) -> Result<()> {
        for (name, value) in [
            ("group_interval", self.group_interval),
            ("repeat_interval", self.repeat_interval),
        ] {
            if let Some(zero) = value.filter(|d| d.is_zero()) {
                return Err(path
                    .field(name)
                    .invalid(zero.to_string(), format!("{name} cannot be zero")));
            }
        }
        Ok(())
    }
}

/// An endpoint attached to a condition, with timing for this pair.
///
/// Written either as the bare endpoint id (`- ops-slack`) or as a mapping
/// (`- {id: ops-slack, group_wait: 30s, group_interval: 5m, repeat_interval: 4h}`);
/// serialised as the bare id when no timing is set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttachedEndpoint {
    /// The endpoint's id.
    pub id: EndpointId,
    /// Timing for this endpoint, over the condition's [`AlertCondition::throttle`].
    pub throttle: Throttle,
}

impl AttachedEndpoint {
    /// An attachment with no timing of its own.
    pub fn new(id: EndpointId) -> AttachedEndpoint {
        AttachedEndpoint {
            id,
            throttle: Throttle::default(),
        }
    }
}

/// The title and body of a condition's notifications (Go templates allowed). Unset parts
/// fall back to the condition's name and description; see [`AlertCondition::title`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionMessage {
    /// The title; goes into the [`TITLE_ANNOTATION`] annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The body; goes into the [`BODY_ANNOTATION`] annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl ConditionMessage {
    /// Whether neither part is set.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.body.is_none()
    }
}

impl AlertCondition {
    /// A condition with just an id and a kind; everything else at its default.
    pub fn new(id: ConditionId, kind: ConditionKind) -> AlertCondition {
        AlertCondition {
            id,
            name: String::new(),
            description: String::new(),
            tenant: None,
            severity: Severity::default(),
            labels: LabelSet::new(),
            annotations: LabelSet::new(),
            kind,
            throttle: Throttle::default(),
            endpoints: Vec::new(),
            message: ConditionMessage::default(),
            disabled: false,
        }
    }

    /// The path error messages use for this condition: `conditions[<id>]`.
    fn path(&self) -> FieldPath {
        FieldPath::keyed(CONDITIONS, self.id.as_str())
    }

    /// Checks every field; the first fault is returned with its full path, such as
    /// `conditions[cpu-high].endpoints[0].repeat_interval`.
    pub fn validate(&self) -> Result<()> {
        let path = self.path();
        if self.tenant.is_none() && self.kind.requires_tenant() {
            return Err(path.field("tenant").invalid(
                "",
                format!(
                    "a tenant: {} conditions watch one cluster's data",
                    self.kind.name()
                ),
            ));
        }
        for reserved in [CONDITION_ID_LABEL, SEVERITY_LABEL] {
            if let Some(value) = self.labels.get(reserved) {
                return Err(path.field("labels").key(reserved).invalid(
                    value,
                    format!(
                        "no {reserved} label: it is set from the condition's {}",
                        if reserved == SEVERITY_LABEL {
                            "severity"
                        } else {
                            "id"
                        }
                    ),
                ));
            }
        }
        for (part, annotation, set) in [
            ("title", TITLE_ANNOTATION, self.message.title.is_some()),
            ("body", BODY_ANNOTATION, self.message.body.is_some()),
        ] {
            if set && let Some(value) = self.annotations.get(annotation) {
                return Err(path.field("annotations").key(annotation).invalid(
                    value,
                    format!("no {annotation} annotation when message.{part} is set"),
                ));
            }
        }
        let message = path.field("message");
        message
            .field("title")
            .require_if_set(self.message.title.as_deref())?;
        message
            .field("body")
            .require_if_set(self.message.body.as_deref())?;
        self.kind.validate_at(&path.field(self.kind.name()))?;
        self.throttle.validate_at(&path.field("throttle"))?;
        let endpoints = path.field("endpoints");
        for (i, attached) in self.endpoints.iter().enumerate() {
            let at = endpoints.index(i);
            if self.endpoints[..i].iter().any(|a| a.id == attached.id) {
                return Err(at
                    .field("id")
                    .invalid(attached.id.as_str(), "each endpoint attached once"));
            }
            attached.throttle.validate_at(&at)?;
        }
        Ok(())
    }

    /// The ids of the attached endpoints, in order.
    pub fn endpoint_ids(&self) -> impl ExactSizeIterator<Item = &EndpointId> + '_ {
        self.endpoints.iter().map(|a| &a.id)
    }

    /// The timing for one attached endpoint: its own values over the condition's.
    pub fn effective_throttle(&self, attached: &AttachedEndpoint) -> Throttle {
        attached.throttle.or(self.throttle)
    }

    /// The name, or the id when the name is empty.
    pub fn display_name(&self) -> &str {
        display_name(self.id.as_str(), &self.name)
    }

    /// The notification title: the message title, else the display name.
    pub fn title(&self) -> &str {
        self.message
            .title
            .as_deref()
            .unwrap_or_else(|| self.display_name())
    }

    /// The notification body: the message body, else the description (may be empty).
    pub fn body(&self) -> &str {
        self.message.body.as_deref().unwrap_or(&self.description)
    }

    /// Whether the condition is evaluated and routed (it is not disabled).
    pub fn is_enabled(&self) -> bool {
        !self.disabled
    }

    /// The labels the condition's alerts carry: its labels plus
    /// [`CONDITION_ID_LABEL`] and [`SEVERITY_LABEL`].
    pub fn alert_labels(&self) -> LabelSet {
        with_routing_labels(&self.labels, self.id.as_str(), self.severity)
    }

    /// The annotations the condition's alerts carry: its annotations plus the title in
    /// [`TITLE_ANNOTATION`] and the body (when not empty) in [`BODY_ANNOTATION`], unless
    /// the annotations already hold those names.
    pub fn alert_annotations(&self) -> LabelSet {
        let mut annotations = self.annotations.clone();
        for (name, value) in [
            (TITLE_ANNOTATION, self.title()),
            (BODY_ANNOTATION, self.body()),
        ] {
            if !value.is_empty() && !annotations.contains(name) {
                let _ = annotations.insert(name, value);
            }
        }
        annotations
    }
}

/// `labels` plus [`CONDITION_ID_LABEL`]`=id` and [`SEVERITY_LABEL`]: what the alerts of
/// a condition or an SLO carry, and what their routes match.
pub(crate) fn with_routing_labels(labels: &LabelSet, id: &str, severity: Severity) -> LabelSet {
    let mut labels = labels.clone();
    // Both names are valid label names, so inserting cannot fail; validation keeps them
    // out of the object's own labels, and these values win regardless.
    for (name, value) in [
        (CONDITION_ID_LABEL, id),
        (SEVERITY_LABEL, severity.as_str()),
    ] {
        let _ = labels.insert(name, value);
    }
    labels
}

impl Serialize for AlertCondition {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        serialize_identity(&mut map, self.id.as_str(), &self.name, &self.description)?;
        if let Some(tenant) = &self.tenant {
            map.serialize_entry("tenant", tenant)?;
        }
        map.serialize_entry("severity", &self.severity)?;
        if !self.labels.is_empty() {
            map.serialize_entry("labels", &self.labels)?;
        }
        if !self.annotations.is_empty() {
            map.serialize_entry("annotations", &self.annotations)?;
        }
        let name = self.kind.name();
        match &self.kind {
            ConditionKind::External => {}
            ConditionKind::Prometheus(k) => map.serialize_entry(name, k)?,
            ConditionKind::AgentDisconnect(k) => map.serialize_entry(name, k)?,
            ConditionKind::ComponentHealth(k) => map.serialize_entry(name, k)?,
            ConditionKind::Cpu(k) => map.serialize_entry(name, k)?,
            ConditionKind::Memory(k) => map.serialize_entry(name, k)?,
            ConditionKind::Filesystem(k) => map.serialize_entry(name, k)?,
            ConditionKind::KubeState(k) => map.serialize_entry(name, k)?,
        }
        if !self.throttle.is_empty() {
            map.serialize_entry("throttle", &self.throttle)?;
        }
        if !self.endpoints.is_empty() {
            map.serialize_entry("endpoints", &self.endpoints)?;
        }
        if !self.message.is_empty() {
            map.serialize_entry("message", &self.message)?;
        }
        if self.disabled {
            map.serialize_entry("disabled", &true)?;
        }
        map.end()
    }
}

impl Serialize for AttachedEndpoint {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        if self.throttle.is_empty() {
            return self.id.serialize(serializer);
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        for (name, value) in [
            ("group_wait", self.throttle.group_wait),
            ("group_interval", self.throttle.group_interval),
            ("repeat_interval", self.throttle.repeat_interval),
        ] {
            if let Some(value) = value {
                map.serialize_entry(name, &value)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for AttachedEndpoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let raw = RawAttached::deserialize(deserializer)?;
        let id = EndpointId::new(raw.id).map_err(de::Error::custom)?;
        Ok(AttachedEndpoint {
            id,
            throttle: raw.throttle,
        })
    }
}

/// An attachment as written: a bare id or a mapping; the id is checked by the caller so
/// that the error can name the condition.
struct RawAttached {
    id: String,
    throttle: Throttle,
}

/// The mapping form of an attachment.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttachedMap {
    #[serde(default)]
    id: String,
    #[serde(default)]
    group_wait: Option<Duration>,
    #[serde(default)]
    group_interval: Option<Duration>,
    #[serde(default)]
    repeat_interval: Option<Duration>,
}

impl<'de> Deserialize<'de> for RawAttached {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct AttachedVisitor;

        impl<'de> Visitor<'de> for AttachedVisitor {
            type Value = RawAttached;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an endpoint id or a mapping with id, group_wait, group_interval, repeat_interval")
            }

            fn visit_str<E: de::Error>(self, id: &str) -> std::result::Result<RawAttached, E> {
                Ok(RawAttached {
                    id: id.to_owned(),
                    throttle: Throttle::default(),
                })
            }

            fn visit_map<M: MapAccess<'de>>(
                self,
                map: M,
            ) -> std::result::Result<RawAttached, M::Error> {
                let raw = RawAttachedMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawAttached {
                    id: raw.id,
                    throttle: Throttle {
                        group_wait: raw.group_wait,
                        group_interval: raw.group_interval,
                        repeat_interval: raw.repeat_interval,
                    },
                })
            }
        }

        deserializer.deserialize_any(AttachedVisitor)
    }
}

/// An empty mapping: the settings of the `external` kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoSettings {}

/// The spec-file shape of a condition before validation: every kind key is optional and
/// at most one may be present.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    severity: Severity,
    #[serde(default)]
    labels: LabelSet,
    #[serde(default)]
    annotations: LabelSet,
    #[serde(default)]
    external: Option<NoSettings>,
    #[serde(default)]
    prometheus: Option<PrometheusCondition>,
    #[serde(default)]
    agent_disconnect: Option<AgentDisconnectCondition>,
    #[serde(default)]
    component_health: Option<ComponentHealthCondition>,
    #[serde(default)]
    cpu: Option<CpuCondition>,
    #[serde(default)]
    memory: Option<MemoryCondition>,
    #[serde(default)]
    filesystem: Option<FilesystemCondition>,
    #[serde(default)]
    kube_state: Option<KubeStateCondition>,
    #[serde(default)]
    throttle: Throttle,
    #[serde(default)]
    endpoints: Vec<RawAttached>,
    #[serde(default)]
    message: ConditionMessage,
    #[serde(default)]
    disabled: bool,
}

impl TryFrom<RawCondition> for AlertCondition {
    type Error = Error;

    fn try_from(raw: RawCondition) -> Result<AlertCondition> {
        let path = FieldPath::keyed(CONDITIONS, &raw.id);
        check_id(&path.field("id"), &raw.id)?;
        let kinds: Vec<ConditionKind> = [
            raw.external.map(|_| ConditionKind::External),
            raw.prometheus.map(ConditionKind::Prometheus),
            raw.agent_disconnect.map(ConditionKind::AgentDisconnect),
            raw.component_health.map(ConditionKind::ComponentHealth),
            raw.cpu.map(ConditionKind::Cpu),
            raw.memory.map(ConditionKind::Memory),
            raw.filesystem.map(ConditionKind::Filesystem),
            raw.kube_state.map(ConditionKind::KubeState),
        ]
        .into_iter()
        .flatten()
        .collect();
        if kinds.len() > 1 {
            let found: Vec<&str> = kinds.iter().map(ConditionKind::name).collect();
            return Err(path.invalid(
                found.join(", "),
                format!(
                    "at most one condition kind: one of {}",
                    ConditionKind::NAMES.join(", ")
                ),
            ));
        }
        let tenant = match raw.tenant {
            Some(tenant) => Some(TenantId::new(tenant).map_err(|e| match e {
                Error::InvalidTenantId { id, reason } => path.field("tenant").invalid(id, reason),
                other => other,
            })?),
            None => None,
        };
        let mut endpoints = Vec::with_capacity(raw.endpoints.len());
        for (i, attached) in raw.endpoints.into_iter().enumerate() {
            check_id(&path.field("endpoints").index(i).field("id"), &attached.id)?;
            endpoints.push(AttachedEndpoint {
                id: EndpointId::new(attached.id)?,
                throttle: attached.throttle,
            });
        }
        let condition = AlertCondition {
            id: ConditionId::new(raw.id)?,
            name: raw.name,
            description: raw.description,
            tenant,
            severity: raw.severity,
            labels: raw.labels,
            annotations: raw.annotations,
            kind: kinds.into_iter().next().unwrap_or_default(),
            throttle: raw.throttle,
            endpoints,
            message: raw.message,
            disabled: raw.disabled,
        };
        condition.validate()?;
        Ok(condition)
    }
}
