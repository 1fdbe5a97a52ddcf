//! Query parameters of the history API: times, selectors, limits and cursors.
//!
//! Times are RFC 3339 (`2024-05-01T10:00:00Z`) or Unix seconds (`1714557600`,
//! `1714557600.5`), as in Prometheus' HTTP API; RFC 3339 is read exactly as Go's
//! `time.Parse(time.RFC3339Nano, s)` reads it
//! ([`Timestamp::parse_rfc3339`]: no space for `T`, no lowercase `t` or `z`, no leap
//! second, `±hh:mm` offsets only). Each `match[]` parameter is one selector in
//! Alertmanager's syntax (`{alertname="DiskFull",instance=~"db-.*"}`, or
//! `alertname="DiskFull"`): all its matchers must match; several `match[]` are OR-ed, as
//! in Prometheus and Loki ([`Selectors`]).

use crate::{Cursor, Error, Selectors, TimeSpan};
use alert_core::Timestamp;

/// [`Error::InvalidParameter`] for `param`.
pub(crate) fn bad(param: &str, message: impl Into<String>) -> Error {
    Error::InvalidParameter {
        param: param.to_owned(),
        message: message.into(),
    }
}

/// Decodes an `application/x-www-form-urlencoded` query string into ordered pairs
/// (`+` is a space, `%XX` a byte; invalid escapes are kept literally).
pub fn parse_query_string(query: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// RFC 3339 as Go reads it ([`Timestamp::parse_rfc3339`]) or Unix seconds (with an
/// optional fraction); `param` names the parameter in the error.
///
/// ```
/// use alert_history::server::params::parse_time;
/// let t = parse_time("start", "1714557600.25")?;
/// assert_eq!(t, "2024-05-01T10:00:00.25Z".parse()?);
/// assert!(parse_time("start", "yesterday").is_err());
/// let err = parse_time("start", "2024-05-01 10:00:00Z").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"start: "2024-05-01 10:00:00Z": expected an RFC 3339 timestamp such as 2006-01-02T15:04:05Z07:00, or Unix seconds"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_time(param: &str, value: &str) -> Result<Timestamp, Error> {
    match unix_seconds(value) {
        Some(Some(t)) => Ok(t),
        Some(None) => Err(bad(
            param,
            format!("{value:?}: expected Unix seconds within the instants a timestamp holds"),
        )),
        None => Timestamp::parse_rfc3339(param, value).map_err(|e| match e {
            alert_core::Error::InvalidTimestamp {
                field,
                input,
                expected,
            } => Error::Core(alert_core::Error::InvalidTimestamp {
                field,
                input,
                expected: format!("{expected}, or Unix seconds"),
            }),
            other => Error::Core(other),
        }),
    }
}

/// `value` as Unix seconds: `None` when it is not digits (an optional `-`, then digits
/// and an optional `.` and fraction), `Some(None)` when it is but names no instant a
/// timestamp holds.
fn unix_seconds(value: &str) -> Option<Option<Timestamp>> {
    let (secs, frac) = value.split_once('.').unwrap_or((value, ""));
    let digits = secs.strip_prefix('-').unwrap_or(secs);
    let shaped = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    if !shaped {
        return None;
    }
    let Ok(s) = secs.parse::<i64>() else {
        return Some(None);
    };
    let mut nanos = frac.to_owned();
    nanos.truncate(9);
    while nanos.len() < 9 {
        nanos.push('0');
    }
    let frac_nanos = i128::from(nanos.parse::<i32>().unwrap_or(0));
    // "-5.25" is 5.25 seconds before 1970, not -5 + 0.25.
    let total = if secs.starts_with('-') {
        i128::from(s) * 1_000_000_000 - frac_nanos
    } else {
        i128::from(s) * 1_000_000_000 + frac_nanos
    };
    let whole = i64::try_from(total.div_euclid(1_000_000_000)).ok();
    let sub = i32::try_from(total.rem_euclid(1_000_000_000)).ok();
    Some(match (whole, sub) {
        (Some(whole), Some(sub)) => Timestamp::from_unix(whole, sub).ok(),
        _ => None,
    })
}

