//! The conformance suite every [`HistoryStore`] backend must pass.
//!
//! Each public function here is one test. A backend's tests call them all through
//! [`conformance_suite!`](crate::conformance_suite), with a [`Backend`] that opens stores
//! on *fresh, empty* storage for each test and on the *same* storage for every `open` of
//! one test (so durability can be checked by reopening).
//!
//! Times are chosen relative to the current time (a few hours ago) so that backends
//! which refuse old data, like Loki, can take them; notifications are appended in the
//! order they were received, as a server appends them.
//!
//! ```ignore
//! struct MyBackend { dir: tempfile::TempDir }
//! impl alert_history::conformance::Backend for MyBackend {
//!     fn open(&self) -> Box<dyn alert_history::HistoryStore> { /* ... */ }
//! }
//! alert_history::conformance_suite!(MyBackend { dir: tempfile::tempdir().unwrap() });
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a conformance suite is test code: a failed expectation panics, as assert! does"
)]

use alert_core::{
    Alert, AlertStatus, Duration, Fingerprint, LabelSet, MatchType, Matcher, Matchers, Timestamp,
};

use crate::availability::{Heartbeat, HeartbeatGap, HeartbeatLog, ServerRun};
use crate::episode::{EndReason, Episode, Notification};
use crate::range::TimeSpan;
use crate::selector::Selectors;
use crate::store::{EpisodeQuery, HistoryStore, MAX_QUERY_LIMIT};

/// Opens stores on the storage of one test.
pub trait Backend {
    /// A store on this test's storage (the same storage on every call).
    fn open(&self) -> Box<dyn HistoryStore>;
}

/// Expands to one `#[test]` per conformance test. `$make` is evaluated once per test and
/// must yield a [`Backend`] on fresh storage.
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@tests $make;
            append_is_durable_and_idempotent,
            resolved_closes_and_firing_never_reopens,
            a_newer_start_ends_the_open_episode,
            query_overlap_is_half_open,
            query_filters_by_matchers,
            query_ors_selectors,
            query_paginates_with_limit_and_cursor,
            query_paginates_across_selectors,
            query_rejects_bad_limits,
            episodes_of_one_fingerprint,
            heartbeats_of_a_range,
            purge_removes_what_was_last_seen_before_the_cutoff,
            stats_count_what_is_kept,
            unrepresentable_batch_stores_nothing
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let backend = $make;
                $crate::conformance::$name(&backend);
            }
        )*
    };
}

/// Whole seconds, five hours before the first call in this process: the base of every
/// test's times (the latest receive time used is four hours after it, so nothing lies in
/// the future). Fixed once, so that a test crossing a second boundary sees one base.
fn base() -> Timestamp {
    static BASE: std::sync::OnceLock<Timestamp> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Timestamp::from_unix(i64::try_from(now).unwrap_or(0) - 5 * 3600, 0)
            .unwrap_or(Timestamp::UNIX_EPOCH)
    })
}

/// `base() + secs`.
fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix(base().unix_seconds() + secs, 0).expect("representable")
}

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    LabelSet::from_pairs(pairs.iter().copied()).expect("valid labels")
}

fn firing(l: &LabelSet, starts: i64, received: i64) -> Notification {
    let mut alert = Alert::firing(l.clone(), at(starts));
    alert.annotations = labels(&[("summary", &format!("seen at {received}"))]);
    Notification {
        alert,
        receiver: "history".into(),
        received_at: at(received),
    }
}

fn resolved(l: &LabelSet, starts: i64, ends: i64, received: i64) -> Notification {
    let mut n = firing(l, starts, received);
    n.alert.status = AlertStatus::Resolved;
    n.alert.ends_at = Some(at(ends));
    n
}

fn range(from: i64, to: i64) -> TimeSpan {
    TimeSpan::new(at(from), at(to)).expect("non-empty range")
}

fn everything() -> TimeSpan {
    range(-6 * 3600, 6 * 3600)
}

