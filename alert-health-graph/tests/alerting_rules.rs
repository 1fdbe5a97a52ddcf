//! The alert-rule instrumentors against a REAL Prometheus 2.42 (through the test kit;
//! missing, the test fails with the install command): the rule file
//! `fixtures/rules/shop-rules.yml` (a rule always firing with two instances, one pending
//! for an hour, one never true, two that fail at every evaluation) is loaded, and once
//! every rule has been evaluated a graph of its file, groups and rules is judged:
//! verdicts, messages, a group that is not there, a fetch that fails, credentials never
//! shown, and one `GET /api/v1/rules` per pass for all the sensors (counted by
//! Prometheus itself, `prometheus_http_requests_total{handler="/api/v1/rules"}`).
//!
//! Grafana cannot be installed here: its rules API is the test kit's fixture
//! (`alert_testkit::grafana`, which says what it follows), read through the same
//! instrumentors: folders, groups, a dashboard, NoData and errored rules, a group deleted,
//! a server error, refused credentials, and the fixture's request log counting fetches.
#![cfg(feature = "http")]

use std::time::Duration;

use alert_health_graph::alerting_rules::{self, RuleReads};
use alert_health_graph::builtin::Sources;
use alert_health_graph::visualiser::Visualiser;
use alert_health_graph::visualiser::console::Console;
use alert_health_graph::{Engine, GraphFile, Snapshot, State, builtin};
use alert_testkit::grafana::{AlertRule, GrafanaFixture, RULES_PATH};
use alert_testkit::{Prometheus, wait_until};

/// A Prometheus evaluating `shop-rules.yml` every second, once every rule has been
/// evaluated (none has health `unknown`) and the rule that always fires fires.
fn prometheus(dir: &tempfile::TempDir) -> Prometheus {
    std::fs::write(
        dir.path().join("shop.yml"),
        include_str!("fixtures/rules/shop-rules.yml"),
    )
    .expect("the rule file is written");
    let prom = Prometheus::builder()
        .rules_dir(dir.path())
        .evaluation_interval("1s")
        .start();
    wait_until(
        Duration::from_secs(30),
        "every rule of shop.yml evaluated",
        || {
            let groups = prom.rules();
            let rules: Vec<&serde_json::Value> = groups
                .iter()
                .flat_map(|g| g["rules"].as_array().into_iter().flatten())
                .collect();
            let evaluated = rules.len() == 6 && rules.iter().all(|r| r["health"] != "unknown");
            let fires = rules
                .iter()
                .any(|r| r["name"] == "AlwaysFiring" && r["state"] == "firing");
            (evaluated && fires).then_some(())
        },
    );
    prom
}

