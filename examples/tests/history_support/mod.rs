//! Running the real `alert-history-server` binary in tests.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use alert_testkit::{free_port, http, poll_until};
use serde_json::{Value, json};

/// One server process on a free loopback port; killed when dropped.
pub(crate) struct HistoryServer {
    child: Option<Child>,
    port: u16,
    db: PathBuf,
    log: PathBuf,
    args: Vec<String>,
}

impl HistoryServer {
    /// Starts the server on `dir/history.db` with `extra` flags and waits until ready.
    pub(crate) fn start(dir: &Path, extra: &[&str]) -> HistoryServer {
        let mut s = HistoryServer {
            child: None,
            port: free_port(),
            db: dir.join("history.db"),
            log: dir.join("server.log"),
            args: extra.iter().map(|s| s.to_string()).collect(),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open server log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_alert-history-server"));
        command
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port));
        // --store (PostgreSQL) excludes --db.
        if !self.args.iter().any(|a| a == "--store") {
            command.arg("--db").arg(&self.db);
        }
        let child = command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start alert-history-server");
        self.child = Some(child);
        let ready = poll_until(Duration::from_secs(20), || {
            http::try_get(&self.url("/-/ready"))
                .ok()
                .filter(|r| r.status == 200)
        });
        assert!(ready.is_some(), "server not ready; log:\n{}", self.logs());
    }

    /// `http://127.0.0.1:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The port.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The server's stderr so far.
    pub(crate) fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, and wait for the process to be gone.
    pub(crate) fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL the server");
            c.wait().expect("reap the server");
        }
    }

    /// Starts the same server again (same port, database and flags).
    pub(crate) fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// POSTs `body` to /webhook.
    pub(crate) fn post_webhook(&self, body: &[u8]) -> http::HttpResponse {
        http::post(&self.url("/webhook"), "application/json", body)
    }

    /// GET `path` (with query), asserting 200 and the API's envelope
    /// `{"status": "success", "data": ...}`: its `data`.
    pub(crate) fn get_data(&self, path_and_query: &str) -> Value {
        let v = http::get(&self.url(path_and_query)).ensure_success().json();
        assert_eq!(v["status"], "success", "{path_and_query}: {v}");
        v["data"].clone()
    }

    /// The episodes matching `matcher` (Alertmanager syntax) within ten minutes of now.
    pub(crate) fn episodes(&self, matcher: &str) -> Vec<Value> {
        let v = self.get_data(&format!(
            "/api/v1/episodes?start={}&end={}&match[]={}",
            now_secs() - 600,
            now_secs() + 600,
            enc(matcher)
        ));
        v["episodes"].as_array().expect("episodes").clone()
    }

    /// Every episode the server exports for the last `hours` hours.
    pub(crate) fn export(&self, hours: u64) -> Vec<Value> {
        let r = http::get(&self.url(&format!(
            "/api/v1/export?start={}&end={}",
            now_secs() - hours * 3600,
            now_secs() + 3600
        )))
        .ensure_success();
        r.body
            .lines()
            .map(|l| serde_json::from_str(l).expect("export lines are JSON"))
            .collect()
    }
}

impl Drop for HistoryServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// An instant `offset_ms` milliseconds from now, RFC 3339 as Alertmanager writes it.
pub(crate) fn rfc3339_in(offset_ms: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64;
    alert_core::Timestamp::from_unix_millis(now + offset_ms)
        .expect("representable")
        .to_string()
}

/// Unix seconds now.
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// A webhook message (version 4) carrying `alerts`, as Alertmanager sends it.
pub(crate) fn message(alerts: Value) -> Value {
    json!({
        "receiver": "history",
        "status": "firing",
        "alerts": alerts,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "version": "4",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0
    })
}

/// A firing alert as it appears in a webhook message.
pub(crate) fn alert(labels: Value, starts_at: &str) -> Value {
    json!({
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": "test"},
        "startsAt": starts_at,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph"
    })
}

/// URL-encodes a query parameter value.
pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
