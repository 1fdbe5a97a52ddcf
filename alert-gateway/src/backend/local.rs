//! The local driver: the Alerting Cluster as child `alertmanager` processes of the
//! gateway, on this machine.
//!
//! **Layout.** Everything lives under [`LocalOptions::data_dir`]:
//!
//! ```text
//! <data dir>/ports.json                 every member's web and gossip ports, kept across restarts
//! <data dir>/applied.json               the configuration last applied (new and restarted members start on it)
//! <data dir>/<member>/alertmanager.yml  the member's --config.file
//! <data dir>/<member>/data/             the member's --storage.path (silences, notification log)
//! <data dir>/<member>/alertmanager.log  the member's output
//! ```
//!
//! Members are named `controller-<i>` and `worker-<i>`. Controllers listen for gossip
//! and advertise their address (`--cluster.listen-address`,
//! `--cluster.advertise-address`) and peer each other; workers do the same on their own
//! ports and join every controller (`--cluster.peer`). Ports are picked once (free
//! loopback ports, or `base + position` when a base is set) and written to
//! `ports.json`, so a restarted member — or a restarted gateway — keeps its addresses:
//! gossip peers and the configuration syncer rely on them.
//!
//! **Supervision.** One task per member starts the process, probes `GET /-/ready`, and
//! restarts the process when it exits or is killed, after an exponential backoff
//! ([`RestartBackoff`]) that resets once the process stayed up a while. Each time a
//! member becomes ready its running configuration is compared with its file, and it is
//! reloaded when they differ (a file written while it was starting). Stopping a member
//! sends SIGTERM (Alertmanager then snapshots its silences and notification log and
//! leaves the gossip cluster) and SIGKILL after [`LocalOptions::stop_grace`].
//!
//! **Children do not outlive the driver.** [`LocalCluster::shutdown`] stops every member
//! it started, and nothing else. Dropping the last handle without it aborts the tasks,
//! and each process is killed as its handle drops (`kill_on_drop`). On Linux each child
//! also asks the kernel for SIGTERM when the thread that started it exits
//! (`PR_SET_PDEATHSIG`), so a gateway that dies does not leave them behind. Members
//! start from the supervision tasks on the runtime's worker threads; a runtime whose
//! worker threads end (a test's runtime) takes its members with it. Children run in a
//! process group of their own, so a Ctrl-C at a terminal reaches the gateway, which
//! stops them in order, and not the members directly.
//!
//! **Configuration.** [`LocalCluster`] is a [`ConfigBackend`] for the one shared
//! configuration ([`SHARED_CONFIG`]). `apply` writes every ready member's file and
//! reloads it through a [`FileReloadBackend`] (a configuration Alertmanager refuses is
//! [`alert_cortex_adapter::Error::ConfigRejected`], its previous file is put back and
//! nothing else is written); members that are down or starting get the file written and
//! pick it up when they start. The configuration applied last is remembered in
//! `applied.json`: a new worker starts on it. `is_live` holds when every ready member
//! runs it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use alert_core::TenantId;
use alert_cortex_adapter::config_live::covers;
use alert_cortex_adapter::syncer::write_atomic;
use alert_cortex_adapter::{
    AlertmanagerClient, Backoff, ConfigBackend, DesiredConfig, FileReloadBackend, FileTarget,
};
use alert_router::builder::sync_id;
use alert_router::validate::ClusterTiming;
use async_trait::async_trait;
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{Backend, BackendStatus, MemberStatus, MemberlistSettings, Role, check_workers};
use crate::control_plane::SHARED_CONFIG;
use crate::error::{Error, Result};

/// The configuration a member starts with when nothing was applied yet: every alert goes
/// to a receiver with no integrations.
pub const MINIMAL_CONFIG: &str = "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n";

/// The names looked for on `PATH` when [`LocalOptions::binary`] is not set: upstream's,
/// then Debian's.
pub const BINARY_NAMES: [&str; 2] = ["alertmanager", "prometheus-alertmanager"];

const PORTS_FILE: &str = "ports.json";
const APPLIED_FILE: &str = "applied.json";
const CONFIG_FILE: &str = "alertmanager.yml";
const LOG_FILE: &str = "alertmanager.log";
const STORAGE_DIR: &str = "data";

/// How often a member is probed while it starts, and once it is ready.
const PROBE_STARTING: Duration = Duration::from_millis(200);
const PROBE_READY: Duration = Duration::from_secs(2);

/// How long a probe (`/-/ready`, `/api/v2/status` for [`Backend::status`]) may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a reload or an `is_live` status read may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Milliseconds as a duration; the values here are small constants that always fit.
const fn ms(n: u64) -> alert_core::Duration {
    match alert_core::Duration::from_millis(n) {
        Some(d) => d,
        None => alert_core::Duration::ZERO,
    }
}

/// The pauses before a member that exited is started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestartBackoff {
    /// The pause after the first exit (default 500ms); it doubles with each exit in a row.
    pub initial: alert_core::Duration,
    /// The longest pause (default 30s).
    pub max: alert_core::Duration,
    /// A member that stayed up this long starts again from `initial` (default 1m).
    pub reset_after: alert_core::Duration,
}

impl Default for RestartBackoff {
    fn default() -> Self {
        RestartBackoff {
            initial: ms(500),
            max: ms(30_000),
            reset_after: ms(60_000),
        }
    }
}

