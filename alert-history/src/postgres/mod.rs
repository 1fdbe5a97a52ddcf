//! The PostgreSQL store: one database that several servers (replicas) may share.
//!
//! Semantics are the SQLite store's (the conformance suite holds both to them); the
//! schema too (see [`schema`]): instants in nanoseconds, open episodes ending at
//! `i64::MAX`, "overlaps `[t1, t2)`" as `ends_at > t1 AND starts_at < t2`, an
//! `alertname` column and an `episode_labels` table for equality matchers (each
//! selector's ANDed, the selectors OR-ed), every selector then evaluated in Rust on the
//! candidates, read in page order in chunks (a portal), so regular expressions and `!=`
//! work as in Alertmanager. A query whose one selector names an alert name is read in
//! two parts ([`RangePart`]): the episodes carried into the range through the
//! `(alertname, ends_at, starts_at)` index, both bounds applied inside the index, then
//! those started within it through `(alertname, starts_at, fingerprint)` in page order,
//! with a `LIMIT` so that the planner picks the ordered scan that stops at a page
//! (without one it read and sorted every candidate: the first page of the 7-day
//! `alertname` query at 10,000,000 episodes took 40–62 ms, now 4.3 ms).
//!
//! **Replicas.** Every [`append`](HistoryStore::append) is one transaction that first
//! takes a transaction-scoped advisory lock per fingerprint it touches
//! (`pg_advisory_xact_lock(fingerprint)`, in ascending order, so two appends never wait
//! on each other in a cycle). Reading an episode, merging a notification into it,
//! superseding older episodes and inserting a new one therefore happen for one
//! fingerprint in one transaction at a time, whichever replica runs it: the same or
//! overlapping notifications appended by two replicas at once end as one episode each,
//! merged as [`merge_notifications`](crate::merge_notifications) merges them. The
//! episode row is also read `FOR UPDATE`, so a purge deleting it at that moment either
//! waits or is waited for. Heartbeats take one advisory lock of their own; migrations
//! another (see [`schema`]). A deadlock the server detects (a purge against an append)
//! is retried.
//!
//! **Batches.** An append is a fixed number of statements however many notifications
//! it holds (the steps are listed on `append_once`): the locks in one statement, the
//! batch's stored episodes read by key in one (`unnest` of arrays), the merge in Rust
//! ([`Episode::merge`], the superseding of [`end_superseded`](crate::end_superseded)),
//! then one multi-row update, one multi-row insert of episodes and one of their label
//! rows, one statement superseding older stored episodes.
//!
//! **Durability.** An append returns once its commit is durable: sessions run with
//! `synchronous_commit` at least `on` (a weaker server default is raised).
//!
//! **Connections.** One for writes and one for reads, each behind a mutex, so a read
//! never waits behind a long write; a connection the server closed is opened again on
//! next use. The client is blocking (it runs a runtime of its own): from async code,
//! call the store on a blocking thread (`tokio::task::spawn_blocking`), connecting
//! included; dropping it anywhere is fine.
//!
//! ```no_run
//! use alert_history::postgres::PostgresStore;
//! use alert_history::HistoryStore;
//!
//! let store = PostgresStore::connect("postgres://history:secret@db:5432/history")?;
//! println!("{} episodes", store.stats()?.episodes);
//! # Ok::<(), alert_history::Error>(())
//! ```

pub mod schema;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};

use alert_core::{Duration, Fingerprint, Timestamp};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::config::Host;
use postgres::types::{ToSql, Type};
use postgres::{Client, Config, NoTls, Row, Statement};

use crate::availability::{Heartbeat, HeartbeatGap, HeartbeatLog, ServerRun, runs_around};
use crate::episode::{EndReason, Episode, Notification};
use crate::error::{Error, Result};
use crate::range::TimeSpan;
use crate::sql::{
    ALERTNAME, END_SUPERSEDED, EPISODE_COLUMNS, OPEN_END, PURGE_SKEW_NS, PageBounds, Planner,
    RangePart, RawEpisode, admit, candidate_condition, decode_labels, encode_labels,
    end_reason_to_sql, episode_columns, fp_to_sql,
};
use crate::store::{
    AppendOutcome, EpisodePage, EpisodeQuery, HistoryStore, PurgeOutcome, StoreStats,
    check_representable, from_nanos, to_nanos,
};
use schema::{CURRENT_VERSION, LOCK_HEARTBEATS, LOCK_SPACE, migrate_to, pg_error};

/// How many rows a query reads at a time: from its portal, or (the fewest) with a
/// `LIMIT` when read in page order.
const QUERY_CHUNK: usize = 256;

/// How many statements a connection keeps prepared before it starts over.
const STATEMENT_CACHE: usize = 64;

/// How many times an append or purge is tried when the server picks it as the victim
/// of a deadlock.
const ATTEMPTS: usize = 3;

/// How long connecting may take, unless the URL says (`connect_timeout`).
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Alert history in a PostgreSQL database. See the module docs.
pub struct PostgresStore {
    config: Config,
    database: String,
    writer: Mutex<Option<Connection>>,
    reader: Mutex<Option<Connection>>,
}

/// One client and the statements prepared on it.
struct Connection {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Connection {
    /// `sql` prepared on this connection (once).
    fn prepare(&mut self, sql: &str, database: &str) -> Result<Statement> {
        cached(&mut self.statements, &mut self.client, sql, database)
    }
}

/// `host:port/name` of the database `config` names: never its password.
fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            };
            let port = config
                .get_ports()
                .get(i)
                .or_else(|| config.get_ports().first())
                .copied()
                .unwrap_or(5432);
            format!("{host}:{port}")
        })
        .collect();
    let hosts = if hosts.is_empty() {
        "localhost:5432".to_owned()
    } else {
        hosts.join(",")
    };
    let name = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("{hosts}/{name}")
}

/// Text the server can store: PostgreSQL's `text` holds no NUL, so the columns used only
/// to find candidates (`alertname`, `episode_labels`) keep U+FFFD in its place. Every
/// candidate is checked against the matchers in Rust, so the stand-in can only add
/// candidates, never lose one.
fn indexable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Whether the server chose this transaction to break a deadlock (40P01) or a
/// serialization conflict (40001): trying again is safe. The codes are read from the
/// reason [`pg_error`] writes.
fn retryable(e: &Error) -> bool {
    matches!(e, Error::Postgres { reason, .. }
        if reason.contains("(SQLSTATE 40P01)") || reason.contains("(SQLSTATE 40001)"))
}

