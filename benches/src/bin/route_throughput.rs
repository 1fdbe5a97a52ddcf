//! `route-throughput`: how fast the compiled routing tree matches alerts.
//!
//! ```text
//! route-throughput --config FILE --alerts FILE [--iterations N] [--repeat R] [--print]
//! ```
//!
//! `--alerts` is JSON lines, one object of label name to value per alert (the output of
//! `shared/bench-data/gen_routing.py`). With `--print`, prints each alert's receivers
//! comma-separated, exactly as `amtool config routes test` prints them. Otherwise times
//! only the match calls, over label sets already in memory: `--iterations` passes over
//! all alerts per repeat (default 10), `--repeat` repeats (default 3), and per repeat
//! prints `ns_per_match=<x> checksum=<routes matched in one pass>`, and on standard error
//! `cpu_ns_per_match=<x>`, the thread's own CPU time (Linux). The figures measured on the
//! benchmark data, with the machine, are in `benches/README.md`.

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use alert_core::LabelSet;
use alert_router::config::Config;
use alert_router::route::{MatchBuffer, RoutingTree};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "route-throughput", about = "Times routing-tree matching")]
struct Args {
    /// Alertmanager configuration file.
    #[arg(long)]
    config: String,
    /// JSON lines of alert label sets.
    #[arg(long)]
    alerts: String,
    /// Passes over all alerts per repeat.
    #[arg(long, default_value_t = 10)]
    iterations: u32,
    /// How many timed repeats to print.
    #[arg(long, default_value_t = 3)]
    repeat: u32,
    /// Print each alert's receivers instead of timing.
    #[arg(long)]
    print: bool,
}

fn run(args: &Args) -> Result<(), String> {
    let yaml = std::fs::read_to_string(&args.config)
        .map_err(|e| format!("cannot read {}: {e}", args.config))?;
    let config = Config::from_yaml(&yaml).map_err(|e| format!("{}: {e}", args.config))?;
    let tree = RoutingTree::new(&config.route).map_err(|e| format!("{}: {e}", args.config))?;
    let text = std::fs::read_to_string(&args.alerts)
        .map_err(|e| format!("cannot read {}: {e}", args.alerts))?;
    let mut alerts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let labels: LabelSet =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", args.alerts, i + 1))?;
        alerts.push(labels);
    }
    let mut buf = MatchBuffer::new();
    if args.print {
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        for labels in &alerts {
            let mut first = true;
            for &id in tree.match_into(labels, &mut buf) {
                if !first {
                    out.write_all(b",").map_err(|e| e.to_string())?;
                }
                first = false;
                out.write_all(tree.route(id).receiver().as_bytes())
                    .map_err(|e| e.to_string())?;
            }
            out.write_all(b"\n").map_err(|e| e.to_string())?;
        }
        out.flush().map_err(|e| e.to_string())?;
        return Ok(());
    }
    if alerts.is_empty() {
        return Err(format!("{}: no alerts", args.alerts));
    }
    let (matchers, regex) = tree.matcher_counts();
    eprintln!(
        "routes={} distinct_matchers={matchers} regex_matchers={regex} alerts={}",
        tree.len(),
        alerts.len()
    );
    // One untimed pass warms the caches and the buffer.
    let mut checksum = 0u64;
    for labels in &alerts {
        checksum += tree.match_into(labels, &mut buf).len() as u64;
    }
    for _ in 0..args.repeat {
        let cpu_start = thread_cpu_ns();
        let start = Instant::now();
        let mut total = 0u64;
        for _ in 0..args.iterations {
            for labels in &alerts {
                total += tree
                    .match_into(std::hint::black_box(labels), &mut buf)
                    .len() as u64;
            }
        }
        let elapsed = start.elapsed();
        let calls = u64::from(args.iterations) * alerts.len() as u64;
        let ns = elapsed.as_nanos() as f64 / calls.max(1) as f64;
        std::hint::black_box(total);
        println!("ns_per_match={ns:.1} checksum={checksum}");
        // On a shared machine wall time includes waiting for a core; the thread's own
        // CPU time (Linux) shows what the matching itself costs.
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_ns()) {
            eprintln!(
                "cpu_ns_per_match={:.1}",
                (b - a) as f64 / calls.max(1) as f64
            );
        }
    }
    Ok(())
}

/// This thread's CPU time in nanoseconds, from `/proc/thread-self/schedstat` (Linux).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        // `--print | head`: the reader stopped reading.
        Err(e) if e.contains("Broken pipe") => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("route-throughput: {e}");
            ExitCode::FAILURE
        }
    }
}
