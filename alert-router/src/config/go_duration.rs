//! Go's `time.Duration`, which a few integration fields use instead of Prometheus
//! durations (Pushover `retry` and `expire`).

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A signed span of nanoseconds, read with Go's `time.ParseDuration` (`1m30s`, `1.5h`,
/// `300ms`, `-2h`) and printed as Go's `Duration.String` (`1m30s`, `1h30m0s`).
///
/// ```
/// use alert_router::config::GoDuration;
/// let d: GoDuration = "1.5h".parse()?;
/// assert_eq!(d.as_nanos(), 5_400_000_000_000);
/// assert_eq!(d.to_string(), "1h30m0s");
/// assert!("5".parse::<GoDuration>().is_err());
/// # Ok::<(), alert_router::error::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(i64);

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1_000 * NANOSECOND;
const MILLISECOND: u64 = 1_000 * MICROSECOND;
const SECOND: u64 = 1_000 * MILLISECOND;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const LIMIT: u64 = 1 << 63;

impl GoDuration {
    /// A duration of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: i64) -> GoDuration {
        GoDuration(nanos)
    }

    /// The length in nanoseconds.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Parses `s` as Go's `time.ParseDuration`, with Go's error messages.
    pub(crate) fn parse_go(s: &str) -> Result<GoDuration, String> {
        let invalid = || format!("time: invalid duration {}", time_quote(s));
        let mut rest = s;
        let mut neg = false;
        if let Some(c) = rest.bytes().next()
            && (c == b'-' || c == b'+')
        {
            neg = c == b'-';
            rest = &rest[1..];
        }
        if rest == "0" {
            return Ok(GoDuration(0));
        }
        if rest.is_empty() {
            return Err(invalid());
        }
        let mut total: u64 = 0;
        while !rest.is_empty() {
            let b = rest.as_bytes();
            if !(b[0] == b'.' || b[0].is_ascii_digit()) {
                return Err(invalid());
            }
            let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
            let mut v: u64 = 0;
            for &c in &b[..digits] {
                if v > LIMIT / 10 {
                    return Err(invalid());
                }
                v = v * 10 + u64::from(c - b'0');
                if v > LIMIT {
                    return Err(invalid());
                }
            }
            let pre = digits > 0;
            rest = &rest[digits..];
            let (mut f, mut scale, mut post) = (0u64, 1f64, false);
            if rest.starts_with('.') {
                rest = &rest[1..];
                let frac = rest.bytes().take_while(|c| c.is_ascii_digit()).count();
                let mut overflow = false;
                for c in rest[..frac].bytes() {
                    if overflow {
                        continue;
                    }
                    if f > (LIMIT - 1) / 10 {
                        overflow = true;
                        continue;
                    }
                    let y = f * 10 + u64::from(c - b'0');
                    if y > LIMIT {
                        overflow = true;
                        continue;
                    }
                    f = y;
                    scale *= 10.0;
                }
                post = frac > 0;
                rest = &rest[frac..];
            }
            if !pre && !post {
                return Err(invalid());
            }
            let unit_len = rest
                .bytes()
                .take_while(|c| !(*c == b'.' || c.is_ascii_digit()))
                .count();
            if unit_len == 0 {
                return Err(format!("time: missing unit in duration {}", time_quote(s)));
            }
            let unit_text = &rest[..unit_len];
            rest = &rest[unit_len..];
            let unit = match unit_text {
                "ns" => NANOSECOND,
                "us" | "\u{b5}s" | "\u{3bc}s" => MICROSECOND,
                "ms" => MILLISECOND,
                "s" => SECOND,
                "m" => MINUTE,
                "h" => HOUR,
                _ => {
                    return Err(format!(
                        "time: unknown unit {} in duration {}",
                        time_quote(unit_text),
                        time_quote(s)
                    ));
                }
            };
            if v > LIMIT / unit {
                return Err(invalid());
            }
            v *= unit;
            if f > 0 {
                // Go converts through float64 exactly like this.
                v += (f as f64 * (unit as f64 / scale)) as u64;
                if v > LIMIT {
                    return Err(invalid());
                }
            }
            total += v;
            if total > LIMIT {
                return Err(invalid());
            }
        }
        if neg {
            return Ok(GoDuration((total as i64).wrapping_neg()));
        }
        if total > LIMIT - 1 {
            return Err(invalid());
        }
        Ok(GoDuration(total as i64))
    }
}

impl FromStr for GoDuration {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        GoDuration::parse_go(s).map_err(|message| Error::InvalidDuration {
            path: String::new(),
            message,
        })
    }
}

