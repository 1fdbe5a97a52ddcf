//! The embedded store: one SQLite file (bundled SQLite, WAL).
//!
//! Durability: every [`append`](HistoryStore::append) is one transaction, committed
//! before it returns; with the default [`Synchronous::Full`] the commit is on disk (it
//! survives power loss), with [`Synchronous::Normal`] it survives a crash of the process
//! but may lose the last commits on power loss.
//!
//! Queries: "overlaps `[t1, t2)`" is `ends_at > t1 AND starts_at < t2` (open episodes
//! keep `ends_at = i64::MAX`). An equality matcher on `alertname` uses the
//! `(alertname, ends_at, starts_at)` index; other equality matchers with a non-empty value
//! are answered from the `episode_labels` table (one row per label, primary key
//! `(name, value, episode_id)`; a lone selector without an `alertname` equality is read
//! from it); with several selectors, their equalities are ANDed per selector and the
//! selectors OR-ed. Every selector is then evaluated in Rust on the candidates, read in
//! page order, so regular expressions and `!=` work as in Alertmanager.
//!
//! ```
//! use alert_core::{Alert, LabelSet, Timestamp};
//! use alert_history::{EpisodeQuery, HistoryStore, Notification, TimeSpan};
//! use alert_history::sqlite::SqliteStore;
//!
//! let dir = tempfile::tempdir()?;
//! let store = SqliteStore::open(dir.path().join("history.db"))?;
//! let t = |s: &str| s.parse::<Timestamp>().unwrap();
//! let alert = Alert::firing(LabelSet::from_pairs([("alertname", "DiskFull")])?, t("2024-05-01T10:00:00Z"));
//! store.append(&[Notification { alert, receiver: "history".into(), received_at: t("2024-05-01T10:00:30Z") }])?;
//! let range = TimeSpan::new(t("2024-05-01T00:00:00Z"), t("2024-05-02T00:00:00Z"))?;
//! assert_eq!(store.query(&EpisodeQuery::new(range))?.episodes.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use alert_core::{Duration, Fingerprint, Timestamp};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use crate::availability::{Heartbeat, HeartbeatGap, HeartbeatLog, ServerRun, runs_around};
use crate::episode::{EndReason, Episode, Notification};
use crate::error::{Error, Result};
use crate::range::TimeSpan;
use crate::sql::{
    ALERTNAME, END_SUPERSEDED, EPISODE_COLUMNS, IndexedMatchers, OPEN_END, PURGE_SKEW_NS,
    PageBounds, Planner, RangePart, RawEpisode, UnorderedPage, admit, candidate_condition,
    decode_labels, encode_labels, end_reason_to_sql, episode_columns, fp_to_sql,
};
use crate::store::{
    AppendOutcome, EpisodePage, EpisodeQuery, HistoryStore, PurgeOutcome, StoreStats,
    check_representable, from_nanos, to_nanos,
};
use schema::{CURRENT_VERSION, migrate_to, sqlite_error};

/// How hard a commit waits for the disk (SQLite's `PRAGMA synchronous` in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// Every commit is synced: durable across power loss.
    #[default]
    Full,
    /// Commits survive a crash of the process; the newest may be lost on power loss.
    Normal,
}

/// Options for [`SqliteStore::open_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Commit durability.
    pub synchronous: Synchronous,
    /// Page cache per connection, in MiB (the store has two connections).
    pub cache_mib: u32,
}

impl Default for SqliteOptions {
    /// Full durability and a 64 MiB cache per connection.
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Full,
            cache_mib: 64,
        }
    }
}

/// Alert history in one SQLite file. See the module docs.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

const INSERT_EPISODE: &str = "INSERT INTO episodes(fingerprint, starts_at, ends_at, \
     first_seen, last_seen, alertname, labels, annotations, receiver, generator_url, \
     end_reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
const INSERT_LABEL: &str =
    "INSERT OR IGNORE INTO episode_labels(name, value, episode_id) VALUES(?1, ?2, ?3)";
const NEWEST_SEEN: &str = "INSERT INTO settings(key, value) VALUES('newest_seen', ?1) \
     ON CONFLICT(key) DO UPDATE SET value = excluded.value \
     WHERE CAST(excluded.value AS INTEGER) > CAST(value AS INTEGER)";

/// Reads the columns of [`EPISODE_COLUMNS`] starting at column `at`.
fn raw_episode_at(row: &Row<'_>, at: usize) -> rusqlite::Result<RawEpisode> {
    Ok(RawEpisode {
        fingerprint: row.get(at)?,
        starts_at: row.get(at + 1)?,
        ends_at: row.get(at + 2)?,
        first_seen: row.get(at + 3)?,
        last_seen: row.get(at + 4)?,
        labels: row.get(at + 5)?,
        annotations: row.get(at + 6)?,
        receiver: row.get(at + 7)?,
        generator_url: row.get(at + 8)?,
        end_reason: row.get(at + 9)?,
    })
}

fn raw_episode(row: &Row<'_>) -> rusqlite::Result<RawEpisode> {
    raw_episode_at(row, 0)
}

