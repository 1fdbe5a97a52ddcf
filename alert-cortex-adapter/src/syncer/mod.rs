//! The control plane's reconcile task: bring a backend to the desired per-tenant
//! configurations and report, per tenant, what happened.
//!
//! One trait, [`ConfigBackend`], two implementations: [`FileReloadBackend`] (a vanilla
//! Alertmanager beside the syncer: file + `/-/reload`) and [`CortexBackend`] (Cortex's
//! and Mimir's `/api/v1/alerts`). Both pass the same [`conformance`] suite. The
//! [`Syncer`] holds the reconcile logic, which is the same for every backend:
//!
//! - a tenant whose sync id was applied before is left alone: nothing is sent;
//! - a changed tenant is applied, then the backend is polled until the new
//!   configuration runs (or a deadline passes);
//! - a tenant no longer desired is removed;
//! - a failed tenant waits ([`Backoff`]) before it is tried again with the same
//!   configuration, so a broken configuration never spins in a tight loop;
//! - at most [`SyncOptions::concurrency`] tenants are in flight at once.

pub mod conformance;
mod cortex;
mod file_reload;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use alert_core::{TenantId, Timestamp};
use alert_router::builder::{TenantConfig, TenantKey};
use async_trait::async_trait;
use futures::StreamExt;

use crate::backoff::Backoff;
use crate::error::{Error, Result};

pub use cortex::CortexBackend;
pub use file_reload::{FileReloadBackend, FileTarget, write_atomic};

/// One tenant's desired configuration: the syncer's input.
///
/// `alert-router`'s builder produces these: its per-tenant output converts with
/// [`DesiredConfig::from_tenant_config`], or all of it at once with
/// [`desired_configs`]. Any other producer can fill it in directly. `sync_id` identifies
/// the content (the router uses a SHA-256 of the YAML); two configurations with the same
/// sync id are taken to be the same.
///
/// ```
/// use alert_cortex_adapter::DesiredConfig;
/// let d = DesiredConfig::new("tenant-a", "route: {receiver: x}\nreceivers: [{name: x}]\n", "v1")?
///     .with_template("x.tmpl", "{{ define \"x\" }}x{{ end }}");
/// assert_eq!(d.tenant.as_str(), "tenant-a");
/// assert_eq!(d.templates.len(), 1);
/// # Ok::<(), alert_cortex_adapter::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredConfig {
    /// The tenant.
    pub tenant: TenantId,
    /// The Alertmanager configuration, YAML.
    pub config: String,
    /// Identifies this content.
    pub sync_id: String,
    /// Template files by bare file name.
    pub templates: BTreeMap<String, String>,
}

impl DesiredConfig {
    /// A configuration without templates; the tenant id is validated.
    pub fn new(
        tenant: impl Into<String>,
        config: impl Into<String>,
        sync_id: impl Into<String>,
    ) -> Result<DesiredConfig> {
        Ok(DesiredConfig {
            tenant: TenantId::new(tenant)?,
            config: config.into(),
            sync_id: sync_id.into(),
            templates: BTreeMap::new(),
        })
    }

    /// Adds a template file.
    pub fn with_template(mut self, name: impl Into<String>, body: impl Into<String>) -> Self {
        self.templates.insert(name.into(), body.into());
        self
    }

