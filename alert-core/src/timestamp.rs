//! Instants as Alertmanager writes them and Go reads them: RFC 3339 with Go's
//! `RFC3339Nano` layout.
//!
//! Go's `encoding/json` writes a `time.Time` with up to nine fractional digits, trailing
//! zeros dropped, and the value's own UTC offset (`Z` for UTC). Alertmanager uses the
//! zero `time.Time`, `0001-01-01T00:00:00Z`, for "not set" (for example the `endsAt` of a
//! firing alert in a webhook message). [`Timestamp`] keeps the offset it was read with so
//! that what a real Alertmanager sent is written back byte for byte.
//!
//! Reading is Go 1.19's, exactly: [`Timestamp::parse_rfc3339`] (and `FromStr`) is
//! `time.Parse(time.RFC3339Nano, s)`, [`Timestamp::parse_json_text`] (and `Deserialize`)
//! is `(*time.Time).UnmarshalJSON`. What Alertmanager or any other Go 1.19 program would
//! refuse is refused, naming the field and the value; what it reads is read as the same
//! instant.

use std::borrow::Cow;
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
            .map_err(|_| Refusal::OutOfRange.error("", &format!("{seconds}.{nanos:09}")))
    }

    /// Milliseconds since the Unix epoch, shown in UTC.
    pub fn from_unix_millis(ms: i64) -> Result<Timestamp> {
        jiff::Timestamp::from_millisecond(ms)
            .map(Timestamp::from_jiff)
            .map_err(|_| Refusal::OutOfRange.error("", &ms.to_string()))
    }

    /// `value` read exactly as Go 1.19's `time.Parse(time.RFC3339Nano, value)` reads it;
    /// `field` names the value in the error (`start`, `alerts[0].startsAt`; empty when
    /// not known).
    ///
    /// Go's layout parser is looser than RFC 3339 in some places and stricter in others:
    ///
    /// | part | Go 1.19 reads |
    /// |---|---|
    /// | year | exactly four digits, `0000` to `9999`: no sign, no six-digit years |
    /// | month, day | two digits each: month `01` to `12`, a day the month has (`02-29` only in leap years) |
    /// | `T` | uppercase only: no `t`, no space |
    /// | hour | **one or two** digits, `0` to `23` |
    /// | minute, second | two digits, `00` to `59`: no leap second `:60` |
    /// | fraction | optional: `.` **or `,`** then one or more digits, as many as given; digits past the ninth are dropped, not rounded |
    /// | offset | `Z` (uppercase only), or `+`/`-`, two characters, `:`, two characters, where each pair is two digits or a sign and a digit, **of any value** (`+24:00`, `+99:99` and `+-1:30` are read; `+02`, `+0200` and `+2:00` are not) |
    /// | around it | nothing: no whitespace, no `[zone]` annotation |
    ///
    /// Two values Go reads cannot be a [`Timestamp`]: an instant after
    /// [`jiff::Timestamp::MAX`] (`9999-12-30T22:00:00.999999999Z`) is refused, and an
    /// offset beyond jiff's ±25:59:59 is applied to the instant but the value is shown in
    /// UTC.
    ///
    /// ```
    /// use alert_core::Timestamp;
    /// let t = Timestamp::parse_rfc3339("start", "2024-05-01T12:00:00.1234567899+02:00")?;
    /// assert_eq!(t.to_string(), "2024-05-01T12:00:00.123456789+02:00");
    /// assert_eq!(t.to_utc().to_string(), "2024-05-01T10:00:00.123456789Z");
    ///
    /// let err = Timestamp::parse_rfc3339("start", "2024-05-01 10:00:00Z").unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     r#"start: "2024-05-01 10:00:00Z": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00"#
    /// );
    /// # Ok::<(), alert_core::Error>(())
    /// ```
    pub fn parse_rfc3339(field: &str, value: &str) -> Result<Timestamp> {
        read_go(value, GoReader::ParseNano).map_err(|r| r.error(field, value))
    }

    /// The text of a JSON string read exactly as Go 1.19's `(*time.Time).UnmarshalJSON`
    /// reads the string; `field` names the value in the error.
    ///
    /// This is [`Timestamp::parse_rfc3339`] but for one input: seconds left out before a
    /// fraction (`10:00:.5Z`) are second 0 here. `UnmarshalJSON` parses with the
    /// `RFC3339` layout, which has no fraction of its own, and the seconds' special case
    /// for a fraction the layout does not announce reads it and overwrites the seconds'
    /// error; `Parse` with `RFC3339Nano` refuses the value.
    ///
    /// Go reads the string's raw bytes, so a string written with JSON escapes is never a
    /// time to it; a decoder that has already unescaped the text cannot tell, and
    /// [`WebhookMessage::from_json`](crate::WebhookMessage::from_json) refuses escapes
    /// itself.
    ///
    /// ```
    /// use alert_core::Timestamp;
    /// let t = Timestamp::parse_json_text("startsAt", "2024-05-01T10:00:.5Z")?;
    /// assert_eq!(t.to_string(), "2024-05-01T10:00:00.5Z");
    /// assert!(Timestamp::parse_rfc3339("start", "2024-05-01T10:00:.5Z").is_err());
    /// # Ok::<(), alert_core::Error>(())
    /// ```
    pub fn parse_json_text(field: &str, value: &str) -> Result<Timestamp> {
        read_go(value, GoReader::UnmarshalJson).map_err(|r| r.error(field, value))
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

    /// [`Timestamp::parse_rfc3339`], the field not named: Go's
    /// `time.Parse(time.RFC3339Nano, s)`.
    fn from_str(s: &str) -> Result<Self> {
        Timestamp::parse_rfc3339("", s)
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
    /// A string read as Go's `(*time.Time).UnmarshalJSON` reads it
    /// ([`Timestamp::parse_json_text`]).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        JsonText::deserialize(deserializer)?
            .read(String::new, false)
            .map_err(serde::de::Error::custom)
    }
}

