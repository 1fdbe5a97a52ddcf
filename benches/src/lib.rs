//! Shared loading of benchmark inputs.
//!
//! The inputs are the files `../shared/bench-data/gen_routing.py` writes (a routing
//! configuration and JSON lines of alert label sets). They are generated on first use
//! into `target/bench-data/<alerts>-<seed>/` and reused afterwards, so every benchmark
//! and benchmark binary measures the same bytes.

pub mod history_data;
pub mod stats;

use std::path::{Path, PathBuf};
use std::process::Command;

use alert_core::LabelSet;

/// Where the generator lives, relative to the workspace root.
const GENERATOR: &str = "../shared/bench-data/gen_routing.py";

/// The workspace root (the parent of this package's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The directory holding `config.yml` and `alerts.jsonl` for `alerts` alerts and `seed`,
/// generated with `python3 gen_routing.py` when missing.
///
/// # Panics
/// When the generator cannot be run: benchmarks cannot do anything useful without data.
pub fn routing_data_dir(alerts: usize, seed: u64) -> PathBuf {
    let root = workspace_root();
    let dir = root
        .join("target")
        .join("bench-data")
        .join(format!("{alerts}-{seed}"));
    if dir.join("alerts.jsonl").exists() && dir.join("config.yml").exists() {
        return dir;
    }
    let generator = std::env::var_os("BENCH_DATA_GENERATOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(GENERATOR));
    let status = Command::new("python3")
        .arg(&generator)
        .arg("--out")
        .arg(&dir)
        .arg("--alerts")
        .arg(alerts.to_string())
        .arg("--seed")
        .arg(seed.to_string())
        .status()
        .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", generator.display()));
    assert!(
        status.success(),
        "{} failed ({status}); set BENCH_DATA_GENERATOR to its path",
        generator.display()
    );
    dir
}

/// Reads a JSON-lines file of label sets (one object of name to value a line).
///
/// # Panics
/// On a line that is not a valid label set, naming the file and line.
pub fn read_label_sets(path: &Path) -> Vec<LabelSet> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

/// The default benchmark data set: 100,000 alerts, seed 42 (the generator's default).
pub fn default_alerts() -> (PathBuf, Vec<LabelSet>) {
    let dir = routing_data_dir(100_000, 42);
    let alerts = read_label_sets(&dir.join("alerts.jsonl"));
    (dir, alerts)
}
