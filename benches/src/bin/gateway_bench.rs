//! Times the gateway's data plane over HTTP on loopback, as issue #13 asks: a condition
//! PUT (p50/p99, full durability), listing 10,000 conditions, importing a 10,000-condition
//! spec, and how soon a watcher sees a write, on the embedded SQLite store or on a real
//! 3-member etcd 3.4 cluster (started by the test kit).
//!
//! ```sh
//! cargo run --release -p alert-benches --bin gateway-bench -- --store sqlite
//! cargo run --release -p alert-benches --bin gateway-bench -- --store etcd --puts 1000
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use alert_benches::stats::report;
use alert_gateway::api::{ApiOptions, router};
use alert_gateway::server::{ServeOptions, serve};
use alert_gateway::store::{SharedStore, sqlite::SqliteStore};
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Times the gateway's data plane over HTTP on loopback")]
struct Args {
    /// The store: sqlite (embedded, WAL, synchronous=FULL) or etcd (3 real members); or
    /// `emitter` to time the emitter's webhook instead.
    #[arg(long, default_value = "sqlite")]
    store: String,
    /// How many condition PUTs to time.
    #[arg(long, default_value_t = 2000)]
    puts: usize,
    /// How many conditions the listing and the import hold.
    #[arg(long, default_value_t = 10_000)]
    conditions: usize,
    /// How many watched writes to time.
    #[arg(long, default_value_t = 500)]
    watched: usize,
    /// How many notifications to post to the emitter (`--store emitter`).
    #[arg(long, default_value_t = 50_000)]
    notifications: usize,
    /// How many concurrent senders post them.
    #[arg(long, default_value_t = 16)]
    senders: usize,
}

