//! Visualisers on one evaluated snapshot: golden console output (full and only
//! failing), the JSON tree with references, Statuspage `summary.json`, and the HTML page.
#![cfg(feature = "runtime")]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use alert_core::Timestamp;
use alert_health_graph::visualiser::Visualiser;
use alert_health_graph::visualiser::console::{Console, Symbols};
use alert_health_graph::visualiser::html::HtmlStatusPage;
use alert_health_graph::visualiser::json::Json;
use alert_health_graph::visualiser::statuspage::{PageInfo, ShownMessages, Statuspage};
use alert_health_graph::{
    Engine, GraphFile, ManualClock, Reading, Result, Sensor, Snapshot, State, StateHistory, builtin,
};
use async_trait::async_trait;

fn at() -> Timestamp {
    "2024-05-01T10:00:00Z".parse().expect("valid")
}

async fn shop() -> Snapshot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shop.yml");
    let built = GraphFile::load(&path)
        .expect("fixture parses")
        .assemble(&builtin::basic_registry())
        .expect("fixture assembles");
    Engine::new(built.graph, built.sensors)
        .with_clock(Arc::new(ManualClock::new(at())))
        .evaluate()
        .await
}

/// Compares with a golden file; `UPDATE_GOLDEN=1` rewrites it.
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden");
    }
    let expected = std::fs::read_to_string(&path).expect("golden file exists");
    assert_eq!(actual, expected, "golden {name} differs");
}

#[tokio::test]
async fn console_output_is_golden() {
    let snap = shop().await;
    golden("console.txt", &Console::default().render(&snap));
    let only = Console {
        only_failing: true,
        ..Console::default()
    };
    golden("console-only-failing.txt", &only.render(&snap));
    let emoji = Console {
        symbols: Symbols::emoji(),
        only_failing: false,
    };
    assert!(
        emoji
            .render(&snap)
            .starts_with("✅ : test_service\n\t✅ : test_system_0\n")
    );
}

#[tokio::test]
async fn json_shows_shared_nodes_once_and_by_reference() {
    let snap = shop().await;
    golden("shop.json", &Json::default().render(&snap));
    let v = Json::default().to_value(&snap);
    assert_eq!(v["state"], "failing");
    let roots = v["roots"].as_array().expect("array");
    let names: Vec<&str> = roots
        .iter()
        .map(|r| r["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["test_service", "checkout", "reports"]);
    // db is in full under checkout, by reference under reports; cdn keeps its edge rule.
    assert_eq!(roots[1]["children"][0]["name"], "db");
    assert_eq!(roots[1]["children"][0]["type"], "at_least 2 (warn 1)");
    assert_eq!(roots[2]["children"][0], serde_json::json!({"ref": "db"}));
    assert_eq!(
        roots[2]["children"][1],
        serde_json::json!({"ref": "cdn", "propagate": "lower 1"})
    );
    // Only failing: the explanation trees of the roots that are not passing.
    let failing = Json { only_failing: true }.to_value(&snap);
    let names: Vec<&str> = failing["roots"]
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["checkout", "reports"]);
}

#[tokio::test]
async fn statuspage_summary_has_the_v2_shape_and_mapping() {
    let snap = shop().await;
    let mut history = StateHistory::default();
    history.record_snapshot(&snap);
    let page = PageInfo {
        name: "Shop status".into(),
        url: "https://status.example.com".into(),
        ..PageInfo::default()
    };
    let v = Statuspage {
        page: &page,
        history: &history,
    }
    .to_value(&snap);
    assert_eq!(v["page"]["name"], "Shop status");
    assert_eq!(v["page"]["time_zone"], "Etc/UTC");
    assert_eq!(v["status"]["indicator"], "critical");
    assert_eq!(v["status"]["description"], "Critical System Outage");
    let components = v["components"].as_array().expect("array");
    let find = |id: &str| {
        components
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("component {id}"))
    };
    // Roots are groups listing their direct children; one level of nesting only.
    assert_eq!(find("checkout")["group"], true);
    assert_eq!(
        find("checkout")["components"],
        serde_json::json!(["db", "payments"])
    );
    assert_eq!(find("db")["group_id"], "checkout");
    assert_eq!(find("db")["status"], "partial_outage");
    assert_eq!(find("payments")["status"], "major_outage");
    assert_eq!(find("test_service")["status"], "operational");
    // cdn appears only under reports (db was already listed under checkout).
    assert_eq!(find("reports")["components"], serde_json::json!(["cdn"]));
    for c in components {
        assert!(
            c["group_id"].is_null() || c["group"] == false,
            "one level: {c}"
        );
        for key in [
            "id",
            "name",
            "status",
            "created_at",
            "updated_at",
            "position",
            "page_id",
        ] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
    }
    let incidents = v["incidents"].as_array().expect("array");
    assert_eq!(incidents.len(), 2);
    assert_eq!(incidents[0]["name"], "checkout is failing");
    assert_eq!(incidents[0]["impact"], "critical");
    assert_eq!(incidents[0]["status"], "investigating");
    let body = incidents[0]["incident_updates"][0]["body"]
        .as_str()
        .expect("text");
    // Sensors' messages are not on a public page unless the graph says so.
    assert!(
        body.contains("checkout -> payments -> payments-api (failing)"),
        "{body}"
    );
    assert!(!body.contains("HTTP 503"), "{body}");
    assert!(find("test_service")["description"].is_null());
    // A system's message names only nodes: shown.
    assert_eq!(
        find("payments")["description"],
        "1 of 1 not passing: payments-api"
    );
    assert_eq!(v["scheduled_maintenances"], serde_json::json!([]));

    let page = PageInfo {
        messages: ShownMessages::Of(["payments-api".to_owned()].into()),
        ..page
    };
    let v = Statuspage {
        page: &page,
        history: &history,
    }
    .to_value(&snap);
    let body = v["incidents"][0]["incident_updates"][0]["body"]
        .as_str()
        .expect("text");
    assert!(
        body.contains("checkout -> payments -> payments-api (failing): HTTP 503, expected 200"),
        "{body}"
    );
}

