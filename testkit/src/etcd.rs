//! Stands in for nothing: starts REAL etcd 3.4 processes (Debian's `etcd-server`) for
//! tests, one member alone or a raft cluster of several.
//!
//! Each member gets free client and peer ports on 127.0.0.1, its own temporary directory
//! (`--data-dir`, log file) and flags that make tests quick: no fsync, 50 ms heartbeats
//! and a 500 ms election timeout. It is ready when `GET /health` answers
//! `{"health":"true"}`, which etcd says only once a leader is elected and a quorum read
//! succeeds; it is killed, and waited for, when dropped.
//!
//! Besides gRPC, etcd serves its v3 API as JSON under `/v3/` (the gRPC gateway): keys and
//! values are base64 and 64-bit numbers are strings. [`Etcd::put`], [`Etcd::get`] and
//! [`Etcd::status`] use it, so a test can set up or inspect etcd without a gRPC client.

use std::collections::BTreeSet;
use std::fs::{self, OpenOptions};
use std::ops::Index;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::binaries::etcd_bin;
use crate::http::{self, HttpResponse};
use crate::poll::{POLL_INTERVAL, wait_until};
use crate::ports::free_port;

/// How long a start or restart waits for every member's `/health` unless told otherwise.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long [`EtcdCluster::wait_for_leader`] waits: many election timeouts of the kit's
/// 500 ms.
pub const DEFAULT_LEADER_TIMEOUT: Duration = Duration::from_secs(15);

/// How many times a start is tried when a port turns out to be taken.
const START_ATTEMPTS: usize = 5;

/// How long one readiness or leadership question may take: a stopped member never
/// answers, and the kit's 30 s client timeout would stall every poll behind it.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// How many lines of a member's log a start failure shows.
const FAILURE_LOG_LINES: usize = 60;

/// The flags every member gets unless the builder overrides them.
///
/// Without fsync a write costs a loopback round trip, not a disk flush; 50/500 ms raft
/// timings elect a new leader within a second or two of losing one, and are still ten
/// heartbeats per election timeout, as etcd advises. The zap logger is the one etcd 3.5
/// keeps (3.4's default, capnslog, is deprecated).
const FAST_DEFAULTS: &[(&str, &str)] = &[
    ("--unsafe-no-fsync", "true"),
    ("--heartbeat-interval", "50"),
    ("--election-timeout", "500"),
    ("--logger", "zap"),
];

/// Makes every cluster's `--initial-cluster-token` unique within this process; the
/// process id makes it unique on the machine.
static CLUSTERS_STARTED: AtomicUsize = AtomicUsize::new(0);

/// Options for an etcd member or cluster; [`Etcd::builder`] makes one.
#[derive(Debug, Clone)]
pub struct EtcdBuilder {
    flags: Vec<String>,
    ready_timeout: Duration,
}

impl EtcdBuilder {
    /// Adds a flag such as `--auto-compaction-retention=1` to every member. A flag the kit
    /// sets by default (fsync, heartbeat, election timeout, logger) is replaced rather
    /// than repeated.
    pub fn flag(mut self, flag: impl Into<String>) -> Self {
        self.flags.push(flag.into());
        self
    }

    /// How long to wait for `/health` (default [`DEFAULT_READY_TIMEOUT`]).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Starts one member, a cluster of its own, and waits until it is healthy.
    ///
    /// # Panics
    /// When the binary is missing (with the install hint), a flag is refused, or the
    /// member is not healthy in time; the message includes the tail of its log.
    pub fn start(self) -> Etcd {
        let mut members = self.start_cluster_members(1);
        members.remove(0)
    }