/// Reads the columns of [`EPISODE_COLUMNS`] starting at column `at`.
fn raw_episode_at(row: &Row, at: usize) -> std::result::Result<RawEpisode, postgres::Error> {
    Ok(RawEpisode {
        fingerprint: row.try_get(at)?,
        starts_at: row.try_get(at + 1)?,
        ends_at: row.try_get(at + 2)?,
        first_seen: row.try_get(at + 3)?,
        last_seen: row.try_get(at + 4)?,
        labels: row.try_get(at + 5)?,
        annotations: row.try_get(at + 6)?,
        receiver: row.try_get(at + 7)?,
        generator_url: row.try_get(at + 8)?,
        end_reason: row.try_get(at + 9)?,
    })
}

/// Each key of the batch (arrays of fingerprints and starts): the next start of its
/// fingerprint already stored, and its stored episode, if any, locked (`id` and the
/// [`EPISODE_COLUMNS`] NULL when there is none). One statement: the lock is taken on the
/// rows the snapshot holds after the fingerprints' advisory locks.
const READ_KEYS: &str = "WITH stored AS MATERIALIZED (\
     SELECT e.id, e.fingerprint, e.starts_at, e.ends_at, e.first_seen, e.last_seen, \
     e.labels, e.annotations, e.receiver, e.generator_url, e.end_reason FROM episodes e \
     WHERE (e.fingerprint, e.starts_at) IN \
     (SELECT k.fp, k.s FROM unnest($1::bigint[], $2::bigint[]) AS k(fp, s)) \
     FOR UPDATE OF e) \
     SELECT k.fp, k.s, (SELECT min(x.starts_at) FROM episodes x \
     WHERE x.fingerprint = k.fp AND x.starts_at > k.s), \
     st.id, st.fingerprint, st.starts_at, st.ends_at, st.first_seen, st.last_seen, \
     st.labels, st.annotations, st.receiver, st.generator_url, st.end_reason \
     FROM unnest($1::bigint[], $2::bigint[]) AS k(fp, s) \
     LEFT JOIN stored st ON st.fingerprint = k.fp AND st.starts_at = k.s";
const LOCK_FINGERPRINTS: &str = "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS u(k)";
/// The newest notification's receive time, kept when newer (the bulk load's; an
/// append's is part of [`write_sql`]).
const NEWEST_SEEN: &str = "INSERT INTO settings(key, value) VALUES('newest_seen', $1) \
     ON CONFLICT(key) DO UPDATE SET value = excluded.value \
     WHERE CAST(excluded.value AS BIGINT) > CAST(settings.value AS BIGINT)";

/// Everything an append writes, in one statement (one round trip; its parts share one
/// snapshot, so none sees another's rows, and each row is written by one part only):
///
/// - `updated`: the merged stored episodes, one per element of `$1..$8` (id, ends,
///   first and last seen, annotations, receiver, generator URL, end reason);
/// - `inserted`: the new episodes, one per element of `$9..$19`;
/// - `labelled`: their label rows (`$20..$23`: fingerprint, start, name, value), joined
///   to the ids `inserted` returns by key;
/// - `superseded`: each new start (`$24`, `$25`: fingerprints and starts) ends the
///   older stored episodes of its fingerprint that are open, or superseded by a later
///   start, at the earliest new start after their own, as if the starts had come one by
///   one. The batch's own rows are not among them: the new ones are not in the snapshot,
///   and the updated ones (`$1`) already end where this would leave them;
/// - `newest`: the newest notification's receive time (`$26`).
fn write_sql() -> String {
    format!(
        "WITH updated AS (\
         UPDATE episodes e SET ends_at = u.ends_at, first_seen = u.first_seen, \
         last_seen = u.last_seen, annotations = u.annotations, receiver = u.receiver, \
         generator_url = u.generator_url, end_reason = u.end_reason \
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], \
         $6::text[], $7::text[], $8::bigint[]) \
         AS u(id, ends_at, first_seen, last_seen, annotations, receiver, generator_url, end_reason) \
         WHERE e.id = u.id RETURNING e.id), \
         inserted AS (\
         INSERT INTO episodes(fingerprint, starts_at, ends_at, first_seen, last_seen, \
         alertname, labels, annotations, receiver, generator_url, end_reason) \
         SELECT * FROM unnest($9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], \
         $13::bigint[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], \
         $19::bigint[]) RETURNING id, fingerprint, starts_at), \
         labelled AS (\
         INSERT INTO episode_labels(name, value, episode_id) \
         SELECT l.name, l.value, i.id \
         FROM unnest($20::bigint[], $21::bigint[], $22::text[], $23::text[]) AS l(fp, s, name, value) \
         JOIN inserted i ON i.fingerprint = l.fp AND i.starts_at = l.s \
         ON CONFLICT DO NOTHING RETURNING 1), \
         superseded AS (\
         UPDATE episodes e SET ends_at = n.next, end_reason = {END_SUPERSEDED} \
         FROM (SELECT o.id, min(k.s) AS next \
               FROM unnest($24::bigint[], $25::bigint[]) AS k(fp, s) \
               JOIN episodes o ON o.fingerprint = k.fp AND o.starts_at < k.s \
               WHERE (o.ends_at = {OPEN_END} OR o.end_reason = {END_SUPERSEDED}) \
               AND o.id <> ALL($1::bigint[]) \
               GROUP BY o.id) AS n \
         WHERE e.id = n.id AND (e.ends_at = {OPEN_END} \
         OR (e.end_reason = {END_SUPERSEDED} AND e.ends_at > n.next)) RETURNING 1), \
         newest AS (\
         INSERT INTO settings(key, value) SELECT 'newest_seen', $26::text \
         WHERE $26::text IS NOT NULL \
         ON CONFLICT(key) DO UPDATE SET value = excluded.value \
         WHERE CAST(excluded.value AS BIGINT) > CAST(settings.value AS BIGINT) RETURNING 1) \
         SELECT (SELECT count(*) FROM updated), (SELECT count(*) FROM inserted), \
         (SELECT count(*) FROM labelled), (SELECT count(*) FROM superseded), \
         (SELECT count(*) FROM newest)"
    )
}

