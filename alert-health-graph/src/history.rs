//! State history and time-weighted uptime.
//!
//! The history keeps, per node name, the instants its state changed. A state holds from
//! its change until the next change (or "now"); before a node's first record there is
//! no data. Uptime is *time-weighted*, as Atlassian Statuspage and Instatus compute it:
//!
//! * Failing time counts fully as downtime (a major outage);
//! * Degraded time counts as a partial outage, weighted by
//!   [`UptimeWeights::partial_outage`] (default 0.3);
//! * Passing time is uptime;
//! * Unknown and Pending time is *no data*: it is neither up nor down and is left out
//!   of the total.
//!
//! `uptime = 1 − (failing + 0.3 × degraded) / (passing + degraded + failing)`, per UTC
//! day (the 90 bars of a status page) and over the whole window. A day without data has
//! no uptime (a grey bar). For example 30 minutes failing and 60 minutes degraded in an
//! otherwise passing day give `(1440 − 30 − 18) / 1440`.
//!
//! The history knows its first sample, per node and overall: while it is shorter than
//! the uptime window, [`Uptime::since`] says from when there is data, and a status page
//! says "since 2024-05-03" rather than "90 days ago". To survive restarts, the history is
//! written through a [`StateHistoryStore`] and rebuilt from it with
//! [`StateHistory::from_store`]; every record that [`StateHistory::record`] keeps is a
//! [`NodeTransition`] to append.

use std::collections::HashMap;

use alert_core::{Duration, Timestamp};
use serde::Serialize;

use crate::error::Result;
use crate::history_store::StateHistoryStore;
use crate::snapshot::{Change, Snapshot};
use crate::state::State;

const DAY_SECS: i64 = 86_400;
const DAY_MS: i64 = DAY_SECS * 1000;

/// How much each kind of outage counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UptimeWeights {
    /// Weight of Degraded time (partial outage), 0 to 1.
    pub partial_outage: f64,
}

impl Default for UptimeWeights {
    fn default() -> Self {
        UptimeWeights {
            partial_outage: 0.3,
        }
    }
}

/// One state change of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// When the state began.
    pub at: Timestamp,
    /// The state from then on.
    pub state: State,
}

/// One state change of one named node: what a [`StateHistoryStore`] keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeTransition {
    /// The node's name.
    pub node: String,
    /// When the state began.
    pub at: Timestamp,
    /// The state from then on.
    pub state: State,
}

/// One UTC day of uptime.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayUptime {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Uptime as a fraction 0 to 1, `None` without data.
    pub uptime: Option<f64>,
    /// The worst state seen that day, `None` without data.
    pub worst: Option<State>,
    /// Seconds failing.
    pub failing_secs: i64,
    /// Seconds degraded.
    pub degraded_secs: i64,
}

/// Uptime of one node over a window of days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uptime {
    /// Oldest day first; the last is today (up to now).
    pub days: Vec<DayUptime>,
    /// Over the whole window, `None` without data.
    pub overall: Option<f64>,
    /// The node's first sample, when it is later than the start of the window (the
    /// oldest day's midnight, UTC): the history is shorter than the window, and the
    /// days before this one have no data. `None` when the history covers the whole
    /// window or the node has no record.
    pub since: Option<Timestamp>,
}

/// Per-node state changes, kept for a retention window.
///
/// ```
/// use alert_core::Timestamp;
/// use alert_health_graph::{State, StateHistory, UptimeWeights};
///
/// let t = |s: &str| s.parse::<Timestamp>().unwrap();
/// let mut h = StateHistory::default();
/// h.record("db", State::Passing, t("2024-05-01T00:00:00Z"));
/// h.record("db", State::Failing, t("2024-05-01T12:00:00Z"));
/// h.record("db", State::Passing, t("2024-05-01T12:30:00Z"));
/// h.record("db", State::Degraded, t("2024-05-01T18:00:00Z"));
/// h.record("db", State::Passing, t("2024-05-01T19:00:00Z"));
/// let up = h.uptime("db", t("2024-05-01T23:59:59Z"), 1, UptimeWeights::default());
/// let (day, down) = (86_399.0, 30.0 * 60.0 + 0.3 * 3600.0);
/// let expected = (day - down) / day;
/// assert!((up.days[0].uptime.unwrap() - expected).abs() < 1e-12);
/// assert_eq!(h.current("db"), Some((State::Passing, t("2024-05-01T19:00:00Z"))));
/// ```
#[derive(Debug, Clone)]
pub struct StateHistory {
    retention: Duration,
    by_node: HashMap<String, Vec<Transition>>,
}

