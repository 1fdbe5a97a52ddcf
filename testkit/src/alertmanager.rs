//! Stands in for nothing: starts REAL Alertmanager 0.25 processes for tests.
//!
//! Each process gets free ports on 127.0.0.1, its own temporary directory (config file,
//! `--storage.path`, log file) and flags that make tests quick. It is ready when
//! `/-/ready` answers 200; it is killed, and waited for, when dropped.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::amtool::{AmtoolOutput, amtool};
use crate::binaries::alertmanager_bin;
use crate::http::{self, HttpResponse};
use crate::ports::{free_port, free_tcp_udp_port};

/// The smallest valid configuration: every alert goes to a receiver with no integrations.
pub const MINIMAL_CONFIG: &str = "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n";

/// How long [`AlertmanagerBuilder::start`] waits for `/-/ready` unless told otherwise.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How many times a start is tried when a port turns out to be taken.
const START_ATTEMPTS: usize = 5;

/// The flags every process gets unless the builder overrides them.
///
/// A short retention and a quick alert GC keep runs small; the log level keeps the log
/// file readable when a test shows it.
const FAST_DEFAULTS: &[(&str, &str)] = &[
    ("--log.level", "warn"),
    ("--data.retention", "10m"),
    ("--alerts.gc-interval", "2s"),
];

/// Gossip timings for clustered processes: a cluster forms in a few seconds.
const FAST_CLUSTER_DEFAULTS: &[(&str, &str)] = &[
    ("--cluster.gossip-interval", "50ms"),
    ("--cluster.pushpull-interval", "1s"),
    ("--cluster.settle-timeout", "1s"),
    ("--cluster.reconnect-interval", "1s"),
];

/// Options for one Alertmanager process; [`Alertmanager::builder`] makes one.
#[derive(Debug, Clone)]
pub struct AlertmanagerBuilder {
    config: String,
    external_url: Option<String>,
    flags: Vec<String>,
    ready_timeout: Duration,
    cluster: Option<ClusterSettings>,
}

#[derive(Debug, Clone, Default)]
struct ClusterSettings {
    port: Option<u16>,
    peers: Vec<String>,
}

impl AlertmanagerBuilder {
    /// Sets `--web.external-url`. Its path, if any, prefixes every endpoint, and
    /// [`Alertmanager::base_url`] includes it. Without it the external URL is
    /// `http://127.0.0.1:<web port>`.
    pub fn external_url(mut self, url: impl Into<String>) -> Self {
        self.external_url = Some(url.into());
        self
    }

    /// Adds a flag such as `--log.level=debug`. A flag the kit sets by default (log level,
    /// retention, GC and gossip intervals) is replaced rather than repeated.
    pub fn flag(mut self, flag: impl Into<String>) -> Self {
        self.flags.push(flag.into());
        self
    }

    /// How long to wait for `/-/ready` (default [`DEFAULT_READY_TIMEOUT`]).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Turns gossip on, on a free port, with quick gossip timings (no peers unless
    /// [`peer`](Self::peer) adds some). Without this, `--cluster.listen-address=` is
    /// empty and clustering is off.
    pub fn clustered(mut self) -> Self {
        self.cluster.get_or_insert_with(ClusterSettings::default);
        self
    }

    /// Turns gossip on and listens for it on `127.0.0.1:port` (TCP and UDP).
    pub fn cluster_port(mut self, port: u16) -> Self {
        self.cluster
            .get_or_insert_with(ClusterSettings::default)
            .port = Some(port);
        self
    }

    /// Turns gossip on and adds `--cluster.peer=address` (`host:port`).
    pub fn peer(mut self, address: impl Into<String>) -> Self {
        self.cluster
            .get_or_insert_with(ClusterSettings::default)
            .peers
            .push(address.into());
        self
    }

    /// Starts the process and waits until it is ready.
    ///
    /// # Panics
    /// When the binary is missing (with the install hint), the configuration is refused,
    /// or the process is not ready in time; the message includes the process's log.
    pub fn start(self) -> Alertmanager {
        self.try_start()
            .unwrap_or_else(|failure| panic!("{}", failure.message))
    }

