//! Arguments and the `eval` command.
//!
//! `alert-health eval --graph FILE [--format console|json|statuspage|html]
//! [--only-failing] [--emoji] [--fail-on failing|warning]` prints one evaluation and
//! exits 0 whatever the states, unless `--fail-on` names a state: then 1 when any service
//! (every root when the graph has no services) is at or worse than it (`warning`:
//! degraded, unknown or failing), naming them on stderr (for CI and cron); 2 on a graph
//! that cannot be loaded (with the error on stderr).
//!
//! A graph with `kubernetes.io` kinds reads the cluster of `--kubeconfig PATH` (both
//! commands), else as kubectl finds one: `$KUBECONFIG`, `~/.kube/config`, then the
//! in-cluster service account. Graphs without them never read a kubeconfig.
//!
//! Alert rules are read from the Prometheus or Grafana each entry's `params.url` names
//! (`prometheus.io/Rules`, `RuleGroup`, `Rule`; `grafana.com/Folder`, `Dashboard`,
//! `RuleGroup`, `Rule`; see `alert_health_graph::alerting_rules`), one fetch per server
//! and credentials per pass, sharing the other sensors' HTTP client.
//!
//! `alert-health serve --graph FILE --listen ADDR [--interval 30s] [--history.db PATH]
//! [--alertmanager URL[,URL...] [--backend alertmanager|cortex|mimir] [--tenant ID]
//! [--prefix PATH] [--path-template TEMPLATE] [--quorum majority|all|N]]` evaluates on an
//! interval and serves (see [`super::server`]), posting its alerts to the Alertmanager
//! the flags name (several URLs are the members of one HA cluster, each of which gets
//! every alert), else to the graph file's `alerting.alertmanager`. The state history
//! (the status page's uptime bars) is kept in a SQLite file, by default beside the
//! graph file ([`HistoryDb`]), so a restarted server shows the same bars.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use alert_core::{Duration, LabelSet};
use alert_health_graph::alerting_rules::{self, RuleReads};
use alert_health_graph::builtin::{self, Sources};
use alert_health_graph::graph_file::GraphFile;
use alert_health_graph::kubernetes::{self, KubeLists, client::KubeApiSource};
use alert_health_graph::visualiser::Visualiser;
use alert_health_graph::visualiser::console::{Console, Symbols};
use alert_health_graph::visualiser::html::HtmlStatusPage;
use alert_health_graph::visualiser::json::Json;
use alert_health_graph::visualiser::statuspage::{PageInfo, Statuspage};
use alert_health_graph::{
    AlertPolicy, AlertmanagerBackend, AlertmanagerSink, AlertmanagerTarget, DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT, Engine, EvaluationOptions, Quorum, Role, Snapshot, State, StateHistory,
};
use clap::{Parser, Subcommand, ValueEnum};

/// Exit code for a graph that cannot be loaded.
pub const BAD_GRAPH: u8 = 2;

/// `alert-health`.
#[derive(Debug, Parser)]
#[command(
    name = "alert-health",
    about = "Health of sensors, systems and services over a DAG"
)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate once and print.
    Eval {
        /// The graph file (YAML).
        #[arg(long)]
        graph: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Console)]
        format: Format,
        /// Only what is not passing, as explanation trees.
        #[arg(long)]
        only_failing: bool,
        /// Console symbols ✅ ⏳ ⚠️ ❔ ❌ instead of state names.
        #[arg(long)]
        emoji: bool,
        /// Exit 1 when a service is at or worse than this state.
        #[arg(long, value_enum, value_name = "STATE")]
        fail_on: Option<FailOn>,
        /// The kubeconfig for `kubernetes.io` kinds (default: `$KUBECONFIG`,
        /// `~/.kube/config`, then in-cluster).
        #[arg(long, value_name = "PATH")]
        kubeconfig: Option<PathBuf>,
    },
    /// Evaluate on an interval and serve the status page, JSON and metrics.
    Serve {
        /// The graph file (YAML).
        #[arg(long)]
        graph: PathBuf,
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: SocketAddr,
        /// Time between evaluations (default: the file's, else 30s).
        #[arg(long)]
        interval: Option<Duration>,
        /// SQLite file keeping the state history (the status page's uptime bars) across
        /// restarts; created if missing. Default: beside the graph file, named after it
        /// (`shop.yml` -> `shop.history.db`). `--history.db=''` or `none`: memory only.
        #[arg(long = "history.db", value_name = "PATH")]
        history_db: Option<String>,
        /// Where to post alerts (default: the file's `alerting.alertmanager`).
        #[command(flatten)]
        alertmanager: AlertmanagerArgs,
        /// The kubeconfig for `kubernetes.io` kinds (default: `$KUBECONFIG`,
        /// `~/.kube/config`, then in-cluster).
        #[arg(long, value_name = "PATH")]
        kubeconfig: Option<PathBuf>,
    },
}