/// The text of a JSON string that should hold a timestamp: borrowed when the decoder
/// found it in the input as it is, owned when it had to unescape it (or cannot lend
/// its input).
#[derive(Debug, Clone)]
pub(crate) struct JsonText<'a>(Cow<'a, str>);

impl JsonText<'_> {
    /// The timestamp, read as Go's `UnmarshalJSON` reads it; `field` names it in the
    /// error. With `escapes_visible` (the text came from `serde_json` reading a byte
    /// slice, which lends every string without escapes), owned text had escapes, which
    /// Go never reads as a time.
    pub(crate) fn read(
        &self,
        field: impl FnOnce() -> String,
        escapes_visible: bool,
    ) -> Result<Timestamp> {
        let read = read_go(&self.0, GoReader::UnmarshalJson).and_then(|t| {
            if escapes_visible && matches!(self.0, Cow::Owned(_)) {
                Err(Refusal::JsonEscape)
            } else {
                Ok(t)
            }
        });
        read.map_err(|r| r.error(&field(), &self.0))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for JsonText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        /// Keeps a string borrowed when the decoder lends it.
        struct Text;

        impl<'de> serde::de::Visitor<'de> for Text {
            type Value = Cow<'de, str>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp string")
            }

            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }

            fn visit_str<E: serde::de::Error>(
                self,
                v: &str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(
                self,
                v: String,
            ) -> std::result::Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }

        deserializer.deserialize_str(Text).map(JsonText)
    }
}

/// What Go's RFC 3339 readers take, as errors say it.
const EXPECTED: &str = "an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00";

/// The civil time the Unix epoch is, for turning a civil time into an instant without
/// the range limits of jiff's own conversion.
const CIVIL_EPOCH: jiff::civil::DateTime = jiff::civil::DateTime::constant(1970, 1, 1, 0, 0, 0, 0);

/// Which of Go 1.19's two readers of RFC 3339 to follow (they differ in one input; see
/// [`Timestamp::parse_json_text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoReader {
    /// `time.Parse(time.RFC3339Nano, s)`.
    ParseNano,
    /// `(*time.Time).UnmarshalJSON`: `time.Parse(`"`+time.RFC3339+`"`, raw)`.
    UnmarshalJson,
}

