//! alert-core: fingerprints and anchored regex matcher tests on the `gen_routing.py`
//! data set.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn fingerprint(c: &mut Criterion) {
    let (_, alerts) = alert_benches::default_alerts();
    // The alerts of the data set carry 6 to 13 labels (9.7 on average, ~180 bytes).
    let ten: Vec<_> = alerts
        .iter()
        .filter(|a| a.len() == 10)
        .take(1000)
        .cloned()
        .collect();
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

/// The regexes `gen_routing.py` puts in routes, with the label each is applied to.
const ROUTE_REGEXES: &[(&str, &[&str])] = &[
    (
        "alertname",
        &[
            "High(CPU|Memory)Usage",
            ".*Down",
            "Kube.*",
            "Disk.*",
            "(?i)watchdog|deadmansswitch",
            "Postgres.*|MySQL.*",
            "HTTP[45]xxSpike",
            "Kafka.*",
            ".*Failed",
            "[A-M].*",
        ],
    ),
    (
        "service",
        &[
            "db-.*",
            "(api|web)-.*",
            "queue-.*",
            "cache-.*|search",
            "pay.*|ledger|billing",
            "ml-.*|batch",
            "[a-c].*",
            ".+",
        ],
    ),
    ("region", &["us-.*", "eu-(west|central)-1", "ap-.*", ".*-1"]),
    ("env", &["prod|prod-eu", "prod.*", "dev|qa", "staging"]),
    (
        "instance",
        &[r"10\.0\..*", r"host-\d+\.example\.com:9100", r".*:9100"],
    ),
    ("severity", &["critical|page", "warning|info"]),
];

fn regex_matcher(c: &mut Criterion) {
    let (_, alerts) = alert_benches::default_alerts();
    let alerts = &alerts[..1000];
    let mut tests: Vec<(alert_core::Matcher, Vec<&str>)> = Vec::new();
    for (label, patterns) in ROUTE_REGEXES {
        let values: Vec<&str> = alerts.iter().map(|a| a.get_or_empty(label)).collect();
        for pattern in *patterns {
            let m = alert_core::Matcher::new(alert_core::MatchType::Regexp, *label, *pattern)
                .unwrap_or_else(|e| panic!("{pattern}: {e}"));
            tests.push((m, values.clone()));
        }
    }
    let per_pass = tests.iter().map(|(_, v)| v.len()).sum::<usize>();
    let mut group = c.benchmark_group("matcher");
    group.throughput(Throughput::Elements(per_pass as u64));
    group.bench_function(format!("route_regexes_{}_tests", per_pass), |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for (m, values) in &tests {
                for v in values {
                    hits += usize::from(m.matches(black_box(v)));
                }
            }
            hits
        })
    });
    // A pattern no fast path covers (a class then `.*`): the regex engine itself.
    let (m, values) = tests
        .iter()
        .find(|(m, _)| m.value() == "[A-M].*")
        .expect("pattern is in the table");
    group.throughput(Throughput::Elements(values.len() as u64));
    group.bench_function("regex_engine_class_dotstar_1000_tests", |b| {
        b.iter(|| values.iter().filter(|v| m.matches(black_box(v))).count())
    });
    group.finish();
}

criterion_group!(benches, fingerprint, regex_matcher);
criterion_main!(benches);
