//! One Alertmanager configuration per tenant, built from `alert_core` conditions and
//! endpoints: the job Rancher Opni's gateway did in one monolithic file, done per tenant,
//! incrementally.
//!
//! For each tenant (and once for the conditions bound to no tenant) the builder writes:
//!
//! - **one receiver per endpoint** the tenant's conditions use, named after the endpoint
//!   id ([`endpoint_receiver`]); never one receiver per condition holding copies;
//! - **one route per routed condition** ([`condition_route`]): it matches
//!   `alert_condition_id="<id>"`, has `continue: true`, groups by
//!   [`BuildOptions::condition_group_by`], and has one child per attached endpoint with
//!   that attachment's throttle as timers;
//! - first, the **default webhooks**: a route to the history webhook
//!   ([`BuildOptions::history`]), then one to the emitter ([`BuildOptions::emitter`]),
//!   each when configured ([`DefaultWebhook`]); they have no matchers and continue, so
//!   they see every alert, and a base configuration may neither define nor name their
//!   receivers ([`RESERVED_RECEIVERS`]; refused with [`Error::NameCollision`]);
//! - with [`BuildOptions::endpoint_tests`], one **endpoint test route** per endpoint
//!   receiver the configuration holds ([`endpoint_test_route`]), sorted by endpoint id:
//!   it matches `alert_endpoint_test="<endpoint id>"` ([`ENDPOINT_TEST_LABEL`]), sends to
//!   that receiver at once (`group_by: ['...']`, `group_wait: 0s`, `group_interval: 1m`,
//!   `repeat_interval: 1h`) and does not continue, so a synthetic alert carrying the
//!   label tests exactly one endpoint through Alertmanager (it also reaches the history
//!   webhook, whose route comes first and continues);
//! - all of it merged into the **base configuration**, when one is given: its `global`,
//!   templates, inhibit rules, time intervals, routes and receivers are kept, our routes
//!   come before its routes, and its root receiver stays the root receiver. Without a
//!   base the root receiver is [`BLACKHOLE_RECEIVER`], which has no integrations. The
//!   exact layout is in the table below.
//!
//! The output is deterministic: conditions are written sorted by id and receivers sorted
//! by endpoint id, so the same conditions and endpoints, in any order, give byte-identical
//! YAML. Each configuration's [`sync_id`] is the lowercase hex SHA-256 of its YAML.
//!
//! A [`Builder`] keeps the last rendering per tenant and knows which tenants use which
//! endpoint; [`Builder::upsert_condition`], [`Builder::remove_condition`],
//! [`Builder::upsert_endpoint`] and [`Builder::remove_endpoint`] re-render only the
//! tenants affected and report those whose configuration changed. Every update either
//! applies completely or fails and changes nothing.
//!
//! Every configuration passes this crate's Alertmanager 0.25 validation
//! ([`crate::validate::alertmanager::check`]). The builder checks the parts, not each
//! whole rendering (parsing a tenant's YAML back on every change would cost more than
//! rendering it): each endpoint's receiver, in a configuration of its own with the
//! base's `global`, when the endpoint is added; the base configuration once; routes are
//! written from validated conditions. The tests check whole configurations, with this
//! crate's validation and with the real `amtool check-config`.
//!
//! With [`BuildOptions::cluster`], the builder refuses
//! ([`Error::GroupWaitShorterThanClusterWait`]) a condition whose route to an endpoint
//! waits (`group_wait`) less than the last peer of the Alertmanager cluster
//! ([`crate::validate::ClusterTiming::last_peer_wait`]), and a history webhook that does:
//! that peer would notify before the others' notification log reached it. The refusal is
//! per condition, like every other: the update fails and changes nothing. Endpoint test
//! routes are exempt (a test must be fast, and a test notification sent twice is
//! harmless).
//!
//! Conditions that are disabled, or have no endpoints attached, get no route: their
//! alerts reach only the history webhook and whatever the base configuration's routes
//! send them to. A tenant exists as long as at least one condition is bound to it, routed
//! or not; when the last one goes, the change reports the tenant with no sync id.
//!
//! Layout of the root route's children (the same for every tenant of a builder; test
//! routes only with [`BuildOptions::endpoint_tests`]):
//!
//! | base | default webhooks | children of the root |
//! |------|------------------|----------------------|
//! | no   | none             | test routes, condition routes |
//! | no   | some             | default routes, test routes, condition routes |
//! | yes  | none             | test routes, condition routes, the base's routes |
//! | yes  | some             | default routes, test routes, then one route without matchers holding the condition routes and the base's routes |
//!
//! The wrapper in the last row keeps the base's meaning: Alertmanager sends an alert to
//! the root receiver only when no child route matched, and a default route matches
//! every alert; under the wrapper (which inherits everything from the root) an alert no
//! base route takes still falls back to the base's root receiver, as it did before.
//!
//! **The combined configuration** ([`Builder::combined`]) serves every tenant from one
//! vanilla Alertmanager, which is not multi-tenant. Its layout is the table above with
//! *condition routes* replaced by one **tenant route** per tenant with routed
//! conditions, in [`TenantKey`] order, each holding exactly that tenant's condition
//! routes; the test routes cover every endpoint the builder knows (so any endpoint can
//! be tested), and the receivers are the union: the blackhole (always, as the tenant
//! routes name it), the history receiver, every endpoint receiver once (those some
//! condition uses; with endpoint tests every one that can be written), the base's. A
//! tenant route has:
//!
//! ```yaml
//! - receiver: alert-router:blackhole
//!   matchers:
//!   - tenant="cluster-a"
//!   - alert_condition_id=~"cpu-high|disk[.]full"
//!   continue: true
//!   routes:
//!   - ... # the tenant's condition routes
//! ```
//!
//! The first matcher is [`crate::rules::TENANT_LABEL`], the label the generated rules
//! set; for [`TenantKey::Unbound`] it is `tenant=""` (the label is absent). The second
//! makes the tenant route match only alerts one of its children takes: in Alertmanager a
//! route that matched counts as a match even when none of its children did, and that
//! would keep the alert from the base's root receiver, to which the tenant's own
//! configuration falls back when neither a condition route nor a base route takes it.
//! So an alert carrying a tenant's label reaches exactly the receivers the tenant's own
//! configuration sends it to, besides the blackhole (the tests check it with this
//! crate's routing, [`crate::route`], for random specs and alerts). The blackhole
//! receiver and `continue: true` make sure the tenant route itself never notifies and
//! never stops the tenants' and the base's routes after it.
//!
//! ```
//! use alert_core::AlertingSpec;
//! use alert_router::builder::{Builder, BuildOptions, DefaultWebhook, TenantKey};
//! use alert_router::config::Config;
//!
//! let spec: AlertingSpec = serde_json::from_str(r##"{
//!     "endpoints": [
//!         {"id": "ops-slack", "slack": {"api_url": "https://hooks.slack.com/services/T/B/X", "channel": "#ops"}},
//!         {"id": "pager", "pagerduty": {"routing_key": "abc"}}
//!     ],
//!     "conditions": [
//!         {"id": "cpu-high", "tenant": "cluster-a",
//!          "endpoints": [{"id": "ops-slack", "group_wait": "30s", "repeat_interval": "4h"}, "pager"]},
//!         {"id": "disk-full", "tenant": "cluster-b", "endpoints": ["pager"]}
//!     ]
//! }"##)?;
//! let options = BuildOptions {
//!     history: Some(DefaultWebhook::new("http://127.0.0.1:9094/webhook")),
//!     ..BuildOptions::default()
//! };
//! let mut builder = Builder::from_spec(spec, options)?;
//!
//! let a = builder.tenant(&TenantKey::Tenant("cluster-a".parse()?)).unwrap();
//! let config = Config::from_yaml(&a.yaml)?;
//! let receivers: Vec<&str> = config.receivers.iter().map(|r| r.name.as_str()).collect();
//! assert_eq!(receivers, ["alert-router:blackhole", "alert-router:history", "ops-slack", "pager"]);
//! assert_eq!(config.route.routes[1].matchers, [r#"alert_condition_id="cpu-high""#]);
//! assert_eq!(a.sync_id.len(), 64);
//!
//! // Editing the pager endpoint re-renders both tenants; dropping cpu-high's pager
//! // attachment re-renders cluster-a only.
//! let mut pager = builder.endpoint(&"pager".parse()?).unwrap().clone();
//! pager.send_resolved = Some(false);
//! assert_eq!(builder.upsert_endpoint(pager)?.len(), 2);
//! let mut cpu = builder.condition(&"cpu-high".parse()?).unwrap().clone();
//! cpu.endpoints.truncate(1);
//! let changed = builder.upsert_condition(cpu)?;
//! assert_eq!(changed.len(), 1);
//! assert_eq!(changed[0].tenant.to_string(), "cluster-a");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod combined;
mod layout;
mod options;
mod parallel;
mod receiver;
mod route;
mod tenant;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use alert_core::{AlertCondition, AlertEndpoint, AlertingSpec, ConditionId, EndpointId};

