//! The Grafana Loki store: notifications as log lines, merged into episodes on read.
//!
//! **Writing.** Each notification becomes one line of the stream
//! `{service_name="alert-history", kind="notification"}` (plus any static labels
//! configured, such as a cluster name): a handful of low-cardinality stream labels,
//! never the fingerprint (Loki's label guidance; Grafana's historians moved the same
//! way). The line is the notification as JSON (`schemaVersion`, `receiver`,
//! `receivedAt`, `alert`), and `fingerprint` and `alertname` travel as structured
//! metadata, so queries can filter on them without parsing lines. The entry timestamp is
//! the receive time (Loki refuses old timestamps, and `startsAt` may be days old), made
//! strictly increasing per store so that no two entries of a stream share a timestamp
//! (pagination splits pages at timestamps). Heartbeats go to `kind="heartbeat"`. Pushes
//! use Loki's JSON API with `X-Scope-OrgID` when a tenant is set; `append` returns once
//! Loki answered 204.
//!
//! **Reading.** Episodes overlapping `[t1, t2)` are rebuilt from the notifications
//! received in `[t1 - lookback, t2 + lookahead)`: the look-back (one `repeat_interval`
//! of the routes, plus margin) finds alerts firing since long before `t1`, whose
//! newest notification predates the range; the look-ahead (a `group_interval` or so)
//! finds the notifications of episodes that started or ended just before `t2`. Windows
//! longer than Loki's `max_query_length` are split; each is read `direction=forward`,
//! at most 5,000 entries a page, the next page starting at the last timestamp of the
//! previous one (Loki's `start` is inclusive) with the entries already read at that
//! timestamp skipped, so no page is read twice and none is skipped. Notifications are
//! merged with [`Episode::merge`], then the range, selectors, cursor and limit apply.
//! Loki keeps no episode cursor, so each page of a query reads its window again: ask
//! for large pages (up to [`crate::MAX_QUERY_LIMIT`]) rather than many small ones.
//!
//! **Selectors** (`match[]`, OR-ed) cost one read whatever their number: when every
//! selector has an equality on `alertname`, Loki filters the notifications on that
//! structured metadata (`| alertname="A" or alertname="B"`); the selectors are then
//! applied to the merged episodes, so an episode two selectors select is listed once
//! and pages split the one ordered list exactly.
//!
//! **Retention** belongs to Loki (`retention_period`, or `retention_stream` on
//! `{service_name="alert-history"}`); [`HistoryStore::purge`] additionally files a
//! deletion request (`POST /loki/api/v1/delete`, which needs the compactor's deletion
//! API enabled and is carried out asynchronously by Loki).

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Duration as StdDuration;

use alert_core::{Duration, Fingerprint, MatchType, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::availability::{Heartbeat, HeartbeatLog, ServerRun};
use crate::episode::{Episode, Notification, merge_notifications};
use crate::error::{Error, Result};
use crate::range::TimeSpan;
use crate::selector::Selectors;
use crate::store::{
    AppendOutcome, EpisodePage, EpisodeQuery, HistoryStore, PurgeOutcome, StoreStats,
    check_representable, from_nanos, to_nanos,
};

/// The largest page Loki serves by default (`max_entries_limit_per_query`).
pub const LOKI_MAX_PAGE: usize = 5000;

/// The most entries one push carries.
pub const PUSH_BATCH: usize = 1000;

/// The version of the line format written by this release.
pub const SCHEMA_VERSION: u32 = 1;

/// Where and how to reach Loki.
#[derive(Debug, Clone)]
pub struct LokiConfig {
    /// Base URL, e.g. `http://loki:3100`.
    pub url: String,
    /// The tenant (`X-Scope-OrgID`), when Loki runs with `auth_enabled: true`.
    pub tenant: Option<String>,
    /// How far before a range notifications are read: the routes' `repeat_interval`
    /// plus a `group_interval` and some slack.
    pub lookback: Duration,
    /// How far after a range notifications are read (a `group_interval` or so).
    pub lookahead: Duration,
    /// Entries per page, at most Loki's `max_entries_limit_per_query`.
    pub page_limit: usize,
    /// Loki's `max_query_length`; longer windows are split.
    pub max_query_length: Duration,
    /// How far back [`HistoryStore::stats`] counts.
    pub stats_window: Duration,
    /// Extra static stream labels (keep them few and of low cardinality).
    pub stream_labels: BTreeMap<String, String>,
    /// HTTP timeout per request.
    pub timeout: StdDuration,
}

impl LokiConfig {
    /// Defaults for `url`: Alertmanager's default `repeat_interval` (4h) plus 10 minutes
    /// of look-back, 10 minutes of look-ahead, pages of 5,000, Loki's 30-day query length
    /// limit, and stats over 30 days.
    pub fn new(url: impl Into<String>) -> LokiConfig {
        let minutes = |m: u64| Duration::from_secs(m * 60).unwrap_or_default();
        LokiConfig {
            url: url.into(),
            tenant: None,
            lookback: minutes(250),
            lookahead: minutes(10),
            page_limit: LOKI_MAX_PAGE,
            max_query_length: minutes(30 * 24 * 60),
            stats_window: minutes(30 * 24 * 60),
            stream_labels: BTreeMap::new(),
            timeout: StdDuration::from_secs(30),
        }
    }
}

/// A notification as one Loki line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotificationLine {
    schema_version: u32,
    #[serde(flatten)]
    notification: Notification,
}

