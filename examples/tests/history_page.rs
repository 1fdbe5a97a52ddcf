//! The health bar page of the real `alert-history-server`, loaded in headless Chromium
//! (Debian's `chromium`, installed by `.ci/run`): webhooks for three nodes with
//! overlapping criticals and warnings, a resolved and a superseded episode; the DOM's
//! bars, segment states and a drill-down asserted; screenshots written to
//! `$CARGO_TARGET_TMPDIR/history_page/`.

mod history_support;

use std::path::PathBuf;

use alert_testkit::chromium::{dump_dom, png_size, screenshot};
use history_support::{HistoryServer, alert, enc, message, rfc3339_in};
use serde_json::{Value, json};

const MINUTE: i64 = 60_000;

/// A resolved alert as it appears in a webhook message.
fn resolved(labels: Value, starts_at: &str, ends_at: &str) -> Value {
    let mut a = alert(labels, starts_at);
    a["status"] = json!("resolved");
    a["endsAt"] = json!(ends_at);
    a
}

/// The part of `html` from the element that opens with `opening` to the next `end`.
fn element<'a>(html: &'a str, opening: &str, end: &str) -> &'a str {
    let from = html
        .find(opening)
        .unwrap_or_else(|| panic!("{opening:?} not in the DOM:\n{html}"));
    let to = html[from..].find(end).map_or(html.len(), |i| from + i);
    &html[from..to]
}

/// The value of `name="…"` at its first occurrence in `html`, `&amp;` undone.
fn attr(html: &str, name: &str) -> String {
    let key = format!("{name}=\"");
    let from = html
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + key.len();
    let to = html[from..].find('"').expect("closing quote") + from;
    html[from..to].replace("&amp;", "&")
}

/// `(data-state, href)` of every segment in `entity`'s bar.
fn segments(dom: &str, entity: &str) -> Vec<(String, String)> {
    let bar = element(
        dom,
        &format!("<div class=\"bar-row\" data-entity=\"{entity}\""),
        "</div></div>",
    );
    bar.split("<a class=\"seg ")
        .skip(1)
        .map(|s| (attr(s, "data-state"), attr(s, "href")))
        .collect()
}

/// A screenshot of `url` at 1280×800 under the test's output directory, checked to be
/// a real, non-blank PNG of that size.
fn shoot(url: &str, name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("history_page")
        .join(name);
    let png = screenshot(url, &path, 1280, 800);
    assert_eq!(png_size(&png), Some((1280, 800)), "{}", path.display());
    // A blank 1280×800 PNG compresses to a few kB; bars, text and colours do not.
    assert!(
        png.len() > 20_000,
        "{} is {} bytes",
        path.display(),
        png.len()
    );
    path
}

