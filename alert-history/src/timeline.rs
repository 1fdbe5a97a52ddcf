//! Health timelines: the state of an entity over `[t1, t2)` as ordered segments.
//!
//! Each instant has one [`HealthState`], the worst of what applies at it, in this order
//! (worst first):
//!
//! **unavailable > critical > warning > info > healthy**
//!
//! - *unavailable*: the alerting pipeline itself was down (see [`crate::availability`]);
//!   nothing can be said about the entity, so this beats every severity;
//! - *critical*, *warning*, *info*: an episode of that severity was firing;
//! - *healthy*: nothing fired.
//!
//! Segments cover the range exactly (the first starts at `t1`, each ends where the next
//! starts, the last ends at `t2`); neighbours with the same state are merged, their
//! episode lists united. An episode still open when an unavailable period starts after
//! its last notification is ended at that period's start and marked inferred
//! ([`close_open_episodes`]).

use std::collections::BTreeSet;
use std::fmt;

use alert_core::{Fingerprint, Severity, Timestamp};
use serde::{Deserialize, Serialize};

use crate::availability::Unavailable;
use crate::episode::Episode;
use crate::range::TimeRange;

/// The health of an entity at an instant. Ordered from best to worst, so `max` picks
/// the state that wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    /// Nothing fired.
    Healthy,
    /// An informational alert fired.
    Info,
    /// A warning fired.
    Warning,
    /// A critical alert fired.
    Critical,
    /// The alerting pipeline was down.
    Unavailable,
}

impl HealthState {
    /// The state a firing alert with this `severity` label puts its entity in.
    ///
    /// The value is read with [`Severity::from_label_value`] (its aliases, any ASCII
    /// case): `critical` and `error` are critical, `warning` is warning, `info` is info.
    /// `none` (kube-prometheus' severity of `Watchdog` and `InfoInhibitor`) is info. Any
    /// other value and a missing label are warning: something fired and we do not know
    /// how bad it is.
    ///
    /// ```
    /// use alert_history::HealthState;
    /// assert_eq!(HealthState::from_severity(Some("critical")), HealthState::Critical);
    /// assert_eq!(HealthState::from_severity(Some("page")), HealthState::Critical);
    /// assert_eq!(HealthState::from_severity(Some("Info")), HealthState::Info);
    /// assert_eq!(HealthState::from_severity(Some("none")), HealthState::Info);
    /// assert_eq!(HealthState::from_severity(None), HealthState::Warning);
    /// assert!(HealthState::Unavailable > HealthState::Critical);
    /// ```
    pub fn from_severity(severity: Option<&str>) -> HealthState {
        let Some(value) = severity else {
            return HealthState::Warning;
        };
        match Severity::from_label_value(value) {
            Some(Severity::Critical | Severity::Error) => HealthState::Critical,
            Some(Severity::Warning) => HealthState::Warning,
            Some(Severity::Info) => HealthState::Info,
            None if value.eq_ignore_ascii_case("none") => HealthState::Info,
            None => HealthState::Warning,
        }
    }

    /// The lowercase name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Healthy => "healthy",
            HealthState::Info => "info",
            HealthState::Warning => "warning",
            HealthState::Critical => "critical",
            HealthState::Unavailable => "unavailable",
        }
    }
}

impl fmt::Display for HealthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stretch of constant state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Start (inclusive).
    pub start: Timestamp,
    /// End (exclusive).
    pub end: Timestamp,
    /// The state throughout.
    pub state: HealthState,
    /// The fingerprints of the episodes that put the entity in this state (sorted; empty
    /// for healthy and unavailable segments).
    pub episodes: Vec<Fingerprint>,
}

/// Ends every open episode at the start of the first unavailable period that begins
/// after both its start and its last notification, marking the end inferred.
///
/// A period that begins before the last notification does not end the episode: the
/// pipeline was evidently up again and still reporting it.
pub fn close_open_episodes(episodes: &mut [Episode], unavailable: &[Unavailable]) {
    let mut starts: Vec<Timestamp> = unavailable.iter().map(|u| u.start).collect();
    starts.sort();
    for e in episodes.iter_mut().filter(|e| e.is_open()) {
        let after = e.last_seen.max(e.starts_at);
        let i = starts.partition_point(|s| *s <= after);
        if let Some(&start) = starts.get(i) {
            e.ends_at = Some(start);
            e.end_inferred = true;
        }
    }
}

