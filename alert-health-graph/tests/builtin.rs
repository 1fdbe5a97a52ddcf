//! The built-in sensors against real servers: wiremock stand-ins for HTTP endpoints,
//! Prometheus and a remote graph, loopback sockets for TCP, and a real Alertmanager
//! (alert-testkit) for the Alertmanager-alerts sensor.
#![cfg(feature = "http")]

mod sensor_support;

use std::time::Duration;

use alert_health_graph::builtin::{self, Sources};
use alert_health_graph::{Engine, GraphFile, Level, State, StatusMessage};
use alert_testkit::{Alertmanager, MINIMAL_CONFIG};
use sensor_support::{evaluate, status, texts};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A loopback port with nothing listening.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

#[tokio::test]
async fn http_check_judges_status_body_latency_and_refusal() {
    let server = MockServer::start().await;
    Mock::given(path("/ok"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"status":"ok"}"#))
        .mount(&server)
        .await;
    Mock::given(path("/down"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(300)))
        .mount(&server)
        .await;
    Mock::given(path("/stuck"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let base = server.uri();
    let refused = closed_port();
    let snap = evaluate(&format!(
        r#"
sensors:
  - {{name: ok, http: {{url: "{base}/ok", body_match: '"status":"ok"'}}}}
  - {{name: down, http: {{url: "{base}/down"}}}}
  - {{name: down-expected, http: {{url: "{base}/down", expect_status: [500, 503]}}}}
  - {{name: wrong-body, http: {{url: "{base}/ok", body_match: "healthy"}}}}
  - {{name: slow, http: {{url: "{base}/slow", latency_warn: 100ms}}}}
  - {{name: stuck, http: {{url: "{base}/stuck", timeout: 1s}}}}
  - {{name: refused, http: {{url: "http://127.0.0.1:{refused}/"}}}}
"#
    ))
    .await;
    assert_eq!(status(&snap, "ok").state, State::Passing);
    assert!(texts(&snap, "ok")[0].starts_with("HTTP 200 in "));
    assert_eq!(status(&snap, "down").state, State::Failing);
    assert_eq!(texts(&snap, "down"), ["HTTP 503, expected 200"]);
    assert_eq!(status(&snap, "down-expected").state, State::Passing);
    assert_eq!(status(&snap, "wrong-body").state, State::Failing);
    assert_eq!(
        texts(&snap, "wrong-body"),
        ["body does not match /healthy/"]
    );
    assert_eq!(status(&snap, "slow").state, State::Degraded);
    assert!(texts(&snap, "slow")[0].ends_with(", above 100ms"));
    assert_eq!(status(&snap, "stuck").state, State::Unknown);
    assert_eq!(texts(&snap, "stuck"), ["timed out after 1s"]);
    assert_eq!(status(&snap, "refused").state, State::Failing);
    assert!(
        texts(&snap, "refused")[0].starts_with(&format!("GET http://127.0.0.1:{refused}/: ")),
        "{:?}",
        texts(&snap, "refused")
    );
}

#[tokio::test]
async fn tcp_connect_passes_on_a_listener_and_fails_on_a_closed_port() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let open = listener.local_addr().expect("addr");
    let closed = closed_port();
    let snap = evaluate(&format!(
        "sensors:\n  - {{name: open, tcp: {{address: \"{open}\"}}}}\n  - {{name: closed, tcp: {{address: \"127.0.0.1:{closed}\"}}}}\n"
    ))
    .await;
    assert_eq!(status(&snap, "open").state, State::Passing);
    assert_eq!(texts(&snap, "open"), [format!("connected to {open}")]);
    assert_eq!(status(&snap, "closed").state, State::Failing);
    assert!(texts(&snap, "closed")[0].starts_with(&format!("connecting to 127.0.0.1:{closed}: ")));
}

#[tokio::test]
async fn prometheus_thresholds_share_one_query_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/query"))
        .and(query_param("query", "up"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success",
            "data": {"resultType": "vector", "result": [
                {"metric": {"__name__": "up", "instance": "a:80"}, "value": [1700000000.0, "1"]},
                {"metric": {"__name__": "up", "instance": "b:80"}, "value": [1700000000.0, "0"]},
                {"metric": {"__name__": "up", "instance": "c:80"}, "value": [1700000000.0, "0.5"]}
            ]}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/query"))
        .and(query_param("query", "vector(3)"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success",
            "data": {"resultType": "scalar", "result": [1700000000.0, "3"]}
        })))
        .mount(&server)
        .await;
    let url = server.uri();
    let snap = evaluate(&format!(
        r#"
sensors:
  - {{name: a, prometheus: {{url: "{url}", query: up, select: {{instance: "a:80"}}, fail_if: "< 1"}}}}
  - {{name: b, prometheus: {{url: "{url}", query: up, select: {{instance: "b:80"}}, fail_if: "< 1"}}}}
  - {{name: c, prometheus: {{url: "{url}", query: up, select: {{instance: "c:80"}}, fail_if: "< 0.5", warn_if: "< 1"}}}}
  - {{name: none, prometheus: {{url: "{url}", query: up, select: {{instance: "z:80"}}, fail_if: "< 1"}}}}
  - {{name: all, prometheus: {{url: "{url}", query: up, fail_if: "< 1"}}}}
  - {{name: scalar, prometheus: {{url: "{url}", query: "vector(3)", fail_if: "> 2"}}}}
"#
    ))
    .await;
    assert_eq!(status(&snap, "a").state, State::Passing);
    assert_eq!(status(&snap, "b").state, State::Failing);
    assert_eq!(
        texts(&snap, "b"),
        [r#"{__name__="up", instance="b:80"} = 0 (< 1)"#]
    );
    assert_eq!(status(&snap, "c").state, State::Degraded);
    assert_eq!(status(&snap, "none").state, State::Unknown);
    assert_eq!(texts(&snap, "none"), ["query returned no selected series"]);
    assert_eq!(status(&snap, "all").state, State::Failing);
    assert_eq!(status(&snap, "all").messages.len(), 3);
    assert_eq!(status(&snap, "scalar").state, State::Failing);
    // Dropping the server checks `.expect(1)`: five sensors on "up", one call.
}

#[tokio::test]
async fn remote_graphs_are_read_as_sensors() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "state": "degraded",
            "evaluated_at": "2024-05-01T10:00:00Z",
            "roots": [
                {"name": "billing", "kind": "service", "state": "degraded",
                 "messages": [{"severity": "warn", "text": "1 of 2 not passing: invoices"}],
                 "children": [
                    {"name": "invoices", "kind": "system", "state": "degraded",
                     "messages": [{"severity": "warn", "text": "queue slow"}], "children": []},
                    {"name": "ledger", "kind": "sensor", "state": "passing", "messages": [], "children": []}
                 ]},
                {"name": "audit", "kind": "service", "state": "passing", "messages": [],
                 "children": [{"ref": "ledger"}]}
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}/api/v1/status", server.uri());
    let snap = evaluate(&format!(
        r#"
sensors:
  - {{name: whole, remote: {{url: "{url}"}}}}
  - {{name: invoices, remote: {{url: "{url}", node: invoices}}}}
  - {{name: ledger, remote: {{url: "{url}", node: ledger}}}}
  - {{name: ghost, remote: {{url: "{url}", node: ghost}}}}
"#
    ))
    .await;
    assert_eq!(status(&snap, "whole").state, State::Degraded);
    assert_eq!(texts(&snap, "whole"), ["billing is degraded"]);
    assert_eq!(status(&snap, "invoices").state, State::Degraded);
    assert_eq!(
        status(&snap, "invoices").messages,
        [StatusMessage::new(Level::Warn, "queue slow")]
    );
    assert_eq!(status(&snap, "ledger").state, State::Passing);
    assert_eq!(status(&snap, "ghost").state, State::Unknown);
    assert!(texts(&snap, "ghost")[0].ends_with("no node named \"ghost\" in the graph"));
}

#[tokio::test(flavor = "multi_thread")]
async fn alertmanager_alerts_become_sensor_states_with_one_call_per_filter() {
    let am = tokio::task::spawn_blocking(|| Alertmanager::start(MINIMAL_CONFIG))
        .await
        .expect("started");
    let alerts = json!([
        {"labels": {"alertname": "DiskFull", "service": "db", "severity": "critical", "instance": "db1"},
         "annotations": {"summary": "disk 98% full"}},
        {"labels": {"alertname": "SlowQueries", "service": "db", "severity": "warning"}},
        {"labels": {"alertname": "CacheCold", "service": "cache", "severity": "info"}},
        {"labels": {"alertname": "Mystery", "service": "queue"}}
    ]);
    am.post_alerts(&alerts).ensure_success();
    let url = am.base_url();
    let yaml = format!(
        r#"
sensors:
  - {{name: db, alertmanager: {{url: "{url}", filter: ['service="db"']}}}}
  - {{name: db-warn, alertmanager: {{url: "{url}", filter: ['service="db"', 'severity="warning"']}}}}
  - {{name: cache, alertmanager: {{url: "{url}", filter: ['service="cache"']}}}}
  - {{name: queue, alertmanager: {{url: "{url}", filter: ['service="queue"'], unlabelled: degraded}}}}
  - {{name: quiet, alertmanager: {{url: "{url}", filter: ['service="web"']}}}}
  - {{name: bad, alertmanager: {{url: "{url}", filter: ['service=~"(']}}}}
"#
    );
    let snap = evaluate(&yaml).await;
    assert_eq!(status(&snap, "db").state, State::Failing);
    assert_eq!(
        status(&snap, "db").messages,
        [
            StatusMessage::new(
                Level::Error,
                r#"firing: DiskFull{instance="db1", service="db", severity="critical"}: disk 98% full"#
            ),
            StatusMessage::new(
                Level::Warn,
                r#"firing: SlowQueries{service="db", severity="warning"}"#
            ),
        ]
    );
    assert_eq!(status(&snap, "db-warn").state, State::Degraded);
    assert_eq!(status(&snap, "cache").state, State::Passing);
    assert_eq!(status(&snap, "queue").state, State::Degraded);
    assert_eq!(status(&snap, "quiet").state, State::Passing);
    assert_eq!(texts(&snap, "quiet"), ["no alerts firing"]);
    // Alertmanager's own validation of the filter is kept as the sensor's message.
    assert_eq!(status(&snap, "bad").state, State::Unknown);
    assert!(
        texts(&snap, "bad")[0].contains("HTTP 400"),
        "{:?}",
        texts(&snap, "bad")
    );
}

/// A `gettableAlert` as Alertmanager 0.25 answers it.
fn gettable(fingerprint: &str, labels: serde_json::Value) -> serde_json::Value {
    json!({
        "annotations": {}, "endsAt": "2030-01-01T00:00:00.000Z", "fingerprint": fingerprint,
        "receivers": [{"name": "blackhole"}], "startsAt": "2024-05-01T10:00:00.000Z",
        "status": {"inhibitedBy": [], "silencedBy": [], "state": "active"},
        "updatedAt": "2024-05-01T10:00:00.000Z", "labels": labels
    })
}

#[tokio::test]
async fn alertmanager_sensors_with_one_filter_share_one_call_and_match_locally() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/alerts"))
        .and(query_param("filter", "service=\"db\""))
        .and(query_param("active", "true"))
        .and(query_param("silenced", "false"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            gettable(
                "0a",
                json!({"alertname": "A", "severity": "critical", "shard": "3"})
            ),
            gettable(
                "0b",
                json!({"alertname": "B", "severity": "warning", "shard": "5"})
            )
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let url = server.uri();
    let mut yaml = String::from("sensors:\n");
    for i in 0..8 {
        yaml.push_str(&format!(
            "  - {{name: s{i}, alertmanager: {{url: \"{url}\", filter: ['service=\"db\"'], \
             matchers: ['shard=\"{i}\"']}}}}\n"
        ));
    }
    yaml.push_str(&format!(
        "  - {{name: any, alertmanager: {{url: \"{url}\", filter: ['service=\"db\"'], \
         matchers: ['shard=~\"[0-9]\"']}}}}\n"
    ));
    let snap = evaluate(&yaml).await;
    for i in 0..8 {
        let expected = match i {
            3 => State::Failing,
            5 => State::Degraded,
            _ => State::Passing,
        };
        assert_eq!(status(&snap, &format!("s{i}")).state, expected, "s{i}");
    }
    assert_eq!(status(&snap, "any").state, State::Failing);
    assert_eq!(status(&snap, "any").messages.len(), 2);
    // Nine sensors, one filter: `.expect(1)` is checked when the server drops.
}

#[tokio::test]
async fn alertmanager_sensors_address_a_tenant_by_path_template() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/team-a/prom/alertmanager/api/v2/alerts"))
        .and(query_param("filter", "service=\"queue\""))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([gettable(
            "0c",
            json!({"alertname": "QueueSlow", "service": "queue", "severity": "warning"})
        )])))
        .expect(1)
        .mount(&server)
        .await;
    let url = server.uri();
    let snap = evaluate(&format!(
        "sensors:\n  - {{name: q, alertmanager: {{url: \"{url}\", path_template: \"/{{tenant}}/prom/alertmanager\", \
         tenant: team-a, filter: ['service=\"queue\"']}}}}\n"
    ))
    .await;
    assert_eq!(status(&snap, "q").state, State::Degraded);
    assert_eq!(
        texts(&snap, "q"),
        [r#"firing: QueueSlow{service="queue", severity="warning"}"#]
    );
    // The tenant is in the path; no X-Scope-OrgID is sent.
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 1);
    assert!(!requests[0].headers.contains_key("x-scope-orgid"));
}