fn all_episodes(store: &dyn HistoryStore, r: TimeSpan, matchers: Vec<Matcher>) -> Vec<Episode> {
    all_selected(store, r, Matchers::new(matchers).into())
}

/// Every episode of `r` that `selectors` select, in one page.
fn all_selected(store: &dyn HistoryStore, r: TimeSpan, selectors: Selectors) -> Vec<Episode> {
    let mut q = EpisodeQuery::new(r);
    q.selectors = selectors;
    q.limit = MAX_QUERY_LIMIT;
    let page = store.query(&q).expect("query");
    assert!(
        page.next.is_none(),
        "fewer than {MAX_QUERY_LIMIT} episodes fit one page"
    );
    page.episodes
}

fn names(episodes: &[Episode]) -> Vec<String> {
    episodes.iter().map(|e| e.alertname().to_owned()).collect()
}

fn eq(name: &str, value: &str) -> Matcher {
    Matcher::new(MatchType::Equal, name, value).expect("valid matcher")
}

/// Appends are durable (a store reopened on the same storage sees them) and merging the
/// same notifications again changes nothing.
pub fn append_is_durable_and_idempotent(backend: &dyn Backend) {
    let a = labels(&[
        ("alertname", "A"),
        ("severity", "critical"),
        ("instance", "db-1"),
    ]);
    let batch = vec![firing(&a, 0, 10), firing(&a, 0, 70)];
    {
        let store = backend.open();
        store.append(&batch).expect("append");
    }
    let store = backend.open();
    let got = all_episodes(store.as_ref(), everything(), vec![]);
    assert_eq!(got.len(), 1, "{got:#?}");
    let e = &got[0];
    assert_eq!(
        (e.fingerprint, e.starts_at, e.ends_at),
        (a.fingerprint(), at(0), None)
    );
    assert_eq!((e.first_seen, e.last_seen), (at(10), at(70)));
    assert_eq!(e.labels, a);
    assert_eq!(e.annotations, labels(&[("summary", "seen at 70")]));
    assert_eq!(e.severity.as_deref(), Some("critical"));
    assert_eq!(e.receiver, "history");
    // Alertmanager retries: the same notifications again.
    store.append(&batch).expect("append again");
    drop(store);
    let again = all_episodes(backend.open().as_ref(), everything(), vec![]);
    assert_eq!(again, got);
}

/// A resolved notification sets the end; a later (or re-delivered) firing one of the
/// same episode does not reopen it; a new start is a new episode.
pub fn resolved_closes_and_firing_never_reopens(backend: &dyn Backend) {
    let a = labels(&[("alertname", "A")]);
    let store = backend.open();
    store.append(&[firing(&a, 0, 10)]).expect("append");
    store.append(&[resolved(&a, 0, 600, 610)]).expect("append");
    store
        .append(&[firing(&a, 0, 620)])
        .expect("append late firing");
    store
        .append(&[firing(&a, 900, 910)])
        .expect("append new episode");
    drop(store);
    let got = all_episodes(backend.open().as_ref(), everything(), vec![]);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!((got[0].starts_at, got[0].ends_at), (at(0), Some(at(600))));
    assert!(!got[0].end_inferred);
    assert_eq!(got[0].last_seen, at(620));
    assert_eq!((got[1].starts_at, got[1].ends_at), (at(900), None));
}

