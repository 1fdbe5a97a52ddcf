//! alert-core: fingerprints (and, once matchers exist, anchored regex matcher tests) on
//! the `gen_routing.py` data set.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn fingerprint(c: &mut Criterion) {
    let (_, alerts) = alert_benches::default_alerts();
    // The alerts of the data set carry 6 to 13 labels (9.7 on average, ~180 bytes).
    let ten: Vec<_> = alerts.iter().filter(|a| a.len() == 10).take(1000).cloned().collect();
    let mut group = c.benchmark_group("fingerprint");
    group.throughput(Throughput::Elements(ten.len() as u64));
    group.bench_function("10_labels_x1000", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for a in &ten {
                acc ^= black_box(a).fingerprint().as_u64();
            }
            acc
        })
    });
    group.throughput(Throughput::Elements(alerts.len() as u64));
    group.bench_function("all_100k", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for a in &alerts {
                acc ^= black_box(a).fingerprint().as_u64();
            }
            acc
        })
    });
    group.finish();
}

criterion_group!(benches, fingerprint);
criterion_main!(benches);
