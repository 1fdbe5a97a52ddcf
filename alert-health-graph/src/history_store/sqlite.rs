//! The state history in one SQLite file (feature `sqlite`, bundled SQLite).
//!
//! One table, `transitions(id, node, at_ns, state)`: `id` is the append order (which
//! orders transitions of one node at one instant), `at_ns` nanoseconds since the Unix
//! epoch (so times come back exactly; years 1677 to 2262), `state` the state's name.
//! An index on `(node, at_ns, id)` answers "the node's latest transition" on append;
//! one on `at_ns` finds what to prune.
//!
//! The schema version lives in `PRAGMA user_version`, each migration one transaction;
//! a file written by a newer release is refused rather than guessed at, and so is a
//! SQLite file of another kind (`PRAGMA application_id`).
//!
//! Durability: WAL, and `synchronous = FULL`, so a committed batch survives power loss,
//! not only a crash of the process. Batches are rare (a pass appends only when a state
//! changed, and an empty batch writes nothing), so the sync per commit costs little.
//! Every [`append`](StateHistoryStore::append) is one transaction.
//!
//! ```
//! use alert_core::Timestamp;
//! use alert_health_graph::{StateHistoryStore, NodeTransition, State};
//! use alert_health_graph::history_store::sqlite::SqliteHistoryStore;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("history.db");
//! let at: Timestamp = "2024-05-01T10:00:00.123456789Z".parse()?;
//! SqliteHistoryStore::open(&path)?
//!     .append(&[NodeTransition { node: "db".into(), at, state: State::Failing }])?;
//! let again = SqliteHistoryStore::open(&path)?;
//! let loaded = again.load(Timestamp::UNIX_EPOCH)?;
//! assert_eq!(loaded, [NodeTransition { node: "db".into(), at, state: State::Failing }]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use alert_core::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::StateHistoryStore;
use crate::error::{Error, Result};
use crate::history::NodeTransition;
use crate::state::State;

/// The schema version this release writes.
pub const CURRENT_VERSION: i64 = 1;

/// `PRAGMA application_id` of a state history file: `AHGS` (alert-health-graph state).
pub const APPLICATION_ID: i32 = 0x4148_4753;

/// The migrations, `MIGRATIONS[n]` taking version `n` to `n + 1`.
const MIGRATIONS: [&str; 1] = [
    // v0 -> v1
    r#"
    CREATE TABLE transitions(
        id INTEGER PRIMARY KEY,
        node TEXT NOT NULL,
        at_ns INTEGER NOT NULL,
        state TEXT NOT NULL
            CHECK (state IN ('passing', 'pending', 'degraded', 'unknown', 'failing'))
    );
    CREATE INDEX transitions_by_node ON transitions(node, at_ns, id);
    CREATE INDEX transitions_by_at ON transitions(at_ns);
    "#,
];

/// Rows of `transitions` (as `t`) that pruning at `?1` removes: at or before the cutoff
/// with a later transition of the same node also at or before it.
const SUPERSEDED: &str = "t.at_ns <= ?1 AND EXISTS (SELECT 1 FROM transitions l \
     WHERE l.node = t.node AND l.at_ns <= ?1 \
     AND (l.at_ns > t.at_ns OR (l.at_ns = t.at_ns AND l.id > t.id)))";

