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

use crate::range::TimeSpan;

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

/// Two consecutive Watchdog heartbeats further apart than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HeartbeatGap {
    /// The heartbeat before the gap.
    pub after: Timestamp,
    /// The heartbeat that ended the gap.
    pub before: Timestamp,
}

/// What a store knows about the pipeline's liveness around a range, for a given longest
/// allowed gap between heartbeats (see [`HistoryStore::heartbeats`]).
///
/// [`HeartbeatLog::from_beats`] is the reference: a store's answer must equal what it
/// computes from every heartbeat the store holds (within its look-back).
///
/// [`HistoryStore::heartbeats`]: crate::HistoryStore::heartbeats
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatLog {
    /// Gaps longer than the allowed one between consecutive Watchdog heartbeats that
    /// reach into the range (`before > range.start`, `after < range.end`), sorted.
    pub gaps: Vec<HeartbeatGap>,
    /// The newest Watchdog heartbeat held (an outage still going on starts after it).
    pub newest: Option<Timestamp>,
    /// The server runs that overlap the range and the nearest run on each side of it,
    /// sorted by start, so that the downtime between runs can be computed.
    pub runs: Vec<ServerRun>,
}

impl HeartbeatLog {
    /// The log for `range` from all Watchdog heartbeats and server runs (any order).
    ///
    /// ```
    /// use alert_core::{Duration, Timestamp};
    /// use alert_history::{HeartbeatGap, HeartbeatLog, TimeSpan};
    /// let t = |s: i64| Timestamp::from_unix(s, 0).unwrap();
    /// let beats = [t(0), t(60), t(120), t(1000), t(1060)];
    /// let log = HeartbeatLog::from_beats(&beats, &[], TimeSpan::new(t(100), t(1050))?, "100s".parse()?);
    /// assert_eq!(log.gaps, [HeartbeatGap { after: t(120), before: t(1000) }]);
    /// assert_eq!(log.newest, Some(t(1060)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_beats(
        beats: &[Timestamp],
        runs: &[ServerRun],
        range: TimeSpan,
        max_gap: Duration,
    ) -> HeartbeatLog {
        let mut beats = beats.to_vec();
        beats.sort();
        beats.dedup();
        let gaps = beats
            .windows(2)
            .filter(|w| w[0].checked_add(max_gap).is_some_and(|limit| w[1] > limit))
            .filter(|w| w[1] > range.start && w[0] < range.end)
            .map(|w| HeartbeatGap {
                after: w[0],
                before: w[1],
            })
            .collect();
        let mut runs = runs.to_vec();
        runs.sort_by_key(|r| r.started_at);
        HeartbeatLog {
            gaps,
            newest: beats.last().copied(),
            runs: runs_around(&runs, range),
        }
    }
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
pub fn runs_around(all: &[ServerRun], range: TimeSpan) -> Vec<ServerRun> {
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
/// use alert_history::{unavailable_periods, HeartbeatLog, HeartbeatPolicy, TimeSpan};
/// let t = |s: &str| s.parse::<Timestamp>().unwrap();
/// let policy = HeartbeatPolicy {
///     repeat_interval: "1m".parse()?, group_interval: "10s".parse()?, slack: "10s".parse()?,
/// };
/// let range = TimeSpan::new(t("2024-05-01T10:00:00Z"), t("2024-05-01T11:00:00Z"))?;
/// let beats = [t("2024-05-01T10:00:00Z"), t("2024-05-01T10:01:00Z"), t("2024-05-01T10:10:00Z")];
/// let log = HeartbeatLog::from_beats(&beats, &[], range, policy.max_gap().unwrap());
/// let down = unavailable_periods(&log, &policy, range, t("2024-05-01T10:10:30Z"));
/// assert_eq!(down.len(), 1);
/// assert_eq!(down[0].start, t("2024-05-01T10:02:10Z")); // 10:01 + 1m + 10s
/// assert_eq!(down[0].end, t("2024-05-01T10:10:00Z"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn unavailable_periods(
    log: &HeartbeatLog,
    policy: &HeartbeatPolicy,
    range: TimeSpan,
    now: Timestamp,
) -> Vec<Unavailable> {
    let mut out = Vec::new();
    if let Some(max_gap) = policy.max_gap() {
        let too_long = |from: Timestamp, to: Timestamp| {
            from.checked_add(max_gap).is_some_and(|limit| to > limit)
        };
        for gap in &log.gaps {
            if too_long(gap.after, gap.before)
                && let Some(due) = policy.due_after(gap.after)
            {
                out.push(Unavailable {
                    start: due,
                    end: gap.before,
                    cause: UnavailableCause::HeartbeatMissing,
                });
            }
        }
        // A gap still open at `now` is an outage still going on: it runs to the end of
        // the range (clipped below), however far past `now` that is.
        if let Some(last) = log.newest
            && last < now
            && too_long(last, now)
            && let Some(due) = policy.due_after(last)
        {
            out.push(Unavailable {
                start: due,
                end: now.max(range.end),
                cause: UnavailableCause::HeartbeatMissing,
            });
        }
    }
    // The server was down where no run covers: with several replicas on one database
    // their runs overlap, and one replica's end is no outage while another runs.
    let mut runs = log.runs.clone();
    runs.sort_by_key(|r| r.started_at);
    let mut covered_until: Option<Timestamp> = None;
    for run in &runs {
        if let Some(until) = covered_until
            && until < run.started_at
        {
            out.push(Unavailable {
                start: until,
                end: run.started_at,
                cause: UnavailableCause::ServerDown,
            });
        }
        covered_until = Some(covered_until.map_or(run.last_alive, |u| u.max(run.last_alive)));
    }
    clip_and_merge(out, range)
}