impl Default for StateHistory {
    /// 90 days of retention.
    fn default() -> Self {
        StateHistory::new(Duration::from_secs(90 * DAY_SECS as u64).unwrap_or(Duration::ZERO))
    }
}

impl StateHistory {
    /// An empty history keeping `retention` of changes.
    pub fn new(retention: Duration) -> StateHistory {
        StateHistory {
            retention,
            by_node: HashMap::new(),
        }
    }

    /// A history keeping `retention`, rebuilt from stored transitions by recording each
    /// in turn (so repeats and out-of-order records are dropped as
    /// [`StateHistory::record`] drops them). Give each node's transitions oldest first,
    /// as [`StateHistoryStore::load`] does.
    ///
    /// ```
    /// use alert_core::Timestamp;
    /// use alert_health_graph::{NodeTransition, State, StateHistory};
    ///
    /// let t = |s: &str| s.parse::<Timestamp>().unwrap();
    /// let mut h = StateHistory::default();
    /// h.record("db", State::Passing, t("2024-05-01T00:00:00Z"));
    /// h.record("db", State::Failing, t("2024-05-01T12:00:00Z"));
    /// let again = StateHistory::from_transitions(h.retention(), h.to_transitions());
    /// assert_eq!(again.transitions("db"), h.transitions("db"));
    /// assert_eq!(again.first_sample(), Some(t("2024-05-01T00:00:00Z")));
    /// ```
    pub fn from_transitions(
        retention: Duration,
        transitions: impl IntoIterator<Item = NodeTransition>,
    ) -> StateHistory {
        let mut history = StateHistory::new(retention);
        for t in transitions {
            history.record(&t.node, t.state, t.at);
        }
        history
    }

    /// A history keeping `retention`, rebuilt from what `store` holds within it at
    /// `now` (one [`StateHistoryStore::load`]; blocking: call it off the async workers).
    pub fn from_store(
        store: &dyn StateHistoryStore,
        retention: Duration,
        now: Timestamp,
    ) -> Result<StateHistory> {
        let mut history = StateHistory::new(retention);
        let transitions = match history.cutoff(now) {
            Some(cutoff) => store.load(cutoff)?,
            None => store.load(Timestamp::from_jiff(jiff::Timestamp::MIN))?,
        };
        for t in transitions {
            history.record(&t.node, t.state, t.at);
        }
        history.prune(now);
        Ok(history)
    }

    /// How long changes are kept.
    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// The start of the retention window ending at `now`: pruning at `now` keeps the
    /// state in force then and every change after it. `None` when the window reaches
    /// before the representable range.
    pub fn cutoff(&self, now: Timestamp) -> Option<Timestamp> {
        now.checked_sub(self.retention)
    }

    /// Records that `node` is in `state` at `at`; only a change (or a first record) is
    /// kept, and then `true` is returned. Records must come in time order per node; an
    /// older one is ignored.
    pub fn record(&mut self, node: &str, state: State, at: Timestamp) -> bool {
        let list = match self.by_node.get_mut(node) {
            Some(l) => l,
            None => self.by_node.entry(node.to_owned()).or_default(),
        };
        match list.last() {
            Some(last) if last.state == state || at < last.at => false,
            _ => {
                list.push(Transition { at, state });
                true
            }
        }
    }

    /// Records every node's state in a snapshot, at the snapshot's time; returns the
    /// transitions kept (what a store must append).
    pub fn record_snapshot(&mut self, snapshot: &Snapshot) -> Vec<NodeTransition> {
        let at = snapshot.evaluated_at();
        let mut kept = Vec::new();
        for id in snapshot.graph().ids() {
            let state = snapshot.status(id).state;
            let node = &snapshot.graph().node(id).name;
            if self.record(node, state, at) {
                kept.push(NodeTransition {
                    node: node.clone(),
                    at,
                    state,
                });
            }
        }
        kept
    }

