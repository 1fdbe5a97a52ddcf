//! The control plane (`--target control-plane`): keeps every tenant's alerting rules and
//! Alertmanager configuration live, from the data plane's store, while it leads.
//!
//! One replica leads (an [`Elector`] on the store, election [`ELECTION`]); the others
//! wait. The leader:
//!
//! 1. reads the store at one revision and builds every tenant: routes and receivers with
//!    `alert_router::builder` (SLOs route as conditions with their id), rules with
//!    `alert_router::rules` (one group per condition or SLO, one file per tenant);
//! 2. applies what differs from what the backends run (a restarted control plane
//!    rewrites nothing that is already live);
//! 3. watches the store from that revision, and on each change rebuilds only the
//!    tenants it touches (the builder's incremental path) and applies only those.
//!
//! "Applied" means **observed live**: a rule backend shows exactly the tenant's groups
//! ([`RuleBackend::confirm`]); an Alertmanager runs the configuration
//! ([`ConfigBackend::is_live`]: `/api/v2/status` `config.original` on every member, or
//! the tenant's configuration API for Cortex/Mimir). The time from a change arriving to
//! it being live is the `alert_gateway_control_plane_time_to_live_seconds` histogram.
//!
//! **Where configurations go** ([`AlertmanagerSink`]): a vanilla Alertmanager is not
//! multi-tenant, so it gets one combined configuration (`Builder::combined`: one subtree
//! per tenant matched on the `tenant` label every generated rule sets); Cortex and Mimir
//! get one configuration per tenant through their API.
//!
//! **Bad tenants stay contained.** A document the builder refuses (an invalid route, a
//! `group_wait` the cluster cannot honour) is quarantined: the tenants it touches keep
//! what they had and report the error, and it is tried again with backoff or when it
//! changes. A tenant whose rules or configuration a backend refuses keeps its last
//! working ones (the backends restore them), reports the error and is retried with
//! backoff; other tenants go on. On a shared Alertmanager one refused combined
//! configuration would hold back every tenant, so the leader then replays the changes
//! since the last working configuration one at a time and quarantines only the ones
//! Alertmanager refuses.
//!
//! **Fencing.** Every report the leader writes to the store carries its fence
//! ([`Leadership::fence`]); before applying anything it writes the tenants' reports
//! (`applying`), so a deposed leader that resumes (a SIGSTOP, a long pause) has its first
//! write refused and stops before it touches a backend. The backends themselves cannot
//! check a fence: between that write and the backend call there is a window of one
//! store round trip.
//!
//! Reports live in the store (collection `tenants`, [`report::TenantReport`]), so any
//! replica serves `GET /api/v1/tenants` ([`report::routes`]).

pub mod report;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use alert_core::{AlertCondition, AlertEndpoint, Slo, TenantId, Timestamp};
use alert_cortex_adapter::{
    Backoff, ConfigBackend, DesiredConfig, RuleBackend, SyncOptions, wait_live,
};
use alert_router::builder::{BuildOptions, Builder, TenantKey};
use alert_router::rules::{RuleFile, RuleGroup, condition_group, slo_group};
use futures::{FutureExt, StreamExt};
use tokio::time::{Instant, sleep, sleep_until};

use crate::election::{Elector, Leadership, TermMark, run_while_leading};
use crate::metrics::Metrics;
use crate::store::{Event, Expect, Key, Kind, Op, Revision, SharedStore, StoreError, Txn};

pub use report::{TenantReport, TenantState};

/// The most tenant reports one store transaction carries: below etcd's default
/// `--max-txn-ops` (128), with room for the fence's compare.
pub const REPORTS_PER_TXN: usize = 100;

/// The election the control-plane replicas campaign in.
pub const ELECTION: &str = "control-plane";

/// The key a vanilla Alertmanager's one combined configuration is filed under in its
/// [`ConfigBackend`] (a `FileReloadBackend` target list).
pub const SHARED_CONFIG: &str = "alertmanager";

/// Where Alertmanager configurations go.
pub enum AlertmanagerSink {
    /// A vanilla Alertmanager (one member or an HA set reading their files): one
    /// combined configuration, filed under [`SHARED_CONFIG`].
    Shared {
        /// The file + reload backend with targets for [`SHARED_CONFIG`].
        backend: Arc<dyn ConfigBackend>,
        /// The members' API URLs, for reports (credentials removed).
        members: Vec<String>,
    },
    /// Cortex or Mimir: one configuration per tenant.
    PerTenant {
        /// The tenant configuration API backend.
        backend: Arc<dyn ConfigBackend>,
        /// The tenant the conditions bound to no tenant go to (`None`: they are left
        /// out, and their report says so).
        unbound: Option<TenantId>,
        /// The API's URL, for reports (credentials removed).
        url: String,
    },
}

impl std::fmt::Debug for AlertmanagerSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AlertmanagerSink::Shared { backend, members } => f
                .debug_struct("Shared")
                .field("backend", &backend.kind())
                .field("members", members)
                .finish(),
            AlertmanagerSink::PerTenant {
                backend,
                unbound,
                url,
            } => f
                .debug_struct("PerTenant")
                .field("backend", &backend.kind())
                .field("unbound", unbound)
                .field("url", url)
                .finish(),
        }
    }
}

