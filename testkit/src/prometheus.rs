//! Stands in for nothing: starts REAL Prometheus 2.42 processes for tests.
//!
//! Each process gets a free port on 127.0.0.1, its own temporary directory (the generated
//! `prometheus.yml`, a `rules/` directory, `--storage.tsdb.path`, a log file) and
//! `--web.enable-lifecycle`, so that `POST /-/reload` works. The configuration evaluates
//! rules every second (`global.evaluation_interval: 1s`) and loads every `*.yml` file of
//! the rules directory (`rule_files: [<dir>/*.yml]`). It is ready when `/-/ready` answers
//! 200; it is killed, and waited for, when dropped. A process that does not become ready
//! fails the test with the tail of its log.
//!
//! ```no_run
//! use std::time::Duration;
//! use alert_testkit::{Prometheus, wait_until};
//!
//! let prom = Prometheus::start();
//! std::fs::write(
//!     prom.rules_dir().join("t.yml"),
//!     "groups:\n- name: g\n  rules:\n  - alert: Always\n    expr: vector(1) > 0\n",
//! ).unwrap();
//! prom.reload().ensure_success();
//! wait_until(Duration::from_secs(10), "the alert to fire", || {
//!     prom.alerts().iter().any(|a| a["state"] == "firing").then_some(())
//! });
//! ```

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;
use yaml_serde::{Mapping, Value as Yaml};

use crate::binaries::prometheus_bin;
use crate::http::{self, HttpResponse};
use crate::ports::free_port;

/// How long [`PrometheusBuilder::start`] waits for `/-/ready` unless told otherwise.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How many times a start is tried when the port turns out to be taken.
const START_ATTEMPTS: usize = 5;

/// How much of the log a failure shows.
const LOG_TAIL_BYTES: usize = 8 * 1024;

/// Options for one Prometheus process; [`Prometheus::builder`] makes one.
#[derive(Debug, Clone)]
pub struct PrometheusBuilder {
    rules_dir: Option<PathBuf>,
    evaluation_interval: String,
    alertmanagers: Vec<String>,
    scrape_configs: Vec<String>,
    flags: Vec<String>,
    ready_timeout: Duration,
}

