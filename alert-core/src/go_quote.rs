//! Go's `strconv.Quote` (the `%q` verb), which Alertmanager uses to quote names and
//! values in its messages (`undefined receiver "nope" used in route`) and silence
//! validation errors (`invalid label name "a b"`).

/// Quotes `s` as Go's `strconv.Quote` does: double quotes around it, `"` and `\`
/// escaped, `\a \b \f \n \r \t \v` for those controls, `\xNN` for other ASCII controls,
/// `\uNNNN` / `\UNNNNNNNN` for other non-printable characters; printable characters
/// (Go's `unicode.IsPrint`) are kept as they are.
///
/// Go decides printability from Unicode tables; above U+00FF this function treats as
/// non-printable the controls, white space other than U+0020, format characters,
/// private-use characters and noncharacters, which covers every case seen in
/// configurations (it cannot tell unassigned code points apart).
///
/// ```
/// use alert_core::go_quote::go_quote;
///
/// assert_eq!(go_quote("nope"), r#""nope""#);
/// assert_eq!(go_quote("a\"b\n\u{1}"), r#""a\"b\n\x01""#);
/// assert_eq!(go_quote("\u{ad}é"), r#""\u00adé""#);
/// ```
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_go_printable(c) => out.push(c),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7F}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `unicode.IsPrint`, exactly for Latin-1 and approximately above it (see
/// [`go_quote`]).
fn is_go_printable(c: char) -> bool {
    let u = c as u32;
    if u <= 0xFF {
        return (0x20..=0x7E).contains(&u) || ((0xA1..=0xFF).contains(&u) && u != 0xAD);
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let format_or_private = matches!(u,
        0x200B..=0x200F
        | 0x2028..=0x202E
        | 0x2060..=0x206F
        | 0xFEFF
        | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF
        | 0xFDD0..=0xFDEF
        | 0xF0000..=0x10FFFF
        | 0xE0001..=0xE007F
    );
    let noncharacter = (u & 0xFFFE) == 0xFFFE;
    !format_or_private && !noncharacter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_go_strconv_quote() {
        // Expected values printed by Go's strconv.Quote.
        let cases = [
            ("nope", r#""nope""#),
            ("", r#""""#),
            ("a\"b", r#""a\"b""#),
            ("a\\b", r#""a\\b""#),
            ("line\nbreak\ttab", r#""line\nbreak\ttab""#),
            ("\u{7}\u{8}\u{c}\r\u{b}", r#""\a\b\f\r\v""#),
            ("\u{1}\u{7f}", r#""\x01\x7f""#),
            ("é ü ß", r#""é ü ß""#),
            ("\u{ad}", r#""\u00ad""#),
            ("\u{a0}", r#""\u00a0""#),
            ("日本", r#""日本""#),
            ("🙂", r#""🙂""#),
            ("\u{200b}", r#""\u200b""#),
            ("\u{2028}", r#""\u2028""#),
            ("\u{feff}", r#""\ufeff""#),
            ("\u{10ffff}", r#""\U0010ffff""#),
        ];
        for (input, want) in cases {
            assert_eq!(go_quote(input), want, "input {input:?}");
        }
    }
}
