//! When the alerting pipeline itself was down, from heartbeats.
//!
//! Two sources say so:
//! - the **Watchdog heartbeat**: an always-firing alert (kube-prometheus' `Watchdog`)
//!   routed to the history receiver arrives at least every `repeat_interval` (plus up to
//!   one `group_interval`, as Alertmanager flushes on group ticks). When the gap between
//!   two heartbeats is longer than `repeat_interval + group_interval + slack`, the
//!   pipeline (Prometheus, Alertmanager or the network to us) was down from the moment the
//!   missing heartbeat was due (`previous + repeat_interval + group_interval`) until the
//!   next one arrived; if none has arrived by now, the outage is still going on and
//!   lasts to the end of the range asked for;
//! - the **server's own downtime**: each run of the history server records when it
//!   started and, periodically, that it is still alive; between the last-alive record of
//!   one run and the start of the next, nothing was recorded.
//!
//! Before the first Watchdog heartbeat known to the store nothing can be said, so no
//! unavailability is derived from the heartbeat there (a deployment without a Watchdog
//! route never shows heartbeat outages).

use alert_core::{Duration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::range::TimeRange;

/// A liveness record the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Heartbeat {
    /// A Watchdog notification arrived at `at`.
    Watchdog {
        /// When it was received.
        at: Timestamp,
    },
    /// The server run that started at `started_at` was alive at `at`.
    #[serde(rename_all = "camelCase")]
    ServerAlive {
        /// When this run of the server started (identifies the run).
        started_at: Timestamp,
        /// When it was known to be alive.
        at: Timestamp,
    },
}

/// One run of the history server: from its start to its last-alive record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerRun {
    /// When the run started.
    pub started_at: Timestamp,
    /// The newest alive record of the run.
    pub last_alive: Timestamp,
}

/// The heartbeats a store holds for a range.
///
/// `watchdog` holds the Watchdog heartbeats inside the range, sorted, preceded by the
/// newest one before the range (when the store has one within its look-back). `runs`
/// holds the server runs that overlap the range and the nearest run on each side of it,
/// sorted by start, so that the downtime between runs can be computed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatLog {
    /// Receive times of Watchdog notifications.
    pub watchdog: Vec<Timestamp>,
    /// Server runs.
    pub runs: Vec<ServerRun>,
}

/// How often the Watchdog heartbeat is expected: the route's timers plus some slack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatPolicy {
    /// The Watchdog route's `repeat_interval`.
    pub repeat_interval: Duration,
    /// The Watchdog route's `group_interval`.
    pub group_interval: Duration,
    /// Extra tolerance for delivery delays and retries.
    pub slack: Duration,
}

impl Default for HeartbeatPolicy {
    /// Alertmanager's defaults (`repeat_interval: 4h`, `group_interval: 5m`) and one
    /// minute of slack.
    fn default() -> Self {
        HeartbeatPolicy {
            repeat_interval: Duration::from_secs(4 * 3600).unwrap_or_default(),
            group_interval: Duration::from_secs(300).unwrap_or_default(),
            slack: Duration::from_secs(60).unwrap_or_default(),
        }
    }
}

impl HeartbeatPolicy {
    /// When, at the latest, the heartbeat after one at `t` is due.
    pub fn due_after(&self, t: Timestamp) -> Option<Timestamp> {
        t.checked_add(self.repeat_interval.checked_add(self.group_interval)?)
    }

    /// The longest gap between heartbeats that still counts as "up".
    pub fn max_gap(&self) -> Option<Duration> {
        self.repeat_interval
            .checked_add(self.group_interval)?
            .checked_add(self.slack)
    }
}

/// The runs of `all` (sorted by start) that a [`HeartbeatLog`] for `range` holds: those
/// overlapping it and the nearest run on each side.
pub fn runs_around(all: &[ServerRun], range: TimeRange) -> Vec<ServerRun> {
    let overlapping = |r: &ServerRun| r.started_at < range.end && r.last_alive >= range.start;
    let before = all
        .iter()
        .rev()
        .find(|r| r.last_alive < range.start && r.started_at < range.end);
    let after = all.iter().find(|r| r.started_at >= range.end);
    let mut out: Vec<ServerRun> = before.into_iter().copied().collect();
    out.extend(all.iter().filter(|r| overlapping(r)).copied());
    out.extend(after.copied());
    out.sort_by_key(|r| r.started_at);
    out.dedup();
    out
}

