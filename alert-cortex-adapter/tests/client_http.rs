//! The client against scripted HTTP servers (wiremock): paths, headers, query strings,
//! status-code mapping, retries and timeouts. Real Alertmanager processes are exercised
//! in the other test files; these cover the error paths a real server will not produce
//! on demand.

use std::time::Duration;

use alert_core::LabelSet;
use alert_cortex_adapter::{
    Addressing, AlertQuery, AlertmanagerClient, Backoff, Error, PostableAlert, UserConfig,
};
use wiremock::matchers::{body_string_contains, header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn fast_backoff(attempts: u32) -> Backoff {
    Backoff {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(20),
        multiplier: 2.0,
        max_attempts: attempts,
        jitter: false,
    }
}

fn client(server: &MockServer, addressing: Addressing) -> AlertmanagerClient {
    AlertmanagerClient::builder(server.uri())
        .addressing(addressing)
        .backoff(fast_backoff(3))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

const ALERT: &str = r#"[{"annotations":{},"endsAt":"2024-05-01T10:05:00Z","fingerprint":"823de09697ca9348",
 "receivers":[{"name":"hook"}],"startsAt":"2024-05-01T10:00:00Z",
 "status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},
 "updatedAt":"2024-05-01T10:00:00Z","labels":{"alertname":"Test","severity":"page"}}]"#;

#[tokio::test]
async fn cortex_requests_carry_prefix_and_org_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/alertmanager/api/v2/alerts"))
        .and(header("X-Scope-OrgID", "tenant-a"))
        .and(query_param("filter", "alertname=\"Test\""))
        .and(query_param("silenced", "false"))
        .respond_with(ResponseTemplate::new(200).set_body_string(ALERT))
        .expect(1)
        .mount(&server)
        .await;
    let am = client(&server, Addressing::cortex("tenant-a").unwrap());
    let alerts = am
        .alerts(
            &AlertQuery::default()
                .filter("alertname=\"Test\"")
                .silenced(false),
        )
        .await
        .unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].labels.get("severity"), Some("page"));
}

#[tokio::test]
async fn path_template_has_no_org_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tenant-a/prom/alertmanager/api/v2/alerts"))
        .and(body_string_contains("\"alertname\":\"Test\""))
        .respond_with(|req: &Request| {
            if req.headers.contains_key("x-scope-orgid") {
                ResponseTemplate::new(500)
            } else {
                ResponseTemplate::new(200)
            }
        })
        .expect(1)
        .mount(&server)
        .await;
    let am = client(
        &server,
        Addressing::path_template("/{tenant}/prom/alertmanager/api/v2/...", "tenant-a").unwrap(),
    );
    let alert = PostableAlert::new(LabelSet::from_pairs([("alertname", "Test")]).unwrap());
    am.post_alerts(&[alert]).await.unwrap();
}

#[tokio::test]
async fn bad_request_keeps_alertmanagers_message() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/alerts"))
        .respond_with(ResponseTemplate::new(400).set_body_string("\"bad matcher format: ===\"\n"))
        .expect(1) // 400 is not transient: no retry
        .mount(&server)
        .await;
    let am = client(&server, Addressing::Alertmanager);
    let err = am
        .alerts(&AlertQuery::default().filter("==="))
        .await
        .unwrap_err();
    match &err {
        Error::Rejected {
            status,
            message,
            method,
            url,
        } => {
            assert_eq!(*status, 400);
            assert_eq!(message, "bad matcher format: ===");
            assert_eq!(method, "GET");
            assert!(url.contains("/api/v2/alerts?filter="), "{url}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn transient_failures_of_reads_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/receivers"))
        .respond_with(ResponseTemplate::new(503).set_body_string("Alertmanager not ready"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/receivers"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"[{"name":"hook"}]"#))
        .expect(1)
        .mount(&server)
        .await;
    let am = client(&server, Addressing::Alertmanager);
    let receivers = am.receivers().await.unwrap();
    assert_eq!(receivers[0].name, "hook");
}

#[tokio::test]
async fn retries_stop_at_max_attempts_and_keep_the_last_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/-/ready"))
        .respond_with(ResponseTemplate::new(503).set_body_string("not ready"))
        .expect(3)
        .mount(&server)
        .await;
    let am = client(&server, Addressing::Alertmanager);
    let err = am.ready().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.server_message(), Some("not ready"));
}

#[tokio::test]
async fn slow_answers_time_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/status"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let am = AlertmanagerClient::builder(server.uri())
        .timeout(Duration::from_millis(100))
        .backoff(Backoff::none())
        .build()
        .unwrap();
    let err = am.status().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("no answer within 100ms"), "{err}");
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_naming_the_url() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let am = AlertmanagerClient::builder(format!("http://127.0.0.1:{port}"))
        .backoff(fast_backoff(2))
        .build()
        .unwrap();
    let err = am.healthy().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("GET http://127.0.0.1:{port}/-/healthy")),
        "{err}"
    );
}

