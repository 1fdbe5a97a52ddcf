//! Stands in for nothing: starts a REAL PostgreSQL server (Debian's `postgresql`, 15 on
//! bookworm) for tests, one per test binary, with a fresh database per test.
//!
//! The binaries come from `$PG_BIN`, else the highest `/usr/lib/postgresql/<version>/bin`
//! (Debian keeps them there; `/usr/bin` has only wrappers). The server gets its own
//! cluster (`initdb`) in a temporary directory, listens on a free 127.0.0.1 port with its
//! unix socket in that directory, trusts every local connection (role `postgres`), and
//! runs with `fsync=off`. It is ready when `pg_isready` says it accepts connections.
//!
//! `initdb` and `postgres` refuse to run as root: when the tests run as root (as CI
//! does), both run as the `postgres` system user the Debian package creates (through
//! `setpriv`), and the directory is given to it.
//!
//! [`PostgresServer::shared`] starts the server once per process; statics are never
//! dropped, so a small guardian shell, started beside it, holds a pipe from this process
//! and, when the pipe closes (the process exited, however it exited), stops the server
//! (immediate shutdown) and removes its directory. A server from
//! [`PostgresServer::start`] is stopped and removed when dropped.
//!
//! ```
//! use alert_testkit::postgres::PostgresServer;
//!
//! let db = PostgresServer::shared().create_database();
//! assert!(db.url().starts_with("postgres://postgres@127.0.0.1:"));
//! assert_eq!(db.psql("SELECT 1 + 1"), "2");
//! ```

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::poll::POLL_INTERVAL;
use crate::ports::free_port;

/// How to get PostgreSQL, shown whenever a binary is missing.
pub const POSTGRES_INSTALL_HINT: &str = "install PostgreSQL with `apt-get install -y postgresql` \
     (Debian; its binaries land in /usr/lib/postgresql/<version>/bin), or point PG_BIN at a \
     directory holding initdb, postgres, pg_isready, createdb and psql";

/// How long a start waits for the server to accept connections.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How many times a start is tried when its port turns out to be taken.
const START_ATTEMPTS: usize = 5;

/// How many lines of the server's log a failure shows.
const FAILURE_LOG_LINES: usize = 40;

/// The system user the servers run as when the tests run as root.
const SYSTEM_USER: &str = "postgres";

/// Names databases uniquely within the server (one server per process).
static DATABASES_CREATED: AtomicUsize = AtomicUsize::new(0);

/// The directory of PostgreSQL's server binaries: `$PG_BIN`, else the highest
/// `/usr/lib/postgresql/<version>/bin` that has `postgres` and `initdb`.
///
/// # Panics
/// When none is found, with [`POSTGRES_INSTALL_HINT`].
pub fn postgres_bin_dir() -> PathBuf {
    find_bin_dir().unwrap_or_else(|why| panic!("{why}; {POSTGRES_INSTALL_HINT}"))
}

fn find_bin_dir() -> Result<PathBuf, String> {
    let complete = |dir: &Path| ["postgres", "initdb"].iter().all(|b| dir.join(b).is_file());
    if let Some(dir) = std::env::var_os("PG_BIN").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if complete(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "PG_BIN={} has no `postgres` and `initdb`",
                dir.display()
            ))
        };
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(root)
        .map_err(|e| format!("PostgreSQL not found: cannot read {}: {e}", root.display()))?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            let version: Vec<u32> = name
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            let bin = entry.path().join("bin");
            complete(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        format!(
            "PostgreSQL not found: no {}/<version>/bin has `postgres` and `initdb`",
            root.display()
        )
    })
}

/// Whether this process runs as root (effective uid 0), read from `/proc/self/status`.
fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            // Real, effective, saved, filesystem.
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// A private PostgreSQL server; stopped (immediate shutdown) and its directory removed
/// when dropped, or, for [`shared`](Self::shared), when the process exits.
#[derive(Debug)]
pub struct PostgresServer {
    bin: PathBuf,
    port: u16,
    /// The postmaster (under `setpriv` when root, which execs it: same process).
    child: Mutex<Option<Child>>,
    /// Closing its stdin tells the guardian to stop the server and remove the directory.
    guardian: Mutex<Option<(Child, ChildStdin)>>,
    dir: PathBuf,
    // Declared last: removed only after the server is gone (the guardian removes it
    // first; dropping a removed TempDir is harmless).
    _dir: TempDir,
}

