//! The conformance suite every [`ConfigBackend`] must pass, as `object_store`'s
//! `integration.rs` is for its stores: public async functions a backend's own tests
//! call against a real backend. A backend is done when [`run_all`] passes.
//!
//! Each check returns `Err` with what went wrong instead of panicking, so a test can
//! `.unwrap()` it and show the message.
//!
//! ```no_run
//! use alert_cortex_adapter::syncer::conformance::{self, Fixture};
//! # async fn run(backend: alert_cortex_adapter::FileReloadBackend) {
//! let fixture = Fixture::new("global", "route: {receiver: a}\nreceivers: [{name: a}]\n",
//!     "route: {receiver: b}\nreceivers: [{name: b}]\n", "route: {receiver: nope}\n");
//! conformance::run_all(&backend, &fixture).await.unwrap();
//! # }
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alert_core::TenantId;
use async_trait::async_trait;

use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::syncer::{ConfigBackend, DesiredConfig, SyncOptions, Syncer, TenantState};

/// What the suite needs: one tenant and three configurations for it.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The tenant the suite works on.
    pub tenant: String,
    /// A valid configuration.
    pub first: String,
    /// Another valid configuration, differing from `first` in a value the running
    /// configuration shows (a receiver name, a `group_wait`).
    pub second: String,
    /// A configuration the backend must refuse.
    pub invalid: String,
    /// How long a configuration may take to go live.
    pub live_timeout: Duration,
}

impl Fixture {
    /// A fixture with a 60 s live timeout.
    pub fn new(
        tenant: impl Into<String>,
        first: impl Into<String>,
        second: impl Into<String>,
        invalid: impl Into<String>,
    ) -> Fixture {
        Fixture {
            tenant: tenant.into(),
            first: first.into(),
            second: second.into(),
            invalid: invalid.into(),
            live_timeout: Duration::from_secs(60),
        }
    }

    fn desired(&self, config: &str, sync_id: &str) -> std::result::Result<DesiredConfig, String> {
        DesiredConfig::new(&self.tenant, config, sync_id).map_err(|e| e.to_string())
    }

    fn options(&self) -> SyncOptions {
        SyncOptions {
            concurrency: 4,
            live_timeout: self.live_timeout,
            poll: Backoff {
                initial: Duration::from_millis(50),
                max: Duration::from_millis(500),
                multiplier: 2.0,
                max_attempts: u32::MAX,
                jitter: false,
            },
            // Long enough that an immediate second run must find the tenant waiting.
            retry: Backoff {
                initial: Duration::from_secs(3600),
                max: Duration::from_secs(3600),
                multiplier: 1.0,
                max_attempts: u32::MAX,
                jitter: false,
            },
        }
    }
}

/// Counts what reaches a backend; the suite uses it to check what the syncer sends.
#[derive(Debug, Default)]
pub struct CountingBackend<B> {
    inner: B,
    applies: AtomicUsize,
    removals: AtomicUsize,
}

impl<B> CountingBackend<B> {
    /// Wraps a backend.
    pub fn new(inner: B) -> CountingBackend<B> {
        CountingBackend {
            inner,
            applies: AtomicUsize::new(0),
            removals: AtomicUsize::new(0),
        }
    }

    /// How many `apply` calls reached the backend.
    pub fn applies(&self) -> usize {
        self.applies.load(Ordering::SeqCst)
    }

    /// How many `remove` calls reached the backend.
    pub fn removals(&self) -> usize {
        self.removals.load(Ordering::SeqCst)
    }

    /// Applies plus removals: the writes.
    pub fn writes(&self) -> usize {
        self.applies() + self.removals()
    }
}

#[async_trait]
impl<B: ConfigBackend> ConfigBackend for CountingBackend<B> {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    async fn apply(&self, desired: &DesiredConfig) -> Result<()> {
        self.applies.fetch_add(1, Ordering::SeqCst);
        self.inner.apply(desired).await
    }
    async fn is_live(&self, desired: &DesiredConfig) -> Result<bool> {
        self.inner.is_live(desired).await
    }
    async fn is_stored(&self, desired: &DesiredConfig) -> Result<bool> {
        self.inner.is_stored(desired).await
    }
    async fn remove(&self, tenant: &TenantId) -> Result<()> {
        self.removals.fetch_add(1, Ordering::SeqCst);
        self.inner.remove(tenant).await
    }
    async fn running(&self, tenant: &TenantId) -> Result<Option<String>> {
        self.inner.running(tenant).await
    }
}

