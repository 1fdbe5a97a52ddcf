//! Stands in for nothing: runs the real `amtool` 0.25, the judge of matcher parsing,
//! config checks and routing.

use std::ffi::OsStr;
use std::process::{Command, ExitStatus, Stdio};

use crate::binaries::amtool_bin;

/// What an `amtool` run printed and how it ended.
#[derive(Debug, Clone)]
pub struct AmtoolOutput {
    /// How the process ended.
    pub status: ExitStatus,
    /// Standard output, lossily decoded as UTF-8.
    pub stdout: String,
    /// Standard error, lossily decoded as UTF-8.
    pub stderr: String,
}

impl AmtoolOutput {
    /// Whether `amtool` exited with status 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The exit code (`None` if a signal ended it).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

/// Runs `amtool` with `args` (standard input closed) and collects its output.
///
/// # Panics
/// When `amtool` is not installed (with the install hint) or cannot be started.
///
/// ```
/// let out = alert_testkit::amtool(["--version"]);
/// assert!(out.success(), "{}", out.stderr);
/// assert!(format!("{}{}", out.stdout, out.stderr).contains("0.25"));
/// ```
pub fn amtool<I, S>(args: I) -> AmtoolOutput
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let bin = amtool_bin();
    let output = Command::new(&bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    AmtoolOutput {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
