//! `alert-history-server --listen 127.0.0.1:9094 --db ./data/history.db [--retention 14d]
//! [--loki-url URL --loki-tenant T | --store postgres://USER:PASSWORD@HOST/DB]`: records every alert Alertmanager sends to its
//! webhook and serves the history. `alert-history-server check --url URL` is the
//! post-install check; `alert-history-server export --since T [--until T]` dumps the
//! store as JSON lines. See `alert_examples::history`.

use alert_examples::history::config::{Args, Command};
use alert_examples::history::ops;
use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match args.command.clone() {
        Some(Command::Check(check)) => {
            let outcome = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(ops::check(&args, &check)),
                Err(e) => ops::CheckOutcome {
                    status: 2,
                    message: e.to_string(),
                },
            };
            println!("{}", outcome.message);
            return std::process::ExitCode::from(outcome.status);
        }
        Some(Command::Export(export)) => {
            let stdout = std::io::stdout();
            return match ops::export(&args, &export, &mut stdout.lock()) {
                Ok(n) => {
                    eprintln!("alert-history-server: exported {n} episodes");
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("alert-history-server: {e}");
                    std::process::ExitCode::FAILURE
                }
            };
        }
        None => {}
    }
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