/// The state history in one SQLite file. See the module docs.
pub struct SqliteHistoryStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteHistoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteHistoryStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteHistoryStore {
    /// Opens (creating it if missing) the history file at `path` and migrates it to
    /// [`CURRENT_VERSION`]. The directory must exist.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteHistoryStore> {
        let path = path.as_ref().to_path_buf();
        let err = |context: &str| {
            let path = path.display().to_string();
            let context = context.to_owned();
            move |e: rusqlite::Error| Error::StateHistoryStore {
                path,
                context,
                reason: e.to_string(),
            }
        };
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err("open"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err("open"))?;
        // Reading the journal mode is the first read: a file that is not a database
        // fails here.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err("open (set WAL)"))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err("open (set synchronous)"))?;
        let store_path = path.display().to_string();
        migrate(&mut conn, &store_path)?;
        Ok(SqliteHistoryStore {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn error(&self, context: &str) -> impl FnOnce(rusqlite::Error) -> Error + use<> {
        let path = self.path.display().to_string();
        let context = context.to_owned();
        move |e| Error::StateHistoryStore {
            path,
            context,
            reason: e.to_string(),
        }
    }
}

/// Checks the file's kind and version and migrates it, one transaction per step.
fn migrate(conn: &mut Connection, path: &str) -> Result<()> {
    let err = |context: &str| {
        let (path, context) = (path.to_owned(), context.to_owned());
        move |e: rusqlite::Error| Error::StateHistoryStore {
            path,
            context,
            reason: e.to_string(),
        }
    };
    let (app, found): (i32, i64) = conn
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id), \
                    (SELECT user_version FROM pragma_user_version)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(err("read schema version"))?;
    if app != 0 && app != APPLICATION_ID {
        return Err(Error::StateHistoryStore {
            path: path.to_owned(),
            context: "open".to_owned(),
            reason: format!(
                "not a state history file (application_id {app:#x}, expected {APPLICATION_ID:#x})"
            ),
        });
    }
    if app == 0 && found > 0 {
        return Err(Error::StateHistoryStore {
            path: path.to_owned(),
            context: "open".to_owned(),
            reason: format!(
                "a SQLite file of another kind (schema version {found}, no application_id)"
            ),
        });
    }
    if found > CURRENT_VERSION {
        return Err(Error::HistorySchemaTooNew {
            path: path.to_owned(),
            found,
            supported: CURRENT_VERSION,
        });
    }
    for from in found..CURRENT_VERSION {
        let context = format!("migrate schema v{from} to v{}", from + 1);
        let step = usize::try_from(from)
            .ok()
            .and_then(|i| MIGRATIONS.get(i))
            .ok_or_else(|| Error::StateHistoryStore {
                path: path.to_owned(),
                context: context.clone(),
                reason: "no such migration".to_owned(),
            })?;
        let tx = conn.transaction().map_err(err(&context))?;
        tx.execute_batch(step).map_err(err(&context))?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(err(&context))?;
        tx.pragma_update(None, "user_version", from + 1)
            .map_err(err(&context))?;
        tx.commit().map_err(err(&context))?;
    }
    Ok(())
}

/// Nanoseconds since the epoch of a cutoff, clamped to what the store keeps.
fn cutoff_ns(at: Timestamp) -> i64 {
    let ns = at.unix_nanos();
    i64::try_from(ns).unwrap_or(if ns < 0 { i64::MIN } else { i64::MAX })
}

impl StateHistoryStore for SqliteHistoryStore {
    fn load(&self, cutoff: Timestamp) -> Result<Vec<NodeTransition>> {
        let conn = self.conn();
        let cutoff = cutoff_ns(cutoff);
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT t.node, max(t.at_ns, ?1), t.state FROM transitions t \
                 WHERE NOT ({SUPERSEDED}) ORDER BY t.node, t.at_ns, t.id"
            ))
            .map_err(self.error("load"))?;
        let rows = stmt
            .query_map(params![cutoff], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(self.error("load"))?;
        let mut out = Vec::new();
        for row in rows {
            let (node, at_ns, state) = row.map_err(self.error("load"))?;
            let corrupt = |reason: String| Error::CorruptHistory {
                path: self.path.display().to_string(),
                row: format!("transition of {node:?} at {at_ns} ns"),
                reason,
            };
            let at = Timestamp::from_unix(
                at_ns.div_euclid(1_000_000_000),
                // In 0..1e9: fits.
                i32::try_from(at_ns.rem_euclid(1_000_000_000)).unwrap_or(0),
            )
            .map_err(|e| corrupt(e.to_string()))?;
            let state = state.parse::<State>().map_err(|e| corrupt(e.to_string()))?;
            out.push(NodeTransition { node, at, state });
        }
        Ok(out)
    }