/// An open episode ends where a newer episode of its fingerprint starts (Alertmanager
/// replaced the alert and never resolves the old start), whatever the arrival order;
/// a stated end is kept, and replaces a superseded one when it arrives later.
pub fn a_newer_start_ends_the_open_episode(backend: &dyn Backend) {
    let a = labels(&[("alertname", "A")]);
    let b = labels(&[("alertname", "B")]);
    let store = backend.open();
    // A: starts 0, 300, 600, arriving 600 first, then 0, then 300 (each in a batch of
    // its own), and a duplicate of 0 in a batch with 600's.
    store.append(&[firing(&a, 600, 610)]).expect("append");
    store.append(&[firing(&a, 0, 10)]).expect("append");
    store.append(&[firing(&a, 300, 310)]).expect("append");
    store
        .append(&[firing(&a, 0, 20), firing(&a, 600, 620)])
        .expect("append");
    // B: 0 resolved at 100; 200 open, then superseded by 500, then resolved late at 450.
    store
        .append(&[firing(&b, 0, 10), resolved(&b, 0, 100, 110)])
        .expect("append");
    store
        .append(&[firing(&b, 200, 210), firing(&b, 500, 510)])
        .expect("append");
    drop(store);
    let store = backend.open();
    let got = all_episodes(store.as_ref(), everything(), vec![eq("alertname", "A")]);
    let ends: Vec<_> = got
        .iter()
        .map(|e| (e.starts_at, e.ends_at, e.end_reason, e.end_inferred))
        .collect();
    assert_eq!(
        ends,
        [
            (at(0), Some(at(300)), Some(EndReason::Superseded), true),
            (at(300), Some(at(600)), Some(EndReason::Superseded), true),
            (at(600), None, None, false),
        ],
        "{got:#?}"
    );
    // A superseded episode stops at the newer start in ranges.
    let in_range = all_episodes(store.as_ref(), range(400, 500), vec![eq("alertname", "A")]);
    assert_eq!(in_range.len(), 1, "{in_range:#?}");
    assert_eq!(in_range[0].starts_at, at(300));

    let b_eps = all_episodes(store.as_ref(), everything(), vec![eq("alertname", "B")]);
    assert_eq!(b_eps[0].ends_at, Some(at(100)), "a stated end is kept");
    assert_eq!(b_eps[0].end_reason, Some(EndReason::Resolved));
    assert_eq!(b_eps[1].ends_at, Some(at(500)));
    store
        .append(&[resolved(&b, 200, 450, 460)])
        .expect("append late resolve");
    let b_eps = all_episodes(store.as_ref(), everything(), vec![eq("alertname", "B")]);
    assert_eq!(
        (b_eps[1].ends_at, b_eps[1].end_reason, b_eps[1].end_inferred),
        (Some(at(450)), Some(EndReason::Resolved), false),
        "a stated end replaces the inferred one"
    );
    assert!(b_eps[2].is_open());
}

/// Episodes overlap `[t1, t2)`: one ending exactly at `t1` or starting exactly at `t2`
/// is outside; an open one is inside from its start on.
pub fn query_overlap_is_half_open(backend: &dyn Backend) {
    let store = backend.open();
    let d = labels(&[("alertname", "D")]);
    let c = labels(&[("alertname", "C")]);
    let a = labels(&[("alertname", "A")]);
    let b = labels(&[("alertname", "B")]);
    store
        .append(&[
            firing(&d, 0, 1),
            firing(&c, 3600, 3601),
            resolved(&d, 0, 3600, 3602),
            firing(&a, 7200, 7201),
            resolved(&a, 7200, 10800, 10801),
            firing(&b, 10800, 10802),
            resolved(&b, 10800, 14400, 14401),
        ])
        .expect("append");
    let q = |from, to| names(&all_episodes(store.as_ref(), range(from, to), vec![]));
    assert_eq!(q(10800, 12600), ["C", "B"]);
    assert_eq!(q(3600, 7200), ["C"]);
    assert_eq!(q(3599, 3600), ["D"]);
    assert_eq!(q(14400, 18000), ["C"]);
    assert_eq!(q(-3600, 0), Vec::<String>::new());
    assert_eq!(q(-3600, 1), ["D"]);
}

