//! Times the gateway's evaluator, as issue #15 asks: heartbeats accepted per second over
//! loopback HTTP (each one durable in the store before it is answered), and how late a
//! disconnect is detected with 10,000 agents — from an agent's deadline (its last
//! heartbeat + the condition's timeout) to its alert reaching Alertmanager's API.
//!
//! The evaluator, its HTTP API and the store (SQLite, WAL, synchronous=FULL) run in this
//! process. The "Alertmanager" is a recorder of `POST /api/v2/alerts` in this process:
//! what is measured is the evaluator, not Alertmanager's ingestion.
//!
//! ```sh
//! cargo run --release -p alert-benches --bin evaluator-bench -- --agents 10000
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alert_benches::stats::report;
use alert_core::AlertCondition;
use alert_cortex_adapter::{AlertmanagerClient, Cluster};
use alert_gateway::api::{ApiOptions, guarded};
use alert_gateway::data_plane::{DataPlane, Precondition};
use alert_gateway::election::Elector;
use alert_gateway::evaluator::{self, Evaluator, EvaluatorOptions};
use alert_gateway::functional::AlertmanagerTenancy;
use alert_gateway::metrics::Metrics;
use alert_gateway::server::{ServeOptions, serve};
use alert_gateway::store::SharedStore;
use alert_gateway::store::sqlite::SqliteStore;
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Times the gateway's evaluator over HTTP on loopback")]
struct Args {
    /// How many agents report.
    #[arg(long, default_value_t = 10_000)]
    agents: usize,
    /// How long the throughput phase sends heartbeats.
    #[arg(long, default_value = "10")]
    seconds: u64,
    /// Concurrent heartbeat senders.
    #[arg(long, default_value_t = 64)]
    senders: usize,
    /// The disconnect timeout, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Over how many seconds the agents' last heartbeats are spread.
    #[arg(long, default_value_t = 5)]
    spread: u64,
}

/// When each agent's alert first arrived.
type Arrivals = Arc<Mutex<HashMap<String, jiff::Timestamp>>>;

