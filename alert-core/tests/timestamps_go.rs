//! Timestamps read as Go 1.19 reads them: a table of what `time.Parse(time.RFC3339Nano,
//! s)` and `(*time.Time).UnmarshalJSON` accept (and the instant each gives) and refuse,
//! checked case by case against Go's `src/time/format.go` of that release; and
//! properties: what alert-core's `RFC3339Nano` writer writes is read back as the same
//! instant and offset, strict RFC 3339 reads as jiff reads it, the JSON reader takes
//! everything the `Parse` reader takes, and fraction digits past the ninth are dropped.

use alert_core::{Error, Timestamp};
use proptest::prelude::*;

/// What a reader makes of an input.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// Read: the value as alert-core writes it, and the same instant in UTC.
    Read {
        shown: &'static str,
        utc: &'static str,
    },
    /// Refused; the error's `expected` is the bare RFC 3339 example when this is empty,
    /// else contains it.
    Refused(&'static str),
}

use Want::{Read, Refused};

/// A refusal whose `expected` is the bare example: the value is not the layout's shape.
const SYNTAX: Want = Refused("");

/// The bare `expected` of a value that is not the layout's shape.
const EXAMPLE: &str = "an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00";

/// One input, what each of Go's two readers makes of it, and why.
struct Case {
    input: &'static str,
    /// `time.Parse(time.RFC3339Nano, input)`.
    parse: Want,
    /// `(*time.Time).UnmarshalJSON` of the JSON string `input`.
    json: Want,
    why: &'static str,
}

/// A case both readers agree on.
const fn both(input: &'static str, want: Want, why: &'static str) -> Case {
    Case {
        input,
        parse: want,
        json: want,
        why,
    }
}

/// Read, shown as given, and that instant in UTC.
const fn read(shown: &'static str, utc: &'static str) -> Want {
    Read { shown, utc }
}

