//! `alert-gateway`: the alerting gateway's deployments in one binary, as Mimir and Loki
//! ship theirs (`--target=all`, or a comma list of deployments).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use alert_core::{AlertmanagerBackend, AlertmanagerTarget, Secret, TenantId};
use alert_cortex_adapter::{
    AlertmanagerClient, Cluster, CortexBackend, FileReloadBackend, FileTarget, PrometheusRules,
    RuleBackend, RulerApi,
};
use alert_gateway::api::{self, ApiOptions};
use alert_gateway::backend::{self, Backend, LocalCluster, LocalOptions, MemberlistSettings};
use alert_gateway::control_plane::{self, AlertmanagerSink, ControlPlane, ControlPlaneOptions};
use alert_gateway::election::Elector;
use alert_gateway::emitter::{self, EmitterOptions};
use alert_gateway::evaluator::{self, Evaluator, EvaluatorOptions, GraphOptions};
use alert_gateway::functional::{self, AlertmanagerTenancy, Functional, PrometheusApi};
use alert_gateway::kube_events::{EventRecorder, ObjectReference, Reporter};
use alert_gateway::logging::{self, LogFormat};
use alert_gateway::metrics::Metrics;
use alert_gateway::server::{self, ServeOptions};
use alert_gateway::store::{self, SharedStore};
use alert_router::builder::{BuildOptions, DefaultWebhook};
use alert_router::validate::{ClusterTiming, TenantBackend, TenantLimits, TenantRules};
use clap::Parser;

/// The deployments of the gateway.
const TARGETS: [&str; 4] = ["data-plane", "control-plane", "evaluator", "emitter"];

#[derive(Debug, Parser)]
#[command(
    name = "alert-gateway",
    version,
    about = "The alerting gateway: a data plane of endpoints, conditions and SLOs, the \
             control plane that keeps rules and Alertmanager configurations live, the \
             evaluator of agent heartbeats and component health, and the emitter, in one \
             binary."
)]
struct Args {
    /// Which deployments to run: `all`, or a comma list of data-plane, control-plane,
    /// evaluator, emitter.
    #[arg(long, default_value = "all")]
    target: String,
    /// The address the HTTP API listens on.
    #[arg(long, default_value = "127.0.0.1:9095")]
    listen: SocketAddr,
    /// The store: sqlite:PATH (the embedded default), etcd:http://h1:2379,http://h2:2379
    /// (replicas), or http(s)://HOST:PORT (another gateway's data plane).
    #[arg(long, default_value = "sqlite:./data/gateway.db")]
    store: String,
    /// A file holding the bearer token every API route but /-/healthy and /-/ready
    /// requires (surrounding whitespace is trimmed; an empty file is refused).
    #[arg(long = "auth.token-file")]
    auth_token_file: Option<PathBuf>,
    /// A file holding the bearer token sent to a remote store (--store http://...).
    #[arg(long = "store.token-file")]
    store_token_file: Option<PathBuf>,
    /// Log format: logfmt or json.
    #[arg(long = "log.format", default_value = "logfmt")]
    log_format: LogFormat,
    /// How many revisions of history the store keeps for watches and past reads
    /// (compacted every minute by the data plane).
    #[arg(long = "store.retain-revisions", default_value_t = 100_000)]
    retain_revisions: u64,
    /// The largest request body, in bytes.
    #[arg(long = "web.max-body-bytes", default_value_t = api::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// The emitter's name among its replicas (message ids, the Events' reportingInstance);
    /// default: the host name.
    #[arg(long = "emitter.replica")]
    emitter_replica: Option<String>,
    /// Notifications the emitter keeps per tenant.
    #[arg(long = "emitter.messages-per-tenant", default_value_t = emitter::DEFAULT_PER_TENANT)]
    messages_per_tenant: usize,
    /// The other emitter replicas (base URLs), asked when messages are read, so that a
    /// read through any replica sees every message.
    #[arg(long = "emitter.peers", value_delimiter = ',')]
    emitter_peers: Vec<String>,
    /// The Kubernetes API server the emitter writes Events to (none: no Events).
    #[arg(long = "kube.url")]
    kube_url: Option<String>,
    /// A file holding the bearer token for --kube.url.
    #[arg(long = "kube.token-file")]
    kube_token_file: Option<PathBuf>,
    /// The object the Events are about: API_VERSION,KIND,NAMESPACE,NAME (an empty
    /// namespace for a cluster-scoped object).
    #[arg(long = "emitter.regarding", default_value = "v1,Namespace,,default")]
    emitter_regarding: String,
    #[command(flatten)]
    control_plane: ControlPlaneArgs,
    #[command(flatten)]
    evaluator: EvaluatorArgs,
    #[command(flatten)]
    backend: BackendArgs,
}

