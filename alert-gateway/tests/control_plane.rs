//! The control plane end to end, with real processes: the gateway (data plane and
//! control plane), a real Alertmanager 0.25, a real Prometheus 2.42 loading the rule
//! directory the gateway writes, and a webhook sink as the user's endpoint.
//!
//! - A condition created through the API becomes a rule Prometheus evaluates and a route
//!   Alertmanager runs, and the sink receives its notification; an update goes live;
//!   a deletion removes rule, route and report.
//! - A poisoned tenant (a configuration Alertmanager refuses) keeps its last working
//!   configuration and is reported, while another tenant's changes keep going live.
//! - (feature `etcd`) Two control planes on a 3-member etcd: kill -9 the leader, the other
//!   applies the next change; a stopped-then-resumed old leader's write is refused.

mod support;

use std::time::Duration;

use alert_testkit::{Alertmanager, Prometheus, WebhookSink, promtool_bin};
use serde_json::{Value, json};
use support::{GatewayProcess, delete, get, put_json, wait_for};

/// Long enough for a loaded CI machine; the goal is one second.
const LIVE: Duration = Duration::from_secs(30);

/// A configuration Alertmanager starts with before the control plane writes its own.
const INITIAL: &str = "route: {receiver: initial}\nreceivers: [{name: initial}]\n";

struct Stack {
    am: Alertmanager,
    prom: Prometheus,
    sink: WebhookSink,
    gateway: GatewayProcess,
    _dir: tempfile::TempDir,
}

fn control_plane_flags(am: &Alertmanager, prom: &Prometheus) -> Vec<String> {
    vec![
        "--target=data-plane,control-plane".to_owned(),
        format!("--alertmanager.url={}", am.base_url()),
        format!("--alertmanager.config-file={}", am.config_path().display()),
        format!("--prometheus.url={}", prom.base_url()),
        format!("--rules.dir={}", prom.rules_dir().display()),
        format!("--rules.promtool={}", promtool_bin().display()),
        "--control-plane.lease-ttl=2s".to_owned(),
    ]
}

fn stack() -> Stack {
    let dir = tempfile::tempdir().expect("temporary directory");
    let am = Alertmanager::start(INITIAL);
    let prom = prometheus(&am);
    let sink = WebhookSink::start();
    let store = format!("sqlite:{}", dir.path().join("gateway.db").display());
    let gateway = GatewayProcess::start_with(&store, &control_plane_flags(&am, &prom));
    Stack {
        am,
        prom,
        sink,
        gateway,
        _dir: dir,
    }
}

/// A Prometheus sending to `am`, re-sending firing alerts every second (the default
/// minute would let a first send lost before Alertmanager's discovery settles stall
/// the test).
fn prometheus(am: &Alertmanager) -> Prometheus {
    Prometheus::builder()
        .alertmanager(am.base_url())
        .flag("--rules.alert.resend-delay=1s")
        .start()
}

