//! The evaluator: alerts posted to a real Alertmanager (alert-testkit) appear in
//! `/api/v2/alerts` and resolve on recovery; leader election lets one evaluator post;
//! failed resolutions are retried.
#![cfg(feature = "http")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alert_core::LabelSet;
use alert_health_graph::{
    AlertPolicy, AlertSink, AlertmanagerSink, AlertmanagerTarget, Engine, Error, GraphBuilder,
    GraphEvaluator, Kind, LeaderElection, LocalLease, NodeAlert, NodeSpec, Reading, Result, Sensor,
    SensorSet, State,
};
use alert_testkit::{Alertmanager, MINIMAL_CONFIG, wait_until};
use async_trait::async_trait;

/// A sensor whose state the test switches.
struct Switch(Mutex<State>);

impl Switch {
    fn set(&self, state: State) {
        *self.0.lock().expect("not poisoned") = state;
    }
}

#[async_trait]
impl Sensor for Switch {
    async fn read(&self) -> Result<Reading> {
        let state = *self.0.lock().expect("not poisoned");
        Ok(if state.is_passing() {
            Reading::new(state)
        } else {
            Reading::explained(state, "primary unreachable")
        })
    }
}

/// db-primary -> db (system) -> reports (service)
fn engine(switch: Arc<Switch>) -> Engine {
    let mut b = GraphBuilder::new();
    b.add(NodeSpec::sensor("db-primary", Kind::builtin("test")))
        .expect("valid");
    b.add(NodeSpec::system(
        "db",
        alert_health_graph::Aggregation::All,
        ["db-primary"],
    ))
    .expect("valid");
    b.add(NodeSpec::service("reports", ["db"])).expect("valid");
    let graph = Arc::new(b.build().expect("valid"));
    let mut sensors = SensorSet::for_graph(&graph);
    sensors.insert(graph.find("db-primary").expect("exists"), switch);
    Engine::new(graph, sensors)
}

fn policy() -> AlertPolicy {
    AlertPolicy {
        default_for: alert_core::Duration::ZERO,
        resolve_after: "5m".parse().expect("valid"),
        extra_labels: LabelSet::from_pairs([("team", "platform")]).expect("valid"),
        generator_url: "http://status.example/".into(),
    }
}