impl RestartBackoff {
    fn delay(&self, exits_in_a_row: u32) -> Duration {
        Backoff {
            initial: self.initial.to_std(),
            max: self.max.to_std(),
            multiplier: 2.0,
            max_attempts: u32::MAX,
            jitter: false,
        }
        .delay(exits_in_a_row)
    }
}

/// How [`LocalCluster`] runs the cluster. Every field has a default
/// (`#[serde(default)]`), so a configuration names only what it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalOptions {
    /// Where members keep their files (default `alerting-cluster`, relative to the
    /// working directory); see the [module](self) docs for the layout.
    pub data_dir: PathBuf,
    /// The Alertmanager binary: a path, or a name looked up on `PATH`. `None` (the
    /// default) looks for [`BINARY_NAMES`] on `PATH`.
    pub binary: Option<PathBuf>,
    /// Controller members (default 1, at least 1).
    pub controllers: usize,
    /// Worker members at start (default 2, at most [`super::MAX_WORKERS`]).
    pub workers: usize,
    /// The host members listen on, for their API and gossip (default `127.0.0.1`).
    pub listen_host: String,
    /// The first API port: controller `i` gets `base + i`, worker `i` gets
    /// `base + controllers + i`. 0 (the default) picks free ports.
    pub base_web_port: u16,
    /// The first gossip port (TCP and UDP), numbered as [`LocalOptions::base_web_port`].
    /// 0 (the default) picks free ports.
    pub base_cluster_port: u16,
    /// The gossip settings (default: Alertmanager's).
    pub memberlist: MemberlistSettings,
    /// The pauses before a member that exited is started again.
    pub restart_backoff: RestartBackoff,
    /// How long a stopped member may take to exit after SIGTERM before it is killed
    /// (default 10s).
    pub stop_grace: alert_core::Duration,
    /// More flags for every member (`--log.level=debug`). A flag the driver sets
    /// itself (a memberlist setting, `--cluster.reconnect-interval`) is replaced, not
    /// repeated; the addresses, files and peers cannot be overridden.
    pub extra_flags: Vec<String>,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            data_dir: PathBuf::from("alerting-cluster"),
            binary: None,
            controllers: 1,
            workers: 2,
            listen_host: "127.0.0.1".into(),
            base_web_port: 0,
            base_cluster_port: 0,
            memberlist: MemberlistSettings::default(),
            restart_backoff: RestartBackoff::default(),
            stop_grace: ms(10_000),
            extra_flags: Vec::new(),
        }
    }
}

/// A member's ports, as kept in `ports.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct MemberPorts {
    web: u16,
    cluster: u16,
}

/// The configuration applied last, as kept in `applied.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct AppliedConfig {
    sync_id: String,
    config: String,
    #[serde(default)]
    templates: BTreeMap<String, String>,
}

/// What the supervisor knows about a member's process.
#[derive(Debug, Default)]
struct MemberState {
    pid: Option<u32>,
    ready: bool,
    restarts: u64,
    last_exit: Option<String>,
}

/// One member: what it is, how it is started, and its state.
#[derive(Debug)]
struct Member {
    name: String,
    role: Role,
    index: usize,
    url: String,
    cluster_address: String,
    dir: PathBuf,
    config_path: PathBuf,
    binary: PathBuf,
    args: Vec<String>,
    /// Reloads and `is_live` reads.
    client: AlertmanagerClient,
    /// Readiness and status probes (a shorter timeout).
    probe: AlertmanagerClient,
    restart: RestartBackoff,
    grace: Duration,
    state: Mutex<MemberState>,
    /// The cluster's `config_lock`.
    config_lock: Arc<tokio::sync::Mutex<()>>,
}