/// The columns of an episode row as the append writes them, one array per column.
#[derive(Default)]
struct EpisodeColumns {
    ids: Vec<i64>,
    fingerprints: Vec<i64>,
    starts: Vec<i64>,
    ends: Vec<i64>,
    first_seen: Vec<i64>,
    last_seen: Vec<i64>,
    alertnames: Vec<String>,
    labels: Vec<String>,
    annotations: Vec<String>,
    receivers: Vec<String>,
    generator_urls: Vec<String>,
    end_reasons: Vec<i64>,
}

impl EpisodeColumns {
    /// Adds `episode` (`id`: its row, for an update; labels written only for an insert).
    fn push(&mut self, id: Option<i64>, episode: &Episode) -> Result<()> {
        if let Some(id) = id {
            self.ids.push(id);
        } else {
            self.alertnames
                .push(indexable(episode.alertname()).into_owned());
            self.labels.push(encode_labels(&episode.labels));
        }
        self.fingerprints.push(fp_to_sql(episode.fingerprint));
        self.starts.push(to_nanos(episode.starts_at, "startsAt")?);
        self.ends.push(
            episode
                .ends_at
                .map_or(Ok(OPEN_END), |t| to_nanos(t, "endsAt"))?,
        );
        self.first_seen
            .push(to_nanos(episode.first_seen, "firstSeen")?);
        self.last_seen
            .push(to_nanos(episode.last_seen, "lastSeen")?);
        self.annotations.push(encode_labels(&episode.annotations));
        self.receivers.push(episode.receiver.clone());
        self.generator_urls.push(episode.generator_url.clone());
        self.end_reasons.push(end_reason_to_sql(episode));
        Ok(())
    }
}

/// One episode of a batch: the stored row it was read from (`None`: new), merged with
/// the batch's notifications.
struct Merged {
    id: Option<i64>,
    episode: Episode,
}

impl PostgresStore {
    /// Connects to the database at `url` (a `postgres://` URL or a `key=value`
    /// connection string), migrating its schema to the current version.
    pub fn connect(url: &str) -> Result<PostgresStore> {
        let mut config = Config::from_str(url).map_err(|e| Error::Postgres {
            database: "(unparsed connection string)".into(),
            context: "read connection string".into(),
            reason: alert_core::redact::redact_urls(&e.to_string()),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("alert-history");
        }
        let database = describe(&config);
        let store = PostgresStore {
            config,
            database,
            writer: Mutex::new(None),
            reader: Mutex::new(None),
        };
        {
            let mut writer = store.writer()?;
            let conn = writer.as_mut().ok_or_else(|| store.not_connected())?;
            migrate_to(&mut conn.client, CURRENT_VERSION, &store.database)?;
        }
        Ok(store)
    }

    /// The database, as `host:port/name` (what errors name it by).
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The schema version of the database (after connecting:
    /// [`schema::CURRENT_VERSION`]).
    pub fn schema_version(&self) -> Result<i64> {
        let mut reader = self.reader()?;
        let conn = reader.as_mut().ok_or_else(|| self.not_connected())?;
        schema::version(&mut conn.client, &self.database)
    }

    /// The retention period kept in the database, if one was set.
    pub fn retention(&self) -> Result<Option<Duration>> {
        let mut reader = self.reader()?;
        let conn = reader.as_mut().ok_or_else(|| self.not_connected())?;
        let text: Option<String> = conn
            .client
            .query_opt("SELECT value FROM settings WHERE key = 'retention'", &[])
            .and_then(|r| r.map(|r| r.try_get(0)).transpose())
            .map_err(|e| self.error("read retention", e))?;
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
        let mut writer = self.writer()?;
        let conn = writer.as_mut().ok_or_else(|| self.not_connected())?;
        let result = match retention {
            Some(d) => conn.client.execute(
                "INSERT INTO settings(key, value) VALUES('retention', $1) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                &[&d.to_string()],
            ),
            None => conn
                .client
                .execute("DELETE FROM settings WHERE key = 'retention'", &[]),
        };
        result
            .map(drop)
            .map_err(|e| self.error("write retention", e))
    }

    /// Writes `episodes` as they are, in one transaction of binary `COPY`s: for loading
    /// a data set (a benchmark's, or one exported from another store). Nothing is
    /// merged or superseded, unlike [`append`](HistoryStore::append): each episode must
    /// be whole and its key `(fingerprint, startsAt)` new (a key already stored fails
    /// the load, and nothing is written). The table is locked against appends for the
    /// load (`EXCLUSIVE`; reads go on), ids are taken from the table's identity past
    /// every id handed out, and the newest `last_seen` becomes the store's newest
    /// notification. Into an empty store, the indexes (but the ids') are dropped and
    /// built again once the rows are in, each by one sort, under an `ACCESS EXCLUSIVE`
    /// lock: reads wait for such a load. Run `ANALYZE` (or wait for autovacuum) before
    /// timing queries.
    /// Returns how many episodes were written.
    pub fn bulk_load(&self, episodes: impl IntoIterator<Item = Episode>) -> Result<u64> {
        const CHUNK: usize = 50_000;
        let ctx = "bulk load";
        let mut writer = self.writer()?;
        let conn = writer.as_mut().ok_or_else(|| self.not_connected())?;
        let mut tx = conn.client.transaction().map_err(|e| self.error(ctx, e))?;
        tx.batch_execute("LOCK TABLE episodes IN EXCLUSIVE MODE")
            .map_err(|e| self.error("bulk load: lock episodes", e))?;
        let empty: bool = tx
            .query_one("SELECT NOT EXISTS(SELECT 1 FROM episodes)", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| self.error("bulk load: count", e))?;
        // Into an empty store, the indexes (but the ids') are built once the rows are in:
        // one sort each, instead of a B-tree insertion a row. Reads wait for the load.
        let deferred = if empty {
            self.drop_indexes(&mut tx)?
        } else {
            Vec::new()
        };
        let first: i64 = tx
            .query_one(
                "SELECT nextval(pg_get_serial_sequence('episodes', 'id'))",
                &[],
            )
            .and_then(|r| r.try_get(0))
            .map_err(|e| self.error("bulk load: ids", e))?;
        let mut next_id = first;
        let mut newest: Option<i64> = None;
        let mut episodes = episodes.into_iter().peekable();
        while episodes.peek().is_some() {
            let chunk: Vec<Episode> = episodes.by_ref().take(CHUNK).collect();
            let ctx = "bulk load: copy episodes";
            let sink = tx
                .copy_in(
                    "COPY episodes(id, fingerprint, starts_at, ends_at, first_seen, last_seen, \
                     alertname, labels, annotations, receiver, generator_url, end_reason) \
                     FROM STDIN (FORMAT binary)",
                )
                .map_err(|e| self.error(ctx, e))?;
            let mut rows = BinaryCopyInWriter::new(
                sink,
                &[
                    Type::INT8,
                    Type::INT8,
                    Type::INT8,
                    Type::INT8,
                    Type::INT8,
                    Type::INT8,
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT,
                    Type::INT8,
                ],
            );
            for (i, e) in chunk.iter().enumerate() {
                let id = next_id + i as i64;
                let last_seen = to_nanos(e.last_seen, "lastSeen")?;
                newest = newest.max(Some(last_seen));
                rows.write(&[
                    &id,
                    &fp_to_sql(e.fingerprint),
                    &to_nanos(e.starts_at, "startsAt")?,
                    &e.ends_at.map_or(Ok(OPEN_END), |t| to_nanos(t, "endsAt"))?,
                    &to_nanos(e.first_seen, "firstSeen")?,
                    &last_seen,
                    &indexable(e.alertname()).as_ref(),
                    &encode_labels(&e.labels),
                    &encode_labels(&e.annotations),
                    &e.receiver,
                    &e.generator_url,
                    &end_reason_to_sql(e),
                ])
                .map_err(|err| self.error(ctx, err))?;
            }
            rows.finish().map_err(|e| self.error(ctx, e))?;
            let ctx = "bulk load: copy labels";
            let sink = tx
                .copy_in("COPY episode_labels(name, value, episode_id) FROM STDIN (FORMAT binary)")
                .map_err(|e| self.error(ctx, e))?;
            let mut rows = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT, Type::INT8]);
            for (i, e) in chunk.iter().enumerate() {
                let id = next_id + i as i64;
                for (name, value) in e.labels.iter().filter(|(n, _)| *n != ALERTNAME) {
                    rows.write(&[&indexable(name).as_ref(), &indexable(value).as_ref(), &id])
                        .map_err(|err| self.error(ctx, err))?;
                }
            }
            rows.finish().map_err(|e| self.error(ctx, e))?;
            next_id += chunk.len() as i64;
        }
        if !deferred.is_empty() {
            tx.batch_execute("SET LOCAL maintenance_work_mem = '512MB'")
                .map_err(|e| self.error("bulk load: indexes", e))?;
        }
        for (name, create) in deferred {
            tx.batch_execute(&create)
                .map_err(|e| self.error(&format!("bulk load: create index {name}"), e))?;
        }
        let loaded = next_id - first;
        if loaded > 0 {
            tx.execute(
                "SELECT setval(pg_get_serial_sequence('episodes', 'id'), $1)",
                &[&(next_id - 1)],
            )
            .map_err(|e| self.error("bulk load: ids", e))?;
        }
        if let Some(newest) = newest {
            tx.execute(NEWEST_SEEN, &[&newest.to_string()])
                .map_err(|e| self.error("bulk load: newest", e))?;
        }
        tx.commit()
            .map_err(|e| self.error("bulk load: commit", e))?;
        Ok(loaded.unsigned_abs())
    }