/// How the control plane works.
pub struct ControlPlaneOptions {
    /// What the builder is told: the history webhook, a base configuration, endpoint
    /// test routes, the cluster's timing (for the `group_wait` check).
    pub build: BuildOptions,
    /// Where Alertmanager configurations go (`None`: nowhere).
    pub alertmanager: Option<AlertmanagerSink>,
    /// Where rules go (`None`: nowhere).
    pub rules: Option<Arc<dyn RuleBackend>>,
    /// How long an applied change may take to be seen live before the tenant is
    /// reported failed.
    pub live_timeout: Duration,
    /// The pauses before a failed tenant or a quarantined document is tried again.
    pub retry: Backoff,
    /// Tenants applied at once.
    pub concurrency: usize,
}

impl Default for ControlPlaneOptions {
    /// No backends; 30 s to go live; retries from 1 s up to 5 min; 8 tenants at once.
    fn default() -> Self {
        ControlPlaneOptions {
            build: BuildOptions::default(),
            alertmanager: None,
            rules: None,
            live_timeout: Duration::from_secs(30),
            retry: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(300),
                multiplier: 2.0,
                max_attempts: u32::MAX,
                jitter: true,
            },
            concurrency: 8,
        }
    }
}

/// The control plane over one store.
pub struct ControlPlane {
    store: SharedStore,
    options: ControlPlaneOptions,
    metrics: Arc<Metrics>,
    holder: String,
}

/// Why a term of leadership ended.
#[derive(Debug)]
enum TermEnd {
    /// The lead is gone (lost, or a fenced write was refused).
    Lost,
    /// The state must be read again (the watch fell behind a compaction, the store
    /// failed); the lead is kept.
    Restart(String),
}

impl From<StoreError> for TermEnd {
    fn from(e: StoreError) -> TermEnd {
        match e {
            StoreError::Fenced { .. } => TermEnd::Lost,
            other => TermEnd::Restart(other.to_string()),
        }
    }
}

impl ControlPlane {
    /// A control plane; `holder` names this replica in the election and the reports.
    pub fn new(
        store: SharedStore,
        options: ControlPlaneOptions,
        metrics: Arc<Metrics>,
        holder: impl Into<String>,
    ) -> ControlPlane {
        ControlPlane {
            store,
            options,
            metrics,
            holder: holder.into(),
        }
    }

    /// Campaigns in [`ELECTION`] and reconciles while leading, for ever (until the
    /// store fails to run elections at all).
    pub async fn run(self: Arc<Self>, elector: Elector) -> Result<(), StoreError> {
        run_while_leading(elector, |lead| {
            let me = Arc::clone(&self);
            async move { me.lead(lead).await }
        })
        .await
    }

