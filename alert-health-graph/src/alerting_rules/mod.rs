//! Alert rules as Sensors: the instrumentors of Prometheus's rules API
//! (`GET /api/v1/rules`) and Grafana's (`GET /api/prometheus/grafana/api/v1/rules`),
//! registered under `Kind("prometheus.io", …)` and `Kind("grafana.com", …)`.
//!
//! ```yaml
//! sensors:
//!   # One rule file, a system per group, a sensor per rule:
//!   - {name: shop-rules, kind: prometheus.io/Rules,
//!      params: {url: "http://prometheus:9090", file: shop.yml, groups: [shop, payments]}}
//!   # One group judged by one sensor (its worst rule decides):
//!   - {name: node, kind: prometheus.io/RuleGroup, params: {url: "http://prometheus:9090", group: node}}
//!   - {name: high-cpu, kind: grafana.com/Rule,
//!      params: {url: "https://grafana.example", bearer_token: glsa_…, folder: Platform, rule: High CPU}}
//!   - {name: checkout-board, kind: grafana.com/Dashboard,
//!      params: {url: "https://grafana.example", basic_auth: {username: viewer, password: …}, dashboard_uid: checkout}}
//! services:
//!   - {name: shop, system: shop-rules}
//! ```
//!
//! | kind | what | takes (besides `url`, `bearer_token` or `basic_auth`, `timeout`) |
//! |---|---|---|
//! | `prometheus.io/Rules` | a rule file's rules (every file's without `file`) | `file` (as Prometheus reports it, or its file name), `groups` |
//! | `prometheus.io/RuleGroup` | a group's rules | `group` (required), `file`, `rules` |
//! | `prometheus.io/Rule` | one rule (of that name in every group, without `group`) | `rule` (required), `group`, `file` |
//! | `grafana.com/Folder` | a folder's rules | `folder` (title or full path) or `folder_uid`, `groups` |
//! | `grafana.com/RuleGroup` | a group's rules | `group` (required), `folder`, `folder_uid`, `rules` |
//! | `grafana.com/Rule` | one rule | `rule` (title) or `rule_uid`, `group`, `folder`, `folder_uid` |
//! | `grafana.com/Dashboard` | the rules linked to a dashboard (`__dashboardUid__`), or one panel | `dashboard_uid` (required), `panel_id` |
//!
//! Each request makes one sensor judging the rules it selects, the worst deciding, a line
//! per rule. With `groups:` (a file or folder) or `rules:` (a group), it makes an all-of
//! system over one child per name, each instrumented by whatever the registry holds for
//! `RuleGroup` or `Rule`: a file or folder → groups → rules (a System each, and a Sensor
//! per rule); a graph file's `services:` names the top one as a Service (instrumentors
//! make sensors and systems; services are the graph's). A dashboard is another way to
//! group a folder's rules into something a service is made of.
//!
//! A rule: **firing = Failing, pending = Degraded (warning), a failed evaluation =
//! Unknown** with its `lastError`, inactive = Passing; a named rule, group, file or folder
//! the answer lacks is Unknown, with what it has ([`judge`] has the whole table and why).
//! A fetch that fails (refused, a status that is not 2xx, an answer that is not the rules
//! API's) makes every sensor of that endpoint Unknown with the reason: the URL without
//! credentials, the status code and what the server said (`HTTP 401: Invalid API key
//! (api-key.invalid)`, `HTTP 400: bad_data: …`).
//!
//! Boundaries, one concept per module:
//!
//! - pure: [`answer`] (the rules API's answer as the servers write it, both flavors;
//!   error bodies), [`judge`] (which rules a sensor reads, and what they say).
//! - feature `http`: [`reads`] (one fetch per endpoint per pass, shared; credentials),
//!   [`instrumentor`] (the sensors; children through the registry). It fetches and
//!   picks; it does not judge.

pub mod answer;
pub mod judge;

#[cfg(feature = "http")]
pub mod instrumentor;
#[cfg(feature = "http")]
pub mod reads;

#[cfg(feature = "http")]
pub use instrumentor::{RulesInstrumentor, RulesSensor};
#[cfg(feature = "http")]
pub use reads::{Auth, Endpoint, RuleReads};

/// The namespace of the Prometheus rule kinds.
pub const PROMETHEUS: &str = "prometheus.io";

/// The namespace of the Grafana rule kinds.
pub const GRAFANA: &str = "grafana.com";

/// A registry of the alert-rule instrumentors reading through `reads`.
#[cfg(feature = "http")]
pub fn registry(reads: RuleReads) -> crate::Registry {
    let mut r = crate::Registry::new();
    r.register_all(std::sync::Arc::new(RulesInstrumentor::new(reads)));
    r
}
