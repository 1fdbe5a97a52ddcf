//! What is particular to the Loki store: stream labels, structured metadata,
//! pagination, look-back, tenants and Loki's errors, against the test kit's Loki fixture.
#![cfg(feature = "loki")]

use alert_core::{Alert, LabelSet, MatchType, Matcher, Matchers, Timestamp};
use alert_history::loki::{LokiConfig, LokiStore};
use alert_history::{
    EpisodeQuery, Error, HistoryStore, MAX_QUERY_LIMIT, Notification, Selectors, TimeSpan,
};
use alert_testkit::loki::{LokiConfig as FixtureConfig, LokiFixture};

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn ts(secs: i64, nanos: i32) -> Timestamp {
    Timestamp::from_unix(secs, nanos).expect("valid")
}

fn store(fixture: &LokiFixture, tenant: Option<&str>) -> LokiStore {
    let mut config = LokiConfig::new(fixture.url());
    config.tenant = tenant.map(str::to_owned);
    LokiStore::new(config)
}

fn notification(name: &str, n: usize, starts: Timestamp, received: Timestamp) -> Notification {
    let labels = LabelSet::from_pairs([("alertname", name.to_owned()), ("n", n.to_string())])
        .expect("valid");
    Notification {
        alert: Alert::firing(labels, starts),
        receiver: "history".into(),
        received_at: received,
    }
}

