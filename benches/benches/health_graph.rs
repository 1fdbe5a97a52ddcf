//! Criterion benchmarks of `alert-health-graph`.
//!
//! - `health_graph/evaluate_100k`: one full evaluation pass ([`Engine::evaluate`]: every
//!   sensor read once through the async machinery with its timeout and bulkhead, then
//!   every system judged once) of a 100,000-node DAG of constant sensors: 90,000 sensors,
//!   9,000 systems over 10 sensors each plus one sensor shared with a neighbour, 900,
//!   90 and 9 systems over 10 children each, and one service. Aggregations cycle
//!   through all / any / at_least 8 / nth_worst 2; 1% of sensors fail. Target ≤ 50 ms.
//! - `health_graph/compute_100k`: the judging half alone ([`Snapshot::compute`]) on
//!   the same graph, for comparison.
//! - `health_graph/incremental_depth_10`: [`Snapshot::apply`] of one sensor at the
//!   bottom of a depth-10 graph (each level a system over 9 sensors and the level below),
//!   flipping Passing ↔ Failing so that every ancestor changes (the worst case).
//!   Target ≤ 50 µs.
//! - `health_graph/refresh_depth_10`: [`Engine::refresh`] of that bottom sensor when
//!   its reading does not change (the common case of a steady pass: the read, then the
//!   early stop before any ancestor).

use std::sync::Arc;

use alert_core::Timestamp;
use alert_health_graph::constant::ConstantSensor;
use alert_health_graph::{
    Aggregation, EdgeSpec, Engine, Graph, GraphBuilder, Kind, NodeId, NodeSpec, Reading, SensorSet,
    Snapshot, State, Threshold,
};
use criterion::{Criterion, criterion_group, criterion_main};

fn aggregation(i: usize) -> Aggregation {
    match i % 4 {
        0 => Aggregation::All,
        1 => Aggregation::Any,
        2 => Aggregation::AtLeast {
            ok: Threshold::Count(8),
            warn: Some(Threshold::Count(5)),
        },
        _ => Aggregation::NthWorst {
            n: 2,
            cap: State::Failing,
        },
    }
}

fn sensor_state(i: usize) -> State {
    if i % 100 == 7 {
        State::Failing
    } else {
        State::Passing
    }
}

/// The 100,000-node DAG and its constant sensors.
fn big_graph() -> (Arc<Graph>, SensorSet) {
    let kind = Kind::builtin("constant");
    let mut b = GraphBuilder::new();
    let sensors = 90_000;
    for i in 0..sensors {
        b.add(NodeSpec::sensor(format!("s{i}"), kind.clone()))
            .expect("valid");
    }
    // Level 1: 9,000 systems over 10 sensors, plus the first sensor of the next group.
    let mut below: Vec<String> = Vec::new();
    for j in 0..9_000 {
        let mut children: Vec<EdgeSpec> = (0..10)
            .map(|k| EdgeSpec::to(format!("s{}", j * 10 + k)))
            .collect();
        children.push(EdgeSpec::to(format!("s{}", ((j + 1) % 9_000) * 10)));
        let name = format!("l1-{j}");
        b.add(NodeSpec::system(name.clone(), aggregation(j), children))
            .expect("valid");
        below.push(name);
    }
    for level in 2..=4 {
        let mut next = Vec::new();
        for (j, group) in below.chunks(10).enumerate() {
            let name = format!("l{level}-{j}");
            b.add(NodeSpec::system(
                name.clone(),
                aggregation(j + level),
                group.iter().map(String::as_str),
            ))
            .expect("valid");
            next.push(name);
        }
        below = next;
    }
    b.add(NodeSpec::service("root", below.iter().map(String::as_str)))
        .expect("valid");
    let graph = Arc::new(b.build().expect("valid graph"));
    assert_eq!(graph.len(), 100_000);
    let mut set = SensorSet::for_graph(&graph);
    for i in 0..sensors {
        let id = graph.find(&format!("s{i}")).expect("exists");
        set.insert(id, Arc::new(ConstantSensor::new(sensor_state(i))));
    }
    (graph, set)
}

/// Ten levels, each a system over 9 sensors and the level below; returns the bottom
/// sensor's id.
fn deep_graph() -> (Arc<Graph>, SensorSet, NodeId) {
    let kind = Kind::builtin("constant");
    let mut b = GraphBuilder::new();
    let mut below: Option<String> = None;
    for level in 0..10 {
        let mut children: Vec<EdgeSpec> = Vec::new();
        for k in 0..9 {
            let name = format!("d{level}-s{k}");
            b.add(NodeSpec::sensor(name.clone(), kind.clone()))
                .expect("valid");
            children.push(EdgeSpec::to(name));
        }
        if let Some(prev) = below.take() {
            children.push(EdgeSpec::to(prev));
        }
        let name = format!("d{level}");
        b.add(NodeSpec::system(name.clone(), Aggregation::All, children))
            .expect("valid");
        below = Some(name);
    }
    let graph = Arc::new(b.build().expect("valid graph"));
    let mut set = SensorSet::for_graph(&graph);
    for &id in graph.sensors() {
        set.insert(id, Arc::new(ConstantSensor::new(State::Passing)));
    }
    let bottom = graph.find("d0-s0").expect("exists");
    (graph, set, bottom)
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("health_graph");
    group.sample_size(20);

    let (graph, sensors) = big_graph();
    let engine = Engine::new(graph.clone(), sensors);
    let snap = runtime.block_on(engine.evaluate());
    assert_eq!(snap.state_of("root").expect("exists"), State::Failing);
    group.bench_function("evaluate_100k", |b| {
        b.iter(|| runtime.block_on(engine.evaluate()))
    });
    let at = Timestamp::UNIX_EPOCH;
    group.bench_function("compute_100k", |b| {
        b.iter(|| {
            Snapshot::compute(graph.clone(), at, |id| {
                Reading::new(snap.status(id).state).at(at)
            })
        })
    });

    group.sample_size(100);
    let (deep, deep_sensors, bottom) = deep_graph();
    let mut deep_snap =
        Snapshot::compute(deep.clone(), at, |_| Reading::new(State::Passing).at(at));
    let mut failing = false;
    group.bench_function("incremental_depth_10", |b| {
        b.iter(|| {
            failing = !failing;
            let state = if failing {
                State::Failing
            } else {
                State::Passing
            };
            let log = deep_snap.apply(bottom, Reading::new(state).at(at));
            assert_eq!(log.len(), 11, "the sensor and its ten ancestors change");
            log
        })
    });
    let deep_engine = Engine::new(deep.clone(), deep_sensors);
    let mut snap = runtime.block_on(deep_engine.evaluate());
    group.bench_function("refresh_depth_10", |b| {
        b.iter(|| runtime.block_on(deep_engine.refresh(&mut snap, bottom)))
    });
    group.finish();
}

criterion_group!(health_graph, benches);
criterion_main!(health_graph);
