//! JSON written byte for byte as Alertmanager 0.25 and amtool write it.
//!
//! They were built with Go 1.19, whose `encoding/json` escapes more than serde_json:
//! `<`, `>` and `&` (HTML-safe), U+2028 and U+2029, and `\b`, `\f` as `\u0008`,
//! `\u000c`. Output is compact, like Go's `json.Marshal`; `json.Encoder.Encode` adds a
//! newline, which callers append themselves.
//!
//! ```
//! use alert_core::go_json;
//!
//! let text = go_json::to_string(&serde_json::json!({"summary": "cpu <busy> & hot\u{8}"}))?;
//! assert_eq!(text, r#"{"summary":"cpu \u003cbusy\u003e \u0026 hot\u0008"}"#);
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::Serialize;

/// Serialises `value` as Go's `json.Marshal` would (see the [module docs](self)).
///
/// # Errors
/// Whatever serde_json reports, such as a map with non-string keys.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, GoJsonFormatter);
    value.serialize(&mut serializer)?;
    Ok(out)
}

/// [`to_vec`] as a `String`.
///
/// # Errors
/// As [`to_vec`].
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let bytes = to_vec(value)?;
    // The formatter writes only UTF-8: serde_json's escapes and whole `str` fragments.
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Compact JSON escaped like Go's `encoding/json` (Go before 1.22, which built
/// Alertmanager 0.25): HTML-safe (`<`, `>`, `&`), line and paragraph separators escaped,
/// and `\b`, `\f` written as `\u0008`, `\u000c`. Plug it into
/// [`serde_json::Serializer::with_formatter`], or use [`to_vec`] / [`to_string`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GoJsonFormatter;

impl serde_json::ser::Formatter for GoJsonFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escaped.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        char_escape: serde_json::ser::CharEscape,
    ) -> std::io::Result<()> {
        use serde_json::ser::CharEscape;
        let escaped: &[u8] = match char_escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"\\/",
            CharEscape::Backspace => b"\\u0008",
            CharEscape::FormFeed => b"\\u000c",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                return writer.write_all(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(byte >> 4)],
                    HEX[usize::from(byte & 0xf)],
                ]);
            }
        };
        writer.write_all(escaped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go_1_19() {
        // Expected values printed by Go 1.19's json.Marshal.
        let cases = [
            ("plain", r#""plain""#),
            (
                "<a href=\"x\">&amp;</a>",
                r#""\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e""#,
            ),
            ("\u{2028}\u{2029}", r#""\u2028\u2029""#),
            ("\u{8}\u{c}\n\r\t", r#""\u0008\u000c\n\r\t""#),
            ("\u{1}\u{1f}\u{7f}", "\"\\u0001\\u001f\u{7f}\""),
            ("back\\slash /", r#""back\\slash /""#),
            ("é 日本 🙂", r#""é 日本 🙂""#),
        ];
        for (input, want) in cases {
            assert_eq!(to_string(input).expect("string"), want, "input {input:?}");
        }
    }

    #[test]
    fn compact_like_marshal() {
        let value = serde_json::json!({"a": [1, 2], "b": {"c": null}});
        assert_eq!(
            to_vec(&value).expect("json"),
            br#"{"a":[1,2],"b":{"c":null}}"#
        );
    }

    #[test]
    fn non_string_keys_are_an_error() {
        let map: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        assert!(to_vec(&map).is_err());
    }
}
