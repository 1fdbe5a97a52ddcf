//! Times the gateway's control plane as issue #14 asks: from the data plane's
//! acknowledgement of a change to the change being live (the control plane observed
//! its tenant's rules loaded by a real Prometheus 2.42 and the combined configuration
//! running on a real Alertmanager 0.25), with `--tenants` tenants in the store; then a
//! failover: the leader dies without resigning, and the time until the follower's
//! first confirmed apply of a change made at that moment.
//!
//! ```sh
//! cargo run --release -p alert-benches --bin control-plane-bench -- --tenants 1000 --changes 200
//! ```
//!
//! Every change edits one tenant's condition (its query and its endpoint's
//! `repeat_interval`), so both the tenant's rule file and the shared Alertmanager
//! configuration change. After each timed change the bench checks, untimed, that
//! Prometheus lists the new query and Alertmanager's `config.original` the new route.
//! Setup writes the initial rule files directly (the bytes the control plane writes)
//! so that the first sync does not reload Prometheus once per tenant.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alert_benches::stats::report;
use alert_core::AlertingSpec;
use alert_cortex_adapter::{
    AlertmanagerClient, FileReloadBackend, FileTarget, PrometheusRules, RuleBackend,
};
use alert_gateway::control_plane::{
    self, AlertmanagerSink, ControlPlane, ControlPlaneOptions, TenantReport, TenantState,
};
use alert_gateway::data_plane::DataPlane;
use alert_gateway::election::Elector;
use alert_gateway::metrics::Metrics;
use alert_gateway::store::{Key, Kind, Revision, SharedStore, sqlite::SqliteStore};
use alert_router::builder::{BuildOptions, DefaultWebhook};
use alert_router::rules::rule_files;
use alert_testkit::{Alertmanager, Prometheus};
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Times the control plane: acknowledgement to live, and failover")]
struct Args {
    /// Tenants in the store (one condition each, plus one shared endpoint).
    #[arg(long, default_value_t = 1000)]
    tenants: usize,
    /// Timed changes.
    #[arg(long, default_value_t = 200)]
    changes: usize,
    /// The control plane's lease TTL (for the failover figure).
    #[arg(long, default_value = "2s")]
    lease_ttl: String,
}

fn condition(i: usize, generation: usize) -> Value {
    json!({
        "tenant": format!("tenant-{i:04}"),
        "severity": "warning",
        "prometheus": {"query": format!("vector({generation}) > {i}"), "for": "10m"},
        "endpoints": [{"id": "pager", "repeat_interval": format!("{}m", 60 + generation)}],
    })
}

async fn report_of(store: &SharedStore, tenant: usize) -> Option<TenantReport> {
    let key = Key::new(Kind::Tenant, format!("tenant-{tenant:04}")).ok()?;
    let record = store.get(&key).await.ok()??;
    serde_json::from_str(&record.value).ok()
}

/// Polls the tenant's report until it is in sync at `revision` or later, written by
/// `leader` when given.
async fn wait_live(store: &SharedStore, tenant: usize, revision: Revision, leader: Option<&str>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(r) = report_of(store, tenant).await
            && r.revision >= revision
            && r.state == TenantState::InSync
            && leader.is_none_or(|l| r.leader == l)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "tenant {tenant} not live after 120 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn control_plane(
    store: &SharedStore,
    am: &Alertmanager,
    prom: &Prometheus,
    holder: &str,
) -> Arc<ControlPlane> {
    let client = AlertmanagerClient::builder(am.base_url())
        .build()
        .expect("a client");
    let backend = FileReloadBackend::new().with_target(
        control_plane::SHARED_CONFIG.parse().expect("an id"),
        FileTarget {
            config_path: am.config_path().to_path_buf(),
            client,
        },
    );
    let rules = PrometheusRules::new(prom.rules_dir(), &prom.base_url()).expect("rules");
    let options = ControlPlaneOptions {
        build: BuildOptions {
            history: Some(DefaultWebhook::new("http://127.0.0.1:9/history")),
            endpoint_tests: true,
            ..BuildOptions::default()
        },
        alertmanager: Some(AlertmanagerSink::Shared {
            backend: Arc::new(backend),
            members: vec![am.base_url()],
        }),
        rules: Some(Arc::new(rules) as Arc<dyn RuleBackend>),
        ..ControlPlaneOptions::default()
    };
    Arc::new(ControlPlane::new(
        Arc::clone(store),
        options,
        Arc::new(Metrics::default()),
        holder,
    ))
}