fn open_connection(path: &Path, options: SqliteOptions) -> Result<Connection> {
    let ctx = format!("open {}", path.display());
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sqlite_error(&ctx, e))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|e| sqlite_error(&ctx, e))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| sqlite_error(&ctx, e))?;
    let sync = match options.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", sync)
        .map_err(|e| sqlite_error(&ctx, e))?;
    // A negative cache_size is in KiB.
    conn.pragma_update(None, "cache_size", -i64::from(options.cache_mib) * 1024)
        .map_err(|e| sqlite_error(&ctx, e))?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(|e| sqlite_error(&ctx, e))?;
    // Checkpoint the WAL every 8192 pages (32 MiB) rather than every 1000: batches touch
    // many pages, and each checkpoint is a write-back and an fsync of the database file.
    conn.pragma_update(None, "wal_autocheckpoint", 8192)
        .map_err(|e| sqlite_error(&ctx, e))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` with default options, migrating
    /// its schema to the current version.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        SqliteStore::open_with(path, SqliteOptions::default())
    }

    /// Opens the store at `path` with `options`.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let mut writer = open_connection(&path, options)?;
        migrate_to(&mut writer, CURRENT_VERSION, &path.display().to_string())?;
        let reader = open_connection(&path, options)?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the file (after opening: [`schema::CURRENT_VERSION`]).
    pub fn schema_version(&self) -> Result<i64> {
        schema::version(&self.read())
    }

    /// The retention period kept in the database, if one was set.
    pub fn retention(&self) -> Result<Option<Duration>> {
        let text: Option<String> = self
            .read()
            .query_row(
                "SELECT value FROM settings WHERE key = 'retention'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| sqlite_error("read retention", e))?;
        text.map(|t| {
            t.parse::<Duration>().map_err(|e| Error::Decode {
                field: "settings.retention".into(),
                reason: e.to_string(),
            })
        })
        .transpose()
    }

    /// Keeps `retention` in the database (`None` removes it).
    pub fn set_retention(&self, retention: Option<Duration>) -> Result<()> {
        let conn = self.write();
        let result = match retention {
            Some(d) => conn.execute(
                "INSERT INTO settings(key, value) VALUES('retention', ?1) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [d.to_string()],
            ),
            None => conn.execute("DELETE FROM settings WHERE key = 'retention'", []),
        };
        result
            .map(drop)
            .map_err(|e| sqlite_error("write retention", e))
    }

    /// Writes `episodes` as they are, in one transaction: for loading a data set (a
    /// benchmark's, or one exported from another store) into a store no server is
    /// appending to. Nothing is merged or superseded, unlike
    /// [`append`](HistoryStore::append): each episode must be whole and its key
    /// `(fingerprint, startsAt)` new (a key already stored fails the load, and nothing
    /// is written). The newest `last_seen` becomes the store's newest notification.
    /// Into an empty store, the label rows and the indexes of `episodes` are written
    /// after the episodes, each by one sort (spilling to a temporary file past 1 GiB).
    /// The writer's page cache is raised to 1 GiB for the load, and the WAL is
    /// checkpointed into the database file after it. Returns how many episodes were
    /// written.
    ///
    /// ```
    /// use alert_core::{Alert, LabelSet, Timestamp};
    /// use alert_history::{Episode, HistoryStore, Notification};
    /// use alert_history::sqlite::SqliteStore;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = SqliteStore::open(dir.path().join("history.db"))?;
    /// let t: Timestamp = "2024-05-01T10:00:00Z".parse()?;
    /// let alert = Alert::firing(LabelSet::from_pairs([("alertname", "DiskFull")])?, t);
    /// let episode = Episode::from_notification(&Notification { alert, receiver: "h".into(), received_at: t });
    /// assert_eq!(store.bulk_load([episode])?, 1);
    /// assert_eq!(store.stats()?.episodes, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bulk_load(&self, episodes: impl IntoIterator<Item = Episode>) -> Result<u64> {
        let mut conn = self.write();
        let ctx = "bulk load";
        let cache: i64 = conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .map_err(|e| sqlite_error(ctx, e))?;
        let temp: i64 = conn
            .query_row("PRAGMA temp_store", [], |r| r.get(0))
            .map_err(|e| sqlite_error(ctx, e))?;
        conn.pragma_update(None, "cache_size", -1024 * 1024)
            .map_err(|e| sqlite_error(ctx, e))?;
        // The sort of the label rows spills to a temporary file past the cache's size,
        // rather than holding every row in memory.
        conn.pragma_update(None, "temp_store", "FILE")
            .map_err(|e| sqlite_error(ctx, e))?;
        let loaded = bulk_load_into(&mut conn, episodes);
        let restored = conn
            .pragma_update(None, "cache_size", cache)
            .and_then(|()| conn.pragma_update(None, "temp_store", temp))
            .map_err(|e| sqlite_error(ctx, e));
        let loaded = loaded?;
        restored?;
        // The load went to the WAL as one transaction: copy it into the database file
        // now (and truncate it) rather than leave the first appends to do so. A reader
        // holding an older snapshot only makes this a partial checkpoint.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| sqlite_error("bulk load: checkpoint", e))?;
        Ok(loaded)
    }

    fn write(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (uncommitted work is
        // rolled back when the transaction is dropped), so a poisoned lock is usable.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads candidate rows in page order and keeps those the query admits, until one
    /// more than the page is found: the episodes carried into the range, then those that
    /// started within it ([`RangePart`]).
    fn collect_page(&self, q: &EpisodeQuery) -> Result<EpisodePage> {
        let bounds = PageBounds::of(q)?;
        let mut found: Vec<Episode> = Vec::new();
        for &part in bounds.parts(q) {
            let (sql, args) = page_sql(q, part, &bounds);
            let conn = self.read();
            let ctx = "query episodes";
            let mut stmt = conn
                .prepare_cached(&sql)
                .map_err(|e| sqlite_error(ctx, e))?;
            let mut rows = stmt
                .query(rusqlite::params_from_iter(args))
                .map_err(|e| sqlite_error(ctx, e))?;
            if part == RangePart::Whole {
                // Read in no order: the page is kept here rather than every candidate
                // sorted by SQLite (whose sorter copies each whole row).
                let mut page = UnorderedPage::new(q);
                while let Some(row) = rows.next().map_err(|e| sqlite_error(ctx, e))? {
                    let fingerprint = row.get(0).map_err(|e| sqlite_error(ctx, e))?;
                    let starts_at = row.get(1).map_err(|e| sqlite_error(ctx, e))?;
                    if page.wants(starts_at, fingerprint) {
                        page.offer(raw_episode(row).map_err(|e| sqlite_error(ctx, e))?)?;
                    }
                }
                return Ok(page.finish());
            }
            while let Some(row) = rows.next().map_err(|e| sqlite_error(ctx, e))? {
                let raw = raw_episode(row).map_err(|e| sqlite_error(ctx, e))?;
                if admit(q, raw, &mut found)? {
                    return Ok(q.paginate(found));
                }
            }
        }
        Ok(q.paginate(found))
    }
}

/// The SQL of one part of a query ([`RangePart`]) and its arguments: the candidates of
/// the query's selectors in that part of the range, after the cursor, in page order.
fn page_sql(q: &EpisodeQuery, part: RangePart, bounds: &PageBounds) -> (String, Vec<Value>) {
    let PageBounds { t1, t2, cursor } = *bounds;
    let mut sql = String::with_capacity(512);
    let mut args: Vec<Value> = Vec::new();
    sql.push_str("SELECT ");
    sql.push_str(episode_columns(q));
    let only = match q.selectors.iter().as_slice() {
        [only] => Some(IndexedMatchers::of(only)),
        _ => None,
    };
    if let Some(IndexedMatchers {
        alertnames,
        mut labels,
    }) = only
    {
        // One selector: its equalities, the query driven from the label index when
        // there is no alertname to drive it.
        if alertnames.is_empty()
            && let Some((name, value)) = labels.first().copied()
        {
            sql.push_str(
                " FROM episode_labels l CROSS JOIN episodes e ON e.id = l.episode_id \
                 WHERE l.name = ? AND l.value = ?",
            );
            args.push(Value::Text(name.to_owned()));
            args.push(Value::Text(value.to_owned()));
            labels.remove(0);
        } else {
            sql.push_str(" FROM episodes e WHERE 1");
        }
        for name in alertnames {
            sql.push_str(" AND e.alertname = ?");
            args.push(Value::Text(name.to_owned()));
        }
        sql.push_str(" AND ");
        sql.push_str(&part.condition(Planner::Sqlite, t1, t2, |t| {
            args.push(Value::Integer(t));
            "?".to_owned()
        }));
        for (name, value) in labels {
            sql.push_str(
                " AND EXISTS(SELECT 1 FROM episode_labels x \
                 WHERE x.name = ? AND x.value = ? AND x.episode_id = e.id)",
            );
            args.push(Value::Text(name.to_owned()));
            args.push(Value::Text(value.to_owned()));
        }
    } else {
        // No selector, or several: the range, and the OR of the selectors' equalities.
        sql.push_str(" FROM episodes e WHERE ");
        sql.push_str(&part.condition(Planner::Sqlite, t1, t2, |t| {
            args.push(Value::Integer(t));
            "?".to_owned()
        }));
        let mut bound = Vec::new();
        if let Some(condition) = candidate_condition(&q.selectors, |v| {
            bound.push(Value::Text(v.to_owned()));
            "?".to_owned()
        }) {
            sql.push_str(" AND (");
            sql.push_str(&condition);
            sql.push(')');
            args.extend(bound);
        }
    }
    if let Some((starts_at, fingerprint)) = cursor {
        sql.push_str(" AND (e.starts_at, e.fingerprint) > (?, ?)");
        args.push(Value::Integer(starts_at));
        args.push(Value::Integer(fingerprint));
    }
    if part != RangePart::Whole {
        sql.push_str(" ORDER BY e.starts_at, e.fingerprint");
    }
    (sql, args)
}

/// Inserts `episode` with the prepared [`INSERT_EPISODE`], and its label rows with
/// [`INSERT_LABEL`] when given; `ctx` names the caller in errors.
fn insert_episode(
    conn: &Connection,
    insert: &mut rusqlite::CachedStatement<'_>,
    insert_label: Option<&mut rusqlite::CachedStatement<'_>>,
    episode: &Episode,
    ctx: &str,
) -> Result<()> {
    insert
        .execute(params![
            fp_to_sql(episode.fingerprint),
            to_nanos(episode.starts_at, "startsAt")?,
            episode
                .ends_at
                .map_or(Ok(OPEN_END), |t| to_nanos(t, "endsAt"))?,
            to_nanos(episode.first_seen, "firstSeen")?,
            to_nanos(episode.last_seen, "lastSeen")?,
            episode.alertname(),
            encode_labels(&episode.labels),
            encode_labels(&episode.annotations),
            episode.receiver,
            episode.generator_url,
            end_reason_to_sql(episode),
        ])
        .map_err(|e| sqlite_error(&format!("{ctx}: insert episode"), e))?;
    let Some(insert_label) = insert_label else {
        return Ok(());
    };
    let id = conn.last_insert_rowid();
    for (name, value) in episode.labels.iter().filter(|(n, _)| *n != ALERTNAME) {
        insert_label
            .execute(params![name, value, id])
            .map_err(|e| sqlite_error(&format!("{ctx}: insert label"), e))?;
    }
    Ok(())
}

/// [`SqliteStore::bulk_load`]'s transaction.
fn bulk_load_into(
    conn: &mut Connection,
    episodes: impl IntoIterator<Item = Episode>,
) -> Result<u64> {
    let tx = conn
        .transaction()
        .map_err(|e| sqlite_error("bulk load: begin", e))?;
    let empty: bool = tx
        .query_row("SELECT NOT EXISTS(SELECT 1 FROM episodes)", [], |r| {
            r.get(0)
        })
        .map_err(|e| sqlite_error("bulk load: count", e))?;
    // Into an empty store, the episode indexes are built once the rows are in (one sort
    // each, instead of a B-tree insertion a row) and the label rows are written in key
    // order from the stored labels (appended, instead of inserted all over a table too
    // large for the cache). The same transaction, so a failed load leaves the store as
    // it was.
    let deferred = if empty {
        drop_episode_indexes(&tx)?
    } else {
        Vec::new()
    };
    let mut loaded = 0u64;
    let mut newest: Option<i64> = None;
    {
        let mut insert = tx
            .prepare_cached(INSERT_EPISODE)
            .map_err(|e| sqlite_error("bulk load: insert episode", e))?;
        let mut insert_label = tx
            .prepare_cached(INSERT_LABEL)
            .map_err(|e| sqlite_error("bulk load: insert label", e))?;
        let mut labels = (!empty).then_some(&mut insert_label);
        for episode in episodes {
            let last_seen = to_nanos(episode.last_seen, "lastSeen")?;
            insert_episode(
                &tx,
                &mut insert,
                labels.as_deref_mut(),
                &episode,
                "bulk load",
            )?;
            newest = newest.max(Some(last_seen));
            loaded += 1;
        }
    }
    if empty {
        tx.execute_batch(&format!(
            "INSERT INTO episode_labels(name, value, episode_id) \
             SELECT j.key, j.value, e.id FROM episodes e, json_each(e.labels) j \
             WHERE j.key != '{ALERTNAME}' ORDER BY 1, 2, 3"
        ))
        .map_err(|e| sqlite_error("bulk load: label rows", e))?;
        for (name, sql) in deferred {
            tx.execute_batch(&sql)
                .map_err(|e| sqlite_error(&format!("bulk load: create index {name}"), e))?;
        }
    }
    if let Some(newest) = newest {
        tx.execute(NEWEST_SEEN, [newest.to_string()])
            .map_err(|e| sqlite_error("bulk load: newest", e))?;
    }
    tx.commit()
        .map_err(|e| sqlite_error("bulk load: commit", e))?;
    Ok(loaded)
}

/// Drops the indexes of `episodes` that were created as indexes (not those of its
/// constraints), returning each one's name and the SQL that creates it again.
fn drop_episode_indexes(tx: &Connection) -> Result<Vec<(String, String)>> {
    let ctx = "bulk load: indexes";
    let indexes = tx
        .prepare(
            "SELECT name, sql FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = 'episodes' AND sql IS NOT NULL",
        )
        .and_then(|mut stmt| {
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<(String, String)>>>()
        })
        .map_err(|e| sqlite_error(ctx, e))?;
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
            .map_err(|e| sqlite_error(&format!("bulk load: drop index {name}"), e))?;
    }
    Ok(indexes)
}

