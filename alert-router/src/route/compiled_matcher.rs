//! A matcher as the routing tree evaluates it on the hot path.
//!
//! Equality tests are inlined string comparisons. Regex tests go to alert-core's
//! [`Matcher`] (anchored `^(?:value)$`, Go's RE2 meaning, with its own literal fast
//! paths); the tree memoises their results per alert, so a regex shared by several
//! routes runs at most once per alert.

use alert_core::{MatchType, Matcher};

/// A value test, compiled.
#[derive(Debug, Clone)]
pub(crate) enum ValueTest {
    /// `value == literal`.
    Equal(Box<str>),
    /// `value != literal`.
    NotEqual(Box<str>),
    /// `=~` or `!~`: the full matcher. Its result is memoised per alert in memo slot
    /// `slot`, and across alerts in the value cache under bit `bit` of its label's
    /// entries (when `bit < value_cache::BITS`).
    Regex {
        matcher: Matcher,
        slot: u32,
        bit: u32,
    },
}

impl ValueTest {
    /// Compiles `matcher`. `next_slot` numbers the regex matchers (their memo slots);
    /// `next_bit` numbers the regex matchers of this matcher's label.
    pub(crate) fn compile(matcher: &Matcher, next_slot: &mut u32, next_bit: &mut u32) -> ValueTest {
        match matcher.match_type() {
            MatchType::Equal => ValueTest::Equal(matcher.value().into()),
            MatchType::NotEqual => ValueTest::NotEqual(matcher.value().into()),
            MatchType::Regexp | MatchType::NotRegexp => {
                let (slot, bit) = (*next_slot, *next_bit);
                *next_slot += 1;
                *next_bit += 1;
                ValueTest::Regex {
                    matcher: matcher.clone(),
                    slot,
                    bit,
                }
            }
        }
    }

    /// The evaluation cost class, cheapest first (the order a node tests in).
    pub(crate) fn cost(&self) -> u8 {
        match self {
            ValueTest::Equal(_) | ValueTest::NotEqual(_) => 0,
            ValueTest::Regex { .. } => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_only_regex_matchers() {
        let (mut slot, mut bit) = (0, 0);
        let eq = Matcher::new(MatchType::Equal, "a", "x").unwrap();
        let re = Matcher::new(MatchType::NotRegexp, "a", "x|y").unwrap();
        assert!(matches!(
            ValueTest::compile(&eq, &mut slot, &mut bit),
            ValueTest::Equal(v) if &*v == "x"
        ));
        assert!(matches!(
            ValueTest::compile(&re, &mut slot, &mut bit),
            ValueTest::Regex {
                slot: 0,
                bit: 0,
                ..
            }
        ));
        assert!(matches!(
            ValueTest::compile(&re, &mut slot, &mut bit),
            ValueTest::Regex {
                slot: 1,
                bit: 1,
                ..
            }
        ));
        assert_eq!((slot, bit), (2, 2));
    }
}
