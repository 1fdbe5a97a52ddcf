//! The conformance suite every [`ConfigStore`] passes: public async functions, one per
//! property, and [`crate::store_conformance!`], which turns them into tests for a
//! backend.
//!
//! ```ignore
//! alert_gateway::store_conformance!(async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = SqliteStore::open(&dir.path().join("g.db")).unwrap();
//!     (std::sync::Arc::new(store) as alert_gateway::store::SharedStore, dir)
//! });
//! ```
//!
//! The factory is an async block giving the store and a guard that keeps its resources
//! (a temporary directory, a server process) alive for the test. Every function starts
//! from an empty store and panics with a message naming the property on failure.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a conformance suite is test code: a failed expectation panics, as assert! does"
)]

use std::sync::Arc;
use std::time::Duration;

use super::{ConfigStore, Event, Expect, Fence, Key, Kind, Op, StoreError, Txn};

fn key(kind: Kind, id: &str) -> Key {
    Key::new(kind, id).expect("a valid test key")
}

fn put(key: &Key, value: &str, expect: Expect) -> Op {
    Op::Put {
        key: key.clone(),
        value: value.to_owned(),
        expect,
    }
}

async fn put1(store: &dyn ConfigStore, key: &Key, value: &str, expect: Expect) -> u64 {
    store
        .txn(Txn::new(vec![put(key, value, expect)]))
        .await
        .unwrap_or_else(|e| panic!("put {key} ({expect:?}): {e}"))
}

