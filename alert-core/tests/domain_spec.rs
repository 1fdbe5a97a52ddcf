//! The spec-file shapes of the domain model, read with `yaml_serde` and `serde_json`:
//! the router's example spec, round trips, and that every error names its field.

use alert_core::{
    AlertCondition, AlertEndpoint, AlertingSpec, CONDITION_ID_LABEL, CompareOp, ConditionKind,
    Duration, EndpointKind, Error, KubeObjectKind, Severity, TenantId, Throttle,
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
            "unknown field `conditionz`, expected `endpoints` or `conditions`",
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
