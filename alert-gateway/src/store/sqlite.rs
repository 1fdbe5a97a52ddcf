//! The embedded store: one SQLite file (bundled SQLite, WAL, `synchronous=FULL`), the
//! gateway's default (`--store sqlite:./data/gateway.db`).
//!
//! Tables: `objects` (the current documents), `history` (every change, for watches and
//! reads at past revisions, trimmed by compaction), `collections` (the last write to each
//! kind, for [`super::Op::Unchanged`]), `elections` (leases and their terms), `meta`
//! (revision, compaction point). Every transaction is one `BEGIN IMMEDIATE` SQLite
//! transaction: checks, fence and writes see one state, and a write is acknowledged only
//! once its commit is on disk. The schema is versioned (`PRAGMA user_version`) and
//! migrated forward on open; a file from a newer version is refused.
//!
//! Leases use the wall clock (milliseconds since the epoch), so candidates sharing the
//! file (through one data plane, or as processes on one host) agree on expiry. Watchers
//! wake on this process's commits at once and poll the file every second for other
//! processes' writes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use tokio::sync::watch;

use super::{
    ConfigStore, Event, Key, Kind, LeaseState, Listing, Op, Record, Revision, StoreError, Txn,
    Watch, check_election_name, check_key_id,
};

/// The schema migrations, in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
     INSERT INTO meta (name, value) VALUES ('revision', 0), ('compacted', 0);
     CREATE TABLE objects (
         kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL,
         create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL,
         PRIMARY KEY (kind, id)) WITHOUT ROWID;
     CREATE TABLE history (
         kind TEXT NOT NULL, id TEXT NOT NULL, revision INTEGER NOT NULL,
         value TEXT, create_rev INTEGER NOT NULL,
         PRIMARY KEY (kind, id, revision)) WITHOUT ROWID;
     CREATE INDEX history_by_revision ON history (revision);
     CREATE TABLE collections (kind TEXT PRIMARY KEY, mod_rev INTEGER NOT NULL) WITHOUT ROWID;
     CREATE TABLE elections (
         name TEXT PRIMARY KEY, holder TEXT NOT NULL, term INTEGER NOT NULL,
         expires_ms INTEGER NOT NULL) WITHOUT ROWID;",
];

/// How long a writer waits for SQLite's lock before the store answers `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The most reader connections kept open.
const MAX_IDLE_READERS: usize = 4;

/// The SQLite store. Cheap to clone (shared state).
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// The newest committed revision, for watchers to wake on.
    committed: watch::Sender<Revision>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn sql(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure
            | ErrorCode::CannotOpen
            | ErrorCode::ReadOnly
            | ErrorCode::OutOfMemory,
        ) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Data(e.to_string()),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    kind.collection()
}

fn kind_from(name: &str) -> Result<Kind, StoreError> {
    Kind::from_collection(name)
        .ok_or_else(|| StoreError::Data(format!("unknown kind {name:?} in the store")))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn to_i64(r: u64) -> i64 {
    i64::try_from(r).unwrap_or(i64::MAX)
}

fn to_u64(r: i64) -> u64 {
    u64::try_from(r).unwrap_or(0)
}

fn meta(conn: &Connection, name: &str) -> Result<u64, StoreError> {
    conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
        r.get::<_, i64>(0)
    })
    .map(to_u64)
    .map_err(sql)
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sql)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(sql)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(sql)?;
    Ok(())
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sql)?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StoreError::Data(format!(
            "{}: schema version {version} is newer than this gateway knows ({}); use a newer gateway",
            path.display(),
            MIGRATIONS.len()
        )));
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(sql)?;
        tx.execute_batch(migration).map_err(sql)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(i + 1).unwrap_or(i64::MAX),
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed, with its directory) the store at `path` and migrates
    /// its schema. Blocking.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| unavailable(format!("{}: {e}", dir.display())))?;
        }
        let mut writer =
            Connection::open(path).map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
        configure(&writer)?;
        migrate(&mut writer, path)?;
        let revision = meta(&writer, "revision")?;
        let (committed, _) = watch::channel(revision);
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                committed,
            }),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a reader connection on tokio's blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let conn = inner
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop();
            let conn = match conn {
                Some(c) => c,
                None => {
                    let c = Connection::open_with_flags(
                        &inner.path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )
                    .map_err(sql)?;
                    c.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
                    c
                }
            };
            let out = f(&conn);
            let mut readers = inner.readers.lock().unwrap_or_else(|e| e.into_inner());
            if readers.len() < MAX_IDLE_READERS {
                readers.push(conn);
            }
            out
        })
        .await
        .map_err(unavailable)?
    }

    /// Runs `f` in one immediate transaction on the writer on tokio's blocking pool;
    /// commits when it returns `Ok`, and tells watchers of the new revision.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|e| e.into_inner());
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            let out = f(&tx)?;
            let revision = meta(&tx, "revision")?;
            tx.commit().map_err(sql)?;
            inner.committed.send_if_modified(|r| {
                let newer = revision > *r;
                if newer {
                    *r = revision;
                }
                newer
            });
            Ok(out)
        })
        .await
        .map_err(unavailable)?
    }
}

