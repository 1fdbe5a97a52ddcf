//! The server's store flags: `--loki-url`/`--loki-tenant` store in Loki (the test kit's
//! fixture), `--store postgres://...` in PostgreSQL (the test kit's server), and
//! `--retention` purges old episodes and is remembered by the database.

mod history_support;

use std::time::Duration;

use alert_core::{Alert, LabelSet, Timestamp};
use alert_history::postgres::PostgresStore;
use alert_history::sqlite::SqliteStore;
use alert_history::{HistoryStore, Notification};
use alert_testkit::loki::LokiFixture;
use alert_testkit::postgres::PostgresServer;
use alert_testkit::{http, wait_until};
use history_support::{HistoryServer, alert, message, now_secs, rfc3339_in};
use serde_json::json;

#[test]
fn loki_flags_store_notifications_in_loki_for_the_tenant() {
    let loki = LokiFixture::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = loki.url();
    let server = HistoryServer::start(dir.path(), &["--loki-url", &url, "--loki-tenant", "team-a"]);
    let body = message(json!([
        alert(
            json!({"alertname": "DiskFull", "instance": "db-1"}),
            &rfc3339_in(-5000)
        ),
        alert(json!({"alertname": "Watchdog"}), &rfc3339_in(-5000)),
    ]));
    let r = server.post_webhook(body.to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    // Notifications, heartbeat and server-alive records, all in tenant team-a.
    assert!(loki.entries("team-a") >= 4, "{}", loki.entries("team-a"));
    assert_eq!(loki.entries("fake"), 0);
    let exported = server.export(1);
    assert_eq!(exported.len(), 2);
    let tl = server.get_data(&format!(
        "/api/v1/timeline?start={}&end={}&match[]=instance%3D%22db-1%22",
        now_secs() - 60,
        now_secs() + 1
    ));
    let states: Vec<&str> = tl["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .map(|s| s["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states, ["healthy", "warning"], "{tl:#}");
    assert_eq!(http::get(&server.url("/-/ready")).status, 200);
    drop(loki);
    // Loki gone: the webhook answers 5xx, so Alertmanager retries.
    let r = server.post_webhook(body.to_string().as_bytes());
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(http::get(&server.url("/-/ready")).status, 503);
}

fn old_notification(name: &str, days_ago: i64) -> Notification {
    let at = Timestamp::from_unix(now_secs() as i64 - days_ago * 86_400, 0).expect("valid");
    Notification {
        alert: Alert::firing(
            LabelSet::from_pairs([("alertname", name)]).expect("valid"),
            at,
        ),
        receiver: "history".into(),
        received_at: at,
    }
}

#[test]
fn retention_purges_old_episodes_and_is_remembered() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let store = SqliteStore::open(dir.path().join("history.db")).expect("open");
        store
            .append(&[
                old_notification("Ancient", 20),
                old_notification("Recent", 2),
            ])
            .expect("append");
    }
    let server = HistoryServer::start(dir.path(), &["--retention", "7d", "--purge-interval", "1s"]);
    wait_until(Duration::from_secs(20), "the purge", || {
        let names: Vec<String> = server
            .export(24 * 30)
            .iter()
            .map(|e| {
                e["labels"]["alertname"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        (names == ["Recent"]).then_some(())
    });
    let metrics = http::get(&server.url("/metrics")).body;
    assert!(
        metrics.contains("alert_history_purged_episodes_total 1"),
        "{metrics}"
    );
    drop(server);
    let store = SqliteStore::open(dir.path().join("history.db")).expect("reopen");
    assert_eq!(
        store.retention().expect("retention"),
        Some("7d".parse().expect("valid"))
    );
}

#[test]
fn store_flag_keeps_episodes_in_postgres_and_never_prints_the_password() {
    let pg = PostgresServer::shared();
    let db = pg.create_database();
    // The test server trusts local connections, so any password is accepted: it must
    // still never be shown.
    let url = format!(
        "postgres://postgres:hunter2-pw@127.0.0.1:{}/{}",
        pg.port(),
        db.name()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let server = HistoryServer::start(dir.path(), &["--store", &url, "--retention", "30d"]);
    let body = message(json!([alert(
        json!({"alertname": "DiskFull", "instance": "db-1"}),
        &rfc3339_in(-5000)
    )]));
    let r = server.post_webhook(body.to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let episodes = server.episodes("instance=\"db-1\"");
    assert_eq!(episodes.len(), 1, "{episodes:?}");
    assert_eq!(episodes[0]["labels"]["alertname"], "DiskFull");
    assert_eq!(http::get(&server.url("/-/ready")).status, 200);
    let logs = server.logs();
    assert!(
        logs.contains("listening") && logs.contains("\"postgres\""),
        "{logs}"
    );
    assert!(!logs.contains("NOTICE"), "{logs}");
    assert!(!logs.contains("hunter2"), "{logs}");
    assert!(!dir.path().join("history.db").exists(), "no SQLite file");
    drop(server);
    // In the database, with the retention, for any other replica to read.
    let store = PostgresStore::connect(&db.url()).expect("connect");
    assert_eq!(store.stats().expect("stats").episodes, 1);
    assert_eq!(
        store.retention().expect("retention"),
        Some("30d".parse().expect("valid"))
    );
    assert!(store.stats().expect("stats").heartbeats == 0);

    // A database that cannot be reached: the server refuses to start, and says where
    // without the password.
    let closed = alert_testkit::free_port();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_alert-history-server"))
        .args(["--listen", "127.0.0.1:0", "--store"])
        .arg(format!(
            "postgres://history:hunter2-pw@127.0.0.1:{closed}/history?connect_timeout=2"
        ))
        .output()
        .expect("run alert-history-server");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "--store: postgres 127.0.0.1:{closed}/history (connect)"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_alert-history-server"))
        .args(["--store", "mysql://history:hunter2-pw@db/history"])
        .output()
        .expect("run alert-history-server");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("expected a postgres:// or postgresql:// URL"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
