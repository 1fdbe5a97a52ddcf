//! The end-to-end demo behind `scripts/demo` (the `alert-demo` binary): the whole alerting
//! system on embedded defaults on one machine, and a scenario that takes it from a
//! condition to a notification, a history episode, a health bar and a status page.
//!
//! It starts, in a working directory it keeps between runs (`./demo-data` by default):
//!
//! - the team's receiver and the demo app, in its own process ([`sidecars`]);
//! - `alert-history-server` on SQLite, the gateway's history webhook;
//! - a real Prometheus (Debian's `prometheus`) that scrapes everything here and loads the
//!   rule files the control plane writes, sending alerts to the Alertmanager members it
//!   finds in a file the demo writes once the cluster is up;
//! - `alert-gateway --target=all`: the data plane on SQLite, the control plane and the
//!   evaluator (elected through the SQLite store's leases: alone, it leads at once), the
//!   emitter, and the local driver's three-member Alertmanager cluster (Debian's
//!   `prometheus-alertmanager`);
//! - `alert-health serve`: the status page over all of them.
//!
//! Then [`scenario`] applies `examples/data/demo-spec.yaml` with `alertctl gateway spec
//! apply`, stops the app and the agent's heartbeats, follows the alerts to the receiver,
//! the history and the emitter, silences one condition, brings the app back and follows
//! the resolution, printing each step with its time. `--once` stops everything after the
//! scenario and exits 0 only if every step happened; otherwise the system keeps running
//! until Ctrl-C (or SIGTERM), and then every process the demo started is stopped.

pub mod process;
pub mod scenario;
pub mod sidecars;
pub mod stack;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

/// `alert-demo`'s flags.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "alert-demo",
    about = "The whole alerting system on one machine: the gateway (data plane, control plane, evaluator, emitter) over a 3-member Alertmanager cluster, Prometheus, the history server and the status page; then a scenario from a condition to a notification, a history episode and a resolution",
    after_help = "scripts/demo builds the binaries and runs this. Logs: DIR/logs/*.log."
)]
pub struct DemoArgs {
    /// The working directory (stores, Prometheus' data, configuration files, logs);
    /// kept between runs.
    #[arg(long, default_value = "./demo-data")]
    pub dir: PathBuf,
    /// Run the scenario, check every step, stop everything and exit (0 only if every
    /// step happened).
    #[arg(long)]
    pub once: bool,
    /// The spec the scenario applies.
    #[arg(long, default_value = "examples/data/demo-spec.yaml")]
    pub spec: PathBuf,
    /// Where alert-gateway, alert-history-server, alertctl and alert-health are (default:
    /// beside this binary).
    #[arg(long = "bin-dir")]
    pub bin_dir: Option<PathBuf>,
    /// Listen on free ports instead of the usual ones (gateway 9095, history 9094,
    /// Prometheus 9090, status page 9096, receiver 9097, demo app 9098). A usual port that
    /// is taken is replaced by a free one anyway.
    #[arg(long = "free-ports")]
    pub free_ports: bool,
    /// The longest wait for any one step.
    #[arg(long = "step-timeout", default_value = "120s", value_parser = parse_duration)]
    pub step_timeout: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    s.parse::<alert_core::Duration>()
        .map(|d| d.to_std())
        .map_err(|e| e.to_string())
}

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// A file or socket could not be used.
    #[error("{what}: {source}")]
    Io {
        /// The file or socket.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// A program the demo needs is not installed or not built.
    #[error("{program} not found: {hint}")]
    Missing {
        /// The program.
        program: String,
        /// How to get it.
        hint: String,
    },
    /// A process could not be started.
    #[error("cannot start {what}: {reason}")]
    Start {
        /// The process.
        what: String,
        /// Why.
        reason: String,
    },
    /// A process the demo started exited.
    #[error("{name} exited ({status}); the end of {log}:\n{tail}")]
    Exited {
        /// The process.
        name: String,
        /// Its exit status.
        status: String,
        /// Its log file.
        log: String,
        /// The last lines of it.
        tail: String,
    },
    /// A step did not happen in time.
    #[error("{what}: not within {timeout:?}{detail}")]
    Timeout {
        /// The step.
        what: String,
        /// How long it was waited for.
        timeout: Duration,
        /// What was seen last.
        detail: String,
    },
    /// A step went wrong.
    #[error("{0}")]
    Step(String),
    /// Ctrl-C or SIGTERM arrived while the scenario ran.
    #[error("interrupted")]
    Interrupted,
}