impl fmt::Display for GoDuration {
    /// Go's `Duration.String`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let mut u = self.0.unsigned_abs();
        let mut out = String::new();
        if u < SECOND {
            let (unit, prec) = match u {
                0 => return f.write_str("0s"),
                u if u < MICROSECOND => ("ns", 0),
                u if u < MILLISECOND => ("\u{b5}s", 3),
                _ => ("ms", 6),
            };
            let (frac, int) = frac_part(u, prec);
            out.push_str(&int.to_string());
            out.push_str(&frac);
            out.push_str(unit);
        } else {
            let (frac, secs) = frac_part(u, 9);
            u = secs;
            let s = format!("{}{}s", u % 60, frac);
            u /= 60;
            if u > 0 {
                let m = u % 60;
                u /= 60;
                if u > 0 {
                    out.push_str(&format!("{u}h"));
                }
                out.push_str(&format!("{m}m"));
            }
            out.push_str(&s);
        }
        if neg {
            f.write_str("-")?;
        }
        f.write_str(&out)
    }
}

/// Go's `fmtFrac`: the fraction of `v / 10^prec` without trailing zeros (and without the
/// point when it is zero), and the integer part.
fn frac_part(mut v: u64, prec: u32) -> (String, u64) {
    let mut digits = Vec::new();
    let mut printed = false;
    for _ in 0..prec {
        let digit = v % 10;
        printed = printed || digit != 0;
        if printed {
            digits.push(char::from(b'0' + digit as u8));
        }
        v /= 10;
    }
    if printed {
        digits.push('.');
    }
    digits.reverse();
    (digits.into_iter().collect(), v)
}

/// The `quote` of Go's `time` package: ASCII kept (with `"` and `\` escaped), every
/// other byte as `\xNN`.
fn time_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if !c.is_ascii() || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_like_go() {
        // (input, nanoseconds) pairs from Go's time package tests.
        let ok: [(&str, i64); 16] = [
            ("0", 0),
            ("5s", 5_000_000_000),
            ("30s", 30_000_000_000),
            ("1478s", 1_478_000_000_000),
            ("-5s", -5_000_000_000),
            ("+5s", 5_000_000_000),
            ("-0", 0),
            ("5.0s", 5_000_000_000),
            ("5.6s", 5_600_000_000),
            (".5s", 500_000_000),
            ("1.s", 1_000_000_000),
            ("10ns", 10),
            ("11us", 11_000),
            ("12\u{b5}s", 12_000),
            ("3h30m", 12_600_000_000_000),
            ("9223372036854775807ns", i64::MAX),
        ];
        for (input, nanos) in ok {
            assert_eq!(
                GoDuration::parse_go(input),
                Ok(GoDuration(nanos)),
                "{input}"
            );
        }
        let bad = [
            ("", "time: invalid duration \"\""),
            ("3", "time: missing unit in duration \"3\""),
            ("-", "time: invalid duration \"-\""),
            ("s", "time: invalid duration \"s\""),
            (".", "time: invalid duration \".\""),
            ("-.", "time: invalid duration \"-.\""),
            (".s", "time: invalid duration \".s\""),
            ("3000000h", "time: invalid duration \"3000000h\""),
            (
                "9223372036854775808ns",
                "time: invalid duration \"9223372036854775808ns\"",
            ),
            ("5x", "time: unknown unit \"x\" in duration \"5x\""),
            ("1d", "time: unknown unit \"d\" in duration \"1d\""),
            (
                "3\u{e9}s",
                "time: unknown unit \"\\xc3\\xa9s\" in duration \"3\\xc3\\xa9s\"",
            ),
        ];
        for (input, message) in bad {
            assert_eq!(
                GoDuration::parse_go(input),
                Err(message.to_string()),
                "{input}"
            );
        }
    }

    #[test]
    fn prints_like_go() {
        let cases: [(i64, &str); 12] = [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1\u{b5}s"),
            (2_200_000, "2.2ms"),
            (3_300_000_000, "3.3s"),
            (60_000_000_000, "1m0s"),
            (4 * 60_000_000_000 + 5_000_000_000, "4m5s"),
            (3_600_000_000_000, "1h0m0s"),
            (5_400_000_000_000, "1h30m0s"),
            (-60_000_000_000, "-1m0s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for (nanos, text) in cases {
            assert_eq!(GoDuration(nanos).to_string(), text);
        }
    }

    proptest! {
        #[test]
        fn printing_reparses_to_the_same_value(n in any::<i64>()) {
            let d = GoDuration(n);
            prop_assert_eq!(GoDuration::parse_go(&d.to_string()), Ok(d));
        }
    }
}