    /// Drops the indexes of `episodes` and `episode_labels` but the primary key of
    /// `episodes` (ids are appended in order: its index costs little), constraints' ones
    /// by dropping the constraint; returns each one's name and the statement that
    /// creates it again. Takes both tables' `ACCESS EXCLUSIVE` lock.
    fn drop_indexes(&self, tx: &mut postgres::Transaction<'_>) -> Result<Vec<(String, String)>> {
        let ctx = "bulk load: indexes";
        tx.batch_execute("LOCK TABLE episodes, episode_labels IN ACCESS EXCLUSIVE MODE")
            .map_err(|e| self.error(ctx, e))?;
        let rows = tx
            .query(
                "SELECT ix.relname::text, \
                   CASE WHEN c.oid IS NULL THEN 'DROP INDEX ' || quote_ident(ix.relname) \
                   ELSE 'ALTER TABLE ' || quote_ident(t.relname) || ' DROP CONSTRAINT ' \
                     || quote_ident(c.conname) END, \
                   CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.indexrelid) \
                   ELSE 'ALTER TABLE ' || quote_ident(t.relname) || ' ADD CONSTRAINT ' \
                     || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid) END \
                 FROM pg_index i \
                 JOIN pg_class ix ON ix.oid = i.indexrelid \
                 JOIN pg_class t ON t.oid = i.indrelid \
                 LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid \
                   AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u') \
                 WHERE i.indrelid IN ('episodes'::regclass, 'episode_labels'::regclass) \
                   AND NOT (i.indrelid = 'episodes'::regclass AND i.indisprimary) \
                 ORDER BY t.relname, ix.relname",
                &[],
            )
            .map_err(|e| self.error(ctx, e))?;
        let mut deferred = Vec::with_capacity(rows.len());
        for row in rows {
            let name: String = row.try_get(0).map_err(|e| self.error(ctx, e))?;
            let drop: String = row.try_get(1).map_err(|e| self.error(ctx, e))?;
            let create: String = row.try_get(2).map_err(|e| self.error(ctx, e))?;
            tx.batch_execute(&drop)
                .map_err(|e| self.error(&format!("bulk load: drop index {name}"), e))?;
            deferred.push((name, create));
        }
        Ok(deferred)
    }

    fn error(&self, context: &str, e: postgres::Error) -> Error {
        pg_error(&self.database, context, e)
    }

    fn not_connected(&self) -> Error {
        Error::Postgres {
            database: self.database.clone(),
            context: "connect".into(),
            reason: "no connection".into(),
        }
    }