fn ours(am: &Alertmanager) -> Vec<serde_json::Value> {
    am.alerts()
        .into_iter()
        .filter(|a| a["labels"]["alertname"] == alert_health_graph::ALERT_NAME)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_appear_in_alertmanager_and_resolve_on_recovery() {
    let am = tokio::task::spawn_blocking(|| Alertmanager::start(MINIMAL_CONFIG))
        .await
        .expect("started");
    let switch = Arc::new(Switch(Mutex::new(State::Failing)));
    let sink = AlertmanagerSink::for_target(&AlertmanagerTarget::new([am.base_url()]), None)
        .expect("a valid target");
    let mut evaluator =
        GraphEvaluator::new(engine(switch.clone()), policy()).with_sink(Arc::new(sink));

    let report = evaluator.pass().await;
    assert!(report.leader);
    assert_eq!(report.post_error, None);
    assert_eq!(report.alerts.len(), 2, "db and reports");
    let firing = wait_until(Duration::from_secs(10), "two active alerts", || {
        let a = ours(&am);
        (a.len() == 2).then_some(a)
    });
    let reports = firing
        .iter()
        .find(|a| a["labels"]["node"] == "reports")
        .expect("reports alert");
    assert_eq!(reports["labels"]["role"], "service");
    assert_eq!(reports["labels"]["severity"], "critical");
    assert_eq!(reports["labels"]["team"], "platform");
    assert_eq!(reports["status"]["state"], "active");
    assert_eq!(reports["annotations"]["summary"], "reports is failing");
    assert_eq!(
        reports["annotations"]["explain"],
        "reports -> db -> db-primary (failing): primary unreachable"
    );
    assert_eq!(reports["generatorURL"], "http://status.example/");

    // A second failing pass re-posts (refreshing endsAt); still the same two alerts.
    let report = evaluator.pass().await;
    assert_eq!(report.alerts.len(), 2);
    assert_eq!(ours(&am).len(), 2);

    // Recovery: both resolve (endsAt = now), and Alertmanager stops listing them.
    switch.set(State::Passing);
    let report = evaluator.pass().await;
    assert_eq!(report.post_error, None);
    assert_eq!(report.changes.len(), 3, "sensor, system, service changed");
    let now = evaluator.snapshot().expect("evaluated").evaluated_at();
    assert_eq!(report.alerts.len(), 2);
    assert!(report.alerts.iter().all(|a| a.is_resolved_at(now)));
    wait_until(Duration::from_secs(10), "the alerts to resolve", || {
        ours(&am).is_empty().then_some(())
    });
    // The history has both transitions of the service.
    let states: Vec<State> = evaluator
        .history()
        .transitions("reports")
        .iter()
        .map(|t| t.state)
        .collect();
    assert_eq!(states, [State::Failing, State::Passing]);
}

/// Remembers every batch it is given; fails while `fail` is set.
#[derive(Default)]
struct Recording {
    batches: Mutex<Vec<Vec<NodeAlert>>>,
    fail: Mutex<bool>,
}

#[async_trait]
impl AlertSink for Recording {
    async fn post(&self, alerts: &[NodeAlert]) -> Result<()> {
        if *self.fail.lock().expect("not poisoned") {
            return Err(Error::Request {
                target: "sink".into(),
                reason: "connection refused".into(),
            });
        }
        self.batches
            .lock()
            .expect("not poisoned")
            .push(alerts.to_vec());
        Ok(())
    }
}

impl Recording {
    fn count(&self) -> usize {
        self.batches.lock().expect("not poisoned").len()
    }
}

#[tokio::test(start_paused = true)]
async fn only_the_leader_posts_and_a_follower_takes_over() {
    let lease = Arc::new(LocalLease::new(Duration::from_secs(60)));
    let switch = Arc::new(Switch(Mutex::new(State::Failing)));
    let (sink_a, sink_b) = (
        Arc::new(Recording::default()),
        Arc::new(Recording::default()),
    );
    let mut a = GraphEvaluator::new(engine(switch.clone()), policy())
        .with_sink(sink_a.clone())
        .with_leader(lease.clone(), "a");
    let mut b = GraphEvaluator::new(engine(switch.clone()), policy())
        .with_sink(sink_b.clone())
        .with_leader(lease.clone(), "b");
    for _ in 0..3 {
        assert!(a.pass().await.leader);
        assert!(!b.pass().await.leader);
        tokio::time::advance(Duration::from_secs(30)).await;
    }
    assert_eq!((sink_a.count(), sink_b.count()), (3, 0));
    // "a" stops; after its lease runs out "b" leads and posts.
    tokio::time::advance(Duration::from_secs(61)).await;
    assert!(b.pass().await.leader);
    assert_eq!(sink_b.count(), 1);
    assert_eq!(lease.holder().as_deref(), Some("b"));
}

#[tokio::test]
async fn a_resolution_that_failed_to_post_is_retried() {
    let switch = Arc::new(Switch(Mutex::new(State::Failing)));
    let sink = Arc::new(Recording::default());
    let mut ev = GraphEvaluator::new(engine(switch.clone()), policy()).with_sink(sink.clone());
    ev.pass().await;
    switch.set(State::Passing);
    *sink.fail.lock().expect("not poisoned") = true;
    let report = ev.pass().await;
    assert_eq!(
        report.post_error.as_deref(),
        Some("sink: connection refused")
    );
    *sink.fail.lock().expect("not poisoned") = false;
    let report = ev.pass().await;
    assert!(report.alerts.is_empty(), "nothing new to say");
    let now = ev.snapshot().expect("evaluated").evaluated_at();
    let batches = sink.batches.lock().expect("not poisoned");
    let last = batches.last().expect("retried");
    assert_eq!(last.len(), 2, "both resolutions re-sent");
    assert!(last.iter().all(|a| a.is_resolved_at(now)));
    assert!(
        batches[0].iter().all(|a| !a.is_resolved_at(now)),
        "the first batch fired"
    );
}

#[tokio::test(start_paused = true)]
async fn run_publishes_every_interval_until_shutdown() {
    let switch = Arc::new(Switch(Mutex::new(State::Passing)));
    let ev = GraphEvaluator::new(engine(switch), policy()).with_interval(Duration::from_secs(10));
    let mut rx = ev.subscribe();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(ev.run(async {
        let _ = stopped.await;
    }));
    let mut passes = Vec::new();
    for _ in 0..3 {
        rx.changed().await.expect("published");
        let published = rx.borrow().clone().expect("some");
        passes.push(published.pass);
        assert_eq!(
            published.snapshot.state_of("reports").expect("exists"),
            State::Passing
        );
    }
    assert_eq!(passes, [1, 2, 3]);
    let _ = stop.send(());
    task.await.expect("stops cleanly");
}

/// An election in which the candidate leads in term 1, but term 2 begins before it acts:
/// what a leader paused between judging and posting sees.
struct SupersededMidPass;

#[async_trait]
impl LeaderElection for SupersededMidPass {
    async fn lead(&self, _candidate: &str) -> Option<u64> {
        Some(1)
    }

    async fn holds(&self, _candidate: &str, _term: u64) -> bool {
        false
    }

    async fn resign(&self, _candidate: &str) {}
}

#[tokio::test]
async fn a_leader_whose_term_was_superseded_does_not_post() {
    let switch = Arc::new(Switch(Mutex::new(State::Failing)));
    let sink = Arc::new(Recording::default());
    let mut ev = GraphEvaluator::new(engine(switch), policy())
        .with_sink(sink.clone())
        .with_leader(Arc::new(SupersededMidPass), "a");
    let report = ev.pass().await;
    assert!(!report.alerts.is_empty(), "there was something to post");
    assert!(!report.leader, "the fence check demoted it");
    assert_eq!(
        sink.count(),
        0,
        "nothing was posted on behalf of a stale term"
    );
}
