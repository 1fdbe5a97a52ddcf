//! One configuration for every tenant, for a vanilla Alertmanager: [`Builder::combined`],
//! laid out as the [builder's documentation](super) describes. The condition routes are
//! the builder's cached per-tenant text moved one level deeper, and the receivers its
//! cached per-endpoint text: nothing is rendered again.

use std::collections::BTreeMap;
use std::fmt;

use super::route::{push_indented, write_tenant_route_head};
use super::{Builder, TenantKey, sync_id};
use crate::error::Result;

/// The configuration of a vanilla Alertmanager serving every tenant of a builder. See
/// [`Builder::combined`].
///
/// `Debug` shows the size of the YAML, not its text: it holds the endpoints' secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct CombinedConfig {
    /// The `alertmanager.yml` text.
    pub yaml: String,
    /// [`sync_id`] of `yaml`.
    pub sync_id: String,
    /// Every tenant the configuration includes, with the sync id of the tenant's own
    /// configuration ([`super::TenantConfig::sync_id`]) it was made from.
    pub tenants: BTreeMap<TenantKey, String>,
    /// How many routes the tree has below the root (every route written, the base
    /// configuration's included).
    pub routes: usize,
    /// How many receivers the configuration has (the base configuration's included).
    pub receivers: usize,
}

impl fmt::Debug for CombinedConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CombinedConfig")
            .field("yaml", &format_args!("<{} bytes>", self.yaml.len()))
            .field("sync_id", &self.sync_id)
            .field("tenants", &self.tenants.len())
            .field("routes", &self.routes)
            .field("receivers", &self.receivers)
            .finish()
    }
}

impl Builder {
    /// One configuration for every tenant, for a vanilla Alertmanager (which is not
    /// multi-tenant): each tenant's condition routes under a route matching its
    /// `tenant` label, the union of the receivers, the history route, the base
    /// configuration and, with [`super::BuildOptions::endpoint_tests`], a test route
    /// for every endpoint the builder knows (also those no condition uses; endpoints
    /// that cannot be written for the target and that no condition uses are left
    /// out). The layout is in the [module documentation](super).
    ///
    /// An alert carrying a tenant's label reaches the receivers the tenant's own
    /// configuration ([`Builder::tenant`]) sends it to, besides
    /// [`super::BLACKHOLE_RECEIVER`]. Deterministic, like the tenants' configurations; it
    /// changes when any tenant's configuration changes, and with endpoint tests also
    /// when an endpoint no condition uses is added, changed or removed (which changes no
    /// tenant's): compare [`CombinedConfig::sync_id`]s.
    ///
    /// It copies the cached text of every routed condition and used endpoint: for 1,000
    /// tenants with 3 conditions each (about 1 MB of YAML) it takes a few milliseconds.
    /// It is not checked with [`crate::validate::alertmanager::check`] on every call
    /// (that would take far longer than building it): every piece is checked or correct
    /// by construction, and the tests check whole configurations.
    ///
    /// Fails only if a routed condition uses an endpoint that cannot be written, which
    /// the builder's updates never allow.
    ///
    /// ```
    /// use alert_core::AlertingSpec;
    /// use alert_router::builder::{Builder, BuildOptions, TenantKey};
    /// use alert_router::config::Config;
    ///
    /// let spec: AlertingSpec = serde_json::from_str(r#"{
    ///     "endpoints": [{"id": "pager", "pagerduty": {"routing_key": "abc"}},
    ///                   {"id": "spare", "webhook": {"url": "http://127.0.0.1:9/spare"}}],
    ///     "conditions": [{"id": "cpu-high", "tenant": "cluster-a", "endpoints": ["pager"]},
    ///                    {"id": "disk-full", "tenant": "cluster-b", "endpoints": ["pager"]}]
    /// }"#)?;
    /// let options = BuildOptions { endpoint_tests: true, ..BuildOptions::default() };
    /// let builder = Builder::from_spec(spec, options)?;
    /// let combined = builder.combined()?;
    /// assert_eq!(combined.tenants.len(), 2);
    ///
    /// let config = Config::from_yaml(&combined.yaml)?;
    /// let receivers: Vec<&str> = config.receivers.iter().map(|r| r.name.as_str()).collect();
    /// assert_eq!(receivers, ["alert-router:blackhole", "pager", "spare"]);
    /// // Two test routes, then one route per tenant.
    /// assert_eq!(config.route.routes[1].matchers, [r#"alert_endpoint_test="spare""#]);
    /// assert_eq!(
    ///     config.route.routes[2].matchers,
    ///     [r#"tenant="cluster-a""#, r#"alert_condition_id=~"cpu-high""#]
    /// );
    /// assert_eq!((combined.routes, combined.receivers), (8, 3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn combined(&self) -> Result<CombinedConfig> {
        let layout = &self.combined_layout;
        // The condition routes were written at the column of a tenant's route slot; here
        // they go one level below the tenant route written at that column.
        let extra = (layout.route_indent() + 2).saturating_sub(self.layout.route_indent());
        let (fixed_routes, fixed_receivers) = layout.fixed_counts();
        let mut routes = fixed_routes;
        let mut text = String::new();
        let mut held: Vec<(&alert_core::ConditionId, &str)> = Vec::new();
        for (key, state) in &self.tenants {
            held.clear();
            for (id, n) in &state.routed {
                if let Some(route) = self.conditions.get(id).and_then(|e| e.route.as_deref()) {
                    held.push((id, route));
                    routes += n + 1;
                }
            }
            if held.is_empty() {
                continue;
            }
            routes += 1;
            write_tenant_route_head(
                key,
                held.iter().map(|(id, _)| *id),
                layout.route_indent(),
                &mut text,
            );
            for (_, route) in &held {
                push_indented(&mut text, route, extra);
            }
        }

        let mut receivers = Vec::new();
        let mut tests = Vec::new();
        for (id, entry) in &self.endpoints {
            let used = self.users.contains_key(id);
            if !used && !self.options.endpoint_tests {
                continue;
            }
            match &entry.receiver {
                Ok(receiver) => {
                    receivers.push(receiver.as_str());
                    if let Some(test) = &entry.test_route {
                        tests.push(test.as_str());
                    }
                }
                Err(e) if used => return Err(e.clone()),
                // Never routed to, and it cannot be written: left out.
                Err(_) => {}
            }
        }

        let slot: &[&str] = if text.is_empty() { &[] } else { &[&text] };
        let yaml = layout.render(&tests, slot, &receivers);
        Ok(CombinedConfig {
            sync_id: sync_id(&yaml),
            yaml,
            tenants: self
                .tenants
                .iter()
                .filter_map(|(key, state)| {
                    let config = state.rendered.as_ref()?;
                    Some((key.clone(), config.sync_id.clone()))
                })
                .collect(),
            routes: routes + tests.len(),
            receivers: fixed_receivers + receivers.len(),
        })
    }
}