    /// Opens a connection with `synchronous_commit` at least `on`.
    fn open(&self) -> Result<Connection> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|e| self.error("connect", e))?;
        let sync: String = client
            .query_one("SHOW synchronous_commit", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| self.error("connect: read synchronous_commit", e))?;
        if matches!(sync.as_str(), "off" | "local") {
            client
                .batch_execute("SET synchronous_commit TO on")
                .map_err(|e| self.error("connect: set synchronous_commit", e))?;
        }
        Ok(Connection {
            client,
            statements: HashMap::new(),
        })
    }

    /// The connection in `slot`, opened (again) if there is none or the server closed
    /// it.
    fn connection<'a>(
        &self,
        slot: &'a Mutex<Option<Connection>>,
    ) -> Result<MutexGuard<'a, Option<Connection>>> {
        // A panic while holding the lock leaves the database consistent (an unfinished
        // transaction is rolled back), so a poisoned lock is usable.
        let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_none_or(|c| c.client.is_closed()) {
            *guard = None;
            *guard = Some(self.open()?);
        }
        Ok(guard)
    }

    fn writer(&self) -> Result<MutexGuard<'_, Option<Connection>>> {
        self.connection(&self.writer)
    }

    fn reader(&self) -> Result<MutexGuard<'_, Option<Connection>>> {
        self.connection(&self.reader)
    }

    /// One try of an append: one transaction of three statements (five round trips
    /// with `BEGIN` and `COMMIT`), however many notifications it holds.
    ///
    /// 1. the advisory locks of the batch's fingerprints, in ascending order;
    /// 2. for each key of the batch, its stored episode read `FOR UPDATE`, and the next
    ///    start of its fingerprint already stored ([`READ_KEYS`]);
    /// 3. in Rust: each episode merged with its notifications in batch order
    ///    ([`Episode::merge`]), then ended at the next start after its own (new starts
    ///    of the batch, and stored ones for new episodes), as one notification at a
    ///    time would have left it;
    /// 4. one statement ([`write_sql`]): the merged stored episodes updated, the new
    ///    ones inserted with their label rows, the older stored episodes the new starts
    ///    supersede, the newest notification's receive time.
    fn append_once(&self, notifications: &[Notification]) -> Result<()> {
        let db = self.database.as_str();
        let mut writer = self.writer()?;
        let conn = writer.as_mut().ok_or_else(|| self.not_connected())?;
        let lock = conn.prepare(LOCK_FINGERPRINTS, db)?;
        let read = conn.prepare(READ_KEYS, db)?;
        let write = conn.prepare(&write_sql(), db)?;

        // The batch's keys, each once, in first-seen order.
        let mut keys: Vec<(i64, i64)> = Vec::new();
        let mut index: HashMap<(i64, i64), usize> = HashMap::new();
        let mut key_of = Vec::with_capacity(notifications.len());
        for n in notifications {
            let key = (
                fp_to_sql(n.alert.fingerprint),
                to_nanos(n.alert.starts_at, "startsAt")?,
            );
            let at = *index.entry(key).or_insert_with(|| {
                keys.push(key);
                keys.len() - 1
            });
            key_of.push(at);
        }
        let (key_fps, key_starts): (Vec<i64>, Vec<i64>) = keys.iter().copied().unzip();
        let mut fingerprints = key_fps.clone();
        fingerprints.sort_unstable();
        fingerprints.dedup();

        let mut tx = conn
            .client
            .transaction()
            .map_err(|e| self.error("append: begin", e))?;
        tx.execute(&lock, &[&fingerprints])
            .map_err(|e| self.error("append: lock fingerprints", e))?;

        let ctx = "append: read episodes";
        let mut stored: HashMap<(i64, i64), (i64, RawEpisode)> = HashMap::new();
        // The next stored start after each key's (used for new episodes only: a stored
        // one already ends there, unless resolved).
        let mut stored_next: HashMap<(i64, i64), i64> = HashMap::new();
        for row in tx
            .query(&read, &[&key_fps, &key_starts])
            .map_err(|e| self.error(ctx, e))?
        {
            let fp: i64 = row.try_get(0).map_err(|e| self.error(ctx, e))?;
            let start: i64 = row.try_get(1).map_err(|e| self.error(ctx, e))?;
            let next: Option<i64> = row.try_get(2).map_err(|e| self.error(ctx, e))?;
            let id: Option<i64> = row.try_get(3).map_err(|e| self.error(ctx, e))?;
            match id {
                Some(id) => {
                    let raw = raw_episode_at(&row, 4).map_err(|e| self.error(ctx, e))?;
                    stored.insert((fp, start), (id, raw));
                }
                None => {
                    if let Some(next) = next {
                        stored_next.insert((fp, start), next);
                    }
                }
            }
        }

        // Merged in batch order, as one notification at a time would merge them.
        let mut merged: Vec<Option<Merged>> = (0..keys.len()).map(|_| None).collect();
        for (n, &at) in notifications.iter().zip(&key_of) {
            match &mut merged[at] {
                Some(m) => {
                    m.episode.merge(n);
                }
                slot @ None => {
                    let m = match stored.remove(&keys[at]) {
                        // The labels are the alert's own (same fingerprint).
                        Some((id, raw)) => {
                            let mut episode = raw.into_episode(n.alert.labels.clone())?;
                            episode.merge(n);
                            Merged {
                                id: Some(id),
                                episode,
                            }
                        }
                        None => Merged {
                            id: None,
                            episode: Episode::from_notification(n),
                        },
                    };
                    *slot = Some(m);
                }
            }
        }
        let mut merged: Vec<Merged> = merged.into_iter().flatten().collect();

        // Each new start ends the batch's older episodes of its fingerprint; a new
        // episode also ends at the next start already stored.
        let (new_fps, new_starts): (Vec<i64>, Vec<i64>) = merged
            .iter()
            .filter(|m| m.id.is_none())
            .map(|m| {
                Ok((
                    fp_to_sql(m.episode.fingerprint),
                    to_nanos(m.episode.starts_at, "startsAt")?,
                ))
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip();
        let mut batch_starts: HashMap<i64, Vec<i64>> = HashMap::new();
        for (&fp, &start) in new_fps.iter().zip(&new_starts) {
            batch_starts.entry(fp).or_default().push(start);
        }
        for starts in batch_starts.values_mut() {
            starts.sort_unstable();
        }
        for m in &mut merged {
            let key = (
                fp_to_sql(m.episode.fingerprint),
                to_nanos(m.episode.starts_at, "startsAt")?,
            );
            let in_batch = batch_starts
                .get(&key.0)
                .and_then(|s| s.get(s.partition_point(|x| *x <= key.1)).copied());
            let stored = if m.id.is_none() {
                stored_next.get(&key).copied()
            } else {
                None
            };
            if let Some(next) = in_batch.into_iter().chain(stored).min() {
                m.episode.infer_end(from_nanos(next), EndReason::Superseded);
            }
        }

        let mut updates = EpisodeColumns::default();
        let mut inserts = EpisodeColumns::default();
        let (mut label_fps, mut label_starts, mut names, mut values) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for m in &merged {
            match m.id {
                Some(id) => updates.push(Some(id), &m.episode)?,
                None => {
                    inserts.push(None, &m.episode)?;
                    let fp = fp_to_sql(m.episode.fingerprint);
                    let start = to_nanos(m.episode.starts_at, "startsAt")?;
                    for (name, value) in m.episode.labels.iter().filter(|(n, _)| *n != ALERTNAME) {
                        label_fps.push(fp);
                        label_starts.push(start);
                        names.push(indexable(name).into_owned());
                        values.push(indexable(value).into_owned());
                    }
                }
            }
        }
        let newest = notifications
            .iter()
            .map(|n| n.received_at)
            .max()
            .map(|t| to_nanos(t, "receivedAt").map(|n| n.to_string()))
            .transpose()?;
        let (u, i) = (&updates, &inserts);
        let ctx = "append: write";
        let row = tx
            .query_one(
                &write,
                &[
                    &u.ids,
                    &u.ends,
                    &u.first_seen,
                    &u.last_seen,
                    &u.annotations,
                    &u.receivers,
                    &u.generator_urls,
                    &u.end_reasons,
                    &i.fingerprints,
                    &i.starts,
                    &i.ends,
                    &i.first_seen,
                    &i.last_seen,
                    &i.alertnames,
                    &i.labels,
                    &i.annotations,
                    &i.receivers,
                    &i.generator_urls,
                    &i.end_reasons,
                    &label_fps,
                    &label_starts,
                    &names,
                    &values,
                    &new_fps,
                    &new_starts,
                    &newest,
                ],
            )
            .map_err(|e| self.error(ctx, e))?;
        let inserted: i64 = row.try_get(1).map_err(|e| self.error(ctx, e))?;
        if usize::try_from(inserted).ok() != Some(i.fingerprints.len()) {
            return Err(Error::Postgres {
                database: self.database.clone(),
                context: ctx.into(),
                reason: format!("{inserted} episodes inserted of {}", i.fingerprints.len()),
            });
        }
        tx.commit().map_err(|e| self.error("append: commit", e))
    }

    /// One try of a purge: one transaction.
    fn purge_once(&self, cutoff: i64) -> Result<u64> {
        let mut writer = self.writer()?;
        let conn = writer.as_mut().ok_or_else(|| self.not_connected())?;
        let mut tx = conn
            .client
            .transaction()
            .map_err(|e| self.error("purge: begin", e))?;
        // Episodes that ended (up to an hour of clock skew after the cutoff) or are
        // still open, and were last heard of before it, then their label rows (by
        // primary key; the labels are decoded here, as PostgreSQL's JSON functions
        // refuse the NUL a label may hold).
        let doomed = tx
            .query(
                "DELETE FROM episodes WHERE last_seen < $2 AND (ends_at < $1 OR ends_at = $3) \
                 RETURNING id, labels",
                &[&cutoff.saturating_add(PURGE_SKEW_NS), &cutoff, &OPEN_END],
            )
            .map_err(|e| self.error("purge: episodes", e))?;
        let (mut names, mut values, mut ids) = (Vec::new(), Vec::new(), Vec::new());
        for row in &doomed {
            let id: i64 = row
                .try_get(0)
                .map_err(|e| self.error("purge: episodes", e))?;
            let text: String = row
                .try_get(1)
                .map_err(|e| self.error("purge: episodes", e))?;
            let labels = decode_labels(&text, || format!("episodes[id {id}].labels"))?;
            for (name, value) in labels.iter().filter(|(n, _)| *n != ALERTNAME) {
                names.push(indexable(name).into_owned());
                values.push(indexable(value).into_owned());
                ids.push(id);
            }
        }
        if !ids.is_empty() {
            tx.execute(
                "DELETE FROM episode_labels l \
                 USING unnest($1::text[], $2::text[], $3::bigint[]) AS x(name, value, id) \
                 WHERE l.name = x.name AND l.value = x.value AND l.episode_id = x.id",
                &[&names, &values, &ids],
            )
            .map_err(|e| self.error("purge: labels", e))?;
        }
        tx.execute("DELETE FROM heartbeats WHERE at < $1", &[&cutoff])
            .map_err(|e| self.error("purge: heartbeats", e))?;
        // Before the oldest heartbeat kept nothing is known, not even a gap.
        tx.execute(
            "UPDATE heartbeats SET prev_at = NULL WHERE prev_at < $1",
            &[&cutoff],
        )
        .map_err(|e| self.error("purge: heartbeats", e))?;
        tx.execute("DELETE FROM server_runs WHERE last_alive < $1", &[&cutoff])
            .map_err(|e| self.error("purge: server runs", e))?;
        tx.commit().map_err(|e| self.error("purge: commit", e))?;
        Ok(doomed.len() as u64)
    }

    /// Reads candidate rows in page order and keeps those the query admits, until one
    /// more than the page is found, in one read-only transaction.
    fn collect_page(&self, q: &EpisodeQuery) -> Result<EpisodePage> {
        let bounds = PageBounds::of(q)?;
        let ctx = "query episodes";
        let db = self.database.as_str();
        let mut reader = self.reader()?;
        let conn = reader.as_mut().ok_or_else(|| self.not_connected())?;
        let Connection { client, statements } = conn;
        let mut tx = client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(|e| self.error(ctx, e))?;
        let mut found: Vec<Episode> = Vec::new();
        'parts: for &part in bounds.parts(q) {
            if part == RangePart::StartedWithin {
                // In page order from the (alertname, starts_at, fingerprint) index, a
                // chunk at a time: with a LIMIT the planner picks the ordered index scan
                // that stops at a page; without one, it reads and sorts every candidate.
                let mut after = bounds.cursor;
                loop {
                    let chunk = (q.limit + 1).saturating_sub(found.len()).max(QUERY_CHUNK);
                    let b = PageBounds {
                        cursor: after,
                        ..bounds
                    };
                    let (sql, params) = page_sql(q, part, &b, Some(chunk));
                    let statement = cached(statements, &mut tx, &sql, db)?;
                    let refs: Vec<&(dyn ToSql + Sync)> =
                        params.iter().map(|p| p.as_ref()).collect();
                    let rows = tx
                        .query(&statement, &refs)
                        .map_err(|e| self.error(ctx, e))?;
                    let complete = rows.len() < chunk;
                    for row in &rows {
                        let raw = raw_episode_at(row, 0).map_err(|e| self.error(ctx, e))?;
                        after = Some((raw.starts_at, raw.fingerprint));
                        if admit(q, raw, &mut found)? {
                            break 'parts;
                        }
                    }
                    if complete {
                        break;
                    }
                }
                continue;
            }
            let (sql, params) = page_sql(q, part, &bounds, None);
            let statement = cached(statements, &mut tx, &sql, db)?;
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
            let portal = tx.bind(&statement, &refs).map_err(|e| self.error(ctx, e))?;
            loop {
                let rows = tx
                    .query_portal(&portal, QUERY_CHUNK as i32)
                    .map_err(|e| self.error(ctx, e))?;
                let last_chunk = rows.len() < QUERY_CHUNK;
                for row in &rows {
                    let raw = raw_episode_at(row, 0).map_err(|e| self.error(ctx, e))?;
                    if admit(q, raw, &mut found)? {
                        break 'parts;
                    }
                }
                if last_chunk {
                    break;
                }
            }
        }
        tx.commit().map_err(|e| self.error(ctx, e))?;
        Ok(q.paginate(found))
    }
}

