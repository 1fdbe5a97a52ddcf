//! The conformance suite every [`RuleBackend`] must pass, as the syncer's is for
//! configuration backends: public async functions a backend's own tests call against a
//! real backend, and [`rule_backend_conformance!`](crate::rule_backend_conformance),
//! which makes one test of each. A backend is done when [`run_all`] passes.
//!
//! Each check starts by removing both tenants of the [`Fixture`], so checks run in any
//! order, and returns `Err` with what went wrong instead of panicking.
//!
//! ```no_run
//! use alert_cortex_adapter::ruler::conformance::{self, Fixture};
//! use alert_router::builder::TenantKey;
//! # async fn run(backend: alert_cortex_adapter::PrometheusRules) {
//! let fixture = Fixture::new(TenantKey::Tenant("a".parse().unwrap()), TenantKey::Unbound);
//! conformance::run_all(&backend, &fixture).await.unwrap();
//! # }
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use alert_router::builder::TenantKey;
use alert_router::rules::{AlertingRule, RecordingRule, Rule, RuleFile, RuleGroup};

use crate::error::Error;
use crate::ruler::RuleBackend;

/// What the suite needs: two tenants and four files.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The tenant most checks work on.
    pub tenant: TenantKey,
    /// A second tenant, which must not see the first one's changes.
    pub other_tenant: TenantKey,
    /// Two valid groups.
    pub first: RuleFile,
    /// `first` with one group changed in something every backend shows (a label, `for`)
    /// and the other the same.
    pub changed: RuleFile,
    /// `first` without its second group.
    pub fewer: RuleFile,
    /// `first` with a rule every backend refuses (an expression that does not parse).
    pub broken: RuleFile,
    /// How long rules may take to show after an apply.
    pub live_timeout: Duration,
}

