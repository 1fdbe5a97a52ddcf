//! Evaluation with paused tokio time: timeouts, bounded concurrency, bulkheads, shared
//! sensors read once per pass, incremental refresh, and the source cache.
#![cfg(feature = "runtime")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alert_health_graph::constant::ConstantSensor;
use alert_health_graph::{
    Aggregation, Engine, Error, EvaluationOptions, GraphBuilder, Kind, Level, NodeSpec, Reading,
    Result, Sensor, SensorSet, SourceCache, State, StatusMessage,
};
use async_trait::async_trait;
use tokio::time::Instant;

/// Sleeps, counts its reads, then reports its state.
struct Slow {
    latency: Duration,
    state: State,
    reads: Arc<AtomicUsize>,
}

#[async_trait]
impl Sensor for Slow {
    async fn read(&self) -> Result<Reading> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.latency).await;
        Ok(Reading::new(self.state))
    }
}

struct Broken;

#[async_trait]
impl Sensor for Broken {
    async fn read(&self) -> Result<Reading> {
        Err(Error::Request {
            target: "10.0.0.1:5432".into(),
            reason: "connection refused".into(),
        })
    }
}

struct Panics;

#[async_trait]
impl Sensor for Panics {
    async fn read(&self) -> Result<Reading> {
        panic!("index out of bounds")
    }
}

fn kind() -> Kind {
    Kind::builtin("test")
}

/// `n` sensors `s0..` under one all-of system "all".
fn flat(n: usize, make: impl Fn(usize) -> Arc<dyn Sensor>) -> Engine {
    let mut b = GraphBuilder::new();
    let names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    for name in &names {
        b.add(NodeSpec::sensor(name.clone(), kind()))
            .expect("valid");
    }
    b.add(NodeSpec::system(
        "all",
        Aggregation::All,
        names.iter().map(String::as_str),
    ))
    .expect("valid");
    let graph = Arc::new(b.build().expect("valid"));
    let mut sensors = SensorSet::for_graph(&graph);
    for (i, name) in names.iter().enumerate() {
        sensors.insert(graph.find(name).expect("exists"), make(i));
    }
    Engine::new(graph, sensors)
}

#[tokio::test(start_paused = true)]
async fn concurrency_bounds_wall_time_to_ceil_n_over_k_latencies() {
    let reads = Arc::new(AtomicUsize::new(0));
    for (n, k) in [(10usize, 3usize), (9, 3), (7, 1), (5, 16)] {
        let reads = reads.clone();
        let engine = flat(n, |_| {
            Arc::new(Slow {
                latency: Duration::from_secs(2),
                state: State::Passing,
                reads: reads.clone(),
            })
        })
        .with_options(EvaluationOptions {
            concurrency: k,
            ..EvaluationOptions::default()
        });
        let start = Instant::now();
        let snap = engine.evaluate().await;
        let batches = n.div_ceil(k) as u64;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(2 * batches),
            "n={n} k={k}"
        );
        assert_eq!(snap.state_of("all").expect("exists"), State::Passing);
    }
    assert_eq!(reads.load(Ordering::SeqCst), 10 + 9 + 7 + 5);
}

#[tokio::test(start_paused = true)]
async fn results_equal_sequential_evaluation() {
    let make = |i: usize| -> Arc<dyn Sensor> {
        Arc::new(Slow {
            latency: Duration::from_millis(100 * (7 - i as u64 % 7)),
            state: State::from_rank((i % 5) as u8),
            reads: Arc::new(AtomicUsize::new(0)),
        })
    };
    let parallel = flat(12, make)
        .with_options(EvaluationOptions {
            concurrency: 5,
            ..EvaluationOptions::default()
        })
        .evaluate()
        .await;
    let sequential = flat(12, make)
        .with_options(EvaluationOptions {
            concurrency: 1,
            ..EvaluationOptions::default()
        })
        .evaluate()
        .await;
    for id in parallel.graph().ids() {
        assert_eq!(parallel.status(id).state, sequential.status(id).state);
        assert_eq!(parallel.status(id).messages, sequential.status(id).messages);
    }
}