#[tokio::test]
async fn html_page_has_banner_failures_tree_and_bars() {
    let snap = shop().await;
    let mut history = StateHistory::default();
    history.record_snapshot(&snap);
    let page = PageInfo {
        name: "Shop <status>".into(),
        ..PageInfo::default()
    };
    let html = HtmlStatusPage {
        page: &page,
        history: &history,
        now: None,
        live: false,
    }
    .render(&snap);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>Shop &lt;status&gt;</title>"));
    // The banner says what summary.json's status.description says.
    assert!(html.contains(
        "<div id=\"banner\" class=\"banner state-failing\" data-state=\"failing\" \
         data-indicator=\"critical\">Critical System Outage</div>"
    ));
    assert!(html.contains("checkout → payments → payments-api"));
    // Sensors' messages are hidden by default; systems' are shown.
    assert!(!html.contains("connection refused"), "{html}");
    assert!(!html.contains("HTTP 503"), "{html}");
    assert!(html.contains("1 of 1 not passing: payments-api"));
    // Not served: no script, no refresh.
    assert!(!html.contains("<script"));
    assert!(!html.contains("http-equiv=\"refresh\""));
    assert_eq!(
        html.matches("class=\"uptime\" data-days=\"90\"").count(),
        14
    );
    assert_eq!(html.matches("class=\"component ref\"").count(), 2);
    assert_eq!(html.matches("<span class=\"bar ").count(), 14 * 90);

    let page = PageInfo {
        messages: ShownMessages::All,
        refresh: std::time::Duration::from_millis(2500),
        ..page
    };
    let live = HtmlStatusPage {
        page: &page,
        history: &history,
        now: None,
        live: true,
    }
    .render(&snap);
    assert!(live.contains("connection refused"));
    assert!(live.contains("<span class=\"why\">HTTP 503, expected 200</span>"));
    assert!(live.contains("<body data-refresh-ms=\"2500\">"));
    assert!(live.contains("<noscript><meta http-equiv=\"refresh\" content=\"3\"></noscript>"));
    assert!(
        live.contains(
            "<p id=\"stale\" class=\"stale\" role=\"status\" hidden></p><div id=\"page\">"
        )
    );
    assert!(live.contains("</footer></div><script>"));
}

/// Counts reads: rendering must not read sensors.
struct Counted(Arc<AtomicUsize>);

#[async_trait]
impl Sensor for Counted {
    async fn read(&self) -> Result<Reading> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Reading::new(State::Failing))
    }
}

#[tokio::test]
async fn rendering_reads_no_sensor() {
    use alert_health_graph::{Aggregation, GraphBuilder, NodeSpec, SensorSet};
    let reads = Arc::new(AtomicUsize::new(0));
    let mut b = GraphBuilder::new();
    b.add(NodeSpec::sensor(
        "s",
        alert_health_graph::Kind::builtin("test"),
    ))
    .expect("valid");
    b.add(NodeSpec::system("x", Aggregation::All, ["s"]))
        .expect("valid");
    b.add(NodeSpec::system("y", Aggregation::Any, ["s", "x"]))
        .expect("valid");
    b.add(NodeSpec::service("top", ["x", "y"])).expect("valid");
    let graph = Arc::new(b.build().expect("valid"));
    let mut sensors = SensorSet::for_graph(&graph);
    sensors.insert(
        graph.find("s").expect("exists"),
        Arc::new(Counted(reads.clone())),
    );
    let snap = Engine::new(graph, sensors).evaluate().await;
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    let history = StateHistory::default();
    let page = PageInfo::default();
    let visualisers: Vec<Box<dyn Visualiser + '_>> = vec![
        Box::new(Console::default()),
        Box::new(Console {
            only_failing: true,
            ..Console::default()
        }),
        Box::new(Json::default()),
        Box::new(HtmlStatusPage {
            page: &page,
            history: &history,
            now: None,
            live: false,
        }),
        Box::new(Statuspage {
            page: &page,
            history: &history,
        }),
    ];
    for v in &visualisers {
        assert!(!v.render(&snap).is_empty());
    }
    assert_eq!(reads.load(Ordering::SeqCst), 1, "rendering read a sensor");
}
