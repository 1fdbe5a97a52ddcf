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
//!
//! [`timeline`] is a sweep over the sorted boundaries, O(n log n) in the episodes plus
//! the fingerprints it lists; [`timeline_within`] refuses, before listing them, an
//! answer that would list more fingerprints than a bound.

use std::fmt;

use alert_core::{Fingerprint, Severity, Timestamp};
use serde::{Deserialize, Serialize};

use crate::availability::Unavailable;
use crate::episode::Episode;
use crate::error::{Error, Result};
use crate::range::TimeSpan;

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
    starts.sort_unstable();
    for e in episodes.iter_mut().filter(|e| e.is_open()) {
        if let Some(start) = inferred_end(e, &starts) {
            e.infer_end(start, crate::episode::EndReason::Unavailable);
        }
    }
}

/// The start of the first of the sorted `starts` after both `episode`'s start and its
/// last notification.
fn inferred_end(episode: &Episode, starts: &[Timestamp]) -> Option<Timestamp> {
    let after = episode.last_seen.max(episode.starts_at);
    starts.get(starts.partition_point(|s| *s <= after)).copied()
}

/// The timeline of `range` from an entity's episodes and the unavailable periods.
///
/// Open episodes are first closed with [`close_open_episodes`]; episodes still open run
/// to the end of the range.
///
/// A sweep over the sorted boundaries: O(n log n) in the episodes and periods, plus the
/// fingerprints listed (see [`timeline_within`] to bound those).
///
/// ```
/// use alert_core::{Alert, LabelSet, Timestamp};
/// use alert_history::{timeline, Episode, HealthState, Notification, TimeSpan};
/// let t = |s: &str| s.parse::<Timestamp>().unwrap();
/// let labels = LabelSet::from_pairs([("alertname", "DiskFull"), ("severity", "critical")])?;
/// let n = Notification {
///     alert: Alert::firing(labels, t("2024-05-01T10:00:00Z")),
///     receiver: "history".into(),
///     received_at: t("2024-05-01T10:00:30Z"),
/// };
/// let range = TimeSpan::new(t("2024-05-01T09:00:00Z"), t("2024-05-01T11:00:00Z"))?;
/// let segments = timeline(range, &[Episode::from_notification(&n)], &[]);
/// assert_eq!(segments.len(), 2);
/// assert_eq!(segments[0].state, HealthState::Healthy);
/// assert_eq!((segments[1].start, segments[1].state), (t("2024-05-01T10:00:00Z"), HealthState::Critical));
/// assert_eq!(segments[1].end, range.end);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn timeline(
    range: TimeSpan,
    episodes: &[Episode],
    unavailable: &[Unavailable],
) -> Vec<Segment> {
    let items = items(range, episodes, unavailable);
    let segments = sweep(range, &items);
    let by_state = segments_by_state(&segments);
    list_episodes(segments, &items, &by_state)
}

/// [`timeline`], refused with [`Error::TimelineTooLarge`] before any fingerprint is
/// listed when the segments would list more than `max_listed` fingerprints in all.
///
/// A long episode is listed in every segment of its state it overlaps, so a few long
/// warnings interrupted by many short criticals list each warning many times: the
/// answer can grow with the square of the episodes even though computing it does not.
///
/// ```
/// use alert_core::{Alert, LabelSet, Timestamp};
/// use alert_history::{timeline_within, Episode, Notification, TimeSpan};
/// let t = |s: &str| s.parse::<Timestamp>().unwrap();
/// let episode = |name: &str, at: &str| {
///     let labels = LabelSet::from_pairs([("alertname", name)]).unwrap();
///     Episode::from_notification(&Notification {
///         alert: Alert::firing(labels, t(at)),
///         receiver: "history".into(),
///         received_at: t(at),
///     })
/// };
/// let both = [episode("A", "2024-05-01T10:00:00Z"), episode("B", "2024-05-01T10:30:00Z")];
/// let range = TimeSpan::new(t("2024-05-01T09:00:00Z"), t("2024-05-01T11:00:00Z"))?;
/// assert_eq!(timeline_within(range, &both, &[], 2)?.len(), 2);
/// assert!(timeline_within(range, &both, &[], 1).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn timeline_within(
    range: TimeSpan,
    episodes: &[Episode],
    unavailable: &[Unavailable],
    max_listed: usize,
) -> Result<Vec<Segment>> {
    let items = items(range, episodes, unavailable);
    let segments = sweep(range, &items);
    let by_state = segments_by_state(&segments);
    let listed = items
        .iter()
        .filter(|i| i.fingerprint.is_some())
        .map(|i| same_state_segments(&segments, &by_state, i).len())
        .fold(0usize, usize::saturating_add);
    if listed > max_listed {
        return Err(Error::TimelineTooLarge {
            listed,
            max: max_listed,
        });
    }
    Ok(list_episodes(segments, &items, &by_state))
}

/// One stretch of one state: an episode or an unavailable period, clipped to the range.
struct Item {
    start: Timestamp,
    end: Timestamp,
    state: HealthState,
    fingerprint: Option<Fingerprint>,
}

