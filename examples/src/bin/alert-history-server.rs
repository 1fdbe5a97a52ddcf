//! `alert-history-server --listen 127.0.0.1:9094 --db ./data/history.db [--retention 14d]
//! [--loki-url URL --loki-tenant T]`: records every alert Alertmanager sends to its
//! webhook and serves the history. See `alert_examples::history`.

use alert_examples::history::config::Args;
use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("alert-history-server: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(alert_examples::history::run::run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("alert-history-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