/// Notifications per second into the emitter's message cache over loopback HTTP.
async fn emitter_throughput(args: &Args) {
    use alert_gateway::api::guarded;
    use alert_gateway::emitter::{self, EmitterOptions};
    let app = guarded(
        emitter::router(EmitterOptions::default()),
        ApiOptions::default(),
        None,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(serve(listener, app, ServeOptions::default(), stopped));
    let url = format!("{base}/api/v1/emitter/webhook");
    let per_sender = args.notifications / args.senders.max(1);
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.senders)
        .map(|s| {
            let url = url.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                for i in 0..per_sender {
                    let body = format!(
                        r#"{{"receiver":"r","status":"firing","alerts":[{{"status":"firing","labels":{{"alertname":"A{i}","tenant":"t{s}","alert_condition_id":"c{}"}},"annotations":{{"summary":"s"}},"startsAt":"2026-12-07T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":""}}],"groupKey":"{{}}:{{}}","version":"4"}}"#,
                        i % 50
                    );
                    let r = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .expect("the emitter answers");
                    assert!(r.status().is_success());
                    let _ = r.bytes().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("a sender");
    }
    let took = started.elapsed();
    let total = per_sender * args.senders;
    println!(
        "emitter: {total} notifications from {} senders in {took:.3?} = {:.0}/s",
        args.senders,
        total as f64 / took.as_secs_f64()
    );
}

fn condition(i: usize) -> Value {
    json!({
        "id": format!("c-{i}"),
        "name": format!("Target {i} down"),
        "tenant": format!("cluster-{}", i % 50),
        "severity": if i.is_multiple_of(3) { "critical" } else { "warning" },
        "labels": {"team": format!("team-{}", i % 20)},
        "prometheus": {"query": format!("up{{job=\"job-{i}\"}} == 0"), "for": "5m"},
        "endpoints": ["pager"],
    })
}

fn spec(n: usize, generation: usize) -> Value {
    let conditions: Vec<Value> = (0..n)
        .map(|i| {
            let mut c = condition(i);
            c["annotations"] = json!({"generation": generation.to_string()});
            c
        })
        .collect();
    json!({
        "endpoints": [{"id": "pager", "pagerduty": {"routing_key": "bench-key"}}],
        "conditions": conditions,
    })
}

struct Served {
    base: String,
    store: SharedStore,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn serve_store(store: SharedStore) -> Served {
    let app = router(Arc::clone(&store), ApiOptions::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(serve(listener, app, ServeOptions::default(), stopped));
    Served {
        base,
        store,
        _stop: stop,
    }
}

async fn put_spec(client: &reqwest::Client, base: &str, body: &Value) -> Value {
    let r = client
        .put(format!("{base}/api/v1/spec"))
        .json(body)
        .send()
        .await
        .expect("the import answers");
    assert!(r.status().is_success(), "import: {}", r.status());
    r.json().await.expect("a plan")
}

async fn run(args: Args, store: SharedStore, label: &str) {
    let served = serve_store(store).await;
    let client = reqwest::Client::new();
    let base = &served.base;
    println!("== {label}");

    // Import a spec of N conditions into the empty store, then replace every condition.
    let first = spec(args.conditions, 0);
    let started = Instant::now();
    let plan = put_spec(&client, base, &first).await;
    let took = started.elapsed();
    println!(
        "import {} conditions (create)              {took:>9.3?}  ({} created)",
        args.conditions,
        plan["created"].as_array().map_or(0, Vec::len)
    );
    let second = spec(args.conditions, 1);
    let started = Instant::now();
    let plan = put_spec(&client, base, &second).await;
    println!(
        "import {} conditions (update all)          {:>9.3?}  ({} updated)",
        args.conditions,
        started.elapsed(),
        plan["updated"].as_array().map_or(0, Vec::len)
    );
    let started = Instant::now();
    let plan = put_spec(&client, base, &second).await;
    println!(
        "import {} conditions (no change)           {:>9.3?}  ({} unchanged)",
        args.conditions,
        started.elapsed(),
        plan["unchanged"]
    );

    // List them.
    let mut lists = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let r = client
            .get(format!("{base}/api/v1/conditions"))
            .send()
            .await
            .expect("list");
        let bytes = r.bytes().await.expect("a body");
        lists.push(started.elapsed());
        assert!(bytes.len() > args.conditions * 100);
    }
    report(&format!("list {} conditions", args.conditions), lists);
    let mut filtered = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let r = client
            .get(format!("{base}/api/v1/conditions?tenant=cluster-7"))
            .send()
            .await
            .expect("list");
        let _ = r.bytes().await.expect("a body");
        filtered.push(started.elapsed());
    }
    report(
        &format!("list {} conditions ?tenant= (1/50)", args.conditions),
        filtered,
    );

    // PUT one condition at a time (replacing existing ones), sequentially.
    let mut puts = Vec::with_capacity(args.puts);
    for i in 0..args.puts {
        let mut c = condition(i % args.conditions.max(1));
        c["annotations"] = json!({"put": i.to_string()});
        let started = Instant::now();
        let r = client
            .put(format!(
                "{base}/api/v1/conditions/c-{}",
                i % args.conditions.max(1)
            ))
            .json(&c)
            .send()
            .await
            .expect("a PUT answers");
        assert!(r.status().is_success(), "PUT: {}", r.status());
        let _ = r.bytes().await;
        puts.push(started.elapsed());
    }
    report("PUT one condition (HTTP, acknowledged)", puts);

    // A write seen by a watcher: from sending the PUT to the watcher's event.
    let revision = served.store.revision().await.expect("a revision");
    let mut watch = served.store.watch(revision).await.expect("a watch");
    let mut seen = Vec::with_capacity(args.watched);
    for i in 0..args.watched {
        let mut c = condition(i % args.conditions.max(1));
        c["annotations"] = json!({"watched": i.to_string()});
        let started = Instant::now();
        let r = client
            .put(format!(
                "{base}/api/v1/conditions/c-{}",
                i % args.conditions.max(1)
            ))
            .json(&c)
            .send()
            .await
            .expect("a PUT answers");
        assert!(r.status().is_success());
        let _ = r.bytes().await;
        loop {
            let event = tokio::time::timeout(Duration::from_secs(10), watch.next())
                .await
                .expect("an event within 10 s")
                .expect("an open watch")
                .expect("an event");
            if event
                .value
                .as_deref()
                .is_some_and(|v| v.contains(&format!("\"watched\":\"{i}\"")))
            {
                seen.push(started.elapsed());
                break;
            }
        }
    }
    report("PUT to watcher event (store watch)", seen);
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "gateway-bench: {} cores, store {}, {} puts, {} conditions",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.store,
        args.puts,
        args.conditions
    );
    match args.store.as_str() {
        "sqlite" => {
            let dir = tempfile::tempdir().expect("a temp dir");
            let store: SharedStore =
                Arc::new(SqliteStore::open(&dir.path().join("gateway.db")).expect("a store"));
            runtime.block_on(run(args, store, "SQLite (WAL, synchronous=FULL)"));
        }
        "emitter" => runtime.block_on(emitter_throughput(&args)),
        "etcd" => {
            // A 10,000-condition import is one transaction: etcd's default limits (128
            // operations, 1.5 MiB a request) must be raised for it, as an operator would.
            let cluster = alert_testkit::etcd::Etcd::builder()
                .flag("--max-txn-ops=100000")
                .flag("--max-request-bytes=67108864")
                .start_cluster(3);
            let url = format!("etcd:{}", cluster.endpoints().join(","));
            runtime.block_on(async {
                let store = alert_gateway::store::open(&url, None)
                    .await
                    .expect("the etcd store");
                run(
                    args,
                    store,
                    "etcd 3.4, 3 members on loopback (--unsafe-no-fsync)",
                )
                .await;
            });
        }
        other => {
            eprintln!("gateway-bench: --store {other:?}: expected sqlite, etcd or emitter");
            std::process::exit(2);
        }
    }
}