/// The alerting backend's flags: the Alertmanager cluster the gateway runs itself when
/// no --alertmanager.url names one.
#[derive(Debug, clap::Args)]
struct BackendArgs {
    /// local: run the Alertmanager cluster as child processes when the control plane or
    /// the evaluator runs and no --alertmanager.url is given; none: run nothing.
    #[arg(long = "backend", default_value = "local")]
    backend: String,
    /// Where the members keep their configuration, silences and notification log.
    #[arg(long = "backend.data-dir", default_value = "./data/alerting-cluster")]
    data_dir: PathBuf,
    /// The Alertmanager binary (default: alertmanager or prometheus-alertmanager on PATH).
    #[arg(long = "backend.binary", value_name = "FILE")]
    binary: Option<PathBuf>,
    /// Controller members (they advertise; workers join them).
    #[arg(long = "backend.controllers", default_value_t = 1)]
    controllers: usize,
    /// Worker members at start (PUT /api/v1/backend/workers scales them).
    #[arg(long = "backend.workers", default_value_t = 2)]
    workers: usize,
    /// The members' --cluster.gossip-interval.
    #[arg(long = "backend.gossip-interval", default_value = "200ms")]
    gossip_interval: String,
    /// The members' --cluster.pushpull-interval.
    #[arg(long = "backend.pushpull-interval", default_value = "1m")]
    pushpull_interval: String,
    /// The members' --cluster.peer-timeout; with the member count it sets the shortest
    /// group_wait the control plane accepts.
    #[arg(long = "backend.peer-timeout", default_value = "15s")]
    peer_timeout: String,
    /// The members' --cluster.settle-timeout.
    #[arg(long = "backend.settle-timeout", default_value = "1m")]
    settle_timeout: String,
}

/// The local Alertmanager cluster's options, if this process should run one.
fn local_options(args: &Args, targets: &[&str]) -> Result<Option<LocalOptions>, String> {
    let wanted = targets
        .iter()
        .any(|t| *t == "control-plane" || *t == "evaluator")
        && args.control_plane.alertmanager_url.is_empty();
    match args.backend.backend.as_str() {
        "none" => return Ok(None),
        "local" if wanted => {}
        "local" => return Ok(None),
        other => return Err(format!("--backend {other:?}: expected local or none")),
    }
    let b = &args.backend;
    let timer = |flag: &str, value: &str| {
        value
            .parse::<alert_core::Duration>()
            .map_err(|e| format!("--{flag} {value:?}: {e}"))
    };
    if b.controllers == 0 {
        return Err("--backend.controllers 0: at least one controller is needed".into());
    }
    backend::check_workers(b.workers as u64).map_err(|e| format!("--backend.{e}"))?;
    Ok(Some(LocalOptions {
        data_dir: b.data_dir.clone(),
        binary: b.binary.clone(),
        controllers: b.controllers,
        workers: b.workers,
        memberlist: MemberlistSettings {
            gossip_interval: timer("backend.gossip-interval", &b.gossip_interval)?,
            pushpull_interval: timer("backend.pushpull-interval", &b.pushpull_interval)?,
            peer_timeout: timer("backend.peer-timeout", &b.peer_timeout)?,
            settle_timeout: timer("backend.settle-timeout", &b.settle_timeout)?,
        },
        ..LocalOptions::default()
    }))
}

/// The evaluator's options from its flags.
fn evaluator_options(ev: &EvaluatorArgs) -> Result<EvaluatorOptions, String> {
    let graph = match &ev.evaluator_graph {
        None => None,
        Some(path) => Some(GraphOptions {
            text: std::fs::read_to_string(path)
                .map_err(|e| format!("--evaluator.graph {}: {e}", path.display()))?,
            file: path.display().to_string(),
            interval: duration("evaluator.graph-interval", &ev.evaluator_graph_interval)?,
        }),
    };
    Ok(EvaluatorOptions {
        interval: duration("evaluator.interval", &ev.evaluator_interval)?,
        resend: duration("evaluator.resend", &ev.evaluator_resend)?,
        graph,
    })
}

