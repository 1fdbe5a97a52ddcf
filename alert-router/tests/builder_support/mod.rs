//! Shared by the builder's test files: generated specs (tenants, conditions, every
//! Alertmanager 0.25 endpoint kind, throttles, base configurations, history webhooks),
//! hand-written base configurations, and the receivers an alert of a condition must
//! reach.

#![allow(dead_code)]

use std::collections::BTreeSet;

use alert_core::strategies;
use alert_core::{
    AlertCondition, AlertEndpoint, AlertingSpec, AttachedEndpoint, ConditionId, ConditionKind,
    EndpointId, EndpointKind, Severity, TenantId, Throttle, WebhookEndpoint,
};
use alert_router::builder::{
    BLACKHOLE_RECEIVER, BuildOptions, DefaultWebhook, HISTORY_RECEIVER, TenantKey,
};
use alert_router::config::Config;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

/// Ids as people and YAML 1.1 get them wrong: words Go reads as booleans or null,
/// numbers in Go's forms, and ordinary ones.
pub(crate) const SPECIAL_IDS: [&str; 14] = [
    "yes",
    "no",
    "on",
    "off",
    "null",
    "y",
    "n",
    "0x1F",
    "1_000",
    "1e3",
    "0",
    "true",
    "ops-slack",
    "pager",
];

/// Tenants, special ones included (`None`: bound to no tenant).
pub(crate) const TENANTS: [Option<&str>; 6] = [
    None,
    Some("cluster-a"),
    Some("yes"),
    Some("0x1F"),
    Some("(prod)"),
    Some("null"),
];

/// A base with one receiver and nothing else.
pub(crate) const BASE_MINIMAL: &str = "\
route:
  receiver: base-default
receivers:
  - name: base-default
";

/// A base with most of what a production file has: `global`, templates, a route tree
/// with every kind of matcher and timers, inhibit rules, both kinds of time intervals,
/// and receivers that rely on `global`. Its routes match only `base_team` labels, which
/// no generated alert carries.
pub(crate) const BASE_RICH: &str = r##"
global:
  resolve_timeout: 2m
  smtp_smarthost: smtp.example.org:587
  smtp_from: alerts@example.org
  slack_api_url: https://hooks.slack.com/services/T0/B0/base
