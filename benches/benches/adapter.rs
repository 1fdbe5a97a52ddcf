//! alert-cortex-adapter: merging HA members' answers, and a syncer run over many tenants.
//!
//! - `merge/alerts_3x10000`: three members' `GET /api/v2/alerts` answers of 10,000
//!   alerts each (the same alerts, different `updatedAt`, member order shuffled), merged
//!   by Cortex's rules. Target: at most 10 ms.
//! - `merge/groups_3x100x100`, `merge/silences_3x2000`: the other two merges.
//! - `sync/1000_tenants_1_changed`: a syncer run over 1,000 tenants of which one changed,
//!   against an in-memory backend; each iteration checks that exactly one write was sent.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use alert_core::silence::{Silence, SilenceState, SilenceStatus};
use alert_core::{LabelSet, ParserMode, TenantId, Timestamp, parse_matchers};
use alert_cortex_adapter::merge::{
    merge_alert_groups, merge_alerts, merge_silences, merged_alert_order,
};
use alert_cortex_adapter::{
    AlertGroup, AlertState, AlertStatusInfo, ApiFingerprint, ConfigBackend, DesiredConfig,
    GettableAlert, ReceiverName, Result, Syncer,
};
use async_trait::async_trait;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_unix(1_700_000_000 + secs, 0).expect("in range")
}

fn alert(i: usize, updated: i64) -> GettableAlert {
    let labels = LabelSet::from_pairs([
        ("alertname", format!("Alert{}", i % 50)),
        ("instance", format!("host-{i}.example.com:9100")),
        ("job", "node".to_owned()),
        (
            "severity",
            ["critical", "warning", "info"][i % 3].to_owned(),
        ),
    ])
    .expect("valid labels");
    GettableAlert {
        fingerprint: ApiFingerprint::from(labels.fingerprint()),
        labels,
        annotations: LabelSet::from_pairs([("summary", "disk is full")]).expect("valid"),
        receivers: vec![ReceiverName {
            name: "team".into(),
        }],
        starts_at: ts(0),
        updated_at: ts(updated),
        ends_at: ts(3600),
        status: AlertStatusInfo {
            state: AlertState::Active,
            silenced_by: vec![],
            inhibited_by: vec![],
        },
        generator_url: Some("http://prometheus/graph".into()),
    }
}

/// Three members' answers: the same `n` alerts, each member in its own order.
fn members(n: usize) -> Vec<GettableAlert> {
    let mut all = Vec::with_capacity(3 * n);
    for m in 0..3i64 {
        let mut one: Vec<GettableAlert> = (0..n).map(|i| alert(i, m + (i % 7) as i64)).collect();
        // Members answer sorted by fingerprint; rotate so they do not line up.
        one.rotate_left(m as usize * n / 3);
        all.extend(one);
    }
    all
}

fn groups() -> Vec<AlertGroup> {
    let mut out = Vec::new();
    for m in 0..3i64 {
        for g in 0..100usize {
            out.push(AlertGroup {
                labels: LabelSet::from_pairs([("alertname", format!("Alert{g}"))]).expect("valid"),
                receiver: ReceiverName {
                    name: format!("team-{}", g % 5),
                },
                alerts: (0..100).map(|i| alert(g * 100 + i, m)).collect(),
            });
        }
    }
    out
}

fn silences() -> Vec<Silence> {
    let matchers = parse_matchers("alertname=\"A\",env=~\"prod|staging\"", ParserMode::Classic)
        .expect("valid matchers");
    let mut out = Vec::new();
    for m in 0..3i64 {
        for i in 0..2000i64 {
            let state = [
                SilenceState::Active,
                SilenceState::Pending,
                SilenceState::Expired,
            ][(i % 3) as usize];
            out.push(Silence {
                id: format!("00000000-0000-4000-8000-{i:012}"),
                matchers: matchers.clone(),
                starts_at: ts(i),
                ends_at: ts(i + 3600),
                created_by: "bench".into(),
                comment: String::new(),
                status: SilenceStatus { state },
                updated_at: ts(m),
            });
        }
    }
    out
}

