//! The README's first command, as `scripts/demo --once` runs it: `alert-demo --once` with
//! the REAL processes (the gateway and its 3-member Alertmanager 0.25 cluster,
//! Prometheus 2.42, the history server, the status page), on free ports in a temporary
//! working directory, twice on the same directory (a second run starts from the first
//! one's stores, as `./demo-data` is kept between runs). Each run must print every step
//! of the scenario and exit 0, and leave no process behind.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The binaries of this package, and where `alert-gateway` is when the workspace is built.
fn bin_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_alertctl"))
        .parent()
        .expect("the binaries' directory")
        .to_path_buf();
    assert!(
        dir.join("alert-gateway").is_file(),
        "{}/alert-gateway is missing: build it with `cargo build -p alert-gateway` \
         (scripts/test builds every binary of the workspace)",
        dir.display()
    );
    dir
}

/// The processes whose command line names `dir`.
fn processes_under(dir: &Path) -> Vec<String> {
    let needle = dir.display().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let zombie =
            std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|s| s.contains(") Z "));
        if cmdline.contains(&needle) && !zombie {
            found.push(cmdline);
        }
    }
    found
}

/// Runs the demo once on `dir` and returns its standard output, after checking it exited
/// 0 and stopped everything.
fn run_once(dir: &Path) -> String {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo-spec.yaml");
    let output = Command::new(env!("CARGO_BIN_EXE_alert-demo"))
        .arg("--once")
        .arg("--free-ports")
        .arg(format!("--dir={}", dir.display()))
        .arg(format!("--spec={}", spec.display()))
        .arg(format!("--bin-dir={}", bin_dir().display()))
        .output()
        .expect("alert-demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "alert-demo --once failed ({}):\n{stdout}\n{stderr}\nlogs in {}",
        output.status,
        dir.join("logs").display()
    );
    let left = processes_under(dir);
    assert!(left.is_empty(), "processes left running: {left:#?}");
    stdout
}

/// The lines of `stdout` that are scenario steps about `subject`.
fn steps<'a>(stdout: &'a str, subject: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .filter(|l| l.starts_with('[') && l.contains(subject))
        .collect()
}

fn assert_has(stdout: &str, fragment: &str) {
    assert!(
        stdout.contains(fragment),
        "the demo did not print {fragment:?}:\n{stdout}"
    );
}

#[test]
fn the_demo_runs_every_step_twice_on_one_directory() {
    let dir = tempfile::tempdir().expect("temporary directory");

    let first = run_once(dir.path());
    for fragment in [
        "Alertmanager cluster formed",
        "created: conditions/demo-app-down",
        "created: slos/demo-app-availability",
        "live in ",
        "rules loaded by Prometheus: demo_app_down (up{job=\"demo-app\"} == 0 for 5s)",
        "baseline: Prometheus scrapes all 8 targets (alert-gateway, alert-health, alert-history, alertmanager x3, demo-app, prometheus)",
        "the pipeline heartbeat (watchdog) is recorded by the history server",
        "Demo app: failing on the status page",
        "silenced demo-agent-disconnected for 20s",
        "demo-agent-disconnected: silenced on the Alertmanager cluster",
        "Demo app: passing on the status page",
        "alert-history-server check: OK",
        "the history health bar draws demo-app-down and demo-agent-disconnected",
        "Every step happened.",
    ] {
        assert_has(&first, fragment);
    }
    // Each condition fires, reaches the receiver, the history and the emitter, and
    // resolves at the receiver and in the history, in that order.
    for condition in ["demo-app-down:", "demo-agent-disconnected:"] {
        let lines = steps(&first, condition);
        let position = |fragment: &str| {
            lines
                .iter()
                .position(|l| l.contains(fragment))
                .unwrap_or_else(|| panic!("no step {condition} {fragment}:\n{first}"))
        };
        let firing = position("firing (the gateway's condition status)");
        let delivered = position("delivered to receiver team-receiver (http://127.0.0.1:");
        assert!(
            lines[delivered].contains(": firing, 1 alert(s)"),
            "{}",
            lines[delivered]
        );
        let recorded = position("recorded by the history server as episode ");
        position("in the emitter's message cache");
        let resolved = position("resolved (the condition status is inactive again)");
        let delivered_resolved = position(": resolved, 1 alert(s)");
        let ended = position("(resolved)");
        assert!(
            firing < delivered && delivered < resolved && recorded < ended,
            "steps out of order for {condition}:\n{}",
            lines.join("\n")
        );
        assert!(resolved < delivered_resolved, "{}", lines.join("\n"));
    }
    assert!(
        !first.contains("ran the demo before"),
        "a fresh directory is not a re-run:\n{first}"
    );

    // Again on the same stores: nothing to create (the receiver's free port changed, so
    // its endpoint is updated), and the same scenario passes.
    let second = run_once(dir.path());
    assert_has(&second, "0 created, 1 updated, 0 deleted, 4 unchanged");
    assert_has(&second, "this directory ran the demo before");
    assert_has(
        &second,
        "demo-agent-disconnected: delivered to receiver team-receiver",
    );
    assert_has(&second, "Every step happened.");
}