/// `sql` prepared once on a connection whose prepared statements `statements` keeps
/// (cleared when full): through the client, or a transaction on it (a prepared
/// statement outlives the transaction it was prepared in).
fn cached(
    statements: &mut HashMap<String, Statement>,
    client: &mut impl postgres::GenericClient,
    sql: &str,
    database: &str,
) -> Result<Statement> {
    if let Some(s) = statements.get(sql) {
        return Ok(s.clone());
    }
    if statements.len() >= STATEMENT_CACHE {
        statements.clear();
    }
    let statement = client
        .prepare(sql)
        .map_err(|e| pg_error(database, "prepare statement", e))?;
    statements.insert(sql.to_owned(), statement.clone());
    Ok(statement)
}

/// The SQL of one part of a query ([`RangePart`]) and its parameters: the candidates of
/// the query's selectors in that part of the range, after the cursor, in page order; at
/// most `limit` rows when given.
fn page_sql(
    q: &EpisodeQuery,
    part: RangePart,
    bounds: &PageBounds,
    limit: Option<usize>,
) -> (String, Vec<Box<dyn ToSql + Sync>>) {
    let PageBounds { t1, t2, cursor } = *bounds;
    let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::new();
    let range = part.condition(Planner::Postgres, t1, t2, |t| {
        params.push(Box::new(t));
        format!("${}", params.len())
    });
    let mut sql = format!(
        "SELECT {} FROM episodes e WHERE {range}",
        episode_columns(q)
    );
    if let Some(condition) = candidate_condition(&q.selectors, |v| {
        params.push(Box::new(indexable(v).into_owned()));
        format!("${}", params.len())
    }) {
        sql.push_str(" AND (");
        sql.push_str(&condition);
        sql.push(')');
    }
    if let Some((starts_at, fingerprint)) = cursor {
        params.push(Box::new(starts_at));
        params.push(Box::new(fingerprint));
        sql.push_str(&format!(
            " AND (e.starts_at, e.fingerprint) > (${}, ${})",
            params.len() - 1,
            params.len()
        ));
    }
    sql.push_str(" ORDER BY e.starts_at, e.fingerprint");
    if let Some(limit) = limit {
        params.push(Box::new(i64::try_from(limit).unwrap_or(i64::MAX)));
        sql.push_str(&format!(" LIMIT ${}", params.len()));
    }
    (sql, params)
}