/// DiskFull on db-1 (critical) and db-2 (warning), CPUHigh on db-1 (warning) and on
/// web-1 (no severity).
fn disk_and_cpu() -> Vec<LabelSet> {
    vec![
        labels(&[
            ("alertname", "DiskFull"),
            ("instance", "db-1"),
            ("severity", "critical"),
        ]),
        labels(&[
            ("alertname", "DiskFull"),
            ("instance", "db-2"),
            ("severity", "warning"),
        ]),
        labels(&[
            ("alertname", "CPUHigh"),
            ("instance", "db-1"),
            ("severity", "warning"),
        ]),
        labels(&[("alertname", "CPUHigh"), ("instance", "web-1")]),
    ]
}

/// All matchers must match; a missing label matches as the empty string.
pub fn query_filters_by_matchers(backend: &dyn Backend) {
    let store = backend.open();
    let sets = disk_and_cpu();
    let batch: Vec<Notification> = sets
        .iter()
        .enumerate()
        .map(|(i, l)| firing(l, i as i64, 10))
        .collect();
    store.append(&batch).expect("append");
    let q = |m: Vec<Matcher>| {
        let mut got: Vec<String> = all_episodes(store.as_ref(), everything(), m)
            .iter()
            .map(|e| format!("{}/{}", e.alertname(), e.labels.get_or_empty("instance")))
            .collect();
        got.sort();
        got
    };
    let m = |t, n: &str, v: &str| Matcher::new(t, n, v).expect("valid matcher");
    assert_eq!(
        q(vec![eq("alertname", "DiskFull")]),
        ["DiskFull/db-1", "DiskFull/db-2"]
    );
    assert_eq!(
        q(vec![eq("alertname", "DiskFull"), eq("instance", "db-2")]),
        ["DiskFull/db-2"]
    );
    assert_eq!(
        q(vec![eq("instance", "db-1")]),
        ["CPUHigh/db-1", "DiskFull/db-1"]
    );
    assert_eq!(
        q(vec![m(MatchType::NotEqual, "alertname", "DiskFull")]),
        ["CPUHigh/db-1", "CPUHigh/web-1"]
    );
    assert_eq!(q(vec![m(MatchType::Regexp, "instance", "db-.*")]).len(), 3);
    assert_eq!(
        q(vec![m(MatchType::Regexp, "instance", "db")]).len(),
        0,
        "regexes are anchored"
    );
    assert_eq!(
        q(vec![m(MatchType::NotRegexp, "severity", "warn.*")]),
        ["CPUHigh/web-1", "DiskFull/db-1"]
    );
    assert_eq!(
        q(vec![eq("severity", "")]),
        ["CPUHigh/web-1"],
        "a missing label is empty"
    );
    assert_eq!(q(vec![eq("alertname", "Nope")]).len(), 0);
    assert_eq!(q(vec![]).len(), 4);
}