    /// Starts `n` members of one new cluster, all at once, and waits until every one is
    /// healthy.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub fn start_cluster(self, n: usize) -> EtcdCluster {
        EtcdCluster {
            members: self.start_cluster_members(n),
        }
    }

    fn start_cluster_members(&self, n: usize) -> Vec<Etcd> {
        assert!(n > 0, "an etcd cluster needs at least one member");
        let bin = etcd_bin();
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            let mut members = self.plan(&bin, n);
            for member in &mut members {
                member.spawn();
            }
            match wait_ready(&mut members, self.ready_timeout) {
                Ok(()) => return members,
                Err(failure) if failure.address_in_use => last = failure.message,
                Err(failure) => panic!("{}", failure.message),
            }
        }
        panic!(
            "no etcd cluster of {n} could start in {START_ATTEMPTS} attempts; last failure: {last}"
        )
    }

    /// The members of one start attempt, not yet spawned, on fresh ports.
    fn plan(&self, bin: &Path, n: usize) -> Vec<Etcd> {
        let ports = distinct_ports(2 * n);
        let token = format!(
            "alert-testkit-{}-{}",
            std::process::id(),
            CLUSTERS_STARTED.fetch_add(1, Ordering::Relaxed)
        );
        let names: Vec<String> = (0..n).map(|i| format!("member{i}")).collect();
        let initial_cluster = names
            .iter()
            .zip(ports.chunks(2))
            .map(|(name, p)| format!("{name}=http://127.0.0.1:{}", p[1]))
            .collect::<Vec<_>>()
            .join(",");
        names
            .into_iter()
            .zip(ports.chunks(2))
            .map(|(name, p)| {
                let dir = tempfile::Builder::new()
                    .prefix("etcd-test-")
                    .tempdir()
                    .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
                let (client_port, peer_port) = (p[0], p[1]);
                let args = self.args(
                    &name,
                    &dir,
                    client_port,
                    peer_port,
                    &initial_cluster,
                    &token,
                );
                Etcd {
                    child: None,
                    pid: 0,
                    stopped: false,
                    bin: bin.to_path_buf(),
                    name,
                    args,
                    client_port,
                    peer_port,
                    log_offset: 0,
                    ready_timeout: self.ready_timeout,
                    dir,
                }
            })
            .collect()
    }

    fn args(
        &self,
        name: &str,
        dir: &TempDir,
        client_port: u16,
        peer_port: u16,
        initial_cluster: &str,
        token: &str,
    ) -> Vec<String> {
        let client_url = format!("http://127.0.0.1:{client_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let mut args = vec![
            format!("--name={name}"),
            format!("--data-dir={}", dir.path().join("data").display()),
            format!("--listen-client-urls={client_url}"),
            format!("--advertise-client-urls={client_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster={initial_cluster}"),
            // Read only when the data directory is empty: a restart rejoins from its WAL.
            "--initial-cluster-state=new".to_owned(),
            format!("--initial-cluster-token={token}"),
        ];
        let overridden = |name: &str| {
            self.flags
                .iter()
                .any(|f| f == name || f.starts_with(&format!("{name}=")))
        };
        for (name, value) in FAST_DEFAULTS {
            if !overridden(name) {
                args.push(format!("{name}={value}"));
            }
        }
        args.extend(self.flags.iter().cloned());
        args
    }
}

/// Why a start failed; `address_in_use` says a retry on other ports may help.
#[derive(Debug)]
struct StartFailure {
    address_in_use: bool,
    message: String,
}

/// A running etcd member, killed and waited for on drop.
///
/// ```
/// use alert_testkit::Etcd;
/// let etcd = Etcd::start();
/// etcd.put("greeting", "hello");
/// assert_eq!(etcd.get("greeting").as_deref(), Some("hello"));
/// assert_eq!(etcd.status()["version"], "3.4.23");
/// ```
#[derive(Debug)]
pub struct Etcd {
    child: Option<Child>,
    pid: u32,
    stopped: bool,
    bin: PathBuf,
    name: String,
    args: Vec<String>,
    client_port: u16,
    peer_port: u16,
    /// Where the output of the current (or last) process starts in the log file.
    log_offset: u64,
    ready_timeout: Duration,
    // Declared last: removed only after the process is gone.
    dir: TempDir,
}

impl Etcd {
    /// Starts a single-member cluster with default options and waits until it is healthy.
    ///
    /// # Panics
    /// As [`EtcdBuilder::start`].
    pub fn start() -> Etcd {
        Etcd::builder().start()
    }

    /// A builder for a member or cluster with extra flags.
    pub fn builder() -> EtcdBuilder {
        EtcdBuilder {
            flags: Vec::new(),
            ready_timeout: DEFAULT_READY_TIMEOUT,
        }
    }

