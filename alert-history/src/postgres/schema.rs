//! The PostgreSQL schema and its versioned migrations.
//!
//! Applied versions are rows of `schema_migrations(version, applied_at)`. Each migration
//! takes the database from version `n` to `n + 1` inside one transaction that first takes
//! a transaction-scoped advisory lock, so replicas starting at once migrate one after the
//! other (the second finds the work done). A database written by a newer release is
//! refused rather than guessed at.
//!
//! - **v1**: what SQLite's v3 holds. Episodes keyed by `(fingerprint, starts_at)` with an
//!   identity id, instants as nanoseconds since 1970 (`ends_at` of an open episode is
//!   [`OPEN_END`](crate::sql::OPEN_END)), `end_reason`, an `alertname` column and an
//!   `episode_labels` table (one row per other label) for indexed equality matchers,
//!   indexes for range and alertname queries; Watchdog heartbeats with the time of the
//!   one before and an index on the gap; server runs; settings (retention, newest
//!   notification).

use postgres::Client;

use crate::error::{Error, Result};

/// The schema version this release writes.
pub const CURRENT_VERSION: i64 = 2;

/// The first key of every advisory lock this store takes in the two-key space (`aler`):
/// the one-key space is left to fingerprints.
pub(crate) const LOCK_SPACE: i32 = 0x616c_6572;
/// The second key of the migration lock.
pub(crate) const LOCK_MIGRATE: i32 = 1;
/// The second key of the heartbeat lock.
pub(crate) const LOCK_HEARTBEATS: i32 = 2;

/// The migrations, `MIGRATIONS[n]` taking version `n` to `n + 1`.
pub const MIGRATIONS: [&str; 2] = [
    // v0 -> v1
    r#"
    CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE episodes(
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        fingerprint BIGINT NOT NULL,
        starts_at BIGINT NOT NULL,
        ends_at BIGINT NOT NULL,
        first_seen BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        alertname TEXT NOT NULL,
        labels TEXT NOT NULL,
        annotations TEXT NOT NULL,
        receiver TEXT NOT NULL,
        generator_url TEXT NOT NULL,
        end_reason BIGINT NOT NULL DEFAULT 0,
        UNIQUE(fingerprint, starts_at)
    );
    CREATE INDEX episodes_by_alertname_end ON episodes(alertname, ends_at, starts_at);
    CREATE INDEX episodes_by_end ON episodes(ends_at, starts_at);
    CREATE TABLE episode_labels(
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        episode_id BIGINT NOT NULL,
        PRIMARY KEY(name, value, episode_id)
    );
    CREATE TABLE heartbeats(at BIGINT PRIMARY KEY, prev_at BIGINT);
    CREATE INDEX heartbeats_by_gap ON heartbeats((at - prev_at)) WHERE prev_at IS NOT NULL;
    CREATE TABLE server_runs(started_at BIGINT PRIMARY KEY, last_alive BIGINT NOT NULL);
    "#,
    // v1 -> v2: an index in page order (see the SQLite store's v4).
    r#"
    CREATE INDEX episodes_by_alertname_start ON episodes(alertname, starts_at, fingerprint);
    "#,
];

const CREATE_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations(\
     version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

/// The schema version of the database (0 when it has none).
pub fn version(client: &mut Client, database: &str) -> Result<i64> {
    let ctx = "read schema version";
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .and_then(|r| r.try_get(0))
        .map_err(|e| pg_error(database, ctx, e))?;
    if !exists {
        return Ok(0);
    }
    client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .and_then(|r| r.try_get(0))
        .map_err(|e| pg_error(database, ctx, e))
}

/// Migrates the database up to `target` (at most [`CURRENT_VERSION`]), one transaction
/// per step; refuses a database newer than [`CURRENT_VERSION`]. `database` names it in
/// errors.
pub fn migrate_to(client: &mut Client, target: i64, database: &str) -> Result<()> {
    loop {
        let mut tx = client
            .transaction()
            .map_err(|e| pg_error(database, "migrate: begin", e))?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&LOCK_SPACE, &LOCK_MIGRATE],
        )
        .map_err(|e| pg_error(database, "migrate: lock", e))?;
        // Without the notice "relation already exists, skipping" on every start.
        tx.batch_execute("SET LOCAL client_min_messages TO warning")
            .map_err(|e| pg_error(database, "migrate: begin", e))?;
        tx.batch_execute(CREATE_VERSION_TABLE)
            .map_err(|e| pg_error(database, "migrate: create schema_migrations", e))?;
        let found: i64 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )
            .and_then(|r| r.try_get(0))
            .map_err(|e| pg_error(database, "read schema version", e))?;
        if found > CURRENT_VERSION {
            return Err(Error::SchemaTooNew {
                path: database.to_owned(),
                found,
                supported: CURRENT_VERSION,
            });
        }
        if found >= target.min(CURRENT_VERSION) {
            return tx
                .commit()
                .map_err(|e| pg_error(database, "migrate: commit", e));
        }
        let context = format!("migrate schema v{found} to v{}", found + 1);
        let step = usize::try_from(found)
            .ok()
            .and_then(|i| MIGRATIONS.get(i))
            .ok_or_else(|| Error::Postgres {
                database: database.to_owned(),
                context: context.clone(),
                reason: "no such migration".into(),
            })?;
        tx.batch_execute(step)
            .map_err(|e| pg_error(database, &context, e))?;
        tx.execute(
            "INSERT INTO schema_migrations(version) VALUES($1)",
            &[&(found + 1)],
        )
        .map_err(|e| pg_error(database, &context, e))?;
        tx.commit().map_err(|e| pg_error(database, &context, e))?;
    }
}

/// An [`Error::Postgres`] saying what the store was doing, with the server's message,
/// detail and hint (never the connection string: URLs in the text are redacted).
pub fn pg_error(database: &str, context: &str, e: postgres::Error) -> Error {
    let reason = match e.as_db_error() {
        Some(db) => {
            let mut text = format!(
                "{}: {} (SQLSTATE {})",
                db.severity(),
                db.message(),
                db.code().code()
            );
            if let Some(detail) = db.detail() {
                text.push_str("; ");
                text.push_str(detail);
            }
            if let Some(hint) = db.hint() {
                text.push_str("; hint: ");
                text.push_str(hint);
            }
            text
        }
        None => e.to_string(),
    };
    Error::Postgres {
        database: database.to_owned(),
        context: context.to_owned(),
        reason: alert_core::redact::redact_urls(&reason),
    }
}
