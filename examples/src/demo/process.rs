//! The demo's child processes: started in a process group of their own (so a Ctrl-C at
//! the terminal reaches the demo, which stops them in order), logging to a file, asked to
//! stop with SIGTERM and killed when they do not. On Linux each also gets SIGTERM from the
//! kernel if the demo dies (`PR_SET_PDEATHSIG`), so a killed demo leaves nothing behind.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use super::DemoError;

/// How long a process has to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// One running child.
#[derive(Debug)]
pub struct Process {
    /// The name it goes by in the demo's output (and its log file's).
    pub name: String,
    /// Its log file (standard output and error).
    pub log: PathBuf,
    child: Child,
}

impl Process {
    /// Starts `program` with `args`, standard output and error appended to
    /// `logs/NAME.log` (truncated first).
    pub fn start(
        name: &str,
        program: &Path,
        args: &[String],
        logs: &Path,
    ) -> Result<Process, DemoError> {
        let log = logs.join(format!("{name}.log"));
        let file = File::create(&log).map_err(|e| DemoError::io(log.display(), e))?;
        let err_file = file
            .try_clone()
            .map_err(|e| DemoError::io(log.display(), e))?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(err_file))
            .kill_on_drop(true)
            .process_group(0);
        // The demo spawns from its main thread (a current-thread runtime), which lives
        // as long as the demo.
        #[cfg(target_os = "linux")]
        alert_gateway::backend::local::die_with_parent(&mut cmd);
        let child = cmd.spawn().map_err(|e| DemoError::Start {
            what: format!("{name} ({})", program.display()),
            reason: e.to_string(),
        })?;
        Ok(Process {
            name: name.to_owned(),
            log,
            child,
        })
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `Some(reason)` once the process has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// The last lines of its log, for an error message.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// SIGTERM, then SIGKILL after [`STOP_GRACE`]; waits for the exit either way.
    pub async fn stop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) with a pid this process spawned and has not reaped.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        if tokio::time::timeout(STOP_GRACE, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}
