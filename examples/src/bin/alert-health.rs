//! `alert-health eval --graph FILE [--format console|json|statuspage|html] [--only-failing]`
//! and `alert-health serve --graph FILE --listen ADDR [--interval 30s] [--history.db PATH]
//! [--alertmanager URL[,URL...] [--backend alertmanager|cortex|mimir] [--tenant ID]
//! [--prefix PATH] [--path-template TEMPLATE] [--quorum majority|all|N]]`.
//! See `alert_examples::health`.

use alert_examples::health::cli::{Args, run};
use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    alert_examples::server_main::serve("alert-health", run(args))
}