    /// Records a change log; returns the transitions kept (what a store must append).
    pub fn record_changes(&mut self, changes: &[Change]) -> Vec<NodeTransition> {
        let mut kept = Vec::new();
        for c in changes {
            if self.record(&c.node, c.new, c.at) {
                kept.push(NodeTransition {
                    node: c.node.clone(),
                    at: c.at,
                    state: c.new,
                });
            }
        }
        kept
    }

    /// Every node's transitions, by node name and then oldest first: what
    /// [`StateHistory::from_transitions`] rebuilds this history from.
    pub fn to_transitions(&self) -> Vec<NodeTransition> {
        let mut nodes: Vec<&String> = self.by_node.keys().collect();
        nodes.sort();
        nodes
            .into_iter()
            .flat_map(|node| {
                self.transitions(node).iter().map(move |t| NodeTransition {
                    node: node.clone(),
                    at: t.at,
                    state: t.state,
                })
            })
            .collect()
    }

    /// The node's first sample (its oldest kept transition), if recorded.
    pub fn first_sample_of(&self, node: &str) -> Option<Timestamp> {
        self.transitions(node).first().map(|t| t.at)
    }

    /// The first sample of any node: since when the history has data.
    pub fn first_sample(&self) -> Option<Timestamp> {
        self.by_node
            .values()
            .filter_map(|l| l.first().map(|t| t.at))
            .min()
    }

    /// The start of the `days` UTC days ending with the day of `now`: the oldest day's
    /// midnight. `None` for zero days.
    pub fn window_start(now: Timestamp, days: u32) -> Option<Timestamp> {
        let back = i64::from(days).checked_sub(1).filter(|b| *b >= 0)?;
        let today = now.unix_millis().div_euclid(DAY_MS) * DAY_MS;
        Timestamp::from_unix_millis(today.saturating_sub(back.saturating_mul(DAY_MS))).ok()
    }

    /// The history's first sample when it is later than the start of the `days`-day
    /// window ending with the day of `now` (see [`Uptime::since`]); for the page as a
    /// whole, as [`StateHistory::first_sample`].
    pub fn since(&self, now: Timestamp, days: u32) -> Option<Timestamp> {
        later_than_window(self.first_sample(), now, days)
    }

    /// The node's current state and since when, if recorded.
    pub fn current(&self, node: &str) -> Option<(State, Timestamp)> {
        self.by_node
            .get(node)
            .and_then(|l| l.last())
            .map(|t| (t.state, t.at))
    }

    /// The node's changes, oldest first.
    pub fn transitions(&self, node: &str) -> &[Transition] {
        self.by_node.get(node).map_or(&[], Vec::as_slice)
    }

    /// Drops changes older than the retention window before `now`, keeping the state
    /// that was current at the window's start (moved to the start).
    pub fn prune(&mut self, now: Timestamp) {
        if let Some(cutoff) = self.cutoff(now) {
            self.prune_before(cutoff);
        }
    }

    /// Drops changes older than `cutoff`, keeping per node the state that was current
    /// then (moved to `cutoff`): of the transitions at or before `cutoff`, only the
    /// latest is kept.
    pub fn prune_before(&mut self, cutoff: Timestamp) {
        for list in self.by_node.values_mut() {
            let keep_from = list.iter().rposition(|t| t.at <= cutoff);
            if let Some(i) = keep_from {
                list.drain(..i);
                if let Some(first) = list.first_mut() {
                    first.at = cutoff;
                }
            }
        }
    }

