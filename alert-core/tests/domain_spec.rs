//! The spec-file shapes of the domain model, read with `yaml_serde` and `serde_json`:
//! the router's example spec, round trips, and that every error names its field.

use alert_core::{
    AlertCondition, AlertEndpoint, AlertingSpec, CONDITION_ID_LABEL, CompareOp, ConditionKind,
    Duration, EndpointKind, Error, KubeObjectKind, Severity, Sli, Slo, TenantId, Throttle,
};

/// The spec shape from the router's CLI, extended with every condition kind.
const SPEC: &str = r##"
endpoints:
  - id: ops-slack
    slack: {api_url: "https://hooks.slack.com/services/T/B/X", channel: "#ops"}
  - id: pager
    pagerduty: {routing_key: "abc"}
  - id: mail
    name: On-call mailing list
    description: Business hours only
    send_resolved: true
    email:
      to: oncall@example.org
      from: alerts@example.org
      smarthost: smtp.example.org:587
      auth_username: alerts
      auth_password: pw
      headers: {Subject: "[{{ .Status }}] {{ .CommonLabels.alertname }}"}
  - id: hook
    webhook:
      url: https://hooks.example.org/alerts
      max_alerts: 10
      timeout: 10s
      http_config:
        bearer_token: t0k
        proxy_url: http://proxy:3128
        follow_redirects: false
        tls_config: {insecure_skip_verify: true, ca: "-----BEGIN CERTIFICATE-----"}
  - id: og
    opsgenie:
      api_key: k
      responders: [{name: sre, type: team}]
      priority: P2
  - id: tg
    telegram: {bot_token: "123:abc", chat_id: -1001234567890, parse_mode: HTML}
  - id: dc
    discord: {webhook_url: "https://discord.com/api/webhooks/1/x"}
  - id: wx
    webex: {room_id: r1, bot_token: bt}
  - id: teams
    msteams: {webhook_url: "https://example.webhook.office.com/webhookb2/x"}
  - id: po
    pushover: {user_key: u, token: t, priority: "2", retry: 1m, expire: 1h}
  - id: vo
    victorops: {api_key: k, routing_key: ops, custom_fields: {team: infra}}
conditions:
  - id: cpu-high
    tenant: cluster-a
    name: CPU high
    severity: critical
    labels: {team: infra}
    cpu: {threshold_percent: 90, for: 5m}
    endpoints:
      - {id: ops-slack, group_wait: 30s, group_interval: 5m, repeat_interval: 4h}
  - id: routed-only
    tenant: cluster-a
    severity: warning
    endpoints: [pager]
  - id: error-rate
    name: Error rate
    description: More than 5% of requests fail
    annotations: {runbook_url: "https://runbooks.example.org/error-rate"}
    prometheus: {query: 'sum(rate(http_errors_total[5m])) / sum(rate(http_requests_total[5m])) > 0.05', for: 10m}
    throttle: {group_wait: 1m, repeat_interval: 12h}
    endpoints: [pager, {id: mail, repeat_interval: 1h}]
    message: {title: "Errors above 5%", body: "{{ $value }} of requests fail"}
  - id: gone
    tenant: cluster-b
    agent_disconnect: {}
    endpoints: [hook]
  - id: backend
    severity: error
    component_health: {components: [distributor, ingester], for: 2m}
  - id: mem
    tenant: cluster-b
    memory: {operator: ">=", threshold_percent: 95.5, nodes: [node-1, node-2]}
  - id: disk
    tenant: cluster-b
    filesystem: {threshold_percent: 80, mountpoints: [/var], devices: [/dev/sda1], for: 15m}
  - id: checkout
    tenant: cluster-a
    kube_state: {object_kind: pod, namespace: shop, name: checkout-0, expected_state: Running, for: 10m}
    disabled: true
"##;

/// SLOs in both SLI forms, beside the endpoints and a condition they share a spec with.
const SLO_SPEC: &str = r##"
endpoints:
  - id: ops-slack
    slack: {api_url: "https://hooks.slack.com/services/T/B/X", channel: "#ops"}
  - id: pager
    pagerduty: {routing_key: "abc"}
