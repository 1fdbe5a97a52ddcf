//! A whole alerting spec: endpoints and the conditions that notify them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::condition::AlertCondition;
use crate::endpoint::AlertEndpoint;
use crate::error::{Error, Result};
use crate::field_path::FieldPath;
use crate::id::EndpointId;
use crate::tenant::TenantId;

/// Endpoints and conditions together, as a spec file holds them:
///
/// ```yaml
/// endpoints:
///   - id: ops-slack
///     slack: {api_url: "https://hooks.slack.com/services/T/B/X", channel: "#ops"}
/// conditions:
///   - id: cpu-high
///     tenant: cluster-a
///     cpu: {threshold_percent: 90, for: 5m}
///     endpoints: [ops-slack]
/// ```
///
/// Reading one validates every endpoint and condition and the references between them
/// ([`AlertingSpec::validate`]).
///
/// ```
/// use alert_core::AlertingSpec;
///
/// let spec: AlertingSpec = serde_json::from_str(r#"{
///     "endpoints": [{"id": "pager", "pagerduty": {"routing_key": "abc"}}],
///     "conditions": [{"id": "down", "prometheus": {"query": "up == 0"}, "endpoints": ["pager"]}]
/// }"#)?;
/// assert_eq!(spec.endpoint("pager").map(|e| e.kind.name()), Some("pagerduty"));
///
/// let err = serde_json::from_str::<AlertingSpec>(r#"{
///     "conditions": [{"id": "down", "endpoints": ["nope"]}]
/// }"#).unwrap_err();
/// assert!(err.to_string().starts_with("conditions[down].endpoints[0].id: "));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawSpec")]
pub struct AlertingSpec {
    /// The endpoints, ids unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<AlertEndpoint>,
    /// The conditions, ids unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<AlertCondition>,
}

/// The spec as read, before the cross-references are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[serde(default)]
    endpoints: Vec<AlertEndpoint>,
    #[serde(default)]
    conditions: Vec<AlertCondition>,
}

impl TryFrom<RawSpec> for AlertingSpec {
    type Error = Error;

    fn try_from(raw: RawSpec) -> Result<AlertingSpec> {
        let spec = AlertingSpec {
            endpoints: raw.endpoints,
            conditions: raw.conditions,
        };
        spec.validate()?;
        Ok(spec)
    }
}

impl AlertingSpec {
    /// Checks every endpoint and condition, that ids are unique in each list, and that
    /// every attached endpoint exists. The first fault is returned with its path.
    pub fn validate(&self) -> Result<()> {
        let mut endpoint_ids = BTreeMap::new();
        for (i, endpoint) in self.endpoints.iter().enumerate() {
            endpoint.validate()?;
            if let Some(first) = endpoint_ids.insert(endpoint.id.as_str(), i) {
                return Err(endpoint.path().field("id").invalid(
                    endpoint.id.as_str(),
                    format!("ids unique among endpoints (entries {first} and {i} share it)"),
                ));
            }
        }
        let mut condition_ids = BTreeMap::new();
        for (i, condition) in self.conditions.iter().enumerate() {
            condition.validate()?;
            let path = FieldPath::keyed("conditions", condition.id.as_str());
            if let Some(first) = condition_ids.insert(condition.id.as_str(), i) {
                return Err(path.field("id").invalid(
                    condition.id.as_str(),
                    format!("ids unique among conditions (entries {first} and {i} share it)"),
                ));
            }
            for (j, id) in condition.endpoint_ids().enumerate() {
                if !endpoint_ids.contains_key(id.as_str()) {
                    return Err(path
                        .field("endpoints")
                        .index(j)
                        .field("id")
                        .invalid(id.as_str(), "the id of an endpoint in endpoints"));
                }
            }
        }
        Ok(())
    }

    /// The endpoint with this id.
    pub fn endpoint(&self, id: &str) -> Option<&AlertEndpoint> {
        self.endpoints.iter().find(|e| e.id.as_str() == id)
    }

    /// The condition with this id.
    pub fn condition(&self, id: &str) -> Option<&AlertCondition> {
        self.conditions.iter().find(|c| c.id.as_str() == id)
    }

    /// The tenants conditions are bound to, each once, in order.
    pub fn tenants(&self) -> BTreeSet<&TenantId> {
        self.conditions
            .iter()
            .filter_map(|c| c.tenant.as_ref())
            .collect()
    }

    /// The conditions bound to `tenant` (`None`: those bound to no tenant), in spec order.
    pub fn conditions_for<'a>(
        &'a self,
        tenant: Option<&'a TenantId>,
    ) -> impl Iterator<Item = &'a AlertCondition> + 'a {
        self.conditions
            .iter()
            .filter(move |c| c.tenant.as_ref() == tenant)
    }

    /// The conditions that attach the endpoint `id`, in spec order: what changes when the
    /// endpoint is edited or removed.
    pub fn conditions_using<'a>(
        &'a self,
        id: &'a EndpointId,
    ) -> impl Iterator<Item = &'a AlertCondition> + 'a {
        self.conditions
            .iter()
            .filter(move |c| c.endpoint_ids().any(|e| e == id))
    }
}
