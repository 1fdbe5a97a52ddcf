//! What only the PostgreSQL store has to show: its schema versions, connection errors
//! without the password, and several replicas appending the same notifications at once.
#![cfg(feature = "postgres")]

use std::sync::Arc;

use alert_core::{Alert, AlertStatus, LabelSet, MatchType, Matcher, Matchers, Timestamp};
use alert_history::postgres::PostgresStore;
use alert_history::postgres::schema::CURRENT_VERSION;
use alert_history::{
    EpisodeQuery, Error, HistoryStore, MAX_QUERY_LIMIT, Notification, TimeSpan, merge_notifications,
};
use alert_testkit::postgres::PostgresServer;

fn t(secs: i64) -> Timestamp {
    // A fixed base a few hours ago is not needed: PostgreSQL takes any instant.
    Timestamp::from_unix(1_714_557_600 + secs, 0).expect("valid")
}

fn notification(instance: u32, starts: i64, resolved: Option<i64>, received: i64) -> Notification {
    let labels = LabelSet::from_pairs([
        ("alertname", "Flapping".to_owned()),
        ("instance", format!("i{instance}")),
    ])
    .expect("valid");
    let mut alert = Alert::firing(labels, t(starts));
    if let Some(ends) = resolved {
        alert.status = AlertStatus::Resolved;
        alert.ends_at = Some(t(ends));
    }
    alert.annotations = LabelSet::from_pairs([("received", received.to_string())]).expect("valid");
    Notification {
        alert,
        receiver: "history".into(),
        received_at: t(received),
    }
}

fn everything(store: &dyn HistoryStore) -> Vec<alert_history::Episode> {
    let mut q = EpisodeQuery::new(TimeSpan::new(t(-86_400), t(86_400)).expect("valid"));
    q.limit = MAX_QUERY_LIMIT;
    let page = store.query(&q).expect("query");
    assert!(page.next.is_none());
    page.episodes
}

#[test]
fn migrations_are_versioned_and_a_newer_schema_is_refused() {
    let db = PostgresServer::shared().create_database();
    // Replicas starting at once on an empty database: one migrates, the others wait
    // and find the work done.
    let stores: Vec<PostgresStore> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| PostgresStore::connect(&db.url()).expect("connect")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for store in &stores {
        assert_eq!(store.schema_version().expect("version"), CURRENT_VERSION);
    }
    assert_eq!(
        db.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations"),
        (1..=CURRENT_VERSION)
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let store = &stores[0];
    store
        .append(&[notification(1, 0, None, 10)])
        .expect("append");
    assert_eq!(store.retention().expect("retention"), None);
    store
        .set_retention(Some("30d".parse().expect("valid")))
        .expect("set");
    drop(stores);
    // Reconnecting to an up-to-date database changes nothing.
    let store = PostgresStore::connect(&db.url()).expect("reconnect");
    assert_eq!(everything(&store).len(), 1);
    assert_eq!(
        store.retention().expect("retention"),
        Some("30d".parse().expect("valid"))
    );
    store.set_retention(None).expect("clear");
    assert_eq!(store.retention().expect("retention"), None);
    drop(store);

    db.psql("INSERT INTO schema_migrations(version) VALUES (99)");
    let err = PostgresStore::connect(&db.url())
        .err()
        .expect("a newer schema is refused");
    assert!(
        matches!(err, Error::SchemaTooNew { found: 99, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "/{}: schema version 99 is newer than this release knows ({CURRENT_VERSION})",
            db.name()
        )),
        "{text}"
    );
}

#[test]
fn connection_errors_name_the_database_but_never_the_password() {
    let port = alert_testkit::free_port();
    let url = format!("postgres://history:s3cr3t-pw@127.0.0.1:{port}/history?connect_timeout=2");
    let err = PostgresStore::connect(&url)
        .err()
        .expect("nothing listens there");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("postgres 127.0.0.1:{port}/history (connect): ")),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(!format!("{err:?}").contains("s3cr3t"), "{err:?}");
    let err = PostgresStore::connect("postgres://u:s3cr3t@host:notaport/db")
        .err()
        .expect("not a URL");
    assert!(!err.to_string().contains("s3cr3t"), "{err}");
}

/// A small deterministic shuffle (xorshift), so every thread appends in its own order.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

