//! The store trait every backend implements, and the types of its queries.
//!
//! A backend is done when [`crate::conformance`] passes against it. Stores are blocking
//! (an async server calls them from a blocking thread); each method is one unit of work
//! and safe to call from several threads.

use std::fmt;
use std::str::FromStr;

use alert_core::{Duration, Fingerprint, Timestamp};
use serde::{Deserialize, Serialize};

use crate::availability::{Heartbeat, HeartbeatLog};
use crate::episode::{Episode, Notification};
use crate::error::{Error, Result};
use crate::range::TimeSpan;
use crate::selector::Selectors;

/// The largest page a query may ask for.
pub const MAX_QUERY_LIMIT: usize = 10_000;

/// Where the next page of a query starts: after the episode with this start and
/// fingerprint (pages are ordered by start, then fingerprint).
///
/// Written `<nanoseconds since 1970>-<fingerprint>`:
///
/// ```
/// use alert_history::Cursor;
/// let c: Cursor = "1714557600000000000-823de09697ca9348".parse()?;
/// assert_eq!(c.starts_at.to_string(), "2024-05-01T10:00:00Z");
/// assert_eq!(c.to_string(), "1714557600000000000-823de09697ca9348");
/// assert!("yesterday".parse::<Cursor>().is_err());
/// # Ok::<(), alert_history::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cursor {
    /// The start of the last episode of the previous page.
    pub starts_at: Timestamp,
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
}

impl Cursor {
    /// The cursor that continues after `episode`.
    pub fn after(episode: &Episode) -> Cursor {
        Cursor {
            starts_at: episode.starts_at,
            fingerprint: episode.fingerprint,
        }
    }

    /// Whether `episode` comes after this cursor in page order.
    pub fn precedes(&self, episode: &Episode) -> bool {
        (self.starts_at, self.fingerprint) < (episode.starts_at, episode.fingerprint)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.starts_at.unix_nanos(), self.fingerprint)
    }
}

impl FromStr for Cursor {
    type Err = Error;

    fn from_str(s: &str) -> Result<Cursor> {
        let invalid = || Error::InvalidCursor {
            cursor: s.to_owned(),
        };
        let (nanos, fp) = s.rsplit_once('-').ok_or_else(invalid)?;
        let nanos: i128 = nanos.parse().map_err(|_| invalid())?;
        let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).map_err(|_| invalid())?;
        let sub = i32::try_from(nanos.rem_euclid(1_000_000_000)).map_err(|_| invalid())?;
        Ok(Cursor {
            starts_at: Timestamp::from_unix(secs, sub).map_err(|_| invalid())?,
            fingerprint: fp.parse().map_err(|_| invalid())?,
        })
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Episodes overlapping `range` that `selectors` select, one page at a time.
#[derive(Debug, Clone)]
pub struct EpisodeQuery {
    /// The half-open range the episodes must overlap.
    pub range: TimeSpan,
    /// `match[]`: selectors of Alertmanager matchers, OR-ed, each matching when all its
    /// matchers match (none selects everything).
    pub selectors: Selectors,
    /// The page size, 1 to [`MAX_QUERY_LIMIT`].
    pub limit: usize,
    /// Continue after this episode.
    pub cursor: Option<Cursor>,
    /// Whether the episodes carry their annotations, receiver and generator URL (true).
    /// A timeline needs none of them; the SQL stores then leave them empty and do not
    /// read or decode them.
    pub details: bool,
}

impl EpisodeQuery {
    /// The first page of up to 1,000 episodes overlapping `range`, unfiltered.
    pub fn new(range: TimeSpan) -> EpisodeQuery {
        EpisodeQuery {
            range,
            selectors: Selectors::all(),
            limit: 1000,
            cursor: None,
            details: true,
        }
    }

    /// Checks the limit.
    pub fn validate(&self) -> Result<()> {
        if self.limit == 0 || self.limit > MAX_QUERY_LIMIT {
            return Err(Error::InvalidLimit {
                value: self.limit,
                max: MAX_QUERY_LIMIT,
            });
        }
        Ok(())
    }

    /// Whether `episode` belongs in the answer (ignoring the page limit).
    pub fn admits(&self, episode: &Episode) -> bool {
        episode.overlaps(&self.range)
            && self.cursor.is_none_or(|c| c.precedes(episode))
            && self.selectors.matches(&episode.labels)
    }

    /// Cuts `episodes` (all admitted, in page order) to a page.
    pub fn paginate(&self, mut episodes: Vec<Episode>) -> EpisodePage {
        if episodes.len() > self.limit {
            episodes.truncate(self.limit);
            let next = episodes.last().map(Cursor::after);
            EpisodePage { episodes, next }
        } else {
            EpisodePage {
                episodes,
                next: None,
            }
        }
    }
}

/// Episodes in page order (start, then fingerprint) and the cursor of the next page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpisodePage {
    /// This page.
    pub episodes: Vec<Episode>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

/// What an append did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendOutcome {
    /// Notifications written.
    pub notifications: usize,
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeOutcome {
    /// Episodes removed; 0 from a store that cannot count them (Loki deletes
    /// asynchronously).
    pub removed: u64,
}

/// What a store holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreStats {
    /// Episodes kept.
    pub episodes: u64,
    /// Of which still open.
    pub open_episodes: u64,
    /// Watchdog heartbeats kept.
    pub heartbeats: u64,
    /// The newest notification's receive time.
    pub newest_seen: Option<Timestamp>,
    /// Bytes on disk, where the backend knows.
    pub bytes: Option<u64>,
}

