//! Instants as Alertmanager writes them: RFC 3339 with Go's `RFC3339Nano` layout.
//!
//! Go's `encoding/json` writes a `time.Time` with up to nine fractional digits, trailing
//! zeros dropped, and the value's own UTC offset (`Z` for UTC). Alertmanager uses the
//! zero `time.Time`, `0001-01-01T00:00:00Z`, for "not set" (for example the `endsAt` of a
//! firing alert in a webhook message). [`Timestamp`] keeps the offset it was read with so
//! that what a real Alertmanager sent is written back byte for byte.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use jiff::tz::Offset;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// An instant, with the UTC offset it is shown in.
///
/// Equality, ordering and hashing look at the instant only: `10:00:00Z` and
/// `11:00:00+01:00` are equal.
///
/// ```
/// use alert_core::Timestamp;
/// let t: Timestamp = "2024-05-01T10:00:00.120+02:00".parse()?;
/// assert_eq!(t.to_string(), "2024-05-01T10:00:00.12+02:00");
/// assert_eq!(t, "2024-05-01T08:00:00.12Z".parse()?);
/// assert!(Timestamp::GO_ZERO.is_go_zero());
/// assert_eq!(Timestamp::GO_ZERO.to_string(), "0001-01-01T00:00:00Z");
/// # Ok::<(), alert_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Timestamp {
    instant: jiff::Timestamp,
    offset: Offset,
}

impl Timestamp {
    /// Go's zero `time.Time`, `0001-01-01T00:00:00Z`: Alertmanager's "not set".
    pub const GO_ZERO: Timestamp = Timestamp {
        instant: jiff::Timestamp::constant(-62_135_596_800, 0),
        offset: Offset::UTC,
    };

    /// The Unix epoch.
    pub const UNIX_EPOCH: Timestamp = Timestamp {
        instant: jiff::Timestamp::UNIX_EPOCH,
        offset: Offset::UTC,
    };

    /// An instant shown in UTC.
    pub const fn from_jiff(instant: jiff::Timestamp) -> Timestamp {
        Timestamp {
            instant,
            offset: Offset::UTC,
        }
    }

    /// An instant shown with the given offset.
    pub const fn with_offset(instant: jiff::Timestamp, offset: Offset) -> Timestamp {
        Timestamp { instant, offset }
    }

    /// Seconds and nanoseconds since the Unix epoch, shown in UTC.
    pub fn from_unix(seconds: i64, nanos: i32) -> Result<Timestamp> {
        jiff::Timestamp::new(seconds, nanos)
            .map(Timestamp::from_jiff)
            .map_err(|e| Error::InvalidTimestamp {
                input: format!("{seconds}.{nanos:09}"),
                reason: e.to_string(),
            })
    }

    /// Milliseconds since the Unix epoch, shown in UTC.
    pub fn from_unix_millis(ms: i64) -> Result<Timestamp> {
        jiff::Timestamp::from_millisecond(ms)
            .map(Timestamp::from_jiff)
            .map_err(|e| Error::InvalidTimestamp {
                input: ms.to_string(),
                reason: e.to_string(),
            })
    }

    /// The instant.
    pub const fn instant(self) -> jiff::Timestamp {
        self.instant
    }

    /// The offset the instant is shown with.
    pub const fn offset(self) -> Offset {
        self.offset
    }

    /// Whole seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.instant.as_second()
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> i64 {
        self.instant.as_millisecond()
    }

    /// Nanoseconds since the Unix epoch.
    pub fn unix_nanos(self) -> i128 {
        self.instant.as_nanosecond()
    }

    /// Whether this is Go's zero time (whatever offset it is shown in).
    pub fn is_go_zero(self) -> bool {
        self.instant == Self::GO_ZERO.instant
    }

    /// `None` for Go's zero time, the instant otherwise.
    pub fn non_zero(self) -> Option<Timestamp> {
        (!self.is_go_zero()).then_some(self)
    }

    /// The same instant shown in UTC.
    pub fn to_utc(self) -> Timestamp {
        Timestamp::from_jiff(self.instant)
    }

    /// This instant plus `d`, or `None` past the representable range.
    pub fn checked_add(self, d: crate::Duration) -> Option<Timestamp> {
        let span = jiff::SignedDuration::from_millis(i64::try_from(d.as_millis()).ok()?);
        self.instant
            .checked_add(span)
            .ok()
            .map(|instant| Timestamp { instant, ..self })
    }

    /// This instant minus `d`, or `None` past the representable range.
    pub fn checked_sub(self, d: crate::Duration) -> Option<Timestamp> {
        let span = jiff::SignedDuration::from_millis(i64::try_from(d.as_millis()).ok()?);
        self.instant
            .checked_sub(span)
            .ok()
            .map(|instant| Timestamp { instant, ..self })
    }