fn running_config(am: &Alertmanager) -> String {
    am.status()["config"]["original"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The rule named `rule` in the loaded groups, if Prometheus has it.
fn loaded_rule(prom: &Prometheus, rule: &str) -> Option<Value> {
    prom.rules()
        .iter()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .find(|r| r["name"] == rule)
}

fn tenant_report(gw: &GatewayProcess, tenant: &str) -> Option<Value> {
    let (status, body) = get(&gw.url(&format!("/api/v1/tenants/{tenant}")));
    (status == 200).then(|| serde_json::from_str(&body).expect("report JSON"))
}

fn put(gw: &GatewayProcess, path: &str, body: Value) {
    let (status, text) = put_json(&gw.url(path), &body);
    assert!(
        status == 200 || status == 201,
        "PUT {path}: {status} {text}"
    );
}

#[test]
fn a_condition_goes_live_changes_and_leaves() {
    let s = stack();
    put(
        &s.gateway,
        "/api/v1/endpoints/hook",
        json!({"webhook": {"url": s.sink.url()}}),
    );
    put(
        &s.gateway,
        "/api/v1/conditions/always-true",
        json!({
            "tenant": "cluster-a",
            "severity": "critical",
            "prometheus": {"query": "vector(1) > 0"},
            "throttle": {"group_wait": "1s"},
            "endpoints": ["hook"],
            "message": {"title": "it is true", "body": "vector(1) is above zero"},
        }),
    );

    // The rule is evaluated, the route runs, and the sink gets the notification.
    let rule = wait_for("Prometheus to load the rule", LIVE, || {
        loaded_rule(&s.prom, "always_true")
    });
    assert_eq!(rule["labels"]["alert_condition_id"], "always-true");
    assert_eq!(rule["labels"]["tenant"], "cluster-a");
    assert_eq!(rule["labels"]["severity"], "critical");
    // Rules go first, then the configuration: wait for it too.
    let config = wait_for("Alertmanager to run the route", LIVE, || {
        let config = running_config(&s.am);
        config
            .contains("alert_condition_id=\"always-true\"")
            .then_some(config)
    });
    assert!(config.contains("tenant=\"cluster-a\""), "{config}");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let notified = wait_for("the sink to be notified", Duration::from_secs(61), || {
        if std::time::Instant::now() > deadline {
            panic!(
                "no notification; Prometheus alerts: {:?}; Alertmanager alerts: {:?}; config: {}",
                s.prom.alerts(),
                s.am.alerts(),
                running_config(&s.am)
            );
        }
        s.sink
            .received()
            .into_iter()
            .map(|r| r.json())
            .find(|b| b["commonLabels"]["alert_condition_id"] == "always-true")
    });
    assert_eq!(notified["commonLabels"]["tenant"], "cluster-a");
    assert_eq!(notified["status"], "firing");

    // The tenant is reported live, with its rule group.
    let report = wait_for("the tenant to be in sync", LIVE, || {
        tenant_report(&s.gateway, "cluster-a").filter(|r| r["state"] == "in_sync")
    });
    assert_eq!(report["rules"]["groups"], json!(["condition:always-true"]));
    assert_eq!(report["rules"]["confirmed"], true);
    assert_eq!(report["applied_sync_id"], report["desired_sync_id"]);
    let (status, all) = get(&s.gateway.url("/api/v1/tenants"));
    assert_eq!(status, 200);
    assert!(all.contains("cluster-a"), "{all}");

    // An update goes live.
    put(
        &s.gateway,
        "/api/v1/conditions/always-true",
        json!({
            "tenant": "cluster-a",
            "prometheus": {"query": "vector(2) > 1"},
            "endpoints": ["hook"],
        }),
    );
    wait_for("the new expression to load", LIVE, || {
        loaded_rule(&s.prom, "always_true").filter(|r| r["query"] == "vector(2) > 1")
    });

    // A deletion removes the rule, the route and the report.
    let (status, body) = delete(&s.gateway.url("/api/v1/conditions/always-true"));
    assert_eq!(status, 200, "{body}");
    wait_for("the rule to go", LIVE, || {
        loaded_rule(&s.prom, "always_true").is_none().then_some(())
    });
    wait_for("the route to go", LIVE, || {
        (!running_config(&s.am).contains("always-true")).then_some(())
    });
    wait_for("the report to go", LIVE, || {
        tenant_report(&s.gateway, "cluster-a")
            .is_none()
            .then_some(())
    });
    assert!(
        !s.prom.rules_dir().join("cluster-a.yml").exists(),
        "the tenant's rule file is removed"
    );
}

#[test]
fn a_poisoned_tenant_keeps_its_last_config_and_others_go_on() {
    let s = stack();
    put(
        &s.gateway,
        "/api/v1/endpoints/hook",
        json!({"webhook": {"url": s.sink.url()}}),
    );
    for tenant in ["good", "poisoned"] {
        put(
            &s.gateway,
            &format!("/api/v1/conditions/{tenant}-check"),
            json!({"tenant": tenant, "endpoints": ["hook"]}),
        );
    }
    wait_for("both tenants to be live", LIVE, || {
        let config = running_config(&s.am);
        (config.contains("good-check") && config.contains("poisoned-check")).then_some(())
    });

    // An endpoint whose CA file does not exist: Alertmanager refuses the configuration
    // at reload (our validation cannot know what the Alertmanager host's disk holds).
    put(
        &s.gateway,
        "/api/v1/endpoints/broken-tls",
        json!({"webhook": {
            "url": "https://127.0.0.1:9/hook",
            "http_config": {"tls_config": {"ca_file": "/nonexistent/alert-gateway-test/ca.pem"}},
        }}),
    );
    put(
        &s.gateway,
        "/api/v1/conditions/poisoned-check",
        json!({"tenant": "poisoned", "endpoints": ["hook", "broken-tls"]}),
    );
    let report = wait_for("the poisoned tenant to be reported", LIVE, || {
        tenant_report(&s.gateway, "poisoned").filter(|r| r["state"] == "failed")
    });
    let error = report["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("conditions/poisoned-check"), "{error}");
    assert!(error.contains("ca.pem"), "{error}");

    // The good tenant's next change goes live regardless.
    put(
        &s.gateway,
        "/api/v1/conditions/good-check-2",
        json!({"tenant": "good", "endpoints": ["hook"]}),
    );
    wait_for("the good tenant's change to go live", LIVE, || {
        running_config(&s.am).contains("good-check-2").then_some(())
    });
    let running = running_config(&s.am);
    assert!(
        !running.contains("broken-tls"),
        "the refused change is not running"
    );
    assert!(
        running.contains("poisoned-check"),
        "the poisoned tenant keeps its last working route"
    );
    let good = wait_for("the good tenant to be in sync", LIVE, || {
        tenant_report(&s.gateway, "good").filter(|r| r["state"] == "in_sync")
    });
    assert!(good["last_error"].is_null(), "{good}");

    // Fixing the document clears the report.
    put(
        &s.gateway,
        "/api/v1/conditions/poisoned-check",
        json!({"tenant": "poisoned", "endpoints": ["hook"]}),
    );
    wait_for("the poisoned tenant to recover", LIVE, || {
        tenant_report(&s.gateway, "poisoned").filter(|r| r["state"] == "in_sync")
    });
}

#[test]
fn a_restarted_control_plane_rewrites_nothing_live() {
    let mut s = stack();
    put(
        &s.gateway,
        "/api/v1/endpoints/hook",
        json!({"webhook": {"url": s.sink.url()}}),
    );
    put(
        &s.gateway,
        "/api/v1/conditions/steady",
        json!({"tenant": "t1", "prometheus": {"query": "vector(0) > 1"}, "endpoints": ["hook"]}),
    );
    wait_for("the tenant to be in sync", LIVE, || {
        tenant_report(&s.gateway, "t1").filter(|r| r["state"] == "in_sync")
    });
    let config_before = std::fs::metadata(s.am.config_path())
        .and_then(|m| m.modified())
        .expect("config file");
    let rules_before = std::fs::metadata(s.prom.rules_dir().join("t1.yml"))
        .and_then(|m| m.modified())
        .expect("rule file");
    s.gateway.restart();
    // The new term reports the tenant again once it has checked the backends.
    let term_before = tenant_report(&s.gateway, "t1").expect("report")["term"].clone();
    wait_for("the new term's report", LIVE, || {
        tenant_report(&s.gateway, "t1")
            .filter(|r| r["term"] != term_before && r["state"] == "in_sync")
    });
    assert_eq!(
        std::fs::metadata(s.am.config_path())
            .and_then(|m| m.modified())
            .ok(),
        Some(config_before),
        "the live configuration is not written again"
    );
    assert_eq!(
        std::fs::metadata(s.prom.rules_dir().join("t1.yml"))
            .and_then(|m| m.modified())
            .ok(),
        Some(rules_before),
        "the live rule file is not written again"
    );
}

#[test]
fn cortex_gets_a_configuration_and_rules_per_tenant_and_limits_hold() {
    let cortex = alert_testkit::cortex::CortexFixture::start();
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = format!("sqlite:{}", dir.path().join("gateway.db").display());
    let gw = GatewayProcess::start_with(
        &store,
        &[
            "--target=data-plane,control-plane".to_owned(),
            "--alertmanager.backend=cortex".to_owned(),
            format!("--alertmanager.url={}", cortex.url()),
            "--alertmanager.limits.max-config-size-bytes=3000".to_owned(),
            "--rules.backend=cortex".to_owned(),
            format!("--ruler.url={}", cortex.url()),
        ],
    );
    put(
        &gw,
        "/api/v1/endpoints/hook",
        json!({"webhook": {"url": "http://127.0.0.1:9/hook"}}),
    );
    // A URL long enough to put team-b's configuration over the 3000-byte limit.
    put(
        &gw,
        "/api/v1/endpoints/long",
        json!({"webhook": {"url": format!("http://127.0.0.1:9/{}", "x".repeat(3000))}}),
    );
    put(
        &gw,
        "/api/v1/conditions/small-a",
        json!({"tenant": "team-a", "prometheus": {"query": "vector(1) > 0"}, "endpoints": ["hook"]}),
    );
    put(
        &gw,
        "/api/v1/conditions/big-b",
        json!({"tenant": "team-b", "prometheus": {"query": "vector(2) > 0"}, "endpoints": ["long"]}),
    );

    let a = wait_for("team-a to be in sync", LIVE, || {
        tenant_report(&gw, "team-a").filter(|r| r["state"] == "in_sync")
    });
    assert_eq!(a["alertmanager"]["layout"], "tenant");
    let stored = cortex
        .stored("team-a")
        .expect("team-a's configuration is stored");
    assert!(
        stored
            .alertmanager_config
            .contains("alert_condition_id=\"small-a\""),
        "{}",
        stored.alertmanager_config
    );
    assert!(
        !stored.alertmanager_config.contains("tenant="),
        "a tenant's own configuration needs no tenant subtree"
    );
    assert_eq!(
        cortex
            .rule_groups("team-a")
            .values()
            .flatten()
            .cloned()
            .collect::<Vec<_>>(),
        ["condition:small-a"]
    );

    // team-b is over its limit: reported, never sent; its rules still go.
    let b = wait_for("team-b to be reported", LIVE, || {
        tenant_report(&gw, "team-b").filter(|r| r["state"] == "failed")
    });
    let error = b["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("too big"), "{error}");
    assert_eq!(
        cortex.config_writes_for("team-b"),
        0,
        "a configuration over the limit is never sent"
    );
    assert!(cortex.stored("team-b").is_none());
    wait_for("team-b's rules", LIVE, || {
        (!cortex.rule_groups("team-b").is_empty()).then_some(())
    });

    // team-a's last condition goes: its configuration and rules are removed.
    let (status, body) = delete(&gw.url("/api/v1/conditions/small-a"));
    assert_eq!(status, 200, "{body}");
    wait_for("team-a's configuration to be deleted", LIVE, || {
        cortex.stored("team-a").is_none().then_some(())
    });
    wait_for("team-a's rules to be deleted", LIVE, || {
        cortex.rule_groups("team-a").is_empty().then_some(())
    });
    wait_for("team-a's report to go", LIVE, || {
        tenant_report(&gw, "team-a").is_none().then_some(())
    });
}

#[cfg(feature = "etcd")]
mod failover {
    use super::*;
    use alert_testkit::EtcdCluster;

    #[test]
    fn the_follower_takes_over_and_a_resumed_leader_is_fenced() {
        let etcd = EtcdCluster::start(3);
        let store = format!("etcd:{}", etcd.endpoints().join(","));
        let am = Alertmanager::start(INITIAL);
        let prom = prometheus(&am);
        let flags = |name: &str| {
            let mut f = control_plane_flags(&am, &prom);
            f.push(format!("--control-plane.replica={name}"));
            f
        };
        let mut a = GatewayProcess::start_with(&store, &flags("replica-a"));
        put(
            &a,
            "/api/v1/conditions/first",
            json!({"tenant": "ha", "prometheus": {"query": "vector(1)"}}),
        );
        let report = wait_for("a leader to apply", LIVE, || {
            tenant_report(&a, "ha").filter(|r| r["state"] == "in_sync")
        });
        assert_eq!(report["leader"], "replica-a", "the only replica leads");
        // More tenants than etcd's default --max-txn-ops (128): a new leader's first
        // round reports every tenant, in several fenced transactions.
        for i in 0..140 {
            put(
                &a,
                &format!("/api/v1/conditions/bulk-{i}"),
                json!({"tenant": format!("bulk-{i}")}),
            );
        }
        let mut b = GatewayProcess::start_with(&store, &flags("replica-b"));

        // kill -9 the leader: the other replica applies the next change.
        a.kill();
        put(
            &b,
            "/api/v1/conditions/second",
            json!({"tenant": "ha", "prometheus": {"query": "vector(2)"}}),
        );
        let report = wait_for("the follower to take over", LIVE, || {
            tenant_report(&b, "ha").filter(|r| {
                r["leader"] == "replica-b"
                    && r["rules"]["groups"] == json!(["condition:first", "condition:second"])
                    && r["state"] == "in_sync"
            })
        });
        let b_term = report["term"].as_u64().expect("term");
        let bulk = tenant_report(&b, "bulk-139").expect("every tenant is reported");
        assert_eq!(bulk["leader"], "replica-b");
        assert!(loaded_rule(&prom, "second").is_some());

        // A (restarted) replica c leads after b is paused; b, resumed, is fenced.
        let mut c = GatewayProcess::start_with(&store, &flags("replica-c"));
        b.signal("-STOP");
        put(
            &c,
            "/api/v1/conditions/third",
            json!({"tenant": "ha", "prometheus": {"query": "vector(3)"}}),
        );
        let report = wait_for("replica-c to lead and apply", LIVE, || {
            tenant_report(&c, "ha").filter(|r| {
                r["leader"] == "replica-c"
                    && r["state"] == "in_sync"
                    && r["rules"]["groups"]
                        == json!(["condition:first", "condition:second", "condition:third"])
            })
        });
        assert!(report["term"].as_u64().expect("term") > b_term);
        b.signal("-CONT");
        // The resumed replica's next write carries its old term and is refused.
        let deadline = std::time::Instant::now() + LIVE;
        loop {
            let logs = b.logs();
            if logs.contains("write was refused") || logs.contains("no longer leads") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the resumed replica neither was fenced nor noticed its loss:\n{logs}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let after = tenant_report(&c, "ha").expect("report");
        assert_eq!(
            after["leader"], "replica-c",
            "the deposed leader wrote nothing: {after}"
        );
        assert!(
            loaded_rule(&prom, "third").is_some(),
            "replica-c's rules stay"
        );
        c.kill();
        b.kill();
    }
}
