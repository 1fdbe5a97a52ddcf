//! The evaluator end to end, with real processes: the gateway (data plane, control
//! plane, evaluator, emitter), a real Alertmanager 0.25 whose configuration the control
//! plane keeps, and a webhook sink as the user's endpoint.
//!
//! - An agent that stops reporting fires its `agent_disconnect` condition on schedule
//!   (`startsAt` = last heartbeat + timeout); the notification reaches the endpoint and,
//!   through the default emitter route, the emitter's message cache; a new heartbeat
//!   resolves it.
//! - Bad heartbeats are refused with the field named, and nothing is stored.
//! - (feature `etcd`) Two evaluators on a 3-member etcd: the leader is killed while an
//!   alert is pending, and the standby fires it on the original schedule.

mod support;

use std::time::{Duration, Instant};

use alert_testkit::{Alertmanager, WebhookSink};
use serde_json::{Value, json};
use support::{GatewayProcess, get, put_json, wait_for};

/// Long enough for a loaded CI machine.
const LONG: Duration = Duration::from_secs(30);

/// A configuration Alertmanager starts with before the control plane writes its own.
const INITIAL: &str = "route: {receiver: initial}\nreceivers: [{name: initial}]\n";

fn put(gw: &GatewayProcess, path: &str, body: Value) {
    let (status, text) = put_json(&gw.url(path), &body);
    assert!(
        status == 200 || status == 201,
        "PUT {path}: {status} {text}"
    );
}

fn heartbeat(gw: &GatewayProcess, tenant: &str, agent: &str, body: Option<&Value>) -> (u16, Value) {
    let url = gw.url(&format!("/api/v1/agents/{tenant}/{agent}/heartbeat"));
    let (status, text) = match body {
        Some(b) => put_json(&url, b),
        None => match support::agent().put(&url).send_empty() {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            ),
            Err(e) => panic!("PUT {url}: {e}"),
        },
    };
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn evaluator_flags(am: &Alertmanager) -> Vec<String> {
    vec![
        format!("--alertmanager.url={}", am.base_url()),
        format!("--alertmanager.config-file={}", am.config_path().display()),
        "--default-webhooks.group-wait=0s".to_owned(),
        "--default-webhooks.group-interval=1s".to_owned(),
        "--evaluator.resend=2s".to_owned(),
    ]
}

fn timestamp(v: &Value) -> jiff::Timestamp {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a timestamp: {v}"))
}

fn disconnect_condition(
    gw: &GatewayProcess,
    id: &str,
    tenant: &str,
    timeout: &str,
    endpoints: &[&str],
) {
    put(
        gw,
        &format!("/api/v1/conditions/{id}"),
        json!({
            "tenant": tenant,
            "severity": "critical",
            "agent_disconnect": {"timeout": timeout},
            "throttle": {"group_wait": "0s", "group_interval": "1s"},
            "endpoints": endpoints,
            "message": {"title": "agent gone"},
        }),
    );
}

