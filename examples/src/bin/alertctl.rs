//! `alertctl`: amtool-style tools for Alertmanager-compatible alerting.
//!
//! See [`alert_examples::alertctl`] for the commands.

use std::process::ExitCode;

use alert_examples::alertctl::Cli;
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = cli.run(&mut std::io::stdout().lock(), &mut std::io::stderr().lock());
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
