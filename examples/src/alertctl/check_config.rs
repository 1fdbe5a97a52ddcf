//! `alertctl check-config FILE...`: amtool 0.25's `check-config`, with its output byte
//! for byte.
//!
//! ```text
//! alertctl check-config alertmanager.yml [more.yml ...]
//! ```
//!
//! Per file, `Checking 'FILE'  SUCCESS` with amtool's summary (`Found:`, ` - global
//! config`, ` - route`, ` - N inhibit rules`, ` - N receivers`, ` - N templates`), or
//! `Checking 'FILE'  FAILED: <Alertmanager's message>`, and a blank line. When a file
//! failed, `alertctl: error: failed to validate N file(s)` goes to stderr and the exit
//! status is 1. Without files, standard input is checked (as `/dev/stdin`). Template
//! files named by a configuration are not parsed (Go templates); amtool's line for them
//! reads `  SUCCESS`.
//!
//! Alertmanager's message is kept as amtool prints it, also where its YAML decoder quotes
//! the start of a value that may be a secret (``cannot unmarshal !!str `SECRET-...` into
//! config.plain``, cut at seven characters): this is the one place alertctl prints such
//! a value, because amtool prints the same. `config build` leaves it out.
//!
//! ```
//! use clap::Parser;
//! use alert_examples::alertctl::Cli;
//!
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("am.yml");
//! std::fs::write(&file, "route: {receiver: nope}\nreceivers: [{name: default}]\n")?;
//! let path = file.display().to_string();
//! let cli = Cli::try_parse_from(["alertctl", "check-config", &path])?;
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! assert_eq!(cli.run(&mut out, &mut err), 1);
//! assert_eq!(
//!     String::from_utf8(out)?,
//!     format!("Checking '{path}'  FAILED: undefined receiver \"nope\" used in route\n\n")
//! );
//! assert_eq!(String::from_utf8(err)?, "alertctl: error: failed to validate 1 file(s)\n\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use alert_router::validate::{check_config_output_bytes, failed_files_message};

use super::{Run, fail};

/// Arguments of `check-config`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckConfigArgs {
    /// Files to be validated.
    #[arg(value_name = "CHECK-FILES")]
    pub files: Vec<PathBuf>,
}

impl Run for CheckConfigArgs {
    fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        // kingpin checks every argument before amtool reads any (its messages end with a
        // blank line).
        for path in &self.files {
            if !path.exists() {
                return fail(err, format!("path '{}' does not exist\n", path.display()));
            }
            if path.is_dir() {
                let base = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                return fail(err, format!("'{base}' is a directory\n"));
            }
        }
        let mut inputs: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
        if self.files.is_empty() {
            let mut stdin = std::io::stdin();
            if stdin.is_terminal() {
                return fail(err, "Failed to read from standard input\n");
            }
            let mut bytes = Vec::new();
            let read = stdin
                .read_to_end(&mut bytes)
                .map(|_| bytes)
                .map_err(|e| format!("read /dev/stdin: {e}"));
            inputs.push(("/dev/stdin".to_owned(), read));
        } else {
            for path in &self.files {
                inputs.push((path.display().to_string(), read(path)));
            }
        }
        let mut failed = 0;
        for (name, text) in inputs {
            let stdout = match text {
                Ok(bytes) => {
                    let result = check_config_output_bytes(&name, &bytes);
                    failed += usize::from(result.failed);
                    result.stdout
                }
                Err(message) => {
                    failed += 1;
                    format!("Checking '{name}'  FAILED: {message}\n\n")
                }
            };
            if out.write_all(stdout.as_bytes()).is_err() {
                return 1;
            }
        }
        if failed > 0 {
            return fail(err, format!("{}\n", failed_files_message(failed)));
        }
        0
    }
}

/// Reads a file as Go's `os.ReadFile` would report it; its bytes are decoded as yaml.v2
/// decodes them (see `Config::from_yaml_bytes`).
fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("open {}: {}", path.display(), e.kind()))
}