impl Fixture {
    /// The standard files, a 30 s live timeout:
    /// - `condition:always`: alert `always` on `vector(1) > 0`;
    /// - `slo:api`: a recorded ratio and a page alert on it, `for: 2m`.
    ///
    /// `changed` raises `always` to `severity: critical` with `for: 1m`; `broken` gives it
    /// the expression `up ==`.
    pub fn new(tenant: TenantKey, other_tenant: TenantKey) -> Fixture {
        let always = |severity: &str, for_duration: Option<&str>, expr: &str| RuleGroup {
            name: "condition:always".into(),
            rules: vec![Rule::Alert(AlertingRule {
                alert: "always".into(),
                expr: expr.into(),
                for_duration: for_duration.map(str::to_owned),
                labels: labels(&[("alert_condition_id", "always"), ("severity", severity)]),
                annotations: labels(&[("summary", "Always firing")]),
            })],
        };
        let slo = RuleGroup {
            name: "slo:api".into(),
            rules: vec![
                Rule::Record(RecordingRule {
                    record: "slo:sli_error:ratio_rate5m".into(),
                    expr: "vector(0.001)".into(),
                    labels: labels(&[("slo_id", "api")]),
                }),
                Rule::Alert(AlertingRule {
                    alert: "api_page".into(),
                    expr: "max(slo:sli_error:ratio_rate5m{slo_id=\"api\"}) > 0.0144".into(),
                    for_duration: Some("2m".into()),
                    labels: labels(&[("alert_condition_id", "api"), ("slo_burn", "page")]),
                    annotations: BTreeMap::new(),
                }),
            ],
        };
        let good = always("warning", None, "vector(1) > 0");
        Fixture {
            tenant,
            other_tenant,
            first: RuleFile {
                groups: vec![good.clone(), slo.clone()],
            },
            changed: RuleFile {
                groups: vec![always("critical", Some("1m"), "vector(1) > 0"), slo.clone()],
            },
            fewer: RuleFile {
                groups: vec![good.clone()],
            },
            broken: RuleFile {
                groups: vec![always("warning", None, "up =="), slo],
            },
            live_timeout: Duration::from_secs(30),
        }
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

type Check = std::result::Result<(), String>;

fn fail(what: &str, detail: impl std::fmt::Debug) -> String {
    format!("{what}: {detail:?}")
}

fn names(file: &RuleFile) -> Vec<String> {
    let mut n: Vec<String> = file.groups.iter().map(|g| g.name.clone()).collect();
    n.sort();
    n
}

/// Removes both tenants' rules.
async fn reset<B: RuleBackend>(backend: &B, f: &Fixture) -> Check {
    for t in [&f.tenant, &f.other_tenant] {
        backend
            .remove(t)
            .await
            .map_err(|e| fail(&format!("removing {t}"), e))?;
    }
    Ok(())
}

/// Applies `file` for `tenant`, failing the check on an error.
async fn apply<B: RuleBackend>(
    backend: &B,
    tenant: &TenantKey,
    file: &RuleFile,
) -> std::result::Result<crate::ruler::Applied, String> {
    backend
        .apply(tenant, file)
        .await
        .map_err(|e| fail(&format!("applying {:?} for {tenant}", names(file)), e))
}

/// Polls [`RuleBackend::confirm`] until it holds or `f.live_timeout` passes.
pub async fn wait_confirmed<B: RuleBackend>(
    backend: &B,
    f: &Fixture,
    tenant: &TenantKey,
    file: &RuleFile,
) -> Check {
    let deadline = tokio::time::Instant::now() + f.live_timeout;
    loop {
        let last = backend.confirm(tenant, file).await;
        if matches!(last, Ok(true)) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            let current = backend.current(tenant).await;
            return Err(fail(
                &format!(
                    "{tenant}: {:?} not confirmed after {:?} (last answer, then current rules)",
                    names(file),
                    f.live_timeout
                ),
                (last, current),
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs every check, then removes both tenants.
pub async fn run_all<B: RuleBackend>(backend: &B, f: &Fixture) -> Check {
    apply_creates_the_groups(backend, f).await?;
    apply_again_is_a_no_op(backend, f).await?;
    changed_group_is_updated(backend, f).await?;
    removed_group_is_deleted(backend, f).await?;
    tenants_are_independent(backend, f).await?;
    confirm_many_agrees_with_confirm(backend, f).await?;
    broken_rules_are_refused_and_the_previous_stay(backend, f).await?;
    remove_removes_every_group(backend, f).await?;
    reset(backend, f).await
}

/// A first apply creates every group, and the backend shows them.
pub async fn apply_creates_the_groups<B: RuleBackend>(backend: &B, f: &Fixture) -> Check {
    reset(backend, f).await?;
    let applied = apply(backend, &f.tenant, &f.first).await?;
    if applied.created != ["condition:always", "slo:api"] || !applied.updated.is_empty() {
        return Err(fail("expected both groups created", applied));
    }
    wait_confirmed(backend, f, &f.tenant, &f.first).await?;
    match backend.current(&f.tenant).await {
        Ok(current) if names(&current) == names(&f.first) => Ok(()),
        other => Err(fail("current rules are not the applied groups", other)),
    }
}

/// Applying the same file again changes nothing.
pub async fn apply_again_is_a_no_op<B: RuleBackend>(backend: &B, f: &Fixture) -> Check {
    reset(backend, f).await?;
    apply(backend, &f.tenant, &f.first).await?;
    wait_confirmed(backend, f, &f.tenant, &f.first).await?;
    let again = apply(backend, &f.tenant, &f.first).await?;
    if again.changed() || again.unchanged.len() != 2 {
        return Err(fail("a repeated apply changed something", again));
    }
    wait_confirmed(backend, f, &f.tenant, &f.first).await
}

/// A changed group is updated, the other left alone; the old rules no longer show.
pub async fn changed_group_is_updated<B: RuleBackend>(backend: &B, f: &Fixture) -> Check {
    reset(backend, f).await?;
    apply(backend, &f.tenant, &f.first).await?;
    let applied = apply(backend, &f.tenant, &f.changed).await?;
    if applied.updated != ["condition:always"]
        || applied.unchanged != ["slo:api"]
        || !applied.created.is_empty()
        || !applied.deleted.is_empty()
    {
        return Err(fail("expected condition:always updated only", applied));
    }
    wait_confirmed(backend, f, &f.tenant, &f.changed).await?;
    match backend.confirm(&f.tenant, &f.first).await {
        Ok(false) => Ok(()),
        other => Err(fail("the replaced rules still show", other)),
    }
}

/// A group the file no longer holds is deleted.
pub async fn removed_group_is_deleted<B: RuleBackend>(backend: &B, f: &Fixture) -> Check {
    reset(backend, f).await?;
    apply(backend, &f.tenant, &f.first).await?;
    let applied = apply(backend, &f.tenant, &f.fewer).await?;
    if applied.deleted != ["slo:api"]
        || applied.unchanged != ["condition:always"]
        || !applied.created.is_empty()
        || !applied.updated.is_empty()
    {
        return Err(fail("expected slo:api deleted", applied));
    }
    wait_confirmed(backend, f, &f.tenant, &f.fewer).await?;
    match backend.current(&f.tenant).await {
        Ok(current) if names(&current) == ["condition:always"] => Ok(()),
        other => Err(fail("the deleted group still shows", other)),
    }
}

/// Two tenants' rules are independent: applying and removing one leaves the other.
pub async fn tenants_are_independent<B: RuleBackend>(backend: &B, f: &Fixture) -> Check {
    reset(backend, f).await?;
    apply(backend, &f.tenant, &f.first).await?;
    let applied = apply(backend, &f.other_tenant, &f.changed).await?;
    if applied.created.len() != 2 {
        return Err(fail("the other tenant saw the first one's groups", applied));
    }
    wait_confirmed(backend, f, &f.tenant, &f.first).await?;
    wait_confirmed(backend, f, &f.other_tenant, &f.changed).await?;
    backend
        .remove(&f.other_tenant)
        .await
        .map_err(|e| fail("removing the other tenant", e))?;
    wait_confirmed(backend, f, &f.other_tenant, &RuleFile::default()).await?;
    wait_confirmed(backend, f, &f.tenant, &f.first).await
}

/// [`RuleBackend::confirm_many`] says of each tenant what [`RuleBackend::confirm`] says.
pub async fn confirm_many_agrees_with_confirm<B: RuleBackend>(backend: &B, f: &Fixture) -> Check {
    reset(backend, f).await?;
    apply(backend, &f.tenant, &f.first).await?;
    wait_confirmed(backend, f, &f.tenant, &f.first).await?;
    let asked = std::collections::BTreeMap::from([
        (f.tenant.clone(), f.first.clone()),
        (f.other_tenant.clone(), f.changed.clone()),
    ]);
    let many = backend
        .confirm_many(&asked)
        .await
        .map_err(|e| fail("confirm_many", e))?;
    let expected = std::collections::BTreeMap::from([
        (f.tenant.clone(), true),
        (f.other_tenant.clone(), false),
    ]);
    if many != expected {
        return Err(fail("confirm_many disagrees with confirm", many));
    }
    Ok(())
}

/// Rules the backend refuses are reported with its reason, and the tenant keeps the rules
/// it had.
pub async fn broken_rules_are_refused_and_the_previous_stay<B: RuleBackend>(
    backend: &B,
    f: &Fixture,
) -> Check {
    reset(backend, f).await?;
    apply(backend, &f.tenant, &f.first).await?;
    wait_confirmed(backend, f, &f.tenant, &f.first).await?;
    match backend.apply(&f.tenant, &f.broken).await {
        Err(Error::ConfigRejected {
            message,
            sync_id,
            tenant,
        }) if !message.is_empty() && sync_id.len() == 64 && tenant == f.tenant.to_string() => {}
        other => return Err(fail("broken rules not refused with a reason", other)),
    }
    wait_confirmed(backend, f, &f.tenant, &f.first).await?;
    // The refusal did not stick: the good file still applies as a no-op.
    let again = apply(backend, &f.tenant, &f.first).await?;
    if again.changed() {
        return Err(fail("the refused rules were left behind", again));
    }
    Ok(())
}

/// Removing a tenant removes every group; removing it again is not an error.
pub async fn remove_removes_every_group<B: RuleBackend>(backend: &B, f: &Fixture) -> Check {
    reset(backend, f).await?;
    apply(backend, &f.tenant, &f.first).await?;
    wait_confirmed(backend, f, &f.tenant, &f.first).await?;
    backend
        .remove(&f.tenant)
        .await
        .map_err(|e| fail("removing", e))?;
    wait_confirmed(backend, f, &f.tenant, &RuleFile::default()).await?;
    backend
        .remove(&f.tenant)
        .await
        .map_err(|e| fail("removing again", e))?;
    // An empty file is the same as a removal.
    apply(backend, &f.tenant, &f.first).await?;
    let applied = apply(backend, &f.tenant, &RuleFile::default()).await?;
    if applied.deleted.len() != 2 {
        return Err(fail("an empty file did not delete both groups", applied));
    }
    wait_confirmed(backend, f, &f.tenant, &RuleFile::default()).await
}

/// One `#[tokio::test]` per conformance check, in a module of its own:
/// `rule_backend_conformance!(module_name, setup)`, where `setup` is an expression
/// evaluated afresh in each test to `(backend, fixture, guard)`; the guard (a fixture
/// process, say) lives until the test ends. The calling crate needs `tokio` with its
/// `macros` and `rt-multi-thread` features.
///
/// ```no_run
/// use alert_cortex_adapter::ruler::conformance::Fixture;
/// use alert_cortex_adapter::{Addressing, AlertmanagerClient, RulerApi};
/// use alert_router::builder::TenantKey;
/// use alert_testkit::cortex::CortexFixture;
///
/// fn setup() -> (RulerApi, Fixture, CortexFixture) {
///     let cortex = CortexFixture::start();
///     let client = AlertmanagerClient::builder(cortex.url())
///         .addressing(Addressing::mimir("any").unwrap())
///         .build()
///         .unwrap();
///     let tenant = |t: &str| TenantKey::Tenant(t.parse().unwrap());
///     let fixture = Fixture::new(tenant("a"), tenant("b"));
///     (RulerApi::new(client).unwrap(), fixture, cortex)
/// }
///
/// alert_cortex_adapter::rule_backend_conformance!(mimir, setup());
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! rule_backend_conformance {
    ($module:ident, $setup:expr) => {
        $crate::rule_backend_conformance!(@tests $module, $setup;
            apply_creates_the_groups,
            apply_again_is_a_no_op,
            changed_group_is_updated,
            removed_group_is_deleted,
            tenants_are_independent,
            confirm_many_agrees_with_confirm,
            broken_rules_are_refused_and_the_previous_stay,
            remove_removes_every_group
        );
    };
    (@tests $module:ident, $setup:expr; $($check:ident),*) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let (backend, fixture, _guard) = $setup;
                    $crate::ruler::conformance::$check(&backend, &fixture)
                        .await
                        .unwrap();
                }
            )*
        }
    };
}