impl HistoryStore for SqliteStore {
    fn append(&self, notifications: &[Notification]) -> Result<AppendOutcome> {
        check_representable(notifications)?;
        let mut conn = self.write();
        let ctx = "append";
        let tx = conn.transaction().map_err(|e| sqlite_error(ctx, e))?;
        {
            let mut select = tx
                .prepare_cached(&format!(
                    "SELECT e.id, {EPISODE_COLUMNS} FROM episodes e \
                     WHERE e.fingerprint = ?1 AND e.starts_at = ?2"
                ))
                .map_err(|e| sqlite_error("append: select episode", e))?;
            let mut update = tx
                .prepare_cached(
                    "UPDATE episodes SET ends_at = ?2, first_seen = ?3, last_seen = ?4, \
                     annotations = ?5, receiver = ?6, generator_url = ?7, end_reason = ?8 \
                     WHERE id = ?1",
                )
                .map_err(|e| sqlite_error("append: update episode", e))?;
            let mut insert = tx
                .prepare_cached(INSERT_EPISODE)
                .map_err(|e| sqlite_error("append: insert episode", e))?;
            // A new start ends the older episodes of its fingerprint that are open, or
            // superseded by a later start; a new open episode ends at the next start.
            let mut next_start = tx
                .prepare_cached(
                    "SELECT min(starts_at) FROM episodes WHERE fingerprint = ?1 AND starts_at > ?2",
                )
                .map_err(|e| sqlite_error("append: next start", e))?;
            let mut supersede = tx
                .prepare_cached(&format!(
                    "UPDATE episodes SET ends_at = ?2, end_reason = {END_SUPERSEDED} \
                     WHERE fingerprint = ?1 AND starts_at < ?2 AND (ends_at = {OPEN_END} \
                     OR (end_reason = {END_SUPERSEDED} AND ends_at > ?2))"
                ))
                .map_err(|e| sqlite_error("append: supersede", e))?;
            let mut insert_label = tx
                .prepare_cached(INSERT_LABEL)
                .map_err(|e| sqlite_error("append: insert label", e))?;
            for n in notifications {
                let fp = fp_to_sql(n.alert.fingerprint);
                let starts = to_nanos(n.alert.starts_at, "startsAt")?;
                let existing = select
                    .query_row(params![fp, starts], |row| {
                        Ok((row.get::<_, i64>(0)?, raw_episode_at(row, 1)?))
                    })
                    .optional()
                    .map_err(|e| sqlite_error("append: select episode", e))?;
                match existing {
                    Some((id, raw)) => {
                        // The labels are the alert's own (same fingerprint).
                        let mut episode = raw.into_episode(n.alert.labels.clone())?;
                        episode.merge(n);
                        update
                            .execute(params![
                                id,
                                episode
                                    .ends_at
                                    .map_or(Ok(OPEN_END), |t| to_nanos(t, "endsAt"))?,
                                to_nanos(episode.first_seen, "firstSeen")?,
                                to_nanos(episode.last_seen, "lastSeen")?,
                                encode_labels(&episode.annotations),
                                episode.receiver,
                                episode.generator_url,
                                end_reason_to_sql(&episode),
                            ])
                            .map_err(|e| sqlite_error("append: update episode", e))?;
                    }
                    None => {
                        let mut episode = Episode::from_notification(n);
                        let next: Option<i64> = next_start
                            .query_row(params![fp, starts], |row| row.get(0))
                            .map_err(|e| sqlite_error("append: next start", e))?;
                        if let Some(next) = next {
                            episode.infer_end(from_nanos(next), EndReason::Superseded);
                        }
                        supersede
                            .execute(params![fp, starts])
                            .map_err(|e| sqlite_error("append: supersede", e))?;
                        insert_episode(
                            &tx,
                            &mut insert,
                            Some(&mut insert_label),
                            &episode,
                            "append",
                        )?;
                    }
                }
            }
        }
        if let Some(newest) = notifications.iter().map(|n| n.received_at).max() {
            tx.execute(NEWEST_SEEN, [to_nanos(newest, "receivedAt")?.to_string()])
                .map_err(|e| sqlite_error("append: newest", e))?;
        }
        tx.commit().map_err(|e| sqlite_error("append: commit", e))?;
        Ok(AppendOutcome {
            notifications: notifications.len(),
        })
    }