/// Several selectors (`match[]`) are OR-ed, each selecting when all its matchers match:
/// an episode several selectors select is listed once, in page order; selectors the
/// backend can narrow by index mix with ones it cannot (regular expressions, `!=`, an
/// empty value); a selector that cannot match adds nothing; a selector without matchers
/// selects everything.
pub fn query_ors_selectors(backend: &dyn Backend) {
    let store = backend.open();
    let mut sets = disk_and_cpu();
    sets.push(labels(&[
        ("alertname", "MemHigh"),
        ("instance", "db-3"),
        ("severity", "critical"),
    ]));
    let batch: Vec<Notification> = sets
        .iter()
        .enumerate()
        .map(|(i, l)| firing(l, i as i64 % 2, 10))
        .collect();
    store.append(&batch).expect("append");
    let m = |t, n: &str, v: &str| Matcher::new(t, n, v).expect("valid matcher");
    let q = |selectors: Vec<Vec<Matcher>>| {
        let selectors = Selectors::new(selectors.into_iter().map(Matchers::new));
        let got = all_selected(store.as_ref(), everything(), selectors.clone());
        let keys: Vec<_> = got.iter().map(|e| (e.starts_at, e.fingerprint)).collect();
        let mut ordered = keys.clone();
        ordered.sort();
        ordered.dedup();
        assert_eq!(keys, ordered, "{selectors}: in page order, each once");
        assert!(
            got.iter().all(|e| selectors.matches(&e.labels)),
            "{selectors}: {got:#?}"
        );
        let mut names: Vec<String> = got
            .iter()
            .map(|e| format!("{}/{}", e.alertname(), e.labels.get_or_empty("instance")))
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        q(vec![
            vec![eq("alertname", "DiskFull")],
            vec![eq("instance", "db-1")]
        ]),
        ["CPUHigh/db-1", "DiskFull/db-1", "DiskFull/db-2"],
        "DiskFull/db-1 is selected twice and listed once"
    );
    assert_eq!(
        q(vec![
            vec![eq("alertname", "DiskFull"), eq("severity", "critical")],
            vec![eq("alertname", "CPUHigh"), eq("instance", "web-1")],
        ]),
        ["CPUHigh/web-1", "DiskFull/db-1"],
        "all matchers of one selector must match"
    );
    assert_eq!(
        q(vec![
            vec![eq("alertname", "DiskFull")],
            vec![eq("alertname", "MemHigh")]
        ]),
        ["DiskFull/db-1", "DiskFull/db-2", "MemHigh/db-3"]
    );
    assert_eq!(
        q(vec![
            vec![eq("alertname", "DiskFull")],
            vec![m(MatchType::Regexp, "severity", "crit.*")],
        ]),
        ["DiskFull/db-1", "DiskFull/db-2", "MemHigh/db-3"],
        "an indexed selector OR a regular expression"
    );
    assert_eq!(
        q(vec![
            vec![m(MatchType::NotEqual, "alertname", "DiskFull")],
            vec![eq("instance", "db-2")],
        ]),
        [
            "CPUHigh/db-1",
            "CPUHigh/web-1",
            "DiskFull/db-2",
            "MemHigh/db-3"
        ]
    );
    assert_eq!(
        q(vec![
            vec![eq("severity", "")],
            vec![eq("alertname", "MemHigh")]
        ]),
        ["CPUHigh/web-1", "MemHigh/db-3"],
        "a missing label is empty"
    );
    assert_eq!(
        q(vec![
            vec![eq("alertname", "DiskFull"), eq("alertname", "CPUHigh")],
            vec![eq("alertname", "Nope")],
            vec![eq("instance", "web-1")],
        ]),
        ["CPUHigh/web-1"],
        "selectors that cannot match add nothing"
    );
    assert_eq!(
        q(vec![vec![eq("alertname", "Nope")], vec![]]).len(),
        5,
        "a selector without matchers selects everything"
    );
}

