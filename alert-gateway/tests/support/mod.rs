//! `alert-gateway` as a real process in tests: started on a free loopback port, its log
//! kept in a temporary file (shown when a test fails), killed when dropped.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alert_testkit::free_port;

/// One `alert-gateway` process.
pub(crate) struct GatewayProcess {
    pub child: Child,
    pub base: String,
    pub args: Vec<String>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl GatewayProcess {
    /// A gateway on `store` with the default targets, ready.
    pub(crate) fn start(store: &str) -> GatewayProcess {
        GatewayProcess::start_with(store, &[])
    }

    /// A gateway on `store` with more flags, ready.
    pub(crate) fn start_with(store: &str, extra: &[String]) -> GatewayProcess {
        let port = free_port();
        let mut args = vec![
            format!("--store={store}"),
            format!("--listen=127.0.0.1:{port}"),
            "--log.format=json".to_owned(),
        ];
        // The gateway runs its own Alertmanager cluster by default; tests ask for one.
        if !extra.iter().any(|f| f.starts_with("--backend")) {
            args.push("--backend=none".to_owned());
        }
        args.extend(extra.iter().cloned());
        let dir = tempfile::tempdir().expect("temporary directory");
        let log = dir.path().join("gateway.log");
        let mut gw = GatewayProcess {
            child: spawn_gateway(&args, &log),
            base: format!("http://127.0.0.1:{port}"),
            args,
            log,
            _dir: dir,
        };
        gw.wait_ready();
        gw
    }

    /// `/-/ready` answers 200 (the process exiting first fails the test with its log).
    pub(crate) fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = ureq::get(&format!("{}/-/ready", self.base)).call()
                && r.status() == 200
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "alert-gateway exited with {status} before it was ready:\n{}",
                    self.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "alert-gateway not ready within 30 s:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the process logged so far.
    pub(crate) fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends a signal (`-STOP`, `-CONT`, ...) with kill(1).
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} failed");
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn restart(&mut self) {
        self.kill();
        self.child = spawn_gateway(&self.args, &self.log);
        self.wait_ready();
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn_gateway(args: &[String], log: &std::path::Path) -> Child {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    Command::new(env!("CARGO_BIN_EXE_alert-gateway"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::from(file))
        .spawn()
        .expect("alert-gateway starts")
}

/// An HTTP agent that returns every status as a response.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(15)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// `PUT url` with a JSON body; the status and the body.
pub(crate) fn put_json(url: &str, body: &serde_json::Value) -> (u16, String) {
    match agent()
        .put(url)
        .header("content-type", "application/json")
        .send(body.to_string())
    {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(e) => (0, e.to_string()),
    }
}

/// `GET url`: the status and the body.
pub(crate) fn get(url: &str) -> (u16, String) {
    match agent().get(url).call() {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(e) => (0, e.to_string()),
    }
}

/// `DELETE url`: the status and the body.
pub(crate) fn delete(url: &str) -> (u16, String) {
    match agent().delete(url).call() {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(e) => (0, e.to_string()),
    }
}

/// Polls `check` every 50 ms until it gives `Some`, or fails with `what` after `timeout`.
pub(crate) fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
