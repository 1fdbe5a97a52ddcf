//! The kit's gossip cluster against the real binary.

use alert_testkit::Cluster;
use alert_testkit::MINIMAL_CONFIG;
use serde_json::json;

#[test]
fn three_members_form_a_cluster_and_survive_a_kill() {
    let mut cluster = Cluster::start(3, MINIMAL_CONFIG);
    assert_eq!(cluster.len(), 3);
    let mut addresses: Vec<String> = cluster
        .members()
        .iter()
        .filter_map(|m| m.cluster_address())
        .collect();
    addresses.sort();
    for i in 0..3 {
        let mut seen: Vec<String> = cluster.peers_of(i).into_iter().map(|(_, a)| a).collect();
        seen.sort();
        assert_eq!(seen, addresses, "member {i}");
        assert_eq!(cluster[i].status()["cluster"]["status"], "ready");
    }

    // Silences gossip: one made on member 0 shows up on member 2.
    let silence = json!({
        "matchers": [{"name": "alertname", "value": "Gossiped", "isRegex": false}],
        "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2999-01-01T00:00:00Z",
        "createdBy": "testkit", "comment": "gossip check"
    });
    let id = cluster[0]
        .post_json("/api/v2/silences", &silence)
        .ensure_success()
        .json()["silenceID"]
        .as_str()
        .expect("silence id")
        .to_owned();
    alert_testkit::wait_until(
        std::time::Duration::from_secs(30),
        "the silence on member 2",
        || {
            cluster[2]
                .get(&format!("/api/v2/silence/{id}"))
                .is_success()
                .then_some(())
        },
    );

    let pid = cluster[2].pid();
    cluster.kill(2);
    assert!(cluster[2].is_killed());
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    cluster.wait_for_peers(2);
    assert_eq!(cluster.peers_of(0).len(), 2);
}
