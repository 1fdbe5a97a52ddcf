//! Stores against the model: whatever notifications arrive, every store answers a query
//! (through all its pages) exactly as the pure model does — `merge_notifications`, then
//! the query's range, selectors (OR-ed) and order.
#![cfg(any(feature = "sqlite", feature = "loki", feature = "postgres"))]

use alert_core::{Alert, AlertStatus, LabelSet, MatchType, Matcher, Matchers, Timestamp};
use alert_history::{
    EpisodeQuery, HistoryStore, Notification, Selectors, TimeSpan, merge_notifications,
};
use proptest::prelude::*;

/// Two hours before the first call, in whole seconds: the base of the generated times
/// (fixed once, so a case crossing a second boundary sees one base).
fn base() -> i64 {
    static BASE: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs() as i64;
        now - 2 * 3600
    })
}

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_unix(secs, 0).expect("valid")
}

/// A raw notification: alert name, instance, start offset, resolved after (seconds).
type Raw = (u8, u8, i64, Option<i64>);

fn notifications(raw: &[Raw]) -> Vec<Notification> {
    let b = base();
    raw.iter()
        .enumerate()
        .map(|(i, &(name, instance, start, resolved))| {
            let labels = LabelSet::from_pairs([
                ("alertname", format!("A{name}")),
                ("instance", format!("i{instance}")),
            ])
            .expect("valid");
            let mut alert = Alert::firing(labels, ts(b + start));
            if let Some(after) = resolved {
                alert.status = AlertStatus::Resolved;
                alert.ends_at = Some(ts(b + start + after));
            }
            alert.annotations = LabelSet::from_pairs([("n", i.to_string())]).expect("valid");
            Notification {
                alert,
                receiver: "history".into(),
                // Distinct, increasing receive times: as a server appends them.
                received_at: ts(b + 4000 + i as i64),
            }
        })
        .collect()
}

fn raw_strategy() -> impl Strategy<Value = Vec<Raw>> {
    proptest::collection::vec(
        (0u8..3, 0u8..3, 0i64..3600, proptest::option::of(1i64..1800)),
        1..40,
    )
}

/// The query's `match[]`: one selector, or several OR-ed (overlapping, indexed or not).
fn selectors(kind: u8) -> Selectors {
    let m = |t, n: &str, v: &str| Matcher::new(t, n, v).expect("valid");
    let one = |ms: Vec<Matcher>| Matchers::new(ms);
    Selectors::new(match kind {
        0 => vec![],
        1 => vec![one(vec![m(MatchType::Equal, "alertname", "A1")])],
        2 => vec![one(vec![m(MatchType::Equal, "instance", "i0")])],
        3 => vec![one(vec![
            m(MatchType::Regexp, "alertname", "A[02]"),
            m(MatchType::NotEqual, "instance", "i1"),
        ])],
        4 => vec![one(vec![
            m(MatchType::Equal, "alertname", "A2"),
            m(MatchType::Equal, "instance", "i2"),
        ])],
        5 => vec![
            one(vec![m(MatchType::Equal, "alertname", "A1")]),
            one(vec![m(MatchType::Equal, "instance", "i0")]),
        ],
        6 => vec![
            one(vec![
                m(MatchType::Regexp, "alertname", "A[02]"),
                m(MatchType::NotEqual, "instance", "i1"),
            ]),
            one(vec![
                m(MatchType::Equal, "alertname", "A1"),
                m(MatchType::Equal, "instance", "i2"),
            ]),
            one(vec![m(MatchType::Equal, "instance", "i2")]),
        ],
        _ => vec![
            one(vec![m(MatchType::Equal, "alertname", "A0")]),
            one(vec![
                m(MatchType::Equal, "alertname", "A2"),
                m(MatchType::Equal, "instance", "i1"),
            ]),
        ],
    })
}

/// Every page of `query`, concatenated.
fn all_pages(store: &dyn HistoryStore, mut query: EpisodeQuery) -> Vec<alert_history::Episode> {
    let mut out = Vec::new();
    for _ in 0..100 {
        let page = store.query(&query).expect("query");
        assert!(page.episodes.len() <= query.limit);
        out.extend(page.episodes);
        match page.next {
            Some(c) => query.cursor = Some(c),
            None => return out,
        }
    }
    panic!("pagination does not end");
}