/// Alert history in Grafana Loki. See the module docs.
pub struct LokiStore {
    config: LokiConfig,
    agent: ureq::Agent,
    /// The newest entry timestamp handed out, to keep them strictly increasing.
    last_ts: Mutex<i128>,
}

const PUSH: &str = "/loki/api/v1/push";
const QUERY_RANGE: &str = "/loki/api/v1/query_range";
const DELETE: &str = "/loki/api/v1/delete";

impl LokiStore {
    /// A store writing to and reading from `config.url`. Nothing is sent until used.
    pub fn new(mut config: LokiConfig) -> LokiStore {
        config.page_limit = config.page_limit.clamp(1, LOKI_MAX_PAGE);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(config.timeout))
            .build()
            .into();
        LokiStore {
            config,
            agent,
            last_ts: Mutex::new(i128::MIN),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LokiConfig {
        &self.config
    }

    fn url(&self, endpoint: &str) -> String {
        format!("{}{endpoint}", self.config.url.trim_end_matches('/'))
    }

    fn selector(&self, kind: &str) -> String {
        let mut labels = self.stream_labels(kind);
        // Render in a stable order: Loki does not care, but tests and logs read better.
        let parts: Vec<String> = std::mem::take(&mut labels)
            .into_iter()
            .map(|(k, v)| format!("{k}={}", quote(&v)))
            .collect();
        format!("{{{}}}", parts.join(", "))
    }

    fn stream_labels(&self, kind: &str) -> BTreeMap<String, String> {
        let mut labels = self.config.stream_labels.clone();
        labels.insert("service_name".into(), "alert-history".into());
        labels.insert("kind".into(), kind.into());
        labels
    }

    /// Strictly increasing nanosecond timestamps, each at least its wanted value.
    fn next_ts(&self, wanted: i128) -> i128 {
        let mut last = self.last_ts.lock().unwrap_or_else(|p| p.into_inner());
        let ts = wanted.max(last.saturating_add(1));
        *last = ts;
        ts
    }

    fn transport(endpoint: &str, e: impl std::fmt::Display) -> Error {
        Error::LokiTransport {
            endpoint: endpoint.to_owned(),
            reason: e.to_string(),
        }
    }

    fn with_tenant<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.config.tenant {
            Some(t) => req.header("X-Scope-OrgID", t),
            None => req,
        }
    }

