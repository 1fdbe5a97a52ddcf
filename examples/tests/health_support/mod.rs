//! Running the real `alert-health` binary in tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use alert_testkit::{free_port, http, poll_until};

/// The binary under test.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_alert-health")
}

/// Writes `yaml` to `dir/name` and returns the path.
pub(crate) fn write_graph(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, yaml).expect("write graph file");
    path
}

/// `alert-health eval --graph FILE ARGS…`, run to completion.
pub(crate) fn eval(graph: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("eval")
        .arg("--graph")
        .arg(graph)
        .args(args)
        .output()
        .expect("run alert-health")
}

/// `alert-health serve --graph FILE --listen 127.0.0.1:0 ARGS…`, for flags it refuses
/// before serving: run to completion.
pub(crate) fn serve_refused(graph: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("serve")
        .arg("--graph")
        .arg(graph)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .output()
        .expect("run alert-health")
}

/// One `alert-health serve` process on a free loopback port; killed when dropped.
pub(crate) struct HealthServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl HealthServer {
    /// Starts `serve` for `graph` with `extra` flags and waits until the first evaluation
    /// is published (`/api/v1/status` answers 200). Unless `extra` names a
    /// `--history.db`, the history goes to a file of its own in `dir` (not beside the
    /// graph file, which may be a fixture in the source tree).
    pub(crate) fn start(dir: &Path, graph: &Path, extra: &[&str]) -> HealthServer {
        let mut args: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        if !extra.iter().any(|a| a.starts_with("--history.db")) {
            let db = dir.join(format!("history-{}.db", free_port()));
            args.push("--history.db".to_owned());
            args.push(db.display().to_string());
        }
        HealthServer::start_as_given(dir, graph, &args)
    }

    /// [`HealthServer::start`] with exactly the flags given (the history file at its
    /// default place unless they name one).
    pub(crate) fn start_as_given(dir: &Path, graph: &Path, extra: &[String]) -> HealthServer {
        let port = free_port();
        let log = dir.join(format!("serve-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("create log");
        let child = Command::new(bin())
            .arg("serve")
            .arg("--graph")
            .arg(graph)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawn alert-health serve");
        let server = HealthServer { child, port, log };
        let ready = poll_until(Duration::from_secs(30), || {
            http::try_get(&server.url("/api/v1/status"))
                .ok()
                .filter(|r| r.status == 200)
        });
        assert!(
            ready.is_some(),
            "alert-health serve did not become ready; log:\n{}",
            server.logs()
        );
        server
    }

    /// `http://127.0.0.1:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What the process wrote to stderr.
    pub(crate) fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl HealthServer {
    /// Kills the process (SIGKILL: nothing is flushed on the way out) and waits for it.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for HealthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