/// A recorder standing in for Alertmanager's `POST /api/v2/alerts`.
async fn recorder() -> (String, Arrivals) {
    use axum::routing::post;
    let arrivals: Arrivals = Arc::default();
    let seen = Arc::clone(&arrivals);
    let app = axum::Router::new().route(
        "/api/v2/alerts",
        post(move |body: axum::body::Bytes| {
            let seen = Arc::clone(&seen);
            async move {
                let now = jiff::Timestamp::now();
                let alerts: Vec<Value> = serde_json::from_slice(&body).unwrap_or_default();
                let mut seen = seen.lock().expect("arrivals");
                for alert in alerts {
                    let firing = alert["endsAt"]
                        .as_str()
                        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                        .is_some_and(|end| end > now);
                    if let (true, Some(agent)) = (firing, alert["labels"]["agent"].as_str()) {
                        seen.entry(agent.to_owned()).or_insert(now);
                    }
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, arrivals)
}

async fn heartbeat(client: &reqwest::Client, base: &str, agent: usize) -> Value {
    let r = client
        .put(format!(
            "{base}/api/v1/agents/bench/agent-{agent}/heartbeat"
        ))
        .send()
        .await
        .expect("the evaluator answers");
    assert!(r.status().is_success(), "heartbeat: {}", r.status());
    r.json().await.expect("a record")
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    let dir = tempfile::tempdir().expect("temporary directory");
    let store: SharedStore =
        Arc::new(SqliteStore::open(&dir.path().join("gateway.db")).expect("store"));
    let plane = DataPlane::new(Arc::clone(&store));
    plane
        .put::<AlertCondition>(
            "agents-gone",
            json!({"tenant": "bench", "agent_disconnect": {"timeout": format!("{}s", args.timeout)}}),
            Precondition::None,
        )
        .await
        .expect("the condition");

    let (am, arrivals) = recorder().await;
    let client = AlertmanagerClient::builder(&am).build().expect("client");
    let target = AlertmanagerTenancy::Shared(Cluster::new(vec![client]).expect("cluster"));
    let metrics = Arc::new(Metrics::default());
    let ev = Evaluator::start(
        Arc::clone(&store),
        Some(target),
        EvaluatorOptions::default(),
        Arc::clone(&metrics),
        "bench",
    );
    let elector = Elector::new(
        Arc::clone(&store),
        evaluator::ELECTION,
        "bench",
        Duration::from_secs(5),
    )
    .expect("elector");
    tokio::spawn(Arc::clone(&ev).run(elector));
    let app = guarded(evaluator::routes(ev), ApiOptions::default(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(serve(listener, app, ServeOptions::default(), stopped));

    let http = reqwest::Client::new();
    // The view must know the tenant before heartbeats are taken.
    loop {
        let r = http
            .put(format!("{base}/api/v1/agents/bench/warmup/heartbeat"))
            .send()
            .await
            .expect("answers");
        if r.status().is_success() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // 1. Throughput: every sender cycles through its share of the agents.
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.senders)
        .map(|s| {
            let (http, base) = (http.clone(), base.clone());
            let agents = args.agents;
            let senders = args.senders;
            tokio::spawn(async move {
                let mut sent = 0usize;
                let mut latencies = Vec::new();
                let mut agent = s;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    heartbeat(&http, &base, agent).await;
                    latencies.push(t.elapsed());
                    sent += 1;
                    agent += senders;
                    if agent >= agents {
                        agent = s;
                    }
                }
                (sent, latencies)
            })
        })
        .collect();
    let mut total = 0;
    let mut latencies = Vec::new();
    for t in tasks {
        let (n, l) = t.await.expect("a sender");
        total += n;
        latencies.extend(l);
    }
    let took = started.elapsed();
    println!(
        "heartbeats: {total} to {} agents from {} senders in {took:.3?} = {:.0}/s (each durable before its answer)",
        args.agents,
        args.senders,
        total as f64 / took.as_secs_f64()
    );
    report("heartbeat latency", latencies);

    // 2. Detection: each agent's last heartbeat, spread over `spread` seconds, then
    // silence; every agent's alert is waited for.
    arrivals.lock().expect("arrivals").clear();
    let per_ms = (args.agents as f64 / (args.spread as f64 * 1000.0)).max(1.0);
    let mut last: HashMap<String, jiff::Timestamp> = HashMap::new();
    let spread_start = Instant::now();
    let mut i = 0;
    while i < args.agents {
        let due = spread_start + Duration::from_secs_f64(i as f64 / (per_ms * 1000.0));
        tokio::time::sleep_until(due.into()).await;
        let batch: Vec<_> = (i..(i + 50).min(args.agents))
            .map(|a| {
                let (http, base) = (http.clone(), base.clone());
                tokio::spawn(async move { (a, heartbeat(&http, &base, a).await) })
            })
            .collect();
        for b in batch {
            let (a, record) = b.await.expect("a heartbeat");
            let at: jiff::Timestamp = record["lastHeartbeat"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("lastHeartbeat");
            last.insert(format!("agent-{a}"), at);
        }
        i += 50;
    }
    let timeout = jiff::SignedDuration::from_secs(args.timeout as i64);
    let wait_until = Instant::now() + Duration::from_secs(args.timeout + 60);
    loop {
        let got = arrivals.lock().expect("arrivals").len();
        if got >= args.agents || Instant::now() > wait_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let arrived = arrivals.lock().expect("arrivals").clone();
    let mut late = Vec::new();
    let mut early = 0;
    for (agent, at) in &last {
        let Some(seen) = arrived.get(agent) else {
            continue;
        };
        let delay = seen.duration_since(*at + timeout);
        match Duration::try_from(delay) {
            Ok(d) => late.push(d),
            Err(_) => early += 1,
        }
    }
    println!(
        "detection: {} of {} agents alerted ({} before their deadline), timeout {}s",
        arrived.len(),
        args.agents,
        early,
        args.timeout
    );
    report("deadline -> alert posted", late);
}
