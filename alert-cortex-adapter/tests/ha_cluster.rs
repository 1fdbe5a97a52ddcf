//! HA reads and writes against a REAL 3-member Alertmanager 0.25 gossip cluster.

use std::collections::HashMap;
use std::time::Duration;

use alert_core::silence::PostableSilence;
use alert_core::{LabelSet, ParserMode, Timestamp, parse_matchers};
use alert_cortex_adapter::{
    AlertQuery, AlertmanagerClient, Backoff, Cluster, Error, PostableAlert, Quorum,
};

const CONFIG: &str =
    "route:\n  receiver: blackhole\n  group_by: [alertname]\nreceivers:\n  - name: blackhole\n";

fn quick() -> Backoff {
    Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(100),
        multiplier: 2.0,
        max_attempts: 2,
        jitter: false,
    }
}

fn clients(kit: &alert_testkit::Cluster) -> Vec<AlertmanagerClient> {
    kit.members()
        .iter()
        .map(|m| {
            AlertmanagerClient::builder(m.base_url())
                .timeout(Duration::from_secs(5))
                .backoff(quick())
                .build()
                .unwrap()
        })
        .collect()
}

fn silence_for(alertname: &str) -> PostableSilence {
    let now = Timestamp::from_jiff(jiff::Timestamp::now());
    PostableSilence::new(
        &parse_matchers(&format!("alertname=\"{alertname}\""), ParserMode::Classic).unwrap(),
        now,
        now.checked_add("1h".parse().unwrap()).unwrap(),
        "ha-test",
        "HA test",
    )
}