/// Two replicas (two stores, each with its own connections), two threads each, append
/// every notification of a set of flapping alerts, each thread in its own order and in
/// batches of its own size: every episode is stored once, merged and superseded as the
/// pure merge says.
#[test]
fn replicas_appending_the_same_notifications_at_once_agree_with_the_merge() {
    let mut all = Vec::new();
    let mut received = 0;
    for instance in 0..6 {
        for start in 0..4 {
            let starts = start * 600;
            for repeat in 0..3 {
                received += 1;
                all.push(notification(
                    instance,
                    starts,
                    None,
                    starts + 30 * repeat + received,
                ));
            }
            // Every other episode resolves; the rest are superseded by the next start.
            if (instance + start as u32).is_multiple_of(2) {
                received += 1;
                all.push(notification(
                    instance,
                    starts,
                    Some(starts + 300),
                    starts + 310 + received,
                ));
            }
        }
    }
    let mut expected = merge_notifications(&all);
    // Page order.
    expected.sort_by_key(|e| (e.starts_at, e.fingerprint));
    assert!(
        expected.iter().any(|e| e.end_inferred),
        "the set has superseded episodes"
    );
    for round in 0..3u64 {
        let db = PostgresServer::shared().create_database();
        let replicas = [
            Arc::new(PostgresStore::connect(&db.url()).expect("replica a")),
            Arc::new(PostgresStore::connect(&db.url()).expect("replica b")),
        ];
        std::thread::scope(|s| {
            for thread in 0..4u64 {
                let store = Arc::clone(&replicas[(thread % 2) as usize]);
                let mut mine = all.clone();
                shuffle(&mut mine, 0x9e37_79b9_7f4a_7c15 ^ (round * 31 + thread + 1));
                let batch = 1 + (thread as usize * 3) % 7;
                s.spawn(move || {
                    for chunk in mine.chunks(batch) {
                        store.append(chunk).expect("append");
                    }
                });
            }
        });
        for store in &replicas {
            assert_eq!(everything(store.as_ref()), expected, "round {round}");
        }
        let stats = replicas[0].stats().expect("stats");
        assert_eq!(stats.episodes, expected.len() as u64);
        assert_eq!(stats.newest_seen, all.iter().map(|n| n.received_at).max());
        assert_eq!(
            db.psql("SELECT count(*) FROM episode_labels"),
            expected.len().to_string(),
            "one label row (instance) per episode"
        );
        // An equality matcher goes through the label table.
        let mut q = EpisodeQuery::new(TimeSpan::new(t(-10), t(10_000)).expect("valid"));
        q.selectors = Matchers::new(vec![
            Matcher::new(MatchType::Equal, "instance", "i3").expect("valid"),
        ])
        .into();
        let got = replicas[1].query(&q).expect("query").episodes;
        let want: Vec<_> = expected.iter().filter(|e| q.admits(e)).cloned().collect();
        assert_eq!(got, want);
    }
}

/// The definitions of the episode tables' indexes and constraints, as the server
/// states them.
fn index_definitions(url: &str) -> Vec<String> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    let mut defs: Vec<String> = client
        .query(
            "SELECT indexname || ': ' || indexdef FROM pg_indexes \
             WHERE tablename IN ('episodes', 'episode_labels') \
             UNION ALL SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid IN ('episodes'::regclass, 'episode_labels'::regclass)",
            &[],
        )
        .expect("indexes")
        .iter()
        .map(|r| r.get(0))
        .collect();
    defs.sort();
    defs
}

/// A bulk load writes the episodes as they are, label rows included (an indexed
/// matcher finds them), and appends go on after it: new ids, merged into the loaded
/// episodes, a new start superseding one. Into the empty store the load builds the
/// indexes after the rows: they are the migrations' again, constraints included; a
/// second load, into a store that has episodes, keeps them as it goes.
#[test]
fn bulk_load_writes_episodes_that_appends_then_merge_into() {
    let db = PostgresServer::shared().create_database();
    let store = PostgresStore::connect(&db.url()).expect("connect");
    let migrated = index_definitions(&db.url());
    assert!(
        migrated
            .iter()
            .any(|d| d.contains("UNIQUE (fingerprint, starts_at)")),
        "{migrated:#?}"
    );
    // Six indexes, three of them constraints'.
    assert_eq!(migrated.len(), 9, "{migrated:#?}");
    let loaded_from = [
        notification(1, 0, Some(60), 90),
        notification(2, 0, None, 30),
        notification(3, 10, None, 40),
    ];
    let loaded = store
        .bulk_load(
            loaded_from
                .iter()
                .map(alert_history::Episode::from_notification),
        )
        .expect("bulk load");
    assert_eq!(loaded, 3);
    assert_eq!(index_definitions(&db.url()), migrated);
    let in_query_order = |notifications: &[Notification]| {
        let mut episodes = merge_notifications(notifications);
        episodes.sort_by_key(|e| (e.starts_at, e.fingerprint));
        episodes
    };
    assert_eq!(everything(&store), in_query_order(&loaded_from));
    let mut q = EpisodeQuery::new(TimeSpan::new(t(-86_400), t(86_400)).expect("valid"));
    q.selectors = Matchers::new(vec![
        Matcher::new(MatchType::Equal, "instance", "i2").expect("valid"),
    ])
    .into();
    assert_eq!(store.query(&q).expect("query").episodes.len(), 1);

    let appended = [
        notification(2, 0, Some(100), 110),
        notification(3, 50, None, 120),
    ];
    store.append(&appended).expect("append");
    let all: Vec<Notification> = loaded_from.iter().chain(&appended).cloned().collect();
    assert_eq!(everything(&store), in_query_order(&all));
    assert_eq!(store.stats().expect("stats").episodes, 4);

    let more = [notification(4, 20, Some(80), 90)];
    let loaded = store
        .bulk_load(more.iter().map(alert_history::Episode::from_notification))
        .expect("bulk load into a store with episodes");
    assert_eq!(loaded, 1);
    let all: Vec<Notification> = all.iter().chain(&more).cloned().collect();
    assert_eq!(everything(&store), in_query_order(&all));
    q.selectors = Matchers::new(vec![
        Matcher::new(MatchType::Equal, "instance", "i4").expect("valid"),
    ])
    .into();
    assert_eq!(store.query(&q).expect("query").episodes.len(), 1);
    assert_eq!(index_definitions(&db.url()), migrated);
}