impl DemoError {
    fn io(what: impl std::fmt::Display, source: std::io::Error) -> DemoError {
        DemoError::Io {
            what: what.to_string(),
            source,
        }
    }
}

/// Runs the demo; the exit code is 0 when it ends as asked (Ctrl-C, or `--once` with
/// every step done).
pub async fn run(args: DemoArgs) -> i32 {
    let bins = match Binaries::find(args.bin_dir.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("alert-demo: {e}");
            return 1;
        }
    };
    let mut stack = match stack::Stack::start(&args, &bins).await {
        Ok(s) => s,
        Err((e, started)) => {
            eprintln!("alert-demo: {e}");
            if let Some(mut started) = started {
                started.stop().await;
            }
            return 1;
        }
    };
    let outcome = tokio::select! {
        r = scenario::run(&mut stack, &args, &bins) => r,
        () = interrupted() => Err(DemoError::Interrupted),
    };
    let code = match &outcome {
        Ok(()) => 0,
        Err(DemoError::Interrupted) => {
            println!("\nInterrupted: stopping everything the demo started.");
            stack.stop().await;
            return 0;
        }
        Err(e) => {
            println!("\nFAILED: {e}");
            println!("Logs: {}", stack.logs().display());
            1
        }
    };
    if args.once {
        stack.stop().await;
        if code == 0 {
            println!("\nEvery step happened. Stopped everything the demo started.");
        }
        return code;
    }
    stack.print_urls();
    println!("\nRunning until Ctrl-C (logs: {}).", stack.logs().display());
    let heartbeats = stack.keep_agent_alive();
    interrupted().await;
    heartbeats.abort();
    println!("\nStopping everything the demo started.");
    stack.stop().await;
    code
}

/// Ctrl-C or SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The programs the demo runs.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// `alert-gateway`.
    pub gateway: PathBuf,
    /// `alert-history-server`.
    pub history: PathBuf,
    /// `alertctl`.
    pub alertctl: PathBuf,
    /// `alert-health`.
    pub health: PathBuf,
    /// Prometheus.
    pub prometheus: PathBuf,
}

impl Binaries {
    /// Ours in `dir` (default: beside the running binary); Prometheus from
    /// `$PROMETHEUS_BIN` or `PATH`; Alertmanager is checked for on `PATH` (the gateway
    /// finds it the same way).
    pub fn find(dir: Option<&Path>) -> Result<Binaries, DemoError> {
        let dir = match dir {
            Some(d) => d.to_path_buf(),
            None => std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or_default(),
        };
        let ours = |name: &str, package: &str| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(DemoError::Missing {
                    program: path.display().to_string(),
                    hint: format!(
                        "build it: cargo build --release -p {package} (scripts/demo does)"
                    ),
                })
            }
        };
        let prometheus = std::env::var_os("PROMETHEUS_BIN")
            .map(PathBuf::from)
            .or_else(|| on_path("prometheus"))
            .ok_or_else(|| DemoError::Missing {
                program: "prometheus".into(),
                hint: "apt-get install prometheus (scripts/setup does)".into(),
            })?;
        if !alert_gateway::backend::local::BINARY_NAMES
            .iter()
            .any(|name| on_path(name).is_some())
        {
            return Err(DemoError::Missing {
                program: "alertmanager".into(),
                hint: "apt-get install prometheus-alertmanager (scripts/setup does)".into(),
            });
        }
        Ok(Binaries {
            gateway: ours("alert-gateway", "alert-gateway")?,
            history: ours("alert-history-server", "alert-examples")?,
            alertctl: ours("alertctl", "alert-examples")?,
            health: ours("alert-health", "alert-examples")?,
            prometheus,
        })
    }
}

/// `name` in a directory of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