    fn query(&self, query: &EpisodeQuery) -> Result<EpisodePage> {
        query.validate()?;
        self.collect_page(query)
    }

    fn episodes_of(&self, fingerprint: Fingerprint, range: TimeSpan) -> Result<Vec<Episode>> {
        let t1 = to_nanos(range.start, "range.start")?;
        let t2 = to_nanos(range.end, "range.end")?;
        let conn = self.read();
        let ctx = "episodes of a fingerprint";
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {EPISODE_COLUMNS} FROM episodes e WHERE e.fingerprint = ?1 \
                 AND e.starts_at < ?3 AND e.ends_at > ?2 ORDER BY e.starts_at"
            ))
            .map_err(|e| sqlite_error(ctx, e))?;
        let raws = stmt
            .query_map(params![fp_to_sql(fingerprint), t1, t2], raw_episode)
            .map_err(|e| sqlite_error(ctx, e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| sqlite_error(ctx, e))?;
        raws.into_iter().map(RawEpisode::decode).collect()
    }

    fn record_heartbeat(&self, heartbeat: &Heartbeat) -> Result<()> {
        let conn = self.write();
        let result = match *heartbeat {
            Heartbeat::Watchdog { at } => record_watchdog(&conn, to_nanos(at, "heartbeat.at")?),
            Heartbeat::ServerAlive { started_at, at } => conn.execute(
                "INSERT INTO server_runs(started_at, last_alive) VALUES(?1, ?2) \
                 ON CONFLICT(started_at) DO UPDATE SET last_alive = max(last_alive, excluded.last_alive)",
                [to_nanos(started_at, "heartbeat.startedAt")?, to_nanos(at, "heartbeat.at")?],
            ),
        };
        result
            .map(drop)
            .map_err(|e| sqlite_error("record heartbeat", e))
    }

    fn heartbeats(&self, range: TimeSpan, max_gap: Duration) -> Result<HeartbeatLog> {
        let t1 = to_nanos(range.start, "range.start")?;
        let t2 = to_nanos(range.end, "range.end")?;
        let gap = i64::try_from(max_gap.as_millis())
            .ok()
            .and_then(|ms| ms.checked_mul(1_000_000))
            .unwrap_or(i64::MAX);
        let conn = self.read();
        let ctx = "read heartbeats";
        let mut stmt = conn
            .prepare_cached(
                "SELECT prev_at, at FROM heartbeats INDEXED BY heartbeats_by_gap \
                 WHERE prev_at IS NOT NULL AND at - prev_at > ?1 AND at > ?2 AND prev_at < ?3 \
                 ORDER BY at",
            )
            .map_err(|e| sqlite_error(ctx, e))?;
        let gaps = stmt
            .query_map([gap, t1, t2], |r| {
                Ok(HeartbeatGap {
                    after: from_nanos(r.get(0)?),
                    before: from_nanos(r.get(1)?),
                })
            })
            .map_err(|e| sqlite_error(ctx, e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| sqlite_error(ctx, e))?;
        let newest: Option<i64> = conn
            .query_row("SELECT max(at) FROM heartbeats", [], |r| r.get(0))
            .map_err(|e| sqlite_error(ctx, e))?;

        let mut stmt = conn
            .prepare_cached("SELECT started_at, last_alive FROM server_runs ORDER BY started_at")
            .map_err(|e| sqlite_error(ctx, e))?;
        let all: Vec<ServerRun> = stmt
            .query_map([], |r| {
                Ok(ServerRun {
                    started_at: from_nanos(r.get(0)?),
                    last_alive: from_nanos(r.get(1)?),
                })
            })
            .map_err(|e| sqlite_error(ctx, e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| sqlite_error(ctx, e))?;
        Ok(HeartbeatLog {
            gaps,
            newest: newest.map(from_nanos),
            runs: runs_around(&all, range),
        })
    }

    fn purge(&self, before: Timestamp) -> Result<PurgeOutcome> {
        let cutoff = to_nanos(before, "before")?;
        let mut conn = self.write();
        let ctx = "purge";
        let tx = conn.transaction().map_err(|e| sqlite_error(ctx, e))?;
        let doomed: Vec<(i64, String)> = {
            // Through the range index: episodes that ended (up to an hour of clock skew
            // after the cutoff) or are still open, and were last heard of before it.
            let mut stmt = tx
                .prepare(
                    "SELECT id, labels FROM episodes INDEXED BY episodes_by_end \
                     WHERE ends_at < ?1 AND last_seen < ?2 \
                     UNION ALL \
                     SELECT id, labels FROM episodes INDEXED BY episodes_by_end \
                     WHERE ends_at = ?3 AND last_seen < ?2",
                )
                .map_err(|e| sqlite_error("purge: select", e))?;
            stmt.query_map(
                params![cutoff.saturating_add(PURGE_SKEW_NS), cutoff, OPEN_END],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| sqlite_error("purge: select", e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| sqlite_error("purge: select", e))?
        };
        {
            let mut delete_label = tx
                .prepare(
                    "DELETE FROM episode_labels WHERE name = ?1 AND value = ?2 AND episode_id = ?3",
                )
                .map_err(|e| sqlite_error("purge: labels", e))?;
            let mut delete_episode = tx
                .prepare("DELETE FROM episodes WHERE id = ?1")
                .map_err(|e| sqlite_error("purge: episodes", e))?;
            for (id, labels) in &doomed {
                let labels = decode_labels(labels, || format!("episodes[id {id}].labels"))?;
                for (name, value) in labels.iter().filter(|(n, _)| *n != ALERTNAME) {
                    delete_label
                        .execute(params![name, value, id])
                        .map_err(|e| sqlite_error("purge: labels", e))?;
                }
                delete_episode
                    .execute([id])
                    .map_err(|e| sqlite_error("purge: episodes", e))?;
            }
        }
        tx.execute("DELETE FROM heartbeats WHERE at < ?1", [cutoff])
            .map_err(|e| sqlite_error("purge: heartbeats", e))?;
        // Before the oldest heartbeat kept nothing is known, not even a gap.
        tx.execute(
            "UPDATE heartbeats SET prev_at = NULL WHERE prev_at < ?1",
            [cutoff],
        )
        .map_err(|e| sqlite_error("purge: heartbeats", e))?;
        tx.execute("DELETE FROM server_runs WHERE last_alive < ?1", [cutoff])
            .map_err(|e| sqlite_error("purge: server runs", e))?;
        tx.commit().map_err(|e| sqlite_error("purge: commit", e))?;
        Ok(PurgeOutcome {
            removed: doomed.len() as u64,
        })
    }

    fn stats(&self) -> Result<StoreStats> {
        let conn = self.read();
        let ctx = "stats";
        let (episodes, open, newest): (i64, i64, Option<String>) = conn
            .query_row(
                "SELECT count(*), (SELECT count(*) FROM episodes WHERE ends_at = ?1), \
                 (SELECT value FROM settings WHERE key = 'newest_seen') FROM episodes",
                [OPEN_END],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| sqlite_error(ctx, e))?;
        let newest = newest.and_then(|n| n.parse::<i64>().ok());
        let heartbeats: i64 = conn
            .query_row("SELECT count(*) FROM heartbeats", [], |r| r.get(0))
            .map_err(|e| sqlite_error(ctx, e))?;
        let bytes: i64 = conn
            .query_row(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                [],
                |r| r.get(0),
            )
            .map_err(|e| sqlite_error(ctx, e))?;
        Ok(StoreStats {
            episodes: episodes.unsigned_abs(),
            open_episodes: open.unsigned_abs(),
            heartbeats: heartbeats.unsigned_abs(),
            newest_seen: newest.map(from_nanos),
            bytes: Some(bytes.unsigned_abs()),
        })
    }
}

/// Records a Watchdog heartbeat at `at` (nanoseconds), keeping each row's `prev_at`
/// the heartbeat before it, also when heartbeats arrive out of order.
fn record_watchdog(conn: &Connection, at: i64) -> rusqlite::Result<usize> {
    let prev: Option<i64> =
        conn.query_row("SELECT max(at) FROM heartbeats WHERE at < ?1", [at], |r| {
            r.get(0)
        })?;
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO heartbeats(at, prev_at) VALUES(?1, ?2)",
        params![at, prev],
    )?;
    if inserted > 0 {
        conn.execute(
            "UPDATE heartbeats SET prev_at = ?1 WHERE at = (SELECT min(at) FROM heartbeats WHERE at > ?1)",
            [at],
        )?;
    }
    Ok(inserted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alert_core::{Alert, AlertStatus, LabelSet, MatchType, Matcher, Matchers};

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    fn raw(path: &Path) -> Connection {
        Connection::open(path).expect("open raw connection")
    }

    #[test]
    fn migration_from_v1_keeps_episodes_heartbeats_and_retention() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("history.db");
        {
            let mut conn = raw(&path);
            migrate_to(&mut conn, 1, "history.db").expect("create v1");
            assert_eq!(schema::version(&conn).expect("version"), 1);
            let labels = r#"{"alertname":"DiskFull","instance":"db-1","severity":"critical"}"#;
            let fp = LabelSet::from_pairs([
                ("alertname", "DiskFull"),
                ("instance", "db-1"),
                ("severity", "critical"),
            ])
            .expect("valid")
            .fingerprint();
            let ns = |s: &str| to_nanos(t(s), "test").expect("fits");
            conn.execute(
                "INSERT INTO episodes VALUES(?1, ?2, NULL, ?3, ?4, ?5, '{\"summary\":\"full\"}', 'history', 'http://prom')",
                params![fp_to_sql(fp), ns("2024-05-01T10:00:00Z"), ns("2024-05-01T10:00:30Z"), ns("2024-05-01T11:00:30Z"), labels],
            )
            .expect("insert open v1 episode");
            conn.execute(
                "INSERT INTO episodes VALUES(?1, ?2, ?3, ?2, ?3, '{\"alertname\":\"Other\"}', '{}', 'history', '')",
                params![fp_to_sql(Fingerprint(7)), ns("2024-05-01T09:00:00Z"), ns("2024-05-01T09:30:00Z")],
            )
            .expect("insert closed v1 episode");
            for beat in [
                "2024-05-01T10:58:00Z",
                "2024-05-01T10:59:00Z",
                "2024-05-01T11:00:00Z",
                "2024-05-01T10:00:00Z",
            ] {
                conn.execute("INSERT INTO heartbeats VALUES(?1)", [ns(beat)])
                    .expect("insert heartbeat");
            }
            conn.execute("INSERT INTO settings VALUES('retention', '14d')", [])
                .expect("insert retention");
        }
        let store = SqliteStore::open(&path).expect("open migrates");
        assert_eq!(store.schema_version().expect("version"), CURRENT_VERSION);
        assert_eq!(
            store.retention().expect("retention"),
            Some("14d".parse().expect("valid"))
        );
        let range =
            TimeSpan::new(t("2024-05-01T00:00:00Z"), t("2024-05-02T00:00:00Z")).expect("valid");
        let mut q = EpisodeQuery::new(range);
        let all = store.query(&q).expect("query").episodes;
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[0].alertname(), all[0].ends_at),
            ("Other", Some(t("2024-05-01T09:30:00Z")))
        );
        assert_eq!((all[1].alertname(), all[1].ends_at), ("DiskFull", None));
        assert_eq!(all[1].annotations.get("summary"), Some("full"));
        // The new indexes were filled from the old rows.
        q.selectors = Matchers::new(vec![
            Matcher::new(MatchType::Equal, "instance", "db-1").expect("valid"),
        ])
        .into();
        assert_eq!(store.query(&q).expect("query").episodes.len(), 1);
        q.selectors = Matchers::new(vec![
            Matcher::new(MatchType::Equal, "alertname", "DiskFull").expect("valid"),
        ])
        .into();
        assert_eq!(store.query(&q).expect("query").episodes.len(), 1);
        let log = store
            .heartbeats(range, "90s".parse().expect("valid"))
            .expect("heartbeats");
        assert_eq!(log.newest, Some(t("2024-05-01T11:00:00Z")));
        assert_eq!(
            log.gaps,
            [HeartbeatGap {
                after: t("2024-05-01T10:00:00Z"),
                before: t("2024-05-01T10:58:00Z")
            }]
        );
        // And the migrated store keeps merging: the old open episode resolves.
        let labels = all[1].labels.clone();
        let mut alert = Alert::firing(labels, t("2024-05-01T10:00:00Z"));
        alert.status = AlertStatus::Resolved;
        alert.ends_at = Some(t("2024-05-01T12:00:00Z"));
        store
            .append(&[Notification {
                alert,
                receiver: "history".into(),
                received_at: t("2024-05-01T12:00:10Z"),
            }])
            .expect("append");
        let e = store
            .episodes_of(all[1].fingerprint, range)
            .expect("episodes_of");
        assert_eq!(e[0].ends_at, Some(t("2024-05-01T12:00:00Z")));
        // Reopening an up-to-date file is a no-op.
        drop(store);
        let again = SqliteStore::open(&path).expect("reopen");
        assert_eq!(again.stats().expect("stats").episodes, 2);
    }

    /// Stores written before v3 kept an episode open for ever when Alertmanager replaced
    /// its alert; the migration ends it at the newer start.
    #[test]
    fn migration_to_v3_ends_superseded_episodes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("history.db");
        {
            let mut conn = raw(&path);
            migrate_to(&mut conn, 2, "history.db").expect("create v2");
            let ns = |s: &str| to_nanos(t(s), "test").expect("fits");
            let rows = [
                // fingerprint 1: open at 10:00 and 10:05 (the flap), open at 10:20.
                (1u64, "2024-05-01T10:00:00Z", None),
                (1, "2024-05-01T10:05:00Z", None),
                (1, "2024-05-01T10:20:00Z", None),
                // fingerprint 2: resolved, then open.
                (2, "2024-05-01T10:00:00Z", Some("2024-05-01T10:01:00Z")),
                (2, "2024-05-01T10:30:00Z", None),
            ];
            for (fp, starts, ends) in rows {
                conn.execute(
                    "INSERT INTO episodes(fingerprint, starts_at, ends_at, first_seen, last_seen, \
                     alertname, labels, annotations, receiver, generator_url) \
                     VALUES(?1, ?2, ?3, ?2, ?2, 'A', '{\"alertname\":\"A\"}', '{}', 'h', '')",
                    params![
                        fp_to_sql(Fingerprint(fp)),
                        ns(starts),
                        ends.map_or(OPEN_END, ns)
                    ],
                )
                .expect("insert v2 episode");
            }
        }
        let store = SqliteStore::open(&path).expect("open migrates");
        let range =
            TimeSpan::new(t("2024-05-01T00:00:00Z"), t("2024-05-02T00:00:00Z")).expect("valid");
        let mut got: Vec<_> = store
            .query(&EpisodeQuery::new(range))
            .expect("query")
            .episodes
            .into_iter()
            .map(|e| (e.fingerprint.0, e.starts_at, e.ends_at, e.end_reason))
            .collect();
        got.sort();
        let some = |s: &str| Some(t(s));
        assert_eq!(
            got,
            [
                (
                    1,
                    t("2024-05-01T10:00:00Z"),
                    some("2024-05-01T10:05:00Z"),
                    Some(EndReason::Superseded)
                ),
                (
                    1,
                    t("2024-05-01T10:05:00Z"),
                    some("2024-05-01T10:20:00Z"),
                    Some(EndReason::Superseded)
                ),
                (1, t("2024-05-01T10:20:00Z"), None, None),
                (
                    2,
                    t("2024-05-01T10:00:00Z"),
                    some("2024-05-01T10:01:00Z"),
                    Some(EndReason::Resolved)
                ),
                (2, t("2024-05-01T10:30:00Z"), None, None),
            ]
        );
    }

    #[test]
    fn a_newer_schema_is_refused_and_retention_round_trips() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("history.db");
        let store = SqliteStore::open(&path).expect("open");
        assert_eq!(store.retention().expect("retention"), None);
        store
            .set_retention(Some("30d".parse().expect("valid")))
            .expect("set");
        drop(store);
        let store = SqliteStore::open(&path).expect("reopen");
        assert_eq!(
            store.retention().expect("retention"),
            Some("30d".parse().expect("valid"))
        );
        store.set_retention(None).expect("clear");
        assert_eq!(store.retention().expect("retention"), None);
        drop(store);
        raw(&path)
            .pragma_update(None, "user_version", 99)
            .expect("bump version");
        let err = SqliteStore::open(&path).err().expect("refused").to_string();
        assert!(
            err.contains(&format!(
                "schema version 99 is newer than this release knows ({CURRENT_VERSION})"
            )),
            "{err}"
        );
    }

    /// A bulk load into the empty store writes the label rows and the episode indexes
    /// after the episodes: the label rows are those a load into a store that has
    /// episodes writes one by one (escaped values included), the indexes the
    /// migrations', and the writer's settings are back after it; a key twice fails the
    /// load and leaves the store empty, indexes and all.
    #[test]
    fn a_bulk_load_into_the_empty_store_writes_labels_and_indexes_after() {
        let dir = tempfile::tempdir().expect("temp dir");
        let schema = |store: &SqliteStore| -> Vec<(String, String)> {
            let conn = store.read();
            let mut stmt = conn
                .prepare("SELECT name, coalesce(sql, '') FROM sqlite_master ORDER BY name")
                .expect("schema");
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .expect("schema")
                .collect::<rusqlite::Result<_>>()
                .expect("rows")
        };
        let label_rows = |store: &SqliteStore| -> Vec<(String, String, i64)> {
            let conn = store.read();
            let mut stmt = conn
                .prepare("SELECT name, value, episode_id FROM episode_labels ORDER BY 1, 2, 3")
                .expect("labels");
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .expect("labels")
                .collect::<rusqlite::Result<_>>()
                .expect("rows")
        };
        let settings = |store: &SqliteStore| -> (i64, i64) {
            let conn = store.write();
            let get = |p: &str| conn.query_row(&format!("PRAGMA {p}"), [], |r| r.get(0));
            (
                get("cache_size").expect("cache"),
                get("temp_store").expect("temp"),
            )
        };
        let start = t("2024-05-01T10:00:00Z");
        let episodes: Vec<Episode> = (0..60)
            .map(|i| {
                let labels = LabelSet::from_pairs([
                    ("alertname", format!("A{}", i % 3)),
                    ("instance", format!("node-{}", i % 7)),
                    ("path", format!("/var/\"quoted\" é/{i}")),
                    ("seq", i.to_string()),
                ])
                .expect("valid");
                let at = Timestamp::from_unix(start.unix_seconds() + i, 0).expect("valid");
                let alert = Alert::firing(labels, at);
                Episode::from_notification(&Notification {
                    alert,
                    receiver: "history".into(),
                    received_at: at,
                })
            })
            .collect();
        let loaded = SqliteStore::open(dir.path().join("empty.db")).expect("open");
        let migrated = schema(&loaded);
        assert_eq!(
            migrated
                .iter()
                .filter(|(n, _)| n.starts_with("episodes_by"))
                .count(),
            3,
            "{migrated:#?}"
        );
        let before = settings(&loaded);
        assert_eq!(loaded.bulk_load(episodes.clone()).expect("load"), 60);
        assert_eq!(schema(&loaded), migrated);
        assert_eq!(settings(&loaded), before);
        let one_by_one = SqliteStore::open(dir.path().join("one-by-one.db")).expect("open");
        one_by_one.bulk_load(episodes[..1].to_vec()).expect("first");
        one_by_one
            .bulk_load(episodes[1..].to_vec())
            .expect("the rest, kept");
        let rows = label_rows(&loaded);
        assert_eq!(rows.len(), 60 * 3);
        assert!(rows.contains(&("path".into(), "/var/\"quoted\" é/7".into(), 8)));
        assert_eq!(rows, label_rows(&one_by_one));
        let mut q =
            EpisodeQuery::new(TimeSpan::new(start, t("2024-05-02T00:00:00Z")).expect("range"));
        q.selectors = Matchers::new(vec![
            Matcher::new(MatchType::Equal, "instance", "node-3").expect("valid"),
        ])
        .into();
        let found = loaded.query(&q).expect("query").episodes;
        assert_eq!(found.len(), 9);
        assert_eq!(found, one_by_one.query(&q).expect("query").episodes);

        let failed = SqliteStore::open(dir.path().join("failed.db")).expect("open");
        let mut twice = episodes.clone();
        twice.push(episodes[5].clone());
        let err = failed
            .bulk_load(twice)
            .expect_err("a key twice")
            .to_string();
        assert!(err.contains("bulk load") && err.contains("UNIQUE"), "{err}");
        assert_eq!(failed.stats().expect("stats").episodes, 0);
        assert_eq!(schema(&failed), migrated);
        assert!(label_rows(&failed).is_empty());
        assert_eq!(settings(&failed), before);
    }

    #[test]
    fn wal_mode_and_indexed_query_plans() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path().join("history.db")).expect("open");
        let conn = store.read();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        let plan = |sql: &str| -> String {
            let mut stmt = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("explain");
            let rows: Vec<String> = stmt
                .query_map([], |r| r.get::<_, String>(3))
                .expect("plan")
                .collect::<rusqlite::Result<_>>()
                .expect("rows");
            rows.join("\n")
        };
        // The query's own SQL: the episodes carried into the range found by end, those
        // that started within it read by start in page order, without a sort.
        let mut q = EpisodeQuery::new(TimeSpan::new(from_nanos(0), from_nanos(10)).expect("range"));
        q.selectors = crate::Selectors::parse([r#"{alertname="X"}"#]).expect("valid");
        let part_plan = |part: RangePart| -> String {
            let bounds = PageBounds {
                t1: 0,
                t2: 10,
                cursor: None,
            };
            let (sql, args) = page_sql(&q, part, &bounds);
            let mut stmt = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("explain");
            let rows: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
                .expect("plan")
                .collect::<rusqlite::Result<_>>()
                .expect("rows");
            rows.join("\n")
        };
        let carried = part_plan(RangePart::CarriedIn);
        assert!(
            carried.contains("episodes_by_alertname_end (alertname=? AND ends_at>?)"),
            "{carried}"
        );
        let within = part_plan(RangePart::StartedWithin);
        assert!(
            within.contains(
                "episodes_by_alertname_start (alertname=? AND starts_at>? AND starts_at<?)"
            ),
            "{within}"
        );
        assert!(!within.contains("TEMP B-TREE"), "{within}");
        let by_label = plan(
            "SELECT e.id FROM episode_labels l CROSS JOIN episodes e ON e.id = l.episode_id \
             WHERE l.name = 'instance' AND l.value = 'x' AND e.ends_at > 0 AND e.starts_at < 10",
        );
        assert!(
            by_label.contains("SEARCH l USING PRIMARY KEY (name=? AND value=?)"),
            "{by_label}"
        );
        let by_end = plan("SELECT id FROM episodes WHERE ends_at < 5 AND last_seen < 4");
        assert!(by_end.contains("episodes_by_end"), "{by_end}");
        let gaps = plan(
            "SELECT prev_at, at FROM heartbeats WHERE prev_at IS NOT NULL AND at - prev_at > 5 \
             AND at > 0 AND prev_at < 10",
        );
        assert!(gaps.contains("heartbeats_by_gap"), "{gaps}");
    }

    #[test]
    fn heartbeats_out_of_order_keep_their_gaps() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path().join("history.db")).expect("open");
        let s = |x: i64| Timestamp::from_unix(1_714_521_600 + x, 0).expect("valid");
        let all = [s(0), s(200), s(100), s(400), s(100), s(390)];
        for at in all {
            store
                .record_heartbeat(&Heartbeat::Watchdog { at })
                .expect("heartbeat");
        }
        let range = TimeSpan::new(s(-10), s(1000)).expect("valid");
        let gap: Duration = "50s".parse().expect("valid");
        let got = store.heartbeats(range, gap).expect("heartbeats");
        assert_eq!(got, HeartbeatLog::from_beats(&all, &[], range, gap));
        assert_eq!(got.gaps.len(), 3, "{got:?}");
        assert_eq!(
            store.stats().expect("stats").heartbeats,
            5,
            "duplicates are one heartbeat"
        );
    }
}