#[test]
fn bad_client_side_matchers_are_located() {
    let file = GraphFile::parse(
        "sensors:\n  - {name: x, alertmanager: {url: \"http://127.0.0.1:9\", matchers: ['a=~\"(\"']}}\n",
        "t.yml",
    )
    .expect("parses");
    let err = file
        .assemble(&builtin::registry(&Sources::default()))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("sensors[0].alertmanager: instrumenting kind=alert-health:alertmanager: matchers[0]: error parsing regexp"),
        "{err}"
    );
}

/// The JSON visualiser and the remote sensor agree: a graph reading another graph's JSON
/// output sees every node's state and messages as the other graph judged them, shared
/// nodes (written by reference) included.
#[tokio::test]
async fn remote_sensors_read_back_what_the_json_visualiser_wrote() {
    use alert_health_graph::visualiser::Visualiser;
    use alert_health_graph::visualiser::json::Json;
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shop.yml");
    let shop = GraphFile::load(&fixture)
        .expect("fixture")
        .assemble(&builtin::basic_registry())
        .expect("assembles");
    let original = Engine::new(shop.graph, shop.sensors).evaluate().await;
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/status"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(Json::default().render(&original), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}/api/v1/status", server.uri());
    let graph = original.graph().clone();
    let mut yaml = format!("sensors:\n  - {{name: whole, remote: {{url: \"{url}\"}}}}\n");
    for id in graph.ids() {
        let name = &graph.node(id).name;
        yaml.push_str(&format!(
            "  - {{name: \"r-{name}\", remote: {{url: \"{url}\", node: \"{name}\"}}}}\n"
        ));
    }
    let mirror = evaluate(&yaml).await;
    for id in graph.ids() {
        let name = &graph.node(id).name;
        let got = status(&mirror, &format!("r-{name}"));
        assert_eq!(got.state, original.status(id).state, "{name}");
        assert_eq!(got.messages, original.status(id).messages, "{name}");
    }
    assert_eq!(status(&mirror, "whole").state, original.overall());
}