/// The episodes (ended as [`close_open_episodes`] ends them) and the unavailable
/// periods that reach into `range`, clipped to it.
fn items(range: TimeSpan, episodes: &[Episode], unavailable: &[Unavailable]) -> Vec<Item> {
    let mut starts: Vec<Timestamp> = unavailable.iter().map(|u| u.start).collect();
    starts.sort_unstable();
    episodes
        .iter()
        .filter_map(|e| {
            let end = e.ends_at.or_else(|| inferred_end(e, &starts));
            range.overlaps(e.starts_at, end).then(|| Item {
                start: e.starts_at.max(range.start),
                end: end.map_or(range.end, |end| end.min(range.end)),
                state: HealthState::from_severity(e.severity.as_deref()),
                fingerprint: Some(e.fingerprint),
            })
        })
        .chain(unavailable.iter().map(|u| Item {
            start: u.start.max(range.start),
            end: u.end.min(range.end),
            state: HealthState::Unavailable,
            fingerprint: None,
        }))
        .filter(|i| i.start < i.end)
        .collect()
}

/// The segments of `range` without their episodes: the worst state at each instant,
/// equal neighbours merged. Counts of the items in force per state are kept while the
/// boundaries are visited in order.
fn sweep(range: TimeSpan, items: &[Item]) -> Vec<Segment> {
    let mut events: Vec<(Timestamp, HealthState, bool)> = Vec::with_capacity(items.len() * 2);
    for i in items {
        events.push((i.start, i.state, true));
        events.push((i.end, i.state, false));
    }
    events.sort_unstable_by_key(|e| e.0);
    let mut in_force = [0usize; STATES];
    let mut segments: Vec<Segment> = Vec::new();
    let mut at = range.start;
    let mut next = 0;
    loop {
        while let Some(&(t, state, starts)) = events.get(next)
            && t == at
        {
            let n = &mut in_force[state as usize];
            *n = if starts { *n + 1 } else { n.saturating_sub(1) };
            next += 1;
        }
        let state = worst(&in_force);
        match segments.last_mut() {
            Some(last) if last.state == state => {}
            last => {
                if let Some(last) = last {
                    last.end = at;
                }
                segments.push(Segment {
                    start: at,
                    end: range.end,
                    state,
                    episodes: Vec::new(),
                });
            }
        }
        match events.get(next) {
            Some(&(t, _, _)) if t < range.end => at = t,
            _ => return segments,
        }
    }
}

/// How many states there are.
const STATES: usize = HealthState::Unavailable as usize + 1;

/// The worst state with an item in force; healthy when none is.
fn worst(in_force: &[usize; STATES]) -> HealthState {
    const ALL: [HealthState; STATES] = [
        HealthState::Healthy,
        HealthState::Info,
        HealthState::Warning,
        HealthState::Critical,
        HealthState::Unavailable,
    ];
    ALL.into_iter()
        .rev()
        .find(|s| in_force[*s as usize] > 0)
        .unwrap_or(HealthState::Healthy)
}

/// For each state, the indices of the segments in it, in order.
fn segments_by_state(segments: &[Segment]) -> [Vec<usize>; STATES] {
    let mut by_state: [Vec<usize>; STATES] = Default::default();
    for (i, s) in segments.iter().enumerate() {
        by_state[s.state as usize].push(i);
    }
    by_state
}

/// The indices of the segments in `item`'s state that it overlaps (those segments are
/// disjoint and ordered, so two binary searches find them).
fn same_state_segments<'a>(
    segments: &[Segment],
    by_state: &'a [Vec<usize>; STATES],
    item: &Item,
) -> &'a [usize] {
    let list = &by_state[item.state as usize];
    let from = list.partition_point(|&s| segments[s].end <= item.start);
    let to = list.partition_point(|&s| segments[s].start < item.end);
    &list[from..to.max(from)]
}

