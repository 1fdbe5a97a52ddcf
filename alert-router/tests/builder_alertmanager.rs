//! The builder against the real Alertmanager 0.25:
//!
//! * every configuration it writes for generated specs (tenants, conditions, every 0.25
//!   endpoint kind, throttles, base configurations, history webhooks) passes
//!   `amtool check-config` (one call over all files);
//! * those configurations load into a real alertmanager, and an alert of each condition,
//!   posted through `/api/v2/alerts`, lists exactly the receivers the builder intended,
//!   in order (history first, then the attached endpoints);
//! * notifications reach the history webhook and every attached endpoint, and the base
//!   configuration's own alerts still fall back to its root receiver;
//! * YAML 1.1 specials in ids, labels, annotations and endpoint fields survive a trip
//!   through Alertmanager (`config.original` of `/api/v2/status`, amtool's routing tree,
//!   webhook bodies);
//! * the combined configuration of every generated case (with endpoint test routes)
//!   passes `amtool check-config`, and loaded into a real alertmanager it lists for an
//!   alert carrying a tenant label the receivers the tenant's own configuration would,
//!   and for a test alert the history receiver and the tested endpoint only.

mod builder_support;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use alert_core::{
    AlertCondition, AlertEndpoint, AlertingSpec, AttachedEndpoint, ConditionId, ConditionKind,
    EmailEndpoint, EndpointId, EndpointKind, OpsGenieEndpoint, PagerDutyEndpoint, Secret,
    SlackEndpoint, WebhookEndpoint,
};
use alert_router::builder::{
    BLACKHOLE_RECEIVER, BuildOptions, Builder, DefaultWebhook, EMITTER_RECEIVER,
    ENDPOINT_TEST_LABEL, HISTORY_RECEIVER, TenantConfig, TenantKey,
};
use alert_router::rules::TENANT_LABEL;
use alert_testkit::{Alertmanager, WebhookSink, amtool, wait_until};
use builder_support::{BASE_ONLY_LABEL, base, case, expected_receivers};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

/// How many generated cases are built and checked with amtool.
const GENERATED: usize = 200;
/// How many of them are loaded into a real alertmanager and routed.
const LOADED: usize = 60;
/// The proptest seed: change it to explore, keep it fixed to reproduce.
const SEED: [u8; 32] = *b"alert-router builder vs AM 0.25!";

/// The generated cases, with endpoints made loadable: Alertmanager reads a TLS CA file
/// when it builds the integrations, so generated `ca_file`s point at the system bundle.
fn generated() -> Vec<(AlertingSpec, BuildOptions)> {
    let mut runner = TestRunner::new_with_rng(
        RunnerConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &SEED),
    );
    (0..GENERATED)
        .map(|_| {
            let (mut spec, options) = case().new_tree(&mut runner).expect("generate").current();
            for e in &mut spec.endpoints {
                make_loadable(e);
            }
            (spec, options)
        })
        .collect()
}

const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn make_loadable(endpoint: &mut AlertEndpoint) {
    let http = match &mut endpoint.kind {
        EndpointKind::Slack(e) => &mut e.http_config,
        EndpointKind::PagerDuty(e) => &mut e.http_config,
        EndpointKind::Webhook(e) => &mut e.http_config,
        EndpointKind::OpsGenie(e) => &mut e.http_config,
        EndpointKind::Telegram(e) => &mut e.http_config,
        EndpointKind::Discord(e) => &mut e.http_config,
        EndpointKind::Webex(e) => &mut e.http_config,
        EndpointKind::Pushover(e) => &mut e.http_config,
        EndpointKind::VictorOps(e) => &mut e.http_config,
        _ => return,
    };
    if let Some(tls) = http.as_mut().and_then(|h| h.tls_config.as_mut())
        && tls.ca_file.is_some()
    {
        tls.ca_file = Some(CA_BUNDLE.to_owned());
    }
}

/// A file name for a tenant's configuration.
fn file_name(case: usize, tenant: &TenantKey) -> String {
    match tenant {
        TenantKey::Unbound => format!("{case:03}-@no-tenant.yml"),
        TenantKey::Tenant(id) => format!("{case:03}-{id}.yml"),
    }
}