use crate::config::{Config, Route};
use crate::error::{Error, Result};
use crate::validate::alertmanager::check;

use layout::{Layout, Shape};
use parallel::par_map;
use receiver::endpoint_path;
use route::{check_cluster_timing, write_route_item};

pub use combined::CombinedConfig;
pub use options::{
    AlertmanagerVersion, BLACKHOLE_RECEIVER, BuildOptions, DefaultWebhook, EMITTER_RECEIVER,
    ENDPOINT_TEST_LABEL, HISTORY_RECEIVER, RESERVED_RECEIVERS,
};
pub use receiver::{endpoint_receiver, receiver_name};
pub use route::{condition_matcher, condition_route, endpoint_test_route};
pub use tenant::{TenantChange, TenantConfig, TenantKey, sync_id};

/// Builds every tenant's configuration from `spec` at once.
///
/// The same as [`Builder::from_spec`] followed by [`Builder::into_configs`].
///
/// ```
/// use alert_core::AlertingSpec;
/// use alert_router::builder::{BuildOptions, TenantKey, build};
///
/// let spec: AlertingSpec = serde_json::from_str(r#"{
///     "endpoints": [{"id": "hook", "webhook": {"url": "http://127.0.0.1:9/hook"}}],
///     "conditions": [{"id": "down", "endpoints": ["hook"]}]
/// }"#)?;
/// let configs = build(spec, BuildOptions::default())?;
/// assert_eq!(configs.len(), 1);
/// assert_eq!(configs[0].tenant, TenantKey::Unbound);
/// assert_eq!((configs[0].routes, configs[0].receivers), (2, 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn build(spec: AlertingSpec, options: BuildOptions) -> Result<Vec<TenantConfig>> {
    Ok(Builder::from_spec(spec, options)?.into_configs())
}

