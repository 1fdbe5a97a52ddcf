//! alert-router: routing alerts through a compiled tree, and compiling trees.
//!
//! - `router/match_into_100k_alerts`: every alert of the `gen_routing.py` data set (224
//!   routes, 100,000 alerts, seed 42) through [`RoutingTree::match_into`] with one
//!   [`MatchBuffer`], as a dispatcher thread keeps it. The target is 130 ns an
//!   alert; on a 2-core AMD EPYC VM it measured 127.5–128.3 ns
//!   (`cargo bench -p alert-benches --bench router -- match_into`), where Alertmanager
//!   0.25's Go router takes about 1.3 µs. `route-throughput` times the same calls outside
//!   criterion; `benches/README.md` holds its figures and the machine.
//! - `router/compile_224_routes` and `router/compile_100k_routes`: [`RoutingTree::new`]
//!   on the data set's configuration, and on a generated tree of 1,000 team routes with
//!   100 service routes each (equality and regex matchers, some `continue`).

use std::hint::black_box;

use alert_router::config::{Config, Route};
use alert_router::route::{MatchBuffer, RoutingTree};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn gen_routing_tree() -> (Config, Vec<alert_core::LabelSet>) {
    let (dir, alerts) = alert_benches::default_alerts();
    let path = dir.join("config.yml");
    let yaml = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let config = Config::from_yaml(&yaml).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (config, alerts)
}

/// 1 + 1,000 + 100,000 routes.
fn large_route() -> Route {
    let mut root = Route::new("default");
    for t in 0..1000 {
        let mut team = Route::with_matchers([format!("team=\"team-{t}\"")]);
        for s in 0..100 {
            let mut service = if s % 10 == 0 {
                Route::with_matchers([format!("service=~\"svc-{s}|svc-{}\"", s + 1)])
            } else {
                Route::with_matchers([format!("service=\"svc-{s}\""), "env!=\"dev\"".into()])
            };
            service.r#continue = s % 7 == 0;
            team.routes.push(service);
        }
        root.routes.push(team);
    }
    root
}

fn routing(c: &mut Criterion) {
    let (config, alerts) = gen_routing_tree();
    let tree = RoutingTree::new(&config.route).unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group("router");
    group.throughput(Throughput::Elements(alerts.len() as u64));
    group.bench_function("match_into_100k_alerts", |b| {
        let mut buf = MatchBuffer::new();
        b.iter(|| {
            let mut matched = 0usize;
            for labels in &alerts {
                matched += tree.match_into(black_box(labels), &mut buf).len();
            }
            matched
        })
    });
    group.throughput(Throughput::Elements(tree.len() as u64));
    group.bench_function("compile_224_routes", |b| {
        b.iter(|| RoutingTree::new(black_box(&config.route)).map(|t| t.len()))
    });
    let large = large_route();
    group.sample_size(10);
    group.throughput(Throughput::Elements(101_001));
    group.bench_function("compile_100k_routes", |b| {
        b.iter(|| RoutingTree::new(black_box(&large)).map(|t| t.len()))
    });
    group.finish();
}

criterion_group!(benches, routing);
criterion_main!(benches);
