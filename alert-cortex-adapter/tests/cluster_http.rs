//! HA paths a real cluster will not produce on demand, against scripted members
//! (wiremock): a member that never shows a silence, a first member that is down, a
//! member answering garbage.

use std::time::Duration;

use alert_core::silence::PostableSilence;
use alert_core::{ParserMode, Timestamp, parse_matchers};
use alert_cortex_adapter::{AlertQuery, AlertmanagerClient, Backoff, Cluster, Error, Quorum};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ID: &str = "6d0c7afc-d639-4f6e-9fe5-ba55874374d7";

fn silence_json() -> serde_json::Value {
    serde_json::json!({
        "id": ID, "status": {"state": "active"}, "updatedAt": "2024-05-01T10:00:00.000Z",
        "comment": "c", "createdBy": "me", "endsAt": "2099-01-01T00:00:00.000Z",
        "matchers": [{"isEqual": true, "isRegex": false, "name": "alertname", "value": "A"}],
        "startsAt": "2024-05-01T10:00:00.000Z"
    })
}

fn postable() -> PostableSilence {
    let t: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
    PostableSilence::new(
        &parse_matchers("alertname=\"A\"", ParserMode::Classic).unwrap(),
        t,
        "2099-01-01T00:00:00Z".parse().unwrap(),
        "me",
        "c",
    )
}

fn member(url: &str) -> AlertmanagerClient {
    AlertmanagerClient::builder(url)
        .timeout(Duration::from_secs(2))
        .backoff(Backoff {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(10),
            multiplier: 2.0,
            max_attempts: 2,
            jitter: false,
        })
        .build()
        .unwrap()
}

async fn origin() -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/silences"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"silenceID": ID})),
        )
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/silence/{ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(silence_json()))
        .mount(&s)
        .await;
    s
}

fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

#[tokio::test]
async fn a_member_that_never_shows_the_silence_fails_the_wait() {
    let first = origin().await;
    let lagging = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/silence/{ID}")))
        .respond_with(ResponseTemplate::new(404).set_body_string("null"))
        .mount(&lagging)
        .await;
    let cluster = Cluster::new(vec![member(&first.uri()), member(&lagging.uri())]).unwrap();
    match cluster
        .create_silence(&postable(), Some(Duration::from_millis(300)))
        .await
        .unwrap_err()
    {
        Error::NotVisible { what, members, .. } => {
            assert_eq!(what, format!("silence {ID}"));
            assert_eq!(members, [lagging.uri()]);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Without waiting, the silence is created and the call returns at once.
    let created = cluster.create_silence(&postable(), None).await.unwrap();
    assert_eq!(created.value, ID);
    assert_eq!(created.answered, [first.uri()]);
}

#[tokio::test]
async fn a_down_first_member_is_skipped_and_named() {
    let second = origin().await;
    let dead = dead_url();
    let cluster = Cluster::new(vec![member(&dead), member(&second.uri())]).unwrap();
    // Created on the second member, the dead one named.
    let created = cluster.create_silence(&postable(), None).await.unwrap();
    assert_eq!(created.value, ID);
    assert_eq!(created.failed_members(), [dead.as_str()]);
    // Waiting for visibility: with two members the majority is both, so the dead one
    // makes the wait fail, naming it...
    match cluster
        .create_silence(&postable(), Some(Duration::from_millis(300)))
        .await
        .unwrap_err()
    {
        Error::NotVisible { members, .. } => assert_eq!(members, std::slice::from_ref(&dead)),
        other => panic!("unexpected {other:?}"),
    }
    // ...unless one member is enough.
    let relaxed = cluster.with_quorum(Quorum::AtLeast(1));
    let created = relaxed
        .create_silence(&postable(), Some(Duration::from_millis(300)))
        .await
        .unwrap();
    assert_eq!(created.answered, [second.uri()]);
    assert_eq!(created.failed_members(), [dead.as_str()]);
}

#[tokio::test]
async fn garbage_from_one_member_is_a_named_failure() {
    let good = MockServer::start().await;
    Mock::given(path("/api/v2/alerts"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .mount(&good)
        .await;
    let bad = MockServer::start().await;
    Mock::given(path("/api/v2/alerts"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>proxy error</html>"))
        .mount(&bad)
        .await;
    let third = MockServer::start().await;
    Mock::given(path("/api/v2/alerts"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .mount(&third)
        .await;
    let cluster = Cluster::new(vec![
        member(&good.uri()),
        member(&bad.uri()),
        member(&third.uri()),
    ])
    .unwrap();
    let p = cluster.alerts(&AlertQuery::default()).await.unwrap();
    assert_eq!(p.failed_members(), [bad.uri().as_str()]);
    assert!(matches!(*p.failed[0].error, Error::Decode { .. }));
    assert_eq!(p.answered.len(), 2);
}
