//! Health bars: one [timeline](crate::timeline) per entity, for the history server's
//! page and anyone who draws metalk8s' global health bar per node, namespace or
//! service.
//!
//! An *entity* is one value of a grouping label among the episodes (`by=node`: one bar
//! per node that had an alert in the range). Episodes without the label (or with it
//! empty, which Prometheus reads as absent) belong to no entity and are counted, not
//! drawn. Without a grouping label there is one bar, of every episode: the global bar.
//!
//! Every bar shares the pipeline's unavailable periods (an outage hides every entity),
//! and open episodes are ended where [`close_open_episodes`] ends them, so a drill-down
//! ([`HealthBars::active_in`]) lists the same ends as the bar draws.
//!
//! ```
//! use alert_core::{Alert, LabelSet, Timestamp};
//! use alert_history::health_bar::{BarLimits, HealthBars};
//! use alert_history::{Episode, HealthState, Notification, TimeSpan};
//! let t = |s: &str| s.parse::<Timestamp>().unwrap();
//! let episode = |node: &str, severity: &str| {
//!     let labels = LabelSet::from_pairs([("alertname", "Down"), ("node", node), ("severity", severity)]).unwrap();
//!     Episode::from_notification(&Notification {
//!         alert: Alert::firing(labels, t("2024-05-01T10:00:00Z")),
//!         receiver: "history".into(),
//!         received_at: t("2024-05-01T10:00:00Z"),
//!     })
//! };
//! let range = TimeSpan::new(t("2024-05-01T09:00:00Z"), t("2024-05-01T11:00:00Z"))?;
//! let bars = HealthBars::build(range, vec![episode("a", "critical"), episode("b", "warning")],
//!     Vec::new(), Some("node"), BarLimits::default())?;
//! assert_eq!(bars.bars.len(), 2);
//! assert_eq!(bars.bars[0].entity, "a");
//! assert_eq!(bars.bars[0].segments[1].state, HealthState::Critical);
//! assert_eq!(bars.active_in(Some("b"), range).len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use crate::availability::Unavailable;
use crate::episode::Episode;
use crate::error::{Error, Result};
use crate::range::TimeSpan;
use crate::timeline::{HealthState, Segment, close_open_episodes, timeline_within};

/// The most bars [`BarLimits::default`] draws.
pub const MAX_BARS: usize = 200;

/// How much a set of health bars may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarLimits {
    /// The most bars drawn; entities past it (in name order) are counted, not drawn.
    pub max_bars: usize,
    /// The most episode fingerprints the bars' segments list in all (see
    /// [`timeline_within`]); more is [`Error::TimelineTooLarge`].
    pub max_listed: usize,
}

impl Default for BarLimits {
    /// [`MAX_BARS`] bars listing at most a million fingerprints.
    fn default() -> BarLimits {
        BarLimits {
            max_bars: MAX_BARS,
            max_listed: 1_000_000,
        }
    }
}

/// One entity's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthBar {
    /// The grouping label's value (`""` for the one bar drawn without a grouping label).
    pub entity: String,
    /// The segments, covering the range exactly.
    pub segments: Vec<Segment>,
    /// How many of the entity's episodes reach into the range.
    pub episodes: usize,
}

/// The bars of one range, and the episodes behind them for drill-downs.
#[derive(Debug, Clone)]
pub struct HealthBars {
    /// The range every bar covers.
    pub range: TimeSpan,
    /// The grouping label, if any.
    pub by: Option<String>,
    /// The bars drawn, by entity name (byte order).
    pub bars: Vec<HealthBar>,
    /// How many entities there are; more than `bars.len()` when some were left out by
    /// [`BarLimits::max_bars`].
    pub entities: usize,
    /// Episodes left out for lacking the grouping label.
    pub without_label: usize,
    /// The pipeline's unavailable periods in the range.
    pub unavailable: Vec<Unavailable>,
    /// Each entity's episodes (open ones ended as the bars end them).
    groups: BTreeMap<String, Vec<Episode>>,
}

/// The episodes grouped by the value of `by` (`None`: one group `""` of them all, even
/// when there are none), and how many had no value for it.
///
/// ```
/// use alert_core::{Alert, LabelSet, Timestamp};
/// use alert_history::health_bar::group_by_label;
/// use alert_history::{Episode, Notification};
/// let t: Timestamp = "2024-05-01T10:00:00Z".parse()?;
/// let episode = |pairs: &[(&str, &str)]| Episode::from_notification(&Notification {
///     alert: Alert::firing(LabelSet::from_pairs(pairs.iter().copied()).unwrap(), t),
///     receiver: "history".into(),
///     received_at: t,
/// });
/// let all = vec![episode(&[("node", "a")]), episode(&[("node", "")]), episode(&[("job", "x")])];
/// let (groups, without) = group_by_label(all, Some("node"));
/// assert_eq!(groups.keys().collect::<Vec<_>>(), ["a"]);
/// assert_eq!(without, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn group_by_label(
    episodes: Vec<Episode>,
    by: Option<&str>,
) -> (BTreeMap<String, Vec<Episode>>, usize) {
    let mut groups: BTreeMap<String, Vec<Episode>> = BTreeMap::new();
    let Some(by) = by else {
        groups.insert(String::new(), episodes);
        return (groups, 0);
    };
    let mut without = 0;
    for e in episodes {
        match e.labels.get(by).filter(|v| !v.is_empty()) {
            Some(value) => groups.entry(value.to_owned()).or_default().push(e),
            None => without += 1,
        }
    }
    (groups, without)
}