/// Why a period is unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnavailableCause {
    /// The Watchdog heartbeat did not arrive in time.
    HeartbeatMissing,
    /// The history server was not running.
    ServerDown,
}

/// A period during which the alerting pipeline was down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailable {
    /// Start (inclusive).
    pub start: Timestamp,
    /// End (exclusive).
    pub end: Timestamp,
    /// What showed it.
    pub cause: UnavailableCause,
}

/// The periods in `range` (clipped to it, sorted, non-overlapping periods of one cause
/// merged) when the pipeline was down, as of `now`.
///
/// ```
/// use alert_core::{Duration, Timestamp};
/// use alert_history::{unavailable_periods, HeartbeatLog, HeartbeatPolicy, TimeRange};
/// let t = |s: &str| s.parse::<Timestamp>().unwrap();
/// let policy = HeartbeatPolicy {
///     repeat_interval: "1m".parse()?, group_interval: "10s".parse()?, slack: "10s".parse()?,
/// };
/// let log = HeartbeatLog {
///     watchdog: vec![t("2024-05-01T10:00:00Z"), t("2024-05-01T10:01:00Z"), t("2024-05-01T10:10:00Z")],
///     runs: vec![],
/// };
/// let range = TimeRange::new(t("2024-05-01T10:00:00Z"), t("2024-05-01T11:00:00Z"))?;
/// let down = unavailable_periods(&log, &policy, range, t("2024-05-01T10:10:30Z"));
/// assert_eq!(down.len(), 1);
/// assert_eq!(down[0].start, t("2024-05-01T10:02:10Z")); // 10:01 + 1m + 10s
/// assert_eq!(down[0].end, t("2024-05-01T10:10:00Z"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn unavailable_periods(
    log: &HeartbeatLog,
    policy: &HeartbeatPolicy,
    range: TimeRange,
    now: Timestamp,
) -> Vec<Unavailable> {
    let mut out = Vec::new();
    if let Some(max_gap) = policy.max_gap() {
        let mut beats = log.watchdog.clone();
        beats.sort();
        beats.dedup();
        let mut push_gap = |from: Timestamp, to: Timestamp| {
            let gap_too_long = from.checked_add(max_gap).is_some_and(|limit| to > limit);
            if gap_too_long && let Some(due) = policy.due_after(from) {
                out.push(Unavailable {
                    start: due,
                    end: to,
                    cause: UnavailableCause::HeartbeatMissing,
                });
            }
        };
        for pair in beats.windows(2) {
            push_gap(pair[0], pair[1]);
        }
        // A gap still open at `now` is an outage still going on: it runs to the end of
        // the range (clipped below), however far past `now` that is.
        if let Some(&last) = beats.last()
            && last < now
            && last.checked_add(max_gap).is_some_and(|limit| now > limit)
            && let Some(due) = policy.due_after(last)
        {
            out.push(Unavailable {
                start: due,
                end: now.max(range.end),
                cause: UnavailableCause::HeartbeatMissing,
            });
        }
    }
    let mut runs = log.runs.clone();
    runs.sort_by_key(|r| r.started_at);
    for pair in runs.windows(2) {
        if pair[0].last_alive < pair[1].started_at {
            out.push(Unavailable {
                start: pair[0].last_alive,
                end: pair[1].started_at,
                cause: UnavailableCause::ServerDown,
            });
        }
    }
    clip_and_merge(out, range)
}