conditions:
  - id: cpu-high
    tenant: cluster-a
    cpu: {threshold_percent: 90, for: 5m}
    endpoints: [ops-slack]
slos:
  - id: api-availability
    tenant: cluster-a
    name: API availability
    description: Requests answered without a server error
    objective: 99.9
    window: 30d
    severity: critical
    labels: {team: api}
    annotations: {runbook_url: "https://runbooks.example.org/api"}
    sli:
      good: sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total[{{.window}}]))
    endpoints: [ops-slack, {id: pager, group_wait: 30s}]
    disabled: false
  - id: checkout-latency
    tenant: cluster-b
    objective: 99
    window: 28d
    sli:
      error_ratio: |
        sum(rate(checkout_duration_seconds_count[{{.window}}]))
          - sum(rate(checkout_duration_seconds_bucket{le="0.5"}[{{.window}}]))
        /
        sum(rate(checkout_duration_seconds_count[{{.window}}]))
"##;

fn d(s: &str) -> Duration {
    s.parse().expect("a duration")
}

fn yaml_spec(text: &str) -> Result<AlertingSpec, String> {
    yaml_serde::from_str(text).map_err(|e| e.to_string())
}

#[test]
fn reads_the_router_spec_shape() {
    let spec = yaml_spec(SPEC).expect("the example spec is valid");
    assert_eq!(spec.endpoints.len(), 11);
    assert_eq!(spec.conditions.len(), 8);
    let mut names: Vec<&str> = spec.endpoints.iter().map(|e| e.kind.name()).collect();
    let mut all = EndpointKind::NAMES.to_vec();
    names.sort_unstable();
    all.sort_unstable();
    assert_eq!(names, all);

    let cpu = spec.condition("cpu-high").expect("cpu-high");
    assert_eq!(cpu.tenant.as_ref().map(TenantId::as_str), Some("cluster-a"));
    assert_eq!(cpu.name, "CPU high");
    assert_eq!(cpu.severity, Severity::Critical);
    assert_eq!(cpu.labels.get("team"), Some("infra"));
    let ConditionKind::Cpu(kind) = &cpu.kind else {
        panic!("cpu kind: {:?}", cpu.kind)
    };
    assert_eq!(kind.operator, CompareOp::Gt);
    assert_eq!(kind.threshold_percent, 90.0);
    assert_eq!(kind.for_duration, d("5m"));
    assert_eq!(
        cpu.endpoints[0].throttle,
        Throttle {
            group_wait: Some(d("30s")),
            group_interval: Some(d("5m")),
            repeat_interval: Some(d("4h")),
        }
    );

    // No kind key: routing only.
    let routed = spec.condition("routed-only").expect("routed-only");
    assert_eq!(routed.kind, ConditionKind::External);
    assert_eq!(
        routed.endpoint_ids().next().map(|i| i.as_str()),
        Some("pager")
    );

    // Condition-level throttle under per-endpoint values.
    let errors = spec.condition("error-rate").expect("error-rate");
    let mail = &errors.endpoints[1];
    assert_eq!(
        errors.effective_throttle(mail),
        Throttle {
            group_wait: Some(d("1m")),
            group_interval: None,
            repeat_interval: Some(d("1h")),
        }
    );
    assert_eq!(errors.title(), "Errors above 5%");
    assert_eq!(
        errors.alert_annotations().get("summary"),
        Some("Errors above 5%")
    );

    let gone = spec.condition("gone").expect("gone");
    assert_eq!(gone.kind.for_duration(), Some(d("10m")));
    let kube = spec.condition("checkout").expect("checkout");
    assert!(!kube.is_enabled());
    let ConditionKind::KubeState(k) = &kube.kind else {
        panic!("kube kind")
    };
    assert_eq!(k.object_kind, KubeObjectKind::Pod);

    let tenants: Vec<&str> = spec.tenants().into_iter().map(TenantId::as_str).collect();
    assert_eq!(tenants, ["cluster-a", "cluster-b"]);
    let unbound: Vec<&str> = spec.conditions_for(None).map(|c| c.id.as_str()).collect();
    assert_eq!(unbound, ["error-rate", "backend"]);
    let pager = "pager".parse().expect("id");
    let using: Vec<&str> = spec
        .conditions_using(&pager)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(using, ["routed-only", "error-rate"]);
    assert_eq!(cpu.alert_labels().get(CONDITION_ID_LABEL), Some("cpu-high"));
}

