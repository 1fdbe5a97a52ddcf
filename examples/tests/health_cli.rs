//! `alert-health` as a user runs it: `eval` in every format and its exit codes, `serve`
//! and its routes, and `serve` posting alerts to a real Alertmanager, to every member of
//! an HA pair, and to a tenant of the Cortex/Mimir fixture (real Alertmanagers behind it).

mod health_support;

use std::path::Path;
use std::time::Duration;

use alert_testkit::cortex::CortexFixture;
use alert_testkit::{Alertmanager, MINIMAL_CONFIG, http, wait_until};
use health_support::{HealthServer, eval, serve_refused, write_graph};

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/health-shop.yml")
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn eval_prints_each_format_and_exits_0_whatever_the_states() {
    let out = eval(&fixture(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "passing : reports\n\
         \tpassing : db\n\
         \t\tfailing : db-primary\n\
         \t\t- ERROR: connection refused\n\
         \t\tpassing : db-replica\n\
         \tpassing : cache\n\
         failing : checkout\n\
         - ERROR: 1 of 2 not passing: payments\n\
         \tpassing : db (shown above)\n\
         \tfailing : payments\n\
         \t- ERROR: 1 of 1 not passing: payments-api\n\
         \t\tfailing : payments-api\n\
         \t\t- ERROR: HTTP 503, expected 200\n"
    );
    let out = eval(&fixture(), &["--only-failing"]);
    assert_eq!(
        stdout(&out),
        "failing : checkout\n\
         - ERROR: 1 of 2 not passing: payments\n\
         \tfailing : payments\n\
         \t- ERROR: 1 of 1 not passing: payments-api\n\
         \t\tfailing : payments-api\n\
         \t\t- ERROR: HTTP 503, expected 200\n"
    );
    let out = eval(&fixture(), &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["state"], "failing");
    assert_eq!(
        v["roots"][1]["children"][0],
        serde_json::json!({"ref": "db"})
    );
    let out = eval(&fixture(), &["--format", "statuspage"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["page"]["name"], "Shop status");
    assert_eq!(v["status"]["indicator"], "critical");
    let out = eval(&fixture(), &["--format", "html"]);
    assert!(stdout(&out).starts_with("<!DOCTYPE html>"));
}

#[test]
fn eval_exits_2_with_the_error_on_a_bad_graph() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        (
            "systems:\n  - {name: a, children: [b]}\n  - {name: b, children: [a]}\n",
            "alert-health: cycle in the health graph: a -> b -> a\n",
        ),
        (
            "sensors:\n  - {name: db-primary, constant: passing}\nsystems:\n  - {name: db, op: at_least, n: 1, children: [db-primary, db-replica]}\n",
            "alert-health: systems[0].children[1]: unknown node \"db-replica\"\n",
        ),
        (
            "sensors:\n  - {name: x, kind: \"acme.io:Widget\"}\n",
            "alert-health: no provider for kind=acme.io:Widget\n",
        ),
    ];
    for (i, (yaml, expected)) in cases.into_iter().enumerate() {
        let path = write_graph(dir.path(), &format!("bad{i}.yml"), yaml);
        let out = eval(&path, &[]);
        assert_eq!(out.status.code(), Some(2), "{yaml}");
        assert_eq!(stderr(&out), expected);
        assert!(stdout(&out).is_empty());
    }
    let path = write_graph(dir.path(), "syntax.yml", "sensors: [ {name: x\n");
    let out = eval(&path, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("syntax.yml: "), "{}", stderr(&out));
    assert!(stderr(&out).contains("line "), "{}", stderr(&out));
}