    /// Starts the process, retrying with new ports (those not fixed by the builder) when
    /// one turns out to be taken.
    pub(crate) fn try_start(self) -> Result<Alertmanager, StartFailure> {
        let bin = alertmanager_bin();
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            let dir = tempfile::Builder::new()
                .prefix("alertmanager-test-")
                .tempdir()
                .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
            let config_path = dir.path().join("alertmanager.yml");
            fs::write(&config_path, &self.config)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));
            let web_port = free_port();
            let cluster_port = self
                .cluster
                .as_ref()
                .map(|c| c.port.unwrap_or_else(free_tcp_udp_port));
            let external_url = self
                .external_url
                .clone()
                .unwrap_or_else(|| format!("http://127.0.0.1:{web_port}"));
            let mut am = Alertmanager {
                child: None,
                pid: 0,
                bin: bin.clone(),
                args: self.args(&dir, &config_path, web_port, cluster_port, &external_url),
                web_port,
                cluster_port,
                route_prefix: route_prefix(&external_url),
                external_url,
                config_path,
                ready_timeout: self.ready_timeout,
                dir,
            };
            match am.spawn_and_wait() {
                Ok(()) => return Ok(am),
                Err(failure) if failure.address_in_use => {
                    let fixed = self.cluster.as_ref().is_some_and(|c| c.port.is_some());
                    if fixed {
                        return Err(failure);
                    }
                    last = Some(failure);
                }
                Err(failure) => return Err(failure),
            }
        }
        Err(last.unwrap_or_else(|| StartFailure {
            address_in_use: true,
            message: "no start attempt was made".into(),
        }))
    }

    fn args(
        &self,
        dir: &TempDir,
        config_path: &Path,
        web_port: u16,
        cluster_port: Option<u16>,
        external_url: &str,
    ) -> Vec<String> {
        let mut args = vec![
            format!("--config.file={}", config_path.display()),
            format!("--storage.path={}", dir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{web_port}"),
            format!("--web.external-url={external_url}"),
        ];
        let overridden = |name: &str| {
            self.flags
                .iter()
                .any(|f| f == name || f.starts_with(&format!("{name}=")))
        };
        let mut defaults: Vec<(&str, &str)> = FAST_DEFAULTS.to_vec();
        match (&self.cluster, cluster_port) {
            (Some(cluster), Some(port)) => {
                args.push(format!("--cluster.listen-address=127.0.0.1:{port}"));
                args.push(format!("--cluster.advertise-address=127.0.0.1:{port}"));
                args.extend(cluster.peers.iter().map(|p| format!("--cluster.peer={p}")));
                defaults.extend_from_slice(FAST_CLUSTER_DEFAULTS);
            }
            _ => args.push("--cluster.listen-address=".into()),
        }
        for (name, value) in defaults {
            if !overridden(name) {
                args.push(format!("{name}={value}"));
            }
        }
        args.extend(self.flags.iter().cloned());
        args
    }
}

/// Why a start failed; `address_in_use` says a retry on other ports may help.
#[derive(Debug)]
pub(crate) struct StartFailure {
    pub(crate) address_in_use: bool,
    pub(crate) message: String,
}

/// A running Alertmanager process, killed and waited for on drop.
///
/// ```
/// use alert_testkit::{Alertmanager, MINIMAL_CONFIG};
/// let am = Alertmanager::start(MINIMAL_CONFIG);
/// let status = am.status();
/// assert_eq!(status["cluster"]["status"], "disabled");
/// ```
#[derive(Debug)]
pub struct Alertmanager {
    child: Option<Child>,
    pid: u32,
    bin: PathBuf,
    args: Vec<String>,
    web_port: u16,
    cluster_port: Option<u16>,
    route_prefix: String,
    external_url: String,
    config_path: PathBuf,
    ready_timeout: Duration,
    // Declared last: removed only after the process is gone.
    dir: TempDir,
}