/// An endpoint with its receiver rendered once for every tenant that uses it. Not
/// `Debug`: the receiver's text holds secrets.
#[derive(Clone)]
struct EndpointEntry {
    endpoint: AlertEndpoint,
    /// The receiver as an item of the `receivers:` list, or why it cannot be written
    /// (reported when a condition routes to it).
    receiver: Result<String>,
    /// The endpoint's test route as an item of the root's `routes:` list, with
    /// [`BuildOptions::endpoint_tests`].
    test_route: Option<String>,
}

impl EndpointEntry {
    fn new(layout: &Layout, options: &BuildOptions, endpoint: AlertEndpoint) -> EndpointEntry {
        let (receiver, test_route) = EndpointEntry::texts(layout, options, &endpoint);
        EndpointEntry {
            endpoint,
            receiver,
            test_route,
        }
    }

    /// The receiver and test route texts of `endpoint`.
    fn texts(
        layout: &Layout,
        options: &BuildOptions,
        endpoint: &AlertEndpoint,
    ) -> (Result<String>, Option<String>) {
        let receiver = render_endpoint(layout, options, endpoint);
        let test_route = options.endpoint_tests.then(|| {
            let mut out = String::with_capacity(192);
            write_route_item(
                &endpoint_test_route(&endpoint.id),
                layout.test_indent(),
                &mut out,
            );
            out
        });
        (receiver, test_route)
    }
}

/// A condition with its route rendered.
#[derive(Clone)]
struct ConditionEntry {
    condition: AlertCondition,
    tenant: TenantKey,
    /// The route as an item of its `routes:` list; `None` when the condition is not
    /// routed.
    route: Option<String>,
}

/// What the builder knows about one tenant.
#[derive(Clone)]
struct TenantState {
    /// Every condition bound to the tenant.
    conditions: BTreeSet<ConditionId>,
    /// The routed ones, with how many endpoints each attaches.
    routed: BTreeMap<ConditionId, usize>,
    /// The endpoints the routed conditions use, with how many use each.
    endpoints: BTreeMap<EndpointId, usize>,
    /// The last rendering.
    rendered: Option<TenantConfig>,
}

impl TenantState {
    fn new() -> TenantState {
        TenantState {
            conditions: BTreeSet::new(),
            routed: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            rendered: None,
        }
    }