/// Pages come in (start, fingerprint) order, `limit` at a time, each episode exactly
/// once, and the last page has no cursor.
pub fn query_paginates_with_limit_and_cursor(backend: &dyn Backend) {
    let store = backend.open();
    let mut batch = Vec::new();
    for i in 0..25 {
        // Pairs of alerts share a start, so the fingerprint must break ties.
        let l = labels(&[("alertname", "Paged"), ("n", &i.to_string())]);
        batch.push(firing(&l, (i / 2) * 60, 2000));
    }
    store.append(&batch).expect("append");
    let mut q = EpisodeQuery::new(everything());
    q.selectors = Matchers::new(vec![eq("alertname", "Paged")]).into();
    q.limit = 10;
    let mut seen: Vec<Episode> = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.query(&q).expect("query");
        pages += 1;
        assert!(page.episodes.len() <= 10);
        seen.extend(page.episodes);
        match page.next {
            Some(next) => q.cursor = Some(next),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    let keys: Vec<(Timestamp, Fingerprint)> =
        seen.iter().map(|e| (e.starts_at, e.fingerprint)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "ordered and without repeats");
}

/// Pages of an OR of overlapping selectors split the one ordered list: none skipped,
/// none repeated (an episode several selectors select included), whatever the limit,
/// with starts shared across page boundaries.
pub fn query_paginates_across_selectors(backend: &dyn Backend) {
    let store = backend.open();
    let mut batch = Vec::new();
    for name in ["Paged", "Other"] {
        for i in 0..15 {
            let l = labels(&[("alertname", name), ("n", &i.to_string())]);
            // Three alerts share each start, so pages split ties.
            batch.push(firing(&l, (i / 3) * 60, 2000));
        }
    }
    store.append(&batch).expect("append");
    let m = |t, n: &str, v: &str| Matcher::new(t, n, v).expect("valid matcher");
    let selectors = Selectors::new([
        Matchers::new(vec![eq("alertname", "Paged")]),
        Matchers::new(vec![m(MatchType::Regexp, "n", "[0-9]")]),
        Matchers::new(vec![eq("alertname", "Other"), eq("n", "12")]),
    ]);
    let mut expected: Vec<(Timestamp, Fingerprint)> = batch
        .iter()
        .filter(|n| selectors.matches(&n.alert.labels))
        .map(|n| (n.alert.starts_at, n.alert.labels.fingerprint()))
        .collect();
    expected.sort();
    assert_eq!(expected.len(), 26, "15 Paged, Other 0 to 9 and 12");
    let whole: Vec<_> = all_selected(store.as_ref(), everything(), selectors.clone())
        .iter()
        .map(|e| (e.starts_at, e.fingerprint))
        .collect();
    assert_eq!(whole, expected);
    for limit in [1, 4, 7, 25, 26] {
        let mut q = EpisodeQuery::new(everything());
        q.selectors = selectors.clone();
        q.limit = limit;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = store.query(&q).expect("query");
            pages += 1;
            assert!(page.episodes.len() <= limit);
            seen.extend(page.episodes.iter().map(|e| (e.starts_at, e.fingerprint)));
            match page.next {
                Some(next) => q.cursor = Some(next),
                None => break,
            }
            assert!(pages <= 26, "pagination does not end");
        }
        assert_eq!(seen, expected, "limit {limit}");
        assert_eq!(pages, 26usize.div_ceil(limit), "limit {limit}");
    }
}

/// A limit of 0 or above the maximum is refused.
pub fn query_rejects_bad_limits(backend: &dyn Backend) {
    let store = backend.open();
    for limit in [0, MAX_QUERY_LIMIT + 1] {
        let mut q = EpisodeQuery::new(everything());
        q.limit = limit;
        assert!(store.query(&q).is_err(), "limit {limit}");
    }
}

/// The episodes of one fingerprint, oldest first, limited to the range.
pub fn episodes_of_one_fingerprint(backend: &dyn Backend) {
    let store = backend.open();
    let a = labels(&[("alertname", "Flappy")]);
    let other = labels(&[("alertname", "Other")]);
    store
        .append(&[
            firing(&a, 0, 5),
            firing(&other, 0, 6),
            resolved(&a, 0, 100, 105),
            firing(&a, 200, 205),
            resolved(&a, 200, 300, 305),
            firing(&a, 400, 405),
        ])
        .expect("append");
    let got = store
        .episodes_of(a.fingerprint(), everything())
        .expect("episodes_of");
    let starts: Vec<Timestamp> = got.iter().map(|e| e.starts_at).collect();
    assert_eq!(starts, [at(0), at(200), at(400)]);
    assert!(got.iter().all(|e| e.fingerprint == a.fingerprint()));
    assert_eq!(got[2].ends_at, None);
    let later = store
        .episodes_of(a.fingerprint(), range(250, 1000))
        .expect("episodes_of");
    assert_eq!(later.len(), 2);
    let none = store
        .episodes_of(Fingerprint(1), everything())
        .expect("episodes_of");
    assert!(none.is_empty());
}