/// How many `GET /api/v1/rules` Prometheus has answered, by its own counter.
fn rules_requests(prom: &Prometheus) -> u64 {
    let metrics = prom.get("/metrics").ensure_success().body;
    metrics
        .lines()
        .filter(|l| {
            l.starts_with("prometheus_http_requests_total{")
                && l.contains(r#"handler="/api/v1/rules""#)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn graph(url: &str) -> String {
    format!(
        r#"
sensors:
  - name: shop-rules
    kind: prometheus.io/Rules
    params: {{url: "{url}", file: shop.yml, groups: [shop, broken]}}
  - name: shop-group
    kind: prometheus.io/RuleGroup
    params: {{url: "{url}", group: shop, rules: [AlwaysFiring, SlowBurn, NeverFires], bearer_token: s3cr3t-t0ken}}
  - name: bad-regex
    kind: prometheus.io/Rule
    params: {{url: "{url}", rule: BadRegex}}
  - name: checkout
    kind: prometheus.io/RuleGroup
    params: {{url: "{url}", file: shop.yml, group: checkout}}
services:
  - {{name: shop, system: shop-rules}}
"#
    )
}

async fn evaluate(yaml: &str, reads: RuleReads) -> Snapshot {
    let file = GraphFile::parse(yaml, "rules.yml").expect("the graph parses");
    let mut registry = builtin::basic_registry();
    registry.extend(&alerting_rules::registry(reads));
    let built = file.assemble(&registry).expect("the graph assembles");
    Engine::new(built.graph, built.sensors).evaluate().await
}

fn state(s: &Snapshot, name: &str) -> State {
    s.state_of(name).expect("node exists")
}

fn messages(s: &Snapshot, name: &str) -> Vec<String> {
    let id = s.graph().find(name).expect("node exists");
    s.status(id)
        .messages
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_rule_file_judged_as_a_service_of_groups_and_rules() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let prom = prometheus(&dir);
    let reads = RuleReads::new(Sources::default().client);
    let before = rules_requests(&prom);
    let s = evaluate(&graph(&prom.base_url()), reads.clone()).await;

    // Seven sensors on one endpoint (one with a bearer token: its own answer), so two
    // requests; never one per sensor.
    let after = wait_until(
        Duration::from_secs(10),
        "Prometheus to count the requests",
        || {
            let n = rules_requests(&prom);
            (n >= before + 2).then_some(n)
        },
    );
    assert_eq!(
        after - before,
        2,
        "one GET /api/v1/rules per endpoint and credentials"
    );

    assert_eq!(state(&s, "shop"), State::Failing);
    assert_eq!(state(&s, "shop-rules/shop"), State::Failing);
    assert_eq!(
        messages(&s, "shop-rules/shop"),
        [
            r#"ERROR: rule AlwaysFiring (group shop): firing, 2 instances: {instance="web-1"}, {instance="web-2"}"#,
            "WARN: rule SlowBurn (group shop): pending, 1 instance: {}",
            "INFO: rule NeverFires (group shop): inactive",
        ]
    );
    assert_eq!(state(&s, "shop-group/AlwaysFiring"), State::Failing);
    assert_eq!(state(&s, "shop-group/SlowBurn"), State::Degraded);
    assert_eq!(state(&s, "shop-group/NeverFires"), State::Passing);
    assert_eq!(state(&s, "shop-rules/broken"), State::Unknown);
    let broken = messages(&s, "shop-rules/broken");
    assert!(
        broken[0].starts_with(
            "WARN: rule ManyToMany (group broken): evaluation failed: found duplicate series for \
             the match group {} on the right hand-side of the operation"
        ),
        "{broken:?}"
    );
    assert_eq!(
        messages(&s, "bad-regex"),
        [
            "WARN: rule BadRegex (group broken): evaluation failed: invalid regular expression in label_replace(): ("
        ]
    );
    assert_eq!(state(&s, "checkout"), State::Unknown);
    assert_eq!(
        messages(&s, "checkout"),
        ["WARN: group checkout not found in file shop.yml (groups: broken, shop)"]
    );
    let why = s.explain(s.graph().find("shop").expect("node exists"));
    assert_eq!(
        why.paths()[0].to_string(),
        concat!(
            "shop -> shop-rules -> shop-rules/shop (failing): ",
            r#"rule AlwaysFiring (group shop): firing, 2 instances: {instance="web-1"}, {instance="web-2"}; "#,
            "rule SlowBurn (group shop): pending, 1 instance: {}; rule NeverFires (group shop): inactive"
        )
    );
    let shown = Console::default().render(&s);
    assert!(!shown.contains("s3cr3t-t0ken"), "{shown}");

    // Within the TTL the next pass reads nothing more.
    let _ = evaluate(&graph(&prom.base_url()), reads).await;
    assert_eq!(rules_requests(&prom), after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fetch_makes_every_sensor_of_the_endpoint_unknown_with_the_reason() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let prom = prometheus(&dir);
    // A path prefix Prometheus does not serve (404), credentials in the URL, and a port
    // nobody listens on.
    let base = prom.base_url().replace("http://", "http://admin:pa55w0rd@");
    let refused = format!("http://127.0.0.1:{}", alert_testkit::free_port());
    let yaml = format!(
        r#"
sensors:
  - {{name: a, kind: prometheus.io/Rule, params: {{url: "{base}/prefix", rule: AlwaysFiring}}}}
  - {{name: b, kind: prometheus.io/RuleGroup, params: {{url: "{base}/prefix", group: shop}}}}
  - {{name: c, kind: prometheus.io/Rules, params: {{url: "{refused}"}}}}
  - {{name: d, kind: prometheus.io/Rule, params: {{url: "{base}", rule: NeverFires}}}}
"#
    );
    let s = evaluate(&yaml, RuleReads::new(Sources::default().client)).await;
    let shown_base = prom.base_url().replace("http://", "http://<secret>@");
    for name in ["a", "b"] {
        assert_eq!(state(&s, name), State::Unknown);
        assert_eq!(
            messages(&s, name),
            [format!(
                "ERROR: {shown_base}/prefix/api/v1/rules?type=alert: unexpected response: HTTP 404: 404 page not found"
            )]
        );
    }
    assert_eq!(state(&s, "c"), State::Unknown);
    assert!(
        messages(&s, "c")[0].starts_with(&format!("ERROR: {refused}/api/v1/rules?type=alert: ")),
        "{:?}",
        messages(&s, "c")
    );
    assert_eq!(state(&s, "d"), State::Passing);
    let shown = Console::default().render(&s);
    assert!(!shown.contains("pa55w0rd"), "{shown}");
}

/// The rules of `fixtures/rules/grafana.json`, in the fixture: two folders, a firing rule
/// with three instances, a NoData rule, an errored one, two linked to a dashboard.
fn grafana() -> GrafanaFixture {
    let grafana = GrafanaFixture::builder()
        .user("viewer", "v1ewer-pw")
        .start();
    let error = "[sse.dataQueryError] failed to execute query [A]: Post \"http://prometheus:9090/api/v1/query\": dial tcp: connection refused";
    for rule in [
        AlertRule::new("Platform", "platform-uid", "cpu", "High CPU", "cpu-high")
            .label("team", "dba")
            .instance("Alerting", &[("host", "db-1")])
            .instance("Alerting", &[("host", "db-2")])
            .instance("Normal", &[("host", "db-3")]),
        AlertRule::new("Platform", "platform-uid", "disk", "Disk full", "disk-full")
            .health("nodata", None)
            .instance("NoData", &[("datasource_uid", "prom-uid"), ("ref_id", "A")]),
        AlertRule::new(
            "Platform",
            "platform-uid",
            "disk",
            "Inode usage",
            "inode-usage",
        )
        .health("error", Some(error))
        .instance("Error", &[("datasource_uid", "prom-uid"), ("ref_id", "A")]),
        AlertRule::new(
            "Shop",
            "shop-uid",
            "checkout",
            "Checkout latency",
            "checkout-latency",
        )
        .annotation("__dashboardUid__", "checkout-dash")
        .annotation("__panelId__", "4")
        .pending_period(600)
        .instance("Pending", &[("route", "/pay")]),
        AlertRule::new(
            "Shop",
            "shop-uid",
            "checkout",
            "Checkout errors",
            "checkout-errors",
        )
        .annotation("__dashboardUid__", "checkout-dash")
        .annotation("__panelId__", "2")
        .instance("Normal", &[]),
    ] {
        grafana.add_rule(rule);
    }
    grafana
}

/// Which credentials each request carried (never their value), sorted.
fn credentials_sent(grafana: &GrafanaFixture) -> Vec<String> {
    let mut sent: Vec<String> = grafana
        .requests()
        .into_iter()
        .map(|r| r.credentials)
        .collect();
    sent.sort();
    sent
}

fn grafana_graph(grafana: &GrafanaFixture) -> String {
    let (url, token) = (grafana.url(), grafana.token());
    format!(
        r#"
sensors:
  - name: platform
    kind: grafana.com/Folder
    params: {{url: "{url}", bearer_token: "{token}", folder: Platform, groups: [cpu, disk]}}
  - name: checkout-board
    kind: grafana.com/Dashboard
    params: {{url: "{url}", bearer_token: "{token}", dashboard_uid: checkout-dash}}
  - name: inode
    kind: grafana.com/Rule
    params: {{url: "{url}", basic_auth: {{username: viewer, password: v1ewer-pw}}, rule_uid: inode-usage}}
services:
  - {{name: platform-alerts, system: platform}}
  - {{name: checkout, system: checkout-board}}
"#
    )
}

#[tokio::test]
async fn grafana_folders_groups_and_dashboards_through_the_fixture() {
    let grafana = grafana();
    let s = evaluate(
        &grafana_graph(&grafana),
        RuleReads::new(Sources::default().client),
    )
    .await;
    // Four sensors, two sets of credentials: two requests.
    assert_eq!(grafana.count(RULES_PATH), 2);
    assert_eq!(credentials_sent(&grafana), ["basic", "bearer"]);

    assert_eq!(state(&s, "platform-alerts"), State::Failing);
    assert_eq!(
        messages(&s, "platform/cpu"),
        [
            r#"ERROR: rule High CPU (folder Platform, group cpu): firing, 2 instances: {host="db-1"}, {host="db-2"}"#
        ]
    );
    assert_eq!(state(&s, "platform/disk"), State::Unknown);
    assert_eq!(
        messages(&s, "platform/disk"),
        [
            "WARN: rule Disk full (folder Platform, group disk): no data (1 instance NoData)",
            "WARN: rule Inode usage (folder Platform, group disk): evaluation failed: [sse.dataQueryError] \
             failed to execute query [A]: Post \"http://prometheus:9090/api/v1/query\": dial tcp: connection refused",
        ]
    );
    assert_eq!(state(&s, "checkout"), State::Degraded);
    assert_eq!(
        messages(&s, "checkout-board"),
        [
            r#"WARN: rule Checkout latency (folder Shop, group checkout): pending, 1 instance: {route="/pay"}"#,
            "INFO: rule Checkout errors (folder Shop, group checkout): inactive",
        ]
    );
    assert_eq!(state(&s, "inode"), State::Unknown);

    // The fixture answers what the unit tests read from fixtures/rules/grafana.json.
    let answer = grafana.rules_answer();
    let authored: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/rules/grafana.json")).expect("JSON");
    let shape = |v: &serde_json::Value| -> Vec<(String, String, String, String)> {
        v["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| {
                g["rules"].as_array().into_iter().flatten().map(move |r| {
                    (
                        format!("{}/{}", g["file"], g["name"]),
                        r["name"].to_string(),
                        r["state"].to_string(),
                        r["health"].to_string(),
                    )
                })
            })
            .collect()
    };
    assert_eq!(shape(&answer), shape(&authored));

    // A group deleted: its sensor says so; a server error: every sensor of the endpoint
    // is Unknown with Grafana's error.
    grafana.delete_group("Platform", "disk");
    let s = evaluate(
        &grafana_graph(&grafana),
        RuleReads::new(Sources::default().client),
    )
    .await;
    assert_eq!(
        (state(&s, "platform/disk"), messages(&s, "platform/disk")),
        (
            State::Unknown,
            vec!["WARN: group disk not found in folder Platform (groups: cpu)".to_owned()]
        )
    );
    grafana.fail_rules(Some("database is locked"));
    let s = evaluate(
        &grafana_graph(&grafana),
        RuleReads::new(Sources::default().client),
    )
    .await;
    let expected = format!(
        "ERROR: {}{RULES_PATH}: unexpected response: HTTP 500: server_error: failure getting rules: database is locked",
        grafana.url()
    );
    for name in ["platform/cpu", "platform/disk", "checkout-board", "inode"] {
        assert_eq!(state(&s, name), State::Unknown, "{name}");
        assert_eq!(
            messages(&s, name),
            std::slice::from_ref(&expected),
            "{name}"
        );
    }
}

#[tokio::test]
async fn grafana_refuses_bad_credentials_with_its_reasons_and_none_is_shown() {
    let grafana = grafana();
    let url = grafana.url();
    let yaml = format!(
        r#"
sensors:
  - {{name: token, kind: grafana.com/Rule, params: {{url: "{url}", bearer_token: glsa_wr0ng, rule: High CPU}}}}
  - {{name: password, kind: grafana.com/Rule, params: {{url: "{url}", basic_auth: {{username: viewer, password: wr0ng-pw}}, rule: High CPU}}}}
  - {{name: in-url, kind: grafana.com/Rule, params: {{url: "http://viewer:urlpa55@{host}", rule: High CPU}}}}
  - {{name: none, kind: grafana.com/Rule, params: {{url: "{url}", rule: High CPU}}}}
"#,
        host = url.trim_start_matches("http://")
    );
    let s = evaluate(&yaml, RuleReads::new(Sources::default().client)).await;
    let at = format!("{url}{RULES_PATH}: unexpected response: HTTP 401: ");
    let shown_at = format!(
        "http://<secret>@{}{RULES_PATH}: unexpected response: HTTP 401: ",
        url.trim_start_matches("http://")
    );
    for (name, expected) in [
        ("token", format!("{at}Invalid API key (api-key.invalid)")),
        (
            "password",
            format!("{at}Invalid username or password (basic-auth.invalid-credentials)"),
        ),
        (
            "in-url",
            format!("{shown_at}Invalid username or password (basic-auth.invalid-credentials)"),
        ),
        ("none", format!("{at}Unauthorized (auth.unauthorized)")),
    ] {
        assert_eq!(state(&s, name), State::Unknown, "{name}");
        assert_eq!(messages(&s, name), [format!("ERROR: {expected}")], "{name}");
    }
    assert_eq!(
        credentials_sent(&grafana),
        ["basic", "basic", "bearer", "none"]
    );
    let shown = Console::default().render(&s);
    for secret in ["glsa_wr0ng", "wr0ng-pw", "urlpa55"] {
        assert!(!shown.contains(secret), "{secret} shown: {shown}");
    }
}