    fn append(&self, batch: &[NodeTransition]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(self.error("append"))?;
        {
            let mut latest = tx
                .prepare_cached(
                    "SELECT at_ns, state FROM transitions WHERE node = ?1 \
                     ORDER BY at_ns DESC, id DESC LIMIT 1",
                )
                .map_err(self.error("append"))?;
            let mut insert = tx
                .prepare_cached("INSERT INTO transitions(node, at_ns, state) VALUES (?1, ?2, ?3)")
                .map_err(self.error("append"))?;
            for t in batch {
                let at_ns =
                    i64::try_from(t.at.unix_nanos()).map_err(|_| Error::StateHistoryStore {
                        path: self.path.display().to_string(),
                        context: format!("append transition of {:?}", t.node),
                        reason: format!(
                            "{} is outside the years 1677 to 2262 the store keeps",
                            t.at
                        ),
                    })?;
                let last: Option<(i64, String)> = latest
                    .query_row(params![t.node], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(self.error("append"))?;
                // StateHistory::record's rule: only a change, in time order.
                if let Some((last_ns, last_state)) = last
                    && (last_state == t.state.as_str() || at_ns < last_ns)
                {
                    continue;
                }
                insert
                    .execute(params![t.node, at_ns, t.state.as_str()])
                    .map_err(self.error("append"))?;
            }
        }
        tx.commit().map_err(self.error("append (commit)"))
    }

    fn prune(&self, cutoff: Timestamp) -> Result<()> {
        let mut conn = self.conn();
        let cutoff = cutoff_ns(cutoff);
        let tx = conn.transaction().map_err(self.error("prune"))?;
        tx.execute(
            &format!(
                "DELETE FROM transitions WHERE id IN \
                 (SELECT t.id FROM transitions t WHERE {SUPERSEDED})"
            ),
            params![cutoff],
        )
        .map_err(self.error("prune"))?;
        tx.execute(
            "UPDATE transitions SET at_ns = ?1 WHERE at_ns < ?1",
            params![cutoff],
        )
        .map_err(self.error("prune"))?;
        tx.commit().map_err(self.error("prune (commit)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory; every `open` opens the same file in it.
    struct File(tempfile::TempDir);

    impl crate::history_store::conformance::Backend for File {
        fn open(&self) -> Box<dyn StateHistoryStore> {
            Box::new(SqliteHistoryStore::open(self.0.path().join("history.db")).expect("open"))
        }
    }

    crate::history_store_conformance!(File(tempfile::tempdir().expect("temp dir")));

    #[test]
    fn pragmas_and_version_are_set() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteHistoryStore::open(dir.path().join("h.db")).expect("open");
        let conn = store.conn();
        let get = |p: &str| -> String {
            conn.query_row(&format!("PRAGMA {p}"), [], |r| {
                r.get::<_, rusqlite::types::Value>(0)
            })
            .map(|v| format!("{v:?}"))
            .expect("pragma")
        };
        assert_eq!(get("journal_mode"), "Text(\"wal\")");
        assert_eq!(get("synchronous"), "Integer(2)", "FULL");
        assert_eq!(get("user_version"), format!("Integer({CURRENT_VERSION})"));
        assert_eq!(get("application_id"), format!("Integer({APPLICATION_ID})"));
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A newer schema.
        let newer = dir.path().join("newer.db");
        SqliteHistoryStore::open(&newer).expect("open");
        {
            let conn = Connection::open(&newer).expect("raw open");
            conn.pragma_update(None, "user_version", 7).expect("bump");
        }
        let err = SqliteHistoryStore::open(&newer).expect_err("too new");
        assert_eq!(
            err.to_string(),
            format!(
                "state history {}: schema version 7 is newer than this release knows (1)",
                newer.display()
            )
        );
        // Not a database.
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![b'x'; 4096]).expect("write");
        let err = SqliteHistoryStore::open(&junk)
            .expect_err("junk")
            .to_string();
        assert!(
            err.starts_with(&format!("state history {}: open", junk.display())),
            "{err}"
        );
        // Another application's database.
        let other = dir.path().join("other.db");
        {
            let conn = Connection::open(&other).expect("raw open");
            conn.execute_batch("CREATE TABLE x(y); PRAGMA user_version = 2;")
                .expect("other schema");
        }
        let err = SqliteHistoryStore::open(&other)
            .expect_err("other")
            .to_string();
        assert!(err.contains("a SQLite file of another kind"), "{err}");
        // A missing directory.
        let missing = dir.path().join("no/such/dir/h.db");
        let err = SqliteHistoryStore::open(&missing)
            .expect_err("missing")
            .to_string();
        assert!(
            err.starts_with(&format!("state history {}: open", missing.display())),
            "{err}"
        );
    }

    #[test]
    fn a_failed_batch_leaves_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteHistoryStore::open(dir.path().join("h.db")).expect("open");
        let ok = NodeTransition {
            node: "a".into(),
            at: "2024-05-01T00:00:00Z".parse().expect("time"),
            state: State::Passing,
        };
        let too_late = NodeTransition {
            node: "b".into(),
            at: "2300-01-01T00:00:00Z".parse().expect("time"),
            state: State::Passing,
        };
        let err = store
            .append(&[ok.clone(), too_late])
            .expect_err("out of range");
        assert!(
            err.to_string().contains("outside the years 1677 to 2262"),
            "{err}"
        );
        assert_eq!(store.load(Timestamp::UNIX_EPOCH).expect("load"), []);
        store.append(std::slice::from_ref(&ok)).expect("append");
        assert_eq!(store.load(Timestamp::UNIX_EPOCH).expect("load"), [ok]);
    }

    #[test]
    fn a_corrupt_row_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("h.db");
        let store = SqliteHistoryStore::open(&path).expect("open");
        store
            .conn()
            .execute_batch(
                "PRAGMA ignore_check_constraints = ON;
                 INSERT INTO transitions(node, at_ns, state) VALUES ('db', 0, 'green');",
            )
            .expect("insert");
        let err = store
            .load(Timestamp::UNIX_EPOCH)
            .expect_err("corrupt")
            .to_string();
        assert_eq!(
            err,
            format!(
                "state history {}: transition of \"db\" at 0 ns: state: expected one of passing, pending, degraded, unknown, failing, got \"green\"",
                path.display()
            )
        );
    }
}