/// The `match[]` values: each one selector in Alertmanager's syntax (either grammar, as
/// Alertmanager 0.25's fallback parser reads them), the selectors OR-ed
/// ([`Selectors::parse`]).
///
/// ```
/// use alert_history::server::params::parse_match_values;
/// let s = parse_match_values([r#"{node=~".+",severity="critical"}"#, r#"alertname="Down""#])?;
/// assert_eq!(s.len(), 2);
/// assert_eq!(s.iter().map(|m| m.len()).collect::<Vec<_>>(), [2, 1]);
/// let err = parse_match_values([r#"{a=~"("}"#]).unwrap_err();
/// assert!(err.to_string().starts_with(r#"invalid parameter "match[]""#), "{err}");
/// # Ok::<(), alert_history::Error>(())
/// ```
pub fn parse_match_values<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Selectors, Error> {
    Selectors::parse(values)
}

/// The parameters shared by the history endpoints.
#[derive(Debug, Clone)]
pub struct RangeParams {
    /// `[start, end)`.
    pub range: TimeSpan,
    /// The `match[]` selectors, OR-ed.
    pub selectors: Selectors,
    /// `limit`, if given.
    pub limit: Option<usize>,
    /// `cursor`, if given.
    pub cursor: Option<Cursor>,
}

impl RangeParams {
    /// Reads `start`, `end` (default: now, and one hour before `end`), `match[]`,
    /// `limit` and `cursor`.
    pub fn parse(pairs: &[(String, String)], now: Timestamp) -> Result<RangeParams, Error> {
        let get = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let end = match get("end") {
            Some(v) => parse_time("end", v)?,
            None => now,
        };
        let start = match get("start") {
            Some(v) => parse_time("start", v)?,
            None => end
                .checked_sub(alert_core::Duration::from_secs(3600).unwrap_or_default())
                .ok_or_else(|| bad("end", "too early"))?,
        };
        let range = TimeSpan::new(start, end)
            .map_err(|_| bad("end", format!("end {end} must be after start {start}")))?;
        let selectors = parse_match_values(
            pairs
                .iter()
                .filter(|(k, _)| k == "match[]" || k == "match")
                .map(|(_, v)| v.as_str()),
        )?;
        let limit = get("limit")
            .map(|v| {
                v.parse::<usize>()
                    .map_err(|_| bad("limit", format!("expected a positive integer, got {v:?}")))
            })
            .transpose()?;
        let cursor = get("cursor")
            .filter(|c| !c.is_empty())
            .map(|v| {
                v.parse::<Cursor>()
                    .map_err(|e| bad("cursor", e.to_string()))
            })
            .transpose()?;
        Ok(RangeParams {
            range,
            selectors,
            limit,
            cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid")
    }

    /// The parameter an error names.
    fn param_of(e: Error) -> String {
        match e {
            Error::InvalidParameter { param, .. } => param,
            Error::Core(alert_core::Error::InvalidTimestamp { field, .. }) => field,
            other => panic!("not a parameter error: {other}"),
        }
    }

    proptest::proptest! {
        /// Whatever a client percent-encodes is decoded back, for keys and values.
        #[test]
        fn query_strings_round_trip(pairs in proptest::collection::vec(("[a-z\\[\\]]{1,8}", ".{0,20}"), 0..5)) {
            let encode = |s: &str| -> String {
                s.bytes().map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
                    b' ' => "+".to_owned(),
                    _ => format!("%{b:02X}"),
                }).collect()
            };
            let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
            let got = parse_query_string(&query.join("&"));
            let want: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            proptest::prop_assert_eq!(got, want);
        }

        /// Unix seconds with a fraction read as the instant they name.
        #[test]
        fn unix_seconds_parse(secs in -1_000_000_000i64..5_000_000_000, millis in 0u32..1000) {
            let t = parse_time("start", &format!("{secs}.{millis:03}")).expect("valid");
            let sign = if secs < 0 { -1 } else { 1 };
            proptest::prop_assert_eq!(t.unix_millis(), secs * 1000 + sign * i64::from(millis));
        }

        /// No input panics the time parser.
        #[test]
        fn time_parser_never_panics(s in ".{0,30}") {
            let _ = parse_time("start", &s);
        }
    }