    /// Reads a response body, turning non-2xx answers into [`Error::LokiStatus`].
    fn finish(endpoint: &str, mut resp: ureq::http::Response<ureq::Body>) -> Result<String> {
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| Self::transport(endpoint, e))?;
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(Error::LokiStatus {
                endpoint: endpoint.to_owned(),
                status,
                body: body.trim().to_owned(),
            })
        }
    }

    fn push(&self, streams: Vec<Value>) -> Result<()> {
        let body = json!({ "streams": streams }).to_string();
        let req = self
            .agent
            .post(self.url(PUSH))
            .header("Content-Type", "application/json");
        let resp = self
            .with_tenant(req)
            .send(body.as_bytes())
            .map_err(|e| Self::transport(PUSH, e))?;
        Self::finish(PUSH, resp).map(drop)
    }

    /// Every `(timestamp, line)` matching `query` in `[start, end)` (nanoseconds), oldest
    /// first, read in windows of at most `max_query_length` and pages of `page_limit`.
    fn fetch(&self, query: &str, start: i128, end: i128) -> Result<Vec<(i128, String)>> {
        let window = i128::from(self.config.max_query_length.as_millis().max(1)) * 1_000_000;
        let mut out = Vec::new();
        let mut from = start;
        while from < end {
            let to = end.min(from.saturating_add(window));
            self.fetch_window(query, from, to, &mut out)?;
            from = to;
        }
        Ok(out)
    }

    fn fetch_window(
        &self,
        query: &str,
        start: i128,
        end: i128,
        out: &mut Vec<(i128, String)>,
    ) -> Result<()> {
        let limit = self.config.page_limit;
        let mut from = start;
        // Entries already taken at the timestamp the next page starts at.
        let mut seen_at_boundary: HashSet<(i128, String)> = HashSet::new();
        loop {
            let req = self
                .agent
                .get(self.url(QUERY_RANGE))
                .query("query", query)
                .query("start", from.to_string())
                .query("end", end.to_string())
                .query("limit", limit.to_string())
                .query("direction", "forward");
            let resp = self
                .with_tenant(req)
                .call()
                .map_err(|e| Self::transport(QUERY_RANGE, e))?;
            let body = Self::finish(QUERY_RANGE, resp)?;
            let mut page = parse_streams(&body)?;
            page.sort_by_key(|e| e.0);
            let read = page.len();
            let last_ts = page.last().map(|e| e.0);
            let mut next_seen = HashSet::new();
            for (ts, line) in page {
                if Some(ts) == last_ts {
                    next_seen.insert((ts, line.clone()));
                }
                if seen_at_boundary.contains(&(ts, line.clone())) {
                    continue;
                }
                out.push((ts, line));
            }
            let Some(last_ts) = last_ts else { break };
            if read < limit {
                break;
            }
            if last_ts == from && next_seen.len() >= read {
                return Err(Error::PaginationStuck {
                    limit,
                    timestamp_ns: last_ts,
                });
            }
            if last_ts != from {
                seen_at_boundary.clear();
            }
            seen_at_boundary.extend(next_seen);
            from = last_ts;
        }
        Ok(())
    }

    /// Notifications received in the window around `range`, filtered by `filter`
    /// (LogQL stages after the selector).
    fn notifications(&self, range: TimeSpan, filter: &str) -> Result<Vec<Notification>> {
        let start = to_nanos(range.start, "range.start")?;
        let end = to_nanos(range.end, "range.end")?;
        let back = i128::from(self.config.lookback.as_millis()) * 1_000_000;
        let ahead = i128::from(self.config.lookahead.as_millis()) * 1_000_000;
        let query = format!("{}{filter}", self.selector("notification"));
        let lines = self.fetch(&query, i128::from(start) - back, i128::from(end) + ahead)?;
        lines
            .into_iter()
            .map(|(ts, line)| {
                serde_json::from_str::<NotificationLine>(&line)
                    .map(|l| l.notification)
                    .map_err(|e| Error::Decode {
                        field: format!("loki line at {ts}"),
                        reason: e.to_string(),
                    })
            })
            .collect()
    }

    fn now_ns() -> i128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(0)
    }
}

/// `"value"` with LogQL string escaping (Go string literal rules).
fn quote(value: &str) -> String {
    // JSON string escaping is a subset of Go's that Loki's parser reads back.
    serde_json::to_string(value).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The LogQL label filter that narrows a query's read to the notifications of the
/// alertnames its selectors ask for (` | alertname="A" or alertname="B"`, on the
/// `alertname` structured metadata), when every selector has an equality on
/// `alertname`; empty otherwise. It only narrows: all notifications of an episode share
/// its alertname (a label of its fingerprint), so the episodes merged from the filtered
/// notifications are those of the full read for these alertnames, and the selectors
/// themselves are then applied to the episodes.
fn alertname_filter(selectors: &Selectors) -> String {
    let mut names: Vec<&str> = Vec::new();
    for selector in selectors.iter() {
        let Some(m) = selector
            .iter()
            .find(|m| m.match_type() == MatchType::Equal && m.name() == "alertname")
        else {
            return String::new();
        };
        if !names.contains(&m.value()) {
            names.push(m.value());
        }
    }
    if names.is_empty() {
        return String::new();
    }
    let any_of: Vec<String> = names
        .iter()
        .map(|name| format!("alertname={}", quote(name)))
        .collect();
    format!(" | {}", any_of.join(" or "))
}

/// `(timestamp, line)` of every entry of a `query_range` streams response.
fn parse_streams(body: &str) -> Result<Vec<(i128, String)>> {
    let decode = |reason: String| Error::Decode {
        field: "loki query_range response".into(),
        reason,
    };
    let v: Value = serde_json::from_str(body).map_err(|e| decode(e.to_string()))?;
    let result = v
        .pointer("/data/result")
        .and_then(Value::as_array)
        .ok_or_else(|| decode("missing data.result".into()))?;
    let mut out = Vec::new();
    for stream in result {
        for value in stream
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let ts = value
                .get(0)
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<i128>().ok())
                .ok_or_else(|| decode(format!("bad entry timestamp in {value}")))?;
            let line = value
                .get(1)
                .and_then(Value::as_str)
                .ok_or_else(|| decode(format!("bad entry line in {value}")))?;
            out.push((ts, line.to_owned()));
        }
    }
    Ok(out)
}

