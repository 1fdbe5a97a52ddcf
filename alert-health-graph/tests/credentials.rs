//! Credentials never shown (issue #20): the built-in sensors whose URLs carry a
//! `user:password@` or a secret query parameter name them without it in their readings,
//! so no visualiser (console, JSON, Statuspage `summary.json`, the HTML page) and no
//! explanation shows it. Upstreams: closed loopback ports, and a real Alertmanager
//! (alert-testkit) as the live member of an HA pair.
#![cfg(feature = "http")]

mod sensor_support;

use alert_health_graph::visualiser::Visualiser;
use alert_health_graph::visualiser::console::Console;
use alert_health_graph::visualiser::html::HtmlStatusPage;
use alert_health_graph::visualiser::json::Json;
use alert_health_graph::visualiser::statuspage::{PageInfo, ShownMessages, Statuspage};
use alert_health_graph::{AlertmanagerTarget, State, StateHistory};
use alert_testkit::{Alertmanager, MINIMAL_CONFIG};
use sensor_support::{evaluate, status, texts};

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

#[tokio::test]
async fn sensor_urls_are_shown_without_credentials_everywhere() {
    let am = Alertmanager::start(MINIMAL_CONFIG);
    let live = am
        .base_url()
        .replace("http://", &format!("http://am:{PASSWORD}@"));
    let port = closed_port();
    let dead = format!("http://am:{PASSWORD}@127.0.0.1:{port}");
    let snap = evaluate(&format!(
        r#"
sensors:
  - {{name: api, http: {{url: "http://admin:{PASSWORD}@127.0.0.1:{port}/healthz?token={TOKEN}&x=1"}}}}
  - {{name: alerts, alertmanager: {{url: "{dead}"}}}}
  - {{name: ha-alerts, alertmanager: {{urls: ["{live}", "{dead}"], quorum: 1}}}}
  - {{name: prom, prometheus: {{url: "http://p:{PASSWORD}@127.0.0.1:{port}", query: up, fail_if: "< 1"}}}}
  - {{name: other-graph, remote: {{url: "http://r:{PASSWORD}@127.0.0.1:{port}/api/v1/status?access_token={TOKEN}"}}}}
systems:
  - {{name: shop, children: [api, alerts, ha-alerts, prom, other-graph]}}
"#
    ))
    .await;

    // Each reading names the URL, with `<secret>` where the credentials were.
    assert_eq!(status(&snap, "api").state, State::Failing);
    assert!(
        texts(&snap, "api")[0].starts_with(&format!(
            "GET http://<secret>@127.0.0.1:{port}/healthz?token=<secret>&x=1: "
        )),
        "{:?}",
        texts(&snap, "api")
    );
    assert_eq!(status(&snap, "alerts").state, State::Unknown);
    assert!(
        texts(&snap, "alerts")[0].starts_with(&format!(
            "alertmanager at http://<secret>@127.0.0.1:{port}: GET http://<secret>@127.0.0.1:{port}/api/v2/alerts"
        )),
        "{:?}",
        texts(&snap, "alerts")
    );
    assert_eq!(status(&snap, "ha-alerts").state, State::Passing);
    let warning = texts(&snap, "ha-alerts").join("\n");
    assert!(
        warning.contains(&format!(
            "1 of 2 members did not answer: http://<secret>@127.0.0.1:{port}: GET http://<secret>@127.0.0.1:{port}/api/v2/alerts"
        )),
        "{warning}"
    );
    assert!(
        texts(&snap, "prom")[0].contains("http://<secret>@127.0.0.1:"),
        "{:?}",
        texts(&snap, "prom")
    );
    assert!(
        texts(&snap, "other-graph")[0].contains("?access_token=<secret>"),
        "{:?}",
        texts(&snap, "other-graph")
    );

    // Nothing shown anywhere carries them.
    let mut history = StateHistory::default();
    history.record_snapshot(&snap);
    // Shown where the graph lets the public page show sensors' messages…
    let shown_page = PageInfo {
        name: "Shop".into(),
        messages: ShownMessages::All,
        ..PageInfo::default()
    };
    // …and the default, which shows none (URLs are internals too).
    let public_page = PageInfo {
        name: "Shop".into(),
        ..PageInfo::default()
    };
    let summary = |page: &PageInfo| {
        Statuspage {
            page,
            history: &history,
        }
        .render(&snap)
    };
    let html = |page: &PageInfo| {
        HtmlStatusPage {
            page,
            history: &history,
            now: None,
            live: true,
        }
        .render(&snap)
    };
    let shown = [
        ("console", Console::default().render(&snap)),
        ("json", Json::default().render(&snap)),
        ("summary.json", summary(&shown_page)),
        ("html", html(&shown_page)),
    ];
    for (what, text) in &shown {
        assert!(text.contains("127.0.0.1"), "{what} names the URLs:\n{text}");
        assert_no_secret(what, text);
    }
    for (what, text) in [
        ("public summary.json", summary(&public_page)),
        ("public html", html(&public_page)),
    ] {
        assert!(!text.contains("127.0.0.1"), "{what} names no URL:\n{text}");
        assert_no_secret(what, &text);
    }
    for name in ["shop", "api", "alerts", "ha-alerts", "prom", "other-graph"] {
        let e = snap.explain(snap.graph().find(name).expect("node"));
        assert_no_secret(&format!("explain {name}"), &format!("{e:?}"));
        for path in e.paths() {
            assert_no_secret(&format!("explain {name} path"), &path.to_string());
        }
    }
}

#[test]
fn alertmanager_targets_print_and_refuse_without_credentials() {
    let target: AlertmanagerTarget = yaml_serde::from_str(&format!(
        "{{urls: ['http://a:{PASSWORD}@am-0:9093', 'http://am-1:9093/?token={TOKEN}']}}"
    ))
    .expect("valid");
    assert_eq!(
        target.to_string(),
        "alertmanager at http://<secret>@am-0:9093, http://am-1:9093/?token=<secret>"
    );
    // A base URL with a query is refused, naming it without the token.
    let err = alert_health_graph::alertmanager_target::cluster(&target, None)
        .expect_err("a query")
        .to_string();
    assert!(
        err.contains("\"http://am-1:9093/?token=<secret>\""),
        "{err}"
    );
    assert_no_secret("the error", &err);
    let target = AlertmanagerTarget::new([format!("http://a:{PASSWORD}@am-0:9093/")]);
    assert_eq!(
        alert_health_graph::alertmanager_target::cluster(&target, None)
            .expect("builds")
            .members()[0]
            .name(),
        "http://<secret>@am-0:9093"
    );
    let err = yaml_serde::from_str::<AlertmanagerTarget>(&format!(
        "{{url: 'ftp://a:{PASSWORD}@am-0:9093'}}"
    ))
    .expect_err("not http")
    .to_string();
    assert!(
        err.starts_with("url: expected an http:// or https:// base URL"),
        "{err}"
    );
    assert!(err.contains("\"ftp://<secret>@am-0:9093\""), "{err}");
    assert_no_secret("the error", &err);
}