#[test]
fn serve_answers_every_route_and_json_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = HealthServer::start(dir.path(), &fixture(), &["--interval", "1s"]);
    let status = http::get_json(&server.url("/api/v1/status"));
    assert_eq!(status["state"], "failing");
    let only = http::get_json(&server.url("/api/v1/status?only_failing=true"));
    assert_eq!(only["roots"].as_array().map(Vec::len), Some(1));
    let explain = http::get_json(&server.url("/api/v1/explain/checkout"));
    assert_eq!(
        explain["paths"],
        serde_json::json!([
            "checkout -> payments -> payments-api (failing): HTTP 503, expected 200"
        ])
    );
    let summary = http::get_json(&server.url("/api/v2/summary.json"));
    assert_eq!(summary["status"]["indicator"], "critical");
    assert_eq!(summary["status"]["description"], "Critical System Outage");
    let page = http::get(&server.url("/")).ensure_success();
    // The page's banner in summary.json's words.
    assert!(
        page.body
            .contains("data-indicator=\"critical\">Critical System Outage</div>"),
        "{}",
        page.body
    );
    // Sensors' messages stay off the public pages (the fixture shows none);
    // the operator's API above has them.
    assert!(!page.body.contains("HTTP 503"));
    assert!(!summary.to_string().contains("HTTP 503"));
    let metrics = http::get(&server.url("/metrics")).ensure_success().body;
    assert!(metrics.contains("alert_health_node_state{node=\"checkout\",role=\"service\"} 4\n"));
    assert!(metrics.contains("alert_health_node_passing{node=\"reports\",role=\"service\"} 1\n"));
    // Passes keep coming on the interval.
    wait_until(Duration::from_secs(10), "a second pass", || {
        let m = http::get(&server.url("/metrics")).body;
        (!m.contains("alert_health_evaluations_total 1\n")).then_some(())
    });
    for (path, status, text) in [
        (
            "/api/v1/explain/nope",
            404,
            "no node named \"nope\" in the graph",
        ),
        ("/nowhere", 404, "no such route"),
        (
            "/api/v1/status?only_failing=maybe",
            400,
            "only_failing: expected true or false, got \"maybe\"",
        ),
        (
            "/api/v1/status?colour=red",
            400,
            "unknown query parameter \"colour\" (expected only_failing)",
        ),
    ] {
        let r = http::get(&server.url(path));
        assert_eq!(r.status, status, "{path}");
        assert_eq!(r.json()["error"], text, "{path}");
    }
    let r = http::post_json(&server.url("/api/v1/status"), &serde_json::json!({}));
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["error"], "method not allowed (only GET)");
}

#[test]
fn serve_alerts_a_real_alertmanager_and_resolves_on_recovery() {
    let dir = tempfile::tempdir().expect("temp dir");
    let am = Alertmanager::start(MINIMAL_CONFIG);
    // A TCP sensor on a port nobody listens on yet: failing until the test listens.
    let port = alert_testkit::free_port();
    let graph = write_graph(
        dir.path(),
        "tcp.yml",
        &format!(
            "sensors:\n  - {{name: queue-port, tcp: {{address: \"127.0.0.1:{port}\"}}, timeout: 2s}}\n\
             services:\n  - {{name: queue, system: queue-port}}\n\
             alerting: {{for: 0s, labels: {{team: platform}}}}\n"
        ),
    );
    let _server = HealthServer::start(
        dir.path(),
        &graph,
        &["--interval", "1s", "--alertmanager", &am.base_url()],
    );
    let ours = || -> Vec<serde_json::Value> {
        am.alerts()
            .into_iter()
            .filter(|a| a["labels"]["node"] == "queue")
            .collect()
    };
    let firing = wait_until(Duration::from_secs(20), "the queue alert", || {
        let a = ours();
        (!a.is_empty()).then_some(a)
    });
    assert_eq!(firing[0]["labels"]["alertname"], "HealthGraphNodeUnhealthy");
    assert_eq!(firing[0]["labels"]["team"], "platform");
    assert_eq!(firing[0]["labels"]["severity"], "critical");
    let explain = firing[0]["annotations"]["explain"].as_str().unwrap_or("");
    assert!(
        explain.starts_with("queue -> queue-port (failing): connecting to 127.0.0.1:"),
        "{explain}"
    );
    let _listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind the port");
    wait_until(
        Duration::from_secs(20),
        "the queue alert to resolve",
        || ours().is_empty().then_some(()),
    );
}

/// A graph whose one service fails at once (`for: 0s`), alerting nowhere by itself.
fn failing_graph(dir: &Path) -> std::path::PathBuf {
    write_graph(
        dir,
        "failing.yml",
        "sensors:\n  - {name: disk, constant: {state: failing, message: disk full}}\n\
         services:\n  - {name: storage, system: disk}\n\
         alerting: {for: 0s}\n",
    )
}

/// `serve` of [`failing_graph`] every second, posting where `flags` say.
fn serve_failing(dir: &Path, flags: &[&str]) -> HealthServer {
    let mut args = vec!["--interval", "1s"];
    args.extend_from_slice(flags);
    HealthServer::start(dir, &failing_graph(dir), &args)
}