impl Alertmanager {
    /// Starts a single (non-clustered) process with this configuration and default
    /// options, and waits until it is ready.
    ///
    /// # Panics
    /// As [`AlertmanagerBuilder::start`].
    pub fn start(config_yaml: &str) -> Alertmanager {
        Alertmanager::builder(config_yaml).start()
    }

    /// A builder for a process with this configuration.
    pub fn builder(config_yaml: &str) -> AlertmanagerBuilder {
        AlertmanagerBuilder {
            config: config_yaml.to_owned(),
            external_url: None,
            flags: Vec::new(),
            ready_timeout: DEFAULT_READY_TIMEOUT,
            cluster: None,
        }
    }

    /// `http://127.0.0.1:<web port>` plus the route prefix taken from the external URL's
    /// path; no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.web_port, self.route_prefix)
    }

    /// [`base_url`](Self::base_url) followed by `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The URL of an API v2 endpoint: `api_url("/alerts")`.
    pub fn api_url(&self, path: &str) -> String {
        self.url(&format!("/api/v2{path}"))
    }

    /// The `--web.external-url` the process was given.
    pub fn external_url(&self) -> &str {
        &self.external_url
    }

    /// The port of the web server (API and UI).
    pub fn web_port(&self) -> u16 {
        self.web_port
    }

    /// The gossip port, if clustering is on.
    pub fn cluster_port(&self) -> Option<u16> {
        self.cluster_port
    }

    /// `127.0.0.1:<gossip port>`, the address peers reach this member at.
    pub fn cluster_address(&self) -> Option<String> {
        self.cluster_port.map(|p| format!("127.0.0.1:{p}"))
    }

    /// The configuration file the process reads (rewrite it, then [`reload`](Self::reload)).
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The `--storage.path` directory (silences and notification log snapshots).
    pub fn storage_path(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The process id of the current (or last, if killed) process.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The command-line flags the process was started with.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// Everything the process wrote to stdout and stderr so far (across restarts).
    pub fn logs(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("alertmanager.log")
    }

    /// `GET path` (relative to [`base_url`](Self::base_url)).
    pub fn get(&self, path: &str) -> HttpResponse {
        http::get(&self.url(path))
    }

    /// `POST path` with a JSON body.
    pub fn post_json(&self, path: &str, body: &Value) -> HttpResponse {
        http::post_json(&self.url(path), body)
    }

    /// `GET /api/v2/status`.
    ///
    /// # Panics
    /// When the answer is not 2xx JSON.
    pub fn status(&self) -> Value {
        http::get_json(&self.api_url("/status"))
    }

    /// `GET /api/v2/alerts`: the active, silenced, inhibited and unprocessed alerts.
    ///
    /// # Panics
    /// When the answer is not a 2xx JSON array.
    pub fn alerts(&self) -> Vec<Value> {
        match http::get_json(&self.api_url("/alerts")) {
            Value::Array(alerts) => alerts,
            other => panic!("GET /api/v2/alerts did not answer an array: {other}"),
        }
    }

    /// `POST /api/v2/alerts` with `alerts` (a JSON array of postable alerts). The answer
    /// is returned as is: a 400 lists what was invalid.
    pub fn post_alerts(&self, alerts: &Value) -> HttpResponse {
        http::post_json(&self.api_url("/alerts"), alerts)
    }

    /// `POST /-/reload`: 200 when the configuration file was loaded, 500 with
    /// Alertmanager's error otherwise.
    pub fn reload(&self) -> HttpResponse {
        http::post(&self.url("/-/reload"), "text/plain", b"")
    }

    /// Rewrites the configuration file with `config_yaml` and reloads it.
    pub fn reload_with(&self, config_yaml: &str) -> HttpResponse {
        fs::write(&self.config_path, config_yaml)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", self.config_path.display()));
        self.reload()
    }

    /// Runs `amtool` with `args` and `--alertmanager.url` pointing at this process.
    pub fn amtool<S: AsRef<str>>(&self, args: &[S]) -> AmtoolOutput {
        let mut all: Vec<String> = args.iter().map(|a| a.as_ref().to_owned()).collect();
        all.push(format!("--alertmanager.url={}", self.base_url()));
        amtool(all)
    }

    /// Whether [`kill`](Self::kill) was called since the last (re)start.
    pub fn is_killed(&self) -> bool {
        self.child.is_none()
    }

    /// Kills the process (SIGKILL, as a crash would) and waits for it. Nothing is
    /// snapshotted: state on disk is whatever the last maintenance wrote. Idempotent.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Fails only if the process is already gone, which is what we want.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the process if it runs, then starts it again with the same flags, ports,
    /// configuration file and storage directory, and waits until it is ready.
    ///
    /// # Panics
    /// When it does not come back (the message includes the log).
    pub fn restart(&mut self) {
        self.kill();
        if let Err(failure) = self.spawn_and_wait() {
            panic!("{}", failure.message);
        }
    }

    fn spawn_and_wait(&mut self) -> Result<(), StartFailure> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.log_path().display()));
        let log_offset = log.metadata().map(|m| m.len()).unwrap_or(0);
        let log_err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot duplicate a file handle: {e}"));
        let child = Command::new(&self.bin)
            .args(&self.args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
        self.pid = child.id();
        self.child = Some(child);
        self.wait_ready().map_err(|reason| {
            self.kill();
            let output = self.logs().get(log_offset as usize..).unwrap_or("").to_owned();
            StartFailure {
                address_in_use: output.contains("address already in use"),
                message: format!(
                    "Alertmanager ({} {}) did not become ready: {reason}\n--- its output ---\n{output}--- end of output ---",
                    self.bin.display(),
                    self.args.join(" "),
                ),
            }
        })
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let url = self.url("/-/ready");
        crate::poll::wait_http_ready(&mut self.child, &url, self.ready_timeout)
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The path of an external URL (`http://h/am/` → `/am`), which prefixes every route.
fn route_prefix(external_url: &str) -> String {
    let after_scheme = external_url
        .split_once("://")
        .map_or(external_url, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map(|i| after_scheme[i..].trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_prefix_is_the_external_urls_path() {
        assert_eq!(route_prefix("http://127.0.0.1:9093"), "");
        assert_eq!(route_prefix("http://127.0.0.1:9093/"), "");
        assert_eq!(
            route_prefix("http://am.example/alertmanager/"),
            "/alertmanager"
        );
        assert_eq!(route_prefix("https://am.example/a/b"), "/a/b");
    }

    #[test]
    fn defaults_are_replaced_not_repeated() {
        let builder = Alertmanager::builder(MINIMAL_CONFIG)
            .flag("--log.level=debug")
            .flag("--alerts.gc-interval=1m");
        let dir = tempfile::tempdir().expect("tempdir");
        let args = builder.args(&dir, Path::new("/c.yml"), 1234, None, "http://x");
        let count = |prefix: &str| args.iter().filter(|a| a.starts_with(prefix)).count();
        assert_eq!(count("--log.level="), 1);
        assert!(args.contains(&"--log.level=debug".to_owned()), "{args:?}");
        assert!(
            args.contains(&"--alerts.gc-interval=1m".to_owned()),
            "{args:?}"
        );
        assert!(
            args.contains(&"--cluster.listen-address=".to_owned()),
            "{args:?}"
        );
        assert_eq!(count("--cluster.gossip-interval"), 0);
    }

    #[test]
    fn clustered_processes_advertise_and_peer_on_loopback() {
        let builder = Alertmanager::builder(MINIMAL_CONFIG)
            .cluster_port(7000)
            .peer("127.0.0.1:7001");
        let dir = tempfile::tempdir().expect("tempdir");
        let args = builder.args(&dir, Path::new("/c.yml"), 1234, Some(7000), "http://x");
        for want in [
            "--cluster.listen-address=127.0.0.1:7000",
            "--cluster.advertise-address=127.0.0.1:7000",
            "--cluster.peer=127.0.0.1:7001",
            "--cluster.gossip-interval=50ms",
        ] {
            assert!(
                args.contains(&want.to_owned()),
                "{want} missing from {args:?}"
            );
        }
    }
}
