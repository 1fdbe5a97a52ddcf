//! alert-router's per-tenant builder: a full build of 1,000 tenants × 50 conditions × 5
//! endpoints (50,000 conditions, 5,000 endpoints, 250,000 attachments, with a base
//! configuration and a history webhook), and the incremental re-render after one
//! condition or one endpoint changes.
//!
//! Targets (issue 3, §7): the full build in at most 2 s, one changed condition in at
//! most 5 ms.

use std::hint::black_box;
use std::time::Duration as StdDuration;

use alert_core::{
    AlertCondition, AlertEndpoint, AlertingSpec, AttachedEndpoint, ConditionKind, EmailEndpoint,
    EndpointKind, OpsGenieEndpoint, PagerDutyEndpoint, Secret, SlackEndpoint, Throttle,
    WebhookEndpoint,
};
use alert_router::builder::{BuildOptions, Builder, DefaultWebhook};
use alert_router::config::Config;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const TENANTS: usize = 1_000;
const CONDITIONS_PER_TENANT: usize = 50;
const ENDPOINTS_PER_TENANT: usize = 5;

const BASE: &str = "\
global:
  resolve_timeout: 5m
route:
  receiver: ops-default
  group_by: [alertname, cluster]
  routes:
    - matchers: ['team=\"db\"']
      receiver: ops-db
inhibit_rules:
  - source_matchers: ['severity=\"critical\"']
    target_matchers: ['severity=\"warning\"']
    equal: [alertname]
receivers:
  - name: ops-default
  - name: ops-db
    webhook_configs: [{url: 'http://127.0.0.1:9/db'}]
";

fn endpoint(tenant: usize, i: usize) -> AlertEndpoint {
    let kind = match i % 5 {
        0 => EndpointKind::Slack(SlackEndpoint {
            api_url: Secret::new(format!("https://hooks.slack.com/services/T{tenant}/B{i}/X")),
            channel: Some(format!("#team-{tenant}")),
            ..Default::default()
        }),
        1 => EndpointKind::PagerDuty(PagerDutyEndpoint {
            routing_key: Some(Secret::new(format!("key-{tenant}-{i}"))),
            severity: Some("critical".into()),
            ..Default::default()
        }),
        2 => EndpointKind::Email(EmailEndpoint {
            to: format!("team-{tenant}@example.org"),
            from: "alerts@example.org".into(),
            smarthost: "smtp.example.org:587".into(),
            ..Default::default()
        }),
        3 => EndpointKind::Webhook(WebhookEndpoint {
            url: format!("http://hooks.example.org/{tenant}/{i}"),
            ..Default::default()
        }),
        _ => EndpointKind::OpsGenie(OpsGenieEndpoint {
            api_key: Secret::new(format!("og-{tenant}")),
            priority: Some("P2".into()),
            ..Default::default()
        }),
    };
    AlertEndpoint::new(format!("t{tenant}-ep{i}").parse().expect("id"), kind)
}

fn throttle(n: usize) -> Throttle {
    let d = |s: String| Some(s.parse().expect("duration"));
    Throttle {
        group_wait: d(format!("{}s", 10 + n % 50)),
        group_interval: d(format!("{}m", 1 + n % 10)),
        repeat_interval: d(format!("{}h", 1 + n % 12)),
    }
}

fn condition(tenant: usize, c: usize) -> AlertCondition {
    let mut condition = AlertCondition::new(
        format!("t{tenant}-cond{c}").parse().expect("id"),
        ConditionKind::External,
    );
    condition.tenant = Some(format!("tenant-{tenant}").parse().expect("tenant"));
    condition.endpoints = (0..ENDPOINTS_PER_TENANT)
        .map(|e| AttachedEndpoint {
            id: format!("t{tenant}-ep{e}").parse().expect("id"),
            throttle: throttle(c + e),
        })
        .collect();
    condition
}

fn spec() -> AlertingSpec {
    let mut spec = AlertingSpec::default();
    for t in 0..TENANTS {
        spec.endpoints
            .extend((0..ENDPOINTS_PER_TENANT).map(|i| endpoint(t, i)));
        spec.conditions
            .extend((0..CONDITIONS_PER_TENANT).map(|c| condition(t, c)));
    }
    spec
}

fn options() -> BuildOptions {
    BuildOptions {
        base: Some(Config::from_yaml(BASE).expect("base")),
        history: Some(DefaultWebhook::new("http://127.0.0.1:9094/webhook")),
        ..BuildOptions::default()
    }
}

fn builder(c: &mut Criterion) {
    let spec = spec();
    let options = options();
    let built = Builder::from_spec(spec.clone(), options.clone()).expect("builds");
    let bytes: usize = built.tenants().map(|t| t.yaml.len()).sum();
    let routes: usize = built.tenants().map(|t| t.routes).sum();
    eprintln!(
        "builder input: {TENANTS} tenants x {CONDITIONS_PER_TENANT} conditions x \
         {ENDPOINTS_PER_TENANT} endpoints; output: {bytes} bytes of YAML, {routes} routes"
    );

    let mut group = c.benchmark_group("builder");
    group.sample_size(10);
    group.measurement_time(StdDuration::from_secs(20));
    group.bench_function("full_build_1000x50x5", |b| {
        b.iter_batched(
            || spec.clone(),
            |spec| Builder::from_spec(spec, options.clone()).expect("builds"),
            BatchSize::LargeInput,
        )
    });
    group.finish();

    let mut group = c.benchmark_group("builder");
    let mut live = built;
    let mut changed = condition(TENANTS / 2, CONDITIONS_PER_TENANT / 2);
    let mut flip = false;
    group.bench_function("upsert_condition_1_of_50000", |b| {
        b.iter(|| {
            flip = !flip;
            changed.endpoints[0].throttle.group_wait =
                Some(if flip { "1m" } else { "2m" }.parse().expect("duration"));
            let changes = live.upsert_condition(changed.clone()).expect("applies");
            assert_eq!(changes.len(), 1);
            black_box(changes)
        })
    });
    let mut edited = endpoint(TENANTS / 3, 0);
    group.bench_function("upsert_endpoint_1_of_5000", |b| {
        b.iter(|| {
            flip = !flip;
            edited.send_resolved = Some(flip);
            let changes = live.upsert_endpoint(edited.clone()).expect("applies");
            assert_eq!(changes.len(), 1);
            black_box(changes)
        })
    });
    group.finish();
}

criterion_group!(benches, builder);
criterion_main!(benches);
