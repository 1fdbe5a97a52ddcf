//! `alert-history-server` refuses bad webhook bodies with a 4xx and a JSON error,
//! stores nothing from them, and keeps answering; auth and API parameters likewise.

mod history_support;

use alert_testkit::http;
use history_support::{HistoryServer, alert, enc, message, now_secs, rfc3339_in};
use serde_json::{Value, json};

fn rfc3339_now() -> String {
    rfc3339_in(0)
}

fn assert_json_error(r: &http::HttpResponse, status: u16, contains: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body)
        .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {}", r.body));
    assert_eq!(v["status"], "error", "{v}");
    let text = v["error"].as_str().unwrap_or_default();
    assert!(
        text.contains(contains),
        "{text:?} should contain {contains:?}"
    );
}

#[test]
fn bad_bodies_are_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = HistoryServer::start(dir.path(), &["--max-body-bytes", "65536"]);
    let now = rfc3339_now();
    let good = message(json!([alert(
        json!({"alertname": "DiskFull", "instance": "db-1"}),
        &now
    )]));
    let good_text = good.to_string();

    // Truncated JSON.
    let r = server.post_webhook(&good_text.as_bytes()[..good_text.len() / 2]);
    assert_json_error(&r, 400, "line 1");
    // Not JSON at all.
    assert_json_error(&server.post_webhook(b"hello"), 400, "body");
    // A wrong version.
    let mut v3 = good.clone();
    v3["version"] = json!("3");
    assert_json_error(
        &server.post_webhook(v3.to_string().as_bytes()),
        400,
        "version",
    );
    // A huge body.
    let mut huge = good.clone();
    huge["commonAnnotations"] = json!({"description": "x".repeat(100_000)});
    assert_json_error(
        &server.post_webhook(huge.to_string().as_bytes()),
        413,
        "65536",
    );
    // Bad timestamps: not RFC 3339, and outside what the store can hold.
    let bad_time = message(json!([alert(json!({"alertname": "A"}), "yesterday")]));
    assert_json_error(
        &server.post_webhook(bad_time.to_string().as_bytes()),
        400,
        "yesterday",
    );
    let ancient = message(json!([alert(
        json!({"alertname": "A"}),
        "1500-01-01T00:00:00Z"
    )]));
    assert_json_error(
        &server.post_webhook(ancient.to_string().as_bytes()),
        400,
        "alerts[0].startsAt",
    );
    // Invalid label names (in one alert of several: the whole message is refused).
    let bad_label = message(json!([
        alert(json!({"alertname": "Fine"}), &now),
        alert(json!({"alertname": "A", "bad-name": "x"}), &now)
    ]));
    assert_json_error(
        &server.post_webhook(bad_label.to_string().as_bytes()),
        400,
        "invalid label name \"bad-name\"",
    );
    // A bad status and a bad fingerprint.
    let mut bad_status = good.clone();
    bad_status["alerts"][0]["status"] = json!("burning");
    assert_json_error(
        &server.post_webhook(bad_status.to_string().as_bytes()),
        400,
        "burning",
    );
    let mut bad_fp = good.clone();
    bad_fp["alerts"][0]["fingerprint"] = json!("not-hex");
    assert_json_error(
        &server.post_webhook(bad_fp.to_string().as_bytes()),
        400,
        "fingerprint",
    );

    // Nothing was stored, and the server still answers.
    assert!(server.export(24).is_empty(), "{:?}", server.export(24));
    assert_eq!(http::get(&server.url("/-/healthy")).status, 200);
    let metrics = http::get(&server.url("/metrics")).body;
    assert!(
        metrics.contains("alert_history_webhook_requests_total{code=\"400\"} 8"),
        "{metrics}"
    );
    assert!(
        metrics.contains("alert_history_webhook_requests_total{code=\"413\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("alert_history_notifications_received_total 0"),
        "{metrics}"
    );

    // A good message is stored.
    let r = server.post_webhook(good_text.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let exported = server.export(24);
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0]["labels"]["alertname"], "DiskFull");
    assert_eq!(exported[0]["endsAt"], Value::Null);
}