/// The modification revision of `key` now, if it exists.
fn current(tx: &Connection, key: &Key) -> Result<Option<(Revision, Revision)>, StoreError> {
    tx.prepare_cached("SELECT mod_rev, create_rev FROM objects WHERE kind = ?1 AND id = ?2")
        .and_then(|mut statement| {
            statement
                .query_row(params![kind_name(key.kind), key.id], |r| {
                    Ok((to_u64(r.get(0)?), to_u64(r.get(1)?)))
                })
                .optional()
        })
        .map_err(sql)
}

/// The newest term of `election` (0 when it never had a holder).
fn election_term(tx: &Connection, election: &str) -> Result<u64, StoreError> {
    Ok(tx
        .query_row(
            "SELECT term FROM elections WHERE name = ?1",
            [election],
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map_err(sql)?
        .map(to_u64)
        .unwrap_or(0))
}

fn apply(tx: &Connection, txn: &Txn) -> Result<Revision, StoreError> {
    let revision = meta(tx, "revision")?;
    if let Some(fence) = &txn.fence {
        let current = election_term(tx, &fence.election)?;
        if current != fence.term {
            return Err(StoreError::Fenced {
                election: fence.election.clone(),
                term: fence.term,
                current,
            });
        }
    }
    // Every expectation against the state before the transaction.
    let mut created = Vec::with_capacity(txn.ops.len());
    for op in &txn.ops {
        match op {
            Op::Put { key, expect, .. } | Op::Check { key, expect } => {
                let now = current(tx, key)?;
                if !expect.holds(now.map(|(m, _)| m)) {
                    return Err(StoreError::Conflict {
                        key: key.clone(),
                        expected: *expect,
                        actual: now.map(|(m, _)| m),
                    });
                }
                created.push(now.map(|(_, c)| c));
            }
            Op::Delete { key, expect } => {
                let now = current(tx, key)?;
                if now.is_none() || !expect.holds(now.map(|(m, _)| m)) {
                    return Err(StoreError::Conflict {
                        key: key.clone(),
                        expected: *expect,
                        actual: now.map(|(m, _)| m),
                    });
                }
                created.push(now.map(|(_, c)| c));
            }
            Op::Unchanged { kind, since } => {
                let modified = tx
                    .query_row(
                        "SELECT mod_rev FROM collections WHERE kind = ?1",
                        [kind_name(*kind)],
                        |r| r.get::<_, i64>(0),
                    )
                    .optional()
                    .map_err(sql)?
                    .map(to_u64)
                    .unwrap_or(0);
                if modified > *since {
                    return Err(StoreError::Changed {
                        kind: *kind,
                        since: *since,
                        modified,
                    });
                }
                created.push(None);
            }
        }
    }
    if !txn.ops.iter().any(Op::writes) {
        return Ok(revision);
    }
    let new = revision + 1;
    let new_i = to_i64(new);
    for (op, created) in txn.ops.iter().zip(created) {
        match op {
            Op::Put { key, value, .. } => {
                let create = created.map(to_i64).unwrap_or(new_i);
                tx.prepare_cached(
                    "INSERT INTO objects (kind, id, value, create_rev, mod_rev) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (kind, id) DO UPDATE SET value = ?3, create_rev = ?4, mod_rev = ?5",
                )
                .and_then(|mut statement| statement.execute(params![kind_name(key.kind), key.id, value, create, new_i]))
                .map_err(sql)?;
                tx.prepare_cached(
                    "INSERT INTO history (kind, id, revision, value, create_rev) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .and_then(|mut statement| statement.execute(params![kind_name(key.kind), key.id, new_i, value, create]))
                .map_err(sql)?;
            }
            Op::Delete { key, .. } => {
                tx.prepare_cached("DELETE FROM objects WHERE kind = ?1 AND id = ?2")
                    .and_then(|mut statement| {
                        statement.execute(params![kind_name(key.kind), key.id])
                    })
                    .map_err(sql)?;
                tx.prepare_cached(
                    "INSERT INTO history (kind, id, revision, value, create_rev) VALUES (?1, ?2, ?3, NULL, 0)",
                )
                .and_then(|mut statement| statement.execute(params![kind_name(key.kind), key.id, new_i]))
                .map_err(sql)?;
            }
            Op::Check { .. } | Op::Unchanged { .. } => continue,
        }
        if let Some(key) = op.key() {
            tx.prepare_cached(
                "INSERT INTO collections (kind, mod_rev) VALUES (?1, ?2)
                 ON CONFLICT (kind) DO UPDATE SET mod_rev = ?2",
            )
            .and_then(|mut statement| statement.execute(params![kind_name(key.kind), new_i]))
            .map_err(sql)?;
        }
    }
    tx.prepare_cached("UPDATE meta SET value = ?1 WHERE name = 'revision'")
        .and_then(|mut statement| statement.execute([new_i]))
        .map_err(sql)?;
    Ok(new)
}

fn record_from_row(kind: Kind, r: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        key: Key {
            kind,
            id: r.get(0)?,
        },
        value: r.get(1)?,
        create_revision: to_u64(r.get(2)?),
        mod_revision: to_u64(r.get(3)?),
    })
}

