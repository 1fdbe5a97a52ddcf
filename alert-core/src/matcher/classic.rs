//! The classic matcher grammar: Alertmanager 0.25's `pkg/labels/parse.go`, the only
//! parser of 0.25 and "classic mode" of later versions.
//!
//! Everything lenient about it is kept, because configurations in the wild rely on it:
//! braces are optional and trimmed one each, without trimming spaces first; a trailing
//! comma is allowed; values may be unquoted and hold anything (`foo==bar` is the value
//! `=bar`); in values, `\n`, `\"` and `\\` are escapes and any other backslash is kept
//! literally; label names may contain `:`.

use super::{MatchType, Matcher};
use crate::error::{Error, Result};

/// Go's `\s` in the classic grammar's regular expression: no `\v`.
fn is_go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0C' | '\r' | ' ')
}

/// `labels.ParseMatchers`: a comma-separated list, optionally in braces.
pub(crate) fn parse_matchers(input: &str) -> Result<Vec<Matcher>> {
    let s = input.strip_prefix('{').unwrap_or(input);
    let s = s.strip_suffix('}').unwrap_or(s);

    let mut tokens: Vec<&str> = Vec::new();
    let mut inside_quotes = false;
    let mut escaped = false;
    let mut token_start = 0;
    for (i, c) in s.char_indices() {
        match c {
            ',' => {
                if !inside_quotes {
                    tokens.push(&s[token_start..i]);
                    token_start = i + 1;
                }
                // Inside quotes a comma leaves the escape state alone, as in Go.
            }
            '"' => {
                if escaped {
                    escaped = false;
                } else {
                    inside_quotes = !inside_quotes;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
    }
    // Go's strings.TrimSpace is Unicode White_Space, as `str::trim`.
    let last = s[token_start..].trim();
    if !last.is_empty() {
        tokens.push(last);
    }
    tokens.into_iter().map(parse_matcher).collect()
}

/// `labels.ParseMatcher`: one `name op value`, where the value may be double-quoted.
pub(crate) fn parse_matcher(input: &str) -> Result<Matcher> {
    let bad = || Error::BadMatcherFormat {
        input: input.to_owned(),
    };
    // ^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$
    let rest = input.trim_start_matches(is_go_space);
    let name_len = rest
        .bytes()
        .enumerate()
        .take_while(|&(i, b)| {
            b.is_ascii_alphabetic() || b == b'_' || b == b':' || (i > 0 && b.is_ascii_digit())
        })
        .count();
    if name_len == 0 {
        return Err(bad());
    }
    let (name, rest) = rest.split_at(name_len);
    let rest = rest.trim_start_matches(is_go_space);
    let (match_type, rest) = if let Some(r) = rest.strip_prefix("=~") {
        (MatchType::Regexp, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (MatchType::Equal, r)
    } else if let Some(r) = rest.strip_prefix("!=") {
        (MatchType::NotEqual, r)
    } else if let Some(r) = rest.strip_prefix("!~") {
        (MatchType::NotRegexp, r)
    } else {
        return Err(bad());
    };
    let raw = rest.trim_matches(is_go_space);
    let value = unescape(raw)?;
    Matcher::new(match_type, name, value)
}

/// The value rules: an optional pair of double quotes, OpenMetrics escapes, and any other
/// backslash kept as written.
fn unescape(raw: &str) -> Result<String> {
    let unescaped_quote = || Error::UnescapedDoubleQuote {
        value: raw.to_owned(),
    };
    let (body, mut expect_trailing_quote) = match raw.strip_prefix('"') {
        Some(body) => (body, true),
        None => (raw, false),
    };
    let mut value = String::with_capacity(body.len());
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                _ => {
                    // A spurious escape: the backslash is literal.
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        let is_last = i + c.len_utf8() == body.len();
        match c {
            '\\' if !is_last => escaped = true,
            '"' => {
                if !expect_trailing_quote || !is_last {
                    return Err(unescaped_quote());
                }
                expect_trailing_quote = false;
            }
            _ => value.push(c),
        }
    }
    if expect_trailing_quote {
        return Err(unescaped_quote());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(input: &str) -> (String, MatchType, String) {
        let m = parse_matcher(input).expect("parses");
        (m.name().to_owned(), m.match_type(), m.value().to_owned())
    }

    #[test]
    fn leniencies() {
        assert_eq!(
            one("foo==bar"),
            ("foo".into(), MatchType::Equal, "=bar".into())
        );
        assert_eq!(
            one("tricky=~~~"),
            ("tricky".into(), MatchType::Regexp, "~~".into())
        );
        assert_eq!(one(r#"foo="a\qb""#).2, r"a\qb");
        assert_eq!(one(r"foo=bar\").2, r"bar\");
        assert_eq!(one("foo= bar baz ").2, "bar baz");
        assert_eq!(one("a:b=x").0, "a:b");
        assert_eq!(one("foo=").2, "");
        // \v is not Go's \s: it stays in the value.
        assert_eq!(one("foo=\x0Bx").2, "\x0Bx");
    }

    #[test]
    fn list_rules() {
        assert_eq!(parse_matchers("").expect("empty").len(), 0);
        assert_eq!(parse_matchers("{}").expect("braces").len(), 0);
        assert_eq!(
            parse_matchers("{foo=bar}}").expect("lenient")[0].value(),
            "bar}"
        );
        assert_eq!(
            parse_matchers(r#"{foo="bar,quux", job="job1"}"#)
                .expect("ok")
                .len(),
            2
        );
        assert_eq!(
            parse_matchers("foo=bar,,")
                .expect_err("empty token")
                .to_string(),
            "bad matcher format: "
        );
    }
}