#[test]
fn every_generated_configuration_passes_amtool_check_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files: Vec<PathBuf> = Vec::new();
    let mut kinds = BTreeMap::<&str, usize>::new();
    for (i, (spec, options)) in generated().into_iter().enumerate() {
        for e in &spec.endpoints {
            *kinds.entry(e.kind.name()).or_default() += 1;
        }
        for tenant in Builder::from_spec(spec, options).expect("builds").tenants() {
            let path = dir.path().join(file_name(i, &tenant.tenant));
            fs::write(&path, &tenant.yaml).expect("write");
            files.push(path);
        }
    }
    // Every 0.25 kind is among the endpoints.
    assert_eq!(kinds.len(), 10, "kinds generated: {kinds:?}");
    assert!(files.len() > GENERATED, "only {} files", files.len());
    assert_amtool_accepts(&files);
}

/// The generated cases with endpoint test routes, and their combined configurations.
fn generated_combined() -> Vec<(AlertingSpec, BuildOptions, String)> {
    generated()
        .into_iter()
        .map(|(spec, mut options)| {
            options.endpoint_tests = true;
            let builder = Builder::from_spec(spec.clone(), options.clone()).expect("builds");
            let yaml = builder.combined().expect("combines").yaml;
            (spec, options, yaml)
        })
        .collect()
}

#[test]
fn every_generated_combined_configuration_passes_amtool_check_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files: Vec<PathBuf> = Vec::new();
    for (i, (_, _, yaml)) in generated_combined().into_iter().enumerate() {
        let path = dir.path().join(format!("{i:03}-combined.yml"));
        fs::write(&path, yaml).expect("write");
        files.push(path);
    }
    assert_amtool_accepts(&files);
}

/// How many combined configurations are loaded into a real alertmanager.
const COMBINED_LOADED: usize = 12;

#[test]
fn a_combined_configuration_routes_in_alertmanager_as_the_tenants_own_would() {
    let cases: Vec<_> = generated_combined()
        .into_iter()
        .filter(|(spec, _, _)| !spec.conditions.is_empty())
        .take(COMBINED_LOADED)
        .collect();
    assert_eq!(cases.len(), COMBINED_LOADED);
    let am = Alertmanager::start(&cases[0].2);
    let mut checked = 0;
    for (i, (spec, options, yaml)) in cases.iter().enumerate() {
        let reloaded = am.reload_with(yaml);
        assert!(
            reloaded.is_success(),
            "case {i}: reload failed: {}\n{yaml}\n{}",
            reloaded.body,
            am.logs()
        );
        let run = format!("combined-{i}");
        let mut alerts: Vec<Value> = spec
            .conditions
            .iter()
            .map(|c| {
                let mut alert = alert_of(c, &run);
                if let Some(t) = &c.tenant {
                    alert["labels"][TENANT_LABEL] = json!(t.as_str());
                }
                alert
            })
            .collect();
        for e in &spec.endpoints {
            alerts.push(json!({"labels": {
                "alertname": "EndpointTest",
                ENDPOINT_TEST_LABEL: e.id.as_str(),
                "builder_run": run,
            }}));
        }
        am.post_alerts(&Value::Array(alerts)).ensure_success();
        let listed = wait_until(Duration::from_secs(10), "posted alerts listed", || {
            let listed = am.alerts();
            let of_run = listed
                .iter()
                .filter(|a| a["labels"]["builder_run"] == run.as_str())
                .count();
            (of_run == spec.conditions.len() + spec.endpoints.len()).then_some(listed)
        });
        let set = |names: Vec<String>| -> Vec<String> {
            let mut names: Vec<String> = names
                .into_iter()
                .filter(|n| n != BLACKHOLE_RECEIVER)
                .collect();
            names.sort();
            names.dedup();
            names
        };
        for condition in &spec.conditions {
            let got = receivers_of(&listed, &condition.id, &run).expect("listed");
            assert_eq!(
                set(got),
                set(expected_receivers(options, condition)),
                "case {i}, condition {}\n{yaml}",
                condition.id
            );
            checked += 1;
        }
        for e in &spec.endpoints {
            let alert = listed
                .iter()
                .find(|a| {
                    a["labels"][ENDPOINT_TEST_LABEL] == e.id.as_str()
                        && a["labels"]["builder_run"] == run.as_str()
                })
                .expect("listed");
            let got: Vec<&str> = alert["receivers"]
                .as_array()
                .expect("receivers")
                .iter()
                .filter_map(|r| r["name"].as_str())
                .collect();
            let mut expected = Vec::new();
            if options.history.is_some() {
                expected.push(HISTORY_RECEIVER);
            }
            expected.push(e.id.as_str());
            assert_eq!(got, expected, "case {i}, test of {}\n{yaml}", e.id);
        }
    }
    assert!(
        checked >= 2 * COMBINED_LOADED,
        "only {checked} alerts checked"
    );
}