/// A member with its supervision task.
struct Running {
    member: Arc<Member>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

struct Inner {
    options: LocalOptions,
    data_dir: PathBuf,
    binary: PathBuf,
    /// The gossip addresses of the controllers, which every member peers.
    controller_addresses: std::sync::OnceLock<Vec<String>>,
    members: Mutex<Vec<Running>>,
    ports: Mutex<BTreeMap<String, MemberPorts>>,
    applied: Mutex<Option<AppliedConfig>>,
    /// Held by `apply`, `remove` and `scale_workers`, so a new member starts on the
    /// configuration applied last and an apply reaches every member; and by a member's
    /// supervisor while it marks the member ready and reconciles its configuration, so
    /// an apply either reloads a member or finds it not ready and leaves the file for
    /// that reconciliation.
    config_lock: Arc<tokio::sync::Mutex<()>>,
    shut_down: AtomicBool,
}

/// The Alerting Cluster as child `alertmanager` processes; see the [module](self) docs.
///
/// A cheap handle: clones share the cluster. The members stop on
/// [`shutdown`](LocalCluster::shutdown), or when the last handle is dropped.
#[derive(Clone)]
pub struct LocalCluster {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LocalCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCluster")
            .field("data_dir", &self.inner.data_dir)
            .field("binary", &self.inner.binary)
            .field("members", &self.alertmanager_urls())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn cluster_error(member: Option<&str>, action: impl Into<String>, reason: impl ToString) -> Error {
    Error::Cluster {
        member: member.map(str::to_owned),
        action: action.into(),
        reason: reason.to_string(),
    }
}

impl LocalCluster {
    /// Finds the binary, prepares the data directory and starts every member (without
    /// waiting for them: see [`LocalCluster::wait_ready`]).
    ///
    /// Fails ([`Error::Cluster`]) when no binary is found, the options are out of range
    /// (no controller, more than [`super::MAX_WORKERS`] workers), or a directory, file
    /// or port cannot be had.
    pub async fn start(options: LocalOptions) -> Result<LocalCluster> {
        if options.controllers == 0 {
            return Err(Error::BadRequest(
                "controllers: 0 is out of range; the cluster needs at least 1".into(),
            ));
        }
        let workers = check_workers(options.workers as u64)?;
        let binary = find_binary(options.binary.as_deref())?;
        let data_dir = std::path::absolute(&options.data_dir).map_err(|e| {
            cluster_error(
                None,
                format!("use data dir {}", options.data_dir.display()),
                e,
            )
        })?;
        tokio::fs::create_dir_all(&data_dir).await.map_err(|e| {
            cluster_error(None, format!("create data dir {}", data_dir.display()), e)
        })?;
        let ports: BTreeMap<String, MemberPorts> = read_json(&data_dir.join(PORTS_FILE))
            .await?
            .unwrap_or_default();
        let applied: Option<AppliedConfig> = read_json(&data_dir.join(APPLIED_FILE)).await?;
        let inner = Inner {
            options,
            data_dir,
            binary,
            controller_addresses: std::sync::OnceLock::new(),
            members: Mutex::new(Vec::new()),
            ports: Mutex::new(ports),
            applied: Mutex::new(applied),
            config_lock: Arc::new(tokio::sync::Mutex::new(())),
            shut_down: AtomicBool::new(false),
        };
        // Controllers' ports first: every member's flags name them.
        let mut controller_addresses = Vec::new();
        for i in 0..inner.options.controllers {
            let ports = inner.ports_of(Role::Controller, i).await?;
            controller_addresses.push(host_port(&inner.options.listen_host, ports.cluster));
        }
        let _ = inner.controller_addresses.set(controller_addresses);
        let cluster = LocalCluster {
            inner: Arc::new(inner),
        };
        let guard = cluster.inner.config_lock.lock().await;
        for i in 0..cluster.inner.options.controllers {
            cluster.inner.launch(Role::Controller, i).await?;
        }
        for i in 0..workers {
            cluster.inner.launch(Role::Worker, i).await?;
        }
        drop(guard);
        Ok(cluster)
    }

    /// Waits until every member answers `GET /-/ready`, or fails after `timeout` naming
    /// the first member that is not ready, why it last exited, and its log file.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let members = self.inner.members();
            let ready = join_all(members.iter().map(|m| m.probe.ready())).await;
            let Some(waiting) = members
                .iter()
                .zip(&ready)
                .find_map(|(m, r)| r.is_err().then_some(m))
            else {
                return Ok(());
            };
            if Instant::now() >= deadline {
                let last_exit = lock(&waiting.state).last_exit.clone();
                return Err(cluster_error(
                    Some(&waiting.name),
                    "wait until ready",
                    format!(
                        "GET {}/-/ready did not answer 200 within {timeout:?}{}; see {}",
                        waiting.url,
                        last_exit
                            .map(|e| format!(" (last exit: {e})"))
                            .unwrap_or_default(),
                        waiting.dir.join(LOG_FILE).display()
                    ),
                ));
            }
            tokio::time::sleep(PROBE_STARTING).await;
        }
    }

    /// Stops every member the driver started (SIGTERM, then SIGKILL after
    /// [`LocalOptions::stop_grace`]) and waits for them. Idempotent; afterwards
    /// [`Backend::scale_workers`] fails and the cluster has no members.
    pub async fn shutdown(&self) {
        self.inner.shut_down.store(true, Ordering::SeqCst);
        // The lock is not held while members stop: their supervisors may wait for it.
        let running: Vec<Running> = {
            let _guard = self.inner.config_lock.lock().await;
            lock(&self.inner.members).drain(..).collect()
        };
        // One at a time, workers (highest first) before controllers: a member that
        // leaves gossips its departure to the members still up, which takes a gossip
        // interval; members stopped together each wait out Alertmanager's 10 s leave
        // timeout for peers that are gone.
        for member in running.into_iter().rev() {
            member.stop().await;
        }
    }

    /// The data directory (absolute).
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// The directory of member `name` (`<data dir>/<name>`); its `--storage.path` is the
    /// `data` directory in it.
    pub fn member_dir(&self, name: &str) -> PathBuf {
        self.inner.data_dir.join(name)
    }

    /// The Alertmanager binary the members run.
    pub fn binary(&self) -> &Path {
        &self.inner.binary
    }

    /// The options the cluster was started with (`workers` is the count at start).
    pub fn options(&self) -> &LocalOptions {
        &self.inner.options
    }

    fn check_tenant(tenant: &TenantId) -> alert_cortex_adapter::Result<()> {
        if tenant.as_str() == SHARED_CONFIG {
            Ok(())
        } else {
            Err(alert_cortex_adapter::Error::UnknownTenant {
                tenant: tenant.to_string(),
                reason: format!(
                    "the local Alertmanager cluster runs one shared configuration, filed under {SHARED_CONFIG:?}"
                ),
            })
        }
    }
}

