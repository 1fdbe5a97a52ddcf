//! The health bar page (`GET /`) over a SQLite store: bars per entity, the drill-down a
//! segment links to, escaping, errors as HTML, auth and the read budget.
#![cfg(all(feature = "server", feature = "sqlite"))]

mod server_support;

use alert_history::server::{Auth, ServerOptions};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use serde_json::{Value, json};
use server_support::{app, call_raw, runtime};
/// One alert of a webhook message; resolved when `ends_at` is given.
fn alert(labels: Value, starts_at: &str, ends_at: Option<&str>) -> Value {
    json!({"status": if ends_at.is_some() { "resolved" } else { "firing" },
           "labels": labels, "annotations": {"summary": "something broke"},
           "startsAt": starts_at, "endsAt": ends_at.unwrap_or("0001-01-01T00:00:00Z"),
           "generatorURL": "http://prometheus/graph"})
}

fn message(alerts: Vec<Value>) -> String {
    json!({"receiver": "history", "status": "firing", "version": "4",
           "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
           "groupKey": "{}:{}", "truncatedAlerts": 0, "alerts": alerts})
    .to_string()
}

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let (status, headers, body) = call_raw(app, request).await;
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

async fn post(app: &Router, alerts: Vec<Value>) {
    let request = Request::post("/webhook")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(message(alerts)))
        .expect("request");
    let (status, _, body) = call(app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Three nodes, one alert without the label, one node named like a script.
async fn seed(app: &Router) {
    let node1 = |name: &str, severity: &str| json!({"alertname": name, "node": "node-1", "severity": severity});
    post(
        app,
        vec![
            alert(node1("DiskFull", "warning"), "2024-05-01T09:30:00Z", None),
            alert(node1("NodeDown", "critical"), "2024-05-01T10:00:00Z", None),
        ],
    )
    .await;
    post(
        app,
        vec![
            alert(
                node1("NodeDown", "critical"),
                "2024-05-01T10:00:00Z",
                Some("2024-05-01T11:00:00Z"),
            ),
            alert(
                json!({"alertname": "Load", "node": "node-2", "severity": "warning"}),
                "2024-05-01T10:30:00Z",
                Some("2024-05-01T12:00:00Z"),
            ),
            alert(
                json!({"alertname": "<b>Bold</b>", "node": "<script>alert(1)</script>", "severity": "critical"}),
                "2024-05-01T12:00:00Z",
                None,
            ),
            alert(
                json!({"alertname": "ClusterWide", "severity": "critical"}),
                "2024-05-01T09:00:00Z",
                None,
            ),
        ],
    )
    .await;
}

const PAGE: &str = "/?match[]=%7Bseverity%3D~%22.%2B%22%7D&by=node&start=2024-05-01T08:00:00Z&end=2024-05-01T14:00:00Z";

/// The `(data-state, data-start)` of every segment of `entity`'s bar.
fn segments(html: &str, entity: &str) -> Vec<(String, String)> {
    let row = html
        .split("<div class=\"bar-row\"")
        .find(|r| r.starts_with(&format!(" data-entity=\"{entity}\"")))
        .unwrap_or_else(|| panic!("no bar for {entity}: {html}"));
    row.split("<a class=\"seg ")
        .skip(1)
        .map(|s| (attr(s, "data-state"), attr(s, "data-start")))
        .collect()
}

/// The value of `name="…"` in `html`, first occurrence, entities of `&` undone.
fn attr(html: &str, name: &str) -> String {
    let from = html
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + name.len()
        + 2;
    let to = html[from..].find('"').expect("closing quote") + from;
    html[from..to].replace("&amp;", "&")
}

/// The href of `entity`'s segment that starts at `start`.
fn segment_link(html: &str, entity: &str, start: &str) -> String {
    let row = html
        .split("<div class=\"bar-row\"")
        .find(|r| r.starts_with(&format!(" data-entity=\"{entity}\"")))
        .expect("bar");
    let seg = row
        .split("<a class=\"seg ")
        .skip(1)
        .find(|s| attr(s, "data-start") == start)
        .unwrap_or_else(|| panic!("no segment of {entity} at {start}"));
    attr(seg, "href")
}

#[test]
fn the_page_draws_one_bar_per_entity_and_drills_down_into_a_segment() {
    let dir = tempfile::tempdir().expect("dir");
    runtime().block_on(async {
        let app = app(dir.path(), ServerOptions::default());
        seed(&app).await;
        let (status, headers, html) = call(&app, get(PAGE)).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert!(
            headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .expect("ascii")
                .starts_with("default-src 'none'")
        );
        // Labels from the network never become markup.
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("data-entity=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
        assert_eq!(
            html.matches("<div class=\"bar-row\" data-entity=").count(),
            3
        );
        assert!(html.contains("1 episode without the label <code>node</code> is left out."));
        let s = |state: &str, at: &str| (state.to_owned(), at.to_owned());
        assert_eq!(
            segments(&html, "node-1"),
            [
                s("healthy", "2024-05-01T08:00:00Z"),
                s("warning", "2024-05-01T09:30:00Z"),
                s("critical", "2024-05-01T10:00:00Z"),
                s("warning", "2024-05-01T11:00:00Z"),
            ]
        );
        assert_eq!(
            segments(&html, "node-2"),
            [
                s("healthy", "2024-05-01T08:00:00Z"),
                s("warning", "2024-05-01T10:30:00Z"),
                s("healthy", "2024-05-01T12:00:00Z"),
            ]
        );
        // The legend and the axis.
        for state in ["critical", "warning", "info", "healthy", "unavailable"] {
            assert!(
                html.contains(&format!("<i class=\"swatch s-{state}\">")),
                "{state}"
            );
        }
        assert!(html.contains(">05-01 09:00</span>"), "{html}");

        // The critical segment's link is its drill-down.
        let link = segment_link(&html, "node-1", "2024-05-01T10:00:00Z");
        assert!(
            link.contains(
                "&entity=node-1&from=2024-05-01T10%3A00%3A00Z&to=2024-05-01T11%3A00%3A00Z#drilldown"
            ),
            "{link}"
        );
        let path = link.split('#').next().expect("path");
        let (status, _, html) = call(&app, get(&format!("/{path}"))).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let drill = html
            .split("<section class=\"card\" id=\"drilldown\"")
            .nth(1)
            .expect("drill-down section");
        let rows: Vec<(String, String)> = drill
            .split("<tr class=\"episode\"")
            .skip(1)
            .map(|r| (attr(r, "data-alertname"), attr(r, "data-end-reason")))
            .collect();
        assert_eq!(
            rows,
            [
                ("NodeDown".to_owned(), "resolved".to_owned()),
                ("DiskFull".to_owned(), "open".to_owned())
            ]
        );
        assert!(drill.contains("<li>node=&quot;node-1&quot;</li>"));
        assert!(drill.contains("<dt>summary</dt><dd>something broke</dd>"));
        // The selected segment is marked.
        assert!(html.contains("seg s-critical selected"));

        // The script-named entity's drill-down shows its escaped alert.
        let entity = "&lt;script&gt;alert(1)&lt;/script&gt;";
        let link = segment_link(&html, entity, "2024-05-01T12:00:00Z");
        let (status, _, html) = call(
            &app,
            get(&format!("/{}", link.split('#').next().expect("path"))),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            !html.contains("<script>alert") && !html.contains("<b>Bold"),
            "{html}"
        );
        assert!(html.contains("data-alertname=\"&lt;b&gt;Bold&lt;/b&gt;\""));
    });
}

#[test]
fn one_global_bar_without_by_and_the_empty_state_explained() {
    let dir = tempfile::tempdir().expect("dir");
    runtime().block_on(async {
        let app = app(dir.path(), ServerOptions::default());
        // The default page of an empty store: the last day, nothing in it.
        let (status, _, html) = call(&app, get("/")).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains("<a href=\"?range=1d\" class=\"current\">1 day</a>"),
            "{html}"
        );
        assert!(html.contains("No alert matching <code>any alert</code> fired in this period."));
        seed(&app).await;
        let (status, _, html) = call(
            &app,
            get("/?start=2024-05-01T08:00:00Z&end=2024-05-01T14:00:00Z"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert_eq!(
            html.matches("<div class=\"bar-row\" data-entity=").count(),
            1
        );
        assert!(html.contains(">all alerts</a>"));
        let (status, _, html) = call(
            &app,
            get("/?by=rack&start=2024-05-01T08:00:00Z&end=2024-05-01T14:00:00Z"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains("<p class=\"empty\" id=\"empty\">No alert matching"),
            "{html}"
        );
        assert!(html.contains("5 episodes without the label <code>rack</code> are left out."));
    });
}

#[test]
fn bad_parameters_get_a_readable_html_page() {
    let dir = tempfile::tempdir().expect("dir");
    runtime().block_on(async {
        let app = app(dir.path(), ServerOptions::default());
        for (query, says) in [
            ("range=fortnight", "range"),
            ("start=yesterday", "start"),
            ("match[]=%7Bnode%3D~%22(%22%7D", "match[]"),
            ("by=node&entity=a&from=1&to=2", "must lie within the period"),
            ("by=%3Cscript%3E&entity=x", "from"),
        ] {
            let (status, headers, html) = call(&app, get(&format!("/?{query}"))).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {html}");
            assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
            let error = html.split("id=\"error\">").nth(1).expect("error box");
            assert!(
                error.starts_with("<strong>400 Bad Request</strong>: "),
                "{error}"
            );
            assert!(error.contains(says), "{query}: {error}");
            // The form comes back filled, escaped.
            assert!(html.contains("<form class=\"query\""));
            assert!(!html.contains("<script>"), "{html}");
        }
    });
}

#[test]
fn the_page_asks_for_the_apis_credentials() {
    let dir = tempfile::tempdir().expect("dir");
    runtime().block_on(async {
        let options = ServerOptions {
            auth: Some(Auth::Basic {
                user: "am".into(),
                password: "secret".into(),
            }),
            ..ServerOptions::default()
        };
        let app = app(dir.path(), options);
        let (status, headers, html) = call(&app, get("/")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            headers[header::WWW_AUTHENTICATE],
            "Basic realm=\"alert-history\""
        );
        assert!(html.contains("401 Unauthorized"), "{html}");
        let authed = Request::get("/")
            .header(header::AUTHORIZATION, "Basic YW06c2VjcmV0")
            .body(Body::empty())
            .expect("request");
        let (status, _, html) = call(&app, authed).await;
        assert_eq!(status, StatusCode::OK, "{html}");
    });
}

#[test]
fn the_page_reads_within_the_apis_budget() {
    let dir = tempfile::tempdir().expect("dir");
    runtime().block_on(async {
        let options = ServerOptions {
            max_episodes_per_request: 2,
            ..ServerOptions::default()
        };
        let app = app(dir.path(), options);
        seed(&app).await;
        let (status, headers, html) = call(&app, get(PAGE)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert!(html.contains("more than 2 episodes"), "{html}");
    });
}