    /// The desired configuration of one tenant the builder rendered: its YAML, and the
    /// builder's sync id (the SHA-256 of the YAML), without templates (the builder
    /// writes none).
    ///
    /// The configuration of the conditions bound to no tenant ([`TenantKey::Unbound`])
    /// is filed under `unbound`; without one it is left out (`None`).
    ///
    /// ```
    /// use alert_core::AlertingSpec;
    /// use alert_cortex_adapter::DesiredConfig;
    /// use alert_router::builder::{BuildOptions, TenantKey, build};
    ///
    /// let spec: AlertingSpec = serde_json::from_str(r#"{
    ///     "endpoints": [{"id": "hook", "webhook": {"url": "http://127.0.0.1:9/hook"}}],
    ///     "conditions": [
    ///         {"id": "heartbeat", "endpoints": ["hook"]},
    ///         {"id": "cpu-high", "tenant": "cluster-a", "endpoints": ["hook"]}
    ///     ]
    /// }"#)?;
    /// let configs = build(spec, BuildOptions::default())?;
    /// assert_eq!(configs[0].tenant, TenantKey::Unbound);
    ///
    /// let a = DesiredConfig::from_tenant_config(&configs[1], None).expect("bound to cluster-a");
    /// assert_eq!(a.tenant.as_str(), "cluster-a");
    /// assert_eq!((a.config.as_str(), a.sync_id.as_str()), (configs[1].yaml.as_str(), configs[1].sync_id.as_str()));
    /// assert!(a.templates.is_empty());
    ///
    /// // The conditions bound to no tenant: filed under a tenant named for them, or left out.
    /// assert_eq!(DesiredConfig::from_tenant_config(&configs[0], None), None);
    /// let ops = "ops".parse()?;
    /// let unbound = DesiredConfig::from_tenant_config(&configs[0], Some(&ops)).expect("filed");
    /// assert_eq!(unbound.tenant, ops);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_tenant_config(
        config: &TenantConfig,
        unbound: Option<&TenantId>,
    ) -> Option<DesiredConfig> {
        let tenant = match &config.tenant {
            TenantKey::Tenant(id) => id,
            TenantKey::Unbound => unbound?,
        };
        Some(DesiredConfig {
            tenant: tenant.clone(),
            config: config.yaml.clone(),
            sync_id: config.sync_id.clone(),
            templates: BTreeMap::new(),
        })
    }
}

/// What became of the configuration of the conditions bound to no tenant
/// ([`TenantKey::Unbound`]) in [`desired_configs`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum UnboundConfig {
    /// There was none: every condition is bound to a tenant.
    #[default]
    Absent,
    /// It is filed under this tenant.
    Filed(TenantId),
    /// It is left out: no tenant was named for it.
    LeftOut,
    /// It is left out: the tenant named for it has conditions of its own, and a tenant
    /// runs one configuration, so that tenant's own configuration is kept.
    Collides(TenantId),
}

/// The builder's output as the syncer's input: [`desired_configs`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredConfigs {
    /// One configuration per tenant, in the builder's order (by tenant id; the one of
    /// the conditions bound to no tenant first, when filed).
    pub configs: Vec<DesiredConfig>,
    /// What became of the configuration of the conditions bound to no tenant.
    pub unbound: UnboundConfig,
}

impl DesiredConfigs {
    /// Whether the builder rendered a configuration for conditions bound to no tenant
    /// and it is not among [`DesiredConfigs::configs`].
    pub fn unbound_left_out(&self) -> bool {
        matches!(
            self.unbound,
            UnboundConfig::LeftOut | UnboundConfig::Collides(_)
        )
    }
}

/// Every configuration the builder rendered, converted with
/// [`DesiredConfig::from_tenant_config`]: the conditions bound to no tenant are filed
/// under `unbound`, or left out without one, or when `unbound` is a tenant with
/// conditions of its own. [`DesiredConfigs::unbound`] says which.
///
/// ```
/// use alert_core::AlertingSpec;
/// use alert_cortex_adapter::syncer::{UnboundConfig, desired_configs};
/// use alert_router::builder::{BuildOptions, Builder};
///
/// let spec: AlertingSpec = serde_json::from_str(r#"{
///     "endpoints": [{"id": "hook", "webhook": {"url": "http://127.0.0.1:9/hook"}}],
///     "conditions": [
///         {"id": "heartbeat", "endpoints": ["hook"]},
///         {"id": "cpu-high", "tenant": "cluster-a", "endpoints": ["hook"]},
///         {"id": "disk-full", "tenant": "cluster-b", "endpoints": ["hook"]}
///     ]
/// }"#)?;
/// let builder = Builder::from_spec(spec, BuildOptions::default())?;
///
/// let without = desired_configs(builder.tenants(), None);
/// assert!(without.unbound_left_out());
/// let tenants: Vec<&str> = without.configs.iter().map(|d| d.tenant.as_str()).collect();
/// assert_eq!(tenants, ["cluster-a", "cluster-b"]);
///
/// let ops = "ops".parse()?;
/// let with = desired_configs(builder.tenants(), Some(&ops));
/// assert_eq!(with.unbound, UnboundConfig::Filed(ops));
/// assert_eq!(with.configs.len(), 3);
///
/// // A tenant runs one configuration: its own conditions' wins.
/// let a = "cluster-a".parse()?;
/// let clash = desired_configs(builder.tenants(), Some(&a));
/// assert_eq!(clash.unbound, UnboundConfig::Collides(a));
/// assert_eq!(clash.configs.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn desired_configs<'a>(
    configs: impl IntoIterator<Item = &'a TenantConfig>,
    unbound: Option<&TenantId>,
) -> DesiredConfigs {
    let configs: Vec<&TenantConfig> = configs.into_iter().collect();
    let has_unbound = configs.iter().any(|c| c.tenant == TenantKey::Unbound);
    let collides = unbound.filter(|u| configs.iter().any(|c| c.tenant.tenant() == Some(*u)));
    let outcome = match (has_unbound, unbound, collides) {
        (false, _, _) => UnboundConfig::Absent,
        (true, None, _) => UnboundConfig::LeftOut,
        (true, Some(_), Some(t)) => UnboundConfig::Collides(t.clone()),
        (true, Some(t), None) => UnboundConfig::Filed(t.clone()),
    };
    let filed_under = match &outcome {
        UnboundConfig::Filed(t) => Some(t),
        _ => None,
    };
    DesiredConfigs {
        configs: configs
            .into_iter()
            .filter_map(|c| DesiredConfig::from_tenant_config(c, filed_under))
            .collect(),
        unbound: outcome,
    }
}