    /// Uptime of `node` for the `days` UTC days ending with the day of `now` (today
    /// counts up to `now`).
    pub fn uptime(&self, node: &str, now: Timestamp, days: u32, weights: UptimeWeights) -> Uptime {
        let list = self.transitions(node);
        let now_ms = now.unix_millis();
        let today = now_ms.div_euclid(DAY_MS) * DAY_MS;
        let mut out = Vec::with_capacity(days as usize);
        let (mut total_up, mut total_counted) = (0.0f64, 0i64);
        for back in (0..i64::from(days)).rev() {
            let start = today - back * DAY_MS;
            let end = (start + DAY_MS).min(now_ms);
            let mut ms = [0i64; 5];
            let mut worst: Option<State> = None;
            for (i, t) in list.iter().enumerate() {
                let from = t.at.unix_millis().max(start);
                let to = list
                    .get(i + 1)
                    .map_or(now_ms, |n| n.at.unix_millis())
                    .min(end);
                if to > from {
                    ms[usize::from(t.state.rank())] += to - from;
                    worst = Some(worst.map_or(t.state, |w| w.worst(t.state)));
                }
            }
            let passing = ms[usize::from(State::Passing.rank())];
            let degraded = ms[usize::from(State::Degraded.rank())];
            let failing = ms[usize::from(State::Failing.rank())];
            let counted = passing + degraded + failing;
            let down = failing as f64 + weights.partial_outage * degraded as f64;
            let uptime = (counted > 0).then(|| 1.0 - down / counted as f64);
            total_up += counted as f64 - down;
            total_counted += counted;
            out.push(DayUptime {
                date: day_string(start / 1000),
                uptime,
                worst,
                failing_secs: failing / 1000,
                degraded_secs: degraded / 1000,
            });
        }
        Uptime {
            days: out,
            overall: (total_counted > 0).then(|| total_up / total_counted as f64),
            since: later_than_window(self.first_sample_of(node), now, days),
        }
    }
}

/// `first` when it is later than the start of the `days`-day window ending with `now`.
fn later_than_window(first: Option<Timestamp>, now: Timestamp, days: u32) -> Option<Timestamp> {
    let start = StateHistory::window_start(now, days)?;
    first.filter(|f| *f > start)
}