#[test]
fn api_parameters_are_checked_and_pages_follow_the_cursor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = HistoryServer::start(dir.path(), &[]);
    let now = rfc3339_now();
    let alerts: Vec<Value> = (0..7)
        .map(|i| {
            alert(
                json!({"alertname": if i % 2 == 0 { "Even" } else { "Odd" }, "n": i.to_string()}),
                &now,
            )
        })
        .collect();
    assert_eq!(
        server
            .post_webhook(message(json!(alerts)).to_string().as_bytes())
            .status,
        200
    );
    let (start, end) = (now_secs() - 3600, now_secs() + 60);
    let base = format!("/api/v1/episodes?start={start}&end={end}&limit=3");
    let mut seen = Vec::new();
    let mut url = base.clone();
    for _ in 0..5 {
        let page = server.get_data(&url);
        for e in page["episodes"].as_array().expect("episodes") {
            seen.push(e["labels"]["n"].as_str().expect("n").to_owned());
        }
        match page["next"].as_str() {
            Some(c) => url = format!("{base}&cursor={}", enc(c)),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["0", "1", "2", "3", "4", "5", "6"]);
    let odd = server.get_data(&format!(
        "/api/v1/episodes?start={start}&end={end}&match[]={}",
        enc("alertname=\"Odd\"")
    ));
    assert_eq!(odd["episodes"].as_array().expect("episodes").len(), 3);
    // Each match[] is a selector (all its matchers must match); several are OR-ed.
    let n_of = |page: &Value| -> Vec<String> {
        let mut n: Vec<String> = page["episodes"]
            .as_array()
            .expect("episodes")
            .iter()
            .map(|e| e["labels"]["n"].as_str().expect("n").to_owned())
            .collect();
        n.sort();
        n
    };
    let both = server.get_data(&format!(
        "/api/v1/episodes?start={start}&end={end}&match[]={}",
        enc("{alertname=~\"Odd|Even\",n=~\"[0-2]\"}")
    ));
    assert_eq!(n_of(&both), ["0", "1", "2"]);
    let either = server.get_data(&format!(
        "/api/v1/episodes?start={start}&end={end}&match[]={}&match[]={}",
        enc("alertname=\"Odd\""),
        enc("{n=~\"[0-2]\"}")
    ));
    assert_eq!(n_of(&either), ["0", "1", "2", "3", "5"], "1 once");

    for (query, param) in [
        (format!("start=yesterday&end={end}"), "start"),
        (format!("start={end}&end={start}"), "end"),
        (
            format!("start={start}&end={end}&match[]={}", enc("{a=~\"(\"}")),
            "match[]",
        ),
        (format!("start={start}&end={end}&limit=0"), "limit"),
        (format!("start={start}&end={end}&limit=many"), "limit"),
        (format!("start={start}&end={end}&cursor=zz"), "cursor"),
    ] {
        let r = http::get(&server.url(&format!("/api/v1/episodes?{query}")));
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        let v: Value = serde_json::from_str(&r.body).expect("JSON error");
        assert_eq!(v["status"], "error");
        let text = v["error"].as_str().unwrap_or_default();
        assert!(text.contains(param), "{query}: {text}");
    }
    let r = http::get(&server.url("/api/v1/timeline?start=nope"));
    assert_json_error(&r, 400, "start");
    assert_json_error(
        &http::get(&server.url("/api/v2/nothing")),
        404,
        "no such endpoint",
    );
    assert_json_error(
        &http::get(&server.url("/webhook")),
        405,
        "method not allowed",
    );
    assert_eq!(http::get(&server.url("/-/ready")).status, 200);
}

#[test]
fn bearer_and_basic_auth_guard_the_webhook_and_the_api() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("token"), "s3cret\n").expect("write token");
    let token = dir.path().join("token");
    let server = HistoryServer::start(
        dir.path(),
        &["--bearer-token-file", token.to_str().expect("utf8")],
    );
    let body = message(json!([alert(json!({"alertname": "A"}), &rfc3339_now())])).to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |auth: Option<&str>| {
        let mut req = agent
            .post(server.url("/webhook"))
            .header("Content-Type", "application/json");
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        req.send(body.as_bytes())
            .expect("request")
            .status()
            .as_u16()
    };
    assert_eq!(post(None), 401);
    assert_eq!(post(Some("Bearer wrong")), 401);
    assert_eq!(post(Some("Basic czNjcmV0")), 401);
    assert_eq!(post(Some("Bearer s3cret")), 200);
    let api = server.url(&format!("/api/v1/episodes?start={}", now_secs() - 60));
    assert_eq!(
        agent.get(&api).call().expect("request").status().as_u16(),
        401
    );
    let mut ok = agent
        .get(&api)
        .header("Authorization", "Bearer s3cret")
        .call()
        .expect("request");
    assert_eq!(ok.status().as_u16(), 200);
    let v: Value =
        serde_json::from_str(&ok.body_mut().read_to_string().expect("body")).expect("JSON");
    assert_eq!(v["status"], "success", "{v}");
    assert_eq!(v["data"]["episodes"].as_array().expect("episodes").len(), 1);
    // Health and metrics stay open.
    assert_eq!(http::get(&server.url("/metrics")).status, 200);
    drop(server);

    std::fs::write(dir.path().join("password"), "pw").expect("write password");
    let pw = dir.path().join("password");
    let server = HistoryServer::start(
        dir.path(),
        &[
            "--basic-auth-user",
            "am",
            "--basic-auth-password-file",
            pw.to_str().expect("utf8"),
        ],
    );
    let status = agent
        .post(server.url("/webhook"))
        .header("Content-Type", "application/json")
        .header("Authorization", "Basic YW06cHc=")
        .send(body.as_bytes())
        .expect("request")
        .status()
        .as_u16();
    assert_eq!(status, 200);
    let status = agent
        .post(server.url("/webhook"))
        .header("Content-Type", "application/json")
        .header("Authorization", "Basic YW06cHg=")
        .send(body.as_bytes())
        .expect("request")
        .status()
        .as_u16();
    assert_eq!(status, 401);
}

/// A query written as a user pastes it, braces and quotes unencoded
/// (`match[]={alertname="X"}`), is not valid HTTP: it gets a JSON 400, and neither it
/// nor a bad matcher counts as a store error in `/metrics`.
#[test]
fn unencoded_queries_get_json_400s_that_are_no_store_errors() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().expect("temp dir");
    let server = HistoryServer::start(dir.path(), &[]);
    for query in [r#"match[]={alertname="X"}"#, r#"match[]={alertname=~"("}"#] {
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
        write!(
            stream,
            "GET /api/v1/episodes?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        assert!(
            answer.contains("content-type: application/json"),
            "{answer}"
        );
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let v: Value = serde_json::from_str(body).expect("a JSON error");
        assert_eq!(v["status"], "error", "{v}");
    }
    // Encoded but not a matcher: a JSON 400 naming the parameter.
    let r = http::get(&server.url(&format!(
        "/api/v1/episodes?match[]={}",
        enc(r#"{alertname=~"("}"#)
    )));
    assert_json_error(&r, 400, "match[]");
    let metrics = http::get(&server.url("/metrics")).ensure_success().body;
    assert!(
        !metrics.contains("alert_history_store_errors_total{"),
        "{metrics}"
    );
}