#[test]
fn a_silent_agent_alerts_its_endpoint_and_the_emitter_and_resolves_when_back() {
    let am = Alertmanager::start(INITIAL);
    let sink = WebhookSink::start();
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = format!("sqlite:{}", dir.path().join("gateway.db").display());
    let mut flags = evaluator_flags(&am);
    flags.push("--target=data-plane,control-plane,evaluator,emitter".to_owned());
    let gw = GatewayProcess::start_with(&store, &flags);

    // An agent of a tenant nothing names is refused: its heartbeats would track nothing.
    let (status, body) = heartbeat(&gw, "t1", "a1", None);
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no condition or SLO names"),
        "{body}"
    );

    put(
        &gw,
        "/api/v1/endpoints/hook",
        json!({"webhook": {"url": sink.url()}}),
    );
    disconnect_condition(&gw, "gone", "t1", "3s", &["hook"]);
    // The control plane makes the route live (and the emitter's default route with it).
    wait_for("Alertmanager to run the route", LONG, || {
        let original = am.status()["config"]["original"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (original.contains("alert_condition_id=\"gone\"")
            && original.contains("alert-router:emitter"))
        .then_some(())
    });

    // The agent reports for a while, with a capability; the last acknowledged heartbeat
    // sets the schedule.
    let report = json!({"capabilities": [{"name": "metrics", "healthy": true}]});
    let mut last = Value::Null;
    for _ in 0..4 {
        let (status, record) = heartbeat(&gw, "t1", "a1", Some(&report));
        assert_eq!(status, 200, "{record}");
        last = record;
        std::thread::sleep(Duration::from_millis(200));
    }
    let last_heartbeat = timestamp(&last["lastHeartbeat"]);
    assert_eq!(last["capabilities"]["metrics"]["healthy"], true);
    let (_, agents) = get(&gw.url("/api/v1/agents?tenant=t1"));
    let agents: Value = serde_json::from_str(&agents).expect("JSON");
    assert_eq!(agents["agents"][0]["agent"], "a1", "{agents}");

    // Silence: the endpoint is notified, firing, starting exactly at the deadline.
    let got = sink.wait_until(LONG, "a firing notification", |got| {
        got.iter().any(|r| r.json()["status"] == "firing")
    });
    let message = got
        .iter()
        .map(|r| r.json())
        .find(|m| m["status"] == "firing")
        .expect("firing");
    let alert = &message["alerts"][0];
    assert_eq!(alert["labels"]["alert_condition_id"], "gone");
    assert_eq!(alert["labels"]["agent"], "a1");
    assert_eq!(alert["labels"]["tenant"], "t1");
    assert_eq!(alert["labels"]["severity"], "critical");
    let starts_at = timestamp(&alert["startsAt"]);
    assert_eq!(
        starts_at.as_millisecond() - last_heartbeat.as_millisecond(),
        3000,
        "startsAt is the last heartbeat + timeout: {alert}"
    );
    assert!(
        alert["annotations"]["description"]
            .as_str()
            .unwrap_or_default()
            .contains("has not reported since"),
        "{alert}"
    );

    // The emitter got it too, through the default route.
    let messages = wait_for("the emitter to cache the notification", LONG, || {
        let (status, body) = get(&gw.url("/api/v1/messages?tenant=t1&condition=gone"));
        let v: Value = serde_json::from_str(&body).ok()?;
        (status == 200 && v["messages"].as_array().is_some_and(|m| !m.is_empty())).then_some(v)
    });
    assert_eq!(
        messages["messages"][0]["receiver"], "alert-router:emitter",
        "{messages}"
    );

    // Back: resolved.
    let (status, _) = heartbeat(&gw, "t1", "a1", None);
    assert_eq!(status, 200);
    sink.wait_until(LONG, "a resolved notification", |got| {
        got.iter().any(|r| r.json()["status"] == "resolved")
    });
    let (_, evaluations) = get(&gw.url("/api/v1/evaluations"));
    let evaluations: Value = serde_json::from_str(&evaluations).expect("JSON");
    assert_eq!(
        evaluations["evaluations"],
        json!([]),
        "nothing kept once resolved"
    );
    let (_, metrics) = get(&gw.url("/metrics"));
    assert!(
        metrics.contains("alert_gateway_evaluator_leader 1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("alert_gateway_evaluator_alerts_total{state=\"firing\"} 0"),
        "{metrics}"
    );
}

#[test]
fn bad_heartbeats_are_refused_naming_the_field_and_store_nothing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = format!("sqlite:{}", dir.path().join("gateway.db").display());
    let gw = GatewayProcess::start_with(&store, &["--target=data-plane,evaluator".to_owned()]);
    disconnect_condition(&gw, "gone", "t1", "1m", &[]);
    wait_for("the evaluator to see the tenant", LONG, || {
        (heartbeat(&gw, "t1", "probe", None).0 == 200).then_some(())
    });

    let url =
        |tenant: &str, agent: &str| gw.url(&format!("/api/v1/agents/{tenant}/{agent}/heartbeat"));
    /// A request body: its Content-Type and text.
    type Body<'a> = Option<(&'a str, &'a str)>;
    let cases: Vec<(String, Body, u16, &str)> = vec![
        (url("t1", "-bad"), None, 400, "agent: 1 to 100 characters"),
        (
            url("t1", &"x".repeat(101)),
            None,
            400,
            "agent: 1 to 100 characters",
        ),
        (url("bad%2Ftenant", "a1"), None, 400, "tenant:"),
        (
            url("t1", "a1"),
            Some(("application/json", "{not json")),
            400,
            "body:",
        ),
        (
            url("t1", "a1"),
            Some(("text/plain", "hello")),
            415,
            "Content-Type",
        ),
        (
            url("t1", "a1"),
            Some((
                "application/json",
                r#"{"capabilities": [{"name": "m", "healthy": true}, {"name": "m", "healthy": false}]}"#,
            )),
            400,
            "capabilities[1].name: each capability once",
        ),
        (
            url("t1", "a1"),
            Some(("application/json", r#"{"capabilites": []}"#)),
            400,
            "unknown field",
        ),
        (url("nobody", "a1"), None, 404, "tenant \"nobody\""),
    ];
    for (url, body, want, says) in cases {
        let request = support::agent().put(&url);
        let response = match body {
            Some((content_type, text)) => request.header("Content-Type", content_type).send(text),
            None => request.send_empty(),
        };
        let mut response = response.unwrap_or_else(|e| panic!("PUT {url}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(status, want, "PUT {url}: {text}");
        let error: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON error: {text}"));
        assert!(
            error["error"].as_str().unwrap_or_default().contains(says),
            "PUT {url}: {text}"
        );
    }
    let (_, agents) = get(&gw.url("/api/v1/agents"));
    let agents: Value = serde_json::from_str(&agents).expect("JSON");
    let ids: Vec<&str> = agents["agents"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["agent"].as_str())
        .collect();
    assert_eq!(ids, ["probe"], "only the good heartbeat was stored");
}

/// Components come from a health graph and from agents' capabilities; each fires after
/// its `for` and is kept in the store as firing.
#[test]
fn unhealthy_components_of_a_graph_and_of_agents_fire_after_their_for() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let graph = dir.path().join("graph.yml");
    std::fs::write(
        &graph,
        "sensors:\n  - {name: ingester, constant: {state: failing, message: ring unhealthy}}\n  - {name: querier, constant: passing}\n",
    )
    .expect("graph file");
    let store = format!("sqlite:{}", dir.path().join("gateway.db").display());
    let gw = GatewayProcess::start_with(
        &store,
        &[
            "--target=data-plane,evaluator".to_owned(),
            format!("--evaluator.graph={}", graph.display()),
            "--evaluator.graph-interval=200ms".to_owned(),
        ],
    );
    put(
        &gw,
        "/api/v1/conditions/backend",
        json!({"tenant": "t1", "component_health": {"components": ["ingester", "querier", "metrics"], "for": "1s"}}),
    );
    wait_for("the evaluator to see the tenant", LONG, || {
        let body = json!({"capabilities": [{"name": "metrics", "healthy": false, "message": "remote write 500"}]});
        (heartbeat(&gw, "t1", "a1", Some(&body)).0 == 200).then_some(())
    });
    let firing = wait_for("two components to fire", LONG, || {
        let (_, body) = get(&gw.url("/api/v1/evaluations?condition=backend"));
        let v: Value = serde_json::from_str(&body).ok()?;
        let mut firing: Vec<(String, String)> = v["evaluations"]
            .as_array()?
            .iter()
            .filter(|e| e["firingSince"].is_string())
            .map(|e| {
                (
                    e["subject"].as_str().unwrap_or_default().to_owned(),
                    e["reason"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        firing.sort();
        (firing.len() == 2).then_some(firing)
    });
    assert_eq!(firing[0].0, "ingester");
    assert!(
        firing[0].1.contains("health graph: ring unhealthy"),
        "{firing:?}"
    );
    assert_eq!(firing[1].0, "metrics");
    assert!(
        firing[1].1.contains("agent a1: remote write 500"),
        "{firing:?}"
    );
}

#[cfg(feature = "etcd")]
mod failover {
    use super::*;
    use alert_testkit::EtcdCluster;

    fn leads(gw: &GatewayProcess) -> bool {
        get(&gw.url("/metrics"))
            .1
            .contains("alert_gateway_evaluator_leader 1")
    }

    #[test]
    fn a_standby_fires_a_pending_alert_on_the_original_schedule() {
        let etcd = EtcdCluster::start(3);
        let store = format!("etcd:{}", etcd.endpoints().join(","));
        let am = Alertmanager::start(INITIAL);
        let flags = |name: &str| {
            let mut f = evaluator_flags(&am);
            f.push("--target=data-plane,evaluator".to_owned());
            f.push(format!("--evaluator.replica={name}"));
            f.push("--evaluator.lease-ttl=1s".to_owned());
            f
        };
        let mut a = GatewayProcess::start_with(&store, &flags("replica-a"));
        wait_for("replica-a to lead", LONG, || leads(&a).then_some(()));
        let mut b = GatewayProcess::start_with(&store, &flags("replica-b"));
        disconnect_condition(&a, "gone", "ha", "8s", &[]);
        wait_for("the tenant to be known", LONG, || {
            (heartbeat(&b, "ha", "a1", None).0 == 200).then_some(())
        });
        // The last heartbeat, through the standby: the store carries it to the leader.
        let (status, record) = heartbeat(&b, "ha", "a1", None);
        assert_eq!(status, 200);
        let deadline = timestamp(&record["lastHeartbeat"]) + jiff::SignedDuration::from_secs(8);

        // Kill the leader while the alert is pending.
        std::thread::sleep(Duration::from_secs(3));
        assert!(am.alerts().is_empty(), "nothing fired yet");
        a.kill();
        let appeared = wait_for("the standby to fire the alert", LONG, || {
            am.alerts()
                .into_iter()
                .find(|x| x["labels"]["agent"] == "a1")
                .map(|x| (x, Instant::now()))
        });
        let (alert, _) = appeared;
        assert!(leads(&b), "replica-b leads");
        let starts_at = timestamp(&alert["startsAt"]);
        assert_eq!(
            starts_at.as_millisecond(),
            deadline.as_millisecond(),
            "fired on the original schedule (last heartbeat + timeout), not the failover's: {alert}"
        );
        assert!(
            jiff::Timestamp::now() >= deadline,
            "fired no earlier than the deadline"
        );
        b.kill();
    }
}
