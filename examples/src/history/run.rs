//! Starting and running the server: store, background tasks, HTTP, shutdown.

use std::sync::Arc;

use alert_core::Secret;
use alert_core::redact::redact_urls;
use alert_history::HistoryStore;
use alert_history::loki::{LokiConfig, LokiStore};
use alert_history::postgres::PostgresStore;
use alert_history::server::{
    Auth, BackgroundOptions, Metrics, ServeOptions, ServerOptions, default_heavy_reads, fd_limit,
    now, record_alive, router, serve, spawn_background,
};
use alert_history::sqlite::{SqliteOptions, SqliteStore, Synchronous};

use super::config::Args;

/// Opens the store the flags name, records `--retention` in SQLite or PostgreSQL, and
/// returns the store with the retention in force.
pub fn open_store(
    args: &Args,
) -> Result<(Arc<dyn HistoryStore>, Option<alert_core::Duration>), String> {
    if let Some(url) = &args.store {
        return open_postgres(url, args.retention);
    }
    if let Some(url) = &args.loki_url {
        let mut config = LokiConfig::new(url.clone());
        config.tenant = args.loki_tenant.clone();
        config.lookback = args
            .repeat_interval
            .checked_add(args.heartbeat_group_interval)
            .and_then(|d| d.checked_add(args.heartbeat_slack))
            .unwrap_or(args.repeat_interval);
        return Ok((Arc::new(LokiStore::new(config)), args.retention));
    }
    if let Some(dir) = args.db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let options = SqliteOptions {
        synchronous: if args.synchronous == "normal" {
            Synchronous::Normal
        } else {
            Synchronous::Full
        },
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(&args.db, options).map_err(|e| e.to_string())?;
    if args.retention.is_some() {
        store
            .set_retention(args.retention)
            .map_err(|e| e.to_string())?;
    }
    let retention = store.retention().map_err(|e| e.to_string())?;
    Ok((Arc::new(store), retention))
}

/// `--store`: a PostgreSQL URL (or connection string). Errors name the database by
/// host, port and name, never the password.
fn open_postgres(
    url: &Secret,
    retention: Option<alert_core::Duration>,
) -> Result<(Arc<dyn HistoryStore>, Option<alert_core::Duration>), String> {
    let text = url.expose();
    let scheme = text.split_once("://").map(|(s, _)| s);
    if scheme.is_some_and(|s| !matches!(s, "postgres" | "postgresql")) {
        return Err(format!(
            "--store {}: expected a postgres:// or postgresql:// URL",
            redact_urls(text)
        ));
    }
    let store = PostgresStore::connect(text).map_err(|e| format!("--store: {e}"))?;
    if retention.is_some() {
        store
            .set_retention(retention)
            .map_err(|e| format!("--store: {e}"))?;
    }
    let retention = store.retention().map_err(|e| format!("--store: {e}"))?;
    Ok((Arc::new(store), retention))
}

/// The credentials the flags ask for, read from their files as Alertmanager's HTTP
/// client reads them (surrounding whitespace trimmed); an empty file is an error.
pub fn auth(args: &Args) -> Result<Option<Auth>, String> {
    if let Some(path) = &args.bearer_token_file {
        return Auth::bearer_from_file(path)
            .map(Some)
            .map_err(|e| format!("--bearer-token-file {e}"));
    }
    if let (Some(user), Some(path)) = (&args.basic_auth_user, &args.basic_auth_password_file) {
        return Auth::basic_from_file(user, path)
            .map(Some)
            .map_err(|e| format!("--basic-auth-password-file {e}"));
    }
    Ok(None)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(args: Args) -> Result<(), String> {
    let options_auth = auth(&args)?;
    match fd_limit::raise_to_hard() {
        Ok(limits) => tracing::info!(soft = limits.soft, hard = limits.hard, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "cannot read the open-file limit"),
    }
    // Opening may block (PostgreSQL's client runs a runtime of its own, which cannot
    // start on a runtime thread).
    let (store, retention) = {
        let args = args.clone();
        tokio::task::spawn_blocking(move || open_store(&args))
            .await
            .map_err(|e| e.to_string())??
    };
    let metrics = Arc::new(Metrics::default());
    let started_at = now();
    record_alive(&store, started_at, started_at).await?;
    let options = ServerOptions {
        auth: options_auth,
        heartbeat: args.heartbeat_matchers.clone(),
        policy: args.heartbeat_policy(),
        max_body_bytes: args.max_body_bytes,
        body_timeout: args.body_timeout.to_std(),
        max_episodes_per_request: args.max_request_episodes,
        request_timeout: args.request_timeout.to_std(),
        heavy_reads: args.heavy_reads.unwrap_or_else(default_heavy_reads),
        metrics: Arc::clone(&metrics),
        silent_end: args.silent_end(),
        ..ServerOptions::default()
    };
    let serve_options = ServeOptions {
        header_timeout: args.header_timeout.to_std(),
        max_connections: args.max_connections,
        ..ServeOptions::default()
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    // Loki has no cheap count: its stats read the notifications of 30 days, so they are
    // refreshed at most every 15 minutes.
    let mut stats_every = args.stats_interval.to_std();
    if args.loki_url.is_some() {
        stats_every = stats_every.max(std::time::Duration::from_secs(15 * 60));
    }
    let mut tasks = spawn_background(
        Arc::clone(&store),
        Arc::clone(&metrics),
        BackgroundOptions {
            started_at,
            alive_every: args.alive_interval.to_std(),
            stats_every,
            retention,
            purge_every: args.purge_interval.to_std(),
        },
    );
    let backend = if args.loki_url.is_some() {
        "loki"
    } else if args.store.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    tracing::info!(address = %local, store = backend, retention = ?retention.map(|d| d.to_string()), "alert-history-server listening");
    serve(
        listener,
        router(Arc::clone(&store), options),
        serve_options,
        shutdown_signal(),
    )
    .await
    .map_err(|e| e.to_string())?;
    tasks.abort_all();
    record_alive(&store, started_at, now()).await?;
    tracing::info!("alert-history-server stopped");
    Ok(())
}
