//! `alert-health serve` keeps its state history in a SQLite file: killed and restarted
//! on the same file it serves the same history and uptime, and the page says since the
//! first sample of the first run; the default file sits beside the graph file;
//! `--history.db none` keeps memory only; a file that cannot be opened is refused.

mod health_support;

use std::path::Path;
use std::time::Duration;

use alert_testkit::{http, wait_until};
use health_support::{HealthServer, serve_refused, write_graph};
use serde_json::Value;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/health-shop.yml")
}

/// Per component: (id, created_at = first sample, updated_at = since the current
/// state, uptime with `overall` in millionths: the runs evaluate at different instants,
/// so a constant fraction such as 0.7 may differ in its last bits).
fn history_of(summary: &Value) -> Vec<(String, Value, Value, Value)> {
    summary["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| {
            let mut uptime = c["uptime"].clone();
            uptime["overall"] = uptime["overall"]
                .as_f64()
                .map_or(Value::Null, |u| (u * 1e6).round().into());
            (
                c["id"].as_str().expect("id").to_owned(),
                c["created_at"].clone(),
                c["updated_at"].clone(),
                uptime,
            )
        })
        .collect()
}

#[test]
fn a_restarted_server_shows_the_same_history_since_the_first_sample() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("state/history.db");
    let db_flag = db.display().to_string();
    let flags = ["--interval", "1s", "--history.db", &db_flag];

    let first = HealthServer::start(dir.path(), &fixture(), &flags);
    // After the first pass the history holds no time yet; wait for a later pass.
    let before = wait_until(Duration::from_secs(10), "a pass after the first", || {
        let summary = http::get_json(&first.url("/api/v2/summary.json"));
        (!summary["components"][0]["uptime"]["overall"].is_null()).then_some(summary)
    });
    let since = before["page"]["history_since"].clone();
    assert!(
        since.is_string(),
        "a new history is shorter than 90 days: {before}"
    );
    first.kill();
    assert!(db.exists(), "the directory and file were created");

    let second = HealthServer::start(dir.path(), &fixture(), &flags);
    let after = http::get_json(&second.url("/api/v2/summary.json"));
    assert_eq!(
        after["page"]["history_since"], since,
        "the first run's first sample"
    );
    // The same first samples, the same "since" of every current state, the same
    // uptime: nothing changed, so the restart added no transition.
    assert_eq!(history_of(&after), history_of(&before));
    let checkout = history_of(&after)
        .into_iter()
        .find(|c| c.0 == "checkout")
        .expect("checkout");
    assert_eq!(checkout.3["since"], since);
    assert_eq!(checkout.3["overall"], 0.0);
    assert_eq!(
        history_of(&after)
            .iter()
            .find(|c| c.0 == "cache")
            .expect("cache")
            .3["overall"],
        1e6
    );
    let date = since.as_str().expect("text").get(..10).expect("a date");
    assert_eq!(checkout.3["start_label"], format!("since {date}"));
    let page = http::get(&second.url("/")).ensure_success().body;
    assert!(
        page.contains(&format!("0.00% uptime since {date}")),
        "{page}"
    );
    assert!(page.contains(&format!(
        "history since <time datetime=\"{}\">{date}</time>",
        since.as_str().expect("text")
    )));
    assert!(!page.contains("90 days ago"));
    second.kill();

    // A changed state after a restart continues the same history.
    let graph = write_graph(
        dir.path(),
        "fixed.yml",
        &std::fs::read_to_string(fixture())
            .expect("fixture")
            .replace(
                "{name: payments-api, constant: {state: failing, message: \"HTTP 503, expected 200\"}}",
                "{name: payments-api, constant: passing}",
            ),
    );
    let third = HealthServer::start(dir.path(), &graph, &flags);
    let fixed = http::get_json(&third.url("/api/v2/summary.json"));
    assert_eq!(fixed["page"]["history_since"], since);
    let payments = history_of(&fixed)
        .into_iter()
        .find(|c| c.0 == "payments")
        .expect("payments");
    let old = history_of(&before)
        .into_iter()
        .find(|c| c.0 == "payments")
        .expect("payments");
    assert_eq!(payments.1, old.1, "first sample kept");
    assert_ne!(payments.2, old.2, "a new current state");
    let overall = payments.3["overall"].as_f64().expect("uptime");
    assert!(
        overall < 1e6,
        "the first runs' failing time is counted: {overall}"
    );
}

#[test]
fn the_default_file_is_beside_the_graph_and_none_keeps_memory_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = dir.path().join("shop.yml");
    std::fs::copy(fixture(), &graph).expect("copy fixture");
    let first = HealthServer::start_as_given(dir.path(), &graph, &[]);
    let since = http::get_json(&first.url("/api/v2/summary.json"))["page"]["history_since"].clone();
    first.kill();
    assert!(dir.path().join("shop.history.db").exists());
    let second = HealthServer::start_as_given(dir.path(), &graph, &[]);
    let again = http::get_json(&second.url("/api/v2/summary.json"));
    assert_eq!(again["page"]["history_since"], since);
    second.kill();

    for none in ["--history.db=", "--history.db=none"] {
        let memory = HealthServer::start_as_given(dir.path(), &graph, &[none.to_owned()]);
        let fresh = http::get_json(&memory.url("/api/v2/summary.json"));
        assert_ne!(
            fresh["page"]["history_since"], since,
            "{none}: a new history"
        );
        memory.kill();
    }
}

#[test]
fn a_history_file_that_cannot_be_opened_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = write_graph(
        dir.path(),
        "g.yml",
        "sensors: [{name: x, constant: passing}]\n",
    );
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![b'x'; 4096]).expect("write junk");
    let out = serve_refused(&graph, &["--history.db", &junk.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("state history {}: open", junk.display())),
        "{err}"
    );
    assert!(err.contains("--history.db none"), "{err}");
}