#[test]
fn the_health_bar_page_renders_in_chromium() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = HistoryServer::start(dir.path(), &[]);
    let node = |name: &str, n: &str, severity: &str| json!({"alertname": name, "node": n, "severity": severity});
    // node-a: a warning for 4h still firing, a critical inside it that resolved.
    // node-b: a warning, then an overlapping critical, both still firing; a flapping
    //   alert whose first start a newer one supersedes.
    // node-c: an informational alert that resolved.
    // And one alert about no node at all.
    let (a_warn, a_crit, a_crit_end) = (
        rfc3339_in(-240 * MINUTE),
        rfc3339_in(-180 * MINUTE),
        rfc3339_in(-120 * MINUTE),
    );
    let (b_warn, b_crit) = (rfc3339_in(-90 * MINUTE), rfc3339_in(-60 * MINUTE));
    let (flap1, flap2) = (rfc3339_in(-100 * MINUTE), rfc3339_in(-80 * MINUTE));
    let firing = message(json!([
        alert(node("DiskFull", "node-a", "warning"), &a_warn),
        alert(node("NodeDown", "node-a", "critical"), &a_crit),
        alert(node("Load", "node-b", "warning"), &b_warn),
        alert(node("Flap", "node-b", "warning"), &flap1),
        alert(node("Flap", "node-b", "warning"), &flap2),
        alert(node("KernelOops", "node-b", "critical"), &b_crit),
        alert(
            json!({"alertname": "Quorum", "severity": "critical"}),
            &b_crit
        ),
    ]));
    let later = message(json!([
        resolved(node("NodeDown", "node-a", "critical"), &a_crit, &a_crit_end),
        resolved(
            node("Reboot", "node-c", "info"),
            &rfc3339_in(-300 * MINUTE),
            &rfc3339_in(-290 * MINUTE)
        ),
    ]));
    for m in [firing, later] {
        let r = server.post_webhook(m.to_string().as_bytes());
        assert_eq!(r.status, 200, "{}", r.body);
    }

    let page = server.url(&format!(
        "/?match[]={}&by=node&range=1d",
        enc("{node=~\".+\"}")
    ));
    let dom = dump_dom(&page);
    assert!(
        dom.contains("<title>Alert history by node</title>"),
        "{dom}"
    );
    assert_eq!(
        dom.matches("<div class=\"bar-row\" data-entity=").count(),
        3,
        "{dom}"
    );
    let states = |entity: &str| -> Vec<String> {
        segments(&dom, entity).into_iter().map(|(s, _)| s).collect()
    };
    assert_eq!(
        states("node-a"),
        ["healthy", "warning", "critical", "warning"]
    );
    assert_eq!(states("node-b"), ["healthy", "warning", "critical"]);
    assert_eq!(states("node-c"), ["healthy", "info", "healthy"]);
    // The legend, the time axis, the "last X days" links.
    assert_eq!(dom.matches("<i class=\"swatch s-").count(), 5);
    assert!(dom.matches("<span class=\"tick\"").count() >= 6, "{dom}");
    assert!(dom.contains("class=\"current\">1 day</a>"));
    assert!(
        !dom.contains("left out"),
        "every matching episode has a node"
    );

    // Without the matcher, the alert about no node is counted and left out.
    let all = dump_dom(&server.url("/?by=node&range=1d"));
    assert!(
        all.contains("1 episode without the label <code>node</code> is left out."),
        "{all}"
    );

    // Clicking node-b's critical segment: its drill-down, a shareable URL.
    let (_, link) = segments(&dom, "node-b")
        .into_iter()
        .find(|(s, _)| s == "critical")
        .expect("a critical segment");
    assert!(link.starts_with("?match%5B%5D="), "{link}");
    assert!(link.contains("&entity=node-b&from="), "{link}");
    let drill_url = server.url(&format!("/{link}"));
    let drilled = dump_dom(&drill_url);
    let section = element(
        &drilled,
        "<section class=\"card\" id=\"drilldown\"",
        "</section>",
    );
    let rows: Vec<(String, String)> = section
        .split("<tr class=\"episode\"")
        .skip(1)
        .map(|r| (attr(r, "data-alertname"), attr(r, "data-end-reason")))
        .collect();
    // Worst first, then by start: the critical, then the warnings still firing; the
    // first Flap ended before the critical started (superseded), so it is not in this
    // stretch.
    assert_eq!(
        rows,
        [
            ("KernelOops".to_owned(), "open".to_owned()),
            ("Load".to_owned(), "open".to_owned()),
            ("Flap".to_owned(), "open".to_owned()),
        ],
        "{section}"
    );
    assert!(drilled.contains("seg s-critical selected"));

    // A node's name links to its whole period: node-a's resolved critical and its
    // warning; node-b's superseded flap.
    let whole = element(
        &dom,
        "<div class=\"bar-row\" data-entity=\"node-a\"",
        "</a>",
    );
    let a_link = attr(whole, "href");
    assert!(a_link.contains("&entity=node-a&"), "{a_link}");
    let a_dom = dump_dom(&server.url(&format!("/{a_link}")));
    let a_section = element(
        &a_dom,
        "<section class=\"card\" id=\"drilldown\"",
        "</section>",
    );
    let a_rows: Vec<(String, String, String)> = a_section
        .split("<tr class=\"episode\"")
        .skip(1)
        .map(|r| {
            (
                attr(r, "data-alertname"),
                attr(r, "data-end-reason"),
                attr(r, "data-end-inferred"),
            )
        })
        .collect();
    assert_eq!(
        a_rows,
        [
            (
                "NodeDown".to_owned(),
                "resolved".to_owned(),
                "false".to_owned()
            ),
            ("DiskFull".to_owned(), "open".to_owned(), "false".to_owned()),
        ]
    );
    let b_link = attr(
        element(
            &dom,
            "<div class=\"bar-row\" data-entity=\"node-b\"",
            "</a>",
        ),
        "href",
    );
    let b_dom = dump_dom(&server.url(&format!("/{b_link}")));
    let flap = element(
        &b_dom,
        "data-alertname=\"Flap\" data-state=\"warning\" data-end-reason=\"superseded\"",
        "</tr>",
    );
    assert!(flap.contains("data-end-inferred=\"true\""), "{flap}");
    assert!(flap.contains("superseded: a newer episode of the same alert started (inferred)"));

    // Screenshots an operator would see.
    let bars = shoot(&page, "health-bars.png");
    let drill = shoot(&drill_url, "health-bars-drilldown.png");
    eprintln!("screenshots: {} {}", bars.display(), drill.display());
}