fn list_now(conn: &Connection, kind: Kind) -> Result<Listing, StoreError> {
    let tx = conn.unchecked_transaction().map_err(sql)?;
    let revision = meta(&tx, "revision")?;
    let mut statement = tx
        .prepare_cached(
            "SELECT id, value, create_rev, mod_rev FROM objects WHERE kind = ?1 ORDER BY id",
        )
        .map_err(sql)?;
    let records = statement
        .query_map([kind_name(kind)], |r| record_from_row(kind, r))
        .map_err(sql)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql)?;
    drop(statement);
    tx.finish().map_err(sql)?;
    Ok(Listing { revision, records })
}

fn list_at(conn: &Connection, kind: Kind, at: Revision) -> Result<Listing, StoreError> {
    let tx = conn.unchecked_transaction().map_err(sql)?;
    let revision = meta(&tx, "revision")?;
    let compacted = meta(&tx, "compacted")?;
    if at > revision {
        return Err(StoreError::FutureRevision {
            requested: at,
            current: revision,
        });
    }
    if at < compacted {
        return Err(StoreError::Compacted {
            requested: at,
            compacted,
        });
    }
    let mut statement = tx
        .prepare_cached(
            "SELECT h.id, h.value, h.create_rev, h.revision FROM history h
             WHERE h.kind = ?1 AND h.value IS NOT NULL AND h.revision = (
                 SELECT MAX(revision) FROM history
                 WHERE kind = h.kind AND id = h.id AND revision <= ?2)
             ORDER BY h.id",
        )
        .map_err(sql)?;
    let records = statement
        .query_map(params![kind_name(kind), to_i64(at)], |r| {
            record_from_row(kind, r)
        })
        .map_err(sql)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql)?;
    drop(statement);
    tx.finish().map_err(sql)?;
    Ok(Listing {
        revision: at,
        records,
    })
}