/// Keeps the backend's series in the gateway's metrics.
async fn backend_metrics(backend: Arc<dyn Backend>, metrics: Arc<Metrics>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        match backend.status().await {
            Ok(status) => metrics.set_extra("backend", backend::render_metrics(&status)),
            Err(e) => tracing::warn!(error = %e, "the alerting backend's status could not be read"),
        }
    }
}

/// The evaluator's flags. Its alerts go to the Alertmanager the control plane's
/// --alertmanager.* flags name.
#[derive(Debug, clap::Args)]
struct EvaluatorArgs {
    /// This replica's name in the evaluator's election (default: host name and pid).
    #[arg(long = "evaluator.replica")]
    evaluator_replica: Option<String>,
    /// The evaluator's lease: a dead leader is replaced within it.
    #[arg(long = "evaluator.lease-ttl", default_value = "5s")]
    evaluator_lease_ttl: String,
    /// The longest pause between passes (deadlines and store changes wake it sooner).
    #[arg(long = "evaluator.interval", default_value = "1s")]
    evaluator_interval: String,
    /// How often a firing alert is posted again (its endsAt is four of these ahead).
    #[arg(long = "evaluator.resend", default_value = "1m")]
    evaluator_resend: String,
    /// A health graph (alert-health-graph's YAML) whose nodes component_health
    /// conditions may name.
    #[arg(long = "evaluator.graph", value_name = "FILE")]
    evaluator_graph: Option<PathBuf>,
    /// How often the health graph is evaluated.
    #[arg(long = "evaluator.graph-interval", default_value = "30s")]
    evaluator_graph_interval: String,
}

/// The control plane's flags.
#[derive(Debug, clap::Args)]
struct ControlPlaneArgs {
    /// What the Alertmanager URLs point at: alertmanager (a vanilla Alertmanager, or the
    /// members of an HA cluster: one combined configuration, written to
    /// --alertmanager.config-file and loaded with /-/reload), cortex or mimir (one
    /// configuration per tenant through their API).
    #[arg(long = "alertmanager.backend", default_value = "alertmanager")]
    alertmanager_backend: String,
    /// An Alertmanager (repeat for the members of an HA cluster), or Cortex's/Mimir's
    /// base URL. None: configurations go nowhere.
    #[arg(long = "alertmanager.url", value_name = "URL")]
    alertmanager_url: Vec<String>,
    /// The configuration file each Alertmanager reads (one per --alertmanager.url, or one
    /// shared by all).
    #[arg(long = "alertmanager.config-file", value_name = "FILE")]
    alertmanager_config_file: Vec<PathBuf>,
    /// Cortex/Mimir: the Alertmanager HTTP prefix.
    #[arg(long = "alertmanager.prefix", default_value = alert_cortex_adapter::DEFAULT_PREFIX)]
    alertmanager_prefix: String,
    /// Cortex/Mimir: the tenant that conditions bound to no tenant go to (none: they are
    /// left out and reported).
    #[arg(long = "alertmanager.default-tenant", value_name = "ID")]
    alertmanager_default_tenant: Option<String>,
    /// Cortex/Mimir: the tenant's `alertmanager_max_config_size_bytes` (0: no limit). A
    /// configuration over a limit, or with a setting Cortex and Mimir refuse, is reported
    /// on the tenant and never sent.
    #[arg(
        long = "alertmanager.limits.max-config-size-bytes",
        default_value_t = 0
    )]
    limit_config_size: usize,
    /// Cortex/Mimir: `alertmanager_max_templates_count` (0: no limit).
    #[arg(long = "alertmanager.limits.max-templates-count", default_value_t = 0)]
    limit_templates: usize,
    /// Cortex/Mimir: `alertmanager_max_template_size_bytes` (0: no limit).
    #[arg(
        long = "alertmanager.limits.max-template-size-bytes",
        default_value_t = 0
    )]
    limit_template_size: usize,
    /// The members' --cluster.peer-timeout. When given, a route whose group_wait is
    /// shorter than the last member's wait ((members - 1) x peer timeout) is refused.
    #[arg(long = "alertmanager.peer-timeout", value_name = "DURATION")]
    alertmanager_peer_timeout: Option<String>,
    /// A base Alertmanager configuration every generated one is merged into.
    #[arg(long = "alertmanager.base-config", value_name = "FILE")]
    alertmanager_base_config: Option<PathBuf>,
    /// Where rules go: prometheus (files in --rules.dir, /-/reload), cortex or mimir (the
    /// ruler API at --ruler.url), none. Default: prometheus when --prometheus.url is
    /// given, else none.
    #[arg(long = "rules.backend")]
    rules_backend: Option<String>,
    /// The directory Prometheus loads rule files from (`rule_files: [DIR/*.yml]`).
    #[arg(long = "rules.dir", value_name = "DIR")]
    rules_dir: Option<PathBuf>,
    /// Prometheus (repeat for an HA pair loading the same directory).
    #[arg(long = "prometheus.url", value_name = "URL")]
    prometheus_url: Vec<String>,
    /// Cortex's/Mimir's ruler (base URL).
    #[arg(long = "ruler.url", value_name = "URL")]
    ruler_url: Option<String>,
    /// promtool, to check every rule file before it is written (default: found on PATH).
    #[arg(long = "rules.promtool", value_name = "FILE")]
    rules_promtool: Option<PathBuf>,
    /// The alert-history webhook every configuration sends every alert to first.
    #[arg(long = "history.url", value_name = "URL")]
    history_url: Option<String>,
    /// The emitter webhook every configuration sends every alert to, after the history
    /// webhook. Default when this process runs the emitter: its own
    /// /api/v1/emitter/webhook on --listen (an unspecified address becomes 127.0.0.1).
    #[arg(long = "emitter.url", value_name = "URL")]
    emitter_url: Option<String>,
    /// group_wait of the routes to the default webhooks (history, emitter).
    #[arg(long = "default-webhooks.group-wait", default_value = "30s")]
    default_group_wait: String,
    /// group_interval of the routes to the default webhooks.
    #[arg(long = "default-webhooks.group-interval", default_value = "5m")]
    default_group_interval: String,
    /// repeat_interval of the routes to the default webhooks.
    #[arg(long = "default-webhooks.repeat-interval", default_value = "4h")]
    default_repeat_interval: String,
    /// This replica's name in the control plane's election (default: host name and pid).
    #[arg(long = "control-plane.replica")]
    control_plane_replica: Option<String>,
    /// The control plane's lease: a dead leader is replaced within it.
    #[arg(long = "control-plane.lease-ttl", default_value = "5s")]
    control_plane_lease_ttl: String,
    /// How long a change may take to be seen live before its tenant is reported failed.
    #[arg(long = "control-plane.live-timeout", default_value = "30s")]
    control_plane_live_timeout: String,
}

