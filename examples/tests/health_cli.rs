//! `alert-health` as a user runs it: `eval` in every format and its exit codes, `serve`
//! and its routes, and `serve` posting alerts to a real Alertmanager.

mod health_support;

use std::path::Path;
use std::time::Duration;

use alert_testkit::{Alertmanager, MINIMAL_CONFIG, http, wait_until};
use health_support::{HealthServer, eval, write_graph};

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
    let page = http::get(&server.url("/")).ensure_success();
    assert!(page.body.contains("Major System Outage"));
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