/// Where configurations go. Implementations translate; the [`Syncer`] decides.
#[async_trait]
pub trait ConfigBackend: Send + Sync {
    /// A short name for reports (`alertmanager`, `cortex`).
    fn kind(&self) -> &'static str;

    /// Sends the configuration. A configuration the backend refuses is
    /// [`Error::ConfigRejected`], and the previous one keeps running.
    async fn apply(&self, desired: &DesiredConfig) -> Result<()>;

    /// Whether the configuration now running for the tenant is `desired`.
    async fn is_live(&self, desired: &DesiredConfig) -> Result<bool>;

    /// Whether the backend already stores exactly `desired` (no write needed). Asked
    /// only for tenants the syncer has no record of, so that a restarted syncer does
    /// not rewrite every tenant.
    async fn is_stored(&self, desired: &DesiredConfig) -> Result<bool>;

    /// Removes the tenant's configuration.
    async fn remove(&self, tenant: &TenantId) -> Result<()>;

    /// The running configuration as the backend shows it (`config.original`), if any.
    async fn running(&self, tenant: &TenantId) -> Result<Option<String>>;
}

/// Implements [`ConfigBackend`] for a pointer type by delegating to what it points to.
macro_rules! delegate_backend {
    ($($ptr:ty),*) => {$(
        #[async_trait]
        impl<B: ConfigBackend + ?Sized> ConfigBackend for $ptr {
            fn kind(&self) -> &'static str {
                (**self).kind()
            }
            async fn apply(&self, desired: &DesiredConfig) -> Result<()> {
                (**self).apply(desired).await
            }
            async fn is_live(&self, desired: &DesiredConfig) -> Result<bool> {
                (**self).is_live(desired).await
            }
            async fn is_stored(&self, desired: &DesiredConfig) -> Result<bool> {
                (**self).is_stored(desired).await
            }
            async fn remove(&self, tenant: &TenantId) -> Result<()> {
                (**self).remove(tenant).await
            }
            async fn running(&self, tenant: &TenantId) -> Result<Option<String>> {
                (**self).running(tenant).await
            }
        }
    )*};
}

delegate_backend!(Arc<B>, &B, Box<B>);

/// How the syncer works.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncOptions {
    /// Tenants applied or removed at once.
    pub concurrency: usize,
    /// How long to poll for a new configuration to run before reporting
    /// [`Error::NotLive`].
    pub live_timeout: Duration,
    /// The pauses between polls while waiting for a configuration to run.
    pub poll: Backoff,
    /// The pauses before a failed tenant is tried again (`max_attempts` is unused: a
    /// tenant is retried for as long as it is desired).
    pub retry: Backoff,
}

