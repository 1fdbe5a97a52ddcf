//! `alert-health eval --graph FILE [--format console|json|statuspage|html] [--only-failing]`
//! and `alert-health serve --graph FILE --listen ADDR [--interval 30s]
//! [--alertmanager URL[,URL...] [--backend alertmanager|cortex|mimir] [--tenant ID]
//! [--prefix PATH] [--path-template TEMPLATE] [--quorum majority|all|N]]`.
//! See `alert_examples::health`.

use alert_examples::health::cli::{Args, run};
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
            eprintln!("alert-health: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}