fn regarding(spec: &str) -> Result<ObjectReference, String> {
    let parts: Vec<&str> = spec.split(',').collect();
    let [api_version, kind, namespace, name] = parts.as_slice() else {
        return Err(format!(
            "--emitter.regarding {spec:?}: expected API_VERSION,KIND,NAMESPACE,NAME"
        ));
    };
    if api_version.is_empty() || kind.is_empty() || name.is_empty() {
        return Err(format!(
            "--emitter.regarding {spec:?}: API_VERSION, KIND and NAME must not be empty"
        ));
    }
    Ok(ObjectReference {
        api_version: (*api_version).to_owned(),
        kind: (*kind).to_owned(),
        namespace: (*namespace).to_owned(),
        name: (*name).to_owned(),
    })
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "alert-gateway".to_owned())
}

/// Reads a credential file as Alertmanager's HTTP client does: surrounding whitespace
/// trimmed; an empty credential is an error.
fn read_token(path: &PathBuf, flag: &str) -> Result<String, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--{flag} {}: {e}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("--{flag} {}: the file is empty", path.display()));
    }
    Ok(token.to_owned())
}

fn duration(flag: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<alert_core::Duration>()
        .map(|d| d.to_std())
        .map_err(|e| format!("--{flag} {value:?}: {e}"))
}

/// The vanilla Alertmanager at `urls` as the gateway talks to it: each call within the
/// adapter's default timeout, tried as its default backoff tries.
fn alertmanager_target(urls: Vec<String>) -> Result<AlertmanagerTarget, String> {
    let mut target = AlertmanagerTarget::new(urls);
    target.request_timeout =
        alert_core::Duration::from_millis(alert_cortex_adapter::DEFAULT_TIMEOUT.as_millis() as u64)
            .ok_or("the adapter's default timeout is out of range")?;
    target.attempts = alert_cortex_adapter::Backoff::default().max_attempts;
    Ok(target)
}

/// The members of `target`, as clients.
fn clients_of(target: &AlertmanagerTarget) -> Result<Vec<AlertmanagerClient>, String> {
    Cluster::from_target(target, None)
        .map(|c| c.members().to_vec())
        .map_err(|e| alert_core::redact_urls(&e.to_string()))
}

