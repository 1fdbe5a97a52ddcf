//! `alert-gateway`: the alerting gateway's deployments in one binary, as Mimir and Loki
//! ship theirs (`--target=all`, or a comma list of deployments).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use alert_core::Secret;
use alert_gateway::api::{self, ApiOptions};
use alert_gateway::emitter::{self, EmitterOptions};
use alert_gateway::kube_events::{EventRecorder, ObjectReference, Reporter};
use alert_gateway::logging::{self, LogFormat};
use alert_gateway::metrics::Metrics;
use alert_gateway::server::{self, ServeOptions};
use alert_gateway::store::{self, SharedStore};
use clap::Parser;

/// The deployments of the gateway.
const TARGETS: [&str; 4] = ["data-plane", "control-plane", "evaluator", "emitter"];

/// The deployments this version can run.
const AVAILABLE: [&str; 2] = ["data-plane", "emitter"];

#[derive(Debug, Parser)]
#[command(
    name = "alert-gateway",
    version,
    about = "The alerting gateway: a data plane of endpoints, conditions and SLOs (and, in \
             later versions, the control plane, evaluator and emitter) in one binary."
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

fn targets(spec: &str) -> Result<Vec<&'static str>, String> {
    if spec == "all" {
        return Ok(AVAILABLE.to_vec());
    }
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim) {
        let Some(target) = TARGETS.iter().find(|t| **t == part) else {
            return Err(format!(
                "--target {part:?}: expected all, or a comma list of {}",
                TARGETS.join(", ")
            ));
        };
        if !AVAILABLE.contains(target) {
            return Err(format!(
                "--target {target}: this version of alert-gateway runs only {} (the {target} \
                 deployment is not built yet)",
                AVAILABLE.join(", ")
            ));
        }
        if !out.contains(target) {
            out.push(*target);
        }
    }
    Ok(out)
}

fn main() -> ExitCode {
    // The routes are listed after the flags.
    let command = <Args as clap::CommandFactory>::command()
        .after_help(format!("The data plane's HTTP API:\n{}", api::ROUTES));
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
        metrics,
    };
    let mut routes = axum::Router::new();
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
    let ready_store = targets.contains(&"data-plane").then(|| Arc::clone(&store));
    let app = api::guarded(routes, options, ready_store);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(address = %local, "alert-gateway listening");
    server::serve(listener, app, ServeOptions::default(), shutdown)
        .await
        .map_err(|e| e.to_string())?;
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