    /// The member's `--name` (`member0`, `member1`, … in start order).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `http://127.0.0.1:<client port>`, where gRPC, `/health` and `/v3/` are served.
    pub fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// The client URLs to give an etcd client: this member's alone.
    pub fn endpoints(&self) -> Vec<String> {
        vec![self.client_url()]
    }

    /// `http://127.0.0.1:<peer port>`, where the other members reach this one.
    pub fn peer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer_port)
    }

    /// The client port.
    pub fn client_port(&self) -> u16 {
        self.client_port
    }

    /// The peer (raft) port.
    pub fn peer_port(&self) -> u16 {
        self.peer_port
    }

    /// The `--data-dir` (WAL and snapshots), kept across restarts.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The process id of the current (or last, if killed) process.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The command-line flags the process was started with.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// Everything the process wrote to stdout and stderr so far (across restarts).
    pub fn logs(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The last `lines` lines of [`logs`](Self::logs).
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.logs(), lines)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("etcd.log")
    }

    /// Whether [`kill`](Self::kill) was called since the last (re)start.
    pub fn is_killed(&self) -> bool {
        self.child.is_none()
    }

    /// Whether [`stop`](Self::stop) was called and [`cont`](Self::cont) not yet.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Whether `GET /health` answers `{"health":"true"}` within 2 s: the member runs,
    /// sees a leader and can serve a quorum read.
    pub fn is_healthy(&self) -> bool {
        self.health().is_ok()
    }

    fn health(&self) -> Result<(), String> {
        let url = format!("{}/health", self.client_url());
        let response = probe(&url, None)?;
        let healthy =
            serde_json::from_str::<Value>(&response.body).is_ok_and(|v| v["health"] == "true");
        if response.status == 200 && healthy {
            Ok(())
        } else {
            Err(format!(
                "GET {url} answered {}: {}",
                response.status,
                response.body.trim()
            ))
        }
    }

    /// `POST /v3<path>` with a JSON body (the gRPC gateway): `post_v3("/kv/range", &json)`.
    /// The answer is returned as is; an error carries `code` and `message` (or `error`).
    pub fn post_v3(&self, path: &str, body: &Value) -> HttpResponse {
        http::post_json(&format!("{}/v3{path}", self.client_url()), body)
    }

    /// `POST /v3/maintenance/status`: `version`, `leader`, `raftTerm`, and `header`
    /// with `member_id` and `revision` (64-bit numbers as strings).
    ///
    /// # Panics
    /// When the answer is not 2xx JSON.
    pub fn status(&self) -> Value {
        self.post_v3("/maintenance/status", &json!({}))
            .ensure_success()
            .json()
    }

    /// This member's id, as the gateway writes it (a decimal string).
    ///
    /// # Panics
    /// As [`status`](Self::status).
    pub fn member_id(&self) -> String {
        uint_text(&self.status()["header"]["member_id"])
    }

    /// Puts `key` = `value` through the gateway and returns the revision it made.
    ///
    /// A write that reaches a member just after its leader died is lost with the leader:
    /// etcd answers it only after its request timeout (6 s with the kit's timings) with
    /// 503 `etcdserver: request timed out`. After a kill or stop, call
    /// [`EtcdCluster::wait_for_leader`] before writing.
    ///
    /// # Panics
    /// When the put is refused.
    pub fn put(&self, key: &str, value: &str) -> i64 {
        let answer = self
            .post_v3(
                "/kv/put",
                &json!({"key": base64_encode(key.as_bytes()), "value": base64_encode(value.as_bytes())}),
            )
            .ensure_success()
            .json();
        uint(&answer["header"]["revision"])
            .and_then(|r| i64::try_from(r).ok())
            .unwrap_or_else(|| panic!("put answered {answer}"))
    }

    /// The value of `key` (a linearizable read through the gateway), `None` if absent.
    ///
    /// # Panics
    /// When the read is refused, or the value is not base64 of UTF-8.
    pub fn get(&self, key: &str) -> Option<String> {
        let answer = self
            .post_v3("/kv/range", &json!({"key": base64_encode(key.as_bytes())}))
            .ensure_success()
            .json();
        let value = answer["kvs"].get(0)?["value"].as_str().unwrap_or("");
        let bytes = base64_decode(value)
            .unwrap_or_else(|| panic!("{key}'s value is not base64: {value:?}"));
        Some(String::from_utf8(bytes).unwrap_or_else(|e| panic!("{key}'s value is not UTF-8: {e}")))
    }

    /// Kills the process (SIGKILL, as a crash would; a stopped process too) and waits for
    /// it. The data directory stays. Idempotent.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Fails only if the process is already gone, which is what we want.
            let _ = child.kill();
            let _ = child.wait();
        }
        self.stopped = false;
    }

    /// Freezes the process (SIGSTOP): it holds its ports and data but answers nothing,
    /// as a member behind a partition or in a long GC pause would.
    ///
    /// # Panics
    /// When the process was killed, or `kill -STOP` fails.
    pub fn stop(&mut self) {
        self.signal("STOP");
        self.stopped = true;
    }

    /// Resumes a [`stop`](Self::stop)ped process (SIGCONT).
    ///
    /// # Panics
    /// When the process was killed, or `kill -CONT` fails.
    pub fn cont(&mut self) {
        self.signal("CONT");
        self.stopped = false;
    }

    fn signal(&self, name: &str) {
        assert!(
            self.child.is_some(),
            "etcd {} was killed; there is nothing to SIG{name}",
            self.name
        );
        let status = Command::new("kill")
            .args([format!("-{name}"), self.pid.to_string()])
            .status()
            .unwrap_or_else(|e| panic!("cannot run `kill -{name} {}`: {e}", self.pid));
        assert!(status.success(), "`kill -{name} {}` {status}", self.pid);
    }

    /// Kills the process if it runs, then starts it again with the same flags, ports and
    /// data directory, and waits until it is healthy. A cluster member rejoins from its
    /// WAL (`--initial-cluster*` flags are read only for an empty data directory); it is
    /// healthy once it sees a leader, so the rest of its cluster must have a quorum.
    ///
    /// # Panics
    /// When it does not come back (the message includes the tail of its log).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
        let timeout = self.ready_timeout;
        if let Err(failure) = wait_ready(std::slice::from_mut(self), timeout) {
            panic!("{}", failure.message);
        }
    }

    fn spawn(&mut self) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.log_path().display()));
        self.log_offset = log.metadata().map(|m| m.len()).unwrap_or(0);
        let log_err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot duplicate a file handle: {e}"));
        let child = Command::new(&self.bin)
            .args(&self.args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
        self.pid = child.id();
        self.child = Some(child);
        self.stopped = false;
    }

    /// How the process ended, if it has (forgetting it then).
    fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        self.child = None;
        Some(status)
    }

    /// Kills the process and explains, with the log it wrote since its start.
    fn start_failure(&mut self, reason: &str) -> StartFailure {
        self.kill();
        let output = self
            .logs()
            .get(self.log_offset as usize..)
            .unwrap_or("")
            .to_owned();
        StartFailure {
            address_in_use: output.contains("address already in use"),
            message: format!(
                "etcd {} ({} {}) did not become healthy: {reason}\n--- the last {FAILURE_LOG_LINES} lines of its output ---\n{}\n--- end of output ---",
                self.name,
                self.bin.display(),
                self.args.join(" "),
                tail(&output, FAILURE_LOG_LINES),
            ),
        }
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until every member of `members`, just spawned, answers `/health` true; on a
/// failure, kills the member that failed and says why.
fn wait_ready(members: &mut [Etcd], timeout: Duration) -> Result<(), StartFailure> {
    let deadline = Instant::now() + timeout;
    let mut last: Vec<Option<String>> = vec![Some("not asked yet".into()); members.len()];
    loop {
        for (member, last) in members.iter_mut().zip(&mut last) {
            if last.is_none() {
                continue;
            }
            if let Some(status) = member.exited() {
                return Err(member.start_failure(&format!("it exited with {status}")));
            }
            *last = member.health().err();
        }
        let Some(i) = last.iter().position(Option::is_some) else {
            return Ok(());
        };
        if Instant::now() >= deadline {
            let reason = format!(
                "not healthy after {timeout:?} (last: {})",
                last[i].as_deref().unwrap_or_default()
            );
            return Err(members[i].start_failure(&reason));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// A raft cluster of REAL etcd processes on 127.0.0.1 (three members by default), each
/// started with the same `--initial-cluster` and a token no other cluster shares.
/// Dropping it kills them all.
///
/// ```no_run
/// use alert_testkit::EtcdCluster;
/// let mut cluster = EtcdCluster::start(3);
/// let leader = cluster.wait_for_leader();
/// cluster.kill(leader);
/// let next = cluster.wait_for_leader();
/// assert_ne!(next, leader);
/// cluster[next].put("k", "v");
/// cluster.restart(leader);
/// ```
#[derive(Debug)]
pub struct EtcdCluster {
    members: Vec<Etcd>,
}

impl EtcdCluster {
    /// The number of members a cluster usually has: three tolerate one failure.
    pub const DEFAULT_SIZE: usize = 3;

    /// Starts `n` members at once with default options and waits until every one is
    /// healthy (a leader is elected and each can serve a quorum read).
    ///
    /// # Panics
    /// As [`EtcdBuilder::start`].
    pub fn start(n: usize) -> EtcdCluster {
        Etcd::builder().start_cluster(n)
    }

    /// The number of members, killed ones included.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the cluster has no members (never true for a started cluster).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Member `i`.
    pub fn member(&self, i: usize) -> &Etcd {
        &self.members[i]
    }

    /// Member `i`, mutably.
    pub fn member_mut(&mut self, i: usize) -> &mut Etcd {
        &mut self.members[i]
    }

    /// Every member, in start order.
    pub fn members(&self) -> &[Etcd] {
        &self.members
    }

    /// Every member's client URL, killed ones included (clients fail over):
    /// `endpoints().join(",")` is what `etcdctl --endpoints` takes.
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(Etcd::client_url).collect()
    }

    /// The member that leads now, if the running members agree on one that runs.
    ///
    /// Each member neither killed nor stopped is asked `POST /v3/maintenance/status`;
    /// the `leader` reported at the highest raft term must be the `header.member_id` of
    /// a member that answered. `None` while an election is under way, or while the
    /// others still follow a stopped leader.
    pub fn leader_index(&self) -> Option<usize> {
        let answers: Vec<(usize, u64, u64, u64)> = self
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.is_killed() && !m.is_stopped())
            .filter_map(|(i, m)| {
                let url = format!("{}/v3/maintenance/status", m.client_url());
                let status = probe(&url, Some(&json!({}))).ok()?;
                let status: Value = serde_json::from_str(&status.body).ok()?;
                let id = uint(&status["header"]["member_id"])?;
                let leader = uint(&status["leader"]).unwrap_or(0);
                let term = uint(&status["raftTerm"]).unwrap_or(0);
                Some((i, id, leader, term))
            })
            .collect();
        let term = answers.iter().map(|a| a.3).max()?;
        let leaders: BTreeSet<u64> = answers
            .iter()
            .filter(|a| a.3 == term && a.2 != 0)
            .map(|a| a.2)
            .collect();
        let [leader] = leaders.into_iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        answers.iter().find(|a| a.1 == leader).map(|a| a.0)
    }

    /// Waits until [`leader_index`](Self::leader_index) names a member, and returns it.
    ///
    /// # Panics
    /// When none leads within [`DEFAULT_LEADER_TIMEOUT`].
    pub fn wait_for_leader(&self) -> usize {
        wait_until(DEFAULT_LEADER_TIMEOUT, "an etcd leader", || {
            self.leader_index()
        })
    }

    /// Kills member `i` (SIGKILL) and waits for it; the others keep running.
    pub fn kill(&mut self, i: usize) {
        self.members[i].kill();
    }

    /// Restarts member `i` on its ports and data directory and waits until it is
    /// healthy again (see [`Etcd::restart`]).
    pub fn restart(&mut self, i: usize) {
        self.members[i].restart();
    }

    /// Freezes member `i` (SIGSTOP).
    pub fn stop(&mut self, i: usize) {
        self.members[i].stop();
    }

    /// Resumes member `i` (SIGCONT).
    pub fn cont(&mut self, i: usize) {
        self.members[i].cont();
    }
}

impl Index<usize> for EtcdCluster {
    type Output = Etcd;

    fn index(&self, i: usize) -> &Etcd {
        &self.members[i]
    }
}

/// `GET url` (or `POST url` with a JSON body) that gives up after [`PROBE_TIMEOUT`].
fn probe(url: &str, body: Option<&Value>) -> Result<HttpResponse, String> {
    let agent = http::agent();
    let result = match body {
        None => agent
            .get(url)
            .config()
            .timeout_global(Some(PROBE_TIMEOUT))
            .build()
            .call(),
        Some(body) => agent
            .post(url)
            .config()
            .timeout_global(Some(PROBE_TIMEOUT))
            .build()
            .header("Content-Type", "application/json")
            .send(body.to_string()),
    };
    let mut response = result.map_err(|e| format!("HTTP request to {url} failed: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("reading the answer of {url} failed: {e}"))?;
    Ok(HttpResponse { status, body })
}

/// A uint64 as the gateway writes it (a decimal string), or as a plain JSON number.
fn uint(value: &Value) -> Option<u64> {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| value.as_u64())
}

/// [`uint`] as text, `"0"` when absent (the gateway leaves zero values out).
fn uint_text(value: &Value) -> String {
    uint(value).unwrap_or(0).to_string()
}

/// `n` distinct free loopback ports.
fn distinct_ports(n: usize) -> Vec<u16> {
    let mut ports = BTreeSet::new();
    while ports.len() < n {
        ports.insert(free_port());
    }
    ports.into_iter().collect()
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as the gateway reads `bytes` fields.
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes of standard base64 (padding optional), `None` if it is not base64.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u32> = text
        .trim_end_matches('=')
        .bytes()
        .map(|c| BASE64.iter().position(|&d| d == c).map(|p| p as u32))
        .collect::<Option<_>>()?;
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0, |n, (i, d)| n | d << (18 - 6 * i));
        out.extend(n.to_be_bytes()[1..chunk.len()].iter());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_matches_the_standard_alphabet() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("/config/tenant-a", "L2NvbmZpZy90ZW5hbnQtYQ=="),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
            assert_eq!(base64_decode(encoded).as_deref(), Some(plain.as_bytes()));
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64_decode(&base64_encode(&all)), Some(all));
        assert_eq!(base64_decode("Zm9v!"), None);
        assert_eq!(base64_decode("Z"), None);
    }

    #[test]
    fn gateway_numbers_are_strings_or_numbers() {
        assert_eq!(uint(&json!("18446744073709551615")), Some(u64::MAX));
        assert_eq!(uint(&json!(7)), Some(7));
        assert_eq!(uint(&Value::Null), None);
        assert_eq!(uint_text(&Value::Null), "0");
    }

    #[test]
    fn members_share_one_initial_cluster_and_defaults_are_replaced_not_repeated() {
        let builder = Etcd::builder().flag("--election-timeout=1000");
        let members = builder.plan(Path::new("/bin/etcd"), 3);
        let initial: Vec<&str> = members
            .iter()
            .map(|m| {
                m.args
                    .iter()
                    .find_map(|a| a.strip_prefix("--initial-cluster="))
                    .expect("--initial-cluster")
            })
            .collect();
        assert!(initial.iter().all(|c| *c == initial[0]), "{initial:?}");
        for member in &members {
            let count = |prefix: &str| member.args.iter().filter(|a| a.starts_with(prefix)).count();
            assert!(
                initial[0].contains(&format!("{}={}", member.name, member.peer_url())),
                "{initial:?}"
            );
            assert_eq!(count("--election-timeout="), 1, "{:?}", member.args);
            assert!(member.args.contains(&"--election-timeout=1000".to_owned()));
            assert!(member.args.contains(&"--unsafe-no-fsync=true".to_owned()));
            assert!(
                member
                    .args
                    .contains(&format!("--listen-client-urls={}", member.client_url()))
            );
        }
        let alone = builder.plan(Path::new("/bin/etcd"), 1);
        let tokens: BTreeSet<&String> = [&members, &alone]
            .iter()
            .flat_map(|ms| ms.iter())
            .flat_map(|m| {
                m.args
                    .iter()
                    .filter(|a| a.starts_with("--initial-cluster-token="))
            })
            .collect();
        assert_eq!(tokens.len(), 2, "one token per cluster: {tokens:?}");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 5), "");
    }
}