impl HistoryStore for LokiStore {
    fn append(&self, notifications: &[Notification]) -> Result<AppendOutcome> {
        check_representable(notifications)?;
        if notifications.is_empty() {
            return Ok(AppendOutcome::default());
        }
        let mut values = Vec::with_capacity(notifications.len());
        for n in notifications {
            let line = serde_json::to_string(&NotificationLine {
                schema_version: SCHEMA_VERSION,
                notification: n.clone(),
            })
            .map_err(|e| Error::Decode {
                field: "notification".into(),
                reason: e.to_string(),
            })?;
            let ts = self.next_ts(n.received_at.unix_nanos());
            values.push(json!([
                ts.to_string(),
                line,
                {
                    "fingerprint": n.alert.fingerprint.to_string(),
                    "alertname": n.alert.labels.get_or_empty("alertname"),
                }
            ]));
        }
        // Loki limits request sizes and ingestion rates: push in bounded batches.
        for chunk in values.chunks(PUSH_BATCH) {
            self.push(vec![json!({
                "stream": self.stream_labels("notification"),
                "values": chunk,
            })])?;
        }
        Ok(AppendOutcome {
            notifications: notifications.len(),
        })
    }

    fn query(&self, query: &EpisodeQuery) -> Result<EpisodePage> {
        query.validate()?;
        let filter = alertname_filter(&query.selectors);
        let notifications = self.notifications(query.range, &filter)?;
        let mut episodes: Vec<Episode> = merge_notifications(&notifications)
            .into_iter()
            .filter(|e| query.admits(e))
            .collect();
        episodes.sort_by_key(|e| (e.starts_at, e.fingerprint));
        Ok(query.paginate(episodes))
    }

    fn episodes_of(&self, fingerprint: Fingerprint, range: TimeSpan) -> Result<Vec<Episode>> {
        let filter = format!(" | fingerprint={}", quote(&fingerprint.to_string()));
        let notifications = self.notifications(range, &filter)?;
        let mut episodes: Vec<Episode> = merge_notifications(&notifications)
            .into_iter()
            .filter(|e| e.fingerprint == fingerprint && e.overlaps(&range))
            .collect();
        episodes.sort_by_key(|e| e.starts_at);
        Ok(episodes)
    }

    fn record_heartbeat(&self, heartbeat: &Heartbeat) -> Result<()> {
        let at = match heartbeat {
            Heartbeat::Watchdog { at } | Heartbeat::ServerAlive { at, .. } => *at,
        };
        to_nanos(at, "heartbeat.at")?;
        let line = serde_json::to_string(heartbeat).map_err(|e| Error::Decode {
            field: "heartbeat".into(),
            reason: e.to_string(),
        })?;
        let ts = self.next_ts(at.unix_nanos());
        self.push(vec![json!({
            "stream": self.stream_labels("heartbeat"),
            "values": [[ts.to_string(), line]],
        })])
    }

    fn heartbeats(&self, range: TimeSpan, max_gap: Duration) -> Result<HeartbeatLog> {
        let start = i128::from(to_nanos(range.start, "range.start")?);
        let end = i128::from(to_nanos(range.end, "range.end")?);
        let back = i128::from(self.config.lookback.as_millis()) * 1_000_000;
        // Heartbeats after the range matter too: the newest one, and server runs whose
        // start ends a downtime. Read up to now.
        let until = (end + back).max(Self::now_ns() + 1);
        let lines = self.fetch(&self.selector("heartbeat"), start - back, until)?;
        let mut watchdog = Vec::new();
        let mut runs: BTreeMap<Timestamp, Timestamp> = BTreeMap::new();
        for (ts, line) in lines {
            let hb: Heartbeat = serde_json::from_str(&line).map_err(|e| Error::Decode {
                field: format!("loki heartbeat line at {ts}"),
                reason: e.to_string(),
            })?;
            match hb {
                Heartbeat::Watchdog { at } => watchdog.push(at),
                Heartbeat::ServerAlive { started_at, at } => {
                    let last = runs.entry(started_at).or_insert(at);
                    *last = (*last).max(at);
                }
            }
        }
        let runs: Vec<ServerRun> = runs
            .into_iter()
            .map(|(started_at, last_alive)| ServerRun {
                started_at,
                last_alive,
            })
            .collect();
        Ok(HeartbeatLog::from_beats(&watchdog, &runs, range, max_gap))
    }