/// The changes after `after`: whole transactions, about `limit` changes (a transaction
/// is never split, so a large one may exceed it); `limit` 0 only checks the compaction
/// point. The flag says whether more may follow.
fn changes_after(
    conn: &Connection,
    after: Revision,
    limit: usize,
) -> Result<(Vec<Event>, bool), StoreError> {
    let tx = conn.unchecked_transaction().map_err(sql)?;
    let compacted = meta(&tx, "compacted")?;
    if after.saturating_add(1) < compacted {
        return Err(StoreError::Compacted {
            requested: after,
            compacted,
        });
    }
    if limit == 0 {
        return Ok((Vec::new(), false));
    }
    // The revision of the limit-th change after `after`, if there are that many.
    let cap: Option<i64> = tx
        .query_row(
            "SELECT revision FROM history WHERE revision > ?1 ORDER BY revision LIMIT 1 OFFSET ?2",
            params![to_i64(after), i64::try_from(limit - 1).unwrap_or(i64::MAX)],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    let mut statement = tx
        .prepare_cached(
            "SELECT revision, kind, id, value FROM history WHERE revision > ?1 AND revision <= ?2
             ORDER BY revision, kind, id",
        )
        .map_err(sql)?;
    let rows = statement
        .query_map(params![to_i64(after), cap.unwrap_or(i64::MAX)], |r| {
            Ok((
                to_u64(r.get(0)?),
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .map_err(sql)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql)?;
    drop(statement);
    tx.finish().map_err(sql)?;
    let events = rows
        .into_iter()
        .map(|(revision, kind, id, value)| {
            Ok(Event {
                revision,
                key: Key {
                    kind: kind_from(&kind)?,
                    id,
                },
                value,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok((events, cap.is_some()))
}

/// How often a watcher re-reads the file without a notification (changes written by
/// another process sharing the file).
const CROSS_PROCESS_POLL: Duration = Duration::from_secs(1);

/// How many changes a watcher reads from the file at a time.
const WATCH_BATCH: usize = 512;

#[async_trait]
impl ConfigStore for SqliteStore {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        check_key_id(&key.id)?;
        let key = key.clone();
        self.read(move |conn| {
            conn.query_row(
                "SELECT id, value, create_rev, mod_rev FROM objects WHERE kind = ?1 AND id = ?2",
                params![kind_name(key.kind), key.id],
                |r| record_from_row(key.kind, r),
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn list(&self, kind: Kind, at: Option<Revision>) -> Result<Listing, StoreError> {
        self.read(move |conn| match at {
            None => list_now(conn, kind),
            Some(at) => list_at(conn, kind, at),
        })
        .await
    }

    async fn txn(&self, txn: Txn) -> Result<Revision, StoreError> {
        txn.check()?;
        self.write(move |tx| apply(tx, &txn)).await
    }

    async fn revision(&self) -> Result<Revision, StoreError> {
        self.read(|conn| meta(conn, "revision")).await
    }

    async fn watch(&self, after: Revision) -> Result<Watch, StoreError> {
        // Fail at once when the start is already compacted away.
        self.read(move |conn| changes_after(conn, after, 0).map(|_| ()))
            .await?;
        let (sender, watch) = Watch::channel();
        let store = self.clone();
        let mut committed = self.inner.committed.subscribe();
        tokio::spawn(async move {
            let mut last = after;
            loop {
                let batch = store
                    .read(move |conn| changes_after(conn, last, WATCH_BATCH))
                    .await;
                match batch {
                    Ok((events, more)) => {
                        for event in events {
                            last = event.revision.max(last);
                            if sender.send(Ok(event)).await.is_err() {
                                return;
                            }
                        }
                        if more {
                            continue;
                        }
                    }
                    Err(e) => {
                        let _ = sender.send(Err(e)).await;
                        return;
                    }
                }
                tokio::select! {
                    changed = committed.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        committed.borrow_and_update();
                    }
                    () = sender.closed() => return,
                    // Another process writing the same file does not notify this one:
                    // look again now and then.
                    () = tokio::time::sleep(CROSS_PROCESS_POLL) => {}
                }
            }
        });
        Ok(watch)
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        self.write(move |tx| {
            let current = meta(tx, "revision")?;
            let compacted = meta(tx, "compacted")?;
            if revision > current {
                return Err(StoreError::FutureRevision {
                    requested: revision,
                    current,
                });
            }
            if revision <= compacted {
                return Ok(());
            }
            // Keep each key's newest version before the point unless it is a deletion;
            // drop every older one.
            tx.execute(
                "DELETE FROM history WHERE revision < ?1 AND (value IS NULL OR revision < (
                     SELECT MAX(revision) FROM history h2
                     WHERE h2.kind = history.kind AND h2.id = history.id AND h2.revision < ?1))",
                [to_i64(revision)],
            )
            .map_err(sql)?;
            tx.execute(
                "UPDATE meta SET value = ?1 WHERE name = 'compacted'",
                [to_i64(revision)],
            )
            .map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn acquire(
        &self,
        election: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseState, StoreError> {
        check_election_name(election)?;
        let election = election.to_owned();
        let holder = holder.to_owned();
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.write(move |tx| {
            let now = now_ms();
            let row = tx
                .query_row(
                    "SELECT holder, term, expires_ms FROM elections WHERE name = ?1",
                    [&election],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    },
                )
                .optional()
                .map_err(sql)?;
            let (term, acquired) = match row {
                Some((h, term, expires)) if expires > now && h != holder => {
                    return Ok(LeaseState {
                        holder: h,
                        term: to_u64(term),
                        acquired: false,
                    });
                }
                // Still ours: renew in the same term.
                Some((h, term, expires)) if h == holder && expires > now => (term, true),
                // Free or lapsed: a new term.
                Some((_, term, _)) => (term + 1, true),
                None => (1, true),
            };
            tx.execute(
                "INSERT INTO elections (name, holder, term, expires_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET holder = ?2, term = ?3, expires_ms = ?4",
                params![election, holder, term, now.saturating_add(ttl_ms)],
            )
            .map_err(sql)?;
            Ok(LeaseState {
                holder,
                term: to_u64(term),
                acquired,
            })
        })
        .await
    }

    async fn release(&self, election: &str, holder: &str, term: u64) -> Result<(), StoreError> {
        check_election_name(election)?;
        let election = election.to_owned();
        let holder = holder.to_owned();
        self.write(move |tx| {
            // The row (and so the term counter) stays; only the expiry goes.
            tx.execute(
                "UPDATE elections SET expires_ms = 0 WHERE name = ?1 AND holder = ?2 AND term = ?3",
                params![election, holder, to_i64(term)],
            )
            .map_err(sql)?;
            Ok(())
        })
        .await
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.inner.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Expect;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_watch_sees_writes_of_another_process_on_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let here = SqliteStore::open(&path).unwrap();
        let there = SqliteStore::open(&path).unwrap(); // as another process would
        let mut watch = here.watch(0).await.unwrap();
        // A local write first: once its event arrives, the watcher waits for more.
        let local = Key::new(Kind::Slo, "local").unwrap();
        here.txn(Txn::new(vec![Op::Put {
            key: local.clone(),
            value: "0".into(),
            expect: Expect::Absent,
        }]))
        .await
        .unwrap();
        let first = watch.next().await.unwrap().unwrap();
        assert_eq!(first.key, local);
        let key = Key::new(Kind::Slo, "s").unwrap();
        let r = there
            .txn(Txn::new(vec![Op::Put {
                key: key.clone(),
                value: "1".into(),
                expect: Expect::Absent,
            }]))
            .await
            .unwrap();
        let event = tokio::time::timeout(Duration::from_secs(5), watch.next())
            .await
            .expect("seen within the poll interval")
            .unwrap()
            .unwrap();
        assert_eq!((event.revision, event.key), (r, key));
    }

    crate::store_conformance!(async {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("gateway.db")).unwrap();
        (std::sync::Arc::new(store) as crate::store::SharedStore, dir)
    });

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(err.to_string().contains("schema version 99"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn revisions_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let store = SqliteStore::open(&path).unwrap();
        let key = Key::new(Kind::Endpoint, "a").unwrap();
        let r = store
            .txn(Txn::new(vec![Op::Put {
                key: key.clone(),
                value: "{}".into(),
                expect: Expect::Absent,
            }]))
            .await
            .unwrap();
        drop(store);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.revision().await.unwrap(), r);
        assert_eq!(store.get(&key).await.unwrap().unwrap().mod_revision, r);
    }
}