/// Heartbeat gaps longer than the one asked for that reach into the range, the newest
/// heartbeat, and the server runs around the range with their newest alive record —
/// exactly what [`HeartbeatLog::from_beats`] computes from everything recorded.
pub fn heartbeats_of_a_range(backend: &dyn Backend) {
    let beats = [0, 60, 120, 1000, 1060];
    {
        let store = backend.open();
        for s in beats {
            store
                .record_heartbeat(&Heartbeat::Watchdog { at: at(s) })
                .expect("heartbeat");
        }
        for (start, alive) in [(0, 0), (0, 30), (0, 500), (900, 900), (900, 1200)] {
            store
                .record_heartbeat(&Heartbeat::ServerAlive {
                    started_at: at(start),
                    at: at(alive),
                })
                .expect("alive");
        }
    }
    let store = backend.open();
    let run0 = ServerRun {
        started_at: at(0),
        last_alive: at(500),
    };
    let run1 = ServerRun {
        started_at: at(900),
        last_alive: at(1200),
    };
    let gap = |a, b| HeartbeatGap {
        after: at(a),
        before: at(b),
    };
    let secs = |s: &str| -> Duration { s.parse().expect("valid duration") };
    let log = store
        .heartbeats(range(100, 1050), secs("100s"))
        .expect("heartbeats");
    assert_eq!(log.gaps, [gap(120, 1000)]);
    assert_eq!(log.newest, Some(at(1060)));
    assert_eq!(log.runs, [run0, run1]);
    // The run before the range is its neighbour; no gap reaches into it.
    let later = store
        .heartbeats(range(1100, 2000), secs("100s"))
        .expect("heartbeats");
    assert!(later.gaps.is_empty());
    assert_eq!(later.runs, [run0, run1]);
    // Inside the server's downtime: both neighbours, so the gap can be computed.
    assert_eq!(
        store
            .heartbeats(range(600, 800), secs("100s"))
            .expect("heartbeats")
            .runs,
        [run0, run1]
    );
    let first = store
        .heartbeats(range(-500, -100), secs("100s"))
        .expect("heartbeats");
    assert!(first.gaps.is_empty());
    assert_eq!(first.runs, [run0]);
    // Every gap counts when the allowed one is short; the answer is the reference's.
    let all: Vec<Timestamp> = beats.iter().map(|s| at(*s)).collect();
    for (from, to, max) in [
        (-100, 2000, "30s"),
        (100, 1050, "100s"),
        (60, 61, "59s"),
        (0, 1, "1h"),
    ] {
        let got = store
            .heartbeats(range(from, to), secs(max))
            .expect("heartbeats");
        let expected = HeartbeatLog::from_beats(&all, &[run0, run1], range(from, to), secs(max));
        assert_eq!(got, expected, "range {from}..{to}, gap {max}");
    }
    let short = store
        .heartbeats(range(-100, 2000), secs("30s"))
        .expect("heartbeats");
    assert_eq!(
        short.gaps,
        [gap(0, 60), gap(60, 120), gap(120, 1000), gap(1000, 1060)]
    );
}

/// Purging removes episodes and Watchdog heartbeats last heard of before the cutoff and
/// keeps the rest (an old episode heard of recently stays).
pub fn purge_removes_what_was_last_seen_before_the_cutoff(backend: &dyn Backend) {
    let store = backend.open();
    let old = labels(&[("alertname", "Old")]);
    let long = labels(&[("alertname", "LongRunning")]);
    let new = labels(&[("alertname", "New")]);
    store
        .append(&[firing(&old, 0, 10), firing(&long, 0, 20)])
        .expect("append");
    store.append(&[resolved(&old, 0, 50, 60)]).expect("append");
    store
        .record_heartbeat(&Heartbeat::Watchdog { at: at(30) })
        .expect("heartbeat");
    store
        .append(&[firing(&long, 0, 5000), firing(&new, 4000, 5010)])
        .expect("append");
    store
        .record_heartbeat(&Heartbeat::Watchdog { at: at(5020) })
        .expect("heartbeat");
    store.purge(at(3600)).expect("purge");
    drop(store);
    let store = backend.open();
    let mut left = names(&all_episodes(store.as_ref(), everything(), vec![]));
    left.sort();
    assert_eq!(left, ["LongRunning", "New"]);
    // The heartbeat before the cutoff is gone, and with it the gap it began.
    let log = store
        .heartbeats(everything(), "60s".parse().expect("valid"))
        .expect("heartbeats");
    assert!(log.gaps.is_empty(), "{log:?}");
    assert_eq!(log.newest, Some(at(5020)));
    let stats = store.stats().expect("stats");
    assert_eq!((stats.episodes, stats.heartbeats), (2, 1));
}