impl PrometheusBuilder {
    /// Loads rule files from `dir` (`rule_files: [<dir>/*.yml]`) instead of the process's
    /// own `rules/` directory. The directory must exist.
    pub fn rules_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.rules_dir = Some(dir.into());
        self
    }

    /// `global.evaluation_interval` (default `1s`).
    pub fn evaluation_interval(mut self, interval: impl Into<String>) -> Self {
        self.evaluation_interval = interval.into();
        self
    }

    /// Sends alerts to the Alertmanager at `base_url` (`http://127.0.0.1:9093`, with its
    /// route prefix if it has one): one `alerting.alertmanagers` entry with a static
    /// target.
    pub fn alertmanager(mut self, base_url: impl Into<String>) -> Self {
        self.alertmanagers.push(base_url.into());
        self
    }

    /// Adds one scrape job, given as YAML (`{job_name: x, static_configs: [...]}`).
    pub fn scrape_config(mut self, job_yaml: impl Into<String>) -> Self {
        self.scrape_configs.push(job_yaml.into());
        self
    }

    /// Adds a flag such as `--log.level=debug`.
    pub fn flag(mut self, flag: impl Into<String>) -> Self {
        self.flags.push(flag.into());
        self
    }

    /// How long to wait for `/-/ready` (default [`DEFAULT_READY_TIMEOUT`]).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Starts the process and waits until it is ready.
    ///
    /// # Panics
    /// When the binary is missing (with the install hint), the configuration is refused
    /// or the process is not ready in time; the message includes the tail of its log.
    pub fn start(self) -> Prometheus {
        let bin = prometheus_bin();
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            let dir = tempfile::Builder::new()
                .prefix("prometheus-test-")
                .tempdir()
                .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
            let rules_dir = self
                .rules_dir
                .clone()
                .unwrap_or_else(|| dir.path().join("rules"));
            fs::create_dir_all(&rules_dir)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", rules_dir.display()));
            let config_path = dir.path().join("prometheus.yml");
            fs::write(&config_path, self.config_yaml(&rules_dir))
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));
            let port = free_port();
            let mut args = vec![
                format!("--config.file={}", config_path.display()),
                format!("--storage.tsdb.path={}", dir.path().join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--web.enable-lifecycle".to_owned(),
            ];
            if !self.flags.iter().any(|f| f.starts_with("--log.level")) {
                args.push("--log.level=warn".to_owned());
            }
            args.extend(self.flags.iter().cloned());
            let mut prom = Prometheus {
                child: None,
                bin: bin.clone(),
                args,
                port,
                config_path,
                rules_dir,
                ready_timeout: self.ready_timeout,
                dir,
            };
            match prom.spawn_and_wait() {
                Ok(()) => return prom,
                Err((in_use, message)) if in_use => last = message,
                Err((_, message)) => panic!("{message}"),
            }
        }
        panic!("{last}")
    }

    /// The generated `prometheus.yml`.
    fn config_yaml(&self, rules_dir: &Path) -> String {
        let mut root = Mapping::new();
        let mut global = Mapping::new();
        global.insert(
            "evaluation_interval".into(),
            self.evaluation_interval.clone().into(),
        );
        root.insert("global".into(), Yaml::Mapping(global));
        root.insert(
            "rule_files".into(),
            Yaml::Sequence(vec![rules_dir.join("*.yml").display().to_string().into()]),
        );
        if !self.alertmanagers.is_empty() {
            let entries = self
                .alertmanagers
                .iter()
                .map(|url| alertmanager_entry(url))
                .collect();
            let mut alerting = Mapping::new();
            alerting.insert("alertmanagers".into(), Yaml::Sequence(entries));
            root.insert("alerting".into(), Yaml::Mapping(alerting));
        }
        if !self.scrape_configs.is_empty() {
            let jobs = self
                .scrape_configs
                .iter()
                .map(|job| {
                    yaml_serde::from_str::<Yaml>(job)
                        .unwrap_or_else(|e| panic!("scrape config {job:?} is not YAML: {e}"))
                })
                .collect();
            root.insert("scrape_configs".into(), Yaml::Sequence(jobs));
        }
        yaml_serde::to_string(&Yaml::Mapping(root))
            .unwrap_or_else(|e| panic!("cannot render prometheus.yml: {e}"))
    }
}

/// One `alerting.alertmanagers` entry for a base URL: scheme, static target, path prefix.
fn alertmanager_entry(base_url: &str) -> Yaml {
    let (scheme, rest) = base_url.split_once("://").unwrap_or(("http", base_url));
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let mut target = Mapping::new();
    target.insert("targets".into(), Yaml::Sequence(vec![host.into()]));
    let mut entry = Mapping::new();
    entry.insert("scheme".into(), scheme.into());
    if !path.is_empty() {
        entry.insert("path_prefix".into(), path.into());
    }
    entry.insert(
        "static_configs".into(),
        Yaml::Sequence(vec![Yaml::Mapping(target)]),
    );
    Yaml::Mapping(entry)
}

/// A running Prometheus process, killed and waited for on drop.
#[derive(Debug)]
pub struct Prometheus {
    child: Option<Child>,
    bin: PathBuf,
    args: Vec<String>,
    port: u16,
    config_path: PathBuf,
    rules_dir: PathBuf,
    ready_timeout: Duration,
    // Declared last: removed only after the process is gone.
    dir: TempDir,
}

impl Prometheus {
    /// Starts a process with default options (its own rules directory, rules evaluated
    /// every second, no Alertmanager, no scrape jobs) and waits until it is ready.
    ///
    /// # Panics
    /// As [`PrometheusBuilder::start`].
    pub fn start() -> Prometheus {
        Prometheus::builder().start()
    }