fn alert(name: &str) -> PostableAlert {
    PostableAlert::new(LabelSet::from_pairs([("alertname", name), ("severity", "page")]).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_member_cluster_reads_merged_and_survives_a_dead_member() {
    let mut kit = alert_testkit::Cluster::start(3, CONFIG);
    let members = clients(&kit);
    let names: Vec<String> = members.iter().map(|m| m.name().to_owned()).collect();

    // The member list can be read from a member's status: map gossip address -> API.
    let by_gossip: HashMap<String, String> = kit
        .members()
        .iter()
        .map(|m| (m.cluster_address().unwrap(), m.base_url()))
        .collect();
    let discovered = Cluster::discover(&members[0], |peer| by_gossip.get(&peer.address).cloned())
        .await
        .unwrap();
    let mut found: Vec<&str> = discovered.members().iter().map(|m| m.base_url()).collect();
    found.sort_unstable();
    let mut expected: Vec<&str> = names.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(found, expected);

    let cluster = Cluster::new(members.clone()).unwrap();

    // Posted alerts reach every member (alerts are not gossiped).
    let posted = cluster
        .post_alerts(&[alert("HaOne"), alert("HaTwo")])
        .await
        .unwrap();
    assert!(posted.is_complete(), "{:?}", posted.failed);
    for m in &members {
        let mut got: Vec<String> = m
            .alerts(&AlertQuery::default())
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.labels.get("alertname").unwrap_or_default().to_owned())
            .collect();
        got.sort();
        assert_eq!(got, ["HaOne", "HaTwo"], "on {}", m.name());
    }

    // A silence created on one member shows on all of them, and in the merged read.
    let created = cluster
        .create_silence(&silence_for("HaOne"), Some(Duration::from_secs(20)))
        .await
        .unwrap();
    assert!(created.is_complete());
    let id = created.value;
    for m in &members {
        assert_eq!(
            m.silence(&id).await.unwrap().id,
            id,
            "gossiped to {}",
            m.name()
        );
    }
    let merged = cluster.silences(&[]).await.unwrap();
    assert!(merged.is_complete());
    assert_eq!(merged.value.iter().filter(|s| s.id == id).count(), 1);
    assert_eq!(cluster.silence(&id).await.unwrap().value.comment, "HA test");

    // The silence mutes HaOne on every member: the merged read sees it silenced.
    let alerts = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let merged = cluster.alerts(&AlertQuery::default()).await.unwrap();
            if merged
                .value
                .iter()
                .any(|a| a.status.silenced_by.contains(&id))
            {
                return merged;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the silence shows on HaOne");
    assert_eq!(alerts.value.len(), 2, "union by fingerprint, no duplicates");
    let fps: Vec<&str> = alerts
        .value
        .iter()
        .map(|a| a.fingerprint.as_str())
        .collect();
    let mut sorted = fps.clone();
    sorted.sort_unstable();
    assert_eq!(fps, sorted);
    let groups = cluster.alert_groups(&AlertQuery::default()).await.unwrap();
    assert_eq!(
        groups.value.len(),
        2,
        "one group per alertname, merged across members"
    );
    assert!(groups.value.iter().all(|g| g.alerts.len() == 1));

    // One member dies: reads still succeed, and say which member failed.
    kit.kill(2);
    let dead = names[2].clone();
    let partial = cluster.alerts(&AlertQuery::default()).await.unwrap();
    assert_eq!(partial.value.len(), 2);
    assert_eq!(partial.failed_members(), [dead.as_str()]);
    assert!(matches!(*partial.failed[0].error, Error::Transport { .. }));
    let partial = cluster.silences(&[]).await.unwrap();
    assert_eq!(partial.failed_members(), [dead.as_str()]);
    assert!(partial.value.iter().any(|s| s.id == id));
    let partial = cluster.alert_groups(&AlertQuery::default()).await.unwrap();
    assert_eq!(partial.failed_members(), [dead.as_str()]);
    let partial = cluster.post_alerts(&[alert("HaThree")]).await.unwrap();
    assert_eq!(partial.failed_members(), [dead.as_str()]);

    // A silence created now is visible on the live members; the dead one is named.
    let created = cluster
        .create_silence(&silence_for("HaThree"), Some(Duration::from_secs(20)))
        .await
        .unwrap();
    assert_eq!(created.failed_members(), [dead.as_str()]);

    // Expiring goes to one member; gossip spreads the change.
    cluster.expire_silence(&id).await.unwrap();
    let expired = cluster.silence(&id).await.unwrap().value;
    assert_eq!(
        expired.status.state,
        alert_core::silence::SilenceState::Expired
    );

    // With every member required, the dead one makes the read fail, naming it.
    let strict = cluster.clone().with_quorum(Quorum::All);
    match strict.alerts(&AlertQuery::default()).await.unwrap_err() {
        Error::QuorumNotReached {
            members,
            answered,
            quorum,
            failures,
        } => {
            assert_eq!((members, answered, quorum), (3, 2, 3));
            assert_eq!(failures[0].member, dead);
        }
        other => panic!("unexpected {other:?}"),
    }

    // Two dead of three: no majority.
    kit.kill(1);
    let err = cluster.alerts(&AlertQuery::default()).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("only 1 of 3 members answered, 2 needed"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_silence_is_refused_once_with_alertmanagers_message() {
    let kit = alert_testkit::Cluster::start(3, CONFIG);
    let cluster = Cluster::new(clients(&kit)).unwrap();
    let mut bad = silence_for("X");
    bad.ends_at = bad.starts_at.checked_sub("1h".parse().unwrap()).unwrap();
    let err = cluster.create_silence(&bad, None).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(
        err.server_message()
            .unwrap()
            .contains("start time must be before end time"),
        "{err}"
    );
    // Nothing was created anywhere.
    assert!(cluster.silences(&[]).await.unwrap().value.is_empty());
    // Unknown silence: 404 from every member, so the quorum read fails naming them.
    let missing = "00000000-0000-4000-8000-000000000000";
    assert!(matches!(
        cluster.silence(missing).await.unwrap_err(),
        Error::QuorumNotReached { answered: 0, .. }
    ));
}
