//! Durations in Alertmanager's grammar (prometheus/common `model.Duration`).
//!
//! Accepted: `0`, or one or more `<integer><unit>` with units in the order
//! `y w d h m s ms`, each at most once (`1y2w3d4h5m6s7ms`). A year is 365 days, a week
//! 7 days. No fractions, signs, spaces or other units. Printed canonically: the largest
//! units first, years and weeks only when they divide the rest exactly, `0s` for zero.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

const MS_PER_SECOND: u64 = 1_000;
const MS_PER_MINUTE: u64 = 60 * MS_PER_SECOND;
const MS_PER_HOUR: u64 = 60 * MS_PER_MINUTE;
const MS_PER_DAY: u64 = 24 * MS_PER_HOUR;
const MS_PER_WEEK: u64 = 7 * MS_PER_DAY;
const MS_PER_YEAR: u64 = 365 * MS_PER_DAY;

/// The largest duration Go's `time.Duration` holds, in whole milliseconds.
const MAX_MS: u64 = (i64::MAX as u64) / 1_000_000;

/// Units in the order the grammar requires them, longest suffix first where two share a
/// letter (`ms` before `m` is handled by the parser, not by this order).
const UNITS: [(&str, u64); 7] = [
    ("y", MS_PER_YEAR),
    ("w", MS_PER_WEEK),
    ("d", MS_PER_DAY),
    ("h", MS_PER_HOUR),
    ("m", MS_PER_MINUTE),
    ("s", MS_PER_SECOND),
    ("ms", 1),
];

/// A non-negative span of time with millisecond precision, as Alertmanager configures
/// `group_wait`, `repeat_interval`, `resolve_timeout` and the like.
///
/// ```
/// use alert_core::Duration;
/// let d: Duration = "1h30m".parse()?;
/// assert_eq!(d.as_millis(), 5_400_000);
/// assert_eq!(d.to_string(), "1h30m");
/// assert_eq!("90m".parse::<Duration>()?.to_string(), "1h30m");
/// assert_eq!("0".parse::<Duration>()?.to_string(), "0s");
/// assert!("1.5h".parse::<Duration>().is_err());
/// assert!("30s1m".parse::<Duration>().is_err());
/// # Ok::<(), alert_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    ms: u64,
}

impl Duration {
    /// Zero.
    pub const ZERO: Duration = Duration { ms: 0 };

    /// A duration of `ms` milliseconds, or `None` beyond Go's `time.Duration` range.
    pub const fn from_millis(ms: u64) -> Option<Duration> {
        if ms > MAX_MS {
            None
        } else {
            Some(Duration { ms })
        }
    }

    /// A duration of `secs` seconds, or `None` beyond Go's `time.Duration` range.
    pub const fn from_secs(secs: u64) -> Option<Duration> {
        match secs.checked_mul(MS_PER_SECOND) {
            Some(ms) => Duration::from_millis(ms),
            None => None,
        }
    }

    /// Whole milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.ms
    }

    /// Whole seconds (rounded down).
    pub const fn as_secs(self) -> u64 {
        self.ms / MS_PER_SECOND
    }

    /// Whether this is zero.
    pub const fn is_zero(self) -> bool {
        self.ms == 0
    }

    /// The same span as a [`std::time::Duration`].
    pub const fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_millis(self.ms)
    }

    /// The sum, or `None` beyond Go's `time.Duration` range.
    pub fn checked_add(self, other: Duration) -> Option<Duration> {
        self.ms
            .checked_add(other.ms)
            .and_then(Duration::from_millis)
    }

    /// The product, or `None` beyond Go's `time.Duration` range.
    pub fn checked_mul(self, factor: u64) -> Option<Duration> {
        self.ms.checked_mul(factor).and_then(Duration::from_millis)
    }
}

impl TryFrom<std::time::Duration> for Duration {
    type Error = Error;

    /// Truncates to whole milliseconds; fails beyond Go's `time.Duration` range.
    fn try_from(d: std::time::Duration) -> Result<Self> {
        u64::try_from(d.as_millis())
            .ok()
            .and_then(Duration::from_millis)
            .ok_or_else(|| Error::DurationOutOfRange {
                input: format!("{d:?}"),
            })
    }
}

impl From<Duration> for std::time::Duration {
    fn from(d: Duration) -> Self {
        d.to_std()
    }
}