    fn purge(&self, before: Timestamp) -> Result<PurgeOutcome> {
        let end = to_nanos(before, "before")?.saturating_sub(1);
        let req = self
            .agent
            .post(self.url(DELETE))
            .query(
                "query",
                format!("{{service_name={}}}", quote("alert-history")),
            )
            .query("start", "0")
            .query("end", from_nanos(end).to_string());
        let resp = self
            .with_tenant(req)
            .send_empty()
            .map_err(|e| Self::transport(DELETE, e))?;
        Self::finish(DELETE, resp)?;
        // Loki carries deletions out asynchronously and does not say how much went.
        Ok(PurgeOutcome { removed: 0 })
    }

    fn stats(&self) -> Result<StoreStats> {
        let now = Self::now_ns();
        let window = i128::from(self.config.stats_window.as_millis()) * 1_000_000;
        let ahead = i128::from(self.config.lookahead.as_millis()) * 1_000_000;
        let lines = self.fetch(&self.selector("notification"), now - window, now + ahead)?;
        let mut notifications = Vec::with_capacity(lines.len());
        for (ts, line) in lines {
            let l: NotificationLine = serde_json::from_str(&line).map_err(|e| Error::Decode {
                field: format!("loki line at {ts}"),
                reason: e.to_string(),
            })?;
            notifications.push(l.notification);
        }
        let episodes = merge_notifications(&notifications);
        let heartbeats = self
            .fetch(
                &format!(
                    "{} |= {}",
                    self.selector("heartbeat"),
                    quote("\"watchdog\"")
                ),
                now - window,
                now + ahead,
            )?
            .len();
        Ok(StoreStats {
            episodes: episodes.len() as u64,
            open_episodes: episodes.iter().filter(|e| e.is_open()).count() as u64,
            heartbeats: heartbeats as u64,
            newest_seen: notifications.iter().map(|n| n.received_at).max(),
            bytes: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_parsed_and_labels_quoted() {
        let body = r#"{"status":"success","data":{"resultType":"streams","result":[
            {"stream":{"kind":"notification"},"values":[["2","b"],["1","a"]]},
            {"stream":{"kind":"heartbeat"},"values":[["3","c"]]}]}}"#;
        let got = parse_streams(body).expect("parses");
        assert_eq!(got.len(), 3);
        assert!(parse_streams(r#"{"status":"error"}"#).is_err());
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        let store = LokiStore::new(LokiConfig::new("http://loki:3100/"));
        assert_eq!(
            store.selector("heartbeat"),
            r#"{kind="heartbeat", service_name="alert-history"}"#
        );
        assert_eq!(store.url(PUSH), "http://loki:3100/loki/api/v1/push");
    }

    #[test]
    fn selectors_narrow_the_read_by_alertname_only_when_all_name_one() {
        let filter = |values: &[&str]| {
            alertname_filter(&Selectors::parse(values.iter().copied()).expect("valid"))
        };
        assert_eq!(filter(&[]), "");
        assert_eq!(filter(&[r#"alertname="A""#]), r#" | alertname="A""#);
        assert_eq!(
            filter(&[
                r#"{alertname="A",n="1"}"#,
                r#"{alertname="B"}"#,
                r#"{n="2",alertname="A"}"#
            ]),
            r#" | alertname="A" or alertname="B""#
        );
        assert_eq!(filter(&[r#"alertname="A""#, r#"n="1""#]), "");
        assert_eq!(filter(&[r#"alertname="A""#, r#"alertname=~"B""#]), "");
        assert_eq!(
            filter(&[r#"{alertname="say \"hi\""}"#]),
            r#" | alertname="say \"hi\"""#
        );
    }

    #[test]
    fn timestamps_strictly_increase() {
        let store = LokiStore::new(LokiConfig::new("http://loki:3100"));
        assert_eq!(store.next_ts(10), 10);
        assert_eq!(store.next_ts(10), 11);
        assert_eq!(store.next_ts(5), 12);
        assert_eq!(store.next_ts(100), 100);
    }
}
