//! The SQLite schema and its versioned migrations.
//!
//! The version lives in `PRAGMA user_version`. Each migration takes the database from
//! version `n` to `n + 1` inside one transaction, keeping every episode, heartbeat and
//! setting (the retention period lives in `settings`). A file written by a newer release
//! is refused rather than guessed at.
//!
//! - **v1** (the first release): episodes keyed by `(fingerprint, startsAt)` with labels
//!   as JSON, Watchdog heartbeats, settings.
//! - **v2**: an integer id per episode; `ends_at` is never NULL (open episodes hold
//!   `i64::MAX`, so "overlaps `[t1, t2)`" is two range conditions); an `alertname`
//!   column; an `episode_labels` table (one row per label other than `alertname`, for
//!   indexed equality matchers); indexes for range and alertname queries (retention
//!   uses the range index: few indexes keep ingest fast); each Watchdog heartbeat keeps the time of the one before it, with an index
//!   on the gap, so outages are found without reading every heartbeat; server runs.
//! - **v3**: `end_reason` ([`END_OPEN`], [`END_RESOLVED`], [`END_SUPERSEDED`]); the
//!   migration ends every open episode that a newer episode of its fingerprint
//!   supersedes (stores written before kept those open for ever).

use rusqlite::Connection;

use crate::error::{Error, Result};

/// The schema version this release writes.
pub const CURRENT_VERSION: i64 = 4;

pub use crate::sql::{END_OPEN, END_RESOLVED, END_SUPERSEDED, OPEN_END};

/// The migrations, `MIGRATIONS[n]` taking version `n` to `n + 1`.
pub const MIGRATIONS: [&str; 4] = [
    // v0 -> v1
    r#"
    CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE episodes(
        fingerprint INTEGER NOT NULL,
        starts_at INTEGER NOT NULL,
        ends_at INTEGER,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        labels TEXT NOT NULL,
        annotations TEXT NOT NULL,
        receiver TEXT NOT NULL,
        generator_url TEXT NOT NULL,
        PRIMARY KEY(fingerprint, starts_at)
    );
    CREATE TABLE heartbeats(at INTEGER NOT NULL);
    "#,
    // v1 -> v2
    r#"
    CREATE TABLE episodes_v2(
        id INTEGER PRIMARY KEY,
        fingerprint INTEGER NOT NULL,
        starts_at INTEGER NOT NULL,
        ends_at INTEGER NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        alertname TEXT NOT NULL,
        labels TEXT NOT NULL,
        annotations TEXT NOT NULL,
        receiver TEXT NOT NULL,
        generator_url TEXT NOT NULL,
        UNIQUE(fingerprint, starts_at)
    );
    INSERT INTO episodes_v2(fingerprint, starts_at, ends_at, first_seen, last_seen, alertname,
                            labels, annotations, receiver, generator_url)
        SELECT fingerprint, starts_at, coalesce(ends_at, 9223372036854775807), first_seen,
               last_seen, coalesce(json_extract(labels, '$.alertname'), ''), labels,
               annotations, receiver, generator_url
        FROM episodes ORDER BY starts_at;
    DROP TABLE episodes;
    ALTER TABLE episodes_v2 RENAME TO episodes;
    CREATE INDEX episodes_by_alertname_end ON episodes(alertname, ends_at, starts_at);
    CREATE INDEX episodes_by_end ON episodes(ends_at, starts_at);
    CREATE TABLE episode_labels(
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        episode_id INTEGER NOT NULL,
        PRIMARY KEY(name, value, episode_id)
    ) WITHOUT ROWID;
    INSERT INTO episode_labels(name, value, episode_id)
        SELECT j.key, j.value, e.id FROM episodes e, json_each(e.labels) j
        WHERE j.key != 'alertname';
    INSERT INTO settings(key, value)
        SELECT 'newest_seen', CAST(max(last_seen) AS TEXT) FROM episodes
        HAVING max(last_seen) IS NOT NULL;
    CREATE TABLE heartbeats_v2(at INTEGER PRIMARY KEY, prev_at INTEGER);
    INSERT INTO heartbeats_v2(at, prev_at)
        SELECT at, lag(at) OVER (ORDER BY at) FROM (SELECT DISTINCT at FROM heartbeats);
    DROP TABLE heartbeats;
    ALTER TABLE heartbeats_v2 RENAME TO heartbeats;
    CREATE INDEX heartbeats_by_gap ON heartbeats(at - prev_at) WHERE prev_at IS NOT NULL;
    CREATE TABLE server_runs(started_at INTEGER PRIMARY KEY, last_alive INTEGER NOT NULL);
    "#,
    // v2 -> v3
    r#"
    ALTER TABLE episodes ADD COLUMN end_reason INTEGER NOT NULL DEFAULT 0;
    UPDATE episodes SET end_reason = 1 WHERE ends_at != 9223372036854775807;
    UPDATE episodes SET end_reason = 2, ends_at = (
        SELECT min(n.starts_at) FROM episodes n
        WHERE n.fingerprint = episodes.fingerprint AND n.starts_at > episodes.starts_at)
    WHERE ends_at = 9223372036854775807 AND EXISTS (
        SELECT 1 FROM episodes n
        WHERE n.fingerprint = episodes.fingerprint AND n.starts_at > episodes.starts_at);
    "#,
    // v3 -> v4: an index in page order, so that the episodes of an alert name that
    // started within a range are read in the order they are returned (a first page costs
    // a page); the (alertname, ends_at, starts_at) index still finds those carried in.
    r#"
    CREATE INDEX episodes_by_alertname_start ON episodes(alertname, starts_at, fingerprint);
    "#,
];

/// The schema version of `conn`'s database.
pub fn version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| sqlite_error("read schema version", e))
}

/// Migrates `conn` up to `target` (at most [`CURRENT_VERSION`]), one transaction per
/// step. `path` only names the file in errors.
pub fn migrate_to(conn: &mut Connection, target: i64, path: &str) -> Result<()> {
    let found = version(conn)?;
    if found > CURRENT_VERSION {
        return Err(Error::SchemaTooNew {
            path: path.to_owned(),
            found,
            supported: CURRENT_VERSION,
        });
    }
    for from in found..target.min(CURRENT_VERSION) {
        let context = format!("migrate schema v{from} to v{}", from + 1);
        let step = usize::try_from(from)
            .ok()
            .and_then(|i| MIGRATIONS.get(i))
            .ok_or_else(|| Error::Sqlite {
                context: context.clone(),
                reason: "no such migration".into(),
            })?;
        let tx = conn.transaction().map_err(|e| sqlite_error(&context, e))?;
        tx.execute_batch(step)
            .map_err(|e| sqlite_error(&context, e))?;
        tx.pragma_update(None, "user_version", from + 1)
            .map_err(|e| sqlite_error(&context, e))?;
        tx.commit().map_err(|e| sqlite_error(&context, e))?;
    }
    Ok(())
}

/// An [`Error::Sqlite`] saying what the store was doing.
pub fn sqlite_error(context: &str, e: rusqlite::Error) -> Error {
    Error::Sqlite {
        context: context.to_owned(),
        reason: e.to_string(),
    }
}