    /// A builder with the defaults of [`start`](Self::start).
    pub fn builder() -> PrometheusBuilder {
        PrometheusBuilder {
            rules_dir: None,
            evaluation_interval: "1s".to_owned(),
            alertmanagers: Vec::new(),
            scrape_configs: Vec::new(),
            flags: Vec::new(),
            ready_timeout: DEFAULT_READY_TIMEOUT,
        }
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// [`base_url`](Self::base_url) followed by `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The port of the web server.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory whose `*.yml` files are the rule files.
    pub fn rules_dir(&self) -> &Path {
        &self.rules_dir
    }

    /// The generated `prometheus.yml`.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The command-line flags the process was started with.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("prometheus.log")
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> HttpResponse {
        http::get(&self.url(path))
    }

    /// `POST /-/reload`: 200 once the configuration and every rule file loaded; 500 with
    /// `failed to reload config: one or more errors occurred while applying the new
    /// configuration (--config.file="…")` otherwise, in which case the previous rules keep
    /// running (the reason is only in the log).
    pub fn reload(&self) -> HttpResponse {
        http::post(&self.url("/-/reload"), "text/plain", b"")
    }

    /// `GET /api/v1/rules`: the loaded rule groups (`data.groups`), each with its `file`,
    /// `name` and `rules` (`name`, `query`, `duration`, `labels`, `state`, `health`, …).
    ///
    /// # Panics
    /// When the answer is not 2xx JSON with `data.groups`.
    pub fn rules(&self) -> Vec<Value> {
        data_list(&self.url("/api/v1/rules"), "groups")
    }

    /// `GET /api/v1/alerts`: the pending and firing alerts (`data.alerts`).
    ///
    /// # Panics
    /// When the answer is not 2xx JSON with `data.alerts`.
    pub fn alerts(&self) -> Vec<Value> {
        data_list(&self.url("/api/v1/alerts"), "alerts")
    }

    /// Kills the process (SIGKILL) and waits for it. Idempotent.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Fails only if the process is already gone, which is what we want.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Spawns the process and waits for `/-/ready`; on failure, whether the port was
    /// taken and a message with the log's tail.
    fn spawn_and_wait(&mut self) -> Result<(), (bool, String)> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.log_path().display()));
        let log_err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot clone the log file handle: {e}"));
        let child = Command::new(&self.bin)
            .args(&self.args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
        self.child = Some(child);
        self.wait_ready().map_err(|reason| {
            self.kill();
            let output = self.logs();
            let tail_from = output.len().saturating_sub(LOG_TAIL_BYTES);
            let tail = output.get(tail_from..).unwrap_or(&output);
            (
                output.contains("address already in use"),
                format!(
                    "Prometheus ({} {}) did not become ready: {reason}\n--- the end of its output ---\n{tail}--- end of output ---",
                    self.bin.display(),
                    self.args.join(" "),
                ),
            )
        })
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let url = self.url("/-/ready");
        crate::poll::wait_http_ready(&mut self.child, &url, self.ready_timeout)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `GET url` and its `data.<key>` array.
fn data_list(url: &str, key: &str) -> Vec<Value> {
    let answer = http::get_json(url);
    match &answer["data"][key] {
        Value::Array(items) => items.clone(),
        _ => panic!("GET {url} did not answer data.{key} as an array: {answer}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_loads_the_rules_dir_and_alertmanagers() {
        let builder = Prometheus::builder()
            .alertmanager("http://127.0.0.1:9093/am/")
            .scrape_config("{job_name: self, static_configs: [{targets: ['127.0.0.1:9090']}]}");
        let yaml: Yaml =
            yaml_serde::from_str(&builder.config_yaml(Path::new("/tmp/r"))).expect("YAML");
        assert_eq!(yaml["global"]["evaluation_interval"], "1s");
        assert_eq!(yaml["rule_files"][0], "/tmp/r/*.yml");
        let am = &yaml["alerting"]["alertmanagers"][0];
        assert_eq!(am["static_configs"][0]["targets"][0], "127.0.0.1:9093");
        assert_eq!(am["path_prefix"], "/am");
        assert_eq!(am["scheme"], "http");
        assert_eq!(yaml["scrape_configs"][0]["job_name"], "self");
    }
}
