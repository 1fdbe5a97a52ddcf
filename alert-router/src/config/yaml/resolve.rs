//! How Go's yaml.v2 (YAML 1.1) resolves a plain scalar: `yes`/`on`/`y` are booleans,
//! `~` and `null` are null, `0x1F`, `010` and `1_000` are integers, `.inf` a float,
//! `2024-01-01` a timestamp, `<<` a merge key.

/// What a plain scalar means to yaml.v2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resolved {
    /// `~`, `null`, `Null`, `NULL` or empty.
    Null,
    /// `y`, `yes`, `on`, `true`, `n`, `no`, `off`, `false` in their spellings.
    Bool(bool),
    /// An integer that fits `i64` (Go's `int`).
    Int(i64),
    /// An integer above `i64::MAX` (Go's `uint64`).
    Uint(u64),
    /// A float.
    Float(f64),
    /// A timestamp (`2001-12-14`, `2001-12-14T21:59:43.10Z`).
    Timestamp,
    /// The merge key `<<`.
    Merge,
    /// A string.
    Str,
}

impl Resolved {
    /// The YAML tag Go names in type errors (`!!str`, `!!int`, ...).
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Resolved::Null => "!!null",
            Resolved::Bool(_) => "!!bool",
            Resolved::Int(_) | Resolved::Uint(_) => "!!int",
            Resolved::Float(_) => "!!float",
            Resolved::Timestamp => "!!timestamp",
            Resolved::Merge => "!!merge",
            Resolved::Str => "!!str",
        }
    }
}

/// yaml.v2's `resolve("", text)` for a plain scalar.
pub(crate) fn resolve_plain(text: &str) -> Resolved {
    if let Some(r) = lookup(text) {
        return r;
    }
    let Some(&first) = text.as_bytes().first() else {
        return Resolved::Null;
    };
    match first {
        b'.' => go_parse_float(text).map_or(Resolved::Str, Resolved::Float),
        b'0'..=b'9' | b'+' | b'-' => {
            if is_timestamp(text) {
                return Resolved::Timestamp;
            }
            let plain: String = text.chars().filter(|c| *c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return Resolved::Int(i);
            }
            if let Some(u) = go_parse_uint(&plain) {
                return Resolved::Uint(u);
            }
            if is_yaml_style_float(&plain)
                && let Some(f) = go_parse_float(&plain)
            {
                return Resolved::Float(f);
            }
            Resolved::Str
        }
        _ => Resolved::Str,
    }
}

/// The fixed words of yaml.v2's resolve table.
fn lookup(text: &str) -> Option<Resolved> {
    Some(match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Resolved::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        "<<" => Resolved::Merge,
        _ => return None,
    })
}