/// Lists each episode in the segments of its own state that it overlaps: exactly the
/// episodes that put the entity in a segment's state at some instant of it.
fn list_episodes(
    mut segments: Vec<Segment>,
    items: &[Item],
    by_state: &[Vec<usize>; STATES],
) -> Vec<Segment> {
    for item in items {
        let Some(fp) = item.fingerprint else {
            continue;
        };
        for &s in same_state_segments(&segments, by_state, item) {
            segments[s].episodes.push(fp);
        }
    }
    for s in &mut segments {
        s.episodes.sort_unstable();
        s.episodes.dedup();
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

    fn day() -> TimeSpan {
        TimeSpan::new(t("2024-05-01T00:00:00Z"), t("2024-05-02T00:00:00Z")).expect("valid")
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
        let range = TimeSpan::new(secs(0), secs(1000)).expect("valid");
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

    /// The timeline as first written: every elementary window between boundaries
    /// visited with the set of items in force. Quadratic, obviously right; the oracle of
    /// the sweep.
    fn reference(
        range: TimeSpan,
        episodes: &[Episode],
        unavailable: &[Unavailable],
    ) -> Vec<Segment> {
        use std::collections::BTreeSet;
        let mut episodes = episodes.to_vec();
        close_open_episodes(&mut episodes, unavailable);
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
        let mut bounds = vec![range.start, range.end];
        for i in &items {
            bounds.push(i.start);
            bounds.push(i.end);
        }
        bounds.sort();
        bounds.dedup();
        let mut segments: Vec<Segment> = Vec::new();
        for w in bounds.windows(2) {
            let (from, to) = (w[0], w[1]);
            let active: Vec<&Item> = items
                .iter()
                .filter(|i| i.start <= from && i.end > from)
                .collect();
            let state = active
                .iter()
                .map(|i| i.state)
                .max()
                .unwrap_or(HealthState::Healthy);
            let fps: BTreeSet<Fingerprint> = active
                .iter()
                .filter(|i| i.state == state)
                .filter_map(|i| i.fingerprint)
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

    /// Issue #20's figure: one timeline of 50,000 overlapping episodes, the sweep
    /// against the quadratic reference (the algorithm before the fix). Run with
    /// `cargo test --release -p alert-history --lib timeline_figures -- --ignored --nocapture`.
    #[test]
    #[ignore = "prints figures; run on a release build"]
    fn timeline_figures_at_50k_overlapping_episodes() {
        for n in [7_100usize, 16_700, 50_000] {
            let eps: Vec<Episode> = (0..n as i64)
                .map(|i| episode(&format!("A{i}"), "warning", secs(i), None, secs(i)))
                .collect();
            let range = TimeSpan::new(secs(0), secs(200_000)).expect("valid");
            let t = std::time::Instant::now();
            let fast = timeline(range, &eps, &[]);
            let sweep = t.elapsed();
            let t = std::time::Instant::now();
            let slow = reference(range, &eps, &[]);
            let quadratic = t.elapsed();
            assert_eq!(fast, slow);
            eprintln!(
                "{n} overlapping episodes: sweep {:.1} ms, quadratic reference {:.2} s",
                sweep.as_secs_f64() * 1000.0,
                quadratic.as_secs_f64()
            );
        }
    }

    #[test]
    fn many_overlapping_episodes_make_one_segment_listing_them_all() {
        let eps: Vec<Episode> = (0..2000)
            .map(|i| {
                episode(
                    &format!("A{i}"),
                    "warning",
                    secs(i),
                    Some(secs(5000 + i)),
                    secs(i),
                )
            })
            .collect();
        let range = TimeSpan::new(secs(0), secs(10_000)).expect("valid");
        let segs = timeline(range, &eps, &[]);
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].episodes.len(), 2000);
        assert_eq!(segs, reference(range, &eps, &[]));
    }

    #[test]
    fn a_bound_on_listed_fingerprints_refuses_before_listing() {
        // One long warning interrupted by 100 short criticals: listed in 101 segments.
        let mut eps = vec![episode(
            "Long",
            "warning",
            secs(0),
            Some(secs(10_000)),
            secs(0),
        )];
        eps.extend((0..100).map(|i| {
            episode(
                &format!("C{i}"),
                "critical",
                secs(50 + 90 * i),
                Some(secs(60 + 90 * i)),
                secs(0),
            )
        }));
        let range = TimeSpan::new(secs(0), secs(10_000)).expect("valid");
        let all = timeline(range, &eps, &[]);
        let listed: usize = all.iter().map(|s| s.episodes.len()).sum();
        assert_eq!(listed, 101 + 100);
        assert_eq!(
            timeline_within(range, &eps, &[], listed).expect("fits"),
            all
        );
        let err = timeline_within(range, &eps, &[], listed - 1).unwrap_err();
        assert!(
            matches!(err, Error::TimelineTooLarge { listed: l, max } if l == listed && max == listed - 1),
            "{err}"
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
            let range = TimeSpan::new(secs(100), secs(900)).expect("valid");
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

        /// The sweep and the quadratic reference agree, episode lists included, also when
        /// one alert has several episodes and boundaries coincide.
        #[test]
        fn the_sweep_agrees_with_the_reference(
            raw in proptest::collection::vec((0u8..6, 0i64..50, 1i64..20, 0u8..4, any::<bool>()), 0..30),
            down in proptest::collection::vec((0i64..50, 1i64..10), 0..3),
            (from, len) in (0i64..40, 1i64..40),
        ) {
            let sev = ["critical", "warning", "info", "other"];
            let eps: Vec<Episode> = raw.iter().map(|&(name, s, len, v, open)| {
                episode(&format!("A{name}"), sev[v as usize], secs(s), (!open).then(|| secs(s + len)), secs(s))
            }).collect();
            let down: Vec<Unavailable> = down.iter().map(|&(s, len)| Unavailable {
                start: secs(s), end: secs(s + len), cause: UnavailableCause::ServerDown,
            }).collect();
            let range = TimeSpan::new(secs(from), secs(from + len)).expect("valid");
            prop_assert_eq!(timeline(range, &eps, &down), reference(range, &eps, &down));
        }
    }
}
