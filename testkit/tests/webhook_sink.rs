//! The kit's webhook sink.

use std::time::Duration;

use alert_testkit::{WebhookSink, http};
use serde_json::json;

#[test]
fn records_bodies_headers_and_paths_in_order() {
    let sink = WebhookSink::start();
    assert_eq!(sink.count(), 0);
    for i in 0..3 {
        let answer = http::post_json(&sink.url_for(&format!("/hook/{i}?x=1")), &json!({"n": i}));
        assert_eq!(answer.status, 200);
    }
    let got = sink.wait_for(3, Duration::from_secs(5));
    assert_eq!(got.len(), 3);
    for (i, request) in got.iter().enumerate() {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, format!("/hook/{i}?x=1"));
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("Content-Type"), Some("application/json"));
        assert_eq!(request.json(), json!({"n": i}));
        assert_eq!(request.body_str(), format!("{{\"n\":{i}}}"));
    }
}

#[test]
fn answers_the_programmed_status() {
    let sink = WebhookSink::start();
    sink.set_status(503);
    assert_eq!(http::post_json(&sink.url(), &json!({})).status, 503);
    sink.set_status(200);
    assert_eq!(http::post_json(&sink.url(), &json!({})).status, 200);
    assert_eq!(sink.received().len(), 2);
}

#[test]
fn waiting_too_long_panics_with_what_arrived() {
    let sink = WebhookSink::start();
    http::post(&sink.url(), "text/plain", b"only one");
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sink.wait_for(2, Duration::from_millis(200))
    }));
    let panic = outcome.expect_err("two requests never arrive");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("only one"), "{message}");
}

#[tokio::test]
async fn works_inside_a_tokio_test() {
    let sink = WebhookSink::start();
    let url = sink.url();
    let answer = tokio::task::spawn_blocking(move || http::post(&url, "text/plain", b"hi"))
        .await
        .expect("join");
    assert_eq!(answer.status, 200);
    assert_eq!(sink.wait_for(1, Duration::from_secs(5))[0].body, b"hi");
}