/// The order a drill-down lists episodes in: worst state first, then earliest start,
/// then fingerprint.
fn drill_down_order(a: &&Episode, b: &&Episode) -> std::cmp::Ordering {
    let state = |e: &Episode| HealthState::from_severity(e.severity.as_deref());
    state(b)
        .cmp(&state(a))
        .then(a.starts_at.cmp(&b.starts_at))
        .then(a.fingerprint.cmp(&b.fingerprint))
}

impl HealthBars {
    /// The bars of `range`: open `episodes` ended by the `unavailable` periods
    /// ([`close_open_episodes`]), grouped by `by` ([`group_by_label`]), one timeline per
    /// entity for the first [`BarLimits::max_bars`] entities.
    ///
    /// Fails with [`Error::TimelineTooLarge`] when the bars' segments would list more
    /// than [`BarLimits::max_listed`] fingerprints in all.
    pub fn build(
        range: TimeSpan,
        mut episodes: Vec<Episode>,
        unavailable: Vec<Unavailable>,
        by: Option<&str>,
        limits: BarLimits,
    ) -> Result<HealthBars> {
        close_open_episodes(&mut episodes, &unavailable);
        episodes.retain(|e| e.overlaps(&range));
        let (groups, without_label) = group_by_label(episodes, by);
        let mut bars = Vec::with_capacity(groups.len().min(limits.max_bars));
        let mut listed = 0usize;
        for (entity, episodes) in groups.iter().take(limits.max_bars) {
            let left = limits.max_listed.saturating_sub(listed);
            let segments =
                timeline_within(range, episodes, &unavailable, left).map_err(|e| match e {
                    Error::TimelineTooLarge { listed: more, .. } => Error::TimelineTooLarge {
                        listed: listed.saturating_add(more),
                        max: limits.max_listed,
                    },
                    other => other,
                })?;
            listed += segments.iter().map(|s| s.episodes.len()).sum::<usize>();
            bars.push(HealthBar {
                entity: entity.clone(),
                segments,
                episodes: episodes.len(),
            });
        }
        Ok(HealthBars {
            range,
            by: by.map(str::to_owned),
            bars,
            entities: groups.len(),
            without_label,
            unavailable,
            groups,
        })
    }

    /// The episodes that fired at some instant of `window`: of `entity`, or of every
    /// entity when `None`; worst state first, then by start.
    pub fn active_in(&self, entity: Option<&str>, window: TimeSpan) -> Vec<&Episode> {
        let mut out: Vec<&Episode> = match entity {
            Some(name) => self.groups.get(name).into_iter().flatten().collect(),
            None => self.groups.values().flatten().collect(),
        };
        out.retain(|e| e.overlaps(&window));
        out.sort_by(drill_down_order);
        out
    }

    /// The unavailable periods that share an instant with `window`.
    pub fn unavailable_in(&self, window: TimeSpan) -> Vec<&Unavailable> {
        self.unavailable
            .iter()
            .filter(|u| window.overlaps(u.start, Some(u.end)))
            .collect()
    }

