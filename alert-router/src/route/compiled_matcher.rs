//! A matcher as the routing tree evaluates it on the hot path.
//!
//! Equality tests are inlined string comparisons. Regex tests go to alert-core's
//! [`Matcher`] (anchored `^(?:value)$`, Go's RE2 meaning, with its own literal fast
//! paths); the tree memoises their results per alert, so a regex shared by several
//! routes runs at most once per alert.

use alert_core::{MatchType, Matcher};

/// A value test, compiled: 12 bytes, so a tree's tests stay in the first-level cache.
/// The strings and regexes it refers to live in [`TestData`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum ValueTest {
    /// `value == literals[i]`.
    Equal(u32),
    /// `value != literals[i]`.
    NotEqual(u32),
    /// `=~` or `!~`: `regexes[slot]`. Its result is memoised per alert in memo slot
    /// `slot`, and across alerts in the value cache under bit `bit` of its label's
    /// entries (when `bit < value_cache::BITS`).
    Regex { slot: u32, bit: u32 },
}

/// The literals and regex matchers the tests refer to.
#[derive(Debug, Clone, Default)]
pub(crate) struct TestData {
    pub(crate) literals: Vec<Box<str>>,
    pub(crate) regexes: Vec<Matcher>,
}

impl ValueTest {
    /// Compiles `matcher`, storing its literal or regex in `data`. `next_bit` numbers the
    /// regex matchers of this matcher's label.
    pub(crate) fn compile(matcher: &Matcher, data: &mut TestData, next_bit: &mut u32) -> ValueTest {
        let literal = |data: &mut TestData| {
            data.literals.push(matcher.value().into());
            (data.literals.len() - 1) as u32
        };
        match matcher.match_type() {
            MatchType::Equal => ValueTest::Equal(literal(data)),
            MatchType::NotEqual => ValueTest::NotEqual(literal(data)),
            MatchType::Regexp | MatchType::NotRegexp => {
                data.regexes.push(matcher.clone());
                let bit = *next_bit;
                *next_bit += 1;
                ValueTest::Regex {
                    slot: (data.regexes.len() - 1) as u32,
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
    fn numbers_literals_and_regexes() {
        let (mut data, mut bit) = (TestData::default(), 0);
        let eq = Matcher::new(MatchType::Equal, "a", "x").unwrap();
        let re = Matcher::new(MatchType::NotRegexp, "a", "x|y").unwrap();
        assert!(matches!(
            ValueTest::compile(&eq, &mut data, &mut bit),
            ValueTest::Equal(0)
        ));
        assert!(matches!(
            ValueTest::compile(&re, &mut data, &mut bit),
            ValueTest::Regex { slot: 0, bit: 0 }
        ));
        assert!(matches!(
            ValueTest::compile(&re, &mut data, &mut bit),
            ValueTest::Regex { slot: 1, bit: 1 }
        ));
        assert_eq!(&*data.literals[0], "x");
        assert_eq!(data.regexes.len(), 2);
        assert_eq!(bit, 2);
        assert!(std::mem::size_of::<ValueTest>() <= 12);
    }
}