impl Inner {
    fn members(&self) -> Vec<Arc<Member>> {
        lock(&self.members)
            .iter()
            .map(|r| Arc::clone(&r.member))
            .collect()
    }

    /// The member's ports: kept from `ports.json`, else picked and written there.
    async fn ports_of(&self, role: Role, index: usize) -> Result<MemberPorts> {
        let name = member_name(role, index);
        let (ports, file) = {
            let mut all = lock(&self.ports);
            if let Some(p) = all.get(&name) {
                return Ok(*p);
            }
            let position = match role {
                Role::Controller => index,
                Role::Worker => self.options.controllers.saturating_add(index),
            };
            let mut taken: BTreeSet<u16> = all.values().flat_map(|p| [p.web, p.cluster]).collect();
            let host = &self.options.listen_host;
            let web = pick_port(host, self.options.base_web_port, position, false, &taken)
                .map_err(|e| cluster_error(Some(&name), "pick the web port", e))?;
            taken.insert(web);
            let cluster = pick_port(host, self.options.base_cluster_port, position, true, &taken)
                .map_err(|e| cluster_error(Some(&name), "pick the gossip port", e))?;
            let ports = MemberPorts { web, cluster };
            all.insert(name.clone(), ports);
            (ports, serde_json::to_string_pretty(&*all))
        };
        let file = file.map_err(|e| cluster_error(Some(&name), "record its ports", e))?;
        let path = self.data_dir.join(PORTS_FILE);
        write_atomic(&path, &file)
            .await
            .map_err(|e| cluster_error(Some(&name), format!("write {}", path.display()), e))?;
        Ok(ports)
    }