const CASES: &[Case] = &[
    // What Alertmanager writes.
    both(
        "2024-05-01T10:00:00Z",
        read("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        "UTC",
    ),
    both(
        "0001-01-01T00:00:00Z",
        read("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        "Go's zero time, Alertmanager's unset endsAt",
    ),
    both(
        "2026-11-21T04:54:29.771219237Z",
        read(
            "2026-11-21T04:54:29.771219237Z",
            "2026-11-21T04:54:29.771219237Z",
        ),
        "nine fractional digits",
    ),
    both(
        "2024-05-01T12:00:00+02:00",
        read("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z"),
        "numeric offset, kept",
    ),
    both(
        "2024-05-01T04:30:00-05:30",
        read("2024-05-01T04:30:00-05:30", "2024-05-01T10:00:00Z"),
        "negative half-hour offset",
    ),
    both(
        "2024-05-01T15:45:00+05:45",
        read("2024-05-01T15:45:00+05:45", "2024-05-01T10:00:00Z"),
        "quarter-hour offset",
    ),
    both(
        "2024-05-01T10:00:00+00:00",
        read("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        "+00:00 is UTC, written Z",
    ),
    both(
        "2024-05-01T10:00:00-00:00",
        read("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        "-00:00 is UTC, written Z",
    ),
    // Fractions.
    both(
        "2024-05-01T10:00:00.5Z",
        read("2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00.5Z"),
        "one fractional digit",
    ),
    both(
        "2024-05-01T10:00:00.120Z",
        read("2024-05-01T10:00:00.12Z", "2024-05-01T10:00:00.12Z"),
        "trailing zeros are not written",
    ),
    both(
        "2024-05-01T10:00:00.000000000Z",
        read("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        "a zero fraction is not written",
    ),
    both(
        "2024-05-01T10:00:00.000000001Z",
        read(
            "2024-05-01T10:00:00.000000001Z",
            "2024-05-01T10:00:00.000000001Z",
        ),
        "one nanosecond",
    ),
    both(
        "2024-05-01T10:00:00.1234567891Z",
        read(
            "2024-05-01T10:00:00.123456789Z",
            "2024-05-01T10:00:00.123456789Z",
        ),
        "ten digits: the tenth is dropped",
    ),
    both(
        "2024-05-01T10:00:00.9999999999999Z",
        read(
            "2024-05-01T10:00:00.999999999Z",
            "2024-05-01T10:00:00.999999999Z",
        ),
        "truncated, not rounded up to the next second",
    ),
    both(
        "2024-05-01T10:00:00.000000000000000000001Z",
        read("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        "twenty-one digits, all past the ninth dropped",
    ),
    both(
        "2024-05-01T10:00:00,5Z",
        read("2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00.5Z"),
        "Go's commaOrPeriod: a comma separates the fraction too",
    ),
    both(
        "2024-05-01T10:00:00.Z",
        SYNTAX,
        "a separator without digits",
    ),
    both("2024-05-01T10:00:00,Z", SYNTAX, "a comma without digits"),
    both("2024-05-01T10:00:00..5Z", SYNTAX, "two separators"),
    both("2024-05-01T10:00:00.5.5Z", SYNTAX, "a second fraction"),
    both("2024-05-01T10:00:00.5", SYNTAX, "a fraction and no offset"),
    both("2024-05-01T10:00:00.1e3Z", SYNTAX, "an exponent"),
    // Seconds left out before a fraction: the one input the two readers differ on.
    Case {
        input: "2024-05-01T10:00:.5Z",
        parse: SYNTAX,
        json: read("2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00.5Z"),
        why: "RFC3339's unannounced-fraction special case overwrites the seconds' error in UnmarshalJSON",
    },
    Case {
        input: "2024-05-01T10:00:,25+01:00",
        parse: SYNTAX,
        json: read("2024-05-01T10:00:00.25+01:00", "2024-05-01T09:00:00.25Z"),
        why: "the same, with a comma",
    },
    both(
        "2024-05-01T10:00:.Z",
        SYNTAX,
        "no seconds and no fraction digits",
    ),
    both("2024-05-01T10:00:5.5Z", SYNTAX, "one seconds digit"),
    // Calendar.
    both(
        "2024-02-29T00:00:00Z",
        read("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"),
        "leap year",
    ),
    both(
        "2000-02-29T00:00:00Z",
        read("2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"),
        "every 400th year is a leap year",
    ),
    both(
        "2023-02-29T00:00:00Z",
        Refused("with a day that 2023-02 has"),
        "not a leap year",
    ),
    both(
        "1900-02-29T00:00:00Z",
        Refused("with a day that 1900-02 has"),
        "a century is not a leap year",
    ),
    both(
        "2024-02-30T00:00:00Z",
        Refused("with a day that 2024-02 has"),
        "February 30",
    ),
    both(
        "2024-04-31T00:00:00Z",
        Refused("with a day that 2024-04 has"),
        "April 31",
    ),
    both(
        "2024-05-32T00:00:00Z",
        Refused("with a day that 2024-05 has"),
        "day 32",
    ),
    both(
        "2024-05-00T00:00:00Z",
        Refused("with a day that 2024-05 has"),
        "day 0",
    ),
    both(
        "2024-13-01T00:00:00Z",
        Refused("with a month from 01 to 12"),
        "month 13",
    ),
    both(
        "2024-00-01T00:00:00Z",
        Refused("with a month from 01 to 12"),
        "month 0",
    ),
    both(
        "2024-02-30T25:00:00Z",
        Refused("with an hour from 00 to 23"),
        "Go checks the hour as it reads it, the day at the end",
    ),
    both(
        "2024-02-30T10:00:00",
        SYNTAX,
        "the missing offset is found before the day is checked",
    ),
    // Years.
    both(
        "0000-01-01T00:00:00Z",
        read("0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"),
        "year zero",
    ),
    both(
        "0000-01-01T00:00:00-01:00",
        read("0000-01-01T00:00:00-01:00", "0000-01-01T01:00:00Z"),
        "year zero, west of UTC",
    ),
    both(
        "9999-12-30T22:00:00.999999999Z",
        read(
            "9999-12-30T22:00:00.999999999Z",
            "9999-12-30T22:00:00.999999999Z",
        ),
        "the last instant jiff holds",
    ),
    both(
        "9999-12-30T22:00:01Z",
        Refused("an instant from -009999-01-02T01:59:59Z to 9999-12-30T22:00:00.999999999Z"),
        "Go reads it; past what a Timestamp holds",
    ),
    both(
        "9999-12-31T23:59:59Z",
        Refused("an instant from"),
        "Go reads it; past what a Timestamp holds",
    ),
    both(
        "+002024-05-01T10:00:00Z",
        SYNTAX,
        "six-digit year with a sign",
    ),
    both("002024-05-01T10:00:00Z", SYNTAX, "six-digit year"),
    both("-0001-01-01T00:00:00Z", SYNTAX, "negative year"),
    both("24-05-01T10:00:00Z", SYNTAX, "two-digit year"),
    both("2024-5-01T10:00:00Z", SYNTAX, "one-digit month"),
    both("2024-05-1T10:00:00Z", SYNTAX, "one-digit day"),
    // The date-time separator.
    both("2024-05-01 10:00:00Z", SYNTAX, "a space for T"),
    both("2024-05-01t10:00:00Z", SYNTAX, "lowercase t"),
    both("2024-05-01_10:00:00Z", SYNTAX, "another separator"),
    // Clock.
    both(
        "2024-05-01T1:02:03Z",
        read("2024-05-01T01:02:03Z", "2024-05-01T01:02:03Z"),
        "Go's 15 is getnum(value, false): a one-digit hour",
    ),
    both(
        "2024-05-01T1:02:03.5+01:00",
        read("2024-05-01T01:02:03.5+01:00", "2024-05-01T00:02:03.5Z"),
        "one-digit hour, fraction and offset",
    ),
    both("2024-05-01T010:00:00Z", SYNTAX, "three-digit hour"),
    both(
        "2024-05-01T23:59:59.999999999Z",
        read(
            "2024-05-01T23:59:59.999999999Z",
            "2024-05-01T23:59:59.999999999Z",
        ),
        "the last nanosecond of a day",
    ),
    both(
        "2024-05-01T24:00:00Z",
        Refused("with an hour from 00 to 23"),
        "hour 24",
    ),
    both(
        "2024-05-01T99:00:00Z",
        Refused("with an hour from 00 to 23"),
        "hour 99",
    ),
    both(
        "2024-05-01T10:60:00Z",
        Refused("with a minute from 00 to 59"),
        "minute 60",
    ),
    both(
        "2024-05-01T10:00:60Z",
        Refused("with a second from 00 to 59 (Go reads no leap second)"),
        "leap second",
    ),
    both(
        "2016-12-31T23:59:60Z",
        Refused("no leap second"),
        "a real leap second",
    ),
    both(
        "2024-05-01T10:00:60.5Z",
        Refused("no leap second"),
        "leap second with a fraction",
    ),
    both(
        "2024-05-01T10:00:99Z",
        Refused("no leap second"),
        "second 99",
    ),
    both("2024-05-01T10:0:00Z", SYNTAX, "one-digit minute"),
    both("2024-05-01T10:00:0Z", SYNTAX, "one-digit second"),
    both("2024-05-01T10Z", SYNTAX, "hour only"),
    both("2024-05-01T10:00Z", SYNTAX, "no seconds"),
    both("2024-05-01T10::00Z", SYNTAX, "no minutes"),
    both("20240501T100000Z", SYNTAX, "ISO 8601 basic format"),
    both("2024-05-01T100000Z", SYNTAX, "basic time"),
    // Offsets.
    both("2024-05-01T10:00:00z", SYNTAX, "lowercase z"),
    both("2024-05-01T10:00:00", SYNTAX, "no offset"),
    both(
        "2024-05-01T10:00:00+02",
        SYNTAX,
        "offset hours without minutes",
    ),
    both(
        "2024-05-01T10:00:00+0200",
        SYNTAX,
        "offset without its colon",
    ),
    both("2024-05-01T10:00:00+2:00", SYNTAX, "one-digit offset hour"),
    both(
        "2024-05-01T10:00:00+02:0",
        SYNTAX,
        "one-digit offset minute",
    ),
    both(
        "2024-05-01T10:00:00+02:00:00",
        SYNTAX,
        "offset seconds are extra text",
    ),
    both(
        "2024-05-01T10:00:00 +02:00",
        SYNTAX,
        "a space before the offset",
    ),
    both("2024-05-01T10:00:00UTC", SYNTAX, "a zone name"),
    both(
        "2024-05-01T10:00:00+02:00[Europe/Paris]",
        SYNTAX,
        "an RFC 9557 annotation",
    ),
    both("2024-05-01T10:00:00*02:00", SYNTAX, "no sign"),
    both(
        "2024-05-01T10:00:00\u{2212}02:00",
        SYNTAX,
        "a Unicode minus",
    ),
    both(
        "2024-05-01T10:00:00+0a:00",
        SYNTAX,
        "a letter in the offset",
    ),
    both("2024-05-01T10:00:00+ 2:00", SYNTAX, "a space in the offset"),
    both(
        "2024-05-01T10:00:00+24:00",
        read("2024-05-01T10:00:00+24:00", "2024-04-30T10:00:00Z"),
        "Go 1.19 does not range-check offsets",
    ),
    both(
        "2024-05-01T10:00:00+23:60",
        read("2024-05-01T10:00:00+24:00", "2024-04-30T10:00:00Z"),
        "sixty offset minutes are an hour",
    ),
    both(
        "2024-05-01T10:00:00+25:59",
        read("2024-05-01T10:00:00+25:59", "2024-04-30T08:01:00Z"),
        "the largest offset jiff holds",
    ),
    both(
        "2024-05-01T10:00:00+26:00",
        read("2024-04-30T08:00:00Z", "2024-04-30T08:00:00Z"),
        "beyond jiff's offsets: applied, shown in UTC",
    ),
    both(
        "2024-05-01T10:00:00+99:99",
        read("2024-04-27T05:21:00Z", "2024-04-27T05:21:00Z"),
        "+100:39 to Go",
    ),
    both(
        "2024-05-01T10:00:00-99:99",
        read("2024-05-05T14:39:00Z", "2024-05-05T14:39:00Z"),
        "-100:39 to Go",
    ),
    both(
        "9999-12-31T23:59:59+99:99",
        read("9999-12-27T19:20:59Z", "9999-12-27T19:20:59Z"),
        "a late civil time a large offset brings back in range",
    ),
    both(
        "2024-05-01T10:00:00++2:00",
        read("2024-05-01T10:00:00+02:00", "2024-05-01T08:00:00Z"),
        "Go 1.19's atoi takes a sign in the offset hour",
    ),
    both(
        "2024-05-01T10:00:00+-1:30",
        read("2024-05-01T10:00:00-00:30", "2024-05-01T10:30:00Z"),
        "(-1 h + 30 min), east",
    ),
    both(
        "2024-05-01T10:00:00-+1:-5",
        read("2024-05-01T10:00:00-00:55", "2024-05-01T10:55:00Z"),
        "(1 h - 5 min), west",
    ),
    both(
        "2024-05-01T10:00:00+-0:+0",
        read("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        "golang/go#54570's example",
    ),
    both(
        "2024-05-01T10:00:00+--:00",
        SYNTAX,
        "two signs and no digit",
    ),
    // Around the value.
    both(" 2024-05-01T10:00:00Z", SYNTAX, "leading space"),
    both("2024-05-01T10:00:00Z ", SYNTAX, "trailing space"),
    both("2024-05-01T10:00:00Z\n", SYNTAX, "trailing newline"),
    both("2024-05-01T10:00:00ZZ", SYNTAX, "extra text"),
    both("2024-05-01T10:00:00Z\u{0}", SYNTAX, "a trailing NUL"),
    both(
        "\u{ff12}\u{ff10}\u{ff12}\u{ff14}-05-01T10:00:00Z",
        SYNTAX,
        "full-width digits",
    ),
    both("", SYNTAX, "empty"),
    both("yesterday", SYNTAX, "words"),
    both("1714557600", SYNTAX, "Unix seconds"),
    both("2024-05-01", SYNTAX, "a date"),
    both("10:00:00Z", SYNTAX, "a time"),
];

/// `want` against what a reader made of `case.input`; a description of the difference.
fn check(
    case: &Case,
    reader: &str,
    want: Want,
    got: alert_core::Result<Timestamp>,
) -> Option<String> {
    let input = case.input;
    match (want, got) {
        (Read { shown, utc }, Ok(t)) if t.to_string() == shown && t.to_utc().to_string() == utc => {
            None
        }
        (
            Refused(fragment),
            Err(Error::InvalidTimestamp {
                field,
                input: given,
                expected,
            }),
        ) if field == "t"
            && given == input
            && (if fragment.is_empty() {
                expected == EXAMPLE
            } else {
                expected.contains(fragment)
            }) =>
        {
            None
        }
        (want, got) => Some(format!(
            "{reader} {input:?} ({}): want {want:?}, got {:?}",
            case.why,
            got.map(|t| (t.to_string(), t.to_utc().to_string()))
        )),
    }
}

#[test]
fn every_case_reads_as_go_1_19_reads_it() {
    let mut failures = Vec::new();
    for case in CASES {
        let parse = Timestamp::parse_rfc3339("t", case.input);
        failures.extend(check(case, "Parse", case.parse, parse));
        let json = Timestamp::parse_json_text("t", case.input);
        failures.extend(check(case, "UnmarshalJSON", case.json, json));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_covers_both_outcomes_and_the_readers_difference() {
    let read = CASES
        .iter()
        .filter(|c| matches!(c.parse, Read { .. }))
        .count();
    assert!(
        read >= 30 && CASES.len() - read >= 60,
        "{read} read of {}",
        CASES.len()
    );
    assert_eq!(
        CASES
            .iter()
            .filter(|c| matches!((c.parse, c.json), (Refused(_), Read { .. })))
            .count(),
        2
    );
}

#[test]
fn errors_name_the_field_the_value_and_what_was_expected() {
    let err = Timestamp::parse_rfc3339("startsAt", "2024-05-01 10:00:00Z").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"startsAt: "2024-05-01 10:00:00Z": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00"#
    );
    let err = Timestamp::parse_json_text("alerts[3].endsAt", "2023-02-29T00:00:00Z").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"alerts[3].endsAt: "2023-02-29T00:00:00Z": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00, with a day that 2023-02 has"#
    );
    // `FromStr` and serde do not know the field.
    let err = "2024-05-01T10:00:60Z".parse::<Timestamp>().unwrap_err();
    assert!(
        err.to_string()
            .starts_with(r#""2024-05-01T10:00:60Z": expected"#),
        "{err}"
    );
    let err = serde_json::from_str::<Timestamp>(r#""2024-05-01t10:00:00Z""#).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(r#""2024-05-01t10:00:00Z": expected"#),
        "{err}"
    );
    let err = serde_json::from_str::<Timestamp>("1714557600").unwrap_err();
    assert!(
        err.to_string().contains("an RFC 3339 timestamp string"),
        "{err}"
    );
}

#[test]
fn serde_and_from_str_are_the_go_readers() {
    for case in CASES {
        let json = serde_json::to_string(case.input).expect("a string");
        let via_serde = serde_json::from_str::<Timestamp>(&json).map(|t| t.to_string());
        let direct = Timestamp::parse_json_text("", case.input).map(|t| t.to_string());
        assert_eq!(via_serde.is_ok(), direct.is_ok(), "{:?}", case.input);
        if let (Ok(a), Ok(b)) = (&via_serde, &direct) {
            assert_eq!(a, b);
        }
        let from_str = case.input.parse::<Timestamp>().map_err(|e| e.to_string());
        let parse = Timestamp::parse_rfc3339("", case.input).map_err(|e| e.to_string());
        assert_eq!(from_str, parse, "{:?}", case.input);
    }
}

#[test]
fn a_fraction_of_any_length_is_read() {
    let long = format!("2024-05-01T10:00:00.{}Z", "7".repeat(100_000));
    let t = Timestamp::parse_rfc3339("t", &long).expect("Go reads every digit");
    assert_eq!(t.to_string(), "2024-05-01T10:00:00.777777777Z");
}

/// A valid date: a day clamped to what the month has.
fn civil() -> impl Strategy<Value = jiff::civil::DateTime> {
    (
        0i16..=9999,
        1i8..=12,
        1i8..=31,
        0i8..24,
        0i8..60,
        0i8..60,
        prop_oneof![
            Just(0),
            0i32..1_000_000_000,
            (0i32..1000).prop_map(|ms| ms * 1_000_000)
        ],
    )
        .prop_filter_map("a day the month has", |(y, mo, d, h, mi, s, ns)| {
            let first = jiff::civil::Date::new(y, mo, 1).ok()?;
            let day = d.min(first.days_in_month());
            jiff::civil::DateTime::new(y, mo, day, h, mi, s, ns).ok()
        })
}

/// Whole-minute offsets jiff holds (RFC3339Nano writes minutes only).
fn offset() -> impl Strategy<Value = jiff::tz::Offset> {
    prop_oneof![Just(0), -1559i32..=1559].prop_filter_map("an offset", |minutes| {
        jiff::tz::Offset::from_seconds(minutes * 60).ok()
    })
}

/// `Z` or `±hh:mm`.
fn zone(offset: jiff::tz::Offset) -> String {
    let seconds = offset.seconds();
    if seconds == 0 {
        return "Z".into();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A written timestamp with one byte replaced by one the layout cares about.
fn near_miss() -> impl Strategy<Value = String> {
    (
        civil(),
        offset(),
        any::<prop::sample::Index>(),
        prop::sample::select(vec![
            b'0', b'9', b' ', b't', b'T', b'z', b'Z', b':', b'.', b',', b'+', b'-',
        ]),
    )
        .prop_map(|(civil, offset, at, byte)| {
            let mut text =
                format!("{}.5{}", civil.strftime("%Y-%m-%dT%H:%M:%S"), zone(offset)).into_bytes();
            let i = at.index(text.len());
            text[i] = byte;
            String::from_utf8(text).unwrap_or_default()
        })
}

proptest! {
    /// What alert-core's `RFC3339Nano` writer writes, both Go readers read back as the
    /// same instant, in the same offset, written the same way.
    #[test]
    fn written_timestamps_read_back(civil in civil(), offset in offset()) {
        let Ok(instant) = offset.to_timestamp(civil) else {
            return Ok(());
        };
        let t = Timestamp::with_offset(instant, offset);
        let text = t.to_string();
        for back in [
            Timestamp::parse_rfc3339("t", &text),
            Timestamp::parse_json_text("t", &text),
            serde_json::to_string(&t)
                .map_err(|e| e.to_string())
                .and_then(|json| serde_json::from_str::<Timestamp>(&json).map_err(|e| e.to_string()))
                .map_err(|e| Error::Decode { field: "serde".into(), reason: e }),
        ] {
            let back = back.map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(back.instant(), instant);
            prop_assert_eq!(back.offset(), offset);
            prop_assert_eq!(back.to_string(), text.clone());
        }
    }

    /// Strict RFC 3339 (two-digit hours, a period, at most nine digits, offsets within
    /// a day) reads as jiff reads it.
    #[test]
    fn strict_rfc3339_reads_as_jiff_reads_it(
        civil in civil(),
        digits in 0usize..=9,
        zulu in any::<bool>(),
        sign in prop_oneof![Just('+'), Just('-')],
        hours in 0u8..24,
        minutes in 0u8..60,
    ) {
        let fraction = if digits == 0 {
            String::new()
        } else {
            format!(".{:09}", civil.subsec_nanosecond())[..=digits].to_owned()
        };
        let zone = if zulu { "Z".to_owned() } else { format!("{sign}{hours:02}:{minutes:02}") };
        let text = format!("{}{fraction}{zone}", civil.strftime("%Y-%m-%dT%H:%M:%S"));
        let ours = Timestamp::parse_rfc3339("t", &text).map(|t| t.instant());
        let jiffs = text.parse::<jiff::Timestamp>();
        match (ours, jiffs) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b, "{}", text),
            (Err(Error::InvalidTimestamp { expected, .. }), Err(_)) => {
                prop_assert!(expected.starts_with("an instant from"), "{}: {}", text, expected)
            }
            (ours, jiffs) => prop_assert!(false, "{}: ours {:?}, jiff {:?}", text, ours, jiffs),
        }
    }

    /// The JSON reader reads everything the `Parse` reader reads, as the same value;
    /// neither panics on text near the layout.
    #[test]
    fn the_json_reader_takes_all_parse_takes(
        text in prop_oneof![near_miss(), "[0-9]{0,5}[-0-9TtZz:.,+ ]{0,28}"]
    ) {
        let json = Timestamp::parse_json_text("t", &text);
        if let Ok(parsed) = Timestamp::parse_rfc3339("t", &text) {
            let json = json.map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(json.to_string(), parsed.to_string());
        }
    }

    /// Fraction digits past the ninth are dropped, whatever they are.
    #[test]
    fn digits_past_the_ninth_are_dropped(
        civil in civil(),
        offset in offset(),
        nine in "[0-9]{9}",
        extra in "[0-9]{1,40}",
    ) {
        let base = civil.strftime("%Y-%m-%dT%H:%M:%S").to_string();
        let zone = zone(offset);
        let short = Timestamp::parse_rfc3339("t", &format!("{base}.{nine}{zone}"));
        let long = Timestamp::parse_rfc3339("t", &format!("{base}.{nine}{extra}{zone}"));
        prop_assert_eq!(short.map(|t| t.to_string()), long.map(|t| t.to_string()));
    }

    /// No input panics either reader.
    #[test]
    fn no_input_panics(text in ".{0,40}") {
        let _ = Timestamp::parse_rfc3339("t", &text);
        let _ = Timestamp::parse_json_text("t", &text);
    }
}