/// The labels an alert of `condition` carries in these tests: its own, plus a marker
/// naming the run so that alerts of earlier configurations are told apart.
fn alert_of(condition: &AlertCondition, run: &str) -> Value {
    let mut labels: BTreeMap<String, String> = condition
        .alert_labels()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    labels.insert("builder_run".into(), run.to_owned());
    let annotations: BTreeMap<String, String> = condition
        .alert_annotations()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    json!({"labels": labels, "annotations": annotations})
}

/// The receivers Alertmanager lists for the alert of `condition` posted in `run`.
fn receivers_of(alerts: &[Value], condition: &ConditionId, run: &str) -> Option<Vec<String>> {
    let alert = alerts.iter().find(|a| {
        a["labels"]["alert_condition_id"] == condition.as_str() && a["labels"]["builder_run"] == run
    })?;
    Some(
        alert["receivers"]
            .as_array()?
            .iter()
            .filter_map(|r| r["name"].as_str().map(str::to_owned))
            .collect(),
    )
}

#[test]
fn generated_configurations_route_alerts_to_the_intended_receivers() {
    let cases: Vec<_> = generated()
        .into_iter()
        .filter(|(spec, _)| !spec.conditions.is_empty())
        .take(LOADED)
        .collect();
    assert_eq!(cases.len(), LOADED);
    let mut checked = 0;
    for (i, (spec, options)) in cases.into_iter().enumerate() {
        let builder = Builder::from_spec(spec.clone(), options.clone()).expect("builds");
        let configs: Vec<&TenantConfig> = builder.tenants().collect();
        let am = Alertmanager::start(&configs[0].yaml);
        for (t, tenant) in configs.iter().enumerate() {
            let reloaded = am.reload_with(&tenant.yaml);
            assert!(
                reloaded.is_success(),
                "case {i} tenant {}: reload failed: {}\n{}\n{}",
                tenant.tenant,
                reloaded.body,
                tenant.yaml,
                am.logs()
            );
            let run = format!("{i}-{t}");
            let conditions: Vec<&AlertCondition> = spec
                .conditions
                .iter()
                .filter(|c| TenantKey::of(c.tenant.as_ref()) == tenant.tenant)
                .collect();
            let alerts: Vec<Value> = conditions.iter().map(|c| alert_of(c, &run)).collect();
            am.post_alerts(&Value::Array(alerts)).ensure_success();
            let listed = wait_until(Duration::from_secs(10), "posted alerts listed", || {
                let listed = am.alerts();
                conditions
                    .iter()
                    .all(|c| receivers_of(&listed, &c.id, &run).is_some())
                    .then_some(listed)
            });
            for condition in conditions {
                let got = receivers_of(&listed, &condition.id, &run).expect("listed");
                assert_eq!(
                    got,
                    expected_receivers(&options, condition),
                    "case {i}, tenant {}, condition {}\n{}",
                    tenant.tenant,
                    condition.id,
                    tenant.yaml
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 2 * LOADED, "only {checked} alerts checked");
}

fn hook(id: &str, url: String) -> AlertEndpoint {
    AlertEndpoint::new(
        EndpointId::new(id).expect("id"),
        EndpointKind::Webhook(WebhookEndpoint {
            url,
            ..Default::default()
        }),
    )
}

fn attached(id: &str, group_wait: &str) -> AttachedEndpoint {
    let mut a = AttachedEndpoint::new(EndpointId::new(id).expect("id"));
    a.throttle.group_wait = Some(group_wait.parse().expect("duration"));
    a.throttle.group_interval = Some("1s".parse().expect("duration"));
    a
}

fn condition(id: &str, tenant: &str, endpoints: Vec<AttachedEndpoint>) -> AlertCondition {
    let mut c = AlertCondition::new(ConditionId::new(id).expect("id"), ConditionKind::External);
    c.tenant = Some(tenant.parse().expect("tenant"));
    c.endpoints = endpoints;
    c
}

/// `amtool config routes <args...> --config.file=<yaml in a temporary file>`.
fn amtool_routes(yaml: &str, args: &[&str]) -> alert_testkit::AmtoolOutput {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    fs::write(file.path(), yaml).expect("write");
    let mut all = vec!["config".to_owned(), "routes".to_owned()];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    all.push(format!("--config.file={}", file.path().display()));
    amtool(all)
}

/// The `receiver` field of every notification that arrived at `path`.
fn notified(sink: &WebhookSink, path: &str) -> Vec<String> {
    sink.received()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.json()["receiver"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn notifications_reach_the_default_webhooks_every_endpoint_and_the_base() {
    let sink = WebhookSink::start();
    let mut history = DefaultWebhook::new(sink.url_for("/history"));
    history.group_wait = "0s".parse().expect("duration");
    history.group_interval = "1s".parse().expect("duration");
    let mut emitter = history.clone();
    emitter.url = sink.url_for("/emitter");
    let options = BuildOptions {
        base: Some(base(&format!(
            "route:\n  receiver: base-root\n  group_wait: 0s\n  group_interval: 1s\n  routes:\n    - matchers: ['{BASE_ONLY_LABEL}=\"db\"']\n      receiver: base-db\nreceivers:\n  - name: base-root\n    webhook_configs: [{{url: '{}'}}]\n  - name: base-db\n    webhook_configs: [{{url: '{}'}}]\n",
            sink.url_for("/base-root"),
            sink.url_for("/base-db"),
        ))),
        history: Some(history),
        emitter: Some(emitter),
        ..BuildOptions::default()
    };
    let spec = AlertingSpec {
        endpoints: vec![
            hook("hook-a", sink.url_for("/hook-a")),
            hook("hook-b", sink.url_for("/hook-b")),
            hook("yes", sink.url_for("/yes")),
        ],
        conditions: vec![
            condition(
                "cpu",
                "t1",
                vec![attached("hook-b", "0s"), attached("hook-a", "0s")],
            ),
            condition("disk", "t1", vec![attached("yes", "0s")]),
            condition("other", "t2", vec![attached("hook-a", "0s")]),
        ],
        slos: Vec::new(),
    };
    let builder = Builder::from_spec(spec.clone(), options).expect("builds");
    let t1 = builder
        .tenant(&TenantKey::Tenant("t1".parse().expect("tenant")))
        .expect("t1");
    let am = Alertmanager::start(&t1.yaml);
    let cpu = alert_of(&spec.conditions[0], "live");
    let disk = alert_of(&spec.conditions[1], "live");
    let unrelated = json!({"labels": {"alertname": "Unrelated", "builder_run": "live"}});
    let for_base =
        json!({"labels": {"alertname": "BaseDb", BASE_ONLY_LABEL: "db", "builder_run": "live"}});
    am.post_alerts(&json!([cpu, disk, unrelated, for_base]))
        .ensure_success();

    let listed = wait_until(Duration::from_secs(10), "4 alerts", || {
        let listed = am.alerts();
        (listed.len() == 4).then_some(listed)
    });
    let by_name = |alert: &Value| -> Vec<String> {
        alert["receivers"]
            .as_array()
            .expect("receivers")
            .iter()
            .map(|r| r["name"].as_str().expect("name").to_owned())
            .collect()
    };
    let receivers: BTreeMap<String, Vec<String>> = listed
        .iter()
        .map(|a| {
            let id = a["labels"]["alert_condition_id"]
                .as_str()
                .or(a["labels"]["alertname"].as_str())
                .expect("identified")
                .to_owned();
            (id, by_name(a))
        })
        .collect();
    let d = [HISTORY_RECEIVER, EMITTER_RECEIVER];
    assert_eq!(receivers["cpu"], [d[0], d[1], "hook-b", "hook-a"]);
    assert_eq!(receivers["disk"], [d[0], d[1], "yes"]);
    // The base's own alerts: its route, or its root receiver when no route takes them.
    assert_eq!(receivers["Unrelated"], [d[0], d[1], "base-root"]);
    assert_eq!(receivers["BaseDb"], [d[0], d[1], "base-db"]);

    // amtool agrees, reading the same file.
    let out = amtool_routes(&t1.yaml, &["test", "alert_condition_id=cpu"]);
    assert_eq!(
        out.stdout.trim(),
        "alert-router:history,alert-router:emitter,hook-b,hook-a",
        "{}",
        out.stderr
    );

    // Every receiver is notified: the history webhook of all four alerts (each is its
    // own group), each endpoint of its condition, the base's receivers of theirs.
    sink.wait_until(Duration::from_secs(30), "every receiver notified", |got| {
        let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
        ["/hook-a", "/hook-b", "/yes", "/base-root", "/base-db"]
            .iter()
            .all(|p| paths.contains(p))
            && paths.iter().filter(|p| **p == "/history").count() >= 4
            && paths.iter().filter(|p| **p == "/emitter").count() >= 4
    });
    assert!(
        notified(&sink, "/history")
            .iter()
            .all(|r| r == HISTORY_RECEIVER)
    );
    for (path, receiver) in [
        ("/hook-a", "hook-a"),
        ("/hook-b", "hook-b"),
        ("/yes", "yes"),
        ("/base-root", "base-root"),
        ("/base-db", "base-db"),
    ] {
        assert!(
            notified(&sink, path).iter().all(|r| r == receiver),
            "{path}: {:?}",
            notified(&sink, path)
        );
    }
    let history_alerts: Vec<Value> = sink
        .received()
        .iter()
        .filter(|r| r.path == "/history")
        .flat_map(|r| r.json()["alerts"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(
        history_alerts
            .iter()
            .any(|a| a["labels"]["alert_condition_id"] == "cpu")
    );
    // Only cpu's and disk's alerts reached the endpoints.
    for r in sink
        .received()
        .iter()
        .filter(|r| r.path.starts_with("/hook"))
    {
        for alert in r.json()["alerts"].as_array().expect("alerts") {
            assert_eq!(
                alert["labels"]["alert_condition_id"],
                "cpu",
                "{}",
                r.body_str()
            );
        }
    }
}

/// Strings YAML 1.1 reads as something else when written plain.
const SPECIALS: [&str; 9] = [
    "yes", "no", "on", "off", "~", "null", "0x1F", "12:30", "1_000",
];

#[test]
fn yaml_1_1_specials_survive_a_trip_through_alertmanager() {
    let sink = WebhookSink::start();
    let text = |i: usize| SPECIALS[i % SPECIALS.len()].to_owned();
    // Endpoint ids may not hold `~` or `:`; the rest are ids of every kind used here.
    let ids = ["yes", "no", "on", "off", "null", "0x1F", "1_000"];
    let mut endpoints = vec![hook("yes", sink.url_for("/yes"))];
    endpoints.push(AlertEndpoint::new(
        "no".parse().expect("id"),
        EndpointKind::Slack(SlackEndpoint {
            api_url: Secret::new("https://hooks.slack.com/services/T/B/X"),
            channel: Some(text(4)),
            title: Some(text(7)),
            text: Some(text(8)),
            username: Some(text(0)),
            ..Default::default()
        }),
    ));
    endpoints.push(AlertEndpoint::new(
        "on".parse().expect("id"),
        EndpointKind::PagerDuty(PagerDutyEndpoint {
            routing_key: Some(Secret::new("key")),
            details: SPECIALS
                .iter()
                .map(|s| (format!("d{s}"), (*s).to_owned()))
                .collect(),
            ..Default::default()
        }),
    ));
    endpoints.push(AlertEndpoint::new(
        "off".parse().expect("id"),
        EndpointKind::Email(EmailEndpoint {
            to: "a@example.org".into(),
            from: "b@example.org".into(),
            smarthost: "smtp.example.org:25".into(),
            headers: [("X-On".to_owned(), text(3)), ("X-Null".to_owned(), text(5))].into(),
            ..Default::default()
        }),
    ));
    endpoints.push(AlertEndpoint::new(
        "null".parse().expect("id"),
        EndpointKind::OpsGenie(OpsGenieEndpoint {
            api_key: Secret::new("key"),
            message: Some(text(6)),
            source: Some(text(7)),
            ..Default::default()
        }),
    ));
    endpoints.push(hook("0x1F", sink.url_for("/0x1F")));
    endpoints.push(hook("1_000", sink.url_for("/1_000")));
    let mut conditions = Vec::new();
    for (i, cid) in ["on", "off", "y", "n", "0x1F", "1_000", "null"]
        .iter()
        .enumerate()
    {
        let mut c = condition(
            cid,
            "yes",
            vec![
                attached(ids[i], "0s"),
                attached(ids[(i + 3) % ids.len()], "0s"),
            ],
        );
        c.labels =
            alert_core::LabelSet::from_pairs([("l", text(i)), ("m", text(i + 4))]).expect("labels");
        c.annotations = alert_core::LabelSet::from_pairs([("a", text(i + 1)), ("b", text(i + 5))])
            .expect("annotations");
        conditions.push(c);
    }
    let mut history = DefaultWebhook::new(sink.url_for("/history"));
    history.group_wait = "0s".parse().expect("duration");
    let options = BuildOptions {
        base: Some(base(
            "route:\n  receiver: \"~\"\n  routes:\n    - matchers: ['x=\"yes\"', 'y=~\"12:30|~\"']\n      receiver: \"12:30\"\n      mute_time_intervals: [\"0x1F\"]\nreceivers: [{name: \"~\"}, {name: \"12:30\"}]\ntime_intervals: [{name: \"0x1F\", time_intervals: [{weekdays: [monday]}]}]\n",
        )),
        history: Some(history),
        ..BuildOptions::default()
    };
    let spec = AlertingSpec {
        endpoints,
        conditions,
        slos: Vec::new(),
    };
    let builder = Builder::from_spec(spec.clone(), options).expect("builds");
    let tenant = builder
        .tenant(&TenantKey::Tenant("yes".parse().expect("tenant")))
        .expect("tenant yes");
    let ours = builder
        .config(&tenant.tenant)
        .expect("tenant")
        .expect("config");
    let am = Alertmanager::start(&tenant.yaml);

    // What Alertmanager parsed, as it writes it back (YAML 1.1 quoting by Go).
    let original = am.status()["config"]["original"]
        .as_str()
        .expect("config.original")
        .to_owned();
    let parsed: yaml_serde::Value = yaml_serde::from_str(&original).expect("AM's YAML");
    let names: Vec<&str> = parsed["receivers"]
        .as_sequence()
        .expect("receivers")
        .iter()
        .map(|r| r["name"].as_str().expect("name as string"))
        .collect();
    let our_names: Vec<&str> = ours.receivers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, our_names, "{original}");
    let slack = &parsed["receivers"][our_names.iter().position(|n| *n == "no").expect("no")]["slack_configs"]
        [0];
    assert_eq!(slack["channel"].as_str(), Some("~"));
    assert_eq!(slack["title"].as_str(), Some("12:30"));
    assert_eq!(slack["text"].as_str(), Some("1_000"));
    assert_eq!(slack["username"].as_str(), Some("yes"));
    let pd = &parsed["receivers"][our_names.iter().position(|n| *n == "on").expect("on")]["pagerduty_configs"]
        [0];
    for s in SPECIALS {
        assert_eq!(
            pd["details"][format!("d{s}").as_str()].as_str(),
            Some(s),
            "{original}"
        );
    }
    let email = &parsed["receivers"][our_names.iter().position(|n| *n == "off").expect("off")]["email_configs"]
        [0];
    assert_eq!(email["headers"]["X-On"].as_str(), Some("off"));
    assert_eq!(email["headers"]["X-Null"].as_str(), Some("null"));
    let og = &parsed["receivers"][our_names.iter().position(|n| *n == "null").expect("null")]["opsgenie_configs"]
        [0];
    assert_eq!(og["message"].as_str(), Some("0x1F"));
    assert_eq!(og["source"].as_str(), Some("12:30"));
    // The route tree: matchers and receivers, as strings.
    let wrapper = &parsed["route"]["routes"][1];
    assert_eq!(parsed["route"]["receiver"].as_str(), Some("~"));
    for (i, c) in ["0x1F", "1_000", "n", "null", "off", "on", "y"]
        .iter()
        .enumerate()
    {
        let route = &wrapper["routes"][i];
        assert_eq!(
            route["matchers"][0].as_str(),
            Some(format!("alert_condition_id=\"{c}\"").as_str()),
            "{original}"
        );
    }
    let base_route = &wrapper["routes"][7];
    assert_eq!(base_route["receiver"].as_str(), Some("12:30"));
    assert_eq!(base_route["mute_time_intervals"][0].as_str(), Some("0x1F"));
    assert_eq!(parsed["time_intervals"][0]["name"].as_str(), Some("0x1F"));

    // amtool's routing tree names the same receivers.
    let tree = amtool_routes(&tenant.yaml, &["show"]);
    assert!(tree.success(), "{}", tree.stderr);
    for name in [
        "yes", "no", "on", "off", "null", "0x1F", "1_000", "12:30", "~",
    ] {
        assert!(
            tree.stdout.contains(&format!("receiver: {name}")),
            "{name} missing from\n{}",
            tree.stdout
        );
    }

    // Labels and annotations come back unchanged in the webhook body.
    let posted: Vec<Value> = spec
        .conditions
        .iter()
        .map(|c| alert_of(c, "specials"))
        .collect();
    am.post_alerts(&Value::Array(posted.clone()))
        .ensure_success();
    let got = sink.wait_until(Duration::from_secs(30), "every alert at history", |got| {
        got.iter()
            .filter(|r| r.path == "/history")
            .flat_map(|r| r.json()["alerts"].as_array().cloned().unwrap_or_default())
            .count()
            >= posted.len()
    });
    let delivered: Vec<Value> = got
        .iter()
        .filter(|r| r.path == "/history")
        .flat_map(|r| r.json()["alerts"].as_array().cloned().unwrap_or_default())
        .collect();
    for alert in &posted {
        let id = &alert["labels"]["alert_condition_id"];
        let back = delivered
            .iter()
            .find(|a| a["labels"]["alert_condition_id"] == *id)
            .unwrap_or_else(|| panic!("{id} not delivered"));
        assert_eq!(back["labels"], alert["labels"]);
        assert_eq!(back["annotations"], alert["annotations"]);
    }
}

/// `amtool check-config` accepts every file.
fn assert_amtool_accepts(files: &[PathBuf]) {
    let mut args = vec!["check-config".to_owned()];
    args.extend(files.iter().map(|p| p.display().to_string()));
    let out = amtool(&args);
    let failed: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("FAILED"))
        .collect();
    assert!(
        out.success() && failed.is_empty(),
        "amtool check-config failed:\n{}\n{}",
        failed.join("\n"),
        out.stderr
    );
    let succeeded = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("Checking '") && l.ends_with("'  SUCCESS"))
        .count();
    assert_eq!(succeeded, files.len(), "{}", out.stdout);
}