    fn add(&mut self, condition: &AlertCondition, routed: bool) {
        self.conditions.insert(condition.id.clone());
        if routed {
            self.routed
                .insert(condition.id.clone(), condition.endpoints.len());
            for id in condition.endpoint_ids() {
                match self.endpoints.get_mut(id) {
                    Some(n) => *n += 1,
                    None => {
                        self.endpoints.insert(id.clone(), 1);
                    }
                }
            }
        }
    }

    fn remove(&mut self, condition: &AlertCondition) {
        self.conditions.remove(&condition.id);
        if self.routed.remove(&condition.id).is_some() {
            for id in condition.endpoint_ids() {
                if let Some(n) = self.endpoints.get_mut(id) {
                    *n -= 1;
                    if *n == 0 {
                        self.endpoints.remove(id);
                    }
                }
            }
        }
    }
}

/// The state a rendering reads, with at most one condition or endpoint replaced by a
/// staged version (an update not yet committed).
struct View<'a> {
    layout: &'a Layout,
    options: &'a BuildOptions,
    conditions: &'a BTreeMap<ConditionId, ConditionEntry>,
    endpoints: &'a BTreeMap<EndpointId, EndpointEntry>,
    staged_condition: Option<(&'a ConditionId, Option<&'a ConditionEntry>)>,
    staged_endpoint: Option<&'a EndpointEntry>,
}

impl<'a> View<'a> {
    fn condition(&self, id: &ConditionId) -> Option<&'a ConditionEntry> {
        match self.staged_condition {
            Some((staged, entry)) if staged == id => entry,
            _ => self.conditions.get(id),
        }
    }

    fn endpoint(&self, id: &EndpointId) -> Option<&'a EndpointEntry> {
        match self.staged_endpoint {
            Some(entry) if entry.endpoint.id == *id => Some(entry),
            _ => self.endpoints.get(id),
        }
    }

    /// Renders a tenant's configuration and checks it.
    fn render(&self, key: &TenantKey, state: &TenantState) -> Result<TenantConfig> {
        let routes: Vec<&str> = state
            .routed
            .keys()
            .filter_map(|id| self.condition(id)?.route.as_deref())
            .collect();
        let mut receivers = Vec::with_capacity(state.endpoints.len());
        let mut tests = Vec::new();
        for id in state.endpoints.keys() {
            let entry = self.endpoint(id).ok_or_else(|| missing_endpoint(id))?;
            match &entry.receiver {
                Ok(text) => receivers.push(text.as_str()),
                Err(e) => return Err(e.clone()),
            }
            if let Some(test) = &entry.test_route {
                tests.push(test.as_str());
            }
        }
        let yaml = self.layout.render(&tests, &routes, &receivers);
        let (fixed_routes, fixed_receivers) = self.layout.fixed_counts();
        Ok(TenantConfig {
            tenant: key.clone(),
            sync_id: if state.routed.is_empty() {
                self.layout.empty().2.to_owned()
            } else {
                sync_id(&yaml)
            },
            yaml,
            routes: fixed_routes
                + tests.len()
                + state.routed.values().map(|n| n + 1).sum::<usize>(),
            receivers: fixed_receivers + state.endpoints.len(),
            conditions: state.routed.len(),
        })
    }

    /// A tenant's configuration as a value.
    fn config(&self, state: &TenantState) -> Result<Config> {
        let group_by = &self.options.condition_group_by;
        let routes: Vec<Route> = state
            .routed
            .keys()
            .filter_map(|id| condition_route(&self.condition(id)?.condition, group_by))
            .collect();
        let mut receivers = Vec::with_capacity(state.endpoints.len());
        let mut tests = Vec::new();
        for id in state.endpoints.keys() {
            let entry = self.endpoint(id).ok_or_else(|| missing_endpoint(id))?;
            receivers.push(endpoint_receiver(&entry.endpoint, self.options.target)?);
            if self.options.endpoint_tests {
                tests.push(endpoint_test_route(id));
            }
        }
        Ok(self.layout.config(tests, routes, receivers))
    }
}

/// An endpoint a routed condition uses is not known: the builder's indexes are out of
/// step, which its updates never allow.
fn missing_endpoint(id: &EndpointId) -> Error {
    Error::InvalidSpec(alert_core::Error::InvalidField {
        field: format!("endpoints[{id}]"),
        value: id.as_str().to_owned(),
        expected: "an endpoint known to the builder".to_owned(),
    })
}