/// The timeline of `range` from an entity's episodes and the unavailable periods.
///
/// Open episodes are first closed with [`close_open_episodes`]; episodes still open run
/// to the end of the range.
///
/// ```
/// use alert_core::{Alert, LabelSet, Timestamp};
/// use alert_history::{timeline, Episode, HealthState, Notification, TimeRange};
/// let t = |s: &str| s.parse::<Timestamp>().unwrap();
/// let labels = LabelSet::from_pairs([("alertname", "DiskFull"), ("severity", "critical")])?;
/// let n = Notification {
///     alert: Alert::firing(labels, t("2024-05-01T10:00:00Z")),
///     receiver: "history".into(),
///     received_at: t("2024-05-01T10:00:30Z"),
/// };
/// let range = TimeRange::new(t("2024-05-01T09:00:00Z"), t("2024-05-01T11:00:00Z"))?;
/// let segments = timeline(range, &[Episode::from_notification(&n)], &[]);
/// assert_eq!(segments.len(), 2);
/// assert_eq!(segments[0].state, HealthState::Healthy);
/// assert_eq!((segments[1].start, segments[1].state), (t("2024-05-01T10:00:00Z"), HealthState::Critical));
/// assert_eq!(segments[1].end, range.end);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn timeline(
    range: TimeRange,
    episodes: &[Episode],
    unavailable: &[Unavailable],
) -> Vec<Segment> {
    let mut episodes = episodes.to_vec();
    close_open_episodes(&mut episodes, unavailable);

    struct Item {
        start: Timestamp,
        end: Timestamp,
        state: HealthState,
        fingerprint: Option<Fingerprint>,
    }
    let mut items: Vec<Item> = episodes
        .iter()
        .filter(|e| e.overlaps(&range))
        .map(|e| Item {
            start: e.starts_at.max(range.start),
            end: e.ends_at.map_or(range.end, |end| end.min(range.end)),
            state: HealthState::from_severity(e.severity.as_deref()),
            fingerprint: Some(e.fingerprint),
        })
        .chain(unavailable.iter().map(|u| Item {
            start: u.start.max(range.start),
            end: u.end.min(range.end),
            state: HealthState::Unavailable,
            fingerprint: None,
        }))
        .filter(|i| i.start < i.end)
        .collect();
    items.sort_by_key(|i| i.start);

    let mut bounds: Vec<Timestamp> = Vec::with_capacity(items.len() * 2 + 2);
    bounds.push(range.start);
    bounds.push(range.end);
    for i in &items {
        bounds.push(i.start);
        bounds.push(i.end);
    }
    bounds.sort();
    bounds.dedup();

    let mut segments: Vec<Segment> = Vec::new();
    let mut active: Vec<usize> = Vec::new();
    let mut next = 0;
    for w in bounds.windows(2) {
        let (from, to) = (w[0], w[1]);
        active.retain(|&i| items[i].end > from);
        while next < items.len() && items[next].start <= from {
            active.push(next);
            next += 1;
        }
        let state = active
            .iter()
            .map(|&i| items[i].state)
            .max()
            .unwrap_or(HealthState::Healthy);
        let fps: BTreeSet<Fingerprint> = active
            .iter()
            .filter(|&&i| items[i].state == state)
            .filter_map(|&i| items[i].fingerprint)
            .collect();
        match segments.last_mut() {
            Some(last) if last.state == state => {
                last.end = to;
                let mut all: BTreeSet<Fingerprint> = last.episodes.iter().copied().collect();
                all.extend(fps);
                last.episodes = all.into_iter().collect();
            }
            _ => segments.push(Segment {
                start: from,
                end: to,
                state,
                episodes: fps.into_iter().collect(),
            }),
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::availability::UnavailableCause;
    use crate::episode::Notification;
    use alert_core::{Alert, AlertStatus, LabelSet};
    use proptest::prelude::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    fn secs(s: i64) -> Timestamp {
        Timestamp::from_unix(1_714_550_400 + s, 0).expect("valid")
    }

    fn episode(
        name: &str,
        severity: &str,
        start: Timestamp,
        end: Option<Timestamp>,
        seen: Timestamp,
    ) -> Episode {
        let labels =
            LabelSet::from_pairs([("alertname", name), ("severity", severity)]).expect("valid");
        let mut alert = Alert::firing(labels, start);
        if let Some(end) = end {
            alert.status = AlertStatus::Resolved;
            alert.ends_at = Some(end);
        }
        Episode::from_notification(&Notification {
            alert,
            receiver: "history".into(),
            received_at: seen,
        })
    }

    fn day() -> TimeRange {
        TimeRange::new(t("2024-05-01T00:00:00Z"), t("2024-05-02T00:00:00Z")).expect("valid")
    }

    #[test]
    fn precedence_is_unavailable_critical_warning_info_healthy() {
        use HealthState::{Critical, Healthy, Info, Warning};
        let unavailable = HealthState::Unavailable;
        let mut all = vec![Critical, Healthy, unavailable, Info, Warning];
        all.sort();
        assert_eq!(all, vec![Healthy, Info, Warning, Critical, unavailable]);
        // And the timeline applies it: each state stacked over the previous one.
        let eps = vec![
            episode("I", "info", secs(100), Some(secs(900)), secs(100)),
            episode("W", "warning", secs(200), Some(secs(800)), secs(200)),
            episode("C", "critical", secs(300), Some(secs(700)), secs(300)),
        ];
        let down = [Unavailable {
            start: secs(400),
            end: secs(600),
            cause: UnavailableCause::ServerDown,
        }];
        let range = TimeRange::new(secs(0), secs(1000)).expect("valid");
        let got: Vec<(i64, HealthState)> = timeline(range, &eps, &down)
            .iter()
            .map(|s| (s.start.unix_seconds() - 1_714_550_400, s.state))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, Healthy),
                (100, Info),
                (200, Warning),
                (300, Critical),
                (400, unavailable),
                (600, Critical),
                (700, Warning),
                (800, Info),
                (900, Healthy)
            ]
        );
    }

    #[test]
    fn equal_neighbours_merge_and_list_the_episodes_that_made_them() {
        let a = episode(
            "A",
            "critical",
            t("2024-05-01T01:00:00Z"),
            Some(t("2024-05-01T03:00:00Z")),
            t("2024-05-01T01:00:00Z"),
        );
        let b = episode(
            "B",
            "critical",
            t("2024-05-01T02:00:00Z"),
            Some(t("2024-05-01T04:00:00Z")),
            t("2024-05-01T02:00:00Z"),
        );
        let w = episode(
            "W",
            "warning",
            t("2024-05-01T01:30:00Z"),
            Some(t("2024-05-01T05:00:00Z")),
            t("2024-05-01T01:30:00Z"),
        );
        let segs = timeline(day(), &[a.clone(), b.clone(), w.clone()], &[]);
        assert_eq!(segs.len(), 4, "{segs:#?}");
        assert_eq!(segs[1].state, HealthState::Critical);
        assert_eq!(
            (segs[1].start, segs[1].end),
            (t("2024-05-01T01:00:00Z"), t("2024-05-01T04:00:00Z"))
        );
        let mut both = vec![a.fingerprint, b.fingerprint];
        both.sort();
        assert_eq!(segs[1].episodes, both);
        assert_eq!(segs[2].state, HealthState::Warning);
        assert_eq!(segs[2].episodes, vec![w.fingerprint]);
        assert_eq!(segs[3].state, HealthState::Healthy);
        assert!(segs[3].episodes.is_empty());
    }

    #[test]
    fn open_episode_ends_at_the_next_outage_after_its_last_notification() {
        let open = episode(
            "A",
            "critical",
            t("2024-05-01T01:00:00Z"),
            None,
            t("2024-05-01T05:00:00Z"),
        );
        let down = [
            // Before the last notification: the pipeline came back and still reported it.
            Unavailable {
                start: t("2024-05-01T02:00:00Z"),
                end: t("2024-05-01T03:00:00Z"),
                cause: UnavailableCause::HeartbeatMissing,
            },
            Unavailable {
                start: t("2024-05-01T06:00:00Z"),
                end: t("2024-05-01T07:00:00Z"),
                cause: UnavailableCause::ServerDown,
            },
        ];
        let mut eps = vec![open.clone()];
        close_open_episodes(&mut eps, &down);
        assert_eq!(eps[0].ends_at, Some(t("2024-05-01T06:00:00Z")));
        assert!(eps[0].end_inferred);
        let segs = timeline(day(), &[open], &down);
        let states: Vec<HealthState> = segs.iter().map(|s| s.state).collect();
        use HealthState::{Critical, Healthy};
        let unavailable = HealthState::Unavailable;
        assert_eq!(
            states,
            vec![
                Healthy,
                Critical,
                unavailable,
                Critical,
                unavailable,
                Healthy
            ]
        );
        assert_eq!(segs[3].end, t("2024-05-01T06:00:00Z"));
    }

    #[test]
    fn episodes_outside_or_clipped_to_the_range() {
        let before = episode(
            "A",
            "critical",
            t("2024-04-30T01:00:00Z"),
            Some(t("2024-04-30T02:00:00Z")),
            t("2024-04-30T01:00:00Z"),
        );
        let straddling = episode(
            "B",
            "warning",
            t("2024-04-30T23:00:00Z"),
            None,
            t("2024-04-30T23:00:00Z"),
        );
        let segs = timeline(day(), &[before, straddling], &[]);
        assert_eq!(segs.len(), 1);
        assert_eq!(
            (segs[0].start, segs[0].end, segs[0].state),
            (day().start, day().end, HealthState::Warning)
        );
    }

    proptest! {
        /// Segments cover the range exactly, neighbours differ, and each segment's state is
        /// the worst state that applies at its start.
        #[test]
        fn segments_cover_the_range_and_hold_the_worst_state(
            raw in proptest::collection::vec((0i64..1000, 1i64..400, 0u8..4, any::<bool>()), 0..12),
            down in proptest::collection::vec((0i64..1000, 1i64..200), 0..3),
            probes in proptest::collection::vec(0i64..1000, 1..20),
        ) {
            let sev = ["critical", "warning", "info", "other"];
            let eps: Vec<Episode> = raw.iter().enumerate().map(|(i, &(s, len, v, open))| {
                episode(&format!("A{i}"), sev[v as usize], secs(s), (!open).then(|| secs(s + len)), secs(s))
            }).collect();
            let down: Vec<Unavailable> = down.iter().map(|&(s, len)| Unavailable {
                start: secs(s), end: secs(s + len), cause: UnavailableCause::HeartbeatMissing,
            }).collect();
            let range = TimeRange::new(secs(100), secs(900)).expect("valid");
            let segs = timeline(range, &eps, &down);
            prop_assert_eq!(segs[0].start, range.start);
            prop_assert_eq!(segs[segs.len() - 1].end, range.end);
            for w in segs.windows(2) {
                prop_assert_eq!(w[0].end, w[1].start);
                prop_assert_ne!(w[0].state, w[1].state);
            }
            let mut closed = eps.clone();
            close_open_episodes(&mut closed, &down);
            for p in probes {
                let at = secs(p);
                if !range.contains(at) { continue; }
                let expected = down.iter().filter(|u| u.start <= at && at < u.end).map(|_| HealthState::Unavailable)
                    .chain(closed.iter().filter(|e| e.starts_at <= at && e.ends_at.is_none_or(|end| at < end))
                        .map(|e| HealthState::from_severity(e.severity.as_deref())))
                    .max().unwrap_or(HealthState::Healthy);
                let seg = segs.iter().find(|s| s.start <= at && at < s.end).expect("covered");
                prop_assert_eq!(seg.state, expected, "at {}", p);
            }
        }
    }
}
