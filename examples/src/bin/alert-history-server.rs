//! `alert-history-server --listen 127.0.0.1:9094 --db ./data/history.db [--retention 14d]
//! [--loki-url URL --loki-tenant T | --store postgres://USER:PASSWORD@HOST/DB]`: records every alert Alertmanager sends to its
//! webhook and serves the history. See `alert_examples::history`.

use alert_examples::history::config::Args;
use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    alert_examples::server_main::serve("alert-history-server", async move {
        match alert_examples::history::run::run(args).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("alert-history-server: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}