#[tokio::test]
async fn reload_failure_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/-/reload"))
        .respond_with(ResponseTemplate::new(500).set_body_string(
            "failed to reload config: yaml: unmarshal errors:\n  line 1: field bogus not found in type config.plain\n",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let am = client(&server, Addressing::Alertmanager);
    let err = am.reload().await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(
        err.server_message()
            .unwrap()
            .contains("field bogus not found")
    );
}

// ---- Cortex/Mimir /api/v1/alerts: status codes and messages as their sources give them.

#[tokio::test]
async fn config_api_status_codes_map_to_typed_errors() {
    let server = MockServer::start().await;
    // No org id: dskit's middleware.
    Mock::given(path("/api/v1/alerts"))
        .and(|req: &Request| !req.headers.contains_key("x-scope-orgid"))
        .respond_with(ResponseTemplate::new(401).set_body_string("no org id\n"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/alerts"))
        .and(header("X-Scope-OrgID", "none"))
        .respond_with(
            ResponseTemplate::new(404).set_body_string("alertmanager storage object not found\n"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/alerts"))
        .and(header("X-Scope-OrgID", "bad"))
        .respond_with(ResponseTemplate::new(400).set_body_string(
            "error validating Alertmanager config: undefined receiver \"x\" used in route\n",
        ))
        .expect(1) // not retried
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/alerts"))
        .and(header("X-Scope-OrgID", "good"))
        .and(header("content-type", "application/yaml"))
        .and(body_string_contains("alertmanager_config:"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/alerts"))
        .and(header_exists("X-Scope-OrgID"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;

    let cortex = client(&server, Addressing::cortex("none").unwrap());
    match cortex.tenant_config().await.unwrap_err() {
        Error::NotFound { message, url, .. } => {
            assert_eq!(message, "alertmanager storage object not found");
            assert!(url.ends_with("/api/v1/alerts"), "{url}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let cfg = UserConfig::new("route: {receiver: x}\n");
    let bad = cortex.for_tenant("bad").unwrap();
    match bad.set_tenant_config(&cfg).await.unwrap_err() {
        Error::Rejected {
            status: 400,
            message,
            ..
        } => assert_eq!(
            message,
            "error validating Alertmanager config: undefined receiver \"x\" used in route"
        ),
        other => panic!("unexpected {other:?}"),
    }
    cortex
        .for_tenant("good")
        .unwrap()
        .set_tenant_config(&cfg)
        .await
        .unwrap();
    cortex.delete_tenant_config().await.unwrap();

    // The same path without the header (a gateway template has none) gets 401.
    let plain = AlertmanagerClient::builder(format!("{}/x", server.uri()))
        .build()
        .unwrap();
    assert!(
        plain.tenant_config().await.is_err(),
        "vanilla has no config API"
    );
    let raw = reqwest::get(format!("{}/api/v1/alerts", server.uri()))
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
}

#[tokio::test]
async fn unauthorized_keeps_the_message() {
    let server = MockServer::start().await;
    Mock::given(path("/alertmanager/api/v2/status"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_string("unable to determine the OrgID: multiple org IDs present\n"),
        )
        .mount(&server)
        .await;
    let am = client(&server, Addressing::mimir("a").unwrap());
    match am.status().await.unwrap_err() {
        Error::Unauthorized { message, .. } => {
            assert_eq!(
                message,
                "unable to determine the OrgID: multiple org IDs present"
            )
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn undecodable_success_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/alerts"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"[{"labels":{}}]"#))
        .mount(&server)
        .await;
    let am = client(&server, Addressing::Alertmanager);
    let err = am.alerts(&AlertQuery::default()).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("missing field"), "{err}");
}

/// No error the client makes shows a URL's credentials: not for an HTTP error status,
/// not for a connection that fails (reqwest's own message quotes the URL).
#[tokio::test]
async fn errors_never_show_url_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&server)
        .await;
    let with_userinfo = server.uri().replace("http://", "http://admin:hunter2@");
    let quick = fast_backoff(1);
    let client = AlertmanagerClient::builder(with_userinfo)
        .backoff(quick)
        .build()
        .unwrap();
    let status = client.status().await.unwrap_err().to_string();
    assert!(status.contains("HTTP 500"), "{status}");
    assert!(!status.contains("hunter2"), "{status}");

    let closed = AlertmanagerClient::builder(format!(
        "http://admin:hunter2@127.0.0.1:{}",
        alert_testkit::free_port()
    ))
    .backoff(quick)
    .build()
    .unwrap();
    let refused = closed.status().await.unwrap_err().to_string();
    assert!(!refused.contains("hunter2"), "{refused}");
    assert!(
        refused.contains("127.0.0.1"),
        "the URL is still named: {refused}"
    );
}