impl Drop for PostgresStore {
    /// The blocking client closes a connection on a runtime of its own, which panics
    /// inside another runtime (an async server dropping the store's last handle), so the
    /// connections are closed on a plain thread.
    fn drop(&mut self) {
        let connections: Vec<Connection> = [&mut self.writer, &mut self.reader]
            .into_iter()
            .filter_map(|slot| slot.get_mut().unwrap_or_else(|p| p.into_inner()).take())
            .collect();
        if connections.is_empty() {
            return;
        }
        if let Ok(thread) = std::thread::Builder::new()
            .name("postgres-close".into())
            .spawn(move || drop(connections))
        {
            let _ = thread.join();
        }
    }
}

impl HistoryStore for PostgresStore {
    fn append(&self, notifications: &[Notification]) -> Result<AppendOutcome> {
        check_representable(notifications)?;
        if !notifications.is_empty() {
            let mut attempt = 1;
            loop {
                match self.append_once(notifications) {
                    Err(e) if attempt < ATTEMPTS && retryable(&e) => attempt += 1,
                    other => break other?,
                }
            }
        }
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
        let ctx = "episodes of a fingerprint";
        let db = self.database.as_str();
        let mut reader = self.reader()?;
        let conn = reader.as_mut().ok_or_else(|| self.not_connected())?;
        let statement = conn.prepare(
            &format!(
                "SELECT {EPISODE_COLUMNS} FROM episodes e WHERE e.fingerprint = $1 \
                 AND e.starts_at < $3 AND e.ends_at > $2 ORDER BY e.starts_at"
            ),
            db,
        )?;
        let rows = conn
            .client
            .query(&statement, &[&fp_to_sql(fingerprint), &t1, &t2])
            .map_err(|e| self.error(ctx, e))?;
        rows.iter()
            .map(|row| {
                raw_episode_at(row, 0)
                    .map_err(|e| self.error(ctx, e))?
                    .decode()
            })
            .collect()
    }