/// `--fail-on`: the state from which `eval` exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Failing.
    Failing,
    /// Degraded, Unknown or Failing.
    Warning,
}

impl FailOn {
    /// The best state that counts.
    pub fn threshold(self) -> State {
        match self {
            FailOn::Failing => State::Failing,
            FailOn::Warning => State::Degraded,
        }
    }
}

/// The services (the roots, when the graph has no services) at or worse than `fail_on`,
/// as `name (state)`.
pub fn failed_services(snapshot: &Snapshot, fail_on: FailOn) -> Vec<String> {
    let graph = snapshot.graph();
    let services: Vec<_> = graph
        .ids()
        .filter(|id| graph.node(*id).role == Role::Service)
        .collect();
    let judged = if services.is_empty() {
        graph.roots().to_vec()
    } else {
        services
    };
    judged
        .into_iter()
        .filter(|id| snapshot.status(*id).state >= fail_on.threshold())
        .map(|id| format!("{} ({})", graph.node(id).name, snapshot.status(id).state))
        .collect()
}

/// The flags of `serve` that name the Alertmanager alerts are posted to.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AlertmanagerArgs {
    /// Alertmanager to post alerts to. Repeat the flag or separate URLs with commas to
    /// name the members of an HA cluster; each gets every alert.
    #[arg(long, value_name = "URL", value_delimiter = ',')]
    pub alertmanager: Vec<String>,
    /// What --alertmanager points at: alertmanager (default), cortex or mimir.
    #[arg(long, value_name = "BACKEND", requires = "alertmanager")]
    pub backend: Option<AlertmanagerBackend>,
    /// The tenant: X-Scope-OrgID for cortex and mimir, `{tenant}` of --path-template.
    #[arg(long, value_name = "ID", requires = "alertmanager")]
    pub tenant: Option<String>,
    /// Cortex's/Mimir's Alertmanager HTTP prefix (default /alertmanager).
    #[arg(long, value_name = "PATH", requires = "alertmanager")]
    pub prefix: Option<String>,
    /// A per-tenant path such as /{tenant}/prom/alertmanager (a gateway that puts the
    /// tenant in the path).
    #[arg(long, value_name = "TEMPLATE", requires = "alertmanager")]
    pub path_template: Option<String>,
    /// Members that must accept each post: majority (default), all, or a number.
    #[arg(long, value_name = "QUORUM", requires = "alertmanager")]
    pub quorum: Option<Quorum>,
}

impl AlertmanagerArgs {
    /// The target these flags name, checked; `None` without `--alertmanager`.
    ///
    /// ```
    /// use alert_examples::health::cli::AlertmanagerArgs;
    /// let args = AlertmanagerArgs {
    ///     alertmanager: vec!["http://m:8080".into()],
    ///     tenant: Some("team-a".into()),
    ///     ..AlertmanagerArgs::default()
    /// };
    /// let err = args.target().unwrap_err().to_string();
    /// assert!(err.starts_with("--tenant: expected no tenant for a vanilla Alertmanager"), "{err}");
    /// ```
    pub fn target(&self) -> alert_health_graph::Result<Option<AlertmanagerTarget>> {
        if self.alertmanager.is_empty() {
            return Ok(None);
        }
        let mut target = AlertmanagerTarget::new(
            self.alertmanager
                .iter()
                .flat_map(|u| AlertmanagerTarget::split_urls(u)),
        );
        target.backend = self.backend.unwrap_or_default();
        target.tenant = self
            .tenant
            .as_deref()
            .map(|t| AlertmanagerTarget::tenant_id(t, "--tenant"))
            .transpose()?;
        target.prefix = self.prefix.clone();
        target.path_template = self.path_template.clone();
        target.quorum = self.quorum.unwrap_or_default();
        target.check(&|field| match field {
            "url" | "urls" => "--alertmanager".to_owned(),
            other => format!("--{}", other.replace('_', "-")),
        })?;
        Ok(Some(target))
    }
}