type Check = std::result::Result<(), String>;

fn fail(what: &str, detail: impl std::fmt::Debug) -> String {
    format!("{what}: {detail:?}")
}

/// Runs every check, in an order where each leaves the backend as the next expects.
pub async fn run_all<B: ConfigBackend>(backend: &B, f: &Fixture) -> Check {
    applied_config_goes_live(backend, f).await?;
    changed_config_goes_live(backend, f).await?;
    rejected_config_keeps_the_running_one(backend, f).await?;
    unchanged_run_sends_nothing(backend, f).await?;
    restarted_syncer_does_not_rewrite(backend, f).await?;
    failures_back_off(backend, f).await?;
    removed_tenant_is_removed(backend, f).await?;
    Ok(())
}

/// A syncer run applies `first`, it runs, and the report says so.
pub async fn applied_config_goes_live<B: ConfigBackend>(backend: &B, f: &Fixture) -> Check {
    let counting = CountingBackend::new(backend);
    let mut syncer = Syncer::with_options(&counting, f.options());
    let first = f.desired(&f.first, "first")?;
    let report = syncer.sync(std::slice::from_ref(&first)).await;
    let t = report
        .tenant(&f.tenant)
        .ok_or_else(|| fail("tenant missing from the report", &report))?;
    if t.state != TenantState::Applied || t.applied_sync_id.as_deref() != Some("first") {
        return Err(fail("first configuration not applied", t));
    }
    if t.latency.is_none() || t.last_attempt.is_none() || t.last_error.is_some() {
        return Err(fail("report lacks latency or attempt time", t));
    }
    if counting.applies() != 1 || report.writes != 1 {
        return Err(fail(
            "expected exactly one write",
            (counting.applies(), report.writes),
        ));
    }
    match backend.is_live(&first).await {
        Ok(true) => Ok(()),
        other => Err(fail("first configuration not live after the run", other)),
    }
}

/// Applying `second` replaces `first`: `second` is live, `first` no longer is.
pub async fn changed_config_goes_live<B: ConfigBackend>(backend: &B, f: &Fixture) -> Check {
    let mut syncer = Syncer::with_options(backend, f.options());
    let first = f.desired(&f.first, "first")?;
    let second = f.desired(&f.second, "second")?;
    syncer.sync(std::slice::from_ref(&first)).await;
    let report = syncer.sync(std::slice::from_ref(&second)).await;
    let t = report
        .tenant(&f.tenant)
        .ok_or_else(|| fail("tenant missing", &report))?;
    if t.state != TenantState::Applied || t.applied_sync_id.as_deref() != Some("second") {
        return Err(fail("second configuration not applied", t));
    }
    match (
        backend.is_live(&second).await,
        backend.is_live(&first).await,
    ) {
        (Ok(true), Ok(false)) => Ok(()),
        other => Err(fail(
            "expected second live and first not (is_live(second), is_live(first))",
            other,
        )),
    }
}

/// A configuration the backend refuses is reported with the backend's message, and the
/// configuration that ran before keeps running.
pub async fn rejected_config_keeps_the_running_one<B: ConfigBackend>(
    backend: &B,
    f: &Fixture,
) -> Check {
    let second = f.desired(&f.second, "second")?;
    let invalid = f.desired(&f.invalid, "invalid")?;
    backend
        .apply(&second)
        .await
        .map_err(|e| fail("applying second", e))?;
    match backend.apply(&invalid).await {
        Err(Error::ConfigRejected {
            message, sync_id, ..
        }) if !message.is_empty() && sync_id == "invalid" => {}
        other => {
            return Err(fail(
                "invalid configuration not rejected with a message",
                other,
            ));
        }
    }
    match backend.is_live(&second).await {
        Ok(true) => Ok(()),
        other => Err(fail("the previous configuration stopped running", other)),
    }
}

