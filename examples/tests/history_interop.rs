//! `alert-history-server` and its clients (issue #20 items 4, 6 and 7): auth as
//! Alertmanager's HTTP client sends it, fingerprints computed rather than trusted, JSON
//! only on the webhook, JSON errors for over-long URLs.

mod history_support;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use alert_testkit::http;
use history_support::{HistoryServer, alert, message, rfc3339_in};
use serde_json::{Value, json};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into()
}

fn post_with_auth(server: &HistoryServer, authorization: &str) -> u16 {
    let body = message(json!([alert(json!({"alertname": "A"}), &rfc3339_in(0))])).to_string();
    agent()
        .post(server.url("/webhook"))
        .header("Content-Type", "application/json")
        .header("Authorization", authorization)
        .send(body.as_bytes())
        .expect("request")
        .status()
        .as_u16()
}

/// Issue #20 item 4: `bearer`, `BEARER` and `basic` were refused (RFC 7235 makes the
/// scheme case-insensitive), and a credential file with surrounding whitespace did not
/// match what Alertmanager, which trims it, sends.
#[test]
fn auth_schemes_in_any_case_and_trimmed_credential_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = dir.path().join("token");
    std::fs::write(&token, "  s3cret\t\n\n").expect("write token");
    let server = HistoryServer::start(
        dir.path(),
        &["--bearer-token-file", token.to_str().expect("utf8")],
    );
    // RFC 7235: one or more spaces after the scheme.
    for a in [
        "Bearer s3cret",
        "bearer s3cret",
        "BEARER s3cret",
        "Bearer   s3cret",
    ] {
        assert_eq!(post_with_auth(&server, a), 200, "{a}");
    }
    assert_eq!(post_with_auth(&server, "bearer S3CRET"), 401);
    assert_eq!(post_with_auth(&server, "bearer  s3cret x"), 401);
    drop(server);

    let pw = dir.path().join("password");
    std::fs::write(&pw, "\npw  \r\n").expect("write password");
    let server = HistoryServer::start(
        dir.path(),
        &[
            "--basic-auth-user",
            "am",
            "--basic-auth-password-file",
            pw.to_str().expect("utf8"),
        ],
    );
    // base64("am:pw")
    for a in ["Basic YW06cHc=", "basic YW06cHc=", "BASIC YW06cHc="] {
        assert_eq!(post_with_auth(&server, a), 200, "{a}");
    }
}

/// Issue #20 item 4: an empty credential file started a server that admitted nobody.
#[test]
fn an_empty_credential_file_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (flag, extra) in [
        ("--bearer-token-file", None),
        (
            "--basic-auth-password-file",
            Some(["--basic-auth-user", "am"]),
        ),
    ] {
        let empty = dir.path().join("empty");
        std::fs::write(&empty, " \n").expect("write");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_alert-history-server"));
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{}", alert_testkit::free_port()))
            .arg("--db")
            .arg(dir.path().join("history.db"))
            .arg(flag)
            .arg(&empty);
        if let Some(e) = extra {
            cmd.args(e);
        }
        let mut child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start");
        let exited =
            alert_testkit::poll_until(Duration::from_secs(10), || child.try_wait().ok().flatten());
        let Some(status) = exited else {
            let _ = child.kill();
            panic!("{flag}: the server started with an empty credential file");
        };
        assert!(!status.success(), "{flag}");
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut stderr)
            .expect("read");
        assert!(
            stderr.contains(flag) && stderr.contains("empty"),
            "{stderr}"
        );
    }
}

/// Issue #20 item 6: a resolved alert with other labels and a victim's fingerprint
/// closed the victim's episode. A fingerprint that is not the labels' is refused (400).
#[test]
fn a_body_fingerprint_that_is_not_the_labels_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = HistoryServer::start(dir.path(), &[]);
    let starts = rfc3339_in(-60_000);
    let victim = alert(
        json!({"alertname": "DiskFull", "instance": "db-1"}),
        &starts,
    );
    let r = server.post_webhook(message(json!([victim])).to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let victim_fp = server.export(1)[0]["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_owned();
    let mut forged = alert(json!({"alertname": "Harmless"}), &starts);
    forged["status"] = json!("resolved");
    forged["endsAt"] = json!(rfc3339_in(0));
    forged["fingerprint"] = json!(victim_fp);
    let r = server.post_webhook(message(json!([forged])).to_string().as_bytes());
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("alerts[0].fingerprint"), "{}", r.body);
    let episodes = server.export(1);
    assert_eq!(episodes.len(), 1, "{episodes:?}");
    assert_eq!(episodes[0]["endsAt"], Value::Null, "the victim still fires");
}

/// Issue #20 item 7: the webhook took any Content-Type; Alertmanager sends
/// `application/json`.
#[test]
fn the_webhook_takes_json_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = HistoryServer::start(dir.path(), &[]);
    let body = message(json!([alert(json!({"alertname": "A"}), &rfc3339_in(0))])).to_string();
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let r = http::post(&server.url("/webhook"), ct, body.as_bytes());
        assert_eq!(r.status, 415, "{ct}: {}", r.body);
        assert_eq!(r.json()["status"], "error");
    }
    let r = http::post(
        &server.url("/webhook"),
        "application/json; charset=utf-8",
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(server.export(1).len() == 1);
}

/// Issue #20 item 7: errors for over-long URLs are JSON like every other error.
#[test]
fn over_long_urls_get_json_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = HistoryServer::start(dir.path(), &[]);
    for len in [20_000, 60_000] {
        let url = server.url(&format!("/api/v1/episodes?match[]={}", "a".repeat(len)));
        let r = http::get(&url);
        assert_eq!(r.status, 414, "{len}: {:.200}", r.body);
        let v = r.json();
        assert_eq!(v["status"], "error", "{v}");
        assert!(v["error"].as_str().unwrap_or_default().contains("16384"));
    }
    // Beyond what HTTP/1 parsing takes (a 64 KiB request target, about 400 KiB of
    // request head) hyper answers before the router; those answers are JSON too.
    for (len, status) in [(100_000, "414"), (500_000, "431")] {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let request = format!(
            "GET /api/v1/episodes?match[]={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "a".repeat(len)
        );
        let _ = s.write_all(request.as_bytes());
        let mut sent = Vec::new();
        let _ = s.read_to_end(&mut sent);
        let sent = String::from_utf8_lossy(&sent);
        assert!(
            sent.starts_with(&format!("HTTP/1.1 {status}")),
            "{len}: {sent:?}"
        );
        let body = sent
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        let v: Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{len}: {e}: {sent:?}"));
        assert_eq!(v["status"], "error", "{v}");
    }
    assert_eq!(http::get(&server.url("/-/healthy")).status, 200);
}