/// The `storage` alerts in an `/api/v2/alerts` answer.
fn storage_alerts(alerts: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    alerts
        .into_iter()
        .filter(|a| a["labels"]["node"] == "storage")
        .collect()
}

/// Waits until `read` (an `/api/v2/alerts` answer) holds a `storage` alert.
fn wait_for_storage(
    where_: &str,
    read: impl Fn() -> Vec<serde_json::Value>,
) -> Vec<serde_json::Value> {
    wait_until(
        Duration::from_secs(20),
        &format!("the storage alert on {where_}"),
        || {
            let got = storage_alerts(read());
            (!got.is_empty()).then_some(got)
        },
    )
}

#[test]
fn serve_posts_to_every_member_named_by_alertmanager() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Two Alertmanagers that do not gossip: each holds only what is posted to it.
    let a = Alertmanager::start(MINIMAL_CONFIG);
    let b = Alertmanager::start(MINIMAL_CONFIG);
    let members = format!("{},{}", a.base_url(), b.base_url());
    let _server = serve_failing(dir.path(), &["--alertmanager", &members, "--quorum", "1"]);
    for am in [&a, &b] {
        let got = wait_for_storage(&am.base_url(), || am.alerts());
        assert_eq!(
            got[0]["labels"]["severity"],
            "critical",
            "{}",
            am.base_url()
        );
    }
}

#[test]
fn serve_posts_to_a_cortex_or_mimir_tenant() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cortex = CortexFixture::start();
    let envelope =
        "alertmanager_config: |\n  route: {receiver: team}\n  receivers: [{name: team}]\n";
    for tenant in ["tenant-a", "tenant-b"] {
        assert_eq!(cortex.post_config(tenant, envelope).status, 201);
        cortex.wait_running(tenant);
    }
    let url = cortex.url();
    let flags = [
        "--alertmanager",
        &url,
        "--backend",
        "mimir",
        "--tenant",
        "tenant-a",
    ];
    let _server = serve_failing(dir.path(), &flags);
    let alerts_of = |tenant: &str| -> Vec<serde_json::Value> {
        let r = cortex.get(tenant, "/alertmanager/api/v2/alerts");
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str(&r.body).expect("JSON")
    };
    let got = wait_for_storage("tenant-a", || alerts_of("tenant-a"));
    assert_eq!(got[0]["annotations"]["summary"], "storage is failing");
    assert!(
        storage_alerts(alerts_of("tenant-b")).is_empty(),
        "tenant-b holds none"
    );
    let posts: Vec<Option<String>> = cortex
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/alertmanager/api/v2/alerts")
        .map(|r| r.org_id)
        .collect();
    assert!(!posts.is_empty());
    assert!(
        posts.iter().all(|o| o.as_deref() == Some("tenant-a")),
        "{posts:?}"
    );
}

#[test]
fn serve_refuses_alertmanager_flags_that_do_not_go_together() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = failing_graph(dir.path());
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "--alertmanager",
                "http://127.0.0.1:9",
                "--backend",
                "cortex",
            ],
            "alert-health: --tenant: missing required value\n",
        ),
        (
            &["--alertmanager", "http://127.0.0.1:9", "--tenant", "t"],
            "alert-health: --tenant: expected no tenant for a vanilla Alertmanager",
        ),
        (
            &[
                "--alertmanager",
                "http://127.0.0.1:9",
                "--backend",
                "mimir",
                "--tenant",
                "a|b",
            ],
            "alert-health: --tenant: expected a tenant id Cortex and Mimir accept (",
        ),
        (
            &["--alertmanager", "127.0.0.1:9"],
            "alert-health: --alertmanager: expected an http:// or https:// base URL",
        ),
        (
            &["--alertmanager", "http://a:1,http://b:2", "--quorum", "3"],
            "alert-health: --quorum: expected from 1 to the number of members, 2",
        ),
    ];
    for (args, expected) in cases {
        let out = serve_refused(&graph, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // Flags that refine --alertmanager need it, and values are checked by clap.
    for args in [
        &["--tenant", "t"][..],
        &["--alertmanager", "http://127.0.0.1:9", "--backend", "loki"][..],
    ] {
        let out = serve_refused(&graph, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).starts_with("error: "),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
