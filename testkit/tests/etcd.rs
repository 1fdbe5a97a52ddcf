//! The kit's etcd member and cluster against the real binary.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use alert_testkit::{Etcd, EtcdCluster, etcdctl_bin, http, wait_until};
use serde_json::json;

fn pid_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// `etcdctl get key --print-value-only` against `endpoints`: the real client as a judge.
fn etcdctl_get(endpoints: &[String], key: &str) -> String {
    let output = Command::new(etcdctl_bin())
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={}", endpoints.join(",")))
        .args(["get", key, "--print-value-only"])
        .output()
        .expect("etcdctl runs");
    assert!(
        output.status.success(),
        "etcdctl get {key}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_owned()
}

#[test]
fn a_single_member_is_healthy_serves_the_v3_gateway_and_drop_kills_it() {
    let etcd = Etcd::start();
    let (pid, data_dir) = (etcd.pid(), etcd.data_dir());
    assert!(pid_exists(pid), "process {pid} should run");
    assert!(etcd.is_healthy());
    let health = http::get_json(&format!("{}/health", etcd.client_url()));
    assert_eq!(health["health"], "true", "{health}");
    assert_eq!(etcd.endpoints(), vec![etcd.client_url()]);
    assert!(etcd.args().contains(&"--unsafe-no-fsync=true".to_owned()));

    // The gateway by hand: "Zm9v" is "foo", "YmFy" is "bar".
    let put = etcd
        .post_v3("/kv/put", &json!({"key": "Zm9v", "value": "YmFy"}))
        .ensure_success()
        .json();
    let range = etcd
        .post_v3("/kv/range", &json!({"key": "Zm9v"}))
        .ensure_success()
        .json();
    assert_eq!(range["kvs"][0]["value"], "YmFy", "{range}");
    assert_eq!(range["kvs"][0]["mod_revision"], put["header"]["revision"]);
    assert_eq!(etcd.get("foo").as_deref(), Some("bar"));

    let revision = etcd.put("/config/tenant-a", "route: {}");
    assert!(revision > 1, "{revision}");
    assert_eq!(etcd.get("/config/tenant-a").as_deref(), Some("route: {}"));
    assert_eq!(etcd.get("/config/absent"), None);
    assert_eq!(
        etcdctl_get(&etcd.endpoints(), "/config/tenant-a"),
        "route: {}"
    );

    let status = etcd.status();
    assert_eq!(status["version"], "3.4.23", "{status}");
    assert_eq!(status["leader"].as_str(), Some(etcd.member_id().as_str()));
    drop(etcd);
    assert!(!pid_exists(pid), "process {pid} survived the drop");
    assert!(
        !data_dir.exists(),
        "{} survived the drop",
        data_dir.display()
    );
}

#[test]
fn a_single_member_keeps_its_data_across_kill_and_restart() {
    let mut etcd = Etcd::start();
    let (port, first) = (etcd.client_port(), etcd.pid());
    etcd.put("kept", "yes");
    etcd.kill();
    assert!(etcd.is_killed());
    assert!(!pid_exists(first));
    assert!(!etcd.is_healthy(), "nothing should answer");
    etcd.restart();
    assert_ne!(etcd.pid(), first);
    assert_eq!(etcd.client_port(), port);
    assert_eq!(etcd.get("kept").as_deref(), Some("yes"));
    assert_eq!(etcd.log_tail(3).lines().count(), 3);
}

#[test]
fn a_bad_flag_fails_with_the_tail_of_the_log() {
    let failure = std::panic::catch_unwind(|| {
        Etcd::builder()
            .flag("--surely-not-a-flag")
            .ready_timeout(Duration::from_secs(10))
            .start()
    })
    .expect_err("etcd refuses an unknown flag");
    let message = failure
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("did not become healthy"), "{message}");
    assert!(message.contains("surely-not-a-flag"), "{message}");
}

#[test]
fn a_cluster_elects_a_leader_and_survives_losing_it() {
    let mut cluster = EtcdCluster::start(EtcdCluster::DEFAULT_SIZE);
    assert_eq!(cluster.len(), 3);
    assert!(cluster.members().iter().all(|m| m.is_healthy()));
    let ids: std::collections::BTreeSet<String> =
        cluster.members().iter().map(|m| m.member_id()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    let members = cluster[0]
        .post_v3("/cluster/member/list", &json!({}))
        .ensure_success()
        .json();
    assert_eq!(members["members"].as_array().map(Vec::len), Some(3));

    let leader = cluster.wait_for_leader();
    cluster[leader].put("before", "1");
    let pid = cluster[leader].pid();
    cluster.kill(leader);
    assert!(!pid_exists(pid));
    let next = cluster.wait_for_leader();
    assert_ne!(next, leader);
    let follower = (0..3).find(|&i| i != leader && i != next).expect("a third");
    cluster[follower].put("after", "2");
    assert_eq!(cluster[next].get("before").as_deref(), Some("1"));
    assert_eq!(etcdctl_get(&cluster.endpoints(), "after"), "2");

    // The killed member rejoins from its data directory and catches up.
    cluster.restart(leader);
    assert!(cluster[leader].is_healthy());
    assert_eq!(cluster[leader].get("after").as_deref(), Some("2"));
    cluster.wait_for_leader();
}

#[test]
fn a_stopped_leader_is_replaced_and_steps_down_when_continued() {
    let mut cluster = EtcdCluster::start(3);
    let leader = cluster.wait_for_leader();
    cluster.stop(leader);
    assert!(cluster[leader].is_stopped());
    assert!(
        !cluster[leader].is_healthy(),
        "a stopped member answers nothing"
    );
    let next = cluster.wait_for_leader();
    assert_ne!(next, leader);
    cluster[next].put("while-stopped", "x");

    cluster.cont(leader);
    assert!(!cluster[leader].is_stopped());
    wait_until(
        Duration::from_secs(15),
        "the old leader to catch up",
        || {
            (cluster[leader].is_healthy()
                && cluster[leader].get("while-stopped").as_deref() == Some("x"))
            .then_some(())
        },
    );
    cluster.wait_for_leader();

    // A stopped member is killed, not left frozen, when the cluster is dropped.
    cluster.stop(next);
    let pid = cluster[next].pid();
    drop(cluster);
    assert!(!pid_exists(pid), "stopped process {pid} survived the drop");
}
