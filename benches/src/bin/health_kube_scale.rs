//! Times the health graph's Kubernetes instrumentors at the scale issue #17 names:
//! 5,000 pods, 1,000 Deployments and 1,000 Services (every Deployment and Service a
//! sensor: 26,000 graph nodes), read over HTTP by the real client (`kube`, through
//! `KubeApiSource` and a kubeconfig) from the test kit's Kubernetes API server fixture.
//!
//! Each pass lists every collection once (the lists are shared for `--ttl`; the bench
//! waits the TTL out between passes so that every pass lists again) and judges every
//! node. Printed: assembly time, each pass's wall time and LIST count (from the
//! fixture's recorded requests), and the percentiles over the passes. The fixture runs
//! in this process on one thread of its own: serialising 5,000 pods is part of a pass,
//! as a real API server's answer time would be.
//!
//! ```sh
//! cargo run --release -p alert-benches --bin health-kube-scale -- --passes 10
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use alert_benches::stats::report;
use alert_health_graph::kubernetes::client::KubeApiSource;
use alert_health_graph::kubernetes::source::KubeSource;
use alert_health_graph::kubernetes::{self, KubeLists};
use alert_health_graph::{Engine, GraphFile, State};
use alert_testkit::kube::{KubeApi, large_cluster};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Times passes of the Kubernetes instrumentors over the API server fixture")]
struct Args {
    /// Deployments (each with a ReplicaSet, a Service and Endpoints).
    #[arg(long, default_value_t = 1000)]
    deployments: usize,
    /// Pods per Deployment.
    #[arg(long, default_value_t = 5)]
    pods: usize,
    /// Timed passes.
    #[arg(long, default_value_t = 10)]
    passes: usize,
    /// How long one pass's lists are shared, in milliseconds (longer than a pass).
    #[arg(long, default_value_t = 2000)]
    ttl_ms: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let cluster = large_cluster(args.deployments, args.pods);
    let objects = cluster.objects.len();
    let api = KubeApi::builder().require_token().start();
    for o in cluster.objects {
        api.add(o);
    }
    let dir = tempfile::tempdir()?;
    let source: Arc<dyn KubeSource> =
        Arc::new(KubeApiSource::connect(Some(&api.write_kubeconfig(dir.path()))).await?);
    let ttl = Duration::from_millis(args.ttl_ms);
    let started = Instant::now();
    let file = GraphFile::parse(&cluster.graph_yaml, "big.yml")?;
    let registry = kubernetes::registry(KubeLists::new(source).with_ttl(ttl));
    let built = file.assemble(&registry)?;
    let nodes = built.graph.len();
    let engine = Engine::new(built.graph, built.sensors);
    println!(
        "machine: {} cores; {objects} objects ({} pods, {} Deployments, {} Services), \
         {nodes} graph nodes assembled in {:?}",
        std::thread::available_parallelism().map_or(0, usize::from),
        args.deployments * args.pods,
        args.deployments,
        args.deployments,
        started.elapsed()
    );
    // The first pass opens the connection; it is reported but not counted.
    let mut samples = Vec::with_capacity(args.passes);
    for pass in 0..=args.passes {
        let before = api.requests().len();
        let started = Instant::now();
        let snapshot = engine.evaluate().await;
        let took = started.elapsed();
        let lists = api.requests().len() - before;
        let passing = snapshot
            .graph()
            .roots()
            .iter()
            .filter(|&&r| snapshot.status(r).state == State::Passing)
            .count();
        println!(
            "pass {pass}: {took:?}, {lists} LISTs, {passing} of {} roots passing{}",
            snapshot.graph().roots().len(),
            if pass == 0 { " (warm-up)" } else { "" }
        );
        if pass > 0 {
            samples.push(took);
        }
        tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    }
    report("one pass over HTTP", samples);
    Ok(())
}
