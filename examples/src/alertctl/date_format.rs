//! Dates as amtool prints them: Go's `time.Format` with a layout (`--date.format`,
//! default `2006-01-02 15:04:05 MST`), in the offset the API gave the instant in.
//!
//! The layout tokens are Go's: `2006 06 January Jan 01 1 Monday Mon 02 _2 2 002 15 03 3
//! 04 4 05 5 PM pm MST -0700 -07:00 -07 Z0700 Z07:00 Z07` and fractional seconds
//! `.000`/`.999` (any number of digits; `,` works as well). `MST` is `UTC` for a zero
//! offset and `+hhmm` otherwise, as Go prints a zone it has no name for.

use alert_core::Timestamp;

/// amtool's default `--date.format`.
pub const DEFAULT_DATE_FORMAT: &str = "2006-01-02 15:04:05 MST";

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Formats `t` with a Go layout.
///
/// ```
/// use alert_examples::alertctl::date_format::{format, DEFAULT_DATE_FORMAT};
/// let t: alert_core::Timestamp = "2030-01-01T00:00:00.25+02:00".parse()?;
/// assert_eq!(format(&t, DEFAULT_DATE_FORMAT), "2030-01-01 00:00:00 +0200");
/// assert_eq!(format(&t.to_utc(), "Mon Jan _2 3:04:05.000 PM 2006 Z07:00"), "Mon Dec 31 10:00:00.250 PM 2029 Z");
/// # Ok::<(), alert_core::Error>(())
/// ```
pub fn format(t: &Timestamp, layout: &str) -> String {
    let dt = t.offset().to_datetime(t.instant());
    let offset = t.offset().seconds();
    let (year, month, day) = (i64::from(dt.year()), dt.month() as usize, dt.day());
    let (hour, minute, second) = (dt.hour(), dt.minute(), dt.second());
    let nanos = dt.subsec_nanosecond();
    let weekday = dt.weekday().to_sunday_zero_offset() as usize;
    let mut out = String::new();
    let mut rest = layout;
    while !rest.is_empty() {
        let (text, len) = if let Some(n) = fraction(rest) {
            let digits = format!("{nanos:09}");
            let wanted = &digits[..n.digits.min(9)];
            let s = if n.trim {
                let trimmed = wanted.trim_end_matches('0');
                if trimmed.is_empty() {
                    String::new()
                } else {
                    format!("{}{trimmed}", n.sep)
                }
            } else {
                format!("{}{wanted}", n.sep)
            };
            (s, n.len)
        } else if let Some((tok, text)) = [
            ("January", MONTHS[month - 1].to_owned()),
            ("Jan", MONTHS[month - 1][..3].to_owned()),
            ("Monday", DAYS[weekday].to_owned()),
            ("Mon", DAYS[weekday][..3].to_owned()),
            ("MST", zone_name(offset)),
            ("2006", format!("{year:04}")),
            ("-07:00", numeric_zone(offset, true, false)),
            ("-0700", numeric_zone(offset, false, false)),
            ("-07", numeric_zone(offset, false, false)[..3].to_owned()),
            ("Z07:00", numeric_zone(offset, true, true)),
            ("Z0700", numeric_zone(offset, false, true)),
            ("Z07", {
                let z = numeric_zone(offset, false, true);
                if z == "Z" { z } else { z[..3].to_owned() }
            }),
            ("002", format!("{:03}", dt.day_of_year())),
            ("01", format!("{month:02}")),
            ("02", format!("{day:02}")),
            ("_2", format!("{day:>2}")),
            ("03", format!("{:02}", hour12(hour))),
            ("04", format!("{minute:02}")),
            ("05", format!("{second:02}")),
            ("06", format!("{:02}", year.rem_euclid(100))),
            ("15", format!("{hour:02}")),
            ("PM", if hour >= 12 { "PM" } else { "AM" }.to_owned()),
            ("pm", if hour >= 12 { "pm" } else { "am" }.to_owned()),
            ("1", month.to_string()),
            ("2", day.to_string()),
            ("3", hour12(hour).to_string()),
            ("4", minute.to_string()),
            ("5", second.to_string()),
        ]
        .into_iter()
        .find(|(tok, _)| rest.starts_with(tok))
        {
            (text, tok.len())
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            (c.to_string(), c.len_utf8())
        };
        out.push_str(&text);
        rest = &rest[len..];
    }
    out
}

struct Fraction {
    sep: char,
    digits: usize,
    trim: bool,
    len: usize,
}

/// `.000` / `.999` (or with `,`): Go's fractional-second tokens.
fn fraction(s: &str) -> Option<Fraction> {
    let mut chars = s.chars();
    let sep = chars.next().filter(|c| *c == '.' || *c == ',')?;
    let digit = chars.next().filter(|c| *c == '0' || *c == '9')?;
    let digits = 1 + chars.take_while(|c| *c == digit).count();
    // Go only treats it as a fraction when no digit follows the run.
    let after = s[1 + digits..].chars().next();
    if after.is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(Fraction {
        sep,
        digits,
        trim: digit == '9',
        len: 1 + digits,
    })
}

fn hour12(hour: i8) -> i8 {
    match hour % 12 {
        0 => 12,
        h => h,
    }
}

fn zone_name(offset: i32) -> String {
    if offset == 0 {
        "UTC".to_owned()
    } else {
        numeric_zone(offset, false, false)
    }
}

fn numeric_zone(offset: i32, colon: bool, z_for_utc: bool) -> String {
    if offset == 0 && z_for_utc {
        return "Z".to_owned();
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    let (h, m) = (abs / 3600, (abs / 60) % 60);
    if colon {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_reference_layouts() {
        let t: Timestamp = "2006-01-02T15:04:05.123456789-07:00".parse().unwrap();
        for (layout, want) in [
            (DEFAULT_DATE_FORMAT, "2006-01-02 15:04:05 -0700"),
            (
                "Mon, 02 Jan 2006 15:04:05 MST",
                "Mon, 02 Jan 2006 15:04:05 -0700",
            ),
            (
                "2006-01-02T15:04:05.999999999Z07:00",
                "2006-01-02T15:04:05.123456789-07:00",
            ),
            ("Jan _2 15:04:05.000", "Jan  2 15:04:05.123"),
            ("3:04PM", "3:04PM"),
            ("06 002", "06 002"),
        ] {
            assert_eq!(format(&t, layout), want, "{layout}");
        }
        let utc: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
        assert_eq!(format(&utc, DEFAULT_DATE_FORMAT), "2024-05-01 10:00:00 UTC");
        assert_eq!(format(&utc, "15:04:05.999"), "10:00:00");
    }
}
