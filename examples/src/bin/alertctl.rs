//! `alertctl`: amtool-style tools for Alertmanager-compatible alerting.
//!
//! See [`alert_examples::alertctl`] for the commands.

use std::process::ExitCode;

use alert_examples::alertctl::config_file::default_paths;
use alert_examples::alertctl::{Cli, CliError, fail};

fn main() -> ExitCode {
    let cli = match Cli::from_args(std::env::args_os(), &default_paths()) {
        Ok(cli) => cli,
        // Help and the version print as clap prints them; a usage error is reported
        // amtool's way (`alertctl: error: ...`) with kingpin's status, 1.
        Err(CliError::Usage(e)) if !e.use_stderr() => e.exit(),
        Err(e @ CliError::Usage(_)) => {
            eprint!("alertctl: error: {e}");
            return ExitCode::from(1);
        }
        Err(e) => {
            return ExitCode::from(
                u8::try_from(fail(&mut std::io::stderr().lock(), e)).unwrap_or(1),
            );
        }
    };
    let code = cli.run(&mut std::io::stdout().lock(), &mut std::io::stderr().lock());
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