/// `--alertmanager.backend`, read as alert-core's [`AlertmanagerBackend`].
fn backend(args: &ControlPlaneArgs) -> Result<AlertmanagerBackend, String> {
    args.alertmanager_backend.parse().map_err(|_| {
        format!(
            "--alertmanager.backend {:?}: expected alertmanager, cortex or mimir",
            args.alertmanager_backend
        )
    })
}

/// The control plane's options from its flags.
///
/// `own_emitter`: this process's emitter webhook URL, when it runs the emitter.
fn control_plane_options(
    args: &ControlPlaneArgs,
    own_emitter: Option<String>,
    local: Option<&LocalCluster>,
) -> Result<ControlPlaneOptions, String> {
    let mut build = BuildOptions {
        endpoint_tests: true,
        ..BuildOptions::default()
    };
    let timer = |flag: &str, value: &str| {
        value
            .parse::<alert_core::Duration>()
            .map_err(|e| format!("--{flag} {value:?}: {e}"))
    };
    let webhook = |url: String| -> Result<DefaultWebhook, String> {
        let mut webhook = DefaultWebhook::new(url);
        webhook.group_wait = timer("default-webhooks.group-wait", &args.default_group_wait)?;
        webhook.group_interval = timer(
            "default-webhooks.group-interval",
            &args.default_group_interval,
        )?;
        webhook.repeat_interval = timer(
            "default-webhooks.repeat-interval",
            &args.default_repeat_interval,
        )?;
        Ok(webhook)
    };
    if let Some(url) = &args.history_url {
        build.history = Some(webhook(url.clone())?);
    }
    if let Some(url) = args.emitter_url.clone().or(own_emitter) {
        build.emitter = Some(webhook(url)?);
    }
    if let Some(path) = &args.alertmanager_base_config {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("--alertmanager.base-config {}: {e}", path.display()))?;
        build.base = Some(
            alert_router::config::Config::from_yaml_bytes(&bytes)
                .map_err(|e| format!("--alertmanager.base-config {}: {e}", path.display()))?,
        );
    }
    let members = args.alertmanager_url.len();
    if let Some(timeout) = &args.alertmanager_peer_timeout {
        let peer_timeout = timeout
            .parse::<alert_core::Duration>()
            .map_err(|e| format!("--alertmanager.peer-timeout {timeout:?}: {e}"))?;
        build.cluster = Some(ClusterTiming {
            peer_timeout,
            peers: members.max(1),
        });
    } else if let (Some(local), 0) = (local, members) {
        build.cluster = Some(local.cluster_timing());
    }
    let alertmanager = match (backend(args)?, members) {
        (_, 0) => local.map(|local| AlertmanagerSink::Shared {
            backend: local.config_backend(),
            members: local.alertmanager_urls(),
        }),
        (AlertmanagerBackend::Alertmanager, _) => {
            let files = &args.alertmanager_config_file;
            if files.is_empty() || (files.len() != 1 && files.len() != members) {
                return Err(format!(
                    "--alertmanager.config-file: give one file per --alertmanager.url ({members}), or one shared by all"
                ));
            }
            let shared: TenantId = control_plane::SHARED_CONFIG
                .parse()
                .map_err(|e: alert_core::Error| e.to_string())?;
            let mut backend = FileReloadBackend::new();
            let clients = clients_of(&alertmanager_target(args.alertmanager_url.clone())?)?;
            for (i, client) in clients.into_iter().enumerate() {
                let config_path = files.get(i).unwrap_or(&files[0]).clone();
                backend = backend.with_target(
                    shared.clone(),
                    FileTarget {
                        config_path,
                        client,
                    },
                );
            }
            Some(AlertmanagerSink::Shared {
                backend: Arc::new(backend),
                members: args
                    .alertmanager_url
                    .iter()
                    .map(|u| alert_core::redact_urls(u))
                    .collect(),
            })
        }
        (flavor, 1) => {
            let url = &args.alertmanager_url[0];
            let rules = TenantRules {
                backend: if flavor == AlertmanagerBackend::Mimir {
                    TenantBackend::Mimir
                } else {
                    TenantBackend::Cortex
                },
                limits: TenantLimits {
                    max_config_size_bytes: (args.limit_config_size > 0)
                        .then_some(args.limit_config_size),
                    max_templates_count: (args.limit_templates > 0).then_some(args.limit_templates),
                    max_template_size_bytes: (args.limit_template_size > 0)
                        .then_some(args.limit_template_size),
                },
                ..TenantRules::default()
            };
            let backend = CortexBackend::new(multi_tenant_client(args, flavor, url)?)
                .with_tenant_rules(rules);
            Some(AlertmanagerSink::PerTenant {
                backend: Arc::new(backend),
                unbound: default_tenant(args)?,
                url: alert_core::redact_urls(url),
            })
        }
        (_, n) => {
            return Err(format!(
                "--alertmanager.url: Cortex and Mimir take one base URL, not {n}"
            ));
        }
    };
    let rules_backend = args.rules_backend.clone().unwrap_or_else(|| {
        if args.prometheus_url.is_empty() {
            "none"
        } else {
            "prometheus"
        }
        .to_owned()
    });
    let rules: Option<Arc<dyn RuleBackend>> = match rules_backend.as_str() {
        "none" => None,
        "prometheus" => {
            let (Some(first), Some(dir)) = (args.prometheus_url.first(), &args.rules_dir) else {
                return Err(
                    "--rules.backend prometheus needs --prometheus.url and --rules.dir".into(),
                );
            };
            let mut backend = PrometheusRules::new(dir, first)
                .map_err(|e| alert_core::redact_urls(&e.to_string()))?;
            for url in &args.prometheus_url[1..] {
                backend = backend
                    .with_instance(url)
                    .map_err(|e| alert_core::redact_urls(&e.to_string()))?;
            }
            let promtool = args
                .rules_promtool
                .clone()
                .or_else(|| find_on_path("promtool"));
            if let Some(promtool) = promtool {
                backend = backend.with_promtool(promtool);
            }
            Some(Arc::new(backend))
        }
        flavor @ ("cortex" | "mimir") => {
            let Some(url) = &args.ruler_url else {
                return Err(format!("--rules.backend {flavor} needs --ruler.url"));
            };
            let flavor = flavor
                .parse()
                .map_err(|e: alert_core::Error| e.to_string())?;
            let client = multi_tenant_client(args, flavor, url)?;
            let mut api = RulerApi::new(client).map_err(|e| e.to_string())?;
            if let Some(t) = &args.alertmanager_default_tenant {
                api = api
                    .with_unbound_tenant(t.clone())
                    .map_err(|e| e.to_string())?;
            }
            Some(Arc::new(api))
        }
        other => {
            return Err(format!(
                "--rules.backend {other:?}: expected prometheus, cortex, mimir or none"
            ));
        }
    };
    // The builder refuses bad options (a base configuration whose names collide) now,
    // not at the first election.
    alert_router::builder::Builder::new(build.clone())
        .map_err(|e| format!("the Alertmanager configuration cannot be built: {e}"))?;
    Ok(ControlPlaneOptions {
        build,
        alertmanager,
        rules,
        live_timeout: duration(
            "control-plane.live-timeout",
            &args.control_plane_live_timeout,
        )?,
        ..ControlPlaneOptions::default()
    })
}