/// Why a value is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Not the layout's shape.
    Syntax,
    /// A month outside `01` to `12`.
    Month,
    /// A day the month does not have.
    Day {
        /// The year read.
        year: i16,
        /// The month read.
        month: i8,
    },
    /// An hour past 23.
    Hour,
    /// A minute past 59.
    Minute,
    /// A second past 59 (Go reads no leap second).
    Second,
    /// A JSON string written with escapes.
    JsonEscape,
    /// Go reads it, but the instant is outside what a [`Timestamp`] holds.
    OutOfRange,
}

impl Refusal {
    /// [`Error::InvalidTimestamp`] for `value` at `field`.
    fn error(self, field: &str, value: &str) -> Error {
        let expected = match self {
            Refusal::Syntax => EXPECTED.to_owned(),
            Refusal::Month => format!("{EXPECTED}, with a month from 01 to 12"),
            Refusal::Day { year, month } => {
                format!("{EXPECTED}, with a day that {year:04}-{month:02} has")
            }
            Refusal::Hour => format!("{EXPECTED}, with an hour from 00 to 23"),
            Refusal::Minute => format!("{EXPECTED}, with a minute from 00 to 59"),
            Refusal::Second => {
                format!("{EXPECTED}, with a second from 00 to 59 (Go reads no leap second)")
            }
            Refusal::JsonEscape => format!(
                "{EXPECTED}, written without JSON escapes (Go reads the string's raw bytes)"
            ),
            Refusal::OutOfRange => format!(
                "an instant from {} to {}",
                jiff::Timestamp::MIN,
                jiff::Timestamp::MAX
            ),
        };
        Error::InvalidTimestamp {
            field: field.to_owned(),
            input: value.to_owned(),
            expected,
        }
    }
}

/// `value` read as Go 1.19's layout parser reads `2006-01-02T15:04:05.999999999Z07:00`
/// (`reader` says which of its two readers; see [`Timestamp::parse_rfc3339`] for what
/// each part takes). Range checks come where Go makes them: each clock field as it is
/// read, the day once the whole value is.
fn read_go(value: &str, reader: GoReader) -> std::result::Result<Timestamp, Refusal> {
    let mut c = Cursor {
        bytes: value.as_bytes(),
        at: 0,
    };
    // `2006`: four bytes, the first a digit; Go's `atoi` then takes no sign after it.
    let year = c.digits(4)?;
    c.literal(b'-')?;
    let month = c.digits(2)?;
    if !(1..=12).contains(&month) {
        return Err(Refusal::Month);
    }
    c.literal(b'-')?;
    let day = c.digits(2)?;
    c.literal(b'T')?;
    // `15` is `getnum(value, false)`: one digit or two.
    let hour = c.one_or_two_digits()?;
    if hour > 23 {
        return Err(Refusal::Hour);
    }
    c.literal(b':')?;
    let minute = c.digits(2)?;
    if minute > 59 {
        return Err(Refusal::Minute);
    }
    c.literal(b':')?;
    let second = match c.digits(2) {
        Ok(second) if second > 59 => return Err(Refusal::Second),
        Ok(second) => second,
        Err(_) if reader == GoReader::UnmarshalJson && c.fraction_follows() => 0,
        Err(refusal) => return Err(refusal),
    };
    let nanos = if c.fraction_follows() {
        c.fraction()
    } else {
        0
    };
    let offset = if c.literal(b'Z').is_ok() {
        0
    } else {
        c.numeric_offset()?
    };
    if c.at < c.bytes.len() {
        return Err(Refusal::Syntax);
    }
    // Every field is at most four digits, so these conversions cannot fail.
    let narrow = |n: u16| i8::try_from(n).map_err(|_| Refusal::Syntax);
    let year = i16::try_from(year).map_err(|_| Refusal::Syntax)?;
    let (month, day) = (narrow(month)?, narrow(day)?);
    let date =
        jiff::civil::Date::new(year, month, day).map_err(|_| Refusal::Day { year, month })?;
    let time = jiff::civil::Time::new(narrow(hour)?, narrow(minute)?, narrow(second)?, nanos)
        .map_err(|_| Refusal::Syntax)?;
    let local = jiff::civil::DateTime::from_parts(date, time).duration_since(CIVIL_EPOCH);
    let utc = local
        .checked_sub(jiff::SignedDuration::from_secs(i64::from(offset)))
        .ok_or(Refusal::OutOfRange)?;
    let instant = jiff::Timestamp::from_duration(utc).map_err(|_| Refusal::OutOfRange)?;
    Ok(Timestamp {
        instant,
        offset: Offset::from_seconds(offset).unwrap_or(Offset::UTC),
    })
}