impl Default for SyncOptions {
    /// 8 at once; 60 s to go live, polled from 100 ms up to 2 s; retries from 1 s up to
    /// 5 min (opni's syncer used 1 s to 5 min as well).
    fn default() -> Self {
        SyncOptions {
            concurrency: 8,
            live_timeout: Duration::from_secs(60),
            poll: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(2),
                multiplier: 1.5,
                max_attempts: u32::MAX,
                jitter: true,
            },
            retry: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(300),
                multiplier: 2.0,
                max_attempts: u32::MAX,
                jitter: true,
            },
        }
    }
}

/// Where a tenant stands after a sync run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TenantState {
    /// Known, but nothing has been attempted yet.
    Pending,
    /// Its configuration was already applied; nothing was sent.
    InSync,
    /// Its configuration was applied and confirmed running in this run.
    Applied,
    /// The attempt in this run failed; see `last_error`.
    Failed,
    /// A previous attempt failed and the tenant is waiting before the next one.
    BackingOff,
    /// Its configuration was removed in this run.
    Removed,
}

/// One tenant in a [`SyncReport`].
#[derive(Debug, Clone, PartialEq)]
pub struct TenantStatus {
    /// The tenant.
    pub tenant: TenantId,
    /// Where it stands.
    pub state: TenantState,
    /// The sync id it should have (`None` once removed).
    pub desired_sync_id: Option<String>,
    /// The sync id last confirmed running.
    pub applied_sync_id: Option<String>,
    /// When the syncer last sent something for it.
    pub last_attempt: Option<Timestamp>,
    /// Why the last attempt failed (cleared by a success).
    pub last_error: Option<Error>,
    /// From sending the configuration to seeing it run, for the last success.
    pub latency: Option<Duration>,
    /// Failed attempts in a row.
    pub failures: u32,
}

/// What one sync run did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncReport {
    /// Every tenant the syncer knows of, sorted by tenant.
    pub tenants: Vec<TenantStatus>,
    /// How many writes (applies and removals) were sent to the backend.
    pub writes: usize,
}

impl SyncReport {
    /// The tenants in the given state.
    pub fn in_state(&self, state: TenantState) -> impl Iterator<Item = &TenantStatus> {
        self.tenants.iter().filter(move |t| t.state == state)
    }

    /// The status of one tenant.
    pub fn tenant(&self, tenant: &str) -> Option<&TenantStatus> {
        self.tenants.iter().find(|t| t.tenant.as_str() == tenant)
    }

    /// Whether every desired tenant runs its desired configuration.
    pub fn all_in_sync(&self) -> bool {
        self.tenants.iter().all(|t| {
            matches!(
                t.state,
                TenantState::InSync | TenantState::Applied | TenantState::Removed
            )
        })
    }
}

#[derive(Debug, Clone, Default)]
struct Record {
    desired_sync_id: Option<String>,
    applied_sync_id: Option<String>,
    last_attempt: Option<Timestamp>,
    last_error: Option<Error>,
    latency: Option<Duration>,
    failures: u32,
    /// The sync id whose failure the backoff is for, and when it ends.
    retry_at: Option<(Option<String>, Instant)>,
    removed: bool,
}

enum Work {
    Apply(DesiredConfig, bool),
    Remove(TenantId),
}

/// The reconcile task over one [`ConfigBackend`].
///
/// ```no_run
/// use alert_cortex_adapter::{AlertmanagerClient, Addressing, CortexBackend, DesiredConfig, Syncer};
/// # async fn run() -> Result<(), alert_cortex_adapter::Error> {
/// let cortex = AlertmanagerClient::builder("http://cortex:8080")
///     .addressing(Addressing::cortex("anonymous")?).build()?;
/// let mut syncer = Syncer::new(CortexBackend::new(cortex));
/// let desired = vec![DesiredConfig::new("tenant-a", "route: {receiver: x}\nreceivers: [{name: x}]\n", "v1")?];
/// let report = syncer.sync(&desired).await;
/// for t in &report.tenants {
///     println!("{} {:?} applied={:?} error={:?}", t.tenant, t.state, t.applied_sync_id, t.last_error);
/// }
/// # Ok(()) }
/// ```
pub struct Syncer<B> {
    backend: B,
    options: SyncOptions,
    records: HashMap<TenantId, Record>,
}