/// Builds and keeps one configuration per tenant, and re-renders only what an update
/// affects. See the [module documentation](self).
///
/// `Debug` shows counts only: the rendered configurations hold secrets.
#[derive(Clone)]
pub struct Builder {
    options: BuildOptions,
    layout: Layout,
    /// The layout of the combined configuration ([`Builder::combined`]).
    combined_layout: Layout,
    endpoints: BTreeMap<EndpointId, EndpointEntry>,
    conditions: BTreeMap<ConditionId, ConditionEntry>,
    tenants: BTreeMap<TenantKey, TenantState>,
    /// Endpoint → the tenants whose routed conditions use it, with how many do (the
    /// inverse of the tenant states' `endpoints`).
    users: HashMap<EndpointId, BTreeMap<TenantKey, usize>>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("tenants", &self.tenants.len())
            .field("conditions", &self.conditions.len())
            .field("endpoints", &self.endpoints.len())
            .field("target", &self.options.target)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// A builder with no conditions and no endpoints. Fails when the base configuration
    /// does not pass validation or names a receiver the builder writes
    /// ([`Error::NameCollision`]), when the history webhook waits less than the cluster
    /// allows ([`Error::GroupWaitShorterThanClusterWait`], with
    /// [`BuildOptions::cluster`]), or when another option is invalid.
    pub fn new(options: BuildOptions) -> Result<Builder> {
        Builder::from_spec(AlertingSpec::default(), options)
    }

    /// Builds every tenant's configuration from `spec`, using every core.
    ///
    /// Fails when the spec is invalid ([`Error::InvalidSpec`]), when a routed condition
    /// uses an endpoint the target cannot express ([`Error::EndpointNotExpressible`]) or
    /// whose receiver name is taken in the base configuration
    /// ([`Error::NameCollision`]), when a routed condition waits less than the cluster
    /// allows ([`Error::GroupWaitShorterThanClusterWait`], with
    /// [`BuildOptions::cluster`]), or as [`Builder::new`] does. Of several faults, the
    /// one of the smallest condition id is reported.
    pub fn from_spec(spec: AlertingSpec, options: BuildOptions) -> Result<Builder> {
        spec.validate()?;
        let layout = Layout::new(&options, Shape::Tenant)?;
        let combined_layout = Layout::new(&options, Shape::Combined)?;
        let AlertingSpec {
            endpoints,
            conditions,
            slos: _,
        } = spec;
        let texts = par_map(&endpoints, |e| EndpointEntry::texts(&layout, &options, e));
        let routes = par_map(&conditions, |c| render_condition(&layout, &options, c));

        let mut builder = Builder {
            options,
            layout,
            combined_layout,
            endpoints: BTreeMap::new(),
            conditions: BTreeMap::new(),
            tenants: BTreeMap::new(),
            users: HashMap::new(),
        };
        for (endpoint, (receiver, test_route)) in endpoints.into_iter().zip(texts) {
            let entry = EndpointEntry {
                endpoint,
                receiver,
                test_route,
            };
            builder.endpoints.insert(entry.endpoint.id.clone(), entry);
        }
        for (condition, route) in conditions.into_iter().zip(routes) {
            let tenant = TenantKey::of(condition.tenant.as_ref());
            match builder.tenants.get_mut(&tenant) {
                Some(state) => state.add(&condition, route.is_some()),
                None => {
                    let mut state = TenantState::new();
                    state.add(&condition, route.is_some());
                    builder.tenants.insert(tenant.clone(), state);
                }
            }
            builder.conditions.insert(
                condition.id.clone(),
                ConditionEntry {
                    condition,
                    tenant,
                    route,
                },
            );
        }
        if builder.options.cluster.is_some()
            || builder.endpoints.values().any(|e| e.receiver.is_err())
        {
            for entry in builder.conditions.values() {
                if entry.route.is_some() {
                    builder.check_endpoints(&entry.condition)?;
                    builder.check_timing(&entry.condition)?;
                }
            }
        }
        for (key, state) in &builder.tenants {
            for (id, &n) in &state.endpoints {
                builder
                    .users
                    .entry(id.clone())
                    .or_default()
                    .insert(key.clone(), n);
            }
        }

        let view = builder.view(None, None);
        let states: Vec<(&TenantKey, &TenantState)> = builder.tenants.iter().collect();
        let rendered = par_map(&states, |(key, state)| view.render(key, state));
        let rendered: Vec<TenantConfig> = rendered.into_iter().collect::<Result<_>>()?;
        for config in rendered {
            if let Some(state) = builder.tenants.get_mut(&config.tenant) {
                state.rendered = Some(config);
            }
        }
        Ok(builder)
    }

