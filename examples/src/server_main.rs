//! What every server binary does before its own work: log to stderr (level from
//! `RUST_LOG`, `info` by default) and run on a multi-threaded Tokio runtime.

use std::future::Future;
use std::process::ExitCode;

/// Sets up logging, builds the runtime and runs `main` on it. `program` prefixes the
/// message when the runtime cannot be built.
pub fn serve<F>(program: &str, main: F) -> ExitCode
where
    F: Future<Output = ExitCode>,
{
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(main),
        Err(e) => {
            eprintln!("{program}: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