    /// Whether `entity` had any episode in the range.
    pub fn has_entity(&self, entity: &str) -> bool {
        self.groups.contains_key(entity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::availability::UnavailableCause;
    use crate::episode::{EndReason, Notification};
    use alert_core::{Alert, AlertStatus, LabelSet, Timestamp};

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    fn episode(
        node: Option<&str>,
        name: &str,
        severity: &str,
        start: &str,
        end: Option<&str>,
    ) -> Episode {
        let mut pairs = vec![("alertname", name), ("severity", severity)];
        if let Some(node) = node {
            pairs.push(("node", node));
        }
        let mut alert = Alert::firing(LabelSet::from_pairs(pairs).expect("valid"), t(start));
        if let Some(end) = end {
            alert.status = AlertStatus::Resolved;
            alert.ends_at = Some(t(end));
        }
        Episode::from_notification(&Notification {
            alert,
            receiver: "history".into(),
            received_at: t(start),
        })
    }

    fn day() -> TimeSpan {
        TimeSpan::new(t("2024-05-01T00:00:00Z"), t("2024-05-02T00:00:00Z")).expect("valid")
    }

    #[test]
    fn one_bar_per_value_of_the_label_in_name_order() {
        let eps = vec![
            episode(
                Some("b"),
                "Disk",
                "warning",
                "2024-05-01T02:00:00Z",
                Some("2024-05-01T03:00:00Z"),
            ),
            episode(Some("a"), "Down", "critical", "2024-05-01T01:00:00Z", None),
            episode(
                Some("a"),
                "Disk",
                "warning",
                "2024-05-01T00:30:00Z",
                Some("2024-05-01T04:00:00Z"),
            ),
            episode(None, "Global", "critical", "2024-05-01T05:00:00Z", None),
        ];
        let bars = HealthBars::build(day(), eps, Vec::new(), Some("node"), BarLimits::default())
            .expect("fits");
        let names: Vec<&str> = bars.bars.iter().map(|b| b.entity.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!((bars.entities, bars.without_label), (2, 1));
        let a: Vec<HealthState> = bars.bars[0].segments.iter().map(|s| s.state).collect();
        use HealthState::{Critical, Healthy, Warning};
        assert_eq!(a, [Healthy, Warning, Critical]);
        assert_eq!(bars.bars[0].episodes, 2);
        let b: Vec<HealthState> = bars.bars[1].segments.iter().map(|s| s.state).collect();
        assert_eq!(b, [Healthy, Warning, Healthy]);
    }

    #[test]
    fn without_a_label_one_global_bar_even_when_empty() {
        let bars = HealthBars::build(day(), Vec::new(), Vec::new(), None, BarLimits::default())
            .expect("fits");
        assert_eq!(bars.bars.len(), 1);
        assert_eq!(bars.bars[0].entity, "");
        assert_eq!(bars.bars[0].segments.len(), 1);
        assert_eq!(bars.bars[0].segments[0].state, HealthState::Healthy);
        let none = HealthBars::build(
            day(),
            Vec::new(),
            Vec::new(),
            Some("node"),
            BarLimits::default(),
        )
        .expect("fits");
        assert!(none.bars.is_empty());
    }

    #[test]
    fn bars_past_the_limit_are_counted_not_drawn() {
        // Five entities, one critical episode each.
        let five = || -> Vec<Episode> {
            (0..5)
                .map(|i| {
                    episode(
                        Some(&format!("n{i}")),
                        "Down",
                        "critical",
                        "2024-05-01T01:00:00Z",
                        None,
                    )
                })
                .collect()
        };
        let eps = five();
        let limits = BarLimits {
            max_bars: 3,
            ..BarLimits::default()
        };
        let bars = HealthBars::build(day(), eps, Vec::new(), Some("node"), limits).expect("fits");
        assert_eq!(bars.bars.len(), 3);
        assert_eq!(bars.entities, 5);
        // The listing bound counts across bars.
        let eps = five();
        let limits = BarLimits {
            max_bars: 10,
            max_listed: 4,
        };
        let err = HealthBars::build(day(), eps, Vec::new(), Some("node"), limits).unwrap_err();
        assert!(
            matches!(err, Error::TimelineTooLarge { listed: 5, max: 4 }),
            "{err}"
        );
    }

    #[test]
    fn drill_down_lists_what_fired_in_the_window_worst_first_with_the_bars_ends() {
        let eps = vec![
            episode(
                Some("a"),
                "Disk",
                "warning",
                "2024-05-01T00:30:00Z",
                Some("2024-05-01T04:00:00Z"),
            ),
            episode(Some("a"), "Down", "critical", "2024-05-01T01:00:00Z", None),
            episode(
                Some("a"),
                "Old",
                "critical",
                "2024-05-01T00:00:00Z",
                Some("2024-05-01T00:20:00Z"),
            ),
            episode(Some("b"), "Down", "critical", "2024-05-01T01:00:00Z", None),
        ];
        let down = vec![Unavailable {
            start: t("2024-05-01T06:00:00Z"),
            end: t("2024-05-01T07:00:00Z"),
            cause: UnavailableCause::HeartbeatMissing,
        }];
        let bars =
            HealthBars::build(day(), eps, down, Some("node"), BarLimits::default()).expect("fits");
        let window =
            TimeSpan::new(t("2024-05-01T01:00:00Z"), t("2024-05-01T02:00:00Z")).expect("valid");
        let got: Vec<&str> = bars
            .active_in(Some("a"), window)
            .iter()
            .map(|e| e.alertname())
            .collect();
        assert_eq!(got, ["Down", "Disk"]);
        let down = bars.active_in(Some("a"), window)[0];
        // Ended where the outage started, as the bar draws it.
        assert_eq!(down.ends_at, Some(t("2024-05-01T06:00:00Z")));
        assert_eq!(down.end_reason, Some(EndReason::Unavailable));
        assert_eq!(bars.active_in(None, window).len(), 3);
        assert!(bars.active_in(Some("zz"), window).is_empty());
        assert!(bars.unavailable_in(window).is_empty());
        let late =
            TimeSpan::new(t("2024-05-01T06:00:00Z"), t("2024-05-01T06:30:00Z")).expect("valid");
        assert_eq!(bars.unavailable_in(late).len(), 1);
        assert!(bars.active_in(Some("a"), late).is_empty());
    }
}