/// A client of Cortex's or Mimir's API at `url` (`flavor`: cortex or mimir), addressing
/// each tenant by its org id under `--alertmanager.prefix` (its own tenant, `anonymous`,
/// is replaced per call).
fn multi_tenant_client(
    args: &ControlPlaneArgs,
    flavor: AlertmanagerBackend,
    url: &str,
) -> Result<AlertmanagerClient, String> {
    let mut target = alertmanager_target(vec![url.to_owned()])?;
    target.backend = flavor;
    target.prefix = Some(args.alertmanager_prefix.clone());
    target.tenant = Some(
        AlertmanagerTarget::tenant_id("anonymous", "--alertmanager.default-tenant")
            .map_err(|e| e.to_string())?,
    );
    target
        .check(&|field| format!("--alertmanager.{field}"))
        .map_err(|e| e.to_string())?;
    clients_of(&target)?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{url}: no client"))
}

/// `--alertmanager.default-tenant`, checked.
fn default_tenant(args: &ControlPlaneArgs) -> Result<Option<TenantId>, String> {
    args.alertmanager_default_tenant
        .as_deref()
        .map(TenantId::new)
        .transpose()
        .map_err(|e| format!("--alertmanager.default-tenant: {e}"))
}

/// Where the functional APIs (silences, status, test notifications) act: the members of
/// a vanilla cluster, or Cortex's/Mimir's per-tenant API.
fn functional_target(
    args: &ControlPlaneArgs,
    local: Option<&LocalCluster>,
) -> Result<Option<AlertmanagerTenancy>, String> {
    if args.alertmanager_url.is_empty() {
        let Some(local) = local else {
            return Ok(None);
        };
        let members = clients_of(&alertmanager_target(local.alertmanager_urls())?)?;
        let cluster = Cluster::new(members).map_err(|e| e.to_string())?;
        return Ok(Some(AlertmanagerTenancy::Shared(cluster)));
    }
    match backend(args)? {
        AlertmanagerBackend::Alertmanager => {
            let members = clients_of(&alertmanager_target(args.alertmanager_url.clone())?)?;
            let cluster = Cluster::new(members).map_err(|e| e.to_string())?;
            Ok(Some(AlertmanagerTenancy::Shared(cluster)))
        }
        flavor => {
            let client = multi_tenant_client(args, flavor, &args.alertmanager_url[0])?;
            let unbound = default_tenant(args)?;
            Ok(Some(AlertmanagerTenancy::PerTenant { client, unbound }))
        }
    }
}