    #[test]
    fn query_strings_decode() {
        let got = parse_query_string(
            "match%5B%5D=alertname%3D%22A+B%22&match[]=x%3D%22y%22&start=1&bad=%zz&flag",
        );
        assert_eq!(got[0], ("match[]".into(), "alertname=\"A B\"".into()));
        assert_eq!(got[1], ("match[]".into(), "x=\"y\"".into()));
        assert_eq!(got[3], ("bad".into(), "%zz".into()));
        assert_eq!(got[4], ("flag".into(), String::new()));
        assert_eq!(parse_query_string("a=%4"), vec![("a".into(), "%4".into())]);
    }

    #[test]
    fn times_in_both_forms() {
        assert_eq!(
            parse_time("start", "1714557600").expect("ok"),
            t("2024-05-01T10:00:00Z")
        );
        assert_eq!(
            parse_time("start", "1714557600.25").expect("ok"),
            t("2024-05-01T10:00:00.25Z")
        );
        assert_eq!(
            parse_time("start", "2024-05-01T12:00:00+02:00").expect("ok"),
            t("2024-05-01T10:00:00Z")
        );
        assert_eq!(
            parse_time("start", "-1.5").expect("ok"),
            t("1969-12-31T23:59:58.5Z")
        );
        for bad in [
            "",
            "yesterday",
            "1.2.3",
            "2024-05-01",
            "1e9",
            "-",
            "99999999999999999999",
            "2024-05-01 10:00:00Z",
            "2024-05-01t10:00:00Z",
            "2024-05-01T10:00:00z",
            "20240501T100000Z",
            "2024-05-01T10Z",
            "2024-05-01T10:00:00+02",
            "2024-05-01T10:00:60Z",
            "+002024-05-01T10:00:00Z",
            " 1714557600",
        ] {
            let err = parse_time("start", bad).unwrap_err();
            assert!(
                err.to_string().contains(&format!("{bad:?}")),
                "{bad}: {err}"
            );
            assert_eq!(param_of(err), "start", "{bad}");
        }
        // Go reads digits past the ninth and drops them.
        assert_eq!(
            parse_time("end", "2024-05-01T10:00:00.1234567899Z").expect("ok"),
            t("2024-05-01T10:00:00.123456789Z")
        );
    }

    #[test]
    fn range_params() {
        let now = t("2024-05-01T10:00:00Z");
        let pairs = parse_query_string(
            "match[]=alertname%3D%22A%22&match[]=%7Bsev%3D~%22crit.*%22%7D&limit=5",
        );
        let p = RangeParams::parse(&pairs, now).expect("ok");
        assert_eq!(
            (p.range.start, p.range.end),
            (t("2024-05-01T09:00:00Z"), now)
        );
        assert_eq!(p.selectors.len(), 2, "one selector per match[]");
        assert_eq!(p.limit, Some(5));
        let err = RangeParams::parse(&parse_query_string("start=2&end=1"), now).unwrap_err();
        assert_eq!(param_of(err), "end");
        let err =
            RangeParams::parse(&parse_query_string("match[]=%7Ba%3D~%22(%22%7D"), now).unwrap_err();
        assert_eq!(param_of(err), "match[]");
        let err = RangeParams::parse(&parse_query_string("cursor=zz"), now).unwrap_err();
        assert_eq!(param_of(err), "cursor");
    }
}