    /// The options the builder was made with.
    pub fn options(&self) -> &BuildOptions {
        &self.options
    }

    /// Every tenant's configuration, ordered by [`TenantKey`].
    pub fn tenants(&self) -> impl Iterator<Item = &TenantConfig> + '_ {
        self.tenants.values().filter_map(|s| s.rendered.as_ref())
    }

    /// One tenant's configuration.
    pub fn tenant(&self, key: &TenantKey) -> Option<&TenantConfig> {
        self.tenants.get(key)?.rendered.as_ref()
    }

    /// One tenant's configuration as a value (what its YAML holds).
    pub fn config(&self, key: &TenantKey) -> Option<Result<Config>> {
        let state = self.tenants.get(key)?;
        Some(self.view(None, None).config(state))
    }

    /// The tenants whose routed conditions use the endpoint `id`, ordered by key.
    pub fn tenants_using(&self, id: &EndpointId) -> impl Iterator<Item = &TenantKey> + '_ {
        self.users.get(id).into_iter().flat_map(BTreeMap::keys)
    }

    /// The condition with this id.
    pub fn condition(&self, id: &ConditionId) -> Option<&AlertCondition> {
        self.conditions.get(id).map(|e| &e.condition)
    }

    /// The endpoint with this id.
    pub fn endpoint(&self, id: &EndpointId) -> Option<&AlertEndpoint> {
        self.endpoints.get(id).map(|e| &e.endpoint)
    }

    /// Every tenant's configuration, ordered by [`TenantKey`].
    pub fn into_configs(self) -> Vec<TenantConfig> {
        self.tenants
            .into_values()
            .filter_map(|s| s.rendered)
            .collect()
    }

    /// Adds or replaces a condition, and re-renders its tenant (both tenants, when it
    /// moves from one to another). Returns the tenants whose configuration changed.
    ///
    /// Fails, changing nothing, when the condition is invalid or attaches an endpoint the
    /// builder does not know ([`Error::InvalidSpec`]), or, if it is routed, one that
    /// cannot be written ([`Error::EndpointNotExpressible`], [`Error::NameCollision`]),
    /// or when one of its routes waits less than the cluster allows
    /// ([`Error::GroupWaitShorterThanClusterWait`], with [`BuildOptions::cluster`]).
    pub fn upsert_condition(&mut self, condition: AlertCondition) -> Result<Vec<TenantChange>> {
        condition.validate()?;
        for (i, id) in condition.endpoint_ids().enumerate() {
            if !self.endpoints.contains_key(id) {
                return Err(Error::InvalidSpec(alert_core::Error::InvalidField {
                    field: format!("conditions[{}].endpoints[{i}].id", condition.id),
                    value: id.as_str().to_owned(),
                    expected: "the id of an endpoint in endpoints".to_owned(),
                }));
            }
        }
        let route = render_condition(&self.layout, &self.options, &condition);
        if route.is_some() {
            self.check_endpoints(&condition)?;
            self.check_timing(&condition)?;
        }
        let tenant = TenantKey::of(condition.tenant.as_ref());
        let old = self.conditions.get(&condition.id);
        if let Some(old) = old
            && old.tenant == tenant
            && old.route == route
        {
            // Nothing any configuration holds changed.
            let entry = ConditionEntry {
                condition,
                tenant,
                route,
            };
            self.conditions.insert(entry.condition.id.clone(), entry);
            return Ok(Vec::new());
        }

        let mut staged: BTreeMap<TenantKey, TenantState> = BTreeMap::new();
        if let Some(old) = old {
            let state = self.stage(&mut staged, &old.tenant);
            state.remove(&old.condition);
        }
        self.stage(&mut staged, &tenant)
            .add(&condition, route.is_some());
        let entry = ConditionEntry {
            condition,
            tenant,
            route,
        };
        let id = entry.condition.id.clone();
        let view = self.view(Some((&id, Some(&entry))), None);
        let rendered = render_staged(&view, &staged)?;

        self.conditions.insert(id, entry);
        Ok(self.commit(staged, rendered))
    }

    /// Removes a condition and re-renders its tenant. Returns the tenants whose
    /// configuration changed; removing an unknown condition changes nothing.
    pub fn remove_condition(&mut self, id: &ConditionId) -> Result<Vec<TenantChange>> {
        let Some(old) = self.conditions.get(id) else {
            return Ok(Vec::new());
        };
        let mut staged: BTreeMap<TenantKey, TenantState> = BTreeMap::new();
        self.stage(&mut staged, &old.tenant).remove(&old.condition);
        let view = self.view(Some((id, None)), None);
        let rendered = render_staged(&view, &staged)?;
        self.conditions.remove(id);
        Ok(self.commit(staged, rendered))
    }

    /// Adds or replaces an endpoint, and re-renders exactly the tenants whose routed
    /// conditions use it. Returns the tenants whose configuration changed.
    ///
    /// Fails, changing nothing, when the endpoint is invalid ([`Error::InvalidSpec`]), or
    /// when a routed condition uses it and it cannot be written
    /// ([`Error::EndpointNotExpressible`], [`Error::NameCollision`]).
    pub fn upsert_endpoint(&mut self, endpoint: AlertEndpoint) -> Result<Vec<TenantChange>> {
        endpoint.validate()?;
        let entry = EndpointEntry::new(&self.layout, &self.options, endpoint);
        let users: Vec<TenantKey> = self.tenants_using(&entry.endpoint.id).cloned().collect();
        if let Err(e) = &entry.receiver
            && !users.is_empty()
        {
            return Err(e.clone());
        }
        let unchanged = self
            .endpoints
            .get(&entry.endpoint.id)
            .is_some_and(|old| old.receiver == entry.receiver);
        if unchanged || users.is_empty() {
            self.endpoints.insert(entry.endpoint.id.clone(), entry);
            return Ok(Vec::new());
        }
        let mut staged: BTreeMap<TenantKey, TenantState> = BTreeMap::new();
        for key in &users {
            self.stage(&mut staged, key);
        }
        let view = self.view(None, Some(&entry));
        let rendered = render_staged(&view, &staged)?;
        self.endpoints.insert(entry.endpoint.id.clone(), entry);
        Ok(self.commit(staged, rendered))
    }

    /// Removes an endpoint no condition attaches. Removing an unknown endpoint changes
    /// nothing; removing one still attached fails with [`Error::EndpointInUse`] naming the
    /// conditions (detach it from them first). No configuration changes either way.
    pub fn remove_endpoint(&mut self, id: &EndpointId) -> Result<Vec<TenantChange>> {
        // A scan rather than an index: removing endpoints is rare, and a scan of 50,000
        // conditions takes about a millisecond.
        let names: Vec<&str> = self
            .conditions
            .values()
            .filter(|e| e.condition.endpoint_ids().any(|e| e == id))
            .map(|e| e.condition.id.as_str())
            .collect();
        if !names.is_empty() {
            return Err(Error::EndpointInUse {
                path: format!("endpoints[{id}]"),
                message: format!(
                    "endpoint {:?} is attached by condition{} {}; detach it first",
                    id.as_str(),
                    if names.len() == 1 { "" } else { "s" },
                    names.join(", ")
                ),
            });
        }
        self.endpoints.remove(id);
        Ok(Vec::new())
    }

    fn view<'a>(
        &'a self,
        staged_condition: Option<(&'a ConditionId, Option<&'a ConditionEntry>)>,
        staged_endpoint: Option<&'a EndpointEntry>,
    ) -> View<'a> {
        View {
            layout: &self.layout,
            options: &self.options,
            conditions: &self.conditions,
            endpoints: &self.endpoints,
            staged_condition,
            staged_endpoint,
        }
    }

    /// Checks that every endpoint a routed condition attaches can be written.
    fn check_endpoints(&self, condition: &AlertCondition) -> Result<()> {
        for id in condition.endpoint_ids() {
            match self.endpoints.get(id).map(|e| &e.receiver) {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.clone()),
                None => return Err(missing_endpoint(id)),
            }
        }
        Ok(())
    }

    /// Checks that every route of a routed condition waits at least as long as the
    /// cluster's last peer, when there is a cluster.
    fn check_timing(&self, condition: &AlertCondition) -> Result<()> {
        match &self.options.cluster {
            Some(cluster) => {
                check_cluster_timing(condition, self.layout.root_group_wait(), cluster)
            }
            None => Ok(()),
        }
    }

    /// The staged copy of a tenant's state, made on first use.
    fn stage<'s>(
        &self,
        staged: &'s mut BTreeMap<TenantKey, TenantState>,
        key: &TenantKey,
    ) -> &'s mut TenantState {
        staged.entry(key.clone()).or_insert_with(|| {
            self.tenants
                .get(key)
                .cloned()
                .unwrap_or_else(TenantState::new)
        })
    }

    /// Moves the users index from a tenant's old endpoint counts to its new ones.
    fn reindex_users(&mut self, key: &TenantKey, new: Option<&BTreeMap<EndpointId, usize>>) {
        if let Some(old) = self.tenants.get(key) {
            for id in old.endpoints.keys() {
                if let Some(tenants) = self.users.get_mut(id) {
                    tenants.remove(key);
                    if tenants.is_empty() {
                        self.users.remove(id);
                    }
                }
            }
        }
        for (id, &n) in new.into_iter().flatten() {
            self.users
                .entry(id.clone())
                .or_default()
                .insert(key.clone(), n);
        }
    }

    /// Replaces the staged tenants' states, and reports the tenants whose sync id
    /// changed.
    fn commit(
        &mut self,
        staged: BTreeMap<TenantKey, TenantState>,
        rendered: Vec<Option<TenantConfig>>,
    ) -> Vec<TenantChange> {
        let mut changes = Vec::new();
        for ((key, mut state), config) in staged.into_iter().zip(rendered) {
            let before = self
                .tenants
                .get(&key)
                .and_then(|s| s.rendered.as_ref())
                .map(|c| c.sync_id.clone());
            let after = config.as_ref().map(|c| c.sync_id.clone());
            self.reindex_users(&key, config.as_ref().map(|_| &state.endpoints));
            match config {
                Some(config) => {
                    state.rendered = Some(config);
                    self.tenants.insert(key.clone(), state);
                }
                None => {
                    self.tenants.remove(&key);
                }
            }
            if before != after {
                changes.push(TenantChange {
                    tenant: key,
                    sync_id: after,
                });
            }
        }
        changes
    }
}

