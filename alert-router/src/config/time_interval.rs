//! Named time intervals (`time_intervals`, `mute_time_intervals`): the model and the
//! parsing of their parts, with Alertmanager 0.25's rules and messages
//! (`timeinterval/timeinterval.go`). Deciding whether an instant falls inside an
//! interval is the routing side's job.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A named list of time intervals; a route refers to it by `name`.
///
/// ```
/// use alert_router::config::{NamedTimeInterval, TimeInterval, TimeRange, WeekdayRange};
/// let office = NamedTimeInterval {
///     name: "office-hours".into(),
///     time_intervals: vec![TimeInterval {
///         times: Some(vec![TimeRange::parse("09:00", "17:00")?]),
///         weekdays: Some(vec!["monday:friday".parse::<WeekdayRange>()?]),
///         ..Default::default()
///     }],
/// };
/// assert_eq!(office.time_intervals[0].times.as_ref().map(|t| t[0].start_minute), Some(540));
/// # Ok::<(), alert_router::error::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamedTimeInterval {
    /// Name routes refer to (required, unique across both lists).
    pub name: String,
    /// The intervals; an instant is inside if it is inside any of them.
    pub time_intervals: Vec<TimeInterval>,
}

/// One time interval: an instant is inside if it is inside every part that is set.
///
/// A part that is `None` does not restrict; a part set to an empty list matches no
/// instant (as in Alertmanager, where an empty but present list never matches).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeInterval {
    /// Ranges of the day.
    pub times: Option<Vec<TimeRange>>,
    /// Ranges of weekdays.
    pub weekdays: Option<Vec<WeekdayRange>>,
    /// Ranges of days of the month (negative counts from the end).
    pub days_of_month: Option<Vec<DayOfMonthRange>>,
    /// Ranges of months.
    pub months: Option<Vec<MonthRange>>,
    /// Ranges of years.
    pub years: Option<Vec<YearRange>>,
    /// Time zone the parts are read in (default UTC).
    pub location: Option<Location>,
}

/// Minutes of the day `[start_minute, end_minute)`, `0..=1440`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeRange {
    /// First minute inside the range.
    pub start_minute: u32,
    /// First minute after the range.
    pub end_minute: u32,
}

impl TimeRange {
    /// Reads `start_time`/`end_time` (`HH:MM`, `24:00` allowed) as Alertmanager does.
    ///
    /// ```
    /// use alert_router::config::TimeRange;
    /// assert_eq!(TimeRange::parse("00:00", "24:00")?.end_minute, 1440);
    /// let e = TimeRange::parse("10:00", "09:00").unwrap_err();
    /// assert_eq!(e.alertmanager_message(), "start time cannot be equal or greater than end time");
    /// # Ok::<(), alert_router::error::Error>(())
    /// ```
    pub fn parse(start_time: &str, end_time: &str) -> Result<TimeRange, Error> {
        TimeRange::parse_am(start_time, end_time).map_err(|m| invalid("times", m))
    }

    pub(crate) fn parse_am(start_time: &str, end_time: &str) -> Result<TimeRange, String> {
        if end_time.is_empty() || start_time.is_empty() {
            return Err("both start and end times must be provided".into());
        }
        let start = parse_clock(start_time)?;
        let end = parse_clock(end_time)?;
        if start >= end {
            return Err("start time cannot be equal or greater than end time".into());
        }
        Ok(TimeRange {
            start_minute: start,
            end_minute: end,
        })
    }

    /// `HH:MM` of the start, as Alertmanager writes it.
    pub fn start_time(&self) -> String {
        format_clock(self.start_minute)
    }

    /// `HH:MM` of the end, as Alertmanager writes it.
    pub fn end_time(&self) -> String {
        format_clock(self.end_minute)
    }
}

fn format_clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `HH:MM` → minutes, with Alertmanager's regex `^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$)`.
fn parse_clock(s: &str) -> Result<u32, String> {
    let b = s.as_bytes();
    let valid = s == "24:00"
        || (b.len() == 5
            && b[2] == b':'
            && matches!(
                (b[0], b[1]),
                (b'0'..=b'1', b'0'..=b'9') | (b'2', b'0'..=b'3')
            )
            && matches!(b[3], b'0'..=b'5')
            && b[4].is_ascii_digit());
    if !valid {
        return Err(format!("couldn't parse timestamp {s}, invalid format"));
    }
    let hours = u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0');
    let minutes = u32::from(b[3] - b'0') * 10 + u32::from(b[4] - b'0');
    Ok(hours * 60 + minutes)
}