#[test]
fn pages_of_at_most_5000_none_read_twice_and_nothing_missed() {
    let fixture = LokiFixture::start();
    let store = store(&fixture, Some("t"));
    let base = now_secs() - 1800;
    // 12,345 notifications received within one second: many share a second, none a ns.
    let batch: Vec<Notification> = (0..12_345)
        .map(|i| notification("Bulk", i, ts(base - 60, 0), ts(base, 0)))
        .collect();
    store.append(&batch).expect("append");
    let range = TimeSpan::new(ts(base - 120, 0), ts(base + 120, 0)).expect("valid");
    let mut q = EpisodeQuery::new(range);
    q.limit = MAX_QUERY_LIMIT;
    let mut total = Vec::new();
    loop {
        let page = store.query(&q).expect("query");
        total.extend(page.episodes);
        match page.next {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(total.len(), 12_345);
    let mut fps: Vec<_> = total.iter().map(|e| e.fingerprint).collect();
    fps.sort();
    fps.dedup();
    assert_eq!(fps.len(), 12_345);
    let requests = fixture.range_requests();
    // Two queries (two result pages), each read in three Loki pages.
    assert_eq!(requests.len(), 6, "{requests:#?}");
    for pair in requests.chunks(3) {
        assert!(
            pair.iter()
                .all(|r| r.limit <= 5000 && r.direction == "forward")
        );
        assert!(
            pair.windows(2).all(|w| w[0].start < w[1].start),
            "every page starts later: {pair:#?}"
        );
    }
}

#[test]
fn stream_labels_are_few_and_fingerprints_are_structured_metadata() {
    let fixture = LokiFixture::start();
    let store = store(&fixture, Some("t"));
    let now = now_secs();
    let batch: Vec<Notification> = (0..50)
        .map(|i| notification("Many", i, ts(now - 100, 0), ts(now - 10, 0)))
        .collect();
    store.append(&batch).expect("append");
    let streams = fixture.streams("t");
    assert_eq!(streams.len(), 1, "one stream for all alerts: {streams:?}");
    let names: Vec<&String> = streams[0].keys().collect();
    assert_eq!(names, ["kind", "service_name"]);
    let fp = batch[7].alert.fingerprint;
    let range = TimeSpan::new(ts(now - 3600, 0), ts(now, 0)).expect("valid");
    let got = store.episodes_of(fp, range).expect("episodes_of");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].labels.get("n"), Some("7"));
    let last = fixture.range_requests().pop().expect("a query was made");
    assert!(
        last.query.ends_with(&format!(r#"| fingerprint="{fp}""#)),
        "{}",
        last.query
    );
    // alertname equality is filtered by Loki through structured metadata too.
    let eq = |n: &str, v: &str| Matcher::new(MatchType::Equal, n, v).expect("valid");
    let mut q = EpisodeQuery::new(range);
    q.selectors = Matchers::new(vec![eq("alertname", "Many")]).into();
    assert_eq!(store.query(&q).expect("query").episodes.len(), 50);
    let last = fixture.range_requests().pop().expect("a query was made");
    assert!(
        last.query.ends_with(r#"| alertname="Many""#),
        "{}",
        last.query
    );
    // Several selectors, each with an alertname: one read, filtered with `or`.
    store
        .append(&[notification("Other", 1, ts(now - 100, 0), ts(now - 9, 0))])
        .expect("append");
    q.selectors = Selectors::new([
        Matchers::new(vec![eq("alertname", "Many"), eq("n", "3")]),
        Matchers::new(vec![eq("alertname", "Other")]),
        Matchers::new(vec![eq("alertname", "Many"), eq("n", "4")]),
    ]);
    let before = fixture.range_requests().len();
    let got = store.query(&q).expect("query").episodes;
    let mut names: Vec<String> = got
        .iter()
        .map(|e| format!("{}/{}", e.alertname(), e.labels.get_or_empty("n")))
        .collect();
    names.sort();
    assert_eq!(names, ["Many/3", "Many/4", "Other/1"]);
    let requests = fixture.range_requests();
    assert_eq!(requests.len(), before + 1, "one read for all selectors");
    let last = requests.last().expect("a query was made");
    assert!(
        last.query
            .ends_with(r#"| alertname="Many" or alertname="Other""#),
        "{}",
        last.query
    );
    // A selector without an alertname equality: every notification is read.
    q.selectors = Selectors::new([
        Matchers::new(vec![eq("alertname", "Other")]),
        Matchers::new(vec![eq("n", "7")]),
    ]);
    assert_eq!(store.query(&q).expect("query").episodes.len(), 2);
    let last = fixture.range_requests().pop().expect("a query was made");
    assert!(last.query.ends_with('}'), "{}", last.query);
}

#[test]
fn look_back_finds_alerts_firing_since_before_the_range() {
    let fixture = LokiFixture::start();
    let now = now_secs();
    store(&fixture, Some("t"))
        .append(&[notification(
            "LongFiring",
            0,
            ts(now - 5 * 3600, 0),
            ts(now - 3 * 3600, 0),
        )])
        .expect("append");
    let range = TimeSpan::new(ts(now - 3600, 0), ts(now, 0)).expect("valid");
    // Default look-back: 4h10m, one repeat_interval and margin.
    let found = store(&fixture, Some("t"))
        .query(&EpisodeQuery::new(range))
        .expect("query");
    assert_eq!(found.episodes.len(), 1);
    assert_eq!(found.episodes[0].starts_at, ts(now - 5 * 3600, 0));
    let mut short = LokiConfig::new(fixture.url());
    short.tenant = Some("t".into());
    short.lookback = "1h".parse().expect("valid");
    let missed = LokiStore::new(short)
        .query(&EpisodeQuery::new(range))
        .expect("query");
    assert!(
        missed.episodes.is_empty(),
        "a 1h look-back cannot see a notification 2h before the range"
    );
}

#[test]
fn tenants_are_separate_and_required_when_auth_is_on() {
    let fixture = LokiFixture::start();
    let now = now_secs();
    store(&fixture, Some("a"))
        .append(&[notification("A", 0, ts(now - 100, 0), ts(now - 50, 0))])
        .expect("append");
    let range = TimeSpan::new(ts(now - 3600, 0), ts(now, 0)).expect("valid");
    assert_eq!(
        store(&fixture, Some("a"))
            .query(&EpisodeQuery::new(range))
            .expect("query")
            .episodes
            .len(),
        1
    );
    assert!(
        store(&fixture, Some("b"))
            .query(&EpisodeQuery::new(range))
            .expect("query")
            .episodes
            .is_empty()
    );
    let err = store(&fixture, None)
        .query(&EpisodeQuery::new(range))
        .unwrap_err();
    assert!(
        matches!(&err, Error::LokiStatus { status: 401, body, .. } if body == "no org id"),
        "{err}"
    );
}

#[test]
fn loki_errors_are_reported_not_swallowed() {
    let fixture = LokiFixture::start_with(FixtureConfig {
        max_entries_limit_per_query: 1000,
        ..FixtureConfig::default()
    });
    let now = now_secs();
    let s = store(&fixture, Some("t"));
    s.append(&[notification("New", 0, ts(now - 100, 0), ts(now - 10, 0))])
        .expect("append");
    // Two hours behind the newest entry of the stream: Loki refuses it. (One store keeps
    // its own timestamps increasing; a second writer need not.)
    let err = store(&fixture, Some("t"))
        .append(&[notification("Old", 0, ts(now - 7300, 0), ts(now - 7200, 0))])
        .unwrap_err();
    assert!(
        matches!(&err, Error::LokiStatus { status: 400, body, .. } if body.contains("entry too far behind")),
        "{err}"
    );
    let range = TimeSpan::new(ts(now - 3600, 0), ts(now, 0)).expect("valid");
    let err = s.query(&EpisodeQuery::new(range)).unwrap_err();
    assert!(
        err.to_string().contains("max entries limit per query exceeded, limit > max_entries_limit_per_query (5000 > 1000)"),
        "{err}"
    );
    let mut small = LokiConfig::new(fixture.url());
    small.tenant = Some("t".into());
    small.page_limit = 1000;
    assert_eq!(
        LokiStore::new(small)
            .query(&EpisodeQuery::new(range))
            .expect("query")
            .episodes
            .len(),
        1
    );
}

#[test]
fn long_windows_are_split_at_max_query_length() {
    let fixture = LokiFixture::start();
    let now = now_secs();
    let mut config = LokiConfig::new(fixture.url());
    config.tenant = Some("t".into());
    config.max_query_length = "1h".parse().expect("valid");
    let s = LokiStore::new(config);
    let batch: Vec<Notification> = (0..5)
        .map(|i| {
            notification(
                "Spread",
                i,
                ts(now - 4 * 3600 + i as i64 * 3000, 0),
                ts(now - 4 * 3600 + i as i64 * 3000 + 5, 0),
            )
        })
        .collect();
    s.append(&batch).expect("append");
    let range = TimeSpan::new(ts(now - 4 * 3600, 0), ts(now, 0)).expect("valid");
    assert_eq!(
        s.query(&EpisodeQuery::new(range))
            .expect("query")
            .episodes
            .len(),
        5
    );
    let requests = fixture.range_requests();
    assert!(
        requests.len() >= 8,
        "4h + 4h10m look-back + 10m look-ahead in 1h windows: {}",
        requests.len()
    );
    assert!(
        requests
            .iter()
            .all(|r| r.end - r.start <= 3_600_000_000_000)
    );
}