/// Renders staged tenant states; `None` for a tenant left without conditions.
fn render_staged(
    view: &View<'_>,
    staged: &BTreeMap<TenantKey, TenantState>,
) -> Result<Vec<Option<TenantConfig>>> {
    staged
        .iter()
        .map(|(key, state)| {
            if state.conditions.is_empty() {
                Ok(None)
            } else {
                view.render(key, state).map(Some)
            }
        })
        .collect()
}

/// An endpoint's receiver as an item of the `receivers:` list, checked as Alertmanager
/// would check it in the tenant's configuration.
fn render_endpoint(
    layout: &Layout,
    options: &BuildOptions,
    endpoint: &AlertEndpoint,
) -> Result<String> {
    let name = receiver_name(&endpoint.id);
    if let Some(i) = layout.base_receiver(name) {
        return Err(Error::NameCollision {
            path: endpoint_path(endpoint),
            message: format!(
                "receiver {name:?} from endpoint {:?} collides with base config \
                 receivers[{i}] {name:?}",
                endpoint.id.as_str()
            ),
        });
    }
    let receiver = endpoint_receiver(endpoint, options.target)?;
    let mut probe = Config::new(Route::new(name));
    probe.global = layout.global().cloned();
    probe.receivers.push(receiver);
    check(&probe).map_err(|e| Error::EndpointNotExpressible {
        path: endpoint_path(endpoint),
        message: format!(
            "Alertmanager {} refuses its receiver: {e}",
            options.target.as_str()
        ),
    })?;
    let yaml = probe.to_yaml();
    const SECTION: &str = "\nreceivers:\n";
    match yaml.find(SECTION) {
        Some(at) => Ok(yaml[at + SECTION.len()..].to_owned()),
        None => Err(Error::EndpointNotExpressible {
            path: endpoint_path(endpoint),
            message: "its receiver did not render".to_owned(),
        }),
    }
}

/// A condition's route as an item of its `routes:` list, or `None` if not routed.
fn render_condition(
    layout: &Layout,
    options: &BuildOptions,
    condition: &AlertCondition,
) -> Option<String> {
    let route = condition_route(condition, &options.condition_group_by)?;
    let mut out = String::with_capacity(64 + 96 * route.routes.len());
    write_route_item(&route, layout.route_indent(), &mut out);
    Some(out)
}