#[tokio::test(start_paused = true)]
async fn a_slow_sensor_times_out_as_unknown_and_others_are_unaffected() {
    let engine = flat(3, |i| -> Arc<dyn Sensor> {
        match i {
            0 => Arc::new(Slow {
                latency: Duration::from_secs(60),
                state: State::Passing,
                reads: Arc::new(AtomicUsize::new(0)),
            }),
            _ => Arc::new(ConstantSensor::new(State::Passing)),
        }
    });
    let start = Instant::now();
    let snap = engine.evaluate().await;
    assert_eq!(start.elapsed(), Duration::from_secs(10), "default timeout");
    let s0 = snap.status(snap.graph().find("s0").expect("exists"));
    assert_eq!(s0.state, State::Unknown);
    assert_eq!(
        s0.messages,
        [StatusMessage::new(Level::Warn, "timed out after 10s")]
    );
    assert_eq!(snap.state_of("s1").expect("exists"), State::Passing);
    assert_eq!(snap.state_of("all").expect("exists"), State::Unknown);

    // A sensor's own timeout wins over the default.
    let engine = flat(1, |_| {
        Arc::new(alert_health_graph::WithTimeout::new(
            Arc::new(Slow {
                latency: Duration::from_secs(60),
                state: State::Passing,
                reads: Arc::new(AtomicUsize::new(0)),
            }),
            "2s".parse().expect("valid"),
        ))
    });
    let start = Instant::now();
    let snap = engine.evaluate().await;
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    let s0 = snap.status(snap.graph().find("s0").expect("exists"));
    assert_eq!(s0.messages[0].text, "timed out after 2s");
}

#[tokio::test]
async fn errors_and_panics_stay_in_their_node_with_their_message() {
    let engine = flat(3, |i| -> Arc<dyn Sensor> {
        match i {
            0 => Arc::new(Broken),
            1 => Arc::new(Panics),
            _ => Arc::new(ConstantSensor::new(State::Passing)),
        }
    });
    let snap = engine.evaluate().await;
    let status = |n: &str| snap.status(snap.graph().find(n).expect("exists")).clone();
    assert_eq!(status("s0").state, State::Unknown);
    assert_eq!(
        status("s0").messages,
        [StatusMessage::new(
            Level::Error,
            "10.0.0.1:5432: connection refused"
        )]
    );
    assert_eq!(status("s1").state, State::Unknown);
    assert_eq!(
        status("s1").messages,
        [StatusMessage::new(
            Level::Error,
            "sensor panicked: index out of bounds"
        )]
    );
    assert_eq!(status("s2").state, State::Passing);
    assert_eq!(status("all").messages[0].text, "2 of 3 not passing: s0, s1");
}