templates:
  - /etc/alertmanager/templates/*.tmpl
route:
  receiver: base-default
  group_by: [alertname, cluster]
  group_wait: 10s
  group_interval: 2m
  repeat_interval: 3h
  routes:
    - matchers: ['base_team="db"']
      receiver: base-db
      routes:
        - match_re: {service: "db-.*"}
          receiver: base-db-page
          mute_time_intervals: [offhours]
    - matchers: ['base_team=~"web|yes"']
      receiver: base-web
      continue: true
      active_time_intervals: ["12:30"]
    - match: {base_team: "~"}
      receiver: base-default
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname, cluster]
receivers:
  - name: base-default
    email_configs:
      - to: oncall@example.org
  - name: base-db
    slack_configs:
      - channel: "#db"
  - name: base-db-page
    pagerduty_configs:
      - routing_key: base-key
  - name: base-web
    webhook_configs:
      - url: http://127.0.0.1:9/base-web
time_intervals:
  - name: offhours
    time_intervals:
      - times: [{start_time: "18:00", end_time: "24:00"}]
        weekdays: [saturday, sunday]
  - name: "12:30"
    time_intervals:
      - months: [january]
mute_time_intervals:
  - name: legacy
    time_intervals:
      - days_of_month: ["1:5"]
"##;

/// A base whose root groups by every label and that has no routes.
pub(crate) const BASE_NO_ROUTES: &str = "\
route:
  receiver: base-root
  group_by: ['...']
receivers:
  - name: base-root
    webhook_configs:
      - url: http://127.0.0.1:9/base-root
";

/// The label the generated alerts never carry and the bases' routes match on.
pub(crate) const BASE_ONLY_LABEL: &str = "base_team";

pub(crate) fn base(text: &str) -> Config {
    Config::from_yaml(text).unwrap_or_else(|e| panic!("base config: {e}\n{text}"))
}

/// An endpoint kind Alertmanager 0.25 can express (no Teams, no webhook timeout).
pub(crate) fn expressible_kind() -> impl Strategy<Value = EndpointKind> {
    strategies::endpoint_kind()
        .prop_filter(
            "0.25 has the kind",
            EndpointKind::supported_by_alertmanager_0_25,
        )
        .prop_map(|kind| match kind {
            EndpointKind::Webhook(mut w) => {
                w.timeout = None;
                EndpointKind::Webhook(w)
            }
            other => other,
        })
}

pub(crate) fn throttle() -> impl Strategy<Value = Throttle> {
    strategies::throttle()
}

/// Options: one of the bases or none, a history webhook or none, a grouping, endpoint
/// test routes or not.
pub(crate) fn options() -> impl Strategy<Value = BuildOptions> {
    (
        prop::sample::select(vec![
            None,
            Some(BASE_MINIMAL),
            Some(BASE_RICH),
            Some(BASE_NO_ROUTES),
        ]),
        option::of((throttle(), prop::sample::select(vec!["...", "alertname"]))),
        prop::sample::select(vec![
            vec!["alert_condition_id".to_owned()],
            vec!["...".to_owned()],
            vec!["alert_condition_id".to_owned(), "severity".to_owned()],
        ]),
        any::<bool>(),
    )
        .prop_map(
            |(base_text, history, condition_group_by, endpoint_tests)| BuildOptions {
                base: base_text.map(base),
                history: history.map(|(t, group_by)| {
                    let mut h = DefaultWebhook::new("http://127.0.0.1:9/history");
                    h.group_by = vec![group_by.to_owned()];
                    if let Some(d) = t.group_wait {
                        h.group_wait = d;
                    }
                    if let Some(d) = t.group_interval {
                        h.group_interval = d;
                    }
                    if let Some(d) = t.repeat_interval {
                        h.repeat_interval = d;
                    }
                    h
                }),
                condition_group_by,
                endpoint_tests,
                ..BuildOptions::default()
            },
        )
}

/// A valid spec: 1 to 8 endpoints of every expressible kind (ids from
/// [`SPECIAL_IDS`] and generated ones), 0 to 12 conditions over [`TENANTS`], each
/// attaching a few endpoints in any order with throttles, some disabled.
pub(crate) fn spec() -> impl Strategy<Value = AlertingSpec> {
    let endpoint_ids = prop::collection::btree_set(
        prop_oneof![
            prop::sample::select(SPECIAL_IDS.to_vec()).prop_map(str::to_owned),
            "ep-[a-z0-9]{1,6}"
        ],
        1..8,
    );
    endpoint_ids
        .prop_flat_map(|ids| {
            let ids: Vec<String> = ids.into_iter().collect();
            let n = ids.len();
            let endpoints = vec((expressible_kind(), option::of(any::<bool>())), n);
            let condition = (
                prop_oneof![
                    prop::sample::select(SPECIAL_IDS.to_vec()).prop_map(str::to_owned),
                    "c-[a-z0-9]{1,6}"
                ],
                prop::sample::select(TENANTS.to_vec()),
                prop::sample::subsequence((0..n).collect::<Vec<_>>(), 0..=n.min(4)).prop_shuffle(),
                vec(throttle(), 4),
                throttle(),
                prop::sample::select(Severity::ALL.to_vec()),
                strategies::labels("l_"),
                strategies::labels("a_"),
                prop::bool::weighted(0.15),
            );
            (Just(ids), endpoints, vec(condition, 0..12))
        })
        .prop_map(|(ids, kinds, conditions)| {
            let endpoints: Vec<AlertEndpoint> = ids
                .iter()
                .zip(kinds)
                .map(|(id, (kind, send_resolved))| {
                    let mut e = AlertEndpoint::new(EndpointId::new(id.as_str()).expect("id"), kind);
                    e.send_resolved = send_resolved;
                    e
                })
                .collect();
            let mut seen = BTreeSet::new();
            let conditions = conditions
                .into_iter()
                .filter(|c| seen.insert(c.0.clone()))
                .map(
                    |(
                        id,
                        tenant,
                        attached,
                        throttles,
                        throttle,
                        severity,
                        labels,
                        annotations,
                        disabled,
                    )| {
                        let mut c = AlertCondition::new(
                            ConditionId::new(id).expect("id"),
                            ConditionKind::External,
                        );
                        c.tenant = tenant.map(|t| TenantId::new(t).expect("tenant"));
                        c.severity = severity;
                        c.labels = labels;
                        c.annotations = annotations;
                        c.throttle = throttle;
                        c.disabled = disabled;
                        c.endpoints = attached
                            .into_iter()
                            .zip(throttles)
                            .map(|(i, throttle)| AttachedEndpoint {
                                id: endpoints[i].id.clone(),
                                throttle,
                            })
                            .collect();
                        c
                    },
                )
                .collect();
            AlertingSpec {
                endpoints,
                conditions,
                slos: Vec::new(),
            }
        })
}

/// A valid spec with its options.
pub(crate) fn case() -> impl Strategy<Value = (AlertingSpec, BuildOptions)> {
    (spec(), options())
}

/// The receivers Alertmanager must list for an alert of `condition` (carrying its
/// alert labels and nothing the base's routes match), in order.
pub(crate) fn expected_receivers(
    options: &BuildOptions,
    condition: &AlertCondition,
) -> Vec<String> {
    let mut out = Vec::new();
    if options.history.is_some() {
        out.push(HISTORY_RECEIVER.to_owned());
    }
    let ours: Vec<String> = if condition.is_enabled() {
        condition
            .endpoint_ids()
            .map(|id| id.as_str().to_owned())
            .collect()
    } else {
        Vec::new()
    };
    let root = match &options.base {
        Some(base) => base.route.receiver.clone().unwrap_or_default(),
        None => BLACKHOLE_RECEIVER.to_owned(),
    };
    if ours.is_empty() {
        // With a base and a history route, the wrapper falls back to the base's root;
        // otherwise the root itself is used only when nothing matched.
        if (options.base.is_some() && options.history.is_some()) || out.is_empty() {
            out.push(root);
        }
    } else {
        out.extend(ours);
    }
    out
}

/// An endpoint of `kind`.
pub(crate) fn endpoint(id: &str, kind: EndpointKind) -> AlertEndpoint {
    AlertEndpoint::new(EndpointId::new(id).expect("id"), kind)
}

/// A webhook endpoint to a closed local port.
pub(crate) fn hook(id: &str) -> AlertEndpoint {
    endpoint(
        id,
        EndpointKind::Webhook(WebhookEndpoint {
            url: format!("http://127.0.0.1:9/{id}"),
            ..Default::default()
        }),
    )
}

/// An external condition of `tenant` attaching `endpoints`.
pub(crate) fn condition(id: &str, tenant: Option<&str>, endpoints: &[&str]) -> AlertCondition {
    let mut c = AlertCondition::new(ConditionId::new(id).expect("id"), ConditionKind::External);
    c.tenant = tenant.map(|t| t.parse().expect("tenant"));
    c.endpoints = endpoints
        .iter()
        .map(|e| alert_core::AttachedEndpoint::new(EndpointId::new(*e).expect("id")))
        .collect();
    c
}

/// The builder's key of `tenant`.
pub(crate) fn key(tenant: Option<&str>) -> TenantKey {
    TenantKey::of(tenant.map(|t| t.parse().expect("tenant")).as_ref())
}