/// Appends the notifications `batch` at a time (what a batch finds stored, it merges and
/// supersedes as if it had come in the same batch), then checks one query.
fn check(
    store: &dyn HistoryStore,
    raw: &[Raw],
    batch: usize,
    (from, len, kind, limit): (i64, i64, u8, usize),
) {
    let ns = notifications(raw);
    for chunk in ns.chunks(batch.max(1)) {
        store.append(chunk).expect("append");
    }
    let b = base();
    let range = TimeSpan::new(ts(b + from), ts(b + from + len)).expect("valid");
    let mut query = EpisodeQuery::new(range);
    query.selectors = selectors(kind);
    query.limit = limit;
    let mut expected: Vec<_> = merge_notifications(&ns)
        .into_iter()
        .filter(|e| query.admits(e))
        .collect();
    expected.sort_by_key(|e| (e.starts_at, e.fingerprint));
    assert_eq!(all_pages(store, query), expected);
}

#[cfg(feature = "sqlite")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn sqlite_answers_as_the_model(raw in raw_strategy(), batch in 1usize..48, from in -600i64..5000, len in 1i64..6000, kind in 0u8..8, limit in 1usize..8) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = alert_history::sqlite::SqliteStore::open(dir.path().join("h.db")).expect("open");
        check(&store, &raw, batch, (from, len, kind, limit));
    }
}

#[cfg(feature = "loki")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn loki_answers_as_the_model(raw in raw_strategy(), from in -600i64..5000, len in 1i64..6000, kind in 0u8..8, limit in 1usize..8) {
        let fixture = alert_testkit::loki::LokiFixture::start();
        let mut config = alert_history::loki::LokiConfig::new(fixture.url());
        config.tenant = Some("model".into());
        config.lookback = "12h".parse().expect("valid");
        config.lookahead = "3h".parse().expect("valid");
        let store = alert_history::loki::LokiStore::new(config);
        check(&store, &raw, raw.len(), (from, len, kind, limit));
    }
}

#[cfg(feature = "postgres")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A fresh database of the test kit's PostgreSQL server per case; the notifications
    /// appended in batches of any size (one statement per step of a batch: what it
    /// finds stored must merge and supersede as one batch would).
    #[test]
    fn postgres_answers_as_the_model(raw in raw_strategy(), batch in 1usize..48, from in -600i64..5000, len in 1i64..6000, kind in 0u8..8, limit in 1usize..8) {
        let db = alert_testkit::postgres::PostgresServer::shared().create_database();
        let store = alert_history::postgres::PostgresStore::connect(&db.url()).expect("connect");
        check(&store, &raw, batch, (from, len, kind, limit));
    }

    /// The PostgreSQL store's heartbeat gaps answer as the reference, in any arrival
    /// order, for any range and allowed gap.
    #[test]
    fn postgres_heartbeat_gaps_match_the_reference(
        beats in proptest::collection::vec(0i64..5000, 0..40),
        from in -100i64..5000,
        len in 1i64..3000,
        gap in 1u64..400,
    ) {
        use alert_history::{Heartbeat, HeartbeatLog};
        let db = alert_testkit::postgres::PostgresServer::shared().create_database();
        let store = alert_history::postgres::PostgresStore::connect(&db.url()).expect("connect");
        let b = base();
        let all: Vec<Timestamp> = beats.iter().map(|s| ts(b + s)).collect();
        for at in &all {
            store.record_heartbeat(&Heartbeat::Watchdog { at: *at }).expect("heartbeat");
        }
        let range = TimeSpan::new(ts(b + from), ts(b + from + len)).expect("valid");
        let max_gap = alert_core::Duration::from_secs(gap).expect("fits");
        let got = store.heartbeats(range, max_gap).expect("heartbeats");
        prop_assert_eq!(got, HeartbeatLog::from_beats(&all, &[], range, max_gap));
    }
}

#[cfg(feature = "sqlite")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The SQLite store's gap index answers as the reference over all heartbeats, in any
    /// arrival order, for any range and allowed gap.
    #[test]
    fn sqlite_heartbeat_gaps_match_the_reference(
        beats in proptest::collection::vec(0i64..5000, 0..40),
        from in -100i64..5000,
        len in 1i64..3000,
        gap in 1u64..400,
    ) {
        use alert_history::{Heartbeat, HeartbeatLog};
        let dir = tempfile::tempdir().expect("temp dir");
        let store = alert_history::sqlite::SqliteStore::open(dir.path().join("h.db")).expect("open");
        let b = base();
        let all: Vec<Timestamp> = beats.iter().map(|s| ts(b + s)).collect();
        for at in &all {
            store.record_heartbeat(&Heartbeat::Watchdog { at: *at }).expect("heartbeat");
        }
        let range = TimeSpan::new(ts(b + from), ts(b + from + len)).expect("valid");
        let max_gap = alert_core::Duration::from_secs(gap).expect("fits");
        let got = store.heartbeats(range, max_gap).expect("heartbeats");
        prop_assert_eq!(got, HeartbeatLog::from_beats(&all, &[], range, max_gap));
    }
}