/// A load with a key twice fails, naming the key, and leaves the empty store as it was:
/// no episode, no label row, every index and constraint in place (the unique one then
/// refuses the same key from an append's point of view: one episode for it).
#[test]
fn a_bulk_load_with_a_key_twice_writes_nothing() {
    let db = PostgresServer::shared().create_database();
    let store = PostgresStore::connect(&db.url()).expect("connect");
    let migrated = index_definitions(&db.url());
    let twice = [
        notification(1, 0, Some(60), 90),
        notification(2, 0, None, 30),
        notification(1, 0, Some(70), 95),
    ];
    let err = store
        .bulk_load(twice.iter().map(alert_history::Episode::from_notification))
        .expect_err("a key twice");
    let text = err.to_string();
    assert!(
        text.contains("bulk load") && text.contains("fingerprint, starts_at"),
        "{text}"
    );
    assert_eq!(store.stats().expect("stats").episodes, 0);
    assert_eq!(index_definitions(&db.url()), migrated);
    assert_eq!(
        db.psql("SELECT count(*) FROM episode_labels").trim(),
        "0",
        "label rows of the failed load"
    );
    store.append(&twice).expect("append");
    assert_eq!(everything(&store).len(), 2);
}

/// A query whose one selector names an alert name reads the episodes started within the
/// range in page order, a chunk of rows at a time (a LIMIT, so that the planner stops at
/// a page): a selector that admits one candidate in three needs several chunks for a
/// page, and every page, cursor after cursor, is the reference's (the pure merge, in
/// page order and filtered).
#[test]
fn pages_read_in_chunks_are_the_reference_pages() {
    let db = PostgresServer::shared().create_database();
    let store = PostgresStore::connect(&db.url()).expect("connect");
    // 40 carried into the range (started before 0, open), 900 started within it.
    let notifications: Vec<Notification> = (0..940)
        .map(|i| {
            let starts = if i < 40 { -1_000 + i } else { i * 10 };
            notification(i as u32, starts, None, starts + 1)
        })
        .collect();
    store.append(&notifications).expect("append");
    let selector = Matchers::new(vec![
        Matcher::new(MatchType::Equal, "alertname", "Flapping").expect("valid"),
        Matcher::new(MatchType::Regexp, "instance", "i[0-9]*[036]").expect("valid"),
    ]);
    let mut expected = merge_notifications(&notifications);
    expected.retain(|e| selector.matches(&e.labels));
    expected.sort_by_key(|e| (e.starts_at, e.fingerprint));
    assert!(expected.len() > 256, "{}", expected.len());
    for limit in [1, 7, 100, 280, MAX_QUERY_LIMIT] {
        let mut q = EpisodeQuery::new(TimeSpan::new(t(0), t(86_400)).expect("valid"));
        q.selectors = selector.clone().into();
        q.limit = limit;
        let mut got = Vec::new();
        let mut pages = 0;
        loop {
            let page = store.query(&q).expect("query");
            assert!(page.episodes.len() <= limit);
            got.extend(page.episodes);
            pages += 1;
            match page.next {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(got, expected, "limit {limit}");
        assert_eq!(
            pages,
            expected.len().div_ceil(limit).max(1),
            "limit {limit}"
        );
    }
}

#[test]
fn brief_queries_leave_out_details() {
    let db = PostgresServer::shared().create_database();
    let store = PostgresStore::connect(&db.url()).expect("connect");
    alert_history::conformance::brief_queries_leave_out_details(&store);
}
