//! The API's conventions over a SQLite store: every successful JSON answer in the
//! envelope of Prometheus' and Loki's HTTP APIs (`{"status": "success", "data": ...}`),
//! errors as Prometheus words them, and `match[]` read as Prometheus and Loki read it —
//! each value one selector whose matchers must all match, several OR-ed — on every route
//! that takes it (episodes, timeline, export and the health bar page).
#![cfg(all(feature = "server", feature = "sqlite"))]

mod server_support;

use std::collections::BTreeSet;

use alert_history::server::ServerOptions;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use serde_json::{Value, json};
use server_support::{app, call_raw, json_or_text, runtime};

/// The period every read asks for.
const PERIOD: &str = "start=2024-05-01T08:00:00Z&end=2024-05-01T14:00:00Z";

fn alert(labels: Value, starts_at: &str, ends_at: Option<&str>) -> Value {
    json!({"status": if ends_at.is_some() { "resolved" } else { "firing" },
           "labels": labels, "annotations": {},
           "startsAt": starts_at, "endsAt": ends_at.unwrap_or("0001-01-01T00:00:00Z"),
           "generatorURL": ""})
}

fn message(alerts: Vec<Value>) -> String {
    json!({"receiver": "history", "status": "firing", "version": "4",
           "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
           "groupKey": "{}:{}", "truncatedAlerts": 0, "alerts": alerts})
    .to_string()
}

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    call_raw(app, request).await
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

fn post(body: String) -> Request<Body> {
    Request::post("/webhook")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request")
}

