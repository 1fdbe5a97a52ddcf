//! The design's "support one node failure": three `alert-history-server` replicas on one
//! PostgreSQL database behind a real Alertmanager 0.25, which has one webhook per replica
//! in its history receiver (the arrangement a user deploys without a load balancer:
//! Alertmanager delivers every notification to each replica, and ingest is idempotent).
//! One replica is killed with SIGKILL while alerts keep firing: every alert is stored
//! once, the others keep answering reads, and the timeline shows no outage.

mod history_support;

use std::time::Duration;

use alert_testkit::postgres::PostgresServer;
use alert_testkit::{Alertmanager, wait_until};
use history_support::{HistoryServer, enc, now_secs, rfc3339_in};
use serde_json::json;

fn config(ports: &[u16]) -> String {
    let hooks: String = ports
        .iter()
        .map(|p| {
            format!("      - url: 'http://127.0.0.1:{p}/webhook'\n        send_resolved: true\n")
        })
        .collect();
    format!(
        r#"
route:
  receiver: history
  group_by: ['alertname', 'instance']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: history
    webhook_configs:
{hooks}"#
    )
}

#[test]
fn a_replica_killed_under_load_loses_nothing_and_leaves_no_gap() {
    let db = PostgresServer::shared().create_database();
    let url = db.url();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
    let mut replicas: Vec<HistoryServer> = dirs
        .iter()
        .map(|d| HistoryServer::start(d.path(), &["--store", &url, "--alive-interval", "1s"]))
        .collect();
    let ports: Vec<u16> = replicas.iter().map(HistoryServer::port).collect();
    let am = Alertmanager::start(&config(&ports));
    let window_start = now_secs() - 5;
    let unavailable = |server: &HistoryServer| -> Vec<serde_json::Value> {
        server.get_data(&format!(
            "/api/v1/timeline?start={window_start}&end={}&match[]={}",
            now_secs() + 1,
            enc("alertname=\"Load\"")
        ))["unavailable"]
            .as_array()
            .expect("unavailable")
            .clone()
    };
    // A run is known to cover only up to its newest alive record: until each replica
    // has recorded one after the last started, the moments between starts are unknown.
    wait_until(
        Duration::from_secs(20),
        "the replicas' runs overlap",
        || unavailable(&replicas[1]).is_empty().then_some(()),
    );

    // 60 alerts, each its own group, fired in rounds of 10; replica 0 dies after round 3.
    let total = 60;
    for round in 0..6 {
        let alerts: Vec<_> = (0..10)
            .map(|i| {
                let n = round * 10 + i;
                json!({"labels": {"alertname": "Load", "instance": format!("i{n:02}"),
                                  "severity": "warning"},
                       "startsAt": rfc3339_in(0)})
            })
            .collect();
        am.post_alerts(&json!(alerts)).ensure_success();
        if round == 2 {
            replicas[0].kill9();
        }
        std::thread::sleep(Duration::from_millis(300));
    }

    // Every alert reaches the database once, read from either survivor.
    for survivor in &replicas[1..] {
        let episodes = wait_until(Duration::from_secs(60), "every alert stored", || {
            let eps = survivor.episodes("alertname=\"Load\"");
            (eps.len() == total).then_some(eps)
        });
        let mut instances: Vec<&str> = episodes
            .iter()
            .map(|e| e["labels"]["instance"].as_str().expect("instance"))
            .collect();
        instances.sort_unstable();
        instances.dedup();
        assert_eq!(instances.len(), total, "each alert once");
    }

    // The survivors' timeline: the replica's death is no outage.
    for survivor in &replicas[1..] {
        let gaps = unavailable(survivor);
        assert!(gaps.is_empty(), "{gaps:#?}");
    }

    // Restarted, the killed replica reads the same database: nothing to catch up.
    replicas[0].restart();
    assert_eq!(replicas[0].episodes("alertname=\"Load\"").len(), total);
}