/// Clips periods to `range`, drops empty ones, sorts them and merges overlapping or
/// touching periods of the same cause.
fn clip_and_merge(periods: Vec<Unavailable>, range: TimeRange) -> Vec<Unavailable> {
    let mut clipped: Vec<Unavailable> = periods
        .into_iter()
        .map(|p| Unavailable {
            start: p.start.max(range.start),
            end: p.end.min(range.end),
            cause: p.cause,
        })
        .filter(|p| p.start < p.end)
        .collect();
    clipped.sort_by_key(|p| (p.cause, p.start));
    let mut merged: Vec<Unavailable> = Vec::with_capacity(clipped.len());
    for p in clipped {
        match merged.last_mut() {
            Some(last) if last.cause == p.cause && p.start <= last.end => {
                last.end = last.end.max(p.end);
            }
            _ => merged.push(p),
        }
    }
    merged.sort_by_key(|p| (p.start, p.cause));
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    fn policy() -> HeartbeatPolicy {
        HeartbeatPolicy {
            repeat_interval: "1m".parse().expect("valid"),
            group_interval: "10s".parse().expect("valid"),
            slack: "10s".parse().expect("valid"),
        }
    }

    fn day() -> TimeRange {
        TimeRange::new(t("2024-05-01T00:00:00Z"), t("2024-05-02T00:00:00Z")).expect("valid")
    }

    #[test]
    fn regular_heartbeats_mean_available() {
        let watchdog = (0..60)
            .map(|i| {
                Timestamp::from_unix(t("2024-05-01T10:00:00Z").unix_seconds() + i * 75, 0)
                    .expect("ok")
            })
            .collect();
        let log = HeartbeatLog {
            watchdog,
            runs: vec![],
        };
        // 75 s gaps are within 1m + 10s + 10s = 80 s.
        let now = t("2024-05-01T11:14:00Z");
        assert!(unavailable_periods(&log, &policy(), day(), now).is_empty());
    }

    #[test]
    fn a_gap_just_over_the_limit_is_unavailable_from_the_due_time() {
        let log = HeartbeatLog {
            watchdog: vec![t("2024-05-01T10:00:00Z"), t("2024-05-01T10:01:20.001Z")],
            runs: vec![],
        };
        let got = unavailable_periods(&log, &policy(), day(), t("2024-05-01T10:01:30Z"));
        assert_eq!(
            got,
            vec![Unavailable {
                start: t("2024-05-01T10:01:10Z"),
                end: t("2024-05-01T10:01:20.001Z"),
                cause: UnavailableCause::HeartbeatMissing
            }]
        );
        // Exactly the limit is still up.
        let log = HeartbeatLog {
            watchdog: vec![t("2024-05-01T10:00:00Z"), t("2024-05-01T10:01:20Z")],
            runs: vec![],
        };
        assert!(unavailable_periods(&log, &policy(), day(), t("2024-05-01T10:01:30Z")).is_empty());
    }

    #[test]
    fn a_stopped_heartbeat_is_unavailable_to_the_end_of_the_range() {
        let log = HeartbeatLog {
            watchdog: vec![t("2024-04-30T23:59:00Z")],
            runs: vec![],
        };
        let got = unavailable_periods(&log, &policy(), day(), t("2024-05-01T00:30:00Z"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].start, t("2024-05-01T00:00:10Z"));
        assert_eq!(
            got[0].end,
            day().end,
            "still going on at now: to the end of the range"
        );
        // Not yet overdue at now: nothing.
        let got = unavailable_periods(&log, &policy(), day(), t("2024-05-01T00:00:20Z"));
        assert!(got.is_empty(), "{got:?}");
        // Before the first heartbeat nothing is known: no outage.
        let none = HeartbeatLog::default();
        assert!(unavailable_periods(&none, &policy(), day(), t("2024-05-01T12:00:00Z")).is_empty());
    }

    #[test]
    fn server_downtime_between_runs() {
        let log = HeartbeatLog {
            watchdog: vec![],
            runs: vec![
                ServerRun {
                    started_at: t("2024-05-01T12:00:00Z"),
                    last_alive: t("2024-05-01T13:00:00Z"),
                },
                ServerRun {
                    started_at: t("2024-04-30T12:00:00Z"),
                    last_alive: t("2024-05-01T08:00:00Z"),
                },
            ],
        };
        let got = unavailable_periods(&log, &policy(), day(), t("2024-05-01T13:00:00Z"));
        assert_eq!(
            got,
            vec![Unavailable {
                start: t("2024-05-01T08:00:00Z"),
                end: t("2024-05-01T12:00:00Z"),
                cause: UnavailableCause::ServerDown
            }]
        );
    }
}