impl<B: ConfigBackend> Syncer<B> {
    /// A syncer with [`SyncOptions::default`].
    pub fn new(backend: B) -> Syncer<B> {
        Syncer::with_options(backend, SyncOptions::default())
    }

    /// A syncer with the given options.
    pub fn with_options(backend: B, options: SyncOptions) -> Syncer<B> {
        Syncer {
            backend,
            options,
            records: HashMap::new(),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Tells the syncer that these tenants may hold a configuration on the backend, so
    /// that they are removed when not desired (a fresh syncer only removes tenants it
    /// has seen desired before).
    pub fn assume_known(&mut self, tenants: impl IntoIterator<Item = TenantId>) {
        for t in tenants {
            self.records.entry(t).or_default();
        }
    }

    /// The current status of every tenant, without running anything.
    pub fn status(&self) -> Vec<TenantStatus> {
        let mut out: Vec<TenantStatus> = self
            .records
            .iter()
            .map(|(t, r)| status_of(t, r, state_of(r)))
            .collect();
        out.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        out
    }

    /// One reconcile run: applies what changed, removes what is no longer desired,
    /// leaves the rest alone, and reports every tenant.
    pub async fn sync(&mut self, desired: &[DesiredConfig]) -> SyncReport {
        let now = Instant::now();
        let mut states: HashMap<TenantId, TenantState> = HashMap::new();
        let mut work = Vec::new();
        let mut wanted: HashMap<&TenantId, &DesiredConfig> = HashMap::new();
        for d in desired {
            if wanted.insert(&d.tenant, d).is_some() {
                tracing::warn!(tenant = %d.tenant, "tenant desired twice; the last one wins");
            }
        }
        for d in wanted.values() {
            let record = self.records.entry(d.tenant.clone()).or_default();
            record.desired_sync_id = Some(d.sync_id.clone());
            record.removed = false;
            if record.applied_sync_id.as_deref() == Some(d.sync_id.as_str()) {
                states.insert(d.tenant.clone(), TenantState::InSync);
                continue;
            }
            if let Some((id, at)) = &record.retry_at
                && id.as_deref() == Some(d.sync_id.as_str())
                && *at > now
            {
                states.insert(d.tenant.clone(), TenantState::BackingOff);
                continue;
            }
            let first_sight = record.last_attempt.is_none() && record.applied_sync_id.is_none();
            work.push(Work::Apply((*d).clone(), first_sight));
        }
        for (tenant, record) in &mut self.records {
            if wanted.contains_key(tenant) || record.removed {
                continue;
            }
            record.desired_sync_id = None;
            if let Some((None, at)) = &record.retry_at
                && *at > now
            {
                states.insert(tenant.clone(), TenantState::BackingOff);
                continue;
            }
            work.push(Work::Remove(tenant.clone()));
        }

        let backend = &self.backend;
        let options = &self.options;
        let outcomes: Vec<(TenantId, Outcome)> = futures::stream::iter(work)
            .map(|w| async move {
                match w {
                    Work::Apply(d, first) => {
                        let outcome = apply_one(backend, options, &d, first).await;
                        (d.tenant, outcome)
                    }
                    Work::Remove(t) => {
                        let started = Timestamp::from_jiff(jiff::Timestamp::now());
                        let result = backend.remove(&t).await;
                        (
                            t,
                            Outcome {
                                started,
                                wrote: true,
                                result: result.map(|()| None),
                            },
                        )
                    }
                }
            })
            .buffer_unordered(self.options.concurrency.max(1))
            .collect()
            .await;

        let mut writes = 0;
        for (tenant, outcome) in outcomes {
            let record = self.records.entry(tenant.clone()).or_default();
            writes += usize::from(outcome.wrote);
            let removing = record.desired_sync_id.is_none();
            if outcome.wrote {
                record.last_attempt = Some(outcome.started);
            }
            match outcome.result {
                Ok(latency) => {
                    record.failures = 0;
                    record.last_error = None;
                    record.retry_at = None;
                    if removing {
                        record.applied_sync_id = None;
                        record.removed = true;
                        states.insert(tenant, TenantState::Removed);
                    } else {
                        record.applied_sync_id = record.desired_sync_id.clone();
                        let state = if outcome.wrote || latency.is_some() {
                            TenantState::Applied
                        } else {
                            TenantState::InSync
                        };
                        record.latency = latency.or(record.latency);
                        states.insert(tenant, state);
                    }
                }
                Err(e) => {
                    record.failures = record.failures.saturating_add(1);
                    record.last_error = Some(e);
                    let wait = self.options.retry.delay(record.failures);
                    record.retry_at = Some((record.desired_sync_id.clone(), Instant::now() + wait));
                    states.insert(tenant, TenantState::Failed);
                }
            }
        }

        let mut tenants: Vec<TenantStatus> = self
            .records
            .iter()
            .filter_map(|(t, r)| states.get(t).map(|s| status_of(t, r, *s)))
            .collect();
        tenants.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        SyncReport { tenants, writes }
    }

    /// Runs [`Syncer::sync`] whenever the desired configurations change, and at least
    /// every `interval` (so failed tenants are retried once their backoff ends), until
    /// the sender of `desired` is dropped. Each report is published on `reports`.
    pub async fn run(
        mut self,
        mut desired: tokio::sync::watch::Receiver<Vec<DesiredConfig>>,
        interval: Duration,
        reports: tokio::sync::watch::Sender<SyncReport>,
    ) {
        let interval = interval.max(Duration::from_millis(100));
        loop {
            let current = desired.borrow_and_update().clone();
            let report = self.sync(&current).await;
            reports.send_replace(report);
            tokio::select! {
                changed = desired.changed() => if changed.is_err() { return },
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}

struct Outcome {
    started: Timestamp,
    wrote: bool,
    /// `Ok(Some(latency))` when a write was confirmed, `Ok(None)` when nothing was needed.
    result: Result<Option<Duration>>,
}

async fn apply_one<B: ConfigBackend>(
    backend: &B,
    options: &SyncOptions,
    desired: &DesiredConfig,
    first_sight: bool,
) -> Outcome {
    let started = Timestamp::from_jiff(jiff::Timestamp::now());
    if first_sight
        && matches!(backend.is_stored(desired).await, Ok(true))
        && matches!(backend.is_live(desired).await, Ok(true))
    {
        return Outcome {
            started,
            wrote: false,
            result: Ok(None),
        };
    }
    let clock = Instant::now();
    if let Err(e) = backend.apply(desired).await {
        return Outcome {
            started,
            wrote: true,
            result: Err(e),
        };
    }
    let result = wait_live(backend, options, desired, clock)
        .await
        .map(|()| Some(clock.elapsed()));
    Outcome {
        started,
        wrote: true,
        result,
    }
}

/// Polls [`ConfigBackend::is_live`] (pausing as `options.poll` says) until it holds, or
/// fails with [`Error::NotLive`] once `options.live_timeout` has passed since `since`.
/// The syncer waits with it after every write; other reconcilers (the gateway's control
/// plane) use it too.
pub async fn wait_live<B: ConfigBackend + ?Sized>(
    backend: &B,
    options: &SyncOptions,
    desired: &DesiredConfig,
    since: Instant,
) -> Result<()> {
    let mut round = 0;
    loop {
        let detail = match backend.is_live(desired).await {
            Ok(true) => return Ok(()),
            Ok(false) => None,
            Err(e) => Some(e.to_string()),
        };
        if since.elapsed() >= options.live_timeout {
            return Err(Error::NotLive {
                tenant: desired.tenant.to_string(),
                sync_id: desired.sync_id.clone(),
                waited: since.elapsed(),
                detail,
            });
        }
        round += 1;
        let pause = options
            .poll
            .delay(round)
            .min(options.live_timeout.saturating_sub(since.elapsed()));
        tokio::time::sleep(pause).await;
    }
}

fn state_of(r: &Record) -> TenantState {
    if r.removed {
        TenantState::Removed
    } else if r.desired_sync_id.is_some() && r.desired_sync_id == r.applied_sync_id {
        TenantState::InSync
    } else if r.retry_at.is_some() {
        TenantState::BackingOff
    } else if r.last_attempt.is_none() {
        TenantState::Pending
    } else {
        TenantState::Failed
    }
}

fn status_of(tenant: &TenantId, r: &Record, state: TenantState) -> TenantStatus {
    TenantStatus {
        tenant: tenant.clone(),
        state,
        desired_sync_id: r.desired_sync_id.clone(),
        applied_sync_id: r.applied_sync_id.clone(),
        last_attempt: r.last_attempt,
        last_error: r.last_error.clone(),
        latency: r.latency,
        failures: r.failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An in-memory backend: a config applies after `apply_delay`; one containing
    /// `INVALID` is rejected; one containing `NEVER` is stored but never runs.
    #[derive(Default)]
    struct Memory {
        running: Mutex<HashMap<TenantId, String>>,
        applies: AtomicUsize,
        in_flight: AtomicUsize,
        peak: AtomicUsize,
        apply_delay: Duration,
    }

    #[async_trait]
    impl ConfigBackend for Memory {
        fn kind(&self) -> &'static str {
            "memory"
        }
        async fn apply(&self, d: &DesiredConfig) -> Result<()> {
            self.applies.fetch_add(1, Ordering::SeqCst);
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(self.apply_delay).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            if d.config.contains("INVALID") {
                return Err(Error::ConfigRejected {
                    tenant: d.tenant.to_string(),
                    sync_id: d.sync_id.clone(),
                    message: "bad".into(),
                });
            }
            if !d.config.contains("NEVER") {
                self.running
                    .lock()
                    .unwrap()
                    .insert(d.tenant.clone(), d.config.clone());
            }
            Ok(())
        }
        async fn is_live(&self, d: &DesiredConfig) -> Result<bool> {
            Ok(self.running.lock().unwrap().get(&d.tenant) == Some(&d.config))
        }
        async fn is_stored(&self, d: &DesiredConfig) -> Result<bool> {
            self.is_live(d).await
        }
        async fn remove(&self, t: &TenantId) -> Result<()> {
            self.running.lock().unwrap().remove(t);
            Ok(())
        }
        async fn running(&self, t: &TenantId) -> Result<Option<String>> {
            Ok(self.running.lock().unwrap().get(t).cloned())
        }
    }

    fn desired(t: &str, cfg: &str, id: &str) -> DesiredConfig {
        DesiredConfig::new(t, cfg, id).unwrap()
    }

    fn options(concurrency: usize) -> SyncOptions {
        SyncOptions {
            concurrency,
            live_timeout: Duration::from_secs(5),
            retry: Backoff {
                initial: Duration::from_secs(10),
                max: Duration::from_secs(40),
                multiplier: 2.0,
                max_attempts: u32::MAX,
                jitter: false,
            },
            ..SyncOptions::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_bounded() {
        let backend = Memory {
            apply_delay: Duration::from_millis(20),
            ..Memory::default()
        };
        let mut syncer = Syncer::with_options(&backend, options(4));
        let all: Vec<DesiredConfig> = (0..50)
            .map(|i| desired(&format!("t{i}"), &format!("c{i}"), "1"))
            .collect();
        let report = syncer.sync(&all).await;
        assert!(report.all_in_sync());
        assert_eq!(report.writes, 50);
        let peak = backend.peak.load(Ordering::SeqCst);
        assert!((2..=4).contains(&peak), "peak {peak}");
    }

    #[tokio::test(start_paused = true)]
    async fn failures_wait_longer_each_time() {
        let backend = Memory::default();
        let mut syncer = Syncer::with_options(&backend, options(1));
        let bad = [desired("t", "INVALID", "1")];
        let tries = |s: &Memory| s.applies.load(Ordering::SeqCst);

        assert_eq!(
            syncer.sync(&bad).await.tenants[0].state,
            TenantState::Failed
        );
        // Within the first backoff (10 s): nothing is sent, however often it runs.
        for _ in 0..5 {
            tokio::time::advance(Duration::from_secs(1)).await;
            assert_eq!(
                syncer.sync(&bad).await.tenants[0].state,
                TenantState::BackingOff
            );
        }
        assert_eq!(tries(&backend), 1);
        tokio::time::advance(Duration::from_secs(6)).await;
        let r = syncer.sync(&bad).await;
        assert_eq!(
            (r.tenants[0].state, r.tenants[0].failures),
            (TenantState::Failed, 2)
        );
        // The second backoff is 20 s.
        tokio::time::advance(Duration::from_secs(15)).await;
        assert_eq!(
            syncer.sync(&bad).await.tenants[0].state,
            TenantState::BackingOff
        );
        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(syncer.sync(&bad).await.tenants[0].failures, 3);
        assert_eq!(tries(&backend), 3);
        // The status keeps the last error without running anything.
        let status = syncer.status();
        assert_eq!(status[0].state, TenantState::BackingOff);
        assert!(matches!(
            status[0].last_error,
            Some(Error::ConfigRejected { .. })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_config_that_never_runs_is_reported_not_live() {
        let backend = Memory::default();
        let mut syncer = Syncer::with_options(&backend, options(1));
        let report = syncer.sync(&[desired("t", "NEVER", "1")]).await;
        let t = &report.tenants[0];
        assert_eq!(t.state, TenantState::Failed);
        match &t.last_error {
            Some(Error::NotLive {
                tenant,
                sync_id,
                waited,
                ..
            }) => {
                assert_eq!((tenant.as_str(), sync_id.as_str()), ("t", "1"));
                assert!(*waited >= Duration::from_secs(5));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(t.applied_sync_id, None);
    }

    #[tokio::test(start_paused = true)]
    async fn duplicate_tenants_take_the_last_and_known_tenants_are_removed() {
        let backend = Memory::default();
        let mut syncer = Syncer::with_options(&backend, options(2));
        syncer.assume_known(["old".parse().unwrap()]);
        assert_eq!(syncer.status()[0].state, TenantState::Pending);
        let report = syncer
            .sync(&[desired("t", "a", "1"), desired("t", "b", "2")])
            .await;
        assert_eq!(
            report.tenant("t").unwrap().applied_sync_id.as_deref(),
            Some("2")
        );
        assert_eq!(report.tenant("old").unwrap().state, TenantState::Removed);
        assert_eq!(
            backend
                .running
                .lock()
                .unwrap()
                .get(&"t".parse::<TenantId>().unwrap())
                .map(String::as_str),
            Some("b")
        );
    }

    #[test]
    fn builder_output_converts_with_its_sync_ids() {
        let spec: alert_core::AlertingSpec = serde_json::from_str(
            r#"{"endpoints": [{"id": "hook", "webhook": {"url": "http://127.0.0.1:9/hook"}}],
                "conditions": [{"id": "a", "tenant": "t1", "endpoints": ["hook"]},
                               {"id": "b", "tenant": "t2", "endpoints": ["hook"]}]}"#,
        )
        .unwrap();
        let configs =
            alert_router::builder::build(spec, alert_router::builder::BuildOptions::default())
                .unwrap();
        let ops: TenantId = "ops".parse().unwrap();
        let out = desired_configs(&configs, Some(&ops));
        assert_eq!(out.unbound, UnboundConfig::Absent);
        assert!(!out.unbound_left_out());
        assert_eq!(out.configs.len(), 2);
        for (d, c) in out.configs.iter().zip(&configs) {
            assert_eq!(Some(&d.tenant), c.tenant.tenant());
            assert_eq!(d.sync_id, alert_router::builder::sync_id(&d.config));
            assert_eq!((&d.config, &d.sync_id), (&c.yaml, &c.sync_id));
        }
        assert_eq!(desired_configs(&[], None), DesiredConfigs::default());
    }

    #[tokio::test(start_paused = true)]
    async fn run_syncs_on_change_and_stops_with_the_sender() {
        let backend = Arc::new(Memory::default());
        let syncer = Syncer::with_options(Arc::clone(&backend), options(2));
        let (tx, rx) = tokio::sync::watch::channel(vec![desired("t", "a", "1")]);
        let (report_tx, mut reports) = tokio::sync::watch::channel(SyncReport::default());
        let task = tokio::spawn(syncer.run(rx, Duration::from_secs(60), report_tx));
        reports.changed().await.unwrap();
        assert_eq!(
            reports.borrow_and_update().tenants[0]
                .applied_sync_id
                .as_deref(),
            Some("1")
        );
        tx.send(vec![desired("t", "b", "2")]).unwrap();
        reports.changed().await.unwrap();
        assert_eq!(
            reports.borrow_and_update().tenants[0]
                .applied_sync_id
                .as_deref(),
            Some("2")
        );
        drop(tx);
        task.await.unwrap();
        assert_eq!(backend.applies.load(Ordering::SeqCst), 2);
    }
}
