//! Credentials never shown (issue #20): `alert-health` with an HTTP sensor and an
//! Alertmanager sensor whose URLs carry a `user:password@` and query-string tokens. No
//! `eval` format and no `serve` route (the status page, `/api/v1/status`,
//! `/api/v1/explain/*`, `summary.json`) shows them: status pages are often public.

mod health_support;

use alert_testkit::http;
use health_support::{HealthServer, eval, write_graph};

const PASSWORD: &str = "hunter2-pw";
const TOKEN: &str = "tok-4711-sekrit";

/// A loopback port with nothing listening.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

fn assert_no_secret(what: &str, text: &str) {
    for s in [PASSWORD, TOKEN] {
        assert!(!text.contains(s), "{what} shows {s:?}:\n{text}");
    }
}

/// The graph, its public page showing sensors' messages as `messages` says.
fn graph_with(dir: &std::path::Path, messages: &str) -> std::path::PathBuf {
    let port = closed_port();
    write_graph(
        dir,
        &format!("secret-urls-{messages}.yml"),
        &format!(
            r#"
page: {{name: Public status, messages: {messages}}}
sensors:
  - {{name: api, http: {{url: "http://admin:{PASSWORD}@127.0.0.1:{port}/healthz?token={TOKEN}"}}}}
  - {{name: alerts, alertmanager: {{urls: ["http://am:{PASSWORD}@127.0.0.1:{port}"]}}}}
systems:
  - {{name: shop, children: [api, alerts]}}
"#
        ),
    )
}

/// The graph, its public page showing sensors' messages (so that they are checked).
fn graph(dir: &std::path::Path) -> std::path::PathBuf {
    graph_with(dir, "shown")
}

#[test]
fn eval_shows_sensor_urls_without_credentials_in_every_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = graph(dir.path());
    for format in ["console", "json", "statuspage", "html"] {
        let out = eval(&graph, &["--format", format]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{format}: {stderr}");
        assert_no_secret(format, &stdout);
        assert_no_secret(format, &stderr);
        assert!(
            stdout.contains("@127.0.0.1:"),
            "{format} names the URL:\n{stdout}"
        );
    }
    // By default the public formats show no sensor's message, so no URL at all.
    let hidden = graph_with(dir.path(), "hidden");
    for format in ["statuspage", "html"] {
        let out = eval(&hidden, &["--format", format]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{format}");
        assert!(!stdout.contains("127.0.0.1"), "{format}:\n{stdout}");
    }
    let out = eval(&graph, &[]);
    let console = String::from_utf8_lossy(&out.stdout);
    assert!(
        console.contains("- ERROR: GET http://<secret>@127.0.0.1:"),
        "{console}"
    );
    assert!(console.contains("/healthz?token=<secret>: "), "{console}");
    assert!(
        console.contains("alertmanager at http://<secret>@127.0.0.1:"),
        "{console}"
    );
}

#[test]
fn serve_shows_sensor_urls_without_credentials_on_every_route() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = graph(dir.path());
    let server = HealthServer::start(dir.path(), &graph, &["--interval", "30s"]);
    for route in [
        "/",
        "/api/v1/status",
        "/api/v1/status?only_failing=true",
        "/api/v1/explain/shop",
        "/api/v1/explain/api",
        "/api/v1/explain/alerts",
        "/api/v2/summary.json",
        "/metrics",
    ] {
        let answer = http::get(&server.url(route));
        assert_eq!(answer.status, 200, "{route}: {}", answer.body);
        assert_no_secret(route, &answer.body);
    }
    let status = http::get(&server.url("/api/v1/status")).body;
    assert!(
        status.contains("/healthz?token=<secret>"),
        "names the URL: {status}"
    );
    assert_no_secret("the server's log", &server.logs());
}