/// Stats count episodes, open episodes and heartbeats, and know the newest receive time.
pub fn stats_count_what_is_kept(backend: &dyn Backend) {
    let store = backend.open();
    assert_eq!(store.stats().expect("stats").episodes, 0);
    let a = labels(&[("alertname", "A")]);
    let b = labels(&[("alertname", "B")]);
    store
        .append(&[firing(&a, 0, 10), firing(&b, 0, 11)])
        .expect("append");
    store.append(&[resolved(&a, 0, 100, 110)]).expect("append");
    store
        .record_heartbeat(&Heartbeat::Watchdog { at: at(120) })
        .expect("heartbeat");
    let stats = store.stats().expect("stats");
    assert_eq!(
        (stats.episodes, stats.open_episodes, stats.heartbeats),
        (2, 1, 1)
    );
    assert_eq!(stats.newest_seen, Some(at(110)));
}

/// A batch with an instant the store cannot hold is refused whole.
pub fn unrepresentable_batch_stores_nothing(backend: &dyn Backend) {
    let store = backend.open();
    let a = labels(&[("alertname", "A")]);
    let mut bad = firing(&labels(&[("alertname", "Bad")]), 0, 10);
    bad.alert.starts_at = "1500-01-01T00:00:00Z".parse().expect("valid timestamp");
    assert!(store.append(&[firing(&a, 0, 10), bad]).is_err());
    assert_eq!(all_episodes(store.as_ref(), everything(), vec![]).len(), 0);
}

/// For the SQL stores (not in [`conformance_suite!`]: Loki's store always reads
/// everything): a query without [`details`](EpisodeQuery::details) answers the same
/// episodes in the same pages, with empty annotations, receiver and generator URL, by
/// alert name and by another label.
pub fn brief_queries_leave_out_details(store: &dyn HistoryStore) {
    let mut batch = Vec::new();
    for i in 0..12 {
        let l = labels(&[("alertname", "Brief"), ("instance", &format!("i{}", i % 3))]);
        let mut n = firing(&l, i * 60, i * 60 + 1);
        n.alert.generator_url = format!("http://prometheus/graph?g={i}");
        batch.push(n);
    }
    store.append(&batch).expect("append");
    for matcher in [eq("alertname", "Brief"), eq("instance", "i1")] {
        let mut q = EpisodeQuery::new(everything());
        q.selectors = Matchers::new(vec![matcher.clone()]).into();
        q.limit = 3;
        let (mut full, mut brief) = (Vec::new(), Vec::new());
        for details in [true, false] {
            q.details = details;
            q.cursor = None;
            loop {
                let page = store.query(&q).expect("query");
                if details { &mut full } else { &mut brief }.extend(page.episodes);
                match page.next {
                    Some(c) => q.cursor = Some(c),
                    None => break,
                }
            }
        }
        assert!(!full.is_empty(), "{matcher}");
        assert!(
            full.iter()
                .all(|e| !e.annotations.is_empty() && !e.generator_url.is_empty())
        );
        let stripped: Vec<Episode> = full
            .into_iter()
            .map(|mut e| {
                e.annotations = LabelSet::default();
                e.receiver = String::new();
                e.generator_url = String::new();
                e
            })
            .collect();
        assert_eq!(brief, stripped, "{matcher}");
    }
}