impl PostgresServer {
    /// The server of this process, started on first use.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub fn shared() -> &'static PostgresServer {
        static SHARED: OnceLock<PostgresServer> = OnceLock::new();
        SHARED.get_or_init(PostgresServer::start)
    }

    /// Starts a server of its own and waits until it accepts connections.
    ///
    /// # Panics
    /// When a binary is missing (with [`POSTGRES_INSTALL_HINT`]), `initdb` fails, or
    /// the server does not accept connections within [`READY_TIMEOUT`]; the message
    /// includes the tail of its log.
    pub fn start() -> PostgresServer {
        PostgresServer::start_with(&[])
    }

    /// Starts a server of its own with `settings` (`name=value`, as `postgres -c`
    /// takes them) after, and so over, the test defaults (`fsync=off`,
    /// `full_page_writes=off`, `shared_buffers=32MB`, ...): a benchmark asks for
    /// `fsync=on` and a larger cache this way.
    ///
    /// # Panics
    /// As [`start`](Self::start); a setting the server refuses stops it from starting.
    pub fn start_with(settings: &[&str]) -> PostgresServer {
        let bin = postgres_bin_dir();
        let root = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("postgres-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let path = dir.path().to_path_buf();
        if root {
            let status = Command::new("chown")
                .arg(format!("{SYSTEM_USER}:"))
                .arg(&path)
                .status()
                .unwrap_or_else(|e| panic!("cannot run chown: {e}"));
            assert!(
                status.success(),
                "chown {SYSTEM_USER}: {} failed ({status}): the `{SYSTEM_USER}` user, which \
                 Debian's postgresql package creates, is needed to run PostgreSQL as root; \
                 {POSTGRES_INSTALL_HINT}",
                path.display()
            );
        }
        let data = path.join("data");
        let output = as_server_user(root, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
            .arg("--no-sync")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.join("initdb").display()));
        assert!(
            output.status.success(),
            "initdb -D {} failed ({}):\n{}{}",
            data.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            match spawn_server(root, &bin, &path, port, settings) {
                Ok(child) => {
                    let guardian = spawn_guardian(child.id(), &path);
                    return PostgresServer {
                        bin,
                        port,
                        child: Mutex::new(Some(child)),
                        guardian: Mutex::new(Some(guardian)),
                        dir: path,
                        _dir: dir,
                    };
                }
                Err(failure) if failure.address_in_use => last = failure.message,
                Err(failure) => panic!("{}", failure.message),
            }
        }
        panic!("PostgreSQL could not start in {START_ATTEMPTS} attempts; last failure: {last}")
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory of the unix socket (and of the cluster, under `data/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> String {
        fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }

    /// A new, empty database (`test_<n>`).
    ///
    /// # Panics
    /// When `createdb` fails.
    pub fn create_database(&self) -> Database<'_> {
        let name = format!("test_{}", DATABASES_CREATED.fetch_add(1, Ordering::Relaxed));
        let output = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(self.port.to_string())
            .arg(&name)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run createdb: {e}; {POSTGRES_INSTALL_HINT}"));
        assert!(
            output.status.success(),
            "createdb {name} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        Database { server: self, name }
    }

    /// Stops the server at once (as `pg_ctl stop -m immediate`) and waits for it.
    fn stop(&self) {
        let child = self.child.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut child) = child {
            signal(child.id(), "QUIT");
            let _ = child.wait();
        }
        let guardian = self
            .guardian
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some((mut guardian, stdin)) = guardian {
            // The guardian finds the server gone and removes the directory.
            drop(stdin);
            let _ = guardian.wait();
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One database of a [`PostgresServer`], named `test_<n>`.
#[derive(Debug)]
pub struct Database<'a> {
    server: &'a PostgresServer,
    name: String,
}

impl Database<'_> {
    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `postgres://postgres@127.0.0.1:<port>/<name>`.
    pub fn url(&self) -> String {
        self.server.url(&self.name)
    }

    /// Runs `sql` with `psql` and returns its unaligned, tuples-only output, trimmed.
    ///
    /// # Panics
    /// When `psql` fails or the statement is refused, with its message.
    pub fn psql(&self, sql: &str) -> String {
        let output = Command::new(self.server.bin.join("psql"))
            .args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(self.server.port.to_string())
            .args(["-d", &self.name, "-c", sql])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run psql: {e}; {POSTGRES_INSTALL_HINT}"));
        assert!(
            output.status.success(),
            "psql -c {sql:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

/// `program`, run as the `postgres` user when this process is root.
fn as_server_user(root: bool, program: &Path) -> Command {
    if root {
        // setpriv execs the program (no process in between), so the child is the server.
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid",
                SYSTEM_USER,
                "--regid",
                SYSTEM_USER,
                "--clear-groups",
            ])
            .arg("--")
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Why a start failed; `address_in_use` says a retry on another port may help.
struct StartFailure {
    address_in_use: bool,
    message: String,
}

fn spawn_server(
    root: bool,
    bin: &Path,
    dir: &Path,
    port: u16,
    settings: &[&str],
) -> Result<Child, StartFailure> {
    let log_path = dir.join("postgres.log");
    let log = File::create(&log_path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
    let log_err = log
        .try_clone()
        .unwrap_or_else(|e| panic!("cannot clone the log handle: {e}"));
    let postgres = bin.join("postgres");
    let mut child = as_server_user(root, &postgres)
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port.to_string()])
        .args(["-c", "listen_addresses=127.0.0.1"])
        .arg("-c")
        .arg(format!("unix_socket_directories={}", dir.display()))
        .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
        .args(["-c", "max_connections=300", "-c", "shared_buffers=32MB"])
        .args(settings.iter().flat_map(|s| ["-c", s]))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", postgres.display()));
    let pg_isready = bin.join("pg_isready");
    let deadline = Instant::now() + READY_TIMEOUT;
    let failure = |child: &mut Child, why: String| {
        if child.try_wait().ok().flatten().is_none() {
            signal(child.id(), "QUIT");
            let _ = child.wait();
        }
        let logs = fs::read_to_string(&log_path).unwrap_or_default();
        StartFailure {
            address_in_use: logs.contains("Address already in use"),
            message: format!(
                "PostgreSQL on 127.0.0.1:{port} did not start: {why}; its log ends:\n{}",
                tail(&logs, FAILURE_LOG_LINES)
            ),
        }
    };
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(failure(&mut child, format!("it exited with {status}")));
        }
        match ready(&pg_isready, port) {
            Ok(()) => return Ok(child),
            Err(last) if Instant::now() >= deadline => {
                return Err(failure(
                    &mut child,
                    format!("not accepting connections after {READY_TIMEOUT:?} (last: {last})"),
                ));
            }
            Err(_) => std::thread::sleep(POLL_INTERVAL),
        }
    }
}

/// Whether the server on `port` accepts connections, as `pg_isready` says.
fn ready(pg_isready: &Path, port: u16) -> Result<(), String> {
    let output = Command::new(pg_isready)
        .args(["-h", "127.0.0.1", "-U", "postgres", "-t", "2", "-p"])
        .arg(port.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", pg_isready.display()));
    if output.status.success() {
        Ok(())
    } else {
        Err(describe(output.status, &output.stdout))
    }
}

fn describe(status: ExitStatus, stdout: &[u8]) -> String {
    format!("{status}: {}", String::from_utf8_lossy(stdout).trim())
}

/// The shell that stops the server `pid` and removes `dir` once this process's end of
/// its stdin closes. It ignores SIGINT and SIGTERM (a Ctrl-C reaches the whole process
/// group; the server shuts down on its own then), and waits at most five seconds for
/// the server to go before removing the directory.
fn spawn_guardian(pid: u32, dir: &Path) -> (Child, ChildStdin) {
    const SCRIPT: &str = r#"trap '' INT TERM
cat >/dev/null
kill -QUIT "$1" 2>/dev/null
i=0
while kill -0 "$1" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
rm -rf -- "$2""#;
    let mut child = Command::new("sh")
        .args(["-c", SCRIPT, "postgres-guardian"])
        .arg(pid.to_string())
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the guardian shell: {e}"));
    let stdin = child
        .stdin
        .take()
        .unwrap_or_else(|| panic!("the guardian shell has no stdin"));
    (child, stdin)
}

/// Sends `SIGname` to `pid` (the postmaster: QUIT is an immediate shutdown).
fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_are_separate_and_the_server_is_removed_when_dropped() {
        let server = PostgresServer::start();
        let a = server.create_database();
        let b = server.create_database();
        assert_ne!(a.name(), b.name());
        a.psql("CREATE TABLE t(x int); INSERT INTO t VALUES (7)");
        assert_eq!(a.psql("SELECT x FROM t"), "7");
        assert_eq!(
            b.psql("SELECT count(*) FROM pg_tables WHERE tablename = 't'"),
            "0"
        );
        assert_eq!(a.psql("SHOW fsync"), "off");
        let version = fs::read_to_string(server.dir().join("data/PG_VERSION")).unwrap_or_default();
        assert!(version.trim().parse::<u32>().is_ok(), "{version:?}");
        let dir = server.dir().to_path_buf();
        let port = server.port();
        drop(server);
        assert!(!dir.exists(), "{} is left behind", dir.display());
        let pg_isready = postgres_bin_dir().join("pg_isready");
        assert!(
            ready(&pg_isready, port).is_err(),
            "the server still answers"
        );
    }

    #[test]
    fn the_binaries_are_found() {
        let dir = postgres_bin_dir();
        assert!(dir.join("pg_isready").is_file(), "{}", dir.display());
    }
}