/// `value` percent-encoded for a query string.
fn enc(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `?match[]=…&match[]=…&` the period.
fn selecting(selectors: &[&str]) -> String {
    let mut q: Vec<String> = selectors
        .iter()
        .map(|s| format!("match[]={}", enc(s)))
        .collect();
    q.push(PERIOD.to_owned());
    format!("?{}", q.join("&"))
}

/// DiskFull on n1 (critical, 10:00 to 11:00) and on n2 (warning), CPU on n1 (warning),
/// Mem on n3 (info, from 12:00).
async fn seed(app: &Router) {
    let l = |name: &str, node: &str, severity: &str| json!({"alertname": name, "node": node, "severity": severity});
    let body = message(vec![
        alert(
            l("DiskFull", "n1", "critical"),
            "2024-05-01T10:00:00Z",
            Some("2024-05-01T11:00:00Z"),
        ),
        alert(
            l("DiskFull", "n2", "warning"),
            "2024-05-01T09:00:00Z",
            Some("2024-05-01T09:30:00Z"),
        ),
        alert(
            l("CPU", "n1", "warning"),
            "2024-05-01T08:30:00Z",
            Some("2024-05-01T08:45:00Z"),
        ),
        alert(l("Mem", "n3", "info"), "2024-05-01T12:00:00Z", None),
    ]);
    let (status, _, answer) = call(app, post(body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json_or_text(&answer),
        json!({"status": "success", "data": {"stored": 4}}),
        "the webhook's answer is in the envelope too"
    );
}

/// `alertname/node` of episodes as the API lists them, sorted.
fn names(episodes: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = episodes
        .iter()
        .map(|e| {
            format!(
                "{}/{}",
                e["labels"]["alertname"].as_str().unwrap_or_default(),
                e["labels"]["node"].as_str().unwrap_or_default()
            )
        })
        .collect();
    out.sort();
    out
}

async fn episodes(app: &Router, selectors: &[&str]) -> Vec<Value> {
    let (status, _, body) = call(
        app,
        get(&format!("/api/v1/episodes{}", selecting(selectors))),
    )
    .await;
    let v = json_or_text(&body);
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "success", "{v}");
    v["data"]["episodes"].as_array().expect("episodes").clone()
}

#[test]
fn successful_answers_come_in_the_envelope_and_errors_as_prometheus_words_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path(), ServerOptions::default());
    runtime().block_on(async {
        seed(&app).await;
        let keys = |v: &Value| -> Vec<String> {
            v.as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        let (status, headers, body) =
            call(&app, get(&format!("/api/v1/episodes?{PERIOD}&limit=2"))).await;
        let v = json_or_text(&body);
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(keys(&v), ["data", "status"]);
        assert_eq!(v["status"], "success");
        assert_eq!(keys(&v["data"]), ["episodes", "next"]);
        assert_eq!(v["data"]["episodes"].as_array().map(Vec::len), Some(2));
        let next = v["data"]["next"].as_str().expect("a cursor");
        let (_, _, body) = call(
            &app,
            get(&format!("/api/v1/episodes?{PERIOD}&limit=2&cursor={next}")),
        )
        .await;
        let last = json_or_text(&body);
        assert_eq!(last["data"]["episodes"].as_array().map(Vec::len), Some(2));
        assert_eq!(last["data"]["next"], Value::Null, "the last page");

        let (status, _, body) = call(&app, get(&format!("/api/v1/timeline?{PERIOD}"))).await;
        let v = json_or_text(&body);
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(keys(&v), ["data", "status"]);
        assert_eq!(v["status"], "success");
        assert_eq!(keys(&v["data"]), ["segments", "unavailable"]);
        assert!(
            v["data"]["segments"]
                .as_array()
                .is_some_and(|s| !s.is_empty())
        );

        // The export stays JSON lines, one episode a line.
        let (status, headers, body) = call(&app, get(&format!("/api/v1/export?{PERIOD}"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/x-ndjson");
        let lines: Vec<Value> = String::from_utf8_lossy(&body)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(lines.len(), 4);
        assert!(lines.iter().all(|l| l["fingerprint"].is_string()));

        for (uri, status, kind) in [
            ("/api/v1/episodes?start=yesterday", 400, "bad_data"),
            (
                "/api/v1/timeline?match[]=%7Ba%3D~%22(%22%7D",
                400,
                "bad_data",
            ),
            ("/api/v1/episodes?limit=0", 400, "bad_data"),
            ("/api/v2/nothing", 404, "not_found"),
        ] {
            let (got, _, body) = call(&app, get(uri)).await;
            let v = json_or_text(&body);
            assert_eq!(got.as_u16(), status, "{uri}: {v}");
            assert_eq!(keys(&v), ["error", "errorType", "status"], "{uri}: {v}");
            assert_eq!(v["status"], "error");
            assert_eq!(v["errorType"], kind, "{uri}");
        }
    });
}

#[test]
fn match_selectors_are_ored_on_every_route() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path(), ServerOptions::default());
    runtime().block_on(async {
        seed(&app).await;
        assert_eq!(
            names(&episodes(&app, &[]).await),
            ["CPU/n1", "DiskFull/n1", "DiskFull/n2", "Mem/n3"],
            "no match[]: every episode"
        );
        assert_eq!(
            names(&episodes(&app, &[r#"alertname="CPU""#]).await),
            ["CPU/n1"],
            "a selector without braces, as Alertmanager's parser takes it"
        );
        assert_eq!(
            names(&episodes(&app, &[r#"{alertname="DiskFull",severity="critical"}"#]).await),
            ["DiskFull/n1"],
            "all matchers of one selector must match"
        );
        assert_eq!(
            names(&episodes(&app, &[r#"alertname="DiskFull""#, r#"{node="n1"}"#]).await),
            ["CPU/n1", "DiskFull/n1", "DiskFull/n2"],
            "DiskFull/n1, selected twice, is listed once"
        );
        let both = [
            r#"{alertname="DiskFull",severity="critical"}"#,
            r#"{node=~"n3"}"#,
        ];
        let selected = episodes(&app, &both).await;
        assert_eq!(names(&selected), ["DiskFull/n1", "Mem/n3"]);
        let fingerprints: BTreeSet<String> = selected
            .iter()
            .map(|e| e["fingerprint"].as_str().expect("fingerprint").to_owned())
            .collect();

        // The timeline draws the same episodes.
        let (status, _, body) = call(
            &app,
            get(&format!("/api/v1/timeline{}", selecting(&both))),
        )
        .await;
        let tl = json_or_text(&body);
        assert_eq!(status, StatusCode::OK, "{tl}");
        let drawn: BTreeSet<String> = tl["data"]["segments"]
            .as_array()
            .expect("segments")
            .iter()
            .flat_map(|s| s["episodes"].as_array().cloned().unwrap_or_default())
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect();
        assert_eq!(drawn, fingerprints, "{tl}");
        let states: Vec<&str> = tl["data"]["segments"]
            .as_array()
            .expect("segments")
            .iter()
            .filter_map(|s| s["state"].as_str())
            .collect();
        assert!(states.contains(&"critical") && states.contains(&"info"), "{tl}");
        assert!(!states.contains(&"warning"), "DiskFull/n2 is not selected: {tl}");

        // The export lists them.
        let (_, _, body) = call(&app, get(&format!("/api/v1/export{}", selecting(&both)))).await;
        let exported: Vec<Value> = String::from_utf8_lossy(&body)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(names(&exported), ["DiskFull/n1", "Mem/n3"]);

        // The page draws a bar per node among them: n1 and n3, not n2.
        let (status, _, body) = call(
            &app,
            get(&format!("/{}&by=node", selecting(&both))),
        )
        .await;
        let html = String::from_utf8_lossy(&body);
        assert_eq!(status, StatusCode::OK, "{html}");
        let bars: Vec<&str> = html
            .split("<div class=\"bar-row\" data-entity=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert_eq!(bars, ["n1", "n3"], "{html}");
        assert!(
            html.contains("{alertname=&quot;DiskFull&quot;,severity=&quot;critical&quot;} or {node=~&quot;n3&quot;}"),
            "the page says which alerts it shows"
        );

        // A bad selector among good ones is a 400 naming match[], counted nowhere as a
        // store error.
        for route in ["/api/v1/episodes", "/api/v1/timeline", "/api/v1/export"] {
            let uri = format!("{route}{}", selecting(&[r#"alertname="CPU""#, "{a=~\"(\"}"]));
            let (status, _, body) = call(&app, get(&uri)).await;
            let v = json_or_text(&body);
            assert_eq!(status, StatusCode::BAD_REQUEST, "{route}: {v}");
            assert!(v["error"].as_str().is_some_and(|e| e.contains("match[]")), "{v}");
        }
        let (status, _, _) = call(
            &app,
            get(&format!("/{}", selecting(&[r#"alertname="CPU""#, "{a=~\"(\"}"]))),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (_, _, metrics) = call(&app, get("/metrics")).await;
        let metrics = String::from_utf8_lossy(&metrics);
        assert!(
            !metrics
                .lines()
                .any(|l| l.starts_with("alert_history_store_errors_total{") && !l.ends_with(" 0")),
            "{metrics}"
        );
    });
}