/// An inclusive range of weekdays, 0 = Sunday .. 6 = Saturday (`monday:friday`,
/// `saturday`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WeekdayRange {
    /// First day (0 = Sunday).
    pub begin: u8,
    /// Last day.
    pub end: u8,
}

/// An inclusive range of days of the month; negative days count from the end (-1 is
/// the last day).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DayOfMonthRange {
    /// First day.
    pub begin: i64,
    /// Last day.
    pub end: i64,
}

/// An inclusive range of months, 1 = January (`january:march`, `1:3`). Alertmanager
/// 0.25 does not check that numbers are within 1..=12.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthRange {
    /// First month.
    pub begin: i64,
    /// Last month.
    pub end: i64,
}

/// An inclusive range of years.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearRange {
    /// First year.
    pub begin: i64,
    /// Last year.
    pub end: i64,
}

/// Weekday names as `weekdays` ranges spell them (lower case; Alertmanager accepts any
/// case), indexed from Sunday = 0 like Go's `time.Weekday`.
///
/// ```
/// assert_eq!(alert_router::config::WEEKDAYS[1], "monday");
/// ```
pub const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
/// Month names as `months` ranges spell them (lower case; Alertmanager accepts any case):
/// `MONTHS[i]` is month number `i + 1`, like Go's `time.Month`.
///
/// ```
/// use alert_router::config::MONTHS;
///
/// assert_eq!(MONTHS.iter().position(|m| *m == "march").map(|i| i + 1), Some(3));
/// ```
pub const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Go's `stringableRangeFromString`: lower-cases, splits on one `:`, maps each side.
fn split_range(
    input: &str,
    member: impl Fn(&str) -> Result<i64, String>,
) -> Result<(i64, i64), String> {
    let lower = input.to_lowercase();
    if lower.contains(':') {
        let parts: Vec<&str> = lower.split(':').collect();
        if parts.len() != 2 {
            return Err(format!("couldn't parse range {lower}, invalid format"));
        }
        Ok((member(parts[0])?, member(parts[1])?))
    } else {
        let v = member(&lower)?;
        Ok((v, v))
    }
}

/// Go's `strconv.Atoi` with its messages.
pub(crate) fn go_atoi(s: &str) -> Result<i64, String> {
    let quoted = crate::config::go_quote::go_quote(s);
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {quoted}: invalid syntax"));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {quoted}: value out of range"))
}

impl WeekdayRange {
    pub(crate) fn parse_am(s: &str) -> Result<WeekdayRange, String> {
        let (begin, end) = split_range(s, |m| {
            WEEKDAYS
                .iter()
                .position(|d| *d == m)
                .map(|i| i as i64)
                .ok_or_else(|| format!("{m} is not a valid weekday"))
        })?;
        if begin > end {
            return Err("start day cannot be before end day".into());
        }
        // Names only, so both ends are within 0..=6 here.
        Ok(WeekdayRange {
            begin: begin as u8,
            end: end as u8,
        })
    }
}

impl DayOfMonthRange {
    pub(crate) fn parse_am(s: &str) -> Result<DayOfMonthRange, String> {
        let (begin, end) = split_range(s, go_atoi)?;
        for v in [begin, end] {
            if v == 0 || !(-31..=31).contains(&v) {
                return Err(format!("{v} is not a valid day of the month: out of range"));
            }
        }
        if begin < 0 && end > 0 {
            return Err("end day must be negative if start day is negative".into());
        }
        let check_begin = if begin < 0 { 28 + begin } else { begin };
        let check_end = if end < 0 { 28 + end } else { end };
        if check_begin > check_end {
            return Err(format!("end day {end} is always before start day {begin}"));
        }
        Ok(DayOfMonthRange { begin, end })
    }
}

impl MonthRange {
    pub(crate) fn parse_am(s: &str) -> Result<MonthRange, String> {
        let (begin, end) = split_range(s, |m| match MONTHS.iter().position(|x| *x == m) {
            Some(i) => Ok(i as i64 + 1),
            None => go_atoi(m).map_err(|_| format!("{m} is not a valid month")),
        })?;
        if begin > end {
            let name = |v: i64| {
                usize::try_from(v - 1)
                    .ok()
                    .and_then(|i| MONTHS.get(i))
                    .copied()
                    .unwrap_or("")
            };
            return Err(format!(
                "end month {} is before start month {}",
                name(end),
                name(begin)
            ));
        }
        Ok(MonthRange { begin, end })
    }
}

