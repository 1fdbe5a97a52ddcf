//! A whole alerting spec: endpoints, and the conditions and SLOs that notify them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::condition::{AlertCondition, CONDITION_ID_LABEL};
use crate::endpoint::AlertEndpoint;
use crate::error::{Error, Result};
use crate::field_path::FieldPath;
use crate::id::EndpointId;
use crate::slo::Slo;
use crate::tenant::TenantId;

/// Endpoints, conditions and SLOs together, as a spec file holds them:
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
/// slos:
///   - id: api-availability
///     tenant: cluster-a
///     objective: 99.9
///     sli:
///       good: sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))
///       total: sum(rate(http_requests_total[{{.window}}]))
///     endpoints: [ops-slack]
/// ```
///
/// Reading one validates every endpoint, condition and SLO and the references between
/// them ([`AlertingSpec::validate`]).
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
///
/// // An SLO's id is its alerts' alert_condition_id, so no condition may have it.
/// let err = serde_json::from_str::<AlertingSpec>(r#"{
///     "conditions": [{"id": "api"}],
///     "slos": [{"id": "api", "tenant": "t", "objective": 99.9, "sli": {"error_ratio": "e[{{.window}}]"}}]
/// }"#).unwrap_err();
/// assert!(err.to_string().starts_with("slos[api].id: "));
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
    /// The service level objectives, ids unique and different from every condition id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slos: Vec<Slo>,
}

/// The spec as read, before the cross-references are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[serde(default)]
    endpoints: Vec<AlertEndpoint>,
    #[serde(default)]
    conditions: Vec<AlertCondition>,
    #[serde(default)]
    slos: Vec<Slo>,
}

impl TryFrom<RawSpec> for AlertingSpec {
    type Error = Error;

    fn try_from(raw: RawSpec) -> Result<AlertingSpec> {
        let spec = AlertingSpec {
            endpoints: raw.endpoints,
            conditions: raw.conditions,
            slos: raw.slos,
        };
        spec.validate()?;
        Ok(spec)
    }
}

impl AlertingSpec {
    /// Checks every endpoint, condition and SLO, that ids are unique in each list and no
    /// SLO has a condition's id (both are [`CONDITION_ID_LABEL`] values), and that every
    /// attached endpoint exists. The first fault is returned with its path.
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
            check_references(&path, condition.endpoint_ids(), &endpoint_ids)?;
        }
        let mut slo_ids = BTreeMap::new();
        for (i, slo) in self.slos.iter().enumerate() {
            slo.validate()?;
            let path = slo.path();
            if let Some(first) = slo_ids.insert(slo.id.as_str(), i) {
                return Err(path.field("id").invalid(
                    slo.id.as_str(),
                    format!("ids unique among slos (entries {first} and {i} share it)"),
                ));
            }
            if let Some(condition) = condition_ids.get(slo.id.as_str()) {
                return Err(path.field("id").invalid(
                    slo.id.as_str(),
                    format!(
                        "an id no condition has (condition entry {condition} has it): an SLO's \
                         alerts carry its id as {CONDITION_ID_LABEL}, as a condition's do"
                    ),
                ));
            }
            check_references(&path, slo.endpoint_ids(), &endpoint_ids)?;
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

    /// The SLO with this id.
    pub fn slo(&self, id: &str) -> Option<&Slo> {
        self.slos.iter().find(|s| s.id.as_str() == id)
    }

    /// The tenants conditions and SLOs are bound to, each once, in order.
    pub fn tenants(&self) -> BTreeSet<&TenantId> {
        self.conditions
            .iter()
            .filter_map(|c| c.tenant.as_ref())
            .chain(self.slos.iter().map(|s| &s.tenant))
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

    /// The SLOs of `tenant`, in spec order.
    pub fn slos_for<'a>(&'a self, tenant: &'a TenantId) -> impl Iterator<Item = &'a Slo> + 'a {
        self.slos.iter().filter(move |s| &s.tenant == tenant)
    }

    /// The SLOs that attach the endpoint `id`, in spec order: with
    /// [`AlertingSpec::conditions_using`], what changes when the endpoint is edited or
    /// removed.
    pub fn slos_using<'a>(&'a self, id: &'a EndpointId) -> impl Iterator<Item = &'a Slo> + 'a {
        self.slos
            .iter()
            .filter(move |s| s.endpoint_ids().any(|e| e == id))
    }
}

