//! The order of equal elements: amtool 0.25 sorts silences by end time and alerts by
//! start time with Go's `sort.Sort`, which is not stable, so ties in lists longer than
//! 12 come out in an order no stable sort gives. A real Alertmanager cannot be used as
//! the judge's input here: it lists silences from a Go map, in a new order on every
//! request, so amtool and alertctl would never see the same list. Instead one recorded
//! answer of Alertmanager's API v2 (the shapes a real 0.25 serves) is replayed to both,
//! and the real amtool judges the output.

mod alertctl_support;

use std::net::{Ipv4Addr, SocketAddr};

use alert_testkit::amtool;
use alertctl_support::alertctl;
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

/// Serves `silences` and `alerts` as `GET /api/v2/silences` and `GET /api/v2/alerts`
/// (every other path is 404) from its own thread until the process ends.
fn replay(silences: Value, alerts: Value) -> SocketAddr {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free port");
    let addr = listener.local_addr().expect("an address");
    listener.set_nonblocking(true).expect("non-blocking");
    let app = Router::new()
        .route(
            "/api/v2/silences",
            get(move || {
                let body = silences.clone();
                async move { axum::Json(body) }
            }),
        )
        .route(
            "/api/v2/alerts",
            get(move || {
                let body = alerts.clone();
                async move { axum::Json(body) }
            }),
        );
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
            axum::serve(listener, app).await.expect("serves");
        });
    });
    addr
}

/// A scrambled order of `0..n` (a fixed permutation: multiplying by a unit mod n).
fn scrambled(n: usize) -> impl Iterator<Item = usize> {
    (0..n).map(move |i| (i * 17 + 5) % n)
}

/// Silence `i`: active until one of three days in 2099, or (`expired`) ended on one of
/// three days in 2024, so that long runs share an end time.
fn silence(i: usize, expired: bool) -> Value {
    let day = 1 + i % 3;
    let (state, ends, id) = if expired {
        ("expired", format!("2024-05-0{day}T12:00:00.000Z"), 1000 + i)
    } else {
        ("active", format!("2099-01-0{day}T00:00:00.000Z"), i)
    };
    json!({
        "id": format!("00000000-0000-4000-8000-{id:012}"),
        "status": {"state": state},
        "updatedAt": "2024-05-01T10:00:00.000Z",
        "comment": format!("silence {id}"),
        "createdBy": "oncall",
        "endsAt": ends,
        "matchers": [{"isEqual": true, "isRegex": false, "name": "instance", "value": format!("h{i}")}],
        "startsAt": "2024-05-01T10:00:00.000Z",
    })
}

/// Alert `i`: one of two start times (one rule evaluation starts many alerts at once),
/// and a fingerprint unrelated to `i`'s order.
fn alert(i: usize) -> Value {
    let hour = 10 + i % 2;
    let fingerprint = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    json!({
        "annotations": {"summary": format!("alert {i}")},
        "endsAt": "2099-01-01T00:00:00.000Z",
        "fingerprint": format!("{fingerprint:016x}"),
        "receivers": [{"name": "hook"}],
        "startsAt": format!("2024-05-01T{hour}:00:00.000Z"),
        "status": {"inhibitedBy": [], "silencedBy": [], "state": "active"},
        "updatedAt": "2024-05-01T10:00:00.000Z",
        "generatorURL": "http://prometheus/graph",
        "labels": {"alertname": format!("A{i:02}"), "severity": "page"},
    })
}

/// The first column of each output line after the header.
fn first_column(output: &str) -> Vec<String> {
    output
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// `items` stably sorted by the text at `key`, each named by the text at `name`.
fn stably_sorted(items: &[Value], key: &str, name: &str) -> Vec<String> {
    let mut sorted = items.to_vec();
    sorted.sort_by_key(|v| text(v, key));
    sorted.iter().map(|v| text(v, name)).collect()
}

#[test]
fn ties_come_out_in_amtools_order() {
    // As a real 0.25 serves them: silences by `SortSilences` (active ending soonest
    // first, then expired ending latest first; ties in Go map order, scrambled here),
    // alerts by fingerprint.
    let mut active: Vec<Value> = scrambled(40).map(|i| silence(i, false)).collect();
    active.sort_by_key(|v| text(v, "/endsAt"));
    let mut expired: Vec<Value> = scrambled(40).map(|i| silence(i, true)).collect();
    expired.sort_by_key(|v| std::cmp::Reverse(text(v, "/endsAt")));
    let mut alerts: Vec<Value> = (0..30).map(alert).collect();
    alerts.sort_by_key(|v| text(v, "/fingerprint"));

    // What the test must tell apart from amtool's order: ties by id (a merge's
    // tie-break) and a stable sort of what was served.
    let by_id = |items: &[Value]| {
        let mut sorted = items.to_vec();
        sorted.sort_by_key(|v| (text(v, "/endsAt"), text(v, "/id")));
        sorted
            .iter()
            .map(|v| text(v, "/id"))
            .collect::<Vec<String>>()
    };
    let active_by_id = by_id(&active);
    let expired_stable = stably_sorted(&expired, "/endsAt", "/id");
    let alerts_stable = stably_sorted(&alerts, "/startsAt", "/labels/alertname");

    let silences: Vec<Value> = active.iter().chain(&expired).cloned().collect();
    let addr = replay(Value::Array(silences), Value::Array(alerts));
    let url = format!("--alertmanager.url=http://{addr}");

    // The simple outputs start each line with the id or alert name; the extended ones
    // are compared byte for byte only.
    for (args, other_order) in [
        (vec!["silence", "query"], Some(&active_by_id)),
        (vec!["silence", "query", "-o", "extended"], None),
        (vec!["silence", "query", "--expired"], Some(&expired_stable)),
        (
            vec!["silence", "query", "--expired", "-o", "extended"],
            None,
        ),
        (vec!["alert", "query"], Some(&alerts_stable)),
        (vec!["alert", "query", "-o", "extended"], None),
    ] {
        let mut full = args.clone();
        full.push(&url);
        let judge = amtool(&full);
        assert!(judge.success(), "amtool {full:?}: {}", judge.stderr);
        let (code, ours, err) = alertctl(&full);
        assert_eq!(code, 0, "alertctl {full:?}: {err}");
        assert_eq!(ours, judge.stdout, "{args:?}");
        let Some(other_order) = other_order else {
            continue;
        };
        let order = first_column(&judge.stdout);
        assert_eq!(order.len(), other_order.len(), "{}", judge.stdout);
        assert_ne!(
            &order, other_order,
            "{args:?}: this data does not tell amtool's order from the naive one"
        );
    }
}