    fn record_heartbeat(&self, heartbeat: &Heartbeat) -> Result<()> {
        let ctx = "record heartbeat";
        let mut writer = self.writer()?;
        let conn = writer.as_mut().ok_or_else(|| self.not_connected())?;
        match *heartbeat {
            Heartbeat::Watchdog { at } => {
                let at = to_nanos(at, "heartbeat.at")?;
                let mut tx = conn.client.transaction().map_err(|e| self.error(ctx, e))?;
                // Keeps each row's prev_at the heartbeat before it, also when heartbeats
                // arrive out of order at several replicas.
                tx.execute(
                    "SELECT pg_advisory_xact_lock($1, $2)",
                    &[&LOCK_SPACE, &LOCK_HEARTBEATS],
                )
                .map_err(|e| self.error(ctx, e))?;
                let prev: Option<i64> = tx
                    .query_one("SELECT max(at) FROM heartbeats WHERE at < $1", &[&at])
                    .and_then(|r| r.try_get(0))
                    .map_err(|e| self.error(ctx, e))?;
                let inserted = tx
                    .execute(
                        "INSERT INTO heartbeats(at, prev_at) VALUES($1, $2) \
                         ON CONFLICT(at) DO NOTHING",
                        &[&at, &prev],
                    )
                    .map_err(|e| self.error(ctx, e))?;
                if inserted > 0 {
                    tx.execute(
                        "UPDATE heartbeats SET prev_at = $1 \
                         WHERE at = (SELECT min(at) FROM heartbeats WHERE at > $1)",
                        &[&at],
                    )
                    .map_err(|e| self.error(ctx, e))?;
                }
                tx.commit().map_err(|e| self.error(ctx, e))
            }
            Heartbeat::ServerAlive { started_at, at } => conn
                .client
                .execute(
                    "INSERT INTO server_runs(started_at, last_alive) VALUES($1, $2) \
                     ON CONFLICT(started_at) DO UPDATE \
                     SET last_alive = greatest(server_runs.last_alive, excluded.last_alive)",
                    &[
                        &to_nanos(started_at, "heartbeat.startedAt")?,
                        &to_nanos(at, "heartbeat.at")?,
                    ],
                )
                .map(drop)
                .map_err(|e| self.error(ctx, e)),
        }
    }

    fn heartbeats(&self, range: TimeSpan, max_gap: Duration) -> Result<HeartbeatLog> {
        let t1 = to_nanos(range.start, "range.start")?;
        let t2 = to_nanos(range.end, "range.end")?;
        let gap = i64::try_from(max_gap.as_millis())
            .ok()
            .and_then(|ms| ms.checked_mul(1_000_000))
            .unwrap_or(i64::MAX);
        let ctx = "read heartbeats";
        let mut reader = self.reader()?;
        let conn = reader.as_mut().ok_or_else(|| self.not_connected())?;
        let mut tx = conn
            .client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(|e| self.error(ctx, e))?;
        let gaps = tx
            .query(
                "SELECT prev_at, at FROM heartbeats \
                 WHERE prev_at IS NOT NULL AND (at - prev_at) > $1 AND at > $2 AND prev_at < $3 \
                 ORDER BY at",
                &[&gap, &t1, &t2],
            )
            .map_err(|e| self.error(ctx, e))?
            .iter()
            .map(|r| {
                Ok(HeartbeatGap {
                    after: from_nanos(r.try_get(0)?),
                    before: from_nanos(r.try_get(1)?),
                })
            })
            .collect::<std::result::Result<Vec<_>, postgres::Error>>()
            .map_err(|e| self.error(ctx, e))?;
        let newest: Option<i64> = tx
            .query_one("SELECT max(at) FROM heartbeats", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| self.error(ctx, e))?;
        let all = tx
            .query(
                "SELECT started_at, last_alive FROM server_runs ORDER BY started_at",
                &[],
            )
            .map_err(|e| self.error(ctx, e))?
            .iter()
            .map(|r| {
                Ok(ServerRun {
                    started_at: from_nanos(r.try_get(0)?),
                    last_alive: from_nanos(r.try_get(1)?),
                })
            })
            .collect::<std::result::Result<Vec<_>, postgres::Error>>()
            .map_err(|e| self.error(ctx, e))?;
        tx.commit().map_err(|e| self.error(ctx, e))?;
        Ok(HeartbeatLog {
            gaps,
            newest: newest.map(from_nanos),
            runs: runs_around(&all, range),
        })
    }

    fn purge(&self, before: Timestamp) -> Result<PurgeOutcome> {
        let cutoff = to_nanos(before, "before")?;
        let mut attempt = 1;
        let removed = loop {
            match self.purge_once(cutoff) {
                Err(e) if attempt < ATTEMPTS && retryable(&e) => attempt += 1,
                other => break other?,
            }
        };
        Ok(PurgeOutcome { removed })
    }

    fn stats(&self) -> Result<StoreStats> {
        let ctx = "stats";
        let mut reader = self.reader()?;
        let conn = reader.as_mut().ok_or_else(|| self.not_connected())?;
        let row = conn
            .client
            .query_one(
                "SELECT (SELECT count(*) FROM episodes), \
                 (SELECT count(*) FROM episodes WHERE ends_at = $1), \
                 (SELECT value FROM settings WHERE key = 'newest_seen'), \
                 (SELECT count(*) FROM heartbeats), \
                 (SELECT sum(pg_total_relation_size(t::regclass))::bigint FROM unnest(ARRAY[\
                   'episodes', 'episode_labels', 'heartbeats', 'server_runs', 'settings', \
                   'schema_migrations']) AS t)",
                &[&OPEN_END],
            )
            .map_err(|e| self.error(ctx, e))?;
        let get = |i: usize| -> Result<i64> { row.try_get(i).map_err(|e| self.error(ctx, e)) };
        let newest: Option<String> = row.try_get(2).map_err(|e| self.error(ctx, e))?;
        let bytes: Option<i64> = row.try_get(4).map_err(|e| self.error(ctx, e))?;
        Ok(StoreStats {
            episodes: get(0)?.unsigned_abs(),
            open_episodes: get(1)?.unsigned_abs(),
            heartbeats: get(3)?.unsigned_abs(),
            newest_seen: newest.and_then(|n| n.parse::<i64>().ok()).map(from_nanos),
            bytes: bytes.map(i64::unsigned_abs),
        })
    }
}