async fn run(args: Args) {
    let ttl: Duration = args
        .lease_ttl
        .parse::<alert_core::Duration>()
        .expect("--lease-ttl")
        .to_std();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store: SharedStore =
        Arc::new(SqliteStore::open(&dir.path().join("gateway.db")).expect("the store"));
    let plane = DataPlane::new(Arc::clone(&store));

    let mut spec = json!({
        "endpoints": [{"id": "pager", "webhook": {"url": "http://127.0.0.1:9/pager"}}],
        "conditions": [],
    });
    for i in 0..args.tenants {
        let mut c = condition(i, 0);
        c["id"] = json!(format!("c-{i:04}"));
        spec["conditions"].as_array_mut().expect("a list").push(c);
    }
    let parsed: AlertingSpec = serde_json::from_value(spec.clone()).expect("a spec");
    plane.apply_spec(spec, false).await.expect("the import");

    let am = Alertmanager::start("route: {receiver: r}\nreceivers: [{name: r}]\n");
    // A production evaluation interval: the test kit's 1 s would keep a 2-core machine
    // busy evaluating every tenant's rules.
    let prom = Prometheus::builder().evaluation_interval("15s").start();
    for (tenant, file) in rule_files(&parsed) {
        std::fs::write(
            prom.rules_dir()
                .join(alert_cortex_adapter::ruler::rule_file_name(&tenant)),
            file.to_yaml(),
        )
        .expect("a rule file");
    }
    prom.reload().ensure_success();

    let leader = control_plane(&store, &am, &prom, "leader");
    let elector = Elector::new(Arc::clone(&store), control_plane::ELECTION, "leader", ttl)
        .expect("an elector");
    let leading = tokio::spawn(Arc::clone(&leader).run(elector));
    let started = Instant::now();
    let revision = store.revision().await.expect("a revision");
    for t in [0, args.tenants / 2, args.tenants - 1] {
        wait_live(&store, t, revision, None).await;
    }
    println!(
        "first sync of {} tenants: {:.2?} (combined configuration {} bytes)",
        args.tenants,
        started.elapsed(),
        std::fs::metadata(am.config_path())
            .map(|m| m.len())
            .unwrap_or(0)
    );

    let mut samples = Vec::with_capacity(args.changes);
    for n in 0..args.changes {
        let generation = n + 1;
        let tenant = (n * 7919) % args.tenants;
        let (stored, _) = plane
            .put::<alert_core::AlertCondition>(
                &format!("c-{tenant:04}"),
                condition(tenant, generation),
                alert_gateway::data_plane::Precondition::None,
            )
            .await
            .expect("the change is acknowledged");
        let acked = Instant::now();
        wait_live(&store, tenant, stored.revision, None).await;
        samples.push(acked.elapsed());
        // Untimed: the backends really show it.
        let query = format!("vector({generation}) > {tenant}");
        let rules = prom.rules();
        assert!(
            rules
                .iter()
                .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
                .any(|r| r["query"] == query.as_str()),
            "Prometheus lacks {query}"
        );
        let running = am.status()["config"]["original"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let repeat =
            alert_core::Duration::from_secs(60 * (60 + generation as u64)).expect("a duration");
        assert!(
            running.contains(&format!("repeat_interval: {repeat}")),
            "Alertmanager lacks repeat_interval {repeat}"
        );
    }
    report(
        &format!("acknowledged change -> live ({} tenants)", args.tenants),
        samples,
    );

    // Failover: the leader dies without resigning; a follower was waiting.
    let follower = control_plane(&store, &am, &prom, "follower");
    let elector = Elector::new(Arc::clone(&store), control_plane::ELECTION, "follower", ttl)
        .expect("an elector");
    let _following = tokio::spawn(Arc::clone(&follower).run(elector));
    tokio::time::sleep(Duration::from_millis(200)).await;
    leading.abort();
    let died = Instant::now();
    let tenant = 1;
    let (stored, _) = plane
        .put::<alert_core::AlertCondition>(
            &format!("c-{tenant:04}"),
            condition(tenant, args.changes + 10),
            alert_gateway::data_plane::Precondition::None,
        )
        .await
        .expect("the change is acknowledged");
    wait_live(&store, tenant, stored.revision, Some("follower")).await;
    println!(
        "failover: leader died -> follower's first confirmed apply {:.2?} (lease TTL {ttl:?}; goal TTL + 1 s)",
        died.elapsed()
    );
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run(args));
}