impl YearRange {
    pub(crate) fn parse_am(s: &str) -> Result<YearRange, String> {
        let (begin, end) = split_range(s, go_atoi)?;
        if begin > end {
            return Err(format!("end year {end} is before start year {begin}"));
        }
        Ok(YearRange { begin, end })
    }
}

fn invalid(field: &str, message: String) -> Error {
    Error::InvalidTimeInterval {
        path: field.to_owned(),
        message,
    }
}

macro_rules! range_text {
    ($ty:ty, $field:literal) => {
        impl FromStr for $ty {
            type Err = Error;

            /// Reads the range as Alertmanager does, with its messages.
            fn from_str(s: &str) -> Result<Self, Error> {
                <$ty>::parse_am(s).map_err(|m| invalid($field, m))
            }
        }
    };
}
range_text!(WeekdayRange, "weekdays");
range_text!(DayOfMonthRange, "days_of_month");
range_text!(MonthRange, "months");
range_text!(YearRange, "years");

impl fmt::Display for WeekdayRange {
    /// `monday:friday`, or `saturday` for a single day (Alertmanager's form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |d: u8| WEEKDAYS.get(usize::from(d)).copied().unwrap_or("?");
        if self.begin == self.end {
            f.write_str(name(self.begin))
        } else {
            write!(f, "{}:{}", name(self.begin), name(self.end))
        }
    }
}

macro_rules! numeric_range_text {
    ($ty:ty) => {
        impl fmt::Display for $ty {
            /// `begin:end`, or one number when both are equal (Alertmanager's form).
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.begin == self.end {
                    write!(f, "{}", self.begin)
                } else {
                    write!(f, "{}:{}", self.begin, self.end)
                }
            }
        }
    };
}
numeric_range_text!(DayOfMonthRange);
numeric_range_text!(MonthRange);
numeric_range_text!(YearRange);

/// A time zone name as Go's `time.LoadLocation` accepts it: `""` or `UTC`, `Local`, or
/// an IANA name found in the system time zone database (`Europe/Berlin`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location(String);

impl Location {
    /// Checks `name` as Go's `time.LoadLocation` does, with its messages.
    ///
    /// ```
    /// use alert_router::config::Location;
    /// assert!(Location::new("Europe/Berlin").is_ok());
    /// assert!(Location::new("UTC").is_ok());
    /// let e = Location::new("Mars/Olympus").unwrap_err();
    /// assert_eq!(e.alertmanager_message(), "unknown time zone Mars/Olympus");
    /// ```
    pub fn new(name: impl Into<String>) -> Result<Location, Error> {
        let name = name.into();
        check_location(&name).map_err(|m| invalid("location", m))?;
        Ok(Location(name))
    }

    /// A location whose name is not checked (for names read from a configuration that
    /// Alertmanager accepted elsewhere).
    pub(crate) fn unchecked(name: String) -> Location {
        Location(name)
    }

    /// The name as written.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The time zone: UTC for `""` and `UTC`, the system's zone for `Local`, otherwise
    /// the named zone of the time zone database.
    pub fn time_zone(&self) -> Result<jiff::tz::TimeZone, Error> {
        match self.0.as_str() {
            "" | "UTC" => Ok(jiff::tz::TimeZone::UTC),
            "Local" => Ok(jiff::tz::TimeZone::system()),
            name => jiff::tz::TimeZone::get(name)
                .map_err(|_| invalid("location", format!("unknown time zone {name}"))),
        }
    }
}