impl FromStr for Duration {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "0" => return Ok(Duration::ZERO),
            "" => return Err(Error::EmptyDuration),
            _ => {}
        }
        let invalid = || Error::InvalidDuration {
            input: s.to_owned(),
        };
        let out_of_range = || Error::DurationOutOfRange {
            input: s.to_owned(),
        };
        let bytes = s.as_bytes();
        let mut pos = 0;
        // Index into UNITS of the next unit allowed: each unit at most once, in order.
        let mut next_unit = 0;
        let mut total: u64 = 0;
        while pos < bytes.len() {
            let digits_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            if pos == digits_start {
                return Err(invalid());
            }
            let unit_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_alphabetic() {
                pos += 1;
            }
            let unit = &s[unit_start..pos];
            let Some(offset) = UNITS[next_unit..].iter().position(|(u, _)| *u == unit) else {
                return Err(invalid());
            };
            let (_, mult) = UNITS[next_unit + offset];
            next_unit += offset + 1;
            // Go parses with Atoi (overflow clamps, then fails the range check below).
            let n: u64 = s[digits_start..unit_start].parse().unwrap_or(u64::MAX);
            let part = n.checked_mul(mult).ok_or_else(out_of_range)?;
            total = total.checked_add(part).ok_or_else(out_of_range)?;
            if total > MAX_MS {
                return Err(out_of_range());
            }
        }
        Ok(Duration { ms: total })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.ms;
        if ms == 0 {
            return f.write_str("0s");
        }
        for (i, (unit, mult)) in UNITS.iter().enumerate() {
            // Years and weeks only when they divide the rest exactly: `90d`, not `12w6d`.
            let exact_only = i < 2;
            if exact_only && !ms.is_multiple_of(*mult) {
                continue;
            }
            let v = ms / mult;
            if v > 0 {
                write!(f, "{v}{unit}")?;
                ms -= v * mult;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        // A visitor (rather than reading a string first) lets formats such as YAML report
        // the error at this value's own path (`...prometheus.for`), not its parent's.
        struct DurationVisitor;

        impl serde::de::Visitor<'_> for DurationVisitor {
            type Value = Duration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 1h30m")
            }

            fn visit_str<E: serde::de::Error>(self, s: &str) -> std::result::Result<Duration, E> {
                s.parse().map_err(E::custom)
            }

            // YAML reads a bare `0` as an integer; Alertmanager accepts `0`.
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> std::result::Result<Duration, E> {
                n.to_string().parse().map_err(E::custom)
            }

            fn visit_i64<E: serde::de::Error>(self, n: i64) -> std::result::Result<Duration, E> {
                n.to_string().parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Duration {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn canonical_forms_match_prometheus_common() {
        // (input, canonical) pairs from prometheus/common's own duration tests.
        let cases = [
            ("0", "0s"),
            ("0s", "0s"),
            ("0w", "0s"),
            ("324ms", "324ms"),
            ("3s", "3s"),
            ("5m", "5m"),
            ("1h", "1h"),
            ("4d", "4d"),
            ("4d1h", "4d1h"),
            ("14d", "2w"),
            ("3w", "3w"),
            ("3w2d1h", "23d1h"),
            ("10y", "10y"),
            ("1y2w3d4h5m6s7ms", "382d4h5m6s7ms"),
            ("90m", "1h30m"),
            ("120s", "2m"),
            ("1000ms", "1s"),
            ("365d", "1y"),
            ("366d", "366d"),
            ("91d", "13w"),
            ("90d", "90d"),
        ];
        for (input, canonical) in cases {
            assert_eq!(d(input).to_string(), canonical, "{input}");
        }
        assert_eq!(d("1y2w3d4h5m6s7ms").as_millis(), 33_019_506_007);
    }

    #[test]
    fn rejects_what_alertmanager_rejects() {
        for bad in [
            "1", "5x", "1.5m", "-5m", "+5m", "forever", " 5m", "5m ", "5 m", "30s1m", "1h1h",
            "1m1h", "ms", "h", "1mss", "1H", "1M", "1us", "1ns", "1µs", "1d1y", "00", "1e3s",
        ] {
            let err = bad.parse::<Duration>().expect_err(bad);
            assert_eq!(err, Error::InvalidDuration { input: bad.into() }, "{bad}");
        }
        assert_eq!("".parse::<Duration>(), Err(Error::EmptyDuration));
        assert_eq!(
            "292y".parse::<Duration>().map(|d| d.as_millis() > 0),
            Ok(true)
        );
        for huge in ["293y", "99999999999999999999s", "106752d"] {
            assert_eq!(
                huge.parse::<Duration>(),
                Err(Error::DurationOutOfRange { input: huge.into() }),
                "{huge}"
            );
        }
        assert_eq!(
            Error::InvalidDuration { input: "5x".into() }.to_string(),
            r#"not a valid duration string: "5x""#
        );
    }

    #[test]
    fn leading_zeros_and_ms_after_m() {
        assert_eq!(d("05m").as_millis(), 300_000);
        assert_eq!(d("1m500ms").as_millis(), 60_500);
        assert_eq!(d("1m500ms").to_string(), "1m500ms");
    }

    #[test]
    fn serde_reads_strings_and_a_bare_zero() {
        let d: Duration = serde_json::from_str("\"5m\"").expect("valid");
        assert_eq!(d.as_secs(), 300);
        let d: Duration = serde_json::from_str("0").expect("valid");
        assert!(d.is_zero());
        let err = serde_json::from_str::<Duration>("5")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a valid duration string: \"5\""), "{err}");
        let err = serde_json::from_str::<Duration>("\"5x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a valid duration string: \"5x\""), "{err}");
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(ms in 0u64..=MAX_MS) {
            let dur = Duration::from_millis(ms).expect("in range");
            let text = dur.to_string();
            prop_assert_eq!(text.parse::<Duration>(), Ok(dur));
        }

        #[test]
        fn parse_sums_its_parts(y in 0u64..5, w in 0u64..60, dd in 0u64..400,
                                h in 0u64..48, m in 0u64..120, s in 0u64..120, ms in 0u64..5000) {
            let text = format!("{y}y{w}w{dd}d{h}h{m}m{s}s{ms}ms");
            let want = y * MS_PER_YEAR + w * MS_PER_WEEK + dd * MS_PER_DAY + h * MS_PER_HOUR
                + m * MS_PER_MINUTE + s * MS_PER_SECOND + ms;
            prop_assert_eq!(text.parse::<Duration>().map(Duration::as_millis), Ok(want));
        }
    }
}