    /// `self - earlier`, negative when `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> jiff::SignedDuration {
        self.instant.duration_since(earlier.instant)
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.instant == other.instant
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.instant.cmp(&other.instant)
    }
}

impl Hash for Timestamp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.instant.hash(state);
    }
}

impl From<jiff::Timestamp> for Timestamp {
    fn from(instant: jiff::Timestamp) -> Self {
        Timestamp::from_jiff(instant)
    }
}

impl From<Timestamp> for jiff::Timestamp {
    fn from(t: Timestamp) -> Self {
        t.instant
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    /// RFC 3339 with a `Z` or a numeric offset (what Go's `time.Time` JSON decoding takes).
    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidTimestamp {
            input: s.to_owned(),
            reason,
        };
        let zoned: jiff::fmt::temporal::Pieces<'_> =
            jiff::fmt::temporal::Pieces::parse(s).map_err(|e| invalid(e.to_string()))?;
        let offset = match zoned.offset() {
            Some(jiff::fmt::temporal::PiecesOffset::Zulu) => Offset::UTC,
            Some(jiff::fmt::temporal::PiecesOffset::Numeric(n)) => n.offset(),
            _ => {
                return Err(invalid(
                    "expected an RFC 3339 time with a UTC offset".into(),
                ));
            }
        };
        if zoned.time().is_none() || zoned.time_zone_annotation().is_some() {
            return Err(invalid("expected an RFC 3339 date and time".into()));
        }
        let instant: jiff::Timestamp =
            s.parse().map_err(|e: jiff::Error| invalid(e.to_string()))?;
        Ok(Timestamp { instant, offset })
    }
}

impl fmt::Display for Timestamp {
    /// Go's `time.RFC3339Nano`: `2006-01-02T15:04:05.999999999Z07:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = self.offset.to_datetime(self.instant);
        let year = dt.year();
        if (0..=9999).contains(&year) {
            write!(f, "{year:04}")?;
        } else {
            write!(f, "{year}")?;
        }
        write!(
            f,
            "-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        )?;
        let nanos = dt.subsec_nanosecond();
        if nanos != 0 {
            let mut digits = format!("{nanos:09}");
            while digits.ends_with('0') {
                digits.pop();
            }
            write!(f, ".{digits}")?;
        }
        let secs = self.offset.seconds();
        if secs == 0 {
            return f.write_str("Z");
        }
        let sign = if secs < 0 { '-' } else { '+' };
        let abs = secs.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", abs / 3600, (abs / 60) % 60)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Serde for an `Option<Timestamp>` that Alertmanager writes as Go's zero time when unset.
///
/// Use with `#[serde(with = "alert_core::timestamp::go_zero_as_none")]`: reading maps
/// `0001-01-01T00:00:00Z` (and a missing or null value, with `#[serde(default)]`) to
/// `None`; writing maps `None` to `0001-01-01T00:00:00Z`.
pub mod go_zero_as_none {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes `None` as Go's zero time.
    pub fn serialize<S: Serializer>(
        value: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.unwrap_or(Timestamp::GO_ZERO).serialize(serializer)
    }

    /// Reads Go's zero time or null as `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        Ok(Option::<Timestamp>::deserialize(deserializer)?.and_then(Timestamp::non_zero))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layout_round_trips() {
        for s in [
            "0001-01-01T00:00:00Z",
            "2024-05-01T10:00:00Z",
            "2024-05-01T10:00:00.1Z",
            "2024-05-01T10:00:00.123456789Z",
            "2024-05-01T10:00:00.000000001+05:30",
            "2024-05-01T10:00:00.5-08:00",
            "2026-11-21T04:54:29.771219237Z",
        ] {
            let t: Timestamp = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(t.to_string(), s);
        }
        let t: Timestamp = "2024-05-01T10:00:00.120000000Z".parse().expect("valid");
        assert_eq!(t.to_string(), "2024-05-01T10:00:00.12Z");
    }

    #[test]
    fn rejects_non_rfc3339() {
        for s in [
            "",
            "2024-05-01",
            "2024-05-01T10:00:00",
            "yesterday",
            "2024-13-01T00:00:00Z",
        ] {
            assert!(s.parse::<Timestamp>().is_err(), "{s}");
        }
    }

    #[test]
    fn equality_is_by_instant() {
        let a: Timestamp = "2024-05-01T10:00:00Z".parse().expect("valid");
        let b: Timestamp = "2024-05-01T12:00:00+02:00".parse().expect("valid");
        assert_eq!(a, b);
        assert_ne!(a.to_string(), b.to_string());
        assert!(Timestamp::GO_ZERO < a);
        assert_eq!(a.unix_seconds(), 1_714_557_600);
    }
}