/// A second run with nothing changed sends nothing.
pub async fn unchanged_run_sends_nothing<B: ConfigBackend>(backend: &B, f: &Fixture) -> Check {
    let counting = CountingBackend::new(backend);
    let mut syncer = Syncer::with_options(&counting, f.options());
    let first = f.desired(&f.first, "first-again")?;
    syncer.sync(std::slice::from_ref(&first)).await;
    let before = counting.writes();
    let report = syncer.sync(std::slice::from_ref(&first)).await;
    let t = report
        .tenant(&f.tenant)
        .ok_or_else(|| fail("tenant missing", &report))?;
    if t.state != TenantState::InSync || report.writes != 0 || counting.writes() != before {
        return Err(fail(
            "an unchanged run wrote (state, report writes, writes before, after)",
            (t.state, report.writes, before, counting.writes()),
        ));
    }
    Ok(())
}

/// A fresh syncer (a restarted control plane) finds the stored, running configuration
/// and writes nothing.
pub async fn restarted_syncer_does_not_rewrite<B: ConfigBackend>(
    backend: &B,
    f: &Fixture,
) -> Check {
    let first = f.desired(&f.first, "first-again")?;
    Syncer::with_options(backend, f.options())
        .sync(std::slice::from_ref(&first))
        .await;
    let counting = CountingBackend::new(backend);
    let report = Syncer::with_options(&counting, f.options())
        .sync(std::slice::from_ref(&first))
        .await;
    let state = report.tenant(&f.tenant).map(|t| t.state);
    if counting.writes() != 0 || state != Some(TenantState::InSync) {
        return Err(fail(
            "a restarted syncer rewrote an unchanged tenant (writes, state)",
            (counting.writes(), state),
        ));
    }
    Ok(())
}

/// A failed tenant is not tried again before its backoff ends; a new configuration for
/// it is tried at once.
pub async fn failures_back_off<B: ConfigBackend>(backend: &B, f: &Fixture) -> Check {
    let counting = CountingBackend::new(backend);
    let mut syncer = Syncer::with_options(&counting, f.options());
    let invalid = f.desired(&f.invalid, "invalid")?;
    let report = syncer.sync(std::slice::from_ref(&invalid)).await;
    let t = report
        .tenant(&f.tenant)
        .ok_or_else(|| fail("tenant missing", &report))?;
    if t.state != TenantState::Failed
        || !matches!(t.last_error, Some(Error::ConfigRejected { .. }))
        || t.failures != 1
    {
        return Err(fail("invalid configuration not reported as failed", t));
    }
    for _ in 0..3 {
        let report = syncer.sync(std::slice::from_ref(&invalid)).await;
        let state = report.tenant(&f.tenant).map(|t| t.state);
        if state != Some(TenantState::BackingOff) {
            return Err(fail("failed tenant not backing off", state));
        }
    }
    if counting.applies() != 1 {
        return Err(fail(
            "failed tenant retried during its backoff",
            counting.applies(),
        ));
    }
    let fixed = f.desired(&f.first, "fixed")?;
    let report = syncer.sync(std::slice::from_ref(&fixed)).await;
    let t = report
        .tenant(&f.tenant)
        .ok_or_else(|| fail("tenant missing", &report))?;
    if t.state != TenantState::Applied || t.last_error.is_some() || t.failures != 0 {
        return Err(fail("a new configuration did not clear the failure", t));
    }
    Ok(())
}

/// A tenant no longer desired is removed, once.
pub async fn removed_tenant_is_removed<B: ConfigBackend>(backend: &B, f: &Fixture) -> Check {
    let counting = CountingBackend::new(backend);
    let mut syncer = Syncer::with_options(&counting, f.options());
    let first = f.desired(&f.first, "first")?;
    syncer.sync(std::slice::from_ref(&first)).await;
    let report = syncer.sync(&[]).await;
    let state = report.tenant(&f.tenant).map(|t| t.state);
    if state != Some(TenantState::Removed) || counting.removals() != 1 {
        return Err(fail(
            "tenant not removed (state, removals)",
            (state, counting.removals()),
        ));
    }
    let report = syncer.sync(&[]).await;
    if counting.removals() != 1 || report.writes != 0 {
        return Err(fail("removal repeated", counting.removals()));
    }
    Ok(())
}