#[tokio::test]
async fn a_shared_sensor_is_read_once_per_pass() {
    let reads = Arc::new(AtomicUsize::new(0));
    let mut b = GraphBuilder::new();
    b.add(NodeSpec::sensor("shared", kind())).expect("valid");
    b.add(NodeSpec::system("a", Aggregation::All, ["shared"]))
        .expect("valid");
    b.add(NodeSpec::system("b", Aggregation::Any, ["shared", "a"]))
        .expect("valid");
    b.add(NodeSpec::system("c", Aggregation::Not, ["shared"]))
        .expect("valid");
    b.add(NodeSpec::service("top", ["a", "b", "c", "shared"]))
        .expect("valid");
    let graph = Arc::new(b.build().expect("valid"));
    let mut sensors = SensorSet::for_graph(&graph);
    sensors.insert(
        graph.find("shared").expect("exists"),
        Arc::new(Slow {
            latency: Duration::ZERO,
            state: State::Passing,
            reads: reads.clone(),
        }),
    );
    let engine = Engine::new(graph, sensors);
    let mut snap = engine.evaluate().await;
    assert_eq!(reads.load(Ordering::SeqCst), 1, "four parents, one read");
    // Rendering the snapshot reads nothing: the explanation comes from the snapshot.
    let root = snap.graph().find("top").expect("exists");
    let _ = snap.explain(root);
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    // A second pass reads it once more.
    assert!(engine.update(&mut snap).await.is_empty());
    assert_eq!(reads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn missing_sensor_implementations_read_unknown() {
    let mut b = GraphBuilder::new();
    b.add(NodeSpec::sensor("ghost", kind())).expect("valid");
    let graph = Arc::new(b.build().expect("valid"));
    let snap = Engine::new(graph.clone(), SensorSet::for_graph(&graph))
        .evaluate()
        .await;
    let s = snap.status(graph.find("ghost").expect("exists"));
    assert_eq!(
        (s.state, s.messages[0].text.as_str()),
        (State::Unknown, "no sensor implementation")
    );
}

/// A sensor whose state can be switched from the test.
struct Switch(std::sync::Mutex<State>);

#[async_trait]
impl Sensor for Switch {
    async fn read(&self) -> Result<Reading> {
        Ok(Reading::new(*self.0.lock().expect("not poisoned")))
    }
}

#[tokio::test]
async fn refresh_recomputes_ancestors_and_logs_changes() {
    let switch = Arc::new(Switch(std::sync::Mutex::new(State::Passing)));
    let mut b = GraphBuilder::new();
    b.add(NodeSpec::sensor("flip", kind())).expect("valid");
    b.add(NodeSpec::sensor("steady", kind())).expect("valid");
    b.add(NodeSpec::system(
        "pair",
        Aggregation::AtLeast {
            ok: alert_health_graph::Threshold::Count(2),
            warn: Some(alert_health_graph::Threshold::Count(1)),
        },
        ["flip", "steady"],
    ))
    .expect("valid");
    b.add(NodeSpec::service("svc", ["pair"])).expect("valid");
    let graph = Arc::new(b.build().expect("valid"));
    let mut sensors = SensorSet::for_graph(&graph);
    let flip = graph.find("flip").expect("exists");
    sensors.insert(flip, switch.clone());
    sensors.insert(
        graph.find("steady").expect("exists"),
        Arc::new(ConstantSensor::new(State::Passing)),
    );
    let engine = Engine::new(graph, sensors);
    let mut snap = engine.evaluate().await;
    *switch.0.lock().expect("not poisoned") = State::Failing;
    let log = engine.refresh(&mut snap, flip).await;
    let summary: Vec<(String, State, State)> =
        log.into_iter().map(|c| (c.node, c.old, c.new)).collect();
    assert_eq!(
        summary,
        [
            ("flip".to_owned(), State::Passing, State::Failing),
            ("pair".to_owned(), State::Passing, State::Degraded),
            ("svc".to_owned(), State::Passing, State::Degraded),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn n_sensors_on_one_source_make_one_call_per_ttl() {
    let cache: Arc<SourceCache<u64>> = Arc::new(SourceCache::new());
    let calls = Arc::new(AtomicUsize::new(0));

    /// Reads the shared upstream through the cache; the upstream takes 1 s.
    struct Fed {
        cache: Arc<SourceCache<u64>>,
        calls: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl Sensor for Fed {
        async fn read(&self) -> Result<Reading> {
            let calls = self.calls.clone();
            let got = self
                .cache
                .get("upstream", Duration::from_secs(30), async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    Ok(7)
                })
                .await?;
            Ok(Reading::explained(
                State::Passing,
                format!("value {} age {:?}", got.value, got.age),
            ))
        }
    }

    let engine = flat(20, |_| {
        Arc::new(Fed {
            cache: cache.clone(),
            calls: calls.clone(),
        })
    })
    .with_options(EvaluationOptions {
        concurrency: 20,
        ..EvaluationOptions::default()
    });
    let snap = engine.evaluate().await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "coalesced while in flight");
    assert_eq!(snap.state_of("all").expect("exists"), State::Passing);
    tokio::time::advance(Duration::from_secs(10)).await;
    let snap = engine.evaluate().await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "served from cache within the TTL"
    );
    let s0 = snap.status(snap.graph().find("s0").expect("exists"));
    assert_eq!(s0.messages[0].text, "value 7 age 10s");
    tokio::time::advance(Duration::from_secs(25)).await;
    engine.evaluate().await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one call in the next TTL window"
    );
}

#[tokio::test(start_paused = true)]
async fn source_cache_errors_are_shared_but_not_kept() {
    let cache: SourceCache<u64> = SourceCache::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let failing = |calls: Arc<AtomicUsize>| async move {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(10)).await;
        Err(Error::Request {
            target: "upstream".into(),
            reason: "503".into(),
        })
    };
    let ttl = Duration::from_secs(30);
    let (a, b) = tokio::join!(
        cache.get("k", ttl, failing(calls.clone())),
        cache.get("k", ttl, failing(calls.clone()))
    );
    assert!(a.is_err() && b.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let c = cache.get("k", ttl, async { Ok(5) }).await.expect("fetched");
    assert_eq!(c.value, 5);
}

/// Knows its reading at once, but panics doing so.
struct PanicsAtOnce;

#[async_trait]
impl Sensor for PanicsAtOnce {
    async fn read(&self) -> Result<Reading> {
        Ok(Reading::new(State::Passing))
    }

    fn immediate(&self) -> Option<Reading> {
        panic!("bad constant")
    }
}

#[tokio::test(start_paused = true)]
async fn immediate_sensors_are_read_once_without_a_concurrency_slot() {
    let reads = Arc::new(AtomicUsize::new(0));
    let engine = flat(4, |i| -> Arc<dyn Sensor> {
        match i {
            0 => Arc::new(Slow {
                latency: Duration::from_secs(3),
                state: State::Passing,
                reads: reads.clone(),
            }),
            1 => Arc::new(PanicsAtOnce),
            _ => Arc::new(ConstantSensor::new(State::Degraded)),
        }
    })
    .with_options(EvaluationOptions {
        concurrency: 1,
        ..EvaluationOptions::default()
    });
    let start = Instant::now();
    let snap = engine.evaluate().await;
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(3),
        "only the slow one waited"
    );
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    let s1 = snap.status(snap.graph().find("s1").expect("exists"));
    assert_eq!(s1.state, State::Unknown);
    assert_eq!(s1.messages[0].text, "sensor panicked: bad constant");
    assert_eq!(snap.state_of("s2").expect("exists"), State::Degraded);
    assert_eq!(snap.state_of("all").expect("exists"), State::Unknown);
}