/// Where `serve` keeps the state history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryDb {
    /// A SQLite file.
    File(PathBuf),
    /// Memory only: a restart starts an empty history.
    Memory,
}

impl HistoryDb {
    /// What `--history.db` says for `graph`: absent, the graph file's directory and
    /// stem with `.history.db`; empty or `none`, memory only; else that file.
    ///
    /// ```
    /// use std::path::{Path, PathBuf};
    /// use alert_examples::health::cli::HistoryDb;
    /// let graph = Path::new("/etc/health/shop.yml");
    /// assert_eq!(HistoryDb::from_flag(None, graph), HistoryDb::File(PathBuf::from("/etc/health/shop.history.db")));
    /// assert_eq!(HistoryDb::from_flag(Some(""), graph), HistoryDb::Memory);
    /// assert_eq!(HistoryDb::from_flag(Some("none"), graph), HistoryDb::Memory);
    /// assert_eq!(HistoryDb::from_flag(Some("h.db"), graph), HistoryDb::File(PathBuf::from("h.db")));
    /// ```
    pub fn from_flag(flag: Option<&str>, graph: &std::path::Path) -> HistoryDb {
        match flag {
            None => {
                let stem = graph
                    .file_stem()
                    .map_or_else(|| "alert-health".into(), |s| s.to_string_lossy());
                HistoryDb::File(graph.with_file_name(format!("{stem}.history.db")))
            }
            Some("" | "none") => HistoryDb::Memory,
            Some(path) => HistoryDb::File(PathBuf::from(path)),
        }
    }
}

/// Output formats of `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tab-indented tree.
    Console,
    /// The native JSON tree.
    Json,
    /// Atlassian Statuspage `summary.json`.
    Statuspage,
    /// The HTML status page.
    Html,
}

/// A loaded graph file, ready to evaluate.
pub struct Loaded {
    /// The file as read.
    pub file: GraphFile,
    /// The engine over its graph and sensors.
    pub engine: Engine,
    /// Status page settings.
    pub page: PageInfo,
    /// The HTTP client and cache the sensors share (also used to post alerts).
    pub sources: Sources,
}

/// Loads, instruments and checks a graph file; a graph naming `kubernetes.io` kinds
/// connects to the cluster of `kubeconfig` (else as kubectl finds one).
pub async fn load(
    path: &std::path::Path,
    kubeconfig: Option<&std::path::Path>,
) -> alert_health_graph::Result<Loaded> {
    let file = GraphFile::load(path)?;
    let sources = Sources::default();
    let mut registry = builtin::registry(&sources);
    registry.extend(&alerting_rules::registry(RuleReads::new(
        sources.client.clone(),
    )));
    let kube = file
        .sensors
        .iter()
        .any(|s| s.kind.namespace() == kubernetes::NAMESPACE);
    if kube {
        let source = KubeApiSource::connect(kubeconfig).await?;
        registry.extend(&kubernetes::registry(KubeLists::new(Arc::new(source))));
    }
    let built = file.assemble(&registry)?;
    let options = EvaluationOptions {
        timeout: file.evaluation.timeout.unwrap_or(DEFAULT_TIMEOUT),
        concurrency: file.evaluation.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
    };
    let engine = Engine::new(built.graph, built.sensors).with_options(options);
    let page = file.page_info(engine.graph())?;
    Ok(Loaded {
        file,
        engine,
        page,
        sources,
    })
}