    /// Prepares member `role`/`index` (ports, directories, its configuration file: the
    /// one applied last, else the one it has, else [`MINIMAL_CONFIG`]) and starts its
    /// supervision task. The caller holds `config_lock`.
    async fn launch(&self, role: Role, index: usize) -> Result<()> {
        let name = member_name(role, index);
        let ports = self.ports_of(role, index).await?;
        let dir = self.data_dir.join(&name);
        let storage = dir.join(STORAGE_DIR);
        tokio::fs::create_dir_all(&storage)
            .await
            .map_err(|e| cluster_error(Some(&name), format!("create {}", storage.display()), e))?;
        let config_path = dir.join(CONFIG_FILE);
        let applied = lock(&self.applied).clone();
        let write = |e: alert_cortex_adapter::Error| {
            cluster_error(Some(&name), format!("write {}", config_path.display()), e)
        };
        match applied {
            Some(applied) => {
                write_config(&config_path, &applied.config, &applied.templates)
                    .await
                    .map_err(write)?;
            }
            None if tokio::fs::try_exists(&config_path).await.unwrap_or(false) => {}
            None => write_config(&config_path, MINIMAL_CONFIG, &BTreeMap::new())
                .await
                .map_err(write)?,
        }
        let host = &self.options.listen_host;
        let url = format!("http://{}", host_port(host, ports.web));
        let cluster_address = host_port(host, ports.cluster);
        let client = |timeout| {
            AlertmanagerClient::builder(url.clone())
                .name(name.clone())
                .timeout(timeout)
                .backoff(Backoff::none())
                .build()
                .map_err(|e| cluster_error(Some(&name), "build its API client", e))
        };
        let member = Arc::new(Member {
            args: self.args(&name, &dir, &config_path, &url, ports, &cluster_address),
            client: client(CALL_TIMEOUT)?,
            probe: client(PROBE_TIMEOUT)?,
            name,
            role,
            index,
            url,
            cluster_address,
            dir,
            config_path,
            binary: self.binary.clone(),
            restart: self.options.restart_backoff,
            grace: self.options.stop_grace.to_std(),
            state: Mutex::new(MemberState::default()),
            config_lock: Arc::clone(&self.config_lock),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(supervise(Arc::clone(&member), stopped));
        lock(&self.members).push(Running { member, stop, task });
        Ok(())
    }

    fn args(
        &self,
        name: &str,
        dir: &Path,
        config_path: &Path,
        url: &str,
        ports: MemberPorts,
        cluster_address: &str,
    ) -> Vec<String> {
        let host = &self.options.listen_host;
        let mut args = vec![
            format!("--config.file={}", config_path.display()),
            format!("--storage.path={}", dir.join(STORAGE_DIR).display()),
            format!("--web.listen-address={}", host_port(host, ports.web)),
            format!("--web.external-url={url}"),
            format!("--cluster.listen-address={cluster_address}"),
            format!("--cluster.advertise-address={cluster_address}"),
        ];
        args.extend(
            self.controller_addresses
                .get()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter(|a| a.as_str() != cluster_address)
                .map(|a| format!("--cluster.peer={a}")),
        );
        let overridden = |flag: &str| {
            let name = flag.split('=').next().unwrap_or(flag);
            self.options
                .extra_flags
                .iter()
                .any(|f| f.split('=').next() == Some(name))
        };
        args.extend(
            self.options
                .memberlist
                .flags()
                .into_iter()
                .filter(|f| !overridden(f)),
        );
        let fixed = |flag: &str| args_prefix_is_fixed(flag);
        args.extend(
            self.options
                .extra_flags
                .iter()
                .filter(|f| {
                    let keep = !fixed(f);
                    if !keep {
                        tracing::warn!(member = %name, flag = %f, "extra flag ignored: the driver sets it");
                    }
                    keep
                })
                .cloned(),
        );
        args
    }

    /// Writes `desired` to every member and remembers it. The caller holds
    /// `config_lock`.
    ///
    /// Each ready member goes through a [`FileReloadBackend`] of its own (file, then
    /// `/-/reload`), all at once. A member that gives no answer (it died or hangs since
    /// it was last seen ready) counts as down: it keeps the new file and is marked not
    /// ready, so its supervisor reconciles it when it answers again. When a member
    /// refuses the configuration, the files of the members that gave no answer are put
    /// back too, nothing is written to the down members, and the refusal is returned.
    async fn apply_locked(&self, desired: &DesiredConfig) -> alert_cortex_adapter::Result<()> {
        let (ready, down): (Vec<Arc<Member>>, Vec<Arc<Member>>) =
            self.members().into_iter().partition(|m| m.is_ready());
        let previous = join_all(
            ready
                .iter()
                .map(|m| async { tokio::fs::read_to_string(&m.config_path).await.ok() }),
        )
        .await;
        let outcomes = join_all(ready.iter().map(|m| {
            let backend = file_backend(&desired.tenant, std::slice::from_ref(m));
            async move { backend.apply(desired).await }
        }))
        .await;
        let mut unanswered = Vec::new();
        let mut failed = None;
        for ((m, before), outcome) in ready.iter().zip(previous).zip(outcomes) {
            match outcome {
                Ok(()) => {}
                Err(
                    e @ (alert_cortex_adapter::Error::Transport { .. }
                    | alert_cortex_adapter::Error::Timeout { .. }),
                ) => {
                    tracing::warn!(member = %m.name, error = %e, "no answer to the reload: the member gets the file when it is back");
                    unanswered.push((m, before));
                }
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failed {
            for (m, before) in unanswered {
                if let Some(before) = before {
                    write_atomic(&m.config_path, &before).await?;
                }
            }
            return Err(e);
        }
        for (m, _) in unanswered {
            m.update(|s| s.ready = false);
        }
        for m in &down {
            write_config(&m.config_path, &desired.config, &desired.templates).await?;
        }
        let applied = AppliedConfig {
            sync_id: desired.sync_id.clone(),
            config: desired.config.clone(),
            templates: desired.templates.clone(),
        };
        let path = self.data_dir.join(APPLIED_FILE);
        let text =
            serde_json::to_string(&applied).map_err(|e| alert_cortex_adapter::Error::Io {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        write_atomic(&path, &text).await?;
        *lock(&self.applied) = Some(applied);
        Ok(())
    }
}

/// Flags the driver owns: addresses, files and peers.
fn args_prefix_is_fixed(flag: &str) -> bool {
    [
        "--config.file",
        "--storage.path",
        "--web.listen-address",
        "--web.external-url",
        "--cluster.listen-address",
        "--cluster.advertise-address",
        "--cluster.peer",
    ]
    .iter()
    .any(|f| flag == *f || flag.starts_with(&format!("{f}=")))
}

impl Drop for Inner {
    /// The safety net when [`LocalCluster::shutdown`] was not called: the supervision
    /// tasks are aborted, and each process is killed as its handle drops.
    fn drop(&mut self) {
        let running = self.members.get_mut().unwrap_or_else(|e| e.into_inner());
        for r in running.drain(..) {
            r.task.abort();
        }
    }
}

impl Running {
    /// Tells the supervisor to stop the member and waits until it has.
    async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await
            && e.is_panic()
        {
            tracing::error!(member = %self.member.name, "the member's supervision task panicked");
        }
    }
}

impl Member {
    fn is_ready(&self) -> bool {
        let s = lock(&self.state);
        s.ready && s.pid.is_some()
    }

    fn update(&self, f: impl FnOnce(&mut MemberState)) {
        f(&mut lock(&self.state));
    }

    fn spawn(&self) -> std::io::Result<Child> {
        std::fs::create_dir_all(self.dir.join(STORAGE_DIR))?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(LOG_FILE))?;
        let mut cmd = Command::new(&self.binary);
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        #[cfg(target_os = "linux")]
        die_with_parent(&mut cmd);
        cmd.spawn()
    }

    /// Waits for the process to exit (`Some`: how) or the member to be stopped (`None`),
    /// probing readiness meanwhile.
    ///
    /// The readiness compared is the shared one, which an apply also clears when the
    /// member does not answer its reload.
    async fn watch(&self, child: &mut Child, stop: &mut watch::Receiver<bool>) -> Option<String> {
        loop {
            let ready = lock(&self.state).ready;
            let pause = if ready { PROBE_READY } else { PROBE_STARTING };
            tokio::select! {
                exit = child.wait() => {
                    return Some(match exit {
                        Ok(status) => format!("exited with {status}"),
                        Err(e) => format!("could not be waited for: {e}"),
                    });
                }
                () = stopped(stop) => return None,
                () = tokio::time::sleep(pause) => {
                    let now = self.probe.ready().await.is_ok();
                    if now && !ready {
                        // Ready only once it runs its file: `is_live` asks the ready
                        // members, and must not see one that still runs an old file.
                        let _applying = self.config_lock.lock().await;
                        self.reconcile().await;
                        self.update(|s| s.ready = true);
                    } else {
                        self.update(|s| s.ready = now);
                    }
                }
            }
        }
    }

    /// Reloads a member that just became ready when it runs something other than its
    /// file (the file was written while it started). `config.original` is Alertmanager's
    /// rendering of what it loaded, so the two are compared with
    /// [`alert_cortex_adapter::config_live::covers`].
    async fn reconcile(&self) {
        let Ok(file) = tokio::fs::read_to_string(&self.config_path).await else {
            return;
        };
        match self.client.status().await {
            Ok(status) if covers(&file, &status.config.original).unwrap_or(false) => {}
            Ok(_) => match self.client.reload().await {
                Ok(()) => {
                    tracing::info!(member = %self.name, "reloaded: its file changed while it started");
                }
                Err(e) => {
                    tracing::warn!(member = %self.name, error = %e, "reload after start failed");
                }
            },
            Err(e) => tracing::debug!(member = %self.name, error = %e, "status after start"),
        }
    }

    /// SIGTERM, then SIGKILL after the grace period; waits for the process.
    async fn terminate(&self, mut child: Child) {
        #[cfg(unix)]
        if let Some(pid) = child.id().and_then(|p| libc::pid_t::try_from(p).ok()) {
            // SAFETY: `kill` only sends a signal. The process is our un-reaped child
            // (`child.id()` is `Some` until it is waited for), so the pid is not reused.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        #[cfg(not(unix))]
        let _ = child.start_kill();
        if tokio::time::timeout(self.grace, child.wait())
            .await
            .is_err()
        {
            tracing::warn!(member = %self.name, grace = ?self.grace, "did not stop after SIGTERM; killing it");
            let _ = child.kill().await;
        }
    }
}

/// Resolves once the member is told to stop (or its handle is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The supervision task of one member: start it, watch it, start it again after it
/// exits, until told to stop.
async fn supervise(member: Arc<Member>, mut stop: watch::Receiver<bool>) {
    let mut exits_in_a_row: u32 = 0;
    loop {
        if *stop.borrow() {
            return;
        }
        let started = Instant::now();
        let exit = match member.spawn() {
            Ok(mut child) => {
                let pid = child.id();
                member.update(|s| {
                    s.pid = pid;
                    s.ready = false;
                });
                tracing::info!(member = %member.name, pid = ?pid, "alerting cluster member started");
                match member.watch(&mut child, &mut stop).await {
                    None => {
                        member.terminate(child).await;
                        member.update(|s| {
                            s.pid = None;
                            s.ready = false;
                        });
                        tracing::info!(member = %member.name, "alerting cluster member stopped");
                        return;
                    }
                    Some(exit) => exit,
                }
            }
            Err(e) => format!("could not be started: {} {e}", member.binary.display()),
        };
        member.update(|s| {
            s.pid = None;
            s.ready = false;
            s.last_exit = Some(exit.clone());
        });
        if started.elapsed() >= member.restart.reset_after.to_std() {
            exits_in_a_row = 0;
        }
        exits_in_a_row = exits_in_a_row.saturating_add(1);
        let delay = member.restart.delay(exits_in_a_row);
        tracing::warn!(member = %member.name, %exit, restart_in = ?delay, log = %member.dir.join(LOG_FILE).display(), "alerting cluster member exited");
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = stopped(&mut stop) => return,
        }
        member.update(|s| s.restarts += 1);
    }
}

/// Asks the kernel to send the child SIGTERM when the thread that started it exits, and
/// exits at once if the parent is already gone. (Also used by `alert-demo` for its
/// children.)
#[cfg(target_os = "linux")]
pub fn die_with_parent(cmd: &mut Command) {
    let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    // SAFETY: the closure runs in the forked child before `exec`. It makes only
    // async-signal-safe system calls (`prctl`, `getppid`, `_exit`), allocates nothing and
    // takes no lock.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// A [`FileReloadBackend`] over `members`' files and APIs, for `tenant` (the one
/// [`SHARED_CONFIG`]).
fn file_backend(tenant: &TenantId, members: &[Arc<Member>]) -> FileReloadBackend {
    members.iter().fold(FileReloadBackend::new(), |backend, m| {
        backend.with_target(
            tenant.clone(),
            FileTarget {
                config_path: m.config_path.clone(),
                client: m.client.clone(),
            },
        )
    })
}

#[async_trait]
impl ConfigBackend for LocalCluster {
    fn kind(&self) -> &'static str {
        "alertmanager"
    }

    async fn apply(&self, desired: &DesiredConfig) -> alert_cortex_adapter::Result<()> {
        Self::check_tenant(&desired.tenant)?;
        let _guard = self.inner.config_lock.lock().await;
        self.inner.apply_locked(desired).await
    }

    async fn is_live(&self, desired: &DesiredConfig) -> alert_cortex_adapter::Result<bool> {
        Self::check_tenant(&desired.tenant)?;
        let ready: Vec<Arc<Member>> = self
            .inner
            .members()
            .into_iter()
            .filter(|m| m.is_ready())
            .collect();
        if ready.is_empty() {
            return Ok(false);
        }
        file_backend(&desired.tenant, &ready).is_live(desired).await
    }

    async fn is_stored(&self, desired: &DesiredConfig) -> alert_cortex_adapter::Result<bool> {
        Self::check_tenant(&desired.tenant)?;
        let members = self.inner.members();
        if members.is_empty() {
            return Ok(false);
        }
        file_backend(&desired.tenant, &members)
            .is_stored(desired)
            .await
    }

    /// Writes [`MINIMAL_CONFIG`] (the cluster cannot run without a configuration) to
    /// every member, as an apply.
    async fn remove(&self, tenant: &TenantId) -> alert_cortex_adapter::Result<()> {
        Self::check_tenant(tenant)?;
        let fallback =
            DesiredConfig::new(tenant.as_str(), MINIMAL_CONFIG, sync_id(MINIMAL_CONFIG))?;
        let _guard = self.inner.config_lock.lock().await;
        self.inner.apply_locked(&fallback).await
    }

    async fn running(&self, tenant: &TenantId) -> alert_cortex_adapter::Result<Option<String>> {
        Self::check_tenant(tenant)?;
        let first: Vec<Arc<Member>> = self
            .inner
            .members()
            .into_iter()
            .filter(|m| m.is_ready())
            .take(1)
            .collect();
        if first.is_empty() {
            return Ok(None);
        }
        file_backend(tenant, &first).running(tenant).await
    }
}

#[async_trait]
impl Backend for LocalCluster {
    fn driver(&self) -> &'static str {
        "local"
    }

    async fn status(&self) -> Result<BackendStatus> {
        let members = self.inner.members();
        let names: HashMap<&str, &str> = members
            .iter()
            .map(|m| (m.cluster_address.as_str(), m.name.as_str()))
            .collect();
        let answers = join_all(
            members
                .iter()
                .map(|m| async { futures::join!(m.probe.ready(), m.probe.status()) }),
        )
        .await;
        let members = members
            .iter()
            .zip(answers)
            .map(|(m, (ready, status))| {
                let state = lock(&m.state);
                let status = status.ok();
                MemberStatus {
                    name: m.name.clone(),
                    role: m.role,
                    url: m.url.clone(),
                    // Answering /-/ready now, and reconciled with its file since it
                    // last became ready (the supervisor's flag).
                    ready: ready.is_ok() && state.pid.is_some() && state.ready,
                    config_hash: status.as_ref().map(|s| sync_id(&s.config.original)),
                    peers: status
                        .map(|s| {
                            s.cluster
                                .peers
                                .iter()
                                .map(|p| {
                                    names
                                        .get(p.address.as_str())
                                        .map_or_else(|| p.address.clone(), |n| (*n).to_owned())
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    pid: state.pid,
                    restarts: state.restarts,
                    last_exit: state.last_exit.clone(),
                }
            })
            .collect();
        Ok(BackendStatus {
            kind: self.driver().to_owned(),
            members,
            memberlist: self.inner.options.memberlist,
        })
    }

    async fn scale_workers(&self, workers: usize) -> Result<()> {
        let workers = check_workers(workers as u64)?;
        let guard = self.inner.config_lock.lock().await;
        if self.inner.shut_down.load(Ordering::SeqCst) {
            return Err(cluster_error(
                None,
                "scale workers",
                "the driver is shut down",
            ));
        }
        // Workers are numbered 0..n: scaling up adds the next numbers, scaling down
        // takes the highest first.
        let current = self
            .inner
            .members()
            .iter()
            .filter(|m| m.role == Role::Worker)
            .count();
        for index in current..workers {
            self.inner.launch(Role::Worker, index).await?;
        }
        let removed: Vec<Running> = {
            let mut running = lock(&self.inner.members);
            let (stop, keep): (Vec<Running>, Vec<Running>) = running
                .drain(..)
                .partition(|r| r.member.role == Role::Worker && r.member.index >= workers);
            *running = keep;
            stop
        };
        // The lock is not held while members stop: their supervisors may wait for it.
        drop(guard);
        for r in &removed {
            tracing::info!(member = %r.member.name, "stopping: scaled down");
        }
        join_all(removed.into_iter().map(Running::stop)).await;
        Ok(())
    }

    fn alertmanager_urls(&self) -> Vec<String> {
        self.inner.members().iter().map(|m| m.url.clone()).collect()
    }

    fn cluster_timing(&self) -> ClusterTiming {
        ClusterTiming {
            peer_timeout: self.inner.options.memberlist.peer_timeout,
            peers: self.inner.members().len(),
        }
    }

    fn config_backend(&self) -> Arc<dyn ConfigBackend> {
        Arc::new(self.clone())
    }
}

fn member_name(role: Role, index: usize) -> String {
    format!("{}-{index}", role.as_str())
}

/// `host:port`, with an IPv6 host in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `base + position` when a base is set, else a port free now on `host` (for TCP, and
/// for UDP too when `udp`) that is not `taken`.
fn pick_port(
    host: &str,
    base: u16,
    position: usize,
    udp: bool,
    taken: &BTreeSet<u16>,
) -> std::result::Result<u16, String> {
    if base != 0 {
        return u16::try_from(position)
            .ok()
            .and_then(|p| base.checked_add(p))
            .ok_or_else(|| format!("base port {base} + {position} is past 65535"));
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut last = String::from("no attempt");
    for _ in 0..100 {
        let tcp = match TcpListener::bind((host, 0)) {
            Ok(l) => l,
            Err(e) => {
                last = format!("cannot bind {host}:0: {e}");
                continue;
            }
        };
        let Ok(port) = tcp.local_addr().map(|a| a.port()) else {
            continue;
        };
        if taken.contains(&port) || (udp && UdpSocket::bind((host, port)).is_err()) {
            last = format!("port {port} taken");
            continue;
        }
        return Ok(port);
    }
    Err(format!("no free port in 100 tries (last: {last})"))
}

/// The binary to run: `explicit` (a path, or a name on `PATH`), else the first of
/// [`BINARY_NAMES`] on `PATH`.
fn find_binary(explicit: Option<&Path>) -> Result<PathBuf> {
    let action = "find the Alertmanager binary";
    if let Some(path) = explicit
        && path.components().count() > 1
    {
        return if is_executable(path) {
            Ok(path.to_path_buf())
        } else {
            Err(cluster_error(
                None,
                action,
                format!("{} is not an executable file", path.display()),
            ))
        };
    }
    let names: Vec<PathBuf> = match explicit {
        Some(name) => vec![name.to_path_buf()],
        None => BINARY_NAMES.iter().map(PathBuf::from).collect(),
    };
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| {
            cluster_error(
                None,
                action,
                format!(
                    "none of {} is an executable on PATH; install Alertmanager 0.25 \
                     (Debian: `apt-get install -y prometheus-alertmanager`) or set the binary",
                    names
                        .iter()
                        .map(|n| n.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// A JSON file of the data directory: `None` when it does not exist.
async fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match tokio::fs::read_to_string(path).await {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| cluster_error(None, format!("read {}", path.display()), e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(cluster_error(None, format!("read {}", path.display()), e)),
    }
}

/// Writes a member's configuration file, and its templates beside it (bare file names
/// only, as [`FileReloadBackend`] requires).
async fn write_config(
    path: &Path,
    config: &str,
    templates: &BTreeMap<String, String>,
) -> alert_cortex_adapter::Result<()> {
    let dir = path.parent().unwrap_or(Path::new(""));
    for (name, body) in templates {
        if Path::new(name).file_name().and_then(|f| f.to_str()) != Some(name.as_str())
            || name == ".."
        {
            return Err(alert_cortex_adapter::Error::Core(
                alert_core::Error::InvalidField {
                    field: "templates".into(),
                    value: name.clone(),
                    expected: "a bare file name: the template name cannot contain any path".into(),
                },
            ));
        }
        write_atomic(&dir.join(name), body).await?;
    }
    write_atomic(path, config).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_from_a_base_are_numbered_by_position() {
        let none = BTreeSet::new();
        assert_eq!(pick_port("127.0.0.1", 9093, 2, false, &none), Ok(9095));
        assert!(
            pick_port("127.0.0.1", 65535, 1, false, &none)
                .unwrap_err()
                .contains("past 65535")
        );
        let free = pick_port("127.0.0.1", 0, 0, true, &none).unwrap();
        assert_ne!(free, 0);
    }

    #[test]
    fn hosts_and_ports() {
        assert_eq!(host_port("127.0.0.1", 9094), "127.0.0.1:9094");
        assert_eq!(host_port("::1", 9094), "[::1]:9094");
        assert_eq!(member_name(Role::Worker, 3), "worker-3");
    }

    #[test]
    fn a_missing_binary_is_explained() {
        let e = find_binary(Some(Path::new("surely-not-an-alertmanager-xyz"))).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("find the Alertmanager binary"), "{text}");
        assert!(text.contains("surely-not-an-alertmanager-xyz"), "{text}");
        assert!(text.contains("apt-get install"), "{text}");
        let e = find_binary(Some(Path::new("/nonexistent/alertmanager"))).unwrap_err();
        assert!(e.to_string().contains("not an executable file"), "{e}");
    }

    #[test]
    fn driver_flags_cannot_be_overridden() {
        assert!(args_prefix_is_fixed("--cluster.peer=1.2.3.4:9094"));
        assert!(args_prefix_is_fixed("--storage.path=/tmp"));
        assert!(!args_prefix_is_fixed("--cluster.peer-timeout=1s"));
        assert!(!args_prefix_is_fixed("--log.level=debug"));
    }

    #[test]
    fn options_read_from_json_with_defaults() {
        let o: LocalOptions = serde_json::from_value(serde_json::json!({
            "data_dir": "/tmp/x",
            "workers": 3,
            "memberlist": {"peer_timeout": "5s"},
            "restart_backoff": {"initial": "100ms"}
        }))
        .unwrap();
        assert_eq!((o.controllers, o.workers), (1, 3));
        assert_eq!(o.memberlist.peer_timeout.as_millis(), 5000);
        assert_eq!(o.memberlist.gossip_interval.as_millis(), 200);
        assert_eq!(o.restart_backoff.initial.as_millis(), 100);
        assert_eq!(o.restart_backoff.max.as_millis(), 30_000);
        assert!(serde_json::from_value::<LocalOptions>(serde_json::json!({"wokers": 3})).is_err());
    }

    #[test]
    fn restarts_back_off_exponentially() {
        let b = RestartBackoff {
            initial: ms(100),
            max: ms(1000),
            reset_after: ms(5000),
        };
        assert_eq!(b.delay(1), Duration::from_millis(100));
        assert_eq!(b.delay(3), Duration::from_millis(400));
        assert_eq!(b.delay(10), Duration::from_millis(1000));
    }
}
