//! The status page of `alert-health serve`, loaded in headless Chromium (Debian's
//! `chromium`, installed by `.ci/run`), with the rendered DOM's content asserted and a
//! screenshot written under the test's output directory
//! (`target/tmp/health_status_page/status-page.png`).

mod health_support;

use std::path::{Path, PathBuf};

use std::io::{Read, Write};
use std::net::TcpListener;

use alert_testkit::chromium::{dump_dom, dump_dom_after, png_size, screenshot};
use alert_testkit::http;
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

/// The shop fixture, its page showing the messages of the sensors under `payments`.
fn shop_showing_payments(dir: &Path) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/health-shop.yml");
    let text = std::fs::read_to_string(&fixture).expect("fixture");
    let text = text.replace(
        "page: {name: \"Shop status\",",
        "page: {messages: [payments], name: \"Shop status\",",
    );
    assert!(text.contains("messages: [payments]"));
    let path = dir.join("shop.yml");
    std::fs::write(&path, text).expect("write graph");
    path
}

#[test]
fn the_status_page_renders_in_chromium() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = shop_showing_payments(dir.path());
    let server = HealthServer::start(dir.path(), &graph, &["--interval", "30s"]);
    let dom = dump_dom(&server.url("/"));

    assert!(dom.contains("<title>Shop status</title>"), "{dom}");
    assert!(dom.contains("<h1>Shop status</h1>"));
    // The banner.
    assert_eq!(
        between(
            &dom,
            "<div id=\"banner\" class=\"banner state-failing\" data-state=\"failing\" \
             data-indicator=\"critical\">",
            "</div>"
        ),
        "Critical System Outage"
    );
    // The same words as summary.json.
    let summary = http::get_json(&server.url("/api/v2/summary.json"));
    assert_eq!(summary["status"]["description"], "Critical System Outage");
    // The graph shows the messages of the sensors under payments only.
    assert!(!dom.contains("connection refused"), "{dom}");
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

#[test]
fn the_served_page_refreshes_itself_in_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = shop_showing_payments(dir.path());
    // The page refreshes at the evaluation interval.
    let server = HealthServer::start(dir.path(), &graph, &["--interval", "1s"]);
    let dom = dump_dom_after(&server.url("/"), 3_500);
    let refreshes: u32 = between(&dom, "data-refreshes=\"", "\"")
        .parse()
        .expect("a count of refreshes");
    assert!(refreshes >= 2, "refreshed {refreshes} times:\n{dom}");
    assert_eq!(dom.matches("<div id=\"page\">").count(), 1, "{dom}");
    assert!(
        dom.contains("<p id=\"stale\" class=\"stale\" role=\"status\" hidden=\"\"></p>"),
        "{dom}"
    );
    assert!(dom.contains("data-indicator=\"critical\">Critical System Outage</div>"));
    assert!(dom.contains("HTTP 503, expected 200"));
}

#[test]
fn a_page_that_cannot_refresh_says_it_is_stale() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = shop_showing_payments(dir.path());
    let server = HealthServer::start(dir.path(), &graph, &["--interval", "1s"]);
    let page = http::get(&server.url("/")).ensure_success().body;
    // A server that sends the page once, then answers as a server with no
    // evaluation yet does.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    let served = std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let n = stream.read(&mut request).unwrap_or(0);
            if n == 0 {
                continue;
            }
            let (status, kind, body) = if i == 0 {
                ("200 OK", "text/html; charset=utf-8", page.clone())
            } else {
                (
                    "503 Service Unavailable",
                    "application/json",
                    r#"{"error":"no evaluation has finished yet"}"#.to_owned(),
                )
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
            if i >= 3 {
                break;
            }
        }
    });
    let dom = dump_dom_after(&url, 2_500);
    let notice = between(
        &dom,
        "<p id=\"stale\" class=\"stale\" role=\"status\"",
        "</p>",
    );
    assert!(!notice.contains("hidden"), "{dom}");
    assert!(notice.contains("Not refreshed since "), "{notice}");
    assert!(notice.contains("(HTTP 503)"), "{notice}");
    // The last state shown stays.
    assert!(dom.contains("Critical System Outage"));
    drop(served);
}
