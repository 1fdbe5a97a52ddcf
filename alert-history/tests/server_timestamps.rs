//! Timestamps from the network, read as Go reads them, on both surfaces of the server:
//! a webhook alert's `startsAt`/`endsAt` (Go's `encoding/json`) and the API's
//! `start`/`end` (Go's `time.Parse(time.RFC3339Nano, …)`, or Unix seconds). A form Go
//! refuses is a 400 naming the field and the value, and nothing is stored.
#![cfg(all(feature = "server", feature = "sqlite"))]

mod server_support;

use std::sync::Arc;

use alert_history::HistoryStore;
use alert_history::server::{ServerOptions, router};
use alert_history::sqlite::SqliteStore;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use server_support::{call_raw, json_or_text, runtime};
fn app(dir: &std::path::Path) -> Router {
    let store = SqliteStore::open(dir.join("history.db")).expect("open");
    router(
        Arc::new(store) as Arc<dyn HistoryStore>,
        ServerOptions::default(),
    )
}

/// A webhook message with one alert named `name` that started at `starts_at` and ends at
/// `ends_at`.
fn message(name: &str, starts_at: &str, ends_at: &str) -> String {
    json!({"receiver": "history", "status": "firing", "version": "4",
           "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
           "groupKey": "{}:{}", "truncatedAlerts": 0,
           "alerts": [{"status": "firing", "labels": {"alertname": name}, "annotations": {},
                       "startsAt": starts_at, "endsAt": ends_at, "generatorURL": ""}]})
    .to_string()
}

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let (status, _, body) = call_raw(app, request).await;
    (status, json_or_text(&body))
}

fn post(body: String) -> Request<Body> {
    Request::post("/webhook")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request")
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

/// The names of the episodes stored in May 2024.
async fn stored(app: &Router) -> Vec<String> {
    let (status, page) = call(
        app,
        get("/api/v1/episodes?start=2024-05-01T00:00:00Z&end=2024-06-01T00:00:00Z"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut names: Vec<String> = page["data"]["episodes"]
        .as_array()
        .expect("episodes")
        .iter()
        .map(|e| {
            e["labels"]["alertname"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    names.sort();
    names
}

/// Asserts a 400 whose error text is exactly `error`.
fn assert_bad_request(got: &(StatusCode, Value), error: &str) {
    assert_eq!(got.0, StatusCode::BAD_REQUEST, "{}", got.1);
    assert_eq!(got.1["status"], "error", "{}", got.1);
    assert_eq!(got.1["errorType"], "bad_data", "{}", got.1);
    assert_eq!(got.1["error"].as_str(), Some(error), "{}", got.1);
}

#[test]
fn a_webhook_alert_with_a_timestamp_go_refuses_is_a_400_naming_the_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    runtime().block_on(async {
        for (starts_at, ends_at, error) in [
            (
                "2024-05-01 10:00:00Z",
                "0001-01-01T00:00:00Z",
                r#"alerts[0].startsAt: "2024-05-01 10:00:00Z": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00"#,
            ),
            (
                "2024-05-01t10:00:00z",
                "0001-01-01T00:00:00Z",
                r#"alerts[0].startsAt: "2024-05-01t10:00:00z": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00"#,
            ),
            (
                "20240501T100000Z",
                "0001-01-01T00:00:00Z",
                r#"alerts[0].startsAt: "20240501T100000Z": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00"#,
            ),
            (
                "2024-05-01T10:00:60Z",
                "0001-01-01T00:00:00Z",
                r#"alerts[0].startsAt: "2024-05-01T10:00:60Z": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00, with a second from 00 to 59 (Go reads no leap second)"#,
            ),
            (
                "2024-05-01T10:00:00Z",
                "2024-05-01T11:00:00+02",
                r#"alerts[0].endsAt: "2024-05-01T11:00:00+02": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00"#,
            ),
        ] {
            let got = call(&app, post(message("Refused", starts_at, ends_at))).await;
            assert_bad_request(&got, error);
        }
        assert!(stored(&app).await.is_empty(), "nothing refused is stored");

        // What Go reads is stored as the instant Go reads: Go's zero time as endsAt is
        // an open episode; a comma fraction with more than nine digits is truncated.
        for (name, starts_at, ends_at) in [
            ("Firing", "2024-05-01T10:00:00Z", "0001-01-01T00:00:00Z"),
            (
                "Comma",
                "2024-05-01T12:00:00,1234567899+02:00",
                "2024-05-01T11:00:00Z",
            ),
        ] {
            let got = call(&app, post(message(name, starts_at, ends_at))).await;
            assert_eq!(got.0, StatusCode::OK, "{name}: {}", got.1);
        }
        let (_, page) = call(
            &app,
            get("/api/v1/episodes?start=2024-05-01T00:00:00Z&end=2024-06-01T00:00:00Z&match[]=alertname%3D%22Comma%22"),
        )
        .await;
        // The store keeps the instant, so it comes back in UTC.
        assert_eq!(
            page["data"]["episodes"][0]["startsAt"].as_str(),
            Some("2024-05-01T10:00:00.123456789Z"),
            "{page}"
        );
        let (_, page) = call(
            &app,
            get("/api/v1/episodes?start=2024-05-01T00:00:00Z&end=2024-06-01T00:00:00Z&match[]=alertname%3D%22Firing%22"),
        )
        .await;
        let firing = &page["data"]["episodes"][0];
        assert_eq!(firing["startsAt"], "2024-05-01T10:00:00Z", "{page}");
        assert!(firing["endsAt"].is_null(), "Go's zero time is not an end: {page}");
        assert_eq!(stored(&app).await, ["Comma", "Firing"]);
    });
}

#[test]
fn a_query_time_go_refuses_is_a_400_naming_the_parameter() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    runtime().block_on(async {
        for (query, error) in [
            (
                "start=2024-05-01%2010:00:00Z",
                r#"start: "2024-05-01 10:00:00Z": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00, or Unix seconds"#,
            ),
            (
                // `+` in a query string is a space.
                "start=2024-05-01T10:00:00+02:00",
                r#"start: "2024-05-01T10:00:00 02:00": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00, or Unix seconds"#,
            ),
            (
                "end=2024-05-01T10:00:00z",
                r#"end: "2024-05-01T10:00:00z": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00, or Unix seconds"#,
            ),
            (
                "end=2024-02-30T10:00:00Z",
                r#"end: "2024-02-30T10:00:00Z": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00, with a day that 2024-02 has, or Unix seconds"#,
            ),
        ] {
            for endpoint in ["episodes", "timeline", "export"] {
                let got = call(&app, get(&format!("/api/v1/{endpoint}?{query}"))).await;
                assert_bad_request(&got, error);
            }
        }
        for query in [
            "start=2024-05-01T10:00:00%2B02:00&end=2024-05-01T11:00:00Z",
            "start=2024-05-01T8:00:00Z&end=2024-05-01T09:00:00.1234567899Z",
            "start=1714550400&end=1714557600.5",
        ] {
            let (status, page) = call(&app, get(&format!("/api/v1/episodes?{query}"))).await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
        }
    });
}