/// Alert history storage.
///
/// Semantics every backend keeps (and [`crate::conformance`] checks):
/// - [`append`](HistoryStore::append) returns only once the notifications are durable
///   (a new store opened on the same storage sees them); merging follows
///   [`Episode::merge`], so re-deliveries change nothing;
/// - [`query`](HistoryStore::query) returns episodes overlapping the half-open range
///   whose labels match every matcher of at least one selector (each episode once, however
///   many selectors select it), in (start, fingerprint) order, `limit` at a time;
/// - [`purge`](HistoryStore::purge) removes episodes (and Watchdog heartbeats) last heard
///   of before the cutoff.
pub trait HistoryStore: Send + Sync {
    /// Merges notifications into episodes and makes them durable.
    fn append(&self, notifications: &[Notification]) -> Result<AppendOutcome>;

    /// One page of episodes.
    fn query(&self, query: &EpisodeQuery) -> Result<EpisodePage>;

    /// The episodes of one alert overlapping `range`, oldest first.
    fn episodes_of(&self, fingerprint: Fingerprint, range: TimeSpan) -> Result<Vec<Episode>>;

    /// Records a heartbeat (a Watchdog arrival or a server-alive record).
    fn record_heartbeat(&self, heartbeat: &Heartbeat) -> Result<()>;

    /// The heartbeat gaps longer than `max_gap` reaching into `range`, the newest
    /// heartbeat, and the server runs around `range`: what
    /// [`HeartbeatLog::from_beats`] computes from every heartbeat held.
    fn heartbeats(&self, range: TimeSpan, max_gap: Duration) -> Result<HeartbeatLog>;

    /// Removes what was last heard of before `before`.
    fn purge(&self, before: Timestamp) -> Result<PurgeOutcome>;

    /// Counts of what is kept.
    fn stats(&self) -> Result<StoreStats>;
}

impl<S: HistoryStore + ?Sized> HistoryStore for Box<S> {
    fn append(&self, notifications: &[Notification]) -> Result<AppendOutcome> {
        (**self).append(notifications)
    }
    fn query(&self, query: &EpisodeQuery) -> Result<EpisodePage> {
        (**self).query(query)
    }
    fn episodes_of(&self, fingerprint: Fingerprint, range: TimeSpan) -> Result<Vec<Episode>> {
        (**self).episodes_of(fingerprint, range)
    }
    fn record_heartbeat(&self, heartbeat: &Heartbeat) -> Result<()> {
        (**self).record_heartbeat(heartbeat)
    }
    fn heartbeats(&self, range: TimeSpan, max_gap: Duration) -> Result<HeartbeatLog> {
        (**self).heartbeats(range, max_gap)
    }
    fn purge(&self, before: Timestamp) -> Result<PurgeOutcome> {
        (**self).purge(before)
    }
    fn stats(&self) -> Result<StoreStats> {
        (**self).stats()
    }
}

/// Nanoseconds since 1970 as a store keeps them, or an error naming `field`.
pub fn to_nanos(t: Timestamp, field: &str) -> Result<i64> {
    i64::try_from(t.unix_nanos()).map_err(|_| Error::TimestampOutOfRange {
        field: field.to_owned(),
        value: t.to_string(),
    })
}

/// The instant `nanos` after 1970, in UTC.
pub fn from_nanos(nanos: i64) -> Timestamp {
    let secs = nanos.div_euclid(1_000_000_000);
    // rem_euclid of a 1e9 modulus always fits an i32 and Timestamp::from_unix accepts
    // every i64 nanosecond value, so this cannot fall back in practice.
    let sub = i32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
    Timestamp::from_unix(secs, sub).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Checks that every instant of `notifications` fits a store (see [`to_nanos`]).
pub fn check_representable(notifications: &[Notification]) -> Result<()> {
    for (i, n) in notifications.iter().enumerate() {
        to_nanos(n.alert.starts_at, &format!("alerts[{i}].startsAt"))?;
        if let Some(end) = n.alert.ends_at {
            to_nanos(end, &format!("alerts[{i}].endsAt"))?;
        }
        to_nanos(n.received_at, &format!("alerts[{i}].receivedAt"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanos_round_trip_and_range_is_checked() {
        let t: Timestamp = "2024-05-01T10:00:00.123456789Z".parse().expect("valid");
        assert_eq!(from_nanos(to_nanos(t, "x").expect("fits")), t);
        let old: Timestamp = "1600-01-01T00:00:00Z".parse().expect("valid");
        let err = to_nanos(old, "alerts[0].startsAt").unwrap_err().to_string();
        assert!(
            err.starts_with("alerts[0].startsAt: timestamp 1600-01-01T00:00:00Z"),
            "{err}"
        );
        let before_1970: Timestamp = "1969-12-31T23:59:59.5Z".parse().expect("valid");
        assert_eq!(
            from_nanos(to_nanos(before_1970, "x").expect("fits")),
            before_1970
        );
    }

    proptest::proptest! {
        /// Every cursor a store hands out reads back as itself.
        #[test]
        fn cursors_round_trip(nanos in proptest::prelude::any::<i64>(), fp in proptest::prelude::any::<u64>()) {
            let c = Cursor { starts_at: from_nanos(nanos), fingerprint: Fingerprint(fp) };
            let back: Cursor = c.to_string().parse().expect("parses");
            proptest::prop_assert_eq!(back, c);
        }

        /// Garbage never panics the parser.
        #[test]
        fn cursor_parser_never_panics(s in ".{0,40}") {
            let _ = s.parse::<Cursor>();
        }
    }

    #[test]
    fn cursor_rejects_garbage() {
        for bad in [
            "",
            "-",
            "12-",
            "-00ff",
            "x-00ff",
            "12-zz",
            "99999999999999999999999-00ff",
        ] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad}");
        }
        let c: Cursor = "-1-00ff"
            .parse()
            .expect("negative nanos are instants before 1970");
        assert_eq!(c.to_string(), "-1-00000000000000ff");
    }
}
