//! The status page of `alert-health serve`, loaded in headless Chromium (Debian's
//! `chromium`, installed by `.ci/run`), with the rendered DOM's content asserted and a
//! screenshot written under the test's output directory
//! (`target/tmp/health_status_page/status-page.png`).

mod health_support;

use std::path::{Path, PathBuf};

use alert_testkit::chromium::{dump_dom, png_size, screenshot};
use health_support::HealthServer;

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in the DOM"))
        + start.len();
    let to = text[from..].find(end).map_or(text.len(), |i| from + i);
    &text[from..to]
}

#[test]
fn the_status_page_renders_in_chromium() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/health-shop.yml");
    let server = HealthServer::start(dir.path(), &graph, &["--interval", "30s"]);
    let dom = dump_dom(&server.url("/"));

    assert!(dom.contains("<title>Shop status</title>"), "{dom}");
    assert!(dom.contains("<h1>Shop status</h1>"));
    // The banner.
    assert_eq!(
        between(
            &dom,
            "<div id=\"banner\" class=\"banner state-failing\" data-state=\"failing\">",
            "</div>"
        ),
        "Major System Outage"
    );
    // What is failing now, and why.
    let failing = between(&dom, "<section id=\"failing\">", "</section>");
    assert!(failing.contains("<h2>What is failing now</h2>"));
    assert_eq!(
        failing.matches("<li class=\"path\"").count(),
        1,
        "{failing}"
    );
    assert!(failing.contains("checkout → payments → payments-api"));
    assert!(failing.contains("HTTP 503, expected 200"));
    // The component tree: every node in full once, db by reference the second time.
    let components = between(&dom, "<section id=\"components\">", "</section>");
    for (name, state) in [
        ("reports", "passing"),
        ("db", "passing"),
        ("db-primary", "failing"),
        ("db-replica", "passing"),
        ("cache", "passing"),
        ("checkout", "failing"),
        ("payments", "failing"),
        ("payments-api", "failing"),
    ] {
        let opening = format!("id=\"node-{name}\" data-name=\"{name}\"");
        assert_eq!(
            components.matches(&opening).count(),
            1,
            "{name} in full once"
        );
        let element = between(components, &opening, "<div class=\"uptime\"");
        assert!(
            element.contains(&format!("data-state=\"{state}\">{state}</span>")),
            "{name} should show {state}: {element}"
        );
    }
    assert_eq!(components.matches("class=\"component ref\"").count(), 1);
    assert!(components.contains("<a href=\"#node-db\">db</a>"));
    // 90 daily bars per component, today's from the history (the rest: no data).
    assert_eq!(
        components
            .matches("<div class=\"uptime\" data-days=\"90\">")
            .count(),
        8
    );
    assert_eq!(components.matches("<span class=\"bar ").count(), 8 * 90);
    assert_eq!(components.matches("class=\"bar bar-none\"").count(), 8 * 89);
    assert_eq!(components.matches("class=\"bar bar-ok\"").count(), 4);
    assert_eq!(components.matches("class=\"bar bar-major\"").count(), 4);
    // A new history: the left end of the bars and the percentages say since today.
    assert!(components.contains("100.00% uptime since "));
    assert!(components.contains("0.00% uptime since "));
    assert_eq!(
        components
            .matches("<span class=\"uptime-start\" data-since=")
            .count(),
        8
    );
    assert!(!components.contains("90 days ago"));
    assert!(dom.contains("history since <time datetime="));
    assert!(dom.contains("<footer>Evaluated at <time>"));

    // What a person sees: a real, non-blank page of the size asked for.
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("health_status_page")
        .join("status-page.png");
    let png = screenshot(&server.url("/"), &path, 1280, 1000);
    assert_eq!(png_size(&png), Some((1280, 1000)), "{}", path.display());
    // A blank page compresses to a few kB; a banner, bars and text do not.
    assert!(
        png.len() > 20_000,
        "{} is {} bytes",
        path.display(),
        png.len()
    );
    eprintln!("screenshot: {}", path.display());
}