    /// Reconciles for one term of leadership; returns when the lead is lost.
    pub async fn lead(&self, lead: Arc<Leadership>) {
        tracing::info!(term = lead.term(), holder = %self.holder, "control plane leads");
        let _leading = TermMark::new("control plane", lead.term(), |leads| {
            self.metrics.control_plane_leader(leads);
        });
        let mut pause = Duration::from_millis(200);
        while lead.is_current() {
            let builder = match Builder::new(self.options.build.clone()) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "the build options are refused: the control plane cannot build");
                    break;
                }
            };
            let mut term = Term::new(self, Arc::clone(&lead), builder);
            match term.run().await {
                TermEnd::Lost => break,
                TermEnd::Restart(why) => {
                    tracing::warn!(reason = %why, "control plane reads the store again");
                    sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

/// A document the builder (or a shared Alertmanager) refused: the tenants it touches
/// keep what they had.
#[derive(Debug, Clone)]
struct Quarantined {
    /// The value that was refused (`None`: a deletion).
    desired: Option<String>,
    error: String,
    tenants: BTreeSet<TenantKey>,
    failures: u32,
    retry_at: Instant,
}

/// A change applied to the builder since the shared configuration last went live.
#[derive(Debug, Clone)]
struct Change {
    key: Key,
    old: Option<String>,
    new: Option<String>,
}

/// What the leader knows about a tenant besides the builder's rendering.
#[derive(Debug, Clone, Default)]
struct TenantRecord {
    applied_sync_id: Option<String>,
    rules_confirmed: bool,
    last_error: Option<String>,
    failures: u32,
    retry_at: Option<Instant>,
    last_applied: Option<Timestamp>,
    /// When the oldest change not yet live for the tenant arrived.
    waiting_since: Option<Instant>,
    reported: bool,
}

/// One term of leadership: the built state and the reconcile loop.
struct Term<'a> {
    plane: &'a ControlPlane,
    lead: Arc<Leadership>,
    builder: Builder,
    /// The documents the builder holds, by key.
    docs: HashMap<Key, String>,
    /// The tenant whose rule file holds each condition's or SLO's group.
    rule_owner: HashMap<Key, TenantKey>,
    rules: BTreeMap<TenantKey, BTreeMap<(u8, String), RuleGroup>>,
    quarantine: BTreeMap<Key, Quarantined>,
    tenants: BTreeMap<TenantKey, TenantRecord>,
    /// Tenants with a change to apply.
    dirty: BTreeSet<TenantKey>,
    /// Shared Alertmanager: the sync id confirmed running, and the changes since.
    shared_applied: Option<String>,
    shared_changes: Vec<Change>,
    shared_retry_at: Option<Instant>,
    shared_failures: u32,
    /// The shared configuration must be checked (a new term, whatever the tenants).
    shared_pending: bool,
    revision: Revision,
}

fn order_of(kind: Kind) -> u8 {
    match kind {
        Kind::Slo => 1,
        _ => 0,
    }
}

fn tenant_of_key(tenant: &TenantKey) -> Option<&str> {
    tenant.tenant().map(TenantId::as_str)
}

impl<'a> Term<'a> {
    fn new(plane: &'a ControlPlane, lead: Arc<Leadership>, builder: Builder) -> Term<'a> {
        Term {
            plane,
            lead,
            builder,
            docs: HashMap::new(),
            rule_owner: HashMap::new(),
            rules: BTreeMap::new(),
            quarantine: BTreeMap::new(),
            tenants: BTreeMap::new(),
            dirty: BTreeSet::new(),
            shared_applied: None,
            shared_changes: Vec::new(),
            shared_retry_at: None,
            shared_failures: 0,
            shared_pending: true,
            revision: 0,
        }
    }

    fn options(&self) -> &ControlPlaneOptions {
        &self.plane.options
    }

    async fn run(&mut self) -> TermEnd {
        match self.run_inner().await {
            Ok(()) => TermEnd::Lost,
            Err(end) => end,
        }
    }

    async fn run_inner(&mut self) -> Result<(), TermEnd> {
        self.load().await?;
        let mut watch = self.plane.store.watch(self.revision).await?;
        let lost = self.lead.lost_signal();
        tokio::pin!(lost);
        loop {
            if !self.lead.is_current() {
                return Err(TermEnd::Lost);
            }
            self.reconcile().await?;
            let wake = self.next_retry();
            tokio::select! {
                event = watch.next() => match event {
                    Some(Ok(e)) => {
                        let arrived = Instant::now();
                        self.on_event(e, arrived);
                        while let Some(Some(next)) = watch.next().now_or_never() {
                            match next {
                                Ok(e) => self.on_event(e, arrived),
                                Err(e) => return Err(e.into()),
                            }
                        }
                    }
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(TermEnd::Restart("the store's watch ended".into())),
                },
                () = sleep_until(wake) => {}
                () = &mut lost => return Err(TermEnd::Lost),
            }
        }
    }

    /// Reads every document at one revision into the builder and rules; every tenant is
    /// dirty (what is already live is left alone by the backends' checks).
    async fn load(&mut self) -> Result<(), TermEnd> {
        let store = &self.plane.store;
        let first = store.list(Kind::Endpoint, None).await?;
        let revision = first.revision;
        let mut records = first.records;
        for kind in [Kind::Condition, Kind::Slo, Kind::Tenant] {
            records.extend(store.list(kind, Some(revision)).await?.records);
        }
        self.revision = revision;
        let mut reported = BTreeSet::new();
        let started = Instant::now();
        for record in records {
            if record.key.kind == Kind::Tenant {
                reported.insert(record.key.id.clone());
                continue;
            }
            self.accept(record.key, Some(record.value), None, started);
        }
        // Tenants a previous leader reported that no document names any more: their
        // rules and configuration are removed.
        for id in reported {
            let key = if id == report::UNBOUND_REPORT_ID {
                TenantKey::Unbound
            } else {
                match TenantId::new(id.as_str()) {
                    Ok(t) => TenantKey::Tenant(t),
                    Err(_) => continue,
                }
            };
            let record = self.tenants.entry(key.clone()).or_default();
            record.reported = true;
            self.dirty.insert(key);
        }
        for key in self.all_tenants() {
            self.dirty.insert(key);
        }
        self.plane.metrics.revision(revision);
        tracing::info!(
            revision,
            tenants = self.dirty.len(),
            "control plane loaded the store"
        );
        Ok(())
    }

    fn all_tenants(&self) -> BTreeSet<TenantKey> {
        let mut out: BTreeSet<TenantKey> =
            self.builder.tenants().map(|t| t.tenant.clone()).collect();
        out.extend(self.rules.keys().cloned());
        out.extend(self.tenants.keys().cloned());
        out
    }

    fn on_event(&mut self, event: Event, arrived: Instant) {
        self.revision = self.revision.max(event.revision);
        self.plane.metrics.revision(event.revision);
        if !event.key.kind.is_spec() {
            return;
        }
        // A new value supersedes a quarantined one.
        self.quarantine.remove(&event.key);
        self.accept(event.key, event.value, None, arrived);
    }

    /// Applies a document change to the builder and the rules, or quarantines it.
    /// `retry` is the quarantine record being retried.
    fn accept(
        &mut self,
        key: Key,
        value: Option<String>,
        retry: Option<Quarantined>,
        arrived: Instant,
    ) {
        let old = self.docs.get(&key).cloned();
        if old == value {
            return;
        }
        match self.apply_doc(&key, value.as_deref()) {
            Ok(touched) => {
                for t in touched {
                    let record = self.tenants.entry(t.clone()).or_default();
                    record.waiting_since.get_or_insert(arrived);
                    self.dirty.insert(t);
                }
                if matches!(
                    self.options().alertmanager,
                    Some(AlertmanagerSink::Shared { .. })
                ) {
                    self.shared_changes.push(Change {
                        key: key.clone(),
                        old,
                        new: value.clone(),
                    });
                }
                if key.kind == Kind::Endpoint {
                    // Documents held back by this endpoint may pass now.
                    for q in self.quarantine.values_mut() {
                        q.retry_at = arrived;
                    }
                }
                match value {
                    Some(v) => self.docs.insert(key, v),
                    None => self.docs.remove(&key),
                };
            }
            Err((error, tenants)) => self.quarantine_doc(key, value, error, tenants, retry),
        }
    }

    fn quarantine_doc(
        &mut self,
        key: Key,
        desired: Option<String>,
        error: String,
        tenants: BTreeSet<TenantKey>,
        retry: Option<Quarantined>,
    ) {
        let failures = retry.map_or(0, |q| q.failures) + 1;
        let wait = self.options().retry.delay(failures);
        tracing::warn!(key = %key, error = %error, retry_in = ?wait, "document quarantined: its tenants keep their last working configuration");
        // A condition or SLO attaching a quarantined endpoint fails for the endpoint's
        // reason: say that one.
        let held_by = desired.as_deref().and_then(|v| {
            attached_endpoints(key.kind, v)
                .into_iter()
                .filter_map(|id| Key::new(Kind::Endpoint, id).ok())
                .find(|k| self.quarantine.contains_key(k))
        });
        let message = match held_by.and_then(|k| self.quarantine.get_mut(&k).map(|q| (k, q))) {
            Some((endpoint, q)) => {
                q.tenants.extend(tenants.iter().cloned());
                format!("{key} attaches {endpoint}, which is held back: {}", q.error)
            }
            None => format!("{key}: {error}"),
        };
        for t in &tenants {
            let record = self.tenants.entry(t.clone()).or_default();
            record.last_error = Some(message.clone());
            record.failures = record.failures.saturating_add(1);
            self.dirty.insert(t.clone());
        }
        self.quarantine.insert(
            key,
            Quarantined {
                desired,
                error: message,
                tenants,
                failures,
                retry_at: Instant::now() + wait,
            },
        );
    }

    /// The builder and rule changes of one document. On error, the builder is unchanged
    /// and the error names the tenants it would have touched.
    fn apply_doc(
        &mut self,
        key: &Key,
        value: Option<&str>,
    ) -> Result<BTreeSet<TenantKey>, (String, BTreeSet<TenantKey>)> {
        let mut touched = BTreeSet::new();
        let decode_err =
            |e: serde_json::Error| (format!("unreadable document: {e}"), BTreeSet::new());
        match key.kind {
            Kind::Endpoint => {
                let id = key
                    .id
                    .parse()
                    .map_err(|e: alert_core::Error| (e.to_string(), BTreeSet::new()))?;
                let users: BTreeSet<TenantKey> = self.builder.tenants_using(&id).cloned().collect();
                let changes = match value {
                    Some(v) => {
                        let endpoint: AlertEndpoint =
                            serde_json::from_str(v).map_err(decode_err)?;
                        self.builder.upsert_endpoint(endpoint)
                    }
                    None => self.builder.remove_endpoint(&id),
                }
                .map_err(|e| (e.to_string(), users))?;
                touched.extend(changes.into_iter().map(|c| c.tenant));
            }
            Kind::Condition | Kind::Slo => {
                let (routed, group, tenant) = match value {
                    Some(v) if key.kind == Kind::Condition => {
                        let c: AlertCondition = serde_json::from_str(v).map_err(decode_err)?;
                        let tenant = TenantKey::of(c.tenant.as_ref());
                        (Some(c.clone()), condition_group(&c), Some(tenant))
                    }
                    Some(v) => {
                        let s: Slo = serde_json::from_str(v).map_err(decode_err)?;
                        let tenant = TenantKey::Tenant(s.tenant.clone());
                        (Some(s.routing_condition()), slo_group(&s), Some(tenant))
                    }
                    None => (None, None, None),
                };
                let previous = self.rule_owner.get(key).cloned();
                let mut tenants: BTreeSet<TenantKey> = previous.iter().cloned().collect();
                tenants.extend(tenant.iter().cloned());
                let id = key
                    .id
                    .parse()
                    .map_err(|e: alert_core::Error| (e.to_string(), tenants.clone()))?;
                let changes = match routed {
                    Some(c) => self.builder.upsert_condition(c),
                    None => self.builder.remove_condition(&id),
                }
                .map_err(|e| (e.to_string(), tenants.clone()))?;
                touched.extend(changes.into_iter().map(|c| c.tenant));
                // Rules follow the accepted document.
                let slot = (order_of(key.kind), key.id.clone());
                if let Some(prev) = previous {
                    if let Some(groups) = self.rules.get_mut(&prev)
                        && groups.remove(&slot).is_some()
                    {
                        touched.insert(prev.clone());
                    }
                    self.rule_owner.remove(key);
                }
                if let (Some(group), Some(t)) = (group, tenant) {
                    self.rules.entry(t.clone()).or_default().insert(slot, group);
                    self.rule_owner.insert(key.clone(), t.clone());
                    touched.insert(t);
                }
            }
            Kind::Tenant | Kind::Agent | Kind::Evaluation => {}
        }
        Ok(touched)
    }

    fn next_retry(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let tenants = self.tenants.values().filter_map(|r| r.retry_at);
        let docs = self.quarantine.values().map(|q| q.retry_at);
        tenants
            .chain(docs)
            .chain(self.shared_retry_at)
            .min()
            .unwrap_or(far)
            .min(far)
    }

    fn rule_file(&self, tenant: &TenantKey) -> RuleFile {
        RuleFile {
            groups: self
                .rules
                .get(tenant)
                .map(|g| g.values().cloned().collect())
                .unwrap_or_default(),
        }
    }

    /// One round: retries what is due, applies every dirty tenant, reports.
    async fn reconcile(&mut self) -> Result<(), TermEnd> {
        let now = Instant::now();
        // Quarantined documents whose backoff ended are tried again.
        let due: Vec<Key> = self
            .quarantine
            .iter()
            .filter(|(_, q)| q.retry_at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            if let Some(q) = self.quarantine.remove(&key) {
                let desired = q.desired.clone();
                self.accept(key, desired, Some(q), now);
            }
        }
        for (key, record) in &mut self.tenants {
            if record.retry_at.is_some_and(|at| at <= now) {
                record.retry_at = None;
                self.dirty.insert(key.clone());
            }
        }
        let shared_due = self.shared_pending || self.shared_retry_at.is_some_and(|at| at <= now);
        self.shared_pending = false;
        if self.dirty.is_empty() && !shared_due {
            return Ok(());
        }
        let dirty: Vec<TenantKey> = std::mem::take(&mut self.dirty).into_iter().collect();

        // The fence first: a deposed leader stops here.
        self.write_reports(&dirty, true).await?;

        // Rules and configurations go to different backends: both at once.
        let rule_work: Vec<(TenantKey, RuleFile)> = dirty
            .iter()
            .map(|t| (t.clone(), self.rule_file(t)))
            .collect();
        let rules = apply_rules(
            self.options().rules.clone(),
            rule_work,
            self.options().concurrency,
            self.options().live_timeout,
        );
        let (rule_results, am_results) =
            tokio::join!(rules, self.apply_alertmanager(&dirty, shared_due));
        let am_results = am_results?;

        let stamp = Timestamp::from_jiff(jiff::Timestamp::now());
        let mut gone = Vec::new();
        for tenant in &dirty {
            let mut errors: Vec<String> = Vec::new();
            if let Some(Err(e)) = rule_results.get(tenant) {
                errors.push(e.clone());
            }
            if let Some(Err(e)) = am_results.get(tenant) {
                errors.push(e.clone());
            }
            errors.extend(
                self.quarantine
                    .values()
                    .filter(|q| q.tenants.contains(tenant))
                    .map(|q| q.error.clone()),
            );
            let desired = self.builder.tenant(tenant).map(|c| c.sync_id.clone());
            let exists = desired.is_some() || self.rules.get(tenant).is_some_and(|g| !g.is_empty());
            let retry = self.options().retry;
            let metrics = Arc::clone(&self.plane.metrics);
            let record = self.tenants.entry(tenant.clone()).or_default();
            if errors.is_empty() {
                record.failures = 0;
                record.last_error = None;
                record.retry_at = None;
                record.last_applied = Some(stamp);
                record.applied_sync_id = desired.clone();
                record.rules_confirmed = true;
                if let Some(since) = record.waiting_since.take() {
                    metrics.control_plane_live(since.elapsed());
                }
                if !exists {
                    gone.push(tenant.clone());
                }
            } else {
                record.failures = record.failures.saturating_add(1);
                record.last_error = Some(errors.join("; "));
                record.retry_at = Some(Instant::now() + retry.delay(record.failures));
                record.rules_confirmed = !rule_results.get(tenant).is_some_and(Result::is_err);
                metrics.control_plane_failure();
            }
        }
        self.write_reports(&dirty, false).await?;
        self.remove_reports(&gone).await?;
        for t in gone {
            self.tenants.remove(&t);
        }
        self.plane.metrics.control_plane_failing(
            self.tenants
                .values()
                .filter(|r| r.last_error.is_some())
                .count(),
        );
        Ok(())
    }

    async fn apply_alertmanager(
        &mut self,
        dirty: &[TenantKey],
        shared_due: bool,
    ) -> Result<HashMap<TenantKey, Result<(), String>>, TermEnd> {
        let live_timeout = self.options().live_timeout;
        match &self.options().alertmanager {
            None => Ok(HashMap::new()),
            Some(AlertmanagerSink::PerTenant {
                backend, unbound, ..
            }) => {
                let backend = Arc::clone(backend);
                let unbound = unbound.clone();
                let work: Vec<(TenantKey, Option<DesiredConfig>)> = dirty
                    .iter()
                    .map(|t| {
                        let desired = self.builder.tenant(t).and_then(|c| {
                            DesiredConfig::new(
                                match t {
                                    TenantKey::Tenant(id) => id.as_str().to_owned(),
                                    TenantKey::Unbound => unbound.as_ref()?.as_str().to_owned(),
                                },
                                c.yaml.clone(),
                                c.sync_id.clone(),
                            )
                            .ok()
                        });
                        (t.clone(), desired)
                    })
                    .collect();
                let known: BTreeSet<TenantKey> = self.tenants.keys().cloned().collect();
                let results = futures::stream::iter(work)
                    .map(|(tenant, desired)| {
                        let backend = Arc::clone(&backend);
                        let unbound = unbound.clone();
                        let known = known.contains(&tenant);
                        async move {
                            let result = match (&tenant, desired) {
                                (_, Some(d)) => {
                                    apply_config(backend.as_ref(), &d, live_timeout).await
                                }
                                (TenantKey::Unbound, None) if unbound.is_none() => Ok(()),
                                (TenantKey::Tenant(id), None) if known => backend
                                    .remove(id)
                                    .await
                                    .map_err(|e| alert_core::redact_urls(&e.to_string())),
                                _ => Ok(()),
                            };
                            (tenant, result)
                        }
                    })
                    .buffer_unordered(self.options().concurrency.max(1))
                    .collect()
                    .await;
                Ok(results)
            }
            Some(AlertmanagerSink::Shared { backend, .. }) => {
                let backend = Arc::clone(backend);
                let result = self
                    .apply_shared(backend.as_ref(), live_timeout, shared_due)
                    .await;
                Ok(match result {
                    Ok(()) => HashMap::new(),
                    Err(e) => {
                        // Every tenant waiting on the shared configuration failed with it.
                        dirty.iter().map(|t| (t.clone(), Err(e.clone()))).collect()
                    }
                })
            }
        }
    }

    /// The combined configuration for a shared Alertmanager. When Alertmanager refuses
    /// it, the changes since the last working one are replayed one at a time, and those
    /// Alertmanager refuses are quarantined (their tenants keep what they had).
    async fn apply_shared(
        &mut self,
        backend: &dyn ConfigBackend,
        live_timeout: Duration,
        due: bool,
    ) -> Result<(), String> {
        if due {
            self.shared_retry_at = None;
        }
        match self.try_shared(backend, live_timeout).await {
            Ok(()) => {
                self.shared_changes.clear();
                self.shared_failures = 0;
                Ok(())
            }
            Err(SharedFailure::Rejected(message)) => {
                let changes = std::mem::take(&mut self.shared_changes);
                tracing::warn!(changes = changes.len(), error = %message, "Alertmanager refused the combined configuration: isolating the change it refuses");
                // Undo every change since the last working configuration.
                for change in changes.iter().rev() {
                    self.revert(change);
                }
                // Replay them one at a time.
                for change in changes {
                    let touched = match self.apply_doc(&change.key, change.new.as_deref()) {
                        Ok(t) => t,
                        Err((error, tenants)) => {
                            self.quarantine_doc(change.key, change.new, error, tenants, None);
                            continue;
                        }
                    };
                    self.set_doc(&change.key, change.new.clone());
                    match self.try_shared(backend, live_timeout).await {
                        Ok(()) => {}
                        Err(SharedFailure::Rejected(error)) => {
                            self.revert(&change);
                            self.quarantine_doc(change.key, change.new, error, touched, None);
                        }
                        Err(SharedFailure::Other(error)) => {
                            self.revert(&change);
                            return Err(self.shared_failed(error));
                        }
                    }
                }
                // What the others make is live again; the quarantined are reported.
                self.try_shared(backend, live_timeout)
                    .await
                    .map_err(|e| match e {
                        SharedFailure::Rejected(m) | SharedFailure::Other(m) => m,
                    })
            }
            Err(SharedFailure::Other(error)) => Err(self.shared_failed(error)),
        }
    }

    fn shared_failed(&mut self, error: String) -> String {
        self.shared_failures = self.shared_failures.saturating_add(1);
        self.shared_retry_at =
            Some(Instant::now() + self.options().retry.delay(self.shared_failures));
        error
    }

    fn set_doc(&mut self, key: &Key, value: Option<String>) {
        match value {
            Some(v) => self.docs.insert(key.clone(), v),
            None => self.docs.remove(key),
        };
    }

    fn revert(&mut self, change: &Change) {
        if let Err((e, _)) = self.apply_doc(&change.key, change.old.as_deref()) {
            tracing::error!(key = %change.key, error = %e, "cannot restore the previous document");
        }
        self.set_doc(&change.key, change.old.clone());
    }

    async fn try_shared(
        &mut self,
        backend: &dyn ConfigBackend,
        live_timeout: Duration,
    ) -> Result<(), SharedFailure> {
        let combined = self
            .builder
            .combined()
            .map_err(|e| SharedFailure::Other(e.to_string()))?;
        if self.shared_applied.as_deref() == Some(combined.sync_id.as_str()) {
            return Ok(());
        }
        let desired = DesiredConfig::new(SHARED_CONFIG, combined.yaml, combined.sync_id.clone())
            .map_err(|e| SharedFailure::Other(e.to_string()))?;
        // A restarted leader finds the configuration already live and writes nothing.
        if self.shared_applied.is_none()
            && matches!(backend.is_stored(&desired).await, Ok(true))
            && matches!(backend.is_live(&desired).await, Ok(true))
        {
            self.shared_applied = Some(combined.sync_id);
            return Ok(());
        }
        match backend.apply(&desired).await {
            Ok(()) => {}
            Err(alert_cortex_adapter::Error::ConfigRejected { message, .. }) => {
                return Err(SharedFailure::Rejected(alert_core::redact_urls(&message)));
            }
            Err(e) => {
                return Err(SharedFailure::Other(alert_core::redact_urls(
                    &e.to_string(),
                )));
            }
        }
        wait_until_live(backend, &desired, live_timeout)
            .await
            .map_err(SharedFailure::Other)?;
        self.shared_applied = Some(combined.sync_id);
        Ok(())
    }

    fn report(&self, tenant: &TenantKey, applying: bool) -> TenantReport {
        let record = self.tenants.get(tenant).cloned().unwrap_or_default();
        let desired = self.builder.tenant(tenant).map(|c| c.sync_id.clone());
        let state = if applying {
            TenantState::Applying
        } else if record.last_error.is_some() {
            TenantState::Failed
        } else {
            TenantState::InSync
        };
        let alertmanager = self.options().alertmanager.as_ref().map(|sink| match sink {
            AlertmanagerSink::Shared { backend, members } => report::AlertmanagerReport {
                backend: backend.kind().to_owned(),
                layout: "shared".into(),
                desired_config_sync_id: self.shared_applied.clone(),
                members: members
                    .iter()
                    .map(|m| report::MemberReport {
                        member: m.clone(),
                        applied_sync_id: record.applied_sync_id.clone(),
                    })
                    .collect(),
            },
            AlertmanagerSink::PerTenant { backend, url, .. } => report::AlertmanagerReport {
                backend: backend.kind().to_owned(),
                layout: "tenant".into(),
                desired_config_sync_id: desired.clone(),
                members: vec![report::MemberReport {
                    member: url.clone(),
                    applied_sync_id: record.applied_sync_id.clone(),
                }],
            },
        });
        let rules = self.options().rules.as_ref().map(|b| report::RulesReport {
            backend: b.kind().to_owned(),
            groups: self
                .rules
                .get(tenant)
                .map(|g| g.values().map(|g| g.name.clone()).collect())
                .unwrap_or_default(),
            confirmed: record.rules_confirmed && !applying,
        });
        TenantReport {
            tenant: tenant_of_key(tenant).map(str::to_owned),
            state,
            desired_sync_id: desired,
            applied_sync_id: record.applied_sync_id.clone(),
            alertmanager,
            rules,
            last_error: record.last_error.clone(),
            failures: record.failures,
            last_applied: record.last_applied.map(|t| t.to_string()),
            revision: self.revision,
            leader: self.plane.holder.clone(),
            term: self.lead.term(),
        }
    }

    /// Writes the reports of `tenants` in one fenced transaction.
    async fn write_reports(
        &mut self,
        tenants: &[TenantKey],
        applying: bool,
    ) -> Result<(), TermEnd> {
        let mut ops = Vec::with_capacity(tenants.len());
        for tenant in tenants {
            let report = self.report(tenant, applying);
            let value = serde_json::to_string(&report)
                .map_err(|e| TermEnd::Restart(format!("report: {e}")))?;
            let key = Key::new(Kind::Tenant, TenantReport::store_id(tenant_of_key(tenant)))?;
            ops.push(Op::Put {
                key,
                value,
                expect: Expect::Any,
            });
            self.tenants.entry(tenant.clone()).or_default().reported = true;
        }
        self.fenced(ops).await
    }

    async fn remove_reports(&mut self, tenants: &[TenantKey]) -> Result<(), TermEnd> {
        let mut ops = Vec::new();
        for tenant in tenants {
            if self.tenants.get(tenant).is_some_and(|r| r.reported) {
                let key = Key::new(Kind::Tenant, TenantReport::store_id(tenant_of_key(tenant)))?;
                ops.push(Op::Delete {
                    key,
                    expect: Expect::Any,
                });
            }
        }
        self.fenced(ops).await
    }

    /// Writes `ops` under the leader's fence, [`REPORTS_PER_TXN`] at a time (etcd refuses
    /// a transaction of more than `--max-txn-ops`, 128 by default; each chunk is fenced,
    /// so none lands once a newer term exists).
    async fn fenced(&self, ops: Vec<Op>) -> Result<(), TermEnd> {
        let mut ops = ops;
        while !ops.is_empty() {
            let rest = ops.split_off(ops.len().min(REPORTS_PER_TXN));
            let txn = Txn::new(std::mem::replace(&mut ops, rest)).fenced(Some(self.lead.fence()));
            match self.plane.store.txn(txn).await {
                Ok(_) => {}
                Err(StoreError::Fenced { .. }) => {
                    self.plane.metrics.control_plane_fenced();
                    tracing::warn!(
                        term = self.lead.term(),
                        "a newer leader exists: this replica's write was refused"
                    );
                    return Err(TermEnd::Lost);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// The endpoint ids a condition's or SLO's document attaches (none when unreadable).
fn attached_endpoints(kind: Kind, value: &str) -> Vec<String> {
    let ids = match kind {
        Kind::Condition => serde_json::from_str::<AlertCondition>(value)
            .map(|c| c.endpoint_ids().map(|e| e.as_str().to_owned()).collect()),
        Kind::Slo => serde_json::from_str::<Slo>(value)
            .map(|s| s.endpoint_ids().map(|e| e.as_str().to_owned()).collect()),
        _ => return Vec::new(),
    };
    ids.unwrap_or_default()
}

enum SharedFailure {
    /// Alertmanager refused the configuration (it keeps running the previous one).
    Rejected(String),
    /// Anything else: unreachable, not live in time.
    Other(String),
}

/// Rules for each tenant, applied and confirmed; an empty file removes them. Tenants
/// the backend already shows as desired (asked all at once: a new leader's first round
/// covers every tenant) are not written.
async fn apply_rules(
    backend: Option<Arc<dyn RuleBackend>>,
    work: Vec<(TenantKey, RuleFile)>,
    concurrency: usize,
    live_timeout: Duration,
) -> HashMap<TenantKey, Result<(), String>> {
    let Some(backend) = backend else {
        return HashMap::new();
    };
    let mut done = HashMap::new();
    let mut work = work;
    if work.len() > 1 {
        let files: BTreeMap<TenantKey, RuleFile> = work.iter().cloned().collect();
        if let Ok(shown) = backend.confirm_many(&files).await {
            work.retain(|(tenant, _)| {
                let live = shown.get(tenant).copied().unwrap_or(false);
                if live {
                    done.insert(tenant.clone(), Ok(()));
                }
                !live
            });
        }
    }
    let applied: Vec<(TenantKey, Result<(), String>)> = futures::stream::iter(work)
        .map(|(tenant, file)| {
            let backend = Arc::clone(&backend);
            async move {
                let result = apply_rule_file(backend.as_ref(), &tenant, &file, live_timeout).await;
                (tenant, result)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    done.extend(applied);
    done
}

/// Applies a rule file and waits until the backend shows it.
async fn apply_rule_file(
    backend: &dyn RuleBackend,
    tenant: &TenantKey,
    file: &RuleFile,
    live_timeout: Duration,
) -> Result<(), String> {
    let redact = |e: alert_cortex_adapter::Error| alert_core::redact_urls(&e.to_string());
    backend.apply(tenant, file).await.map_err(redact)?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        let detail = match backend.confirm(tenant, file).await {
            Ok(true) => return Ok(()),
            Ok(false) => "the backend does not show the rule groups yet".to_owned(),
            Err(e) => redact(e),
        };
        if started.elapsed() >= live_timeout {
            return Err(format!("rules not live after {live_timeout:?}: {detail}"));
        }
        sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// Applies one configuration (skipped when the backend already runs it) and waits
/// until it is live.
async fn apply_config(
    backend: &dyn ConfigBackend,
    desired: &DesiredConfig,
    live_timeout: Duration,
) -> Result<(), String> {
    if matches!(backend.is_stored(desired).await, Ok(true))
        && matches!(backend.is_live(desired).await, Ok(true))
    {
        return Ok(());
    }
    backend
        .apply(desired)
        .await
        .map_err(|e| alert_core::redact_urls(&e.to_string()))?;
    wait_until_live(backend, desired, live_timeout).await
}

/// The syncer's wait for a configuration to run, polled from 20 ms (a reload answers
/// only after loading, so the first look usually sees it), errors redacted.
async fn wait_until_live(
    backend: &dyn ConfigBackend,
    desired: &DesiredConfig,
    live_timeout: Duration,
) -> Result<(), String> {
    let options = SyncOptions {
        live_timeout,
        poll: Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_secs(1),
            multiplier: 2.0,
            max_attempts: u32::MAX,
            jitter: false,
        },
        ..SyncOptions::default()
    };
    wait_live(backend, &options, desired, Instant::now())
        .await
        .map_err(|e| alert_core::redact_urls(&e.to_string()))
}