/// Go's `strconv.ParseInt(s, 0, 64)` (base prefixes `0x`, `0o`, `0b`, leading `0` for
/// octal), without underscores (yaml.v2 strips them first).
pub(crate) fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_base_prefixed(body)?;
    if neg {
        if magnitude > i64::MAX as u64 + 1 {
            return None;
        }
        Some((magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: no sign allowed.
pub(crate) fn go_parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    parse_base_prefixed(s)
}

fn parse_base_prefixed(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let (radix, digits) = if b.len() >= 2 && b[0] == b'0' {
        match b[1] {
            b'x' | b'X' => (16, &s[2..]),
            b'o' | b'O' => (8, &s[2..]),
            b'b' | b'B' => (2, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// yaml.v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal forms yaml.v2 feeds it; `None` on
/// syntax errors and on overflow (Go reports `ErrRange`, which yaml.v2 treats as "not a
/// float").
fn go_parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let decimal = !body.is_empty()
        && body
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !decimal {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

/// yaml.v2's `parseTimestamp`: `YYYY-` then one of its layouts (`2006-1-2`,
/// `2006-1-2T15:4:5.999999999Z07:00` with `T` or `t`, `2006-1-2 15:4:5.999999999`).
pub(crate) fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut p = Cursor { b, i: 5 };
    let Some(month) = p.number(1, 2) else {
        return false;
    };
    if !p.eat(b'-') {
        return false;
    }
    let Some(day) = p.number(1, 2) else {
        return false;
    };
    let year: u32 = s[..4].parse().unwrap_or(0);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return false;
    }
    if p.done() {
        return true;
    }
    let zoned = match b[p.i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    p.i += 1;
    let time_ok = p.number(1, 2).is_some_and(|h| h < 24)
        && p.eat(b':')
        && p.number(1, 2).is_some_and(|m| m < 60)
        && p.eat(b':')
        && p.number(1, 2).is_some_and(|s| s < 60);
    if !time_ok {
        return false;
    }
    if p.eat(b'.') && p.number(1, 9).is_none() {
        return false;
    }
    if !zoned {
        return p.done();
    }
    if p.eat(b'Z') {
        return p.done();
    }
    let signed = p.eat(b'+') || p.eat(b'-');
    signed && p.number(2, 2).is_some() && p.eat(b':') && p.number(2, 2).is_some() && p.done()
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i < self.b.len() && self.i - start < max && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        self.b[start..self.i].iter().try_fold(0u32, |acc, d| {
            acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        })
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_words() {
        for t in ["y", "Y", "yes", "On", "TRUE"] {
            assert_eq!(resolve_plain(t), Resolved::Bool(true), "{t}");
        }
        for t in ["n", "NO", "off", "False"] {
            assert_eq!(resolve_plain(t), Resolved::Bool(false), "{t}");
        }
        for t in ["", "~", "null", "NULL"] {
            assert_eq!(resolve_plain(t), Resolved::Null, "{t}");
        }
        assert_eq!(resolve_plain("<<"), Resolved::Merge);
        for t in ["yEs", "nil", "none", "Nope", "o", "t", "f"] {
            assert_eq!(resolve_plain(t), Resolved::Str, "{t}");
        }
    }

    #[test]
    fn numbers_like_go() {
        assert_eq!(resolve_plain("0x1F"), Resolved::Int(31));
        assert_eq!(resolve_plain("010"), Resolved::Int(8));
        assert_eq!(resolve_plain("0o17"), Resolved::Int(15));
        assert_eq!(resolve_plain("0b101"), Resolved::Int(5));
        assert_eq!(resolve_plain("1_000"), Resolved::Int(1000));
        assert_eq!(resolve_plain("+5"), Resolved::Int(5));
        assert_eq!(resolve_plain("-0x10"), Resolved::Int(-16));
        assert_eq!(
            resolve_plain("18446744073709551615"),
            Resolved::Uint(u64::MAX)
        );
        assert_eq!(resolve_plain("1e3"), Resolved::Float(1000.0));
        assert_eq!(resolve_plain(".5"), Resolved::Float(0.5));
        assert_eq!(resolve_plain("1."), Resolved::Float(1.0));
        assert_eq!(resolve_plain("99999999999999999999"), Resolved::Float(1e20));
        assert_eq!(resolve_plain(".inf"), Resolved::Float(f64::INFINITY));
        assert!(matches!(resolve_plain(".NaN"), Resolved::Float(f) if f.is_nan()));
        assert_eq!(resolve_plain("09"), Resolved::Float(9.0));
        for t in [
            "1e400", "0x", "1.2.3", "12:30", "1h", "5m", "-", "+", "1_", ".", "0x1.8p1",
        ] {
            let r = resolve_plain(t);
            assert!(
                matches!(r, Resolved::Str) || (t == "1_" && r == Resolved::Int(1)),
                "{t}: {r:?}"
            );
        }
    }

    #[test]
    fn timestamps_like_go() {
        for t in [
            "2024-01-01",
            "2024-1-2",
            "2001-12-14t21:59:43.10Z",
            "2001-12-14T21:59:43.10+05:00",
            "2001-12-14 21:59:43.10",
            "2024-02-29",
        ] {
            assert_eq!(resolve_plain(t), Resolved::Timestamp, "{t}");
        }
        for t in [
            "2023-02-29",
            "2024-13-01",
            "2024-01-01T10:00",
            "2024-01-01 10:00:00Z",
            "20240101",
        ] {
            assert_ne!(resolve_plain(t), Resolved::Timestamp, "{t}");
        }
    }
}
