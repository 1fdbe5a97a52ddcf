//! The health states and their total order.
//!
//! Five states, best first: `Passing < Pending < Degraded < Unknown < Failing`. This is
//! the order Checkmk BI and Icinga Business Process agree on (OK < PENDING < WARN <
//! UNKNOWN < CRIT): a state we cannot determine is worse than a known partial outage, and
//! better than a known failure. "Worst" is the maximum, "best" the minimum.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The health of one node.
///
/// ```
/// use alert_health_graph::State;
/// assert!(State::Passing < State::Pending);
/// assert!(State::Degraded < State::Unknown);
/// assert_eq!(State::Unknown.worst(State::Failing), State::Failing);
/// assert_eq!(State::Unknown.best(State::Degraded), State::Degraded);
/// assert_eq!(State::Degraded.raise(5), State::Failing);
/// assert_eq!("pending".parse::<State>()?, State::Pending);
/// # Ok::<(), alert_health_graph::Error>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Working as expected.
    Passing,
    /// Not yet judged (starting up, first read outstanding).
    Pending,
    /// Working, but impaired: a partial outage, a warning level crossed.
    Degraded,
    /// The state could not be determined (timeouts, errors, no children).
    #[default]
    Unknown,
    /// Not working.
    Failing,
}

impl State {
    /// Every state, best first.
    pub const ALL: [State; 5] = [
        State::Passing,
        State::Pending,
        State::Degraded,
        State::Unknown,
        State::Failing,
    ];

    /// The position in the order, `0` (Passing) to `4` (Failing).
    pub const fn rank(self) -> u8 {
        self as u8
    }

    /// The state at position `rank`, saturating at [`State::Failing`].
    pub const fn from_rank(rank: u8) -> State {
        match rank {
            0 => State::Passing,
            1 => State::Pending,
            2 => State::Degraded,
            3 => State::Unknown,
            _ => State::Failing,
        }
    }

    /// The less favourable of the two (Alpacalert's `&`).
    pub fn worst(self, other: State) -> State {
        self.max(other)
    }

    /// The more favourable of the two (Alpacalert's `|`).
    pub fn best(self, other: State) -> State {
        self.min(other)
    }

    /// `k` steps towards [`State::Failing`], stopping there.
    pub fn raise(self, k: u8) -> State {
        State::from_rank(self.rank().saturating_add(k))
    }

    /// `k` steps towards [`State::Passing`], stopping there.
    pub fn lower(self, k: u8) -> State {
        State::from_rank(self.rank().saturating_sub(k))
    }

    /// `"passing"`, `"pending"`, `"degraded"`, `"unknown"` or `"failing"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Passing => "passing",
            State::Pending => "pending",
            State::Degraded => "degraded",
            State::Unknown => "unknown",
            State::Failing => "failing",
        }
    }

    /// Whether this is [`State::Passing`].
    pub const fn is_passing(self) -> bool {
        matches!(self, State::Passing)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = Error;

    fn from_str(s: &str) -> Result<State, Error> {
        State::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| Error::InvalidField {
                field: "state".to_owned(),
                value: s.to_owned(),
                expected: "one of passing, pending, degraded, unknown, failing".to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_total_and_documented() {
        for (i, a) in State::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(a.rank()), i);
            assert_eq!(State::from_rank(a.rank()), a);
            for (j, b) in State::ALL.into_iter().enumerate() {
                assert_eq!(a.cmp(&b), i.cmp(&j), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn worst_and_best_truth_tables_both_orders() {
        use State::*;
        // (a, b, worst, best) for every unordered pair; both argument orders checked.
        let table = [
            (Passing, Passing, Passing, Passing),
            (Passing, Pending, Pending, Passing),
            (Passing, Degraded, Degraded, Passing),
            (Passing, Unknown, Unknown, Passing),
            (Passing, Failing, Failing, Passing),
            (Pending, Pending, Pending, Pending),
            (Pending, Degraded, Degraded, Pending),
            (Pending, Unknown, Unknown, Pending),
            (Pending, Failing, Failing, Pending),
            (Degraded, Degraded, Degraded, Degraded),
            (Degraded, Unknown, Unknown, Degraded),
            (Degraded, Failing, Failing, Degraded),
            (Unknown, Unknown, Unknown, Unknown),
            (Unknown, Failing, Failing, Unknown),
            (Failing, Failing, Failing, Failing),
        ];
        for (a, b, worst, best) in table {
            assert_eq!(a.worst(b), worst, "{a} & {b}");
            assert_eq!(b.worst(a), worst, "{b} & {a}");
            assert_eq!(a.best(b), best, "{a} | {b}");
            assert_eq!(b.best(a), best, "{b} | {a}");
        }
    }

    #[test]
    fn raise_and_lower_saturate() {
        assert_eq!(State::Passing.raise(1), State::Pending);
        assert_eq!(State::Passing.raise(4), State::Failing);
        assert_eq!(State::Unknown.raise(200), State::Failing);
        assert_eq!(State::Failing.lower(2), State::Degraded);
        assert_eq!(State::Pending.lower(9), State::Passing);
        assert_eq!(State::Degraded.raise(0), State::Degraded);
    }

    #[test]
    fn strings_round_trip_and_bad_ones_are_named() {
        for s in State::ALL {
            assert_eq!(s.as_str().parse::<State>().expect("valid"), s);
            let json = serde_json::to_string(&s).expect("serialises");
            assert_eq!(json, format!("\"{s}\""));
        }
        let err = "green".parse::<State>().unwrap_err().to_string();
        assert!(err.contains("\"green\""), "{err}");
    }
}