#[test]
fn round_trips_through_yaml_and_json() {
    let spec = yaml_spec(SPEC).expect("valid");
    let yaml = yaml_serde::to_string(&spec).expect("to yaml");
    assert_eq!(yaml_spec(&yaml).expect("re-read yaml"), spec, "{yaml}");
    let json = serde_json::to_string_pretty(&spec).expect("to json");
    let back: AlertingSpec = serde_json::from_str(&json).expect("re-read json");
    assert_eq!(back, spec);
    // Secrets are written (configs must work) ...
    assert!(json.contains("\"routing_key\": \"abc\""), "{json}");
    // ... unless redacted first.
    let redacted: Vec<AlertEndpoint> = spec.endpoints.iter().map(|e| e.redacted()).collect();
    let shown = serde_json::to_string(&redacted).expect("to json");
    for secret in [
        "abc",
        "hooks.slack.com",
        "\"pw\"",
        "t0k",
        "123:abc",
        "bt\"",
        "\"u\"",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn reads_slos() {
    let spec = yaml_spec(SLO_SPEC).expect("the SLO spec is valid");
    assert_eq!(spec.slos.len(), 2);
    let api = spec.slo("api-availability").expect("api-availability");
    assert_eq!(api.tenant.as_str(), "cluster-a");
    assert_eq!(api.display_name(), "API availability");
    assert_eq!(api.objective, 99.9);
    assert_eq!(api.window, d("30d"));
    assert_eq!(api.severity, Severity::Critical);
    assert!(api.is_enabled());
    assert_eq!(
        api.annotations.get("runbook_url"),
        Some("https://runbooks.example.org/api")
    );
    assert_eq!(
        api.sli,
        Sli::Events {
            good: r#"sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))"#.into(),
            total: "sum(rate(http_requests_total[{{.window}}]))".into(),
        }
    );
    assert_eq!(api.endpoints[1].throttle.group_wait, Some(d("30s")));
    assert_eq!(
        api.alert_labels().to_string(),
        r#"{alert_condition_id="api-availability", severity="critical", team="api"}"#
    );

    let checkout = spec.slo("checkout-latency").expect("checkout-latency");
    assert_eq!(checkout.window, d("4w"));
    assert_eq!(checkout.severity, Severity::Warning);
    assert!((checkout.error_budget() - 0.01).abs() < 1e-12);
    let Sli::ErrorRatio(query) = &checkout.sli else {
        panic!("error_ratio form: {:?}", checkout.sli)
    };
    assert!(query.ends_with("[{{.window}}]))\n"), "{query:?}");
    assert_eq!(
        checkout.sli.error_ratio_query("1h"),
        "(sum(rate(checkout_duration_seconds_count[1h]))\n  \
         - sum(rate(checkout_duration_seconds_bucket{le=\"0.5\"}[1h]))\n/\n\
         sum(rate(checkout_duration_seconds_count[1h])))"
    );

    let tenants: Vec<&str> = spec.tenants().into_iter().map(TenantId::as_str).collect();
    assert_eq!(tenants, ["cluster-a", "cluster-b"]);
    let slack = "ops-slack".parse().expect("id");
    let using: Vec<&str> = spec.slos_using(&slack).map(|s| s.id.as_str()).collect();
    assert_eq!(using, ["api-availability"]);
    assert_eq!(spec.conditions_using(&slack).count(), 1);

    let yaml = yaml_serde::to_string(&spec).expect("to yaml");
    assert_eq!(yaml_spec(&yaml).expect("re-read yaml"), spec, "{yaml}");
    let json = serde_json::to_string(&spec).expect("to json");
    assert_eq!(
        serde_json::from_str::<AlertingSpec>(&json).expect("re-read json"),
        spec
    );
    // Defaults are left out: the 30d window, `disabled: false`.
    let api = serde_json::to_value(api).expect("json");
    assert!(
        api.get("window").is_none() && api.get("disabled").is_none(),
        "{api}"
    );
    assert_eq!(
        serde_json::to_value(checkout).expect("json")["window"],
        serde_json::json!("4w")
    );
    let read_alone: Slo = serde_json::from_value(api).expect("an SLO reads alone");
    assert_eq!(&read_alone, spec.slo("api-availability").expect("api"));
}

#[test]
fn specs_without_slos_write_no_slos_key() {
    let spec = yaml_spec(SPEC).expect("valid");
    assert!(spec.slos.is_empty());
    assert!(!yaml_serde::to_string(&spec).expect("yaml").contains("slos"));
    assert!(!serde_json::to_string(&spec).expect("json").contains("slos"));
}

#[test]
fn attachments_serialise_compactly() {
    let spec = yaml_spec(SPEC).expect("valid");
    let routed = serde_json::to_value(spec.condition("routed-only").expect("c")).expect("json");
    assert_eq!(routed["endpoints"], serde_json::json!(["pager"]));
    let cpu = serde_json::to_value(spec.condition("cpu-high").expect("c")).expect("json");
    assert_eq!(
        cpu["endpoints"],
        serde_json::json!([{"id": "ops-slack", "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}])
    );
    assert!(routed.get("kind").is_none() && routed.get("external").is_none());
}

/// Reads one condition or endpoint list entry as YAML inside a spec and returns the
/// error text.
fn spec_error(yaml: &str) -> String {
    match yaml_spec(yaml) {
        Ok(spec) => panic!("accepted: {spec:?}\n{yaml}"),
        Err(e) => e,
    }
}

/// Every validation fault, read from YAML, names its full field path. Each case is a
/// spec fragment and the path its error must start with (after yaml_serde's own
/// location prefix).
#[test]
fn every_validation_error_names_its_field_path() {
    let slack = r#"slack: {api_url: "https://hooks.slack.com/x"}"#;
    let slo = "tenant: t, objective: 99.5, sli: {error_ratio: 'e[{{.window}}]'}";
    let cases: Vec<(String, &str)> = vec![
        // Endpoints.
        (
            r#"endpoints: [{id: "ops slack", slack: {api_url: "https://x"}}]"#.into(),
            "endpoints[ops slack].id:",
        ),
        (
            "endpoints: [{slack: {api_url: \"https://x\"}}]".into(),
            "endpoints[].id: missing required value",
        ),
        ("endpoints: [{id: e}]".into(), "endpoints[e]: exactly one endpoint kind"),
        (
            format!("endpoints: [{{id: e, {slack}, pagerduty: {{routing_key: k}}}}]"),
            "endpoints[e]: exactly one endpoint kind",
        ),
        (
            r#"endpoints: [{id: e, slack: {api_url: "ftp://x"}}]"#.into(),
            r#"endpoints[e].slack.api_url: unsupported scheme "ftp" for URL"#,
        ),
        (
            r#"endpoints: [{id: e, slack: {api_url: "https://x", icon_url: "x"}}]"#.into(),
            "endpoints[e].slack.icon_url:",
        ),
        (
            "endpoints: [{id: e, email: {to: a@b, from: c@d, smarthost: localhost}}]".into(),
            "endpoints[e].email.smarthost: address localhost: missing port in address",
        ),
        (
            "endpoints: [{id: e, email: {to: '', from: c@d, smarthost: 'h:25'}}]".into(),
            "endpoints[e].email.to: missing required value",
        ),
        (
            "endpoints: [{id: e, pagerduty: {}}]".into(),
            "endpoints[e].pagerduty.routing_key: missing service or routing key in PagerDuty config",
        ),
        (
            "endpoints: [{id: e, pagerduty: {routing_key: k, url: 'events'}}]".into(),
            "endpoints[e].pagerduty.url:",
        ),
        (
            "endpoints: [{id: e, webhook: {url: ''}}]".into(),
            "endpoints[e].webhook.url: missing URL in webhook config",
        ),
        (
            "endpoints: [{id: e, webhook: {url: 'http:///x'}}]".into(),
            "endpoints[e].webhook.url: missing host for URL",
        ),
        (
            "endpoints: [{id: e, webhook: {url: 'http://x', http_config: {basic_auth: {username: u}, bearer_token: t}}}]".into(),
            "endpoints[e].webhook.http_config.basic_auth: at most one of basic_auth",
        ),
        (
            "endpoints: [{id: e, webhook: {url: 'http://x', http_config: {tls_config: {cert_file: /c}}}}]".into(),
            "endpoints[e].webhook.http_config.tls_config.key_file:",
        ),
        (
            "endpoints: [{id: e, opsgenie: {api_key: k, responders: [{type: team}]}}]".into(),
            "endpoints[e].opsgenie.responders[0]:",
        ),
        (
            "endpoints: [{id: e, telegram: {bot_token: t, chat_id: 0}}]".into(),
            "endpoints[e].telegram.chat_id: missing chat_id on telegram_config",
        ),
        (
            "endpoints: [{id: e, discord: {webhook_url: 'discord.com'}}]".into(),
            "endpoints[e].discord.webhook_url:",
        ),
        (
            "endpoints: [{id: e, webex: {room_id: r, bot_token: ''}}]".into(),
            "endpoints[e].webex.bot_token:",
        ),
        (
            "endpoints: [{id: e, msteams: {webhook_url: ''}}]".into(),
            "endpoints[e].msteams.webhook_url: missing required value",
        ),
        (
            "endpoints: [{id: e, pushover: {user_key: u, token: t, retry: 5s}}]".into(),
            "endpoints[e].pushover.retry: at least 30s",
        ),
        (
            "endpoints: [{id: e, victorops: {api_key: k, routing_key: r, custom_fields: {entity_id: x}}}]".into(),
            "endpoints[e].victorops.custom_fields[entity_id]:",
        ),
        (
            format!("endpoints: [{{id: e, {slack}}}, {{id: e, {slack}}}]"),
            "endpoints[e].id: ids unique among endpoints",
        ),
        // Conditions.
        ("conditions: [{id: '-x'}]".into(), "conditions[-x].id:"),
        (
            "conditions: [{id: c, tenant: 'a/b'}]".into(),
            "conditions[c].tenant: tenant ID contains unsupported character '/'",
        ),
        (
            "conditions: [{id: c, tenant: '..'}]".into(),
            "conditions[c].tenant: tenant ID is '.' or '..'",
        ),
        (
            "conditions: [{id: c, cpu: {threshold_percent: 90}}]".into(),
            "conditions[c].tenant: a tenant: cpu conditions watch one cluster's data",
        ),
        (
            "conditions: [{id: c, tenant: t, cpu: {threshold_percent: 190}}]".into(),
            "conditions[c].cpu.threshold_percent: a percentage from 0 to 100",
        ),
        (
            "conditions: [{id: c, tenant: t, memory: {threshold_percent: 90, nodes: [a, a]}}]".into(),
            "conditions[c].memory.nodes[1]: each name once",
        ),
        (
            "conditions: [{id: c, tenant: t, filesystem: {threshold_percent: 90, mountpoints: [var]}}]".into(),
            "conditions[c].filesystem.mountpoints[0]:",
        ),
        (
            "conditions: [{id: c, tenant: t, kube_state: {expected_state: Bound}}]".into(),
            "conditions[c].kube_state.expected_state: a pod phase",
        ),
        (
            "conditions: [{id: c, tenant: t, kube_state: {object_kind: namespace, namespace: x, expected_state: Active}}]".into(),
            "conditions[c].kube_state.namespace:",
        ),
        (
            "conditions: [{id: c, prometheus: {query: '  '}}]".into(),
            "conditions[c].prometheus.query: missing required value",
        ),
        (
            "conditions: [{id: c, tenant: t, agent_disconnect: {timeout: 0s}}]".into(),
            "conditions[c].agent_disconnect.timeout:",
        ),
        (
            "conditions: [{id: c, component_health: {components: []}}]".into(),
            "conditions[c].component_health.components: missing required value",
        ),
        (
            "conditions: [{id: c, prometheus: {query: up}, cpu: {threshold_percent: 1}}]".into(),
            "conditions[c]: at most one condition kind",
        ),
        (
            "conditions: [{id: c, labels: {alert_condition_id: x}}]".into(),
            "conditions[c].labels[alert_condition_id]:",
        ),
        (
            "conditions: [{id: c, labels: {severity: page}}]".into(),
            "conditions[c].labels[severity]:",
        ),
        (
            "conditions: [{id: c, annotations: {summary: x}, message: {title: y}}]".into(),
            "conditions[c].annotations[summary]:",
        ),
        (
            "conditions: [{id: c, message: {body: ''}}]".into(),
            "conditions[c].message.body: missing required value",
        ),
        (
            "conditions: [{id: c, throttle: {group_interval: 0s}}]".into(),
            "conditions[c].throttle.group_interval: group_interval cannot be zero",
        ),
        (
            format!("endpoints: [{{id: p, {slack}}}]\nconditions: [{{id: c, endpoints: [{{id: p, repeat_interval: 0s}}]}}]"),
            "conditions[c].endpoints[0].repeat_interval: repeat_interval cannot be zero",
        ),
        (
            format!("endpoints: [{{id: p, {slack}}}]\nconditions: [{{id: c, endpoints: [p, p]}}]"),
            "conditions[c].endpoints[1].id: each endpoint attached once",
        ),
        (
            "conditions: [{id: c, endpoints: ['a b']}]".into(),
            "conditions[c].endpoints[0].id:",
        ),
        (
            "conditions: [{id: c, endpoints: [nope]}]".into(),
            "conditions[c].endpoints[0].id: the id of an endpoint in endpoints",
        ),
        (
            "conditions: [{id: c}, {id: c}]".into(),
            "conditions[c].id: ids unique among conditions",
        ),
        // SLOs.
        (format!("slos: [{{id: 'a b', {slo}}}]"), "slos[a b].id:"),
        ("slos: [{objective: 99, sli: {error_ratio: 'e[{{.window}}]'}}]".into(), "slos[].id: missing required value"),
        (
            "slos: [{id: s, objective: 99, sli: {error_ratio: 'e[{{.window}}]'}}]".into(),
            "slos[s].tenant: missing required value",
        ),
        (
            "slos: [{id: s, tenant: 'a|b', objective: 99, sli: {error_ratio: 'e[{{.window}}]'}}]".into(),
            "slos[s].tenant: tenant ID contains unsupported character '|'",
        ),
        (
            "slos: [{id: s, tenant: t, sli: {error_ratio: 'e[{{.window}}]'}}]".into(),
            "slos[s].objective: missing required value",
        ),
        (
            "slos: [{id: s, tenant: t, objective: 100, sli: {error_ratio: 'e[{{.window}}]'}}]".into(),
            "slos[s].objective: a percentage strictly between 0 and 100",
        ),
        (
            "slos: [{id: s, tenant: t, objective: .nan, sli: {error_ratio: 'e[{{.window}}]'}}]".into(),
            "slos[s].objective: a percentage strictly between 0 and 100",
        ),
        (
            format!("slos: [{{id: s, {slo}, window: 1d}}]"),
            "slos[s].window: a window from 1w to 90d",
        ),
        (
            format!("slos: [{{id: s, {slo}, window: 91d}}]"),
            "slos[s].window: a window from 1w to 90d",
        ),
        (
            format!("slos: [{{id: s, {slo}, labels: {{alert_condition_id: x}}}}]"),
            "slos[s].labels[alert_condition_id]:",
        ),
        (
            format!("slos: [{{id: s, {slo}, labels: {{severity: page}}}}]"),
            "slos[s].labels[severity]:",
        ),
        (
            format!("slos: [{{id: s, {slo}, labels: {{slo_window: 5m}}}}]"),
            "slos[s].labels[slo_window]: no label starting with slo_",
        ),
        ("slos: [{id: s, tenant: t, objective: 99}]".into(), "slos[s].sli: missing required value"),
        (
            "slos: [{id: s, tenant: t, objective: 99, sli: {}}]".into(),
            "slos[s].sli: exactly one form: good and total, or error_ratio",
        ),
        (
            "slos: [{id: s, tenant: t, objective: 99, sli: {good: 'g[{{.window}}]', total: 't[{{.window}}]', error_ratio: 'e[{{.window}}]'}}]".into(),
            "slos[s].sli: exactly one form: good and total, or error_ratio",
        ),
        (
            "slos: [{id: s, tenant: t, objective: 99, sli: {good: 'g[{{.window}}]'}}]".into(),
            "slos[s].sli.total: missing required value",
        ),
        (
            "slos: [{id: s, tenant: t, objective: 99, sli: {good: 'g[{{.window}}]', total: ' '}}]".into(),
            "slos[s].sli.total: missing required value",
        ),
        (
            "slos: [{id: s, tenant: t, objective: 99, sli: {error_ratio: 'rate(e[5m])'}}]".into(),
            "slos[s].sli.error_ratio: a PromQL template holding {{.window}}",
        ),
        (format!("slos: [{{id: s, {slo}, endpoints: ['a b']}}]"), "slos[s].endpoints[0].id:"),
        (
            format!("endpoints: [{{id: p, {slack}}}]\nslos: [{{id: s, {slo}, endpoints: [p, p]}}]"),
            "slos[s].endpoints[1].id: each endpoint attached once",
        ),
        (
            format!("endpoints: [{{id: p, {slack}}}]\nslos: [{{id: s, {slo}, endpoints: [{{id: p, group_interval: 0s}}]}}]"),
            "slos[s].endpoints[0].group_interval: group_interval cannot be zero",
        ),
        (
            format!("slos: [{{id: s, {slo}, endpoints: [nope]}}]"),
            "slos[s].endpoints[0].id: the id of an endpoint in endpoints",
        ),
        (
            format!("slos: [{{id: s, {slo}}}, {{id: s, {slo}}}]"),
            "slos[s].id: ids unique among slos",
        ),
        (
            format!("conditions: [{{id: s}}]\nslos: [{{id: s, {slo}}}]"),
            "slos[s].id: an id no condition has",
        ),
    ];
    for (yaml, path) in cases {
        let err = spec_error(&yaml);
        assert!(
            err.contains(path),
            "{yaml}\n  wanted: {path}\n  got:    {err}"
        );
    }
}

/// Faults serde itself finds (unknown keys, wrong types, bad durations) are located by
/// yaml_serde's path, which names the field too.
#[test]
fn structural_errors_name_the_field_in_yaml() {
    let cases = [
        (
            r##"endpoints: [{id: e, slack: {api_url: "https://x", chanel: "#ops"}}]"##,
            "endpoints[0].slack: unknown field `chanel`",
        ),
        (
            "endpoints: [{id: e, slak: {}}]",
            "endpoints[0]: unknown field `slak`, expected one of `id`, `name`",
        ),
        (
            "endpoints: [{id: e, telegram: {bot_token: t, chat_id: twelve}}]",
            "endpoints[0].telegram.chat_id: invalid type: string \"twelve\", expected i64",
        ),
        (
            "endpoints: [{id: e, telegram: {bot_token: t, chat_id: 1, parse_mode: html}}]",
            "endpoints[0].telegram.parse_mode: unknown variant `html`",
        ),
        (
            "conditions: [{id: c, severity: page}]",
            "conditions[0].severity: unknown variant `page`, expected one of `info`, `warning`, `error`, `critical`",
        ),
        // `Duration` reads its string before parsing it, so yaml_serde reports the
        // enclosing mapping; the message still says what was wrong.
        (
            "conditions: [{id: c, prometheus: {query: up, for: 5x}}]",
            "conditions[0].prometheus",
        ),
        (
            "conditions: [{id: c, prometheus: {query: up, for: 5x}}]",
            "not a valid duration string: \"5x\"",
        ),
        (
            "conditions: [{id: c, endpoints: [{id: p, group_wait: soon}]}]",
            "conditions[0].endpoints[0]",
        ),
        (
            "conditions: [{id: c, endpoints: [{id: p, wait: 1m}]}]",
            "conditions[0].endpoints[0]: unknown field `wait`",
        ),
        (
            "conditions: [{id: c, labels: {bad-name: x}}]",
            "conditions[0].labels: invalid label name \"bad-name\"",
        ),
        (
            "conditions: [{id: c, tenant: t, cpu: {threshold_percent: 9, operator: '='}}]",
            "conditions[0].cpu.operator: unknown variant `=`",
        ),
        (
            "conditionz: []",
            "unknown field `conditionz`, expected one of `endpoints`, `conditions`, `slos`",
        ),
        (
            "slos: [{id: s, tenant: t, objective: 99, target: 99, sli: {error_ratio: 'e[{{.window}}]'}}]",
            "slos[0]: unknown field `target`, expected one of `id`, `name`",
        ),
        (
            "slos: [{id: s, tenant: t, objective: 99, sli: {error_query: 'e[{{.window}}]'}}]",
            "slos[0].sli: unknown field `error_query`, expected one of `good`, `total`, `error_ratio`",
        ),
        (
            "slos: [{id: s, tenant: t, objective: high, sli: {error_ratio: 'e[{{.window}}]'}}]",
            "slos[0].objective: invalid type: string \"high\", expected f64",
        ),
        (
            "slos: [{id: s, tenant: t, objective: 99, window: month, sli: {error_ratio: 'e[{{.window}}]'}}]",
            "not a valid duration string: \"month\"",
        ),
        (
            "slos: [{id: s, tenant: t, objective: 99, severity: page, sli: {error_ratio: 'e[{{.window}}]'}}]",
            "slos[0].severity: unknown variant `page`",
        ),
    ];
    for (yaml, want) in cases {
        let err = spec_error(yaml);
        assert!(
            err.contains(want),
            "{yaml}\n  wanted: {want}\n  got:    {err}"
        );
    }
}

/// JSON readers get the same validation paths (serde_json has no path of its own, so
/// the domain's messages carry it).
#[test]
fn json_errors_name_the_field_too() {
    let err = serde_json::from_str::<AlertEndpoint>(
        r#"{"id": "hook", "webhook": {"url": "http://x", "http_config": {"proxy_url": "p"}}}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("endpoints[hook].webhook.http_config.proxy_url: unsupported scheme"),
        "{err}"
    );
    let err = serde_json::from_str::<AlertCondition>(r#"{"id": "c", "tenant": "a|b"}"#)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("conditions[c].tenant: tenant ID contains unsupported character '|'"),
        "{err}"
    );
}

#[test]
fn validate_agrees_with_reading() {
    // A value built in code is checked by validate() with the same paths.
    let mut spec = yaml_spec(SPEC).expect("valid");
    spec.conditions[0].endpoints[0].throttle.repeat_interval = Some(Duration::ZERO);
    match spec.validate() {
        Err(Error::InvalidField { field, .. }) => {
            assert_eq!(field, "conditions[cpu-high].endpoints[0].repeat_interval");
        }
        other => panic!("{other:?}"),
    }
    let mut spec = yaml_spec(SPEC).expect("valid");
    if let EndpointKind::Telegram(tg) = &mut spec.endpoints[5].kind {
        tg.chat_id = 0;
    }
    match spec.validate() {
        Err(Error::InvalidField { field, .. }) => {
            assert_eq!(field, "endpoints[tg].telegram.chat_id")
        }
        other => panic!("{other:?}"),
    }
}