/// Clips periods to `range`, drops empty ones, sorts them and merges overlapping or
/// touching periods of the same cause.
fn clip_and_merge(periods: Vec<Unavailable>, range: TimeSpan) -> Vec<Unavailable> {
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

    fn day() -> TimeSpan {
        TimeSpan::new(t("2024-05-01T00:00:00Z"), t("2024-05-02T00:00:00Z")).expect("valid")
    }

    /// The log of `beats` for the whole day with the policy's gap.
    fn beats(beats: Vec<Timestamp>) -> HeartbeatLog {
        HeartbeatLog::from_beats(&beats, &[], day(), policy().max_gap().expect("fits"))
    }

    #[test]
    fn regular_heartbeats_mean_available() {
        let watchdog = (0..60)
            .map(|i| {
                Timestamp::from_unix(t("2024-05-01T10:00:00Z").unix_seconds() + i * 75, 0)
                    .expect("ok")
            })
            .collect();
        let log = beats(watchdog);
        assert!(log.gaps.is_empty());
        // 75 s gaps are within 1m + 10s + 10s = 80 s.
        let now = t("2024-05-01T11:14:00Z");
        assert!(unavailable_periods(&log, &policy(), day(), now).is_empty());
    }

    #[test]
    fn a_gap_just_over_the_limit_is_unavailable_from_the_due_time() {
        let log = beats(vec![
            t("2024-05-01T10:00:00Z"),
            t("2024-05-01T10:01:20.001Z"),
        ]);
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
        let log = beats(vec![t("2024-05-01T10:00:00Z"), t("2024-05-01T10:01:20Z")]);
        assert!(unavailable_periods(&log, &policy(), day(), t("2024-05-01T10:01:30Z")).is_empty());
    }

    #[test]
    fn a_stopped_heartbeat_is_unavailable_to_the_end_of_the_range() {
        let log = beats(vec![t("2024-04-30T23:59:00Z")]);
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
            gaps: vec![],
            newest: None,
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

    /// Replicas on one database: their runs overlap. A replica killed while another runs
    /// is no outage; a time no run covers is one.
    #[test]
    fn overlapping_runs_of_replicas_cover_each_other() {
        let run = |from: &str, to: &str| ServerRun {
            started_at: t(from),
            last_alive: t(to),
        };
        let log = HeartbeatLog {
            gaps: vec![],
            newest: None,
            runs: vec![
                // Replica a runs all day; b is killed at 09:00 and restarted at 10:00.
                run("2024-05-01T00:00:00Z", "2024-05-01T20:00:00Z"),
                run("2024-05-01T01:00:00Z", "2024-05-01T09:00:00Z"),
                run("2024-05-01T10:00:00Z", "2024-05-01T20:00:00Z"),
            ],
        };
        let got = unavailable_periods(&log, &policy(), day(), t("2024-05-01T20:00:00Z"));
        assert!(got.is_empty(), "{got:?}");
        // Without replica a, b's restart leaves an hour no run covers.
        let mut log = log;
        log.runs.remove(0);
        let got = unavailable_periods(&log, &policy(), day(), t("2024-05-01T20:00:00Z"));
        assert_eq!(
            got,
            vec![Unavailable {
                start: t("2024-05-01T09:00:00Z"),
                end: t("2024-05-01T10:00:00Z"),
                cause: UnavailableCause::ServerDown
            }]
        );
    }

    #[test]
    fn gaps_are_those_reaching_into_the_range() {
        let s = |x: i64| Timestamp::from_unix(1_714_521_600 + x, 0).expect("valid");
        let all = [s(0), s(60), s(120), s(1000), s(1060), s(2000)];
        let gap: Duration = "100s".parse().expect("valid");
        let log = |from, to| {
            HeartbeatLog::from_beats(
                &all,
                &[],
                TimeSpan::new(s(from), s(to)).expect("valid"),
                gap,
            )
            .gaps
        };
        let g = |a, b| HeartbeatGap {
            after: s(a),
            before: s(b),
        };
        assert_eq!(log(0, 3000), [g(120, 1000), g(1060, 2000)]);
        assert_eq!(
            log(500, 600),
            [g(120, 1000)],
            "a gap around the range reaches into it"
        );
        assert_eq!(
            log(1000, 1060),
            Vec::<HeartbeatGap>::new(),
            "ends exactly at the start"
        );
        assert_eq!(log(1059, 1061), [g(1060, 2000)]);
        assert_eq!(log(-100, 0), Vec::<HeartbeatGap>::new());
    }
}