/// A position in the bytes of a value, read as Go's layout parser reads them.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    /// The byte `ahead` bytes on.
    fn byte(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.at + ahead).copied()
    }

    /// The value of the ASCII digit `ahead` bytes on.
    fn digit(&self, ahead: usize) -> Option<u16> {
        self.byte(ahead)
            .filter(u8::is_ascii_digit)
            .map(|b| u16::from(b - b'0'))
    }

    /// `n` digits as a number; the cursor moves past them only when all are there.
    fn digits(&mut self, n: usize) -> std::result::Result<u16, Refusal> {
        let mut value = 0;
        for ahead in 0..n {
            value = value * 10 + self.digit(ahead).ok_or(Refusal::Syntax)?;
        }
        self.at += n;
        Ok(value)
    }

    /// One digit, or two when there are two (Go's `getnum(value, false)`).
    fn one_or_two_digits(&mut self) -> std::result::Result<u16, Refusal> {
        match (self.digit(0), self.digit(1)) {
            (Some(tens), Some(ones)) => {
                self.at += 2;
                Ok(tens * 10 + ones)
            }
            (Some(ones), None) => {
                self.at += 1;
                Ok(ones)
            }
            _ => Err(Refusal::Syntax),
        }
    }

    /// Moves past `b` if it is next.
    fn literal(&mut self, b: u8) -> std::result::Result<(), Refusal> {
        if self.byte(0) == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(Refusal::Syntax)
        }
    }

    /// Whether a fraction is next: `.` or `,`, then a digit (Go's `commaOrPeriod`).
    fn fraction_follows(&self) -> bool {
        matches!(self.byte(0), Some(b'.' | b',')) && self.digit(1).is_some()
    }

    /// The fraction [`Cursor::fraction_follows`] found, in nanoseconds: every digit is
    /// read, the first nine count (Go's `parseNanoseconds` truncates).
    fn fraction(&mut self) -> i32 {
        self.at += 1;
        let mut nanos = 0;
        let mut scale = 1_000_000_000;
        while let Some(d) = self.digit(0) {
            if scale > 1 {
                scale /= 10;
                nanos += i32::from(d) * scale;
            }
            self.at += 1;
        }
        nanos
    }

    /// A numeric offset in seconds, read as Go 1.19 reads the `-07:00` of `Z07:00`: a
    /// sign, two bytes, `:`, two bytes, each pair through Go's `atoi` (two digits, or a
    /// sign and a digit) with no range check.
    fn numeric_offset(&mut self) -> std::result::Result<i32, Refusal> {
        if self.bytes.len() < self.at + 6 || self.byte(3) != Some(b':') {
            return Err(Refusal::Syntax);
        }
        let magnitude = (self.atoi_pair(1)? * 60 + self.atoi_pair(4)?) * 60;
        let seconds = match self.byte(0) {
            Some(b'+') => magnitude,
            Some(b'-') => -magnitude,
            _ => return Err(Refusal::Syntax),
        };
        self.at += 6;
        Ok(seconds)
    }

    /// Go's `atoi` of the two bytes `ahead` bytes on: two digits, or a sign and a digit.
    fn atoi_pair(&self, ahead: usize) -> std::result::Result<i32, Refusal> {
        let ones = self
            .digit(ahead + 1)
            .map(i32::from)
            .ok_or(Refusal::Syntax)?;
        match self.byte(ahead) {
            Some(b'+') => Ok(ones),
            Some(b'-') => Ok(-ones),
            _ => {
                let tens = self.digit(ahead).map(i32::from).ok_or(Refusal::Syntax)?;
                Ok(tens * 10 + ones)
            }
        }
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