fn day_string(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    #[test]
    fn instatus_example_and_no_data_days() {
        let mut h = StateHistory::default();
        h.record("c", State::Passing, t("2024-05-03T00:00:00Z"));
        h.record("c", State::Failing, t("2024-05-03T01:00:00Z"));
        h.record("c", State::Passing, t("2024-05-03T01:30:00Z"));
        h.record("c", State::Degraded, t("2024-05-03T10:00:00Z"));
        h.record("c", State::Passing, t("2024-05-03T11:00:00Z"));
        let up = h.uptime("c", t("2024-05-04T06:00:00Z"), 3, UptimeWeights::default());
        assert_eq!(up.days.len(), 3);
        assert_eq!(up.days[0].date, "2024-05-02");
        assert_eq!(up.days[0].uptime, None, "before the first record");
        assert_eq!(up.days[0].worst, None);
        let day = &up.days[1];
        assert_eq!(day.date, "2024-05-03");
        assert_eq!((day.failing_secs, day.degraded_secs), (1800, 3600));
        let expected = (1440.0 - 30.0 - 18.0) / 1440.0;
        assert!((day.uptime.expect("data") - expected).abs() < 1e-12);
        assert_eq!(day.worst, Some(State::Failing));
        // Today counts up to now, all passing.
        assert_eq!(up.days[2].uptime, Some(1.0));
        // Over the window: 1440 + 360 minutes of data, 48 minutes of weighted downtime.
        let overall = (1800.0 - 48.0) / 1800.0;
        assert!((up.overall.expect("data") - overall).abs() < 1e-12);
    }

    #[test]
    fn unknown_time_is_left_out_and_weights_are_configurable() {
        let mut h = StateHistory::default();
        h.record("c", State::Unknown, t("2024-05-03T00:00:00Z"));
        h.record("c", State::Degraded, t("2024-05-03T12:00:00Z"));
        // The day of the 3rd is the first of two days ending with the 4th (no time yet).
        let now = t("2024-05-04T00:00:00Z");
        let up = h.uptime("c", now, 2, UptimeWeights::default());
        assert_eq!(up.days[1].uptime, None, "today has no time yet");
        assert!((up.days[0].uptime.expect("data") - 0.7).abs() < 1e-12);
        let full = UptimeWeights {
            partial_outage: 1.0,
        };
        assert_eq!(h.uptime("c", now, 2, full).days[0].uptime, Some(0.0));
        let only_unknown = {
            let mut h = StateHistory::default();
            h.record("u", State::Unknown, t("2024-05-03T00:00:00Z"));
            h
        };
        let up = only_unknown.uptime("u", now, 2, UptimeWeights::default());
        assert_eq!(up.days[0].uptime, None);
        assert_eq!(up.days[0].worst, Some(State::Unknown));
        assert_eq!(up.overall, None);
    }

    #[test]
    fn repeats_are_not_changes_and_prune_keeps_the_state_at_the_cutoff() {
        let mut h = StateHistory::new("2d".parse().expect("valid"));
        h.record("c", State::Failing, t("2024-05-01T00:00:00Z"));
        h.record("c", State::Failing, t("2024-05-01T01:00:00Z"));
        h.record("c", State::Passing, t("2024-05-02T00:00:00Z"));
        h.record("c", State::Failing, t("2024-05-01T05:00:00Z")); // out of order: ignored
        assert_eq!(h.transitions("c").len(), 2);
        h.prune(t("2024-05-04T12:00:00Z"));
        assert_eq!(
            h.transitions("c"),
            [Transition {
                at: t("2024-05-02T12:00:00Z"),
                state: State::Passing
            }]
        );
    }

    #[test]
    fn first_samples_and_since() {
        let mut h = StateHistory::default();
        assert_eq!(h.first_sample(), None);
        h.record("a", State::Passing, t("2024-05-03T10:00:00Z"));
        h.record("a", State::Failing, t("2024-05-03T11:00:00Z"));
        h.record("b", State::Unknown, t("2024-05-04T00:00:00Z"));
        assert_eq!(h.first_sample_of("a"), Some(t("2024-05-03T10:00:00Z")));
        assert_eq!(h.first_sample_of("b"), Some(t("2024-05-04T00:00:00Z")));
        assert_eq!(h.first_sample_of("c"), None);
        assert_eq!(h.first_sample(), Some(t("2024-05-03T10:00:00Z")));
        let now = t("2024-05-04T12:00:00Z");
        assert_eq!(
            StateHistory::window_start(now, 90),
            Some(t("2024-02-05T00:00:00Z"))
        );
        assert_eq!(
            StateHistory::window_start(now, 1),
            Some(t("2024-05-04T00:00:00Z"))
        );
        assert_eq!(StateHistory::window_start(now, 0), None);
        let w = UptimeWeights::default();
        assert_eq!(
            h.uptime("a", now, 90, w).since,
            Some(t("2024-05-03T10:00:00Z"))
        );
        // A one-day window starts after a's first sample: a covers it; b starts with it.
        assert_eq!(h.uptime("a", now, 1, w).since, None);
        assert_eq!(h.uptime("b", now, 1, w).since, None);
        assert_eq!(h.uptime("c", now, 90, w).since, None);
        assert_eq!(h.since(now, 90), Some(t("2024-05-03T10:00:00Z")));
        assert_eq!(h.since(now, 1), None);
    }

    #[test]
    fn kept_records_are_reported_and_rebuild_the_history() {
        let mut h = StateHistory::default();
        assert!(h.record("a", State::Passing, t("2024-05-03T10:00:00Z")));
        assert!(!h.record("a", State::Passing, t("2024-05-03T10:01:00Z")));
        assert!(!h.record("a", State::Failing, t("2024-05-03T09:00:00Z")));
        assert!(h.record("a", State::Failing, t("2024-05-03T10:02:00Z")));
        assert!(h.record("b", State::Failing, t("2024-05-03T10:02:00Z")));
        let all = h.to_transitions();
        assert_eq!(
            all.iter().map(|t| t.node.as_str()).collect::<Vec<_>>(),
            ["a", "a", "b"]
        );
        let again = StateHistory::from_transitions(h.retention(), all.clone());
        assert_eq!(again.to_transitions(), all);
        assert_eq!(again.retention(), h.retention());
    }
}
