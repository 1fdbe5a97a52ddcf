//! `alert-gateway --target=all` running its own Alertmanager cluster (the local driver):
//! two real Alertmanager 0.25 members as its children, configured by its control plane,
//! fed by its evaluator, notifying a webhook sink and its own emitter; a member killed
//! with SIGKILL comes back; stopping the gateway stops every member.

mod support;

use std::time::Duration;

use alert_testkit::WebhookSink;
use serde_json::{Value, json};
use support::{GatewayProcess, get, put_json, wait_for};

const LONG: Duration = Duration::from_secs(60);

fn put(gw: &GatewayProcess, path: &str, body: Value) {
    let (status, text) = put_json(&gw.url(path), &body);
    assert!(
        status == 200 || status == 201,
        "PUT {path}: {status} {text}"
    );
}

fn backend(gw: &GatewayProcess) -> Value {
    let (status, body) = get(&gw.url("/api/v1/backend"));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("JSON")
}

fn alive(pid: u64) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn the_gateway_runs_configures_and_restarts_its_own_cluster() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let sink = WebhookSink::start();
    let store = format!("sqlite:{}", dir.path().join("gateway.db").display());
    let mut gw = GatewayProcess::start_with(
        &store,
        &[
            "--target=all".to_owned(),
            "--backend=local".to_owned(),
            format!(
                "--backend.data-dir={}",
                dir.path().join("cluster").display()
            ),
            "--backend.workers=1".to_owned(),
            "--backend.gossip-interval=50ms".to_owned(),
            "--backend.pushpull-interval=1s".to_owned(),
            "--backend.peer-timeout=500ms".to_owned(),
            "--backend.settle-timeout=1s".to_owned(),
            "--default-webhooks.group-wait=1s".to_owned(),
            "--default-webhooks.group-interval=1s".to_owned(),
        ],
    );
    let ready = wait_for("two ready members that see each other", LONG, || {
        let status = backend(&gw);
        let members = status["members"].as_array()?.clone();
        (members.len() == 2
            && members
                .iter()
                .all(|m| m["ready"] == true && m["peers"].as_array().is_some_and(|p| p.len() == 2)))
        .then_some(status)
    });
    assert_eq!(ready["memberlist"]["peer_timeout"], "500ms", "{ready}");

    put(
        &gw,
        "/api/v1/endpoints/hook",
        json!({"webhook": {"url": sink.url()}}),
    );
    put(
        &gw,
        "/api/v1/conditions/gone",
        json!({
            "tenant": "t1",
            "agent_disconnect": {"timeout": "2s"},
            "throttle": {"group_wait": "1s", "group_interval": "1s"},
            "endpoints": ["hook"],
        }),
    );
    // A route that would notify before the last member's wait (the members' real peer
    // timeout x 1) is refused, naming the condition and the reason.
    put(
        &gw,
        "/api/v1/conditions/too-eager",
        json!({"tenant": "t2", "throttle": {"group_wait": "0s"}, "endpoints": ["hook"]}),
    );
    let report = wait_for("the refusal to be reported", LONG, || {
        let (status, body) = get(&gw.url("/api/v1/tenants/t2"));
        let v: Value = serde_json::from_str(&body).ok()?;
        (status == 200 && v["state"] == "failed").then_some(v)
    });
    let error = report["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("too-eager") && error.contains("group_wait"),
        "{error}"
    );

    // Both members run the configuration the control plane built.
    wait_for("every member to run the route", LONG, || {
        let status = backend(&gw);
        let hashes: Vec<&str> = status["members"]
            .as_array()?
            .iter()
            .filter_map(|m| m["config_hash"].as_str())
            .collect();
        let report = get(&gw.url("/api/v1/tenants/t1")).1;
        (hashes.len() == 2 && hashes[0] == hashes[1] && report.contains("in_sync")).then_some(())
    });

    // The evaluator's alert goes to both members; the sink is notified once.
    let (status, _) = support::agent()
        .put(&gw.url("/api/v1/agents/t1/a1/heartbeat"))
        .send_empty()
        .map(|r| (r.status().as_u16(), ()))
        .expect("heartbeat");
    assert_eq!(status, 200);
    let got = sink.wait_until(LONG, "a firing notification", |got| {
        got.iter().any(|r| r.json()["status"] == "firing")
    });
    assert_eq!(got[0].json()["alerts"][0]["labels"]["agent"], "a1");
    wait_for("the emitter to cache it", LONG, || {
        let (_, body) = get(&gw.url("/api/v1/messages?tenant=t1"));
        body.contains("\"gone\"").then_some(())
    });
    // Give the second member its chance to (wrongly) notify: a duplicate would arrive
    // within its peer wait (0.5 s) plus the group wait.
    std::thread::sleep(Duration::from_secs(3));
    let firing = sink
        .received()
        .iter()
        .filter(|r| r.json()["status"] == "firing")
        .count();
    assert_eq!(
        firing, 1,
        "one notification from the cluster, not one per member"
    );

    // SIGKILL a member: the driver restarts it on the same configuration.
    let worker = backend(&gw)["members"][1].clone();
    let pid = worker["pid"].as_u64().expect("pid");
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let back = wait_for("the member to be restarted and ready", LONG, || {
        let status = backend(&gw);
        let m = status["members"][1].clone();
        (m["restarts"] == 1
            && m["ready"] == true
            && m["pid"].as_u64() != Some(pid)
            && m["config_hash"] == worker["config_hash"])
            .then_some(m)
    });
    assert_eq!(back["name"], worker["name"]);
    let metrics = wait_for("the restart in /metrics", LONG, || {
        let (_, m) = get(&gw.url("/metrics"));
        m.contains("alert_gateway_backend_member_restarts_total")
            .then_some(m)
    });
    assert!(
        metrics.contains("alert_gateway_evaluator_leader 1"),
        "{metrics}"
    );

    // Stopping the gateway stops its members.
    let pids: Vec<u64> = backend(&gw)["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["pid"].as_u64())
        .collect();
    gw.signal("-TERM");
    let _ = gw.child.wait();
    wait_for("every member to stop", LONG, || {
        pids.iter().all(|p| !alive(*p)).then_some(())
    });
}