/// Go's `time.LoadLocation` checks: special names, path-like names, then a lookup that
/// is case-sensitive as Go's file lookup is.
pub(crate) fn check_location(name: &str) -> Result<(), String> {
    if matches!(name, "" | "UTC" | "Local") {
        return Ok(());
    }
    if name.contains("..") || name.starts_with(['/', '\\']) {
        return Err("time: invalid location name".into());
    }
    match jiff::tz::TimeZone::get(name) {
        Ok(tz) if tz.iana_name() == Some(name) => Ok(()),
        _ => Err(format!("unknown time zone {name}")),
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: fmt::Debug>(r: Result<T, String>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn times_follow_alertmanager() {
        assert_eq!(
            TimeRange::parse_am("09:30", "17:00"),
            Ok(TimeRange {
                start_minute: 570,
                end_minute: 1020
            })
        );
        assert_eq!(
            err(TimeRange::parse_am("9:30", "17:00")),
            "couldn't parse timestamp 9:30, invalid format"
        );
        assert_eq!(
            err(TimeRange::parse_am("24:01", "24:00")),
            "couldn't parse timestamp 24:01, invalid format"
        );
        assert_eq!(
            err(TimeRange::parse_am("", "10:00")),
            "both start and end times must be provided"
        );
        assert_eq!(
            err(TimeRange::parse_am("10:00", "10:00")),
            "start time cannot be equal or greater than end time"
        );
        let r = TimeRange::parse_am("00:05", "24:00").expect("valid");
        assert_eq!(
            (r.start_time(), r.end_time()),
            ("00:05".into(), "24:00".into())
        );
    }

    #[test]
    fn weekdays_follow_alertmanager() {
        assert_eq!(
            WeekdayRange::parse_am("Monday:FRIDAY"),
            Ok(WeekdayRange { begin: 1, end: 5 })
        );
        assert_eq!(
            err(WeekdayRange::parse_am("Funday")),
            "funday is not a valid weekday"
        );
        assert_eq!(
            err(WeekdayRange::parse_am("friday:monday")),
            "start day cannot be before end day"
        );
        assert_eq!(
            err(WeekdayRange::parse_am("a:b:c")),
            "couldn't parse range a:b:c, invalid format"
        );
        assert_eq!(err(WeekdayRange::parse_am("1")), "1 is not a valid weekday");
        assert_eq!(WeekdayRange { begin: 6, end: 6 }.to_string(), "saturday");
        assert_eq!(
            WeekdayRange { begin: 1, end: 5 }.to_string(),
            "monday:friday"
        );
    }

    #[test]
    fn days_of_month_follow_alertmanager() {
        assert_eq!(
            DayOfMonthRange::parse_am("1:-1"),
            Ok(DayOfMonthRange { begin: 1, end: -1 })
        );
        assert_eq!(
            err(DayOfMonthRange::parse_am("0")),
            "0 is not a valid day of the month: out of range"
        );
        assert_eq!(
            err(DayOfMonthRange::parse_am("-1:5")),
            "end day must be negative if start day is negative"
        );
        assert_eq!(
            err(DayOfMonthRange::parse_am("10:-20")),
            "end day -20 is always before start day 10"
        );
        assert_eq!(
            err(DayOfMonthRange::parse_am("x")),
            "strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            err(DayOfMonthRange::parse_am("99999999999999999999")),
            "strconv.Atoi: parsing \"99999999999999999999\": value out of range"
        );
    }

    #[test]
    fn months_and_years_follow_alertmanager() {
        assert_eq!(
            MonthRange::parse_am("January:3"),
            Ok(MonthRange { begin: 1, end: 3 })
        );
        assert_eq!(
            MonthRange::parse_am("13"),
            Ok(MonthRange { begin: 13, end: 13 })
        );
        assert_eq!(
            err(MonthRange::parse_am("smarch")),
            "smarch is not a valid month"
        );
        assert_eq!(
            err(MonthRange::parse_am("march:january")),
            "end month january is before start month march"
        );
        assert_eq!(
            err(YearRange::parse_am("2021:2020")),
            "end year 2020 is before start year 2021"
        );
        assert_eq!(
            YearRange::parse_am("+2020"),
            Ok(YearRange {
                begin: 2020,
                end: 2020
            })
        );
    }

    #[test]
    fn locations_follow_go() {
        assert_eq!(check_location(""), Ok(()));
        assert_eq!(check_location("Local"), Ok(()));
        assert_eq!(check_location("Europe/Berlin"), Ok(()));
        assert_eq!(
            check_location("europe/berlin"),
            Err("unknown time zone europe/berlin".into())
        );
        assert_eq!(
            check_location("../etc/passwd"),
            Err("time: invalid location name".into())
        );
        assert_eq!(
            check_location("/etc/localtime"),
            Err("time: invalid location name".into())
        );
    }
}
