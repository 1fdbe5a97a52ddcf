//! How a system judges its children: edge propagation, then one aggregation.
//!
//! Each edge from a system to a child first turns the child's state into an *effective*
//! state ([`Propagation`], Zabbix's status propagation rules):
//!
//! | propagation | effective state |
//! |---|---|
//! | `as_is` | the child's state |
//! | `raise k` / `lower k` | `k` steps towards Failing / Passing in the [order](crate::State), saturating |
//! | `fixed s` | `s`, whatever the child's state |
//! | `ignore` | none: the child is shown but not counted by any aggregation |
//!
//! The aggregation then looks at the effective states of the counted children. With no
//! counted children every aggregation gives `Unknown` with the message `no children`.
//! Otherwise, with `passing` the number of counted children whose effective state is
//! Passing and `total` the number of counted children:
//!
//! | aggregation | result |
//! |---|---|
//! | `all` | the worst effective state |
//! | `any` | the best effective state |
//! | `optional` | always Passing: the children are shown and never affect the parent |
//! | `at_least n` (warn `w`) | `total < n`: Unknown. `passing ≥ n`: Passing; else `passing ≥ w`: Degraded; else Failing (Checkmk `count_ok`, Icinga `MIN n`) |
//! | `at_least p%` (warn `q%`) | Passing if `floor(100·passing/total) ≥ p` (Zabbix's integer percent), else Degraded if `≥ q`, else Failing |
//! | `nth_worst n` (cap `c`) | effective states sorted best to worst, the one at index `max(0, total−n)`, then at most `c` (Checkmk `worst`) |
//! | `nth_best n` (cap `c`) | the state at index `min(total−1, n−1)`, then at most `c` (Checkmk `best`) |
//! | `degraded` | worst-of, with Failing turned into Degraded (Icinga `DEG`) |
//! | `xor` | Passing iff exactly one child is Passing, else Failing (Icinga `XOR`) |
//! | `not` | of the worst state: Failing and Unknown → Passing, Degraded → Degraded, Pending → Pending, Passing → Failing (Icinga `NOT`) |
//! | `weighted W` (warn `V`) | with edge weights (0 to 1,000,000, default 1): Passing if the weight of Passing children `≥ W`, else Degraded if `≥ V`, else Failing; total weight 0: Unknown |
//! | `weighted p%` (warn `q%`) | Passing if `floor(100·passing weight/total weight) ≥ p`, and so on |
//!
//! A percentage threshold is a whole number from 0 to 100. A warn level only matters when
//! it is met while the ok level is not.
//!
//! The *decisive* children of a judged system (see [`decides`]) are what
//! [`explain`](crate::Snapshot::explain) follows down to the sensors.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::state::State;

/// The largest weight an edge may carry (as Zabbix).
pub const MAX_WEIGHT: u32 = 1_000_000;

/// A level for `at_least` and `weighted`: a count (or weight), or a whole percentage.
///
/// Written `3` or `"50%"`.
///
/// ```
/// use alert_health_graph::Threshold;
/// assert_eq!("50%".parse::<Threshold>()?, Threshold::Percent(50));
/// assert_eq!("3".parse::<Threshold>()?, Threshold::Count(3));
/// assert!("101%".parse::<Threshold>().is_err());
/// assert!(Threshold::Percent(67).met(2, 3) == false); // 66% rounded down
/// assert!(Threshold::Percent(66).met(2, 3));
/// # Ok::<(), alert_health_graph::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Threshold {
    /// At least this many children (or this much weight).
    Count(u64),
    /// At least this whole percentage of the children (or of the total weight).
    Percent(u8),
}