/// The alert policy a graph file describes.
pub fn policy(
    file: &GraphFile,
    interval: Duration,
    page: &PageInfo,
) -> alert_health_graph::Result<AlertPolicy> {
    let defaults = AlertPolicy::default();
    let alerting = file.alerting.clone().unwrap_or_default();
    let mut labels = LabelSet::new();
    for (k, v) in &alerting.labels {
        labels.insert(k.clone(), v.clone()).map_err(|e| {
            alert_health_graph::Error::InvalidField {
                field: format!("alerting.labels.{k}"),
                value: k.clone(),
                expected: e.to_string(),
            }
        })?;
    }
    Ok(AlertPolicy {
        default_for: alerting.for_.unwrap_or(defaults.default_for),
        resolve_after: interval.checked_mul(3).unwrap_or(defaults.resolve_after),
        extra_labels: labels,
        generator_url: page.url.clone(),
    })
}

/// `result`'s value, or the error printed and the bad-graph exit code.
pub fn or_bad_graph<T>(result: alert_health_graph::Result<T>) -> Result<T, ExitCode> {
    result.map_err(|e| {
        eprintln!("alert-health: {e}");
        ExitCode::from(BAD_GRAPH)
    })
}

/// `alert-health eval`.
pub async fn eval(
    graph: &std::path::Path,
    format: Format,
    only_failing: bool,
    emoji: bool,
    fail_on: Option<FailOn>,
    kubeconfig: Option<&std::path::Path>,
) -> ExitCode {
    let loaded = match or_bad_graph(load(graph, kubeconfig).await) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let snapshot = loaded.engine.evaluate().await;
    let mut history = StateHistory::default();
    history.record_snapshot(&snapshot);
    let text = match format {
        Format::Console => Console {
            symbols: if emoji {
                Symbols::emoji()
            } else {
                Symbols::names()
            },
            only_failing,
        }
        .render(&snapshot),
        Format::Json => Json { only_failing }.render(&snapshot),
        Format::Statuspage => Statuspage {
            page: &loaded.page,
            history: &history,
        }
        .render(&snapshot),
        Format::Html => HtmlStatusPage {
            page: &loaded.page,
            history: &history,
            now: None,
            live: false,
        }
        .render(&snapshot),
    };
    print!("{text}");
    let Some(fail_on) = fail_on else {
        return ExitCode::SUCCESS;
    };
    let failed = failed_services(&snapshot, fail_on);
    if failed.is_empty() {
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "alert-health: {} at or worse than {}: {}",
        if failed.len() == 1 {
            "1 service"
        } else {
            "services"
        },
        fail_on.threshold(),
        failed.join(", ")
    );
    ExitCode::FAILURE
}

/// Runs the parsed command.
pub async fn run(args: Args) -> ExitCode {
    match args.command {
        Command::Eval {
            graph,
            format,
            only_failing,
            emoji,
            fail_on,
            kubeconfig,
        } => {
            eval(
                &graph,
                format,
                only_failing,
                emoji,
                fail_on,
                kubeconfig.as_deref(),
            )
            .await
        }
        Command::Serve {
            graph,
            listen,
            interval,
            history_db,
            alertmanager,
            kubeconfig,
        } => {
            let history = HistoryDb::from_flag(history_db.as_deref(), &graph);
            super::server::serve_command(
                &graph,
                listen,
                interval,
                &history,
                &alertmanager,
                kubeconfig.as_deref(),
            )
            .await
        }
    }
}

/// The evaluator for a loaded file: interval, policy, and an Alertmanager sink when one
/// is configured (by the flags, else by the file).
pub fn evaluator(
    loaded: &Loaded,
    interval: Option<Duration>,
    alertmanager: &AlertmanagerArgs,
) -> alert_health_graph::Result<alert_health_graph::GraphEvaluator> {
    let interval = interval
        .or(loaded.file.evaluation.interval)
        .unwrap_or(Duration::from_secs(30).unwrap_or(Duration::ZERO));
    let policy = policy(&loaded.file, interval, &loaded.page)?;
    let mut evaluator = alert_health_graph::GraphEvaluator::new(loaded.engine.clone(), policy)
        .with_interval(interval.to_std().max(std::time::Duration::from_millis(100)));
    let target = match alertmanager.target()? {
        Some(target) => Some(target),
        None => loaded
            .file
            .alerting
            .as_ref()
            .and_then(|a| a.alertmanager.clone()),
    };
    if let Some(target) = target {
        evaluator = evaluator.with_sink(Arc::new(AlertmanagerSink::for_target(
            &target,
            Some(&loaded.sources.client),
        )?));
    }
    Ok(evaluator)
}