fn bench_merge(c: &mut Criterion) {
    let mut g = c.benchmark_group("merge");
    let input = members(10_000);
    assert_eq!(merge_alerts(input.clone()).len(), 10_000);
    g.bench_function("alerts_3x10000", |b| {
        b.iter_batched(
            || input.clone(),
            |v| black_box(merge_alerts(v)),
            BatchSize::LargeInput,
        )
    });
    // The decision alone (no alert moved or freed).
    g.bench_function("alert_order_3x10000", |b| {
        b.iter(|| black_box(merged_alert_order(black_box(&input))))
    });
    // For scale: freeing the 30,000 decoded alerts, which a consuming merge does for
    // the 20,000 duplicates it drops.
    g.bench_function("drop_only_3x10000", |b| {
        b.iter_batched(|| input.clone(), drop, BatchSize::LargeInput)
    });
    let input = groups();
    g.bench_function("groups_3x100x100", |b| {
        b.iter_batched(
            || input.clone(),
            |v| black_box(merge_alert_groups(v)),
            BatchSize::LargeInput,
        )
    });
    let input = silences();
    g.bench_function("silences_3x2000", |b| {
        b.iter_batched(
            || input.clone(),
            |v| black_box(merge_silences(v)),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// A backend that keeps configurations in memory and counts writes.
#[derive(Default)]
struct Memory {
    running: Mutex<HashMap<TenantId, String>>,
    writes: AtomicUsize,
}

#[async_trait]
impl ConfigBackend for Memory {
    fn kind(&self) -> &'static str {
        "memory"
    }
    async fn apply(&self, d: &DesiredConfig) -> Result<()> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.running.lock() {
            m.insert(d.tenant.clone(), d.config.clone());
        }
        Ok(())
    }
    async fn is_live(&self, d: &DesiredConfig) -> Result<bool> {
        Ok(self
            .running
            .lock()
            .map(|m| m.get(&d.tenant) == Some(&d.config))
            .unwrap_or(false))
    }
    async fn is_stored(&self, d: &DesiredConfig) -> Result<bool> {
        self.is_live(d).await
    }
    async fn remove(&self, t: &TenantId) -> Result<()> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.running.lock() {
            m.remove(t);
        }
        Ok(())
    }
    async fn running(&self, t: &TenantId) -> Result<Option<String>> {
        Ok(self.running.lock().ok().and_then(|m| m.get(t).cloned()))
    }
}

fn desired(version: usize) -> Vec<DesiredConfig> {
    (0..1000)
        .map(|i| {
            let (cfg, id) = if i == 500 {
                (
                    format!("route: {{receiver: r{version}}}\n"),
                    format!("v{version}"),
                )
            } else {
                (format!("route: {{receiver: r{i}}}\n"), "v0".to_owned())
            };
            DesiredConfig::new(format!("tenant-{i:04}"), cfg, id).expect("valid tenant")
        })
        .collect()
}

fn bench_sync(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let backend = Memory::default();
    let mut syncer = Syncer::new(&backend);
    let report = runtime.block_on(syncer.sync(&desired(0)));
    assert_eq!(report.writes, 1000);
    let inputs = [desired(1), desired(2)];
    let mut flip = 0;
    c.bench_function("sync/1000_tenants_1_changed", |b| {
        b.iter(|| {
            flip ^= 1;
            let before = backend.writes.load(Ordering::Relaxed);
            let report = runtime.block_on(syncer.sync(&inputs[flip]));
            assert_eq!(report.writes, 1, "exactly one write");
            assert_eq!(backend.writes.load(Ordering::Relaxed), before + 1);
            black_box(report)
        })
    });
}

criterion_group!(benches, bench_merge, bench_sync);
criterion_main!(benches);