impl Threshold {
    /// Whether `have` out of `total` meets the level. Percentages compare
    /// `floor(100·have/total) ≥ p`, which for whole `p` equals `100·have ≥ p·total`;
    /// with `total` 0 a percentage is not met.
    pub fn met(self, have: u64, total: u64) -> bool {
        match self {
            Threshold::Count(n) => have >= n,
            Threshold::Percent(p) => {
                total > 0 && u128::from(have) * 100 >= u128::from(p) * u128::from(total)
            }
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Count(n) => write!(f, "{n}"),
            Threshold::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl FromStr for Threshold {
    type Err = Error;

    fn from_str(s: &str) -> Result<Threshold, Error> {
        let invalid = || Error::InvalidField {
            field: "threshold".to_owned(),
            value: s.to_owned(),
            expected: "a whole number, or a whole percentage from 0% to 100%".to_owned(),
        };
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%') {
            let p: u8 = p.trim().parse().map_err(|_| invalid())?;
            if p > 100 {
                return Err(invalid());
            }
            Ok(Threshold::Percent(p))
        } else {
            t.parse().map(Threshold::Count).map_err(|_| invalid())
        }
    }
}

impl Serialize for Threshold {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Threshold::Count(n) => s.serialize_u64(*n),
            Threshold::Percent(_) => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Count(n) => Ok(Threshold::Count(n)),
            Raw::Text(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// How a system judges its counted children (see the [module docs](self) for the exact
/// rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregation {
    /// Worst of (AND).
    All,
    /// Best of (OR).
    Any,
    /// Always Passing; the children are shown only.
    Optional,
    /// At least `ok` children Passing, with a separate warn level.
    AtLeast {
        /// The level for Passing.
        ok: Threshold,
        /// The level for Degraded, if any.
        warn: Option<Threshold>,
    },
    /// The `n`-th worst state, capped.
    NthWorst {
        /// Which one (1 = the worst).
        n: u32,
        /// The worst state this can give.
        cap: State,
    },
    /// The `n`-th best state, capped.
    NthBest {
        /// Which one (1 = the best).
        n: u32,
        /// The worst state this can give.
        cap: State,
    },
    /// Worst of, Failing turned into Degraded.
    Degraded,
    /// Passing iff exactly one child is Passing.
    Xor,
    /// The inverse of the worst child.
    Not,
    /// Weight of Passing children at least `ok`, with a separate warn level.
    Weighted {
        /// The level for Passing.
        ok: Threshold,
        /// The level for Degraded, if any.
        warn: Option<Threshold>,
    },
}

impl Aggregation {
    /// The name used in graph files and output (`all`, `at_least`, …).
    pub const fn op(&self) -> &'static str {
        match self {
            Aggregation::All => "all",
            Aggregation::Any => "any",
            Aggregation::Optional => "optional",
            Aggregation::AtLeast { .. } => "at_least",
            Aggregation::NthWorst { .. } => "nth_worst",
            Aggregation::NthBest { .. } => "nth_best",
            Aggregation::Degraded => "degraded",
            Aggregation::Xor => "xor",
            Aggregation::Not => "not",
            Aggregation::Weighted { .. } => "weighted",
        }
    }

    /// Checks the parameters: `n ≥ 1`, percentages up to 100, a warn level of the same
    /// unit not stricter than the ok level. `field` names where the aggregation was
    /// written, for the error.
    pub fn validate(&self, field: &str) -> Result<(), Error> {
        let check_levels = |ok: &Threshold, warn: &Option<Threshold>| -> Result<(), Error> {
            for t in std::iter::once(ok).chain(warn.iter()) {
                if let Threshold::Percent(p) = t
                    && *p > 100
                {
                    return Err(Error::InvalidField {
                        field: field.to_owned(),
                        value: t.to_string(),
                        expected: "a percentage from 0% to 100%".to_owned(),
                    });
                }
            }
            match (ok, warn) {
                (Threshold::Count(o), Some(Threshold::Count(w))) if w > o => {
                    Err(Error::InvalidField {
                        field: format!("{field}.warn"),
                        value: w.to_string(),
                        expected: format!("a warn level not above the ok level {o}"),
                    })
                }
                (Threshold::Percent(o), Some(Threshold::Percent(w))) if w > o => {
                    Err(Error::InvalidField {
                        field: format!("{field}.warn"),
                        value: format!("{w}%"),
                        expected: format!("a warn level not above the ok level {o}%"),
                    })
                }
                _ => Ok(()),
            }
        };
        match self {
            Aggregation::AtLeast { ok, warn } | Aggregation::Weighted { ok, warn } => {
                check_levels(ok, warn)
            }
            Aggregation::NthWorst { n, .. } | Aggregation::NthBest { n, .. } if *n == 0 => {
                Err(Error::InvalidField {
                    field: format!("{field}.n"),
                    value: "0".to_owned(),
                    expected: "a position of at least 1".to_owned(),
                })
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Aggregation {
    /// `all`, `at_least 2 (warn 1)`, `nth_worst 2 (cap degraded)`, `weighted 60%`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.op())?;
        match self {
            Aggregation::AtLeast { ok, warn } | Aggregation::Weighted { ok, warn } => {
                write!(f, " {ok}")?;
                if let Some(w) = warn {
                    write!(f, " (warn {w})")?;
                }
                Ok(())
            }
            Aggregation::NthWorst { n, cap } | Aggregation::NthBest { n, cap } => {
                write!(f, " {n}")?;
                if *cap != State::Failing {
                    write!(f, " (cap {cap})")?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// How one edge passes its child's state to the parent (Zabbix's propagation rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Propagation {
    /// The child's state as it is.
    #[default]
    AsIs,
    /// `k` steps worse, saturating at Failing.
    Raise(u8),
    /// `k` steps better, saturating at Passing.
    Lower(u8),
    /// Not counted at all (shown only).
    Ignore,
    /// Always this state.
    Fixed(State),
}

impl Propagation {
    /// The effective state of a child in `state`, or `None` when ignored.
    ///
    /// ```
    /// use alert_health_graph::{Propagation, State};
    /// assert_eq!(Propagation::Lower(1).apply(State::Failing), Some(State::Unknown));
    /// assert_eq!(Propagation::Ignore.apply(State::Failing), None);
    /// assert_eq!(Propagation::Fixed(State::Degraded).apply(State::Passing), Some(State::Degraded));
    /// ```
    pub fn apply(self, state: State) -> Option<State> {
        match self {
            Propagation::AsIs => Some(state),
            Propagation::Raise(k) => Some(state.raise(k)),
            Propagation::Lower(k) => Some(state.lower(k)),
            Propagation::Ignore => None,
            Propagation::Fixed(s) => Some(s),
        }
    }
}

impl fmt::Display for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Propagation::AsIs => f.write_str("as_is"),
            Propagation::Raise(k) => write!(f, "raise {k}"),
            Propagation::Lower(k) => write!(f, "lower {k}"),
            Propagation::Ignore => f.write_str("ignore"),
            Propagation::Fixed(s) => write!(f, "fixed {s}"),
        }
    }
}

impl FromStr for Propagation {
    type Err = Error;

    /// `as_is`, `raise K`, `lower K`, `ignore`, `fixed STATE` (K from 1 to 4).
    fn from_str(s: &str) -> Result<Propagation, Error> {
        let invalid = || Error::InvalidField {
            field: "propagation".to_owned(),
            value: s.to_owned(),
            expected: "as_is, raise K, lower K (K from 1 to 4), ignore or fixed STATE".to_owned(),
        };
        let mut words = s.split_whitespace();
        let (first, second) = (words.next(), words.next());
        if words.next().is_some() {
            return Err(invalid());
        }
        let steps = |w: Option<&str>| -> Result<u8, Error> {
            match w.map(str::parse::<u8>) {
                Some(Ok(k)) if (1..=4).contains(&k) => Ok(k),
                _ => Err(invalid()),
            }
        };
        match (first, second) {
            (Some("as_is"), None) => Ok(Propagation::AsIs),
            (Some("ignore"), None) => Ok(Propagation::Ignore),
            (Some("raise"), k) => Ok(Propagation::Raise(steps(k)?)),
            (Some("lower"), k) => Ok(Propagation::Lower(steps(k)?)),
            (Some("fixed"), Some(state)) => {
                state.parse().map(Propagation::Fixed).map_err(|_| invalid())
            }
            _ => Err(invalid()),
        }
    }
}

/// The counted children of one system, reduced to what every aggregation needs.
///
/// Built from the children's states with [`Tally::add`]; aggregations never look at
/// individual children, so judging a system costs no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// How many counted children have each effective state, by [`State::rank`].
    pub counts: [u64; 5],
    /// Children whose edge is `ignore`.
    pub ignored: u64,
    /// Sum of the weights of counted Passing children.
    pub passing_weight: u64,
    /// Sum of the weights of all counted children.
    pub total_weight: u64,
}

impl Tally {
    /// Adds one child in `state` behind an edge with `propagation` and `weight`.
    pub fn add(&mut self, state: State, propagation: Propagation, weight: u32) {
        match propagation.apply(state) {
            None => self.ignored += 1,
            Some(effective) => {
                self.counts[usize::from(effective.rank())] += 1;
                self.total_weight += u64::from(weight);
                if effective.is_passing() {
                    self.passing_weight += u64::from(weight);
                }
            }
        }
    }

    /// Counted children.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Counted children whose effective state is Passing.
    pub fn passing(&self) -> u64 {
        self.counts[0]
    }

    /// The worst effective state, if any child is counted.
    pub fn worst(&self) -> Option<State> {
        (0..5u8)
            .rev()
            .find(|&r| self.counts[usize::from(r)] > 0)
            .map(State::from_rank)
    }

    /// The best effective state, if any child is counted.
    pub fn best(&self) -> Option<State> {
        (0..5u8)
            .find(|&r| self.counts[usize::from(r)] > 0)
            .map(State::from_rank)
    }

    /// The state at `index` of the effective states sorted best to worst.
    fn sorted_at(&self, index: u64) -> Option<State> {
        let mut seen = 0;
        for (rank, &count) in (0u8..).zip(self.counts.iter()) {
            seen += count;
            if index < seen {
                return Some(State::from_rank(rank));
            }
        }
        None
    }
}

/// A system's judgement: its state and, when not Passing (or when it hides a problem,
/// as `optional` does), one sentence saying why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// The system's state.
    pub state: State,
    /// Why, without child names (the snapshot adds those).
    pub reason: Option<String>,
    /// Whether the judgement is structural (no children, too few children, zero total
    /// weight) rather than decided by particular children.
    pub structural: bool,
}

impl Judgement {
    fn decided(state: State, reason: Option<String>) -> Judgement {
        Judgement {
            state,
            reason,
            structural: false,
        }
    }

    fn structural(state: State, reason: String) -> Judgement {
        Judgement {
            state,
            reason: Some(reason),
            structural: true,
        }
    }
}

/// The text of the judgement when there are no counted children.
pub const NO_CHILDREN: &str = "no children";

/// Judges counted children (see the [module docs](self) for the rules).
///
/// ```
/// use alert_health_graph::{aggregate, Aggregation, Propagation, State, Tally, Threshold};
/// let mut tally = Tally::default();
/// for s in [State::Passing, State::Failing, State::Passing] {
///     tally.add(s, Propagation::AsIs, 1);
/// }
/// let at_least_2 = Aggregation::AtLeast { ok: Threshold::Count(2), warn: None };
/// assert_eq!(aggregate(&at_least_2, &tally).state, State::Passing);
/// assert_eq!(aggregate(&Aggregation::All, &tally).state, State::Failing);
/// assert_eq!(aggregate(&Aggregation::All, &Tally::default()).state, State::Unknown);
/// ```
pub fn aggregate(aggregation: &Aggregation, tally: &Tally) -> Judgement {
    let total = tally.total();
    let (Some(worst), Some(best)) = (tally.worst(), tally.best()) else {
        let reason = if tally.ignored > 0 {
            format!("{NO_CHILDREN} ({} ignored)", tally.ignored)
        } else {
            NO_CHILDREN.to_owned()
        };
        return Judgement::structural(State::Unknown, reason);
    };
    let not_passing = total - tally.passing();
    let problem = |state: State, text: String| {
        Judgement::decided(state, (!state.is_passing()).then_some(text))
    };
    match *aggregation {
        Aggregation::All => problem(worst, format!("{not_passing} of {total} not passing")),
        Aggregation::Any => problem(best, format!("none of {total} passing")),
        Aggregation::Optional => Judgement::decided(
            State::Passing,
            (!worst.is_passing()).then(|| format!("optional: worst child is {worst}, ignored")),
        ),
        Aggregation::AtLeast { ok, warn } => {
            if let Threshold::Count(n) = ok
                && total < n
            {
                return Judgement::structural(
                    State::Unknown,
                    format!("only {total} children, at least {n} required"),
                );
            }
            let passing = tally.passing();
            let state = levels(ok, warn, passing, total);
            problem(
                state,
                format!("{passing} of {total} passing, at least {ok} required"),
            )
        }
        Aggregation::Weighted { ok, warn } => {
            if tally.total_weight == 0 {
                return Judgement::structural(State::Unknown, "total weight is 0".to_owned());
            }
            let (have, of) = (tally.passing_weight, tally.total_weight);
            let state = levels(ok, warn, have, of);
            problem(
                state,
                format!("passing weight {have} of {of}, at least {ok} required"),
            )
        }
        Aggregation::NthWorst { n, cap } => {
            let chosen = nth_worst(tally, n);
            problem(
                chosen.best(cap),
                format!("{} worst of {total} is {chosen}", ordinal(n)),
            )
        }
        Aggregation::NthBest { n, cap } => {
            let chosen = nth_best(tally, n);
            problem(
                chosen.best(cap),
                format!("{} best of {total} is {chosen}", ordinal(n)),
            )
        }
        Aggregation::Degraded => {
            let state = degrade(worst);
            problem(state, format!("{not_passing} of {total} not passing"))
        }
        Aggregation::Xor => {
            let passing = tally.passing();
            if passing == 1 {
                Judgement::decided(State::Passing, None)
            } else {
                Judgement::decided(
                    State::Failing,
                    Some(format!("{passing} of {total} passing, exactly 1 required")),
                )
            }
        }
        Aggregation::Not => {
            let state = invert(worst);
            problem(state, format!("worst child is {worst}, inverted"))
        }
    }
}

/// Whether a counted child whose effective state is `effective` is one of those that
/// decided `judgement` under `aggregation`, given the `tally` it was judged from.
///
/// Worst-of, best-of, `nth_*`, `not`: children in the chosen state. `at_least` and
/// `weighted`: the Passing children when Passing, the others otherwise. `degraded`:
/// children whose degraded state is the result. `xor`: the Passing children, or all when
/// none passes. `optional` and structural judgements: none.
pub fn decides(
    aggregation: &Aggregation,
    judgement: &Judgement,
    tally: &Tally,
    effective: State,
) -> bool {
    if judgement.structural {
        return false;
    }
    let result = judgement.state;
    match *aggregation {
        Aggregation::All | Aggregation::Any => effective == result,
        Aggregation::Optional => false,
        Aggregation::AtLeast { .. } | Aggregation::Weighted { .. } => {
            effective.is_passing() == result.is_passing()
        }
        Aggregation::NthWorst { n, .. } => effective == nth_worst(tally, n),
        Aggregation::NthBest { n, .. } => effective == nth_best(tally, n),
        Aggregation::Degraded => degrade(effective) == result,
        Aggregation::Xor => tally.passing() == 0 || effective.is_passing(),
        Aggregation::Not => Some(effective) == tally.worst(),
    }
}

fn levels(ok: Threshold, warn: Option<Threshold>, have: u64, total: u64) -> State {
    if ok.met(have, total) {
        State::Passing
    } else if warn.is_some_and(|w| w.met(have, total)) {
        State::Degraded
    } else {
        State::Failing
    }
}

fn nth_worst(tally: &Tally, n: u32) -> State {
    let total = tally.total();
    let index = total.saturating_sub(u64::from(n));
    tally.sorted_at(index).unwrap_or(State::Unknown)
}

fn nth_best(tally: &Tally, n: u32) -> State {
    let total = tally.total();
    let index = u64::from(n.max(1) - 1).min(total.saturating_sub(1));
    tally.sorted_at(index).unwrap_or(State::Unknown)
}

fn degrade(state: State) -> State {
    if state == State::Failing {
        State::Degraded
    } else {
        state
    }
}

fn invert(state: State) -> State {
    match state {
        State::Failing | State::Unknown => State::Passing,
        State::Degraded => State::Degraded,
        State::Pending => State::Pending,
        State::Passing => State::Failing,
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    fn tally(states: &[State]) -> Tally {
        let mut t = Tally::default();
        for &s in states {
            t.add(s, Propagation::AsIs, 1);
        }
        t
    }

    fn judge(aggregation: Aggregation, states: &[State]) -> State {
        aggregate(&aggregation, &tally(states)).state
    }

    /// `passing` Passing children and `failing` Failing ones.
    fn mix(passing: usize, failing: usize) -> Vec<State> {
        let mut v = vec![Passing; passing];
        v.extend(std::iter::repeat_n(Failing, failing));
        v
    }

    fn at_least(ok: Threshold, warn: Option<Threshold>) -> Aggregation {
        Aggregation::AtLeast { ok, warn }
    }

    #[test]
    fn every_aggregation_gives_unknown_no_children_on_empty_input() {
        let all = [
            Aggregation::All,
            Aggregation::Any,
            Aggregation::Optional,
            at_least(Threshold::Count(0), None),
            at_least(Threshold::Percent(50), None),
            Aggregation::NthWorst { n: 1, cap: Failing },
            Aggregation::NthBest { n: 1, cap: Failing },
            Aggregation::Degraded,
            Aggregation::Xor,
            Aggregation::Not,
            Aggregation::Weighted {
                ok: Threshold::Count(1),
                warn: None,
            },
        ];
        for a in all {
            let j = aggregate(&a, &Tally::default());
            assert_eq!(j.state, Unknown, "{a}");
            assert_eq!(j.reason.as_deref(), Some(NO_CHILDREN), "{a}");
            assert!(j.structural);
        }
        let mut only_ignored = Tally::default();
        only_ignored.add(Failing, Propagation::Ignore, 1);
        let j = aggregate(&Aggregation::All, &only_ignored);
        assert_eq!(
            (j.state, j.reason.as_deref()),
            (Unknown, Some("no children (1 ignored)"))
        );
    }

    #[test]
    fn all_any_degraded_not_over_every_pair() {
        for a in State::ALL {
            for b in State::ALL {
                assert_eq!(judge(Aggregation::All, &[a, b]), a.worst(b));
                assert_eq!(judge(Aggregation::Any, &[a, b]), a.best(b));
                let deg = judge(Aggregation::Degraded, &[a, b]);
                let expect = if a.worst(b) == Failing {
                    Degraded
                } else {
                    a.worst(b)
                };
                assert_eq!(deg, expect, "degraded {a} {b}");
            }
        }
        // Icinga's inversion map, on the worst child.
        assert_eq!(judge(Aggregation::Not, &[Passing]), Failing);
        assert_eq!(judge(Aggregation::Not, &[Pending, Passing]), Pending);
        assert_eq!(judge(Aggregation::Not, &[Degraded]), Degraded);
        assert_eq!(judge(Aggregation::Not, &[Unknown, Passing]), Passing);
        assert_eq!(judge(Aggregation::Not, &[Failing, Passing]), Passing);
    }

    #[test]
    fn optional_is_always_passing_with_children() {
        for s in State::ALL {
            let j = aggregate(&Aggregation::Optional, &tally(&[s]));
            assert_eq!(j.state, Passing);
            assert_eq!(j.reason.is_some(), !s.is_passing());
        }
    }

    #[test]
    fn at_least_count_truth_table_at_n_minus_1_n_n_plus_1() {
        let n = 3u64;
        let a = at_least(Threshold::Count(n), None);
        // Five children, passing count around n.
        assert_eq!(judge(a, &mix(2, 3)), Failing, "n-1 passing");
        assert_eq!(judge(a, &mix(3, 2)), Passing, "n passing");
        assert_eq!(judge(a, &mix(4, 1)), Passing, "n+1 passing");
        // Fewer children than n: Unknown, even if all pass (Icinga MIN).
        let j = aggregate(&a, &tally(&mix(2, 0)));
        assert_eq!(j.state, Unknown);
        assert_eq!(
            j.reason.as_deref(),
            Some("only 2 children, at least 3 required")
        );
        assert_eq!(judge(a, &mix(3, 0)), Passing, "exactly n children");
        // n = 0 is always met.
        assert_eq!(
            judge(at_least(Threshold::Count(0), None), &mix(0, 2)),
            Passing
        );
    }

    #[test]
    fn at_least_warn_level_is_separate() {
        let a = at_least(Threshold::Count(3), Some(Threshold::Count(2)));
        assert_eq!(judge(a, &mix(3, 2)), Passing);
        assert_eq!(judge(a, &mix(2, 3)), Degraded, "warn met");
        assert_eq!(judge(a, &mix(1, 4)), Failing, "warn missed");
        // Non-passing children that are not Failing count as not passing too.
        assert_eq!(judge(a, &[Passing, Passing, Unknown, Pending]), Degraded);
    }

    #[test]
    fn at_least_percent_rounds_down_like_zabbix() {
        // 2 of 3 is 66.67%, which is 66% as a whole percentage.
        let a66 = at_least(Threshold::Percent(66), None);
        let a67 = at_least(Threshold::Percent(67), None);
        assert_eq!(judge(a66, &mix(2, 1)), Passing);
        assert_eq!(judge(a67, &mix(2, 1)), Failing);
        // Exactly 50%: met at 50, missed at 51; 1 of 3 (33.3%) misses 34 and meets 33.
        assert_eq!(
            judge(at_least(Threshold::Percent(50), None), &mix(2, 2)),
            Passing
        );
        assert_eq!(
            judge(at_least(Threshold::Percent(51), None), &mix(2, 2)),
            Failing
        );
        assert_eq!(
            judge(at_least(Threshold::Percent(33), None), &mix(1, 2)),
            Passing
        );
        assert_eq!(
            judge(at_least(Threshold::Percent(34), None), &mix(1, 2)),
            Failing
        );
        // 0% is always met, 100% needs every child.
        assert_eq!(
            judge(at_least(Threshold::Percent(0), None), &mix(0, 3)),
            Passing
        );
        assert_eq!(
            judge(at_least(Threshold::Percent(100), None), &mix(3, 0)),
            Passing
        );
        assert_eq!(
            judge(at_least(Threshold::Percent(100), None), &mix(3, 1)),
            Failing
        );
        // Warn level in percent.
        let w = at_least(Threshold::Percent(75), Some(Threshold::Percent(50)));
        assert_eq!(judge(w, &mix(3, 1)), Passing);
        assert_eq!(judge(w, &mix(2, 2)), Degraded);
        assert_eq!(judge(w, &mix(1, 3)), Failing);
    }

    #[test]
    fn nth_worst_and_nth_best_follow_checkmk_indexing_and_cap() {
        let states = [Passing, Degraded, Failing]; // sorted best..worst
        let worst = |n, cap| judge(Aggregation::NthWorst { n, cap }, &states);
        let best = |n, cap| judge(Aggregation::NthBest { n, cap }, &states);
        assert_eq!(worst(1, Failing), Failing);
        assert_eq!(worst(2, Failing), Degraded);
        assert_eq!(worst(3, Failing), Passing);
        assert_eq!(worst(4, Failing), Passing, "n beyond the count: index 0");
        assert_eq!(worst(1, Degraded), Degraded, "capped");
        assert_eq!(best(1, Failing), Passing);
        assert_eq!(best(2, Failing), Degraded);
        assert_eq!(best(3, Failing), Failing);
        assert_eq!(best(4, Failing), Failing, "n beyond the count: last");
        assert_eq!(best(3, Unknown), Unknown, "capped");
        // n-1, n, n+1 failing children with nth_worst 2 (tolerate one failure).
        let tolerate_one = Aggregation::NthWorst { n: 2, cap: Failing };
        assert_eq!(judge(tolerate_one, &mix(3, 1)), Passing);
        assert_eq!(judge(tolerate_one, &mix(2, 2)), Failing);
        assert_eq!(judge(tolerate_one, &mix(1, 3)), Failing);
    }

    #[test]
    fn xor_needs_exactly_one_passing() {
        assert_eq!(judge(Aggregation::Xor, &mix(0, 2)), Failing);
        assert_eq!(judge(Aggregation::Xor, &mix(1, 2)), Passing);
        assert_eq!(judge(Aggregation::Xor, &mix(2, 1)), Failing);
        assert_eq!(judge(Aggregation::Xor, &[Passing, Unknown]), Passing);
    }

    #[test]
    fn weighted_counts_weights_and_zero_total_is_unknown() {
        let weighted = |ok, warn, children: &[(State, u32)]| {
            let mut t = Tally::default();
            for &(s, w) in children {
                t.add(s, Propagation::AsIs, w);
            }
            aggregate(&Aggregation::Weighted { ok, warn }, &t).state
        };
        let kids = [(Passing, 5), (Failing, 3), (Passing, 2)]; // 7 of 10
        assert_eq!(weighted(Threshold::Count(6), None, &kids), Passing);
        assert_eq!(weighted(Threshold::Count(7), None, &kids), Passing);
        assert_eq!(weighted(Threshold::Count(8), None, &kids), Failing);
        assert_eq!(
            weighted(Threshold::Count(8), Some(Threshold::Count(7)), &kids),
            Degraded
        );
        assert_eq!(weighted(Threshold::Percent(70), None, &kids), Passing);
        assert_eq!(weighted(Threshold::Percent(71), None, &kids), Failing);
        assert_eq!(
            weighted(Threshold::Count(0), None, &[(Passing, 0), (Failing, 0)]),
            Unknown
        );
    }

    #[test]
    fn propagation_changes_what_is_counted() {
        let mut t = Tally::default();
        t.add(Failing, Propagation::Lower(2), 1); // Degraded
        t.add(Passing, Propagation::Raise(1), 1); // Pending
        t.add(Failing, Propagation::Ignore, 1);
        t.add(Failing, Propagation::Fixed(Passing), 1);
        assert_eq!(t.total(), 3);
        assert_eq!(t.ignored, 1);
        assert_eq!(aggregate(&Aggregation::All, &t).state, Degraded);
        assert_eq!(aggregate(&Aggregation::Any, &t).state, Passing);
    }

    #[test]
    fn decisive_children() {
        let t = tally(&[Passing, Failing, Degraded]);
        let j = aggregate(&Aggregation::All, &t);
        let d = |a: &Aggregation, j: &Judgement, t: &Tally, s| decides(a, j, t, s);
        assert!(d(&Aggregation::All, &j, &t, Failing));
        assert!(!d(&Aggregation::All, &j, &t, Degraded));
        let a = at_least(Threshold::Count(2), None);
        let j = aggregate(&a, &t);
        assert_eq!(j.state, Failing);
        assert!(d(&a, &j, &t, Failing) && d(&a, &j, &t, Degraded));
        assert!(!d(&a, &j, &t, Passing));
        let j = aggregate(&Aggregation::Degraded, &t);
        assert_eq!(j.state, Degraded);
        assert!(d(&Aggregation::Degraded, &j, &t, Failing));
        assert!(d(&Aggregation::Degraded, &j, &t, Degraded));
        let j = aggregate(&Aggregation::Optional, &t);
        assert!(!d(&Aggregation::Optional, &j, &t, Failing));
    }

    #[test]
    fn validation_names_the_field() {
        let bad = Aggregation::NthWorst { n: 0, cap: Failing };
        let err = bad.validate("systems[2]").unwrap_err().to_string();
        assert!(err.contains("systems[2].n"), "{err}");
        let bad = at_least(Threshold::Count(1), Some(Threshold::Count(2)));
        let err = bad.validate("systems[0]").unwrap_err().to_string();
        assert!(err.contains("systems[0].warn"), "{err}");
        assert!(
            at_least(Threshold::Percent(50), Some(Threshold::Count(9)))
                .validate("x")
                .is_ok()
        );
    }

    #[test]
    fn propagation_strings_round_trip() {
        for p in [
            Propagation::AsIs,
            Propagation::Raise(2),
            Propagation::Lower(4),
            Propagation::Ignore,
            Propagation::Fixed(Degraded),
        ] {
            assert_eq!(p.to_string().parse::<Propagation>().expect("valid"), p);
        }
        for bad in ["raise", "raise 0", "lower 5", "fixed green", "as_is 1", ""] {
            assert!(bad.parse::<Propagation>().is_err(), "{bad}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn state() -> impl Strategy<Value = State> {
            (0u8..5).prop_map(State::from_rank)
        }

        proptest! {
            /// The tally-based nth_worst agrees with Checkmk's sort-and-index definition.
            #[test]
            fn nth_agrees_with_sorting(states in prop::collection::vec(state(), 1..12), n in 1u32..14) {
                let t = tally(&states);
                let mut sorted = states.clone();
                sorted.sort();
                let len = sorted.len();
                let worst = sorted[len.saturating_sub(n as usize)];
                let best = sorted[(n as usize - 1).min(len - 1)];
                prop_assert_eq!(judge(Aggregation::NthWorst { n, cap: Failing }, &states), worst);
                prop_assert_eq!(judge(Aggregation::NthBest { n, cap: Failing }, &states), best);
                prop_assert_eq!(judge(Aggregation::All, &states), *sorted.last().unwrap());
                prop_assert_eq!(judge(Aggregation::Any, &states), sorted[0]);
                prop_assert_eq!(t.total() as usize, len);
            }

            /// Percent thresholds agree with the floor of the real percentage.
            #[test]
            fn percent_agrees_with_floor(have in 0u64..500, extra in 0u64..500, p in 0u8..=100) {
                let total = have + extra;
                prop_assume!(total > 0);
                let floor = (have * 100) / total;
                prop_assert_eq!(Threshold::Percent(p).met(have, total), floor >= u64::from(p));
            }

            /// Propagation strings round-trip.
            #[test]
            fn propagation_round_trip(kind in 0u8..5, k in 1u8..=4, rank in 0u8..5) {
                let p = match kind {
                    0 => Propagation::AsIs,
                    1 => Propagation::Raise(k),
                    2 => Propagation::Lower(k),
                    3 => Propagation::Ignore,
                    _ => Propagation::Fixed(State::from_rank(rank)),
                };
                prop_assert_eq!(p.to_string().parse::<Propagation>().unwrap(), p);
            }

            /// Arbitrary text never panics the parsers.
            #[test]
            fn parsers_do_not_panic(text in ".{0,24}") {
                let _ = text.parse::<Propagation>();
                let _ = text.parse::<Threshold>();
                let _ = text.parse::<State>();
            }

            /// Threshold strings round-trip.
            #[test]
            fn threshold_round_trip(n in 0u64..10_000_000, p in 0u8..=100) {
                for t in [Threshold::Count(n), Threshold::Percent(p)] {
                    prop_assert_eq!(t.to_string().parse::<Threshold>().unwrap(), t);
                }
            }
        }
    }
}