/// Create, get, list, delete; revisions grow and the store-wide revision follows.
pub async fn create_get_list_delete(store: &dyn ConfigStore) {
    assert_eq!(store.revision().await.unwrap(), 0, "an empty store is at 0");
    let a = key(Kind::Endpoint, "a");
    let b = key(Kind::Endpoint, "b");
    let r1 = put1(store, &b, r#"{"id":"b"}"#, Expect::Absent).await;
    let r2 = put1(store, &a, r#"{"id":"a"}"#, Expect::Absent).await;
    assert!(r1 >= 1 && r2 > r1, "revisions grow: {r1}, {r2}");
    assert_eq!(store.revision().await.unwrap(), r2);

    let got = store.get(&a).await.unwrap().expect("a exists");
    assert_eq!(got.value, r#"{"id":"a"}"#);
    assert_eq!((got.create_revision, got.mod_revision), (r2, r2));
    assert!(
        store
            .get(&key(Kind::Endpoint, "zz"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get(&key(Kind::Condition, "a"))
            .await
            .unwrap()
            .is_none(),
        "kinds are separate collections"
    );

    let listing = store.list(Kind::Endpoint, None).await.unwrap();
    assert_eq!(listing.revision, r2);
    let ids: Vec<&str> = listing.records.iter().map(|r| r.key.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"], "listings are ordered by id");
    assert!(
        store
            .list(Kind::Slo, None)
            .await
            .unwrap()
            .records
            .is_empty()
    );

    let r3 = store
        .txn(Txn::new(vec![Op::Delete {
            key: a.clone(),
            expect: Expect::Any,
        }]))
        .await
        .unwrap();
    assert!(r3 > r2);
    assert!(store.get(&a).await.unwrap().is_none());
    assert_eq!(
        store
            .list(Kind::Endpoint, None)
            .await
            .unwrap()
            .records
            .len(),
        1
    );
}

/// Expected revision 0 creates only; a matching revision replaces; a stale one is a
/// conflict that names the key's actual revision; create revisions survive updates and
/// restart after a deletion.
pub async fn compare_and_set(store: &dyn ConfigStore) {
    let k = key(Kind::Condition, "cpu-high");
    let r1 = put1(store, &k, "1", Expect::Absent).await;
    let err = store
        .txn(Txn::new(vec![put(&k, "x", Expect::Absent)]))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            key: k.clone(),
            expected: Expect::Absent,
            actual: Some(r1)
        },
        "create-only on an existing key"
    );
    let r2 = put1(store, &k, "2", Expect::At(r1)).await;
    let err = store
        .txn(Txn::new(vec![put(&k, "3", Expect::At(r1))]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { actual: Some(a), .. } if a == r2),
        "a stale revision: {err:?}"
    );
    assert_eq!(
        store.get(&k).await.unwrap().unwrap().value,
        "2",
        "the stale put changed nothing"
    );
    let got = store.get(&k).await.unwrap().unwrap();
    assert_eq!((got.create_revision, got.mod_revision), (r1, r2));

    let r3 = put1(store, &k, "any", Expect::Any).await;
    let r4 = put1(store, &k, "exists", Expect::Exists).await;
    assert!(r4 > r3);
    let missing = key(Kind::Condition, "missing");
    let err = store
        .txn(Txn::new(vec![put(&missing, "x", Expect::Exists)]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { actual: None, .. }),
        "{err:?}"
    );
    let err = store
        .txn(Txn::new(vec![put(&missing, "x", Expect::At(r4))]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { actual: None, .. }),
        "{err:?}"
    );

    // Deletes: conditional, and only of existing keys.
    let err = store
        .txn(Txn::new(vec![Op::Delete {
            key: k.clone(),
            expect: Expect::At(r1),
        }]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { .. }),
        "stale delete: {err:?}"
    );
    let r5 = store
        .txn(Txn::new(vec![Op::Delete {
            key: k.clone(),
            expect: Expect::At(r4),
        }]))
        .await
        .unwrap();
    let err = store
        .txn(Txn::new(vec![Op::Delete {
            key: k.clone(),
            expect: Expect::Any,
        }]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { actual: None, .. }),
        "deleting a missing key: {err:?}"
    );
    let r6 = put1(store, &k, "again", Expect::Absent).await;
    assert!(r6 > r5);
    let got = store.get(&k).await.unwrap().unwrap();
    assert_eq!(got.create_revision, r6, "re-created keys start a new life");
}

/// A transaction applies all its operations at one revision, or none of them.
pub async fn transactions_are_atomic(store: &dyn ConfigStore) {
    let e = key(Kind::Endpoint, "pager");
    let c1 = key(Kind::Condition, "c1");
    let c2 = key(Kind::Condition, "c2");
    let r0 = put1(store, &e, "{}", Expect::Absent).await;
    let r1 = store
        .txn(Txn::new(vec![
            Op::Check {
                key: e.clone(),
                expect: Expect::At(r0),
            },
            put(&c1, "1", Expect::Absent),
            put(&c2, "2", Expect::Absent),
        ]))
        .await
        .unwrap();
    assert_eq!(r1, r0 + 1, "one transaction, one revision");
    for k in [&c1, &c2] {
        assert_eq!(store.get(k).await.unwrap().unwrap().mod_revision, r1);
    }

    // A failing check anywhere: nothing applies, the revision stays.
    let err = store
        .txn(Txn::new(vec![
            put(&c1, "changed", Expect::At(r1)),
            Op::Delete {
                key: c2.clone(),
                expect: Expect::Any,
            },
            Op::Check {
                key: key(Kind::Endpoint, "gone"),
                expect: Expect::Exists,
            },
        ]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert_eq!(store.revision().await.unwrap(), r1);
    assert_eq!(store.get(&c1).await.unwrap().unwrap().value, "1");
    assert!(store.get(&c2).await.unwrap().is_some());

    // A transaction of checks only writes nothing and answers the current revision.
    let r = store
        .txn(Txn::new(vec![Op::Check {
            key: e.clone(),
            expect: Expect::Exists,
        }]))
        .await
        .unwrap();
    assert_eq!(r, r1);

    // Unchanged: a collection read at a revision.
    let ok = store
        .txn(Txn::new(vec![
            Op::Unchanged {
                kind: Kind::Condition,
                since: r1,
            },
            Op::Delete {
                key: e.clone(),
                expect: Expect::Any,
            },
        ]))
        .await
        .unwrap();
    let err = store
        .txn(Txn::new(vec![
            Op::Unchanged {
                kind: Kind::Endpoint,
                since: r1,
            },
            put(&c1, "x", Expect::Any),
        ]))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Changed {
            kind: Kind::Endpoint,
            since: r1,
            modified: ok
        }
    );
    // Writes to another collection do not count.
    store
        .txn(Txn::new(vec![
            Op::Unchanged {
                kind: Kind::Slo,
                since: 0,
            },
            put(&c1, "y", Expect::Any),
        ]))
        .await
        .unwrap();
}

/// Malformed transactions are refused before anything is applied.
pub async fn refuses_malformed(store: &dyn ConfigStore) {
    let k = key(Kind::Slo, "s");
    let err = store
        .txn(Txn::new(vec![
            put(&k, "1", Expect::Any),
            put(&k, "2", Expect::Any),
        ]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(_)),
        "a key written twice: {err:?}"
    );
    let bad = Key {
        kind: Kind::Slo,
        id: "a/b".into(),
    };
    let err = store
        .txn(Txn::new(vec![put(&bad, "1", Expect::Any)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidKey { .. }), "{err:?}");
    let huge = "x".repeat(super::MAX_VALUE_BYTES + 1);
    let err = store
        .txn(Txn::new(vec![put(&k, &huge, Expect::Any)]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(_)),
        "an oversized value: {err:?}"
    );
    assert_eq!(store.revision().await.unwrap(), 0, "nothing was applied");
}

/// Listings at past revisions, and their limits.
pub async fn list_at_revision(store: &dyn ConfigStore) {
    let a = key(Kind::Condition, "a");
    let b = key(Kind::Condition, "b");
    let r1 = put1(store, &a, "a1", Expect::Absent).await;
    let r2 = put1(store, &b, "b1", Expect::Absent).await;
    let r3 = put1(store, &a, "a2", Expect::At(r1)).await;
    let r4 = store
        .txn(Txn::new(vec![Op::Delete {
            key: b.clone(),
            expect: Expect::Any,
        }]))
        .await
        .unwrap();
    let values =
        |l: super::Listing| -> Vec<String> { l.records.into_iter().map(|r| r.value).collect() };
    assert_eq!(
        values(store.list(Kind::Condition, Some(r1)).await.unwrap()),
        ["a1"]
    );
    assert_eq!(
        values(store.list(Kind::Condition, Some(r2)).await.unwrap()),
        ["a1", "b1"]
    );
    assert_eq!(
        values(store.list(Kind::Condition, Some(r3)).await.unwrap()),
        ["a2", "b1"]
    );
    assert_eq!(
        values(store.list(Kind::Condition, Some(r4)).await.unwrap()),
        ["a2"]
    );
    let at2 = store.list(Kind::Condition, Some(r2)).await.unwrap();
    assert_eq!(at2.revision, r2);
    assert_eq!(at2.records[0].mod_revision, r1);
    let err = store
        .list(Kind::Condition, Some(r4 + 10))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::FutureRevision { .. }), "{err:?}");

    store.compact(r3).await.unwrap();
    let err = store.list(Kind::Condition, Some(r2)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Compacted { requested, .. } if requested == r2),
        "{err:?}"
    );
    assert_eq!(
        values(store.list(Kind::Condition, Some(r3)).await.unwrap()),
        ["a2", "b1"]
    );
    assert_eq!(
        values(store.list(Kind::Condition, Some(r4)).await.unwrap()),
        ["a2"]
    );
    // Compaction forgets history, never the present.
    assert_eq!(store.get(&a).await.unwrap().unwrap().value, "a2");
}

async fn next_event(watch: &mut super::Watch) -> Event {
    tokio::time::timeout(Duration::from_secs(10), watch.next())
        .await
        .expect("an event within 10 s")
        .expect("the watch is open")
        .expect("an event, not an error")
}

/// A watch replays every change after its start revision, in order, then follows live
/// changes; every watcher sees every change.
pub async fn watch_replays_then_follows(store: &dyn ConfigStore) {
    let a = key(Kind::Endpoint, "a");
    let c = key(Kind::Condition, "c");
    let r1 = put1(store, &a, "a1", Expect::Absent).await;
    let r2 = store
        .txn(Txn::new(vec![
            put(&a, "a2", Expect::At(r1)),
            put(&c, "c1", Expect::Absent),
        ]))
        .await
        .unwrap();

    let mut from_start = store.watch(0).await.unwrap();
    let mut from_r1 = store.watch(r1).await.unwrap();
    let mut live = store.watch(r2).await.unwrap();

    let e = next_event(&mut from_start).await;
    assert_eq!((e.revision, e.value.as_deref()), (r1, Some("a1")));
    let mut in_r2 = vec![
        next_event(&mut from_start).await,
        next_event(&mut from_start).await,
    ];
    in_r2.sort_by(|x, y| x.key.cmp(&y.key));
    assert!(
        in_r2.iter().all(|e| e.revision == r2),
        "both changes of one txn: {in_r2:?}"
    );
    assert_eq!(in_r2[0].key, a);
    assert_eq!(in_r2[1].key, c);
    let first_after_r1 = next_event(&mut from_r1).await;
    assert_eq!(
        first_after_r1.revision, r2,
        "a watch starts after its revision"
    );

    let r3 = store
        .txn(Txn::new(vec![Op::Delete {
            key: a.clone(),
            expect: Expect::Any,
        }]))
        .await
        .unwrap();
    for w in [&mut from_start, &mut live] {
        let e = next_event(w).await;
        assert_eq!(
            (e.revision, &e.key, e.value.as_deref()),
            (r3, &a, None),
            "a deletion"
        );
    }
    // Many quick writes arrive complete and in order.
    let mut last = r3;
    for i in 0..50 {
        last = put1(store, &c, &format!("n{i}"), Expect::Any).await;
    }
    let mut seen = Vec::new();
    while seen.len() < 50 {
        let e = next_event(&mut live).await;
        seen.push(e.revision);
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order: {seen:?}");
    assert_eq!(seen.last(), Some(&last), "no gaps");
}

/// A watch whose start was compacted away is told so.
pub async fn watch_reports_compaction(store: &dyn ConfigStore) {
    let a = key(Kind::Slo, "a");
    let r1 = put1(store, &a, "1", Expect::Absent).await;
    let _r2 = put1(store, &a, "2", Expect::Any).await;
    let r3 = put1(store, &a, "3", Expect::Any).await;
    store.compact(r3).await.unwrap();
    let result = store.watch(r1 - 1).await;
    let err = match result {
        Err(e) => e,
        Ok(mut w) => tokio::time::timeout(Duration::from_secs(10), w.next())
            .await
            .expect("an answer within 10 s")
            .expect("an item")
            .expect_err("a compaction error, not an event"),
    };
    assert!(matches!(err, StoreError::Compacted { .. }), "{err:?}");
    // Watching from a kept revision still works.
    let mut w = store.watch(r3).await.unwrap();
    let r4 = put1(store, &a, "4", Expect::Any).await;
    assert_eq!(next_event(&mut w).await.revision, r4);
}

/// Leases: one holder at a time, renewals keep the term, a new holder gets a higher
/// term, and a release frees the lease.
pub async fn leases_and_terms(store: &dyn ConfigStore) {
    let ttl = Duration::from_secs(5);
    let a = store.acquire("control-plane", "a", ttl).await.unwrap();
    assert!(a.acquired && a.holder == "a" && a.term > 0, "{a:?}");
    let b = store.acquire("control-plane", "b", ttl).await.unwrap();
    assert!(!b.acquired, "held by a: {b:?}");
    assert_eq!((b.holder.as_str(), b.term), ("a", a.term));
    let renewed = store.acquire("control-plane", "a", ttl).await.unwrap();
    assert!(renewed.acquired);
    assert_eq!(renewed.term, a.term, "a renewal keeps the term");
    // Elections are independent.
    let other = store.acquire("evaluator", "b", ttl).await.unwrap();
    assert!(other.acquired);

    // A release by a stale term does nothing; by the holder, frees the lease.
    store
        .release("control-plane", "a", a.term + 100)
        .await
        .unwrap();
    assert!(
        !store
            .acquire("control-plane", "b", ttl)
            .await
            .unwrap()
            .acquired
    );
    store.release("control-plane", "a", a.term).await.unwrap();
    let b = store.acquire("control-plane", "b", ttl).await.unwrap();
    assert!(b.acquired, "free after release: {b:?}");
    assert!(
        b.term > a.term,
        "a new holder, a newer term: {} > {}",
        b.term,
        a.term
    );

    // Expiry: a lease not renewed lapses.
    let short = Duration::from_secs(1);
    let x = store.acquire("short", "x", short).await.unwrap();
    assert!(x.acquired);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let y = loop {
        let y = store.acquire("short", "y", short).await.unwrap();
        if y.acquired || tokio::time::Instant::now() > deadline {
            break y;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(y.acquired, "the lapsed lease is taken over within 10 s");
    assert!(y.term > x.term);
    assert!(
        store
            .acquire("x", "bad/holder-is-fine", short)
            .await
            .is_ok()
    );
    assert!(
        store.acquire("bad/name", "x", short).await.is_err(),
        "election names are checked"
    );
}

/// A write fenced with a superseded term is refused and changes nothing; the current
/// term's writes apply.
pub async fn fenced_writes(store: &dyn ConfigStore) {
    let ttl = Duration::from_secs(5);
    let k = key(Kind::Condition, "c");
    let old = store.acquire("leader", "a", ttl).await.unwrap();
    let fence = |term| {
        Some(Fence {
            election: "leader".into(),
            term,
        })
    };
    let r1 = store
        .txn(Txn::new(vec![put(&k, "by a", Expect::Any)]).fenced(fence(old.term)))
        .await
        .expect("the leader's write applies");
    store.release("leader", "a", old.term).await.unwrap();
    let new = store.acquire("leader", "b", ttl).await.unwrap();
    assert!(new.acquired && new.term > old.term);
    let err = store
        .txn(Txn::new(vec![put(&k, "stale", Expect::Any)]).fenced(fence(old.term)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Fenced { term, .. } if *term == old.term),
        "the old term is fenced off: {err:?}"
    );
    assert_eq!(store.get(&k).await.unwrap().unwrap().value, "by a");
    assert_eq!(store.revision().await.unwrap(), r1, "nothing applied");
    store
        .txn(Txn::new(vec![put(&k, "by b", Expect::Any)]).fenced(fence(new.term)))
        .await
        .expect("the new leader's write applies");
    let err = store
        .txn(
            Txn::new(vec![put(&k, "x", Expect::Any)]).fenced(Some(Fence {
                election: "never-held".into(),
                term: 1,
            })),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Fenced { .. }), "{err:?}");
}

/// Concurrent read-modify-write increments with compare-and-set lose no update.
pub async fn no_lost_updates(store: Arc<dyn ConfigStore>) {
    let k = key(Kind::Condition, "counter");
    put1(&*store, &k, "0", Expect::Absent).await;
    let writers = 4;
    let increments = 25;
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let store = Arc::clone(&store);
        let k = k.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0u32;
            for _ in 0..increments {
                loop {
                    let got = store.get(&k).await.unwrap().unwrap();
                    let n: u64 = got.value.parse().unwrap();
                    let write = Txn::new(vec![put(
                        &k,
                        &(n + 1).to_string(),
                        Expect::At(got.mod_revision),
                    )]);
                    match store.txn(write).await {
                        Ok(_) => break,
                        Err(StoreError::Conflict { .. }) => conflicts += 1,
                        Err(e) => panic!("increment: {e}"),
                    }
                }
            }
            conflicts
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let value = store.get(&k).await.unwrap().unwrap().value;
    assert_eq!(
        value,
        (writers * increments).to_string(),
        "every increment counted once"
    );
}

/// Generates one `#[tokio::test]` per conformance function for a backend. The argument
/// is an async block giving `(SharedStore, guard)`; see the [module docs](self).
#[macro_export]
macro_rules! store_conformance {
    ($factory:expr) => {
        mod conformance {
            #[allow(unused_imports)]
            use super::*;

            $crate::__store_conformance_case!(create_get_list_delete, $factory);
            $crate::__store_conformance_case!(compare_and_set, $factory);
            $crate::__store_conformance_case!(transactions_are_atomic, $factory);
            $crate::__store_conformance_case!(refuses_malformed, $factory);
            $crate::__store_conformance_case!(list_at_revision, $factory);
            $crate::__store_conformance_case!(watch_replays_then_follows, $factory);
            $crate::__store_conformance_case!(watch_reports_compaction, $factory);
            $crate::__store_conformance_case!(leases_and_terms, $factory);
            $crate::__store_conformance_case!(fenced_writes, $factory);

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn no_lost_updates() {
                let (store, _guard) = $factory.await;
                $crate::store::conformance::no_lost_updates(store).await;
            }
        }
    };
}

/// One test of [`store_conformance!`] (an implementation detail of that macro).
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_case {
    ($name:ident, $factory:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (store, _guard) = $factory.await;
            $crate::store::conformance::$name(&*store).await;
        }
    };
}