/// Checks that every endpoint id attached by the entry at `path` is among `known`,
/// naming the first unknown one as `<path>.endpoints[<j>].id`.
fn check_references<'a>(
    path: &FieldPath,
    attached: impl Iterator<Item = &'a EndpointId>,
    known: &BTreeMap<&str, usize>,
) -> Result<()> {
    for (j, id) in attached.enumerate() {
        if !known.contains_key(id.as_str()) {
            return Err(path
                .field("endpoints")
                .index(j)
                .field("id")
                .invalid(id.as_str(), "the id of an endpoint in endpoints"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies;
    use proptest::prelude::*;

    const SPEC: &str = r#"{
        "endpoints": [
            {"id": "pager", "pagerduty": {"routing_key": "abc"}},
            {"id": "mail", "webhook": {"url": "https://hooks.example.org"}}
        ],
        "conditions": [{"id": "down", "prometheus": {"query": "up == 0"}, "endpoints": ["pager"]}],
        "slos": [
            {"id": "api", "tenant": "cluster-b", "objective": 99.9,
             "sli": {"error_ratio": "e[{{.window}}]"}, "endpoints": ["mail", "pager"]},
            {"id": "web", "tenant": "cluster-a", "objective": 99,
             "sli": {"error_ratio": "e[{{.window}}]"}}
        ]
    }"#;

    fn spec() -> AlertingSpec {
        serde_json::from_str(SPEC).expect("valid")
    }

    /// The path and text of the fault `validate` finds in `spec`.
    fn fault(spec: &AlertingSpec) -> (String, String) {
        let err = spec.validate().expect_err("a fault");
        let Error::InvalidField { field, .. } = &err else {
            panic!("{err:?}")
        };
        (field.clone(), err.to_string())
    }

    #[test]
    fn slos_are_checked_against_the_spec() {
        let mut s = spec();
        s.slos.push(s.slos[0].clone());
        let (field, text) = fault(&s);
        assert_eq!(field, "slos[api].id");
        assert!(
            text.contains("ids unique among slos (entries 0 and 2 share it)"),
            "{text}"
        );

        let mut s = spec();
        s.slos[1].id = "down".parse().expect("id");
        let (field, text) = fault(&s);
        assert_eq!(field, "slos[down].id");
        assert!(
            text.contains("an id no condition has (condition entry 0 has it)"),
            "{text}"
        );

        let mut s = spec();
        s.endpoints.remove(0);
        s.conditions.clear();
        let (field, text) = fault(&s);
        assert_eq!(field, "slos[api].endpoints[1].id");
        assert!(
            text.contains("the id of an endpoint in endpoints"),
            "{text}"
        );

        // Each SLO's own faults, with its path.
        let mut s = spec();
        s.slos[1].objective = 100.0;
        assert_eq!(fault(&s).0, "slos[web].objective");
    }

    #[test]
    fn lookups_know_slos() {
        let s = spec();
        assert_eq!(s.slo("web").map(|slo| slo.objective), Some(99.0));
        assert!(s.slo("down").is_none());
        let tenants: Vec<&str> = s.tenants().into_iter().map(TenantId::as_str).collect();
        assert_eq!(tenants, ["cluster-a", "cluster-b"]);
        let b: TenantId = "cluster-b".parse().expect("tenant");
        let ids: Vec<&str> = s.slos_for(&b).map(|slo| slo.id.as_str()).collect();
        assert_eq!(ids, ["api"]);
        let pager: EndpointId = "pager".parse().expect("id");
        let ids: Vec<&str> = s.slos_using(&pager).map(|slo| slo.id.as_str()).collect();
        assert_eq!(ids, ["api"]);
        assert_eq!(s.conditions_using(&pager).count(), 1);
    }

    #[test]
    fn specs_without_slos_serialise_as_before() {
        let mut s = spec();
        s.slos.clear();
        let json = serde_json::to_string(&s).expect("json");
        assert!(!json.contains("slos"), "{json}");
        assert_eq!(
            serde_json::from_str::<AlertingSpec>(&json).expect("reads"),
            s
        );
        let err = serde_json::from_str::<AlertingSpec>(r#"{"slo": []}"#).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "unknown field `slo`, expected one of `endpoints`, `conditions`, `slos`"
            ),
            "{err}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn generated_specs_are_valid_and_round_trip(spec in strategies::spec()) {
            prop_assert_eq!(spec.validate(), Ok(()));
            let json = serde_json::to_string(&spec).expect("to json");
            prop_assert_eq!(&serde_json::from_str::<AlertingSpec>(&json).expect("from json"), &spec);
            let yaml = yaml_serde::to_string(&spec).expect("to yaml");
            let back: AlertingSpec = yaml_serde::from_str(&yaml)
                .map_err(|err| TestCaseError::fail(format!("{err}\n{yaml}")))?;
            prop_assert_eq!(back, spec);
        }
    }
}