/// A URL of this process reached from the same machine: `path` on `--listen`, with an
/// unspecified address (0.0.0.0, ::) replaced by loopback.
fn own_url(listen: SocketAddr, path: &str) -> String {
    let ip = match listen.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}{path}", SocketAddr::new(ip, listen.port()))
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn targets(spec: &str) -> Result<Vec<&'static str>, String> {
    if spec == "all" {
        return Ok(TARGETS.to_vec());
    }
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim) {
        let Some(target) = TARGETS.iter().find(|t| **t == part) else {
            return Err(format!(
                "--target {part:?}: expected all, or a comma list of {}",
                TARGETS.join(", ")
            ));
        };
        if !out.contains(target) {
            out.push(*target);
        }
    }
    Ok(out)
}

fn main() -> ExitCode {
    // The routes are listed after the flags.
    let command = <Args as clap::CommandFactory>::command()
        .after_help(format!(
            "The data plane's HTTP API:\n{}\nThe control plane's:\n  GET    /api/v1/tenants[/{{tenant}}]             the control plane's report on each tenant\n{}\nThe evaluator's:\n{}\nThe local Alertmanager cluster's (--backend local):\n{}",
            api::ROUTES,
            functional::ROUTES,
            evaluator::ROUTES,
            backend::ROUTES
        ));
    let matches = command.get_matches();
    let args = match <Args as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    logging::init(args.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("alert-gateway: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "alert-gateway failed");
            eprintln!("alert-gateway: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let targets = targets(&args.target)?;
    let token = args
        .auth_token_file
        .as_ref()
        .map(|p| read_token(p, "auth.token-file"))
        .transpose()?;
    let store_token = args
        .store_token_file
        .as_ref()
        .map(|p| read_token(p, "store.token-file"))
        .transpose()?;
    let store: SharedStore = store::open(&args.store, store_token)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(store = %store.describe(), targets = ?targets, "store open");

    let (shutdown_tx, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = shutdown_tx.send(true);
    });

    let metrics = Arc::new(Metrics::default());
    let options = ApiOptions {
        token: token.clone(),
        max_body_bytes: args.max_body_bytes,
        metrics: Arc::clone(&metrics),
    };
    let mut routes = axum::Router::new();
    // Every flag is checked before anything starts.
    let local_options = local_options(&args, &targets)?;
    let evaluator_options = targets
        .contains(&"evaluator")
        .then(|| evaluator_options(&args.evaluator))
        .transpose()?;
    let own_emitter = targets
        .contains(&"emitter")
        .then(|| own_url(args.listen, emitter::WEBHOOK_PATH));
    if targets.contains(&"control-plane") {
        control_plane_options(&args.control_plane, own_emitter.clone(), None)?;
    }
    let local = match local_options {
        None => None,
        Some(options) => {
            let data_dir = options.data_dir.display().to_string();
            let cluster = LocalCluster::start(options)
                .await
                .map_err(|e| format!("--backend local: {e}"))?;
            tracing::info!(members = ?cluster.alertmanager_urls(), %data_dir, "local Alertmanager cluster started");
            Some(cluster)
        }
    };
    if let Some(local) = &local {
        let backend: Arc<dyn Backend> = Arc::new(local.clone());
        tokio::spawn(backend_metrics(Arc::clone(&backend), Arc::clone(&metrics)));
        routes = routes.merge(backend::routes(backend));
    }
    if targets.contains(&"data-plane") {
        tokio::spawn(compact_periodically(
            Arc::clone(&store),
            args.retain_revisions,
        ));
        routes = routes.merge(api::data_plane_routes(Arc::clone(&store), &options));
    }
    if targets.contains(&"emitter") {
        let replica = args.emitter_replica.clone().unwrap_or_else(host_name);
        let events = match &args.kube_url {
            None => None,
            Some(url) => {
                let kube_token = args
                    .kube_token_file
                    .as_ref()
                    .map(|p| read_token(p, "kube.token-file"))
                    .transpose()?
                    .map(Secret::new);
                let reporter = Reporter {
                    controller: "alert-gateway.io/emitter".to_owned(),
                    instance: replica.clone(),
                };
                Some(
                    EventRecorder::new(
                        url,
                        kube_token,
                        regarding(&args.emitter_regarding)?,
                        reporter,
                    )
                    .map_err(|e| e.to_string())?,
                )
            }
        };
        routes = routes.merge(emitter::router(EmitterOptions {
            replica,
            per_tenant: args.messages_per_tenant,
            peers: args.emitter_peers.clone(),
            peer_token: token,
            events,
            max_body_bytes: args.max_body_bytes,
        }));
    }
    if targets.contains(&"control-plane") {
        let cp = &args.control_plane;
        let options = control_plane_options(cp, own_emitter, local.as_ref())?;
        let holder = cp
            .control_plane_replica
            .clone()
            .unwrap_or_else(|| format!("{}-{}", host_name(), std::process::id()));
        let ttl = duration("control-plane.lease-ttl", &cp.control_plane_lease_ttl)?;
        let elector = Elector::new(Arc::clone(&store), control_plane::ELECTION, &holder, ttl)
            .map_err(|e| format!("--control-plane.lease-ttl: {e}"))?;
        tracing::info!(replica = %holder, alertmanager = ?options.alertmanager, "control plane campaigning");
        let plane = Arc::new(ControlPlane::new(
            Arc::clone(&store),
            options,
            Arc::clone(&metrics),
            holder,
        ));
        tokio::spawn(async move {
            if let Err(e) = plane.run(elector).await {
                tracing::error!(error = %e, "the control plane stopped: elections failed");
            }
        });
        routes = routes.merge(control_plane::report::routes(Arc::clone(&store)));
        if let Some(target) = functional_target(cp, local.as_ref())? {
            let prometheus = match cp.prometheus_url.first() {
                Some(url) => Some(
                    PrometheusApi::prometheus(url)
                        .map_err(|e| alert_core::redact_urls(&e.to_string()))?,
                ),
                None => None,
            };
            let functional = Functional::new(Arc::clone(&store), target, prometheus);
            routes = routes.merge(functional::routes(Arc::new(functional)));
        }
    }
    if let Some(options) = evaluator_options {
        let ev = &args.evaluator;
        let holder = ev
            .evaluator_replica
            .clone()
            .unwrap_or_else(|| format!("{}-{}", host_name(), std::process::id()));
        let ttl = duration("evaluator.lease-ttl", &ev.evaluator_lease_ttl)?;
        let elector = Elector::new(Arc::clone(&store), evaluator::ELECTION, &holder, ttl)
            .map_err(|e| format!("--evaluator.lease-ttl: {e}"))?;
        let target = functional_target(&args.control_plane, local.as_ref())?;
        tracing::info!(replica = %holder, alertmanager = target.is_some(), "evaluator campaigning");
        let evaluator = Evaluator::start(
            Arc::clone(&store),
            target,
            options,
            Arc::clone(&metrics),
            holder,
        );
        let running = Arc::clone(&evaluator);
        tokio::spawn(async move {
            if let Err(e) = running.run(elector).await {
                tracing::error!(error = %e, "the evaluator stopped: elections failed");
            }
        });
        routes = routes.merge(evaluator::routes(evaluator));
    }
    let ready_store = targets.contains(&"data-plane").then(|| Arc::clone(&store));
    let app = api::guarded(routes, options, ready_store);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", args.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%address, "alert-gateway listening");
    let served = server::serve(listener, app, ServeOptions::default(), shutdown)
        .await
        .map_err(|e| e.to_string());
    if let Some(local) = &local {
        local.shutdown().await;
        tracing::info!("local Alertmanager cluster stopped");
    }
    served?;
    tracing::info!("alert-gateway stopped");
    Ok(())
}

/// Keeps the store's history to the last `retain` revisions.
async fn compact_periodically(store: SharedStore, retain: u64) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        match store.revision().await {
            Ok(r) if r > retain => {
                if let Err(e) = store.compact(r - retain).await {
                    tracing::warn!(error = %e, "compaction failed");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "compaction: store unavailable"),
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
