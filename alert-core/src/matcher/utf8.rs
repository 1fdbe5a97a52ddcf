//! The UTF-8 matcher grammar of Alertmanager 0.27 and later (`matcher/parse`).
//!
//! ```text
//! matchers = [ "{" ] [ matcher { "," matcher } [ "," ] ] [ "}" ]   (both braces or neither)
//! matcher  = ( unquoted | quoted ) op ( unquoted | quoted )
//! op       = "=" | "!=" | "=~" | "!~"
//! ```
//!
//! An unquoted run is any characters but white space and ``{ } ! = ~ , \ " ' ` ``; a quoted
//! string is unescaped with Go's `strconv.Unquote` rules and must be valid UTF-8.
//! Errors name the rune columns of the offending text (`0:8: end of input: expected close
//! brace`), with the same wording as Alertmanager.

use super::{MatchType, Matcher};
use crate::error::{Error, Result};

/// Builds [`Error::MatcherSyntax`] from a full message, splitting off its `start:end: `.
fn syntax_error(message: String) -> Error {
    let bytes = message.as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let a = digits(0);
    if a > 0 && bytes.get(a) == Some(&b':') {
        let b = digits(a + 1);
        let end = a + 1 + b;
        if b > 0 && bytes.get(end) == Some(&b':') && bytes.get(end + 1) == Some(&b' ') {
            return Error::MatcherSyntax {
                position: message[..end + 2].to_owned(),
                message: message[end + 2..].to_owned(),
            };
        }
    }
    Error::MatcherSyntax {
        position: String::new(),
        message,
    }
}

/// `matcher/parse.Matchers`.
pub(crate) fn parse_matchers(input: &str) -> Result<Vec<Matcher>> {
    Parser::new(input).parse().map_err(|e| match e {
        Fault::Eof => syntax_error("end of input".to_owned()),
        Fault::Message(m) => syntax_error(m),
        Fault::Matcher(e) => e,
    })
}

/// `matcher/parse.Matcher`: exactly one matcher.
pub(crate) fn parse_matcher(input: &str) -> Result<Matcher> {
    let mut matchers = parse_matchers(input)?;
    match matchers.len() {
        1 => matchers.pop().ok_or(Error::NoMatchers),
        0 => Err(Error::NoMatchers),
        found => Err(Error::ExpectedOneMatcher { found }),
    }
}

/// Go's `unicode.IsSpace` (the White_Space property).
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

fn is_reserved(c: char) -> bool {
    is_space(c)
        || matches!(
            c,
            '{' | '}' | '!' | '=' | '~' | ',' | '\\' | '"' | '\'' | '`'
        )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Eof,
    OpenBrace,
    CloseBrace,
    Comma,
    Equals,
    NotEquals,
    Matches,
    NotMatches,
    Quoted,
    Unquoted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Position {
    offset_start: usize,
    offset_end: usize,
    column_start: usize,
    column_end: usize,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    value: &'a str,
    pos: Position,
}

impl<'a> Token<'a> {
    fn eof() -> Token<'a> {
        Token {
            kind: Kind::Eof,
            value: "",
            pos: Position::default(),
        }
    }

    fn unquote(&self) -> std::result::Result<String, ()> {
        if self.kind == Kind::Quoted {
            let bytes = go_unquote(self.value)?;
            String::from_utf8(bytes).map_err(|_| ())
        } else {
            Ok(self.value.to_owned())
        }
    }

    fn invalid_input(&self) -> Fault {
        Fault::Message(format!(
            "{}:{}: {}: invalid input",
            self.pos.column_start, self.pos.column_end, self.value
        ))
    }
}

/// The lexer of `matcher/parse/lexer.go`.
struct Lexer<'a> {
    input: &'a str,
    err: Option<String>,
    start: usize,
    pos: usize,
    width: usize,
    column: usize,
    cols: usize,
}

impl<'a> Lexer<'a> {
    fn new(input: &'a str) -> Lexer<'a> {
        Lexer {
            input,
            err: None,
            start: 0,
            pos: 0,
            width: 0,
            column: 0,
            cols: 0,
        }
    }

    fn scan(&mut self) -> std::result::Result<Token<'a>, String> {
        if let Some(err) = &self.err {
            return Err(err.clone());
        }
        while let Some(r) = self.next() {
            let result = match r {
                '{' => Ok(self.emit(Kind::OpenBrace)),
                '}' => Ok(self.emit(Kind::CloseBrace)),
                ',' => Ok(self.emit(Kind::Comma)),
                '=' | '!' => {
                    self.rewind();
                    self.scan_operator()
                }
                '"' => {
                    self.rewind();
                    self.scan_quoted()
                }
                r if !is_reserved(r) => {
                    self.rewind();
                    Ok(self.scan_unquoted())
                }
                r if is_space(r) => {
                    self.skip();
                    continue;
                }
                _ => {
                    let p = self.position();
                    Err(format!(
                        "{}:{}: {}: invalid input",
                        p.column_start,
                        p.column_end,
                        &self.input[p.offset_start..p.offset_end]
                    ))
                }
            };
            if let Err(e) = &result {
                self.err = Some(e.clone());
            }
            return result;
        }
        Ok(Token::eof())
    }

    fn scan_operator(&mut self) -> std::result::Result<Token<'a>, String> {
        if self.accept("!") {
            if self.accept("=") {
                return Ok(self.emit(Kind::NotEquals));
            }
            if self.accept("~") {
                return Ok(self.emit(Kind::NotMatches));
            }
            return Err(self.expected_error("=~"));
        }
        if self.accept("=") {
            if self.accept("~") {
                return Ok(self.emit(Kind::Matches));
            }
            return Ok(self.emit(Kind::Equals));
        }
        Err(self.expected_error("!="))
    }

    fn scan_quoted(&mut self) -> std::result::Result<Token<'a>, String> {
        if !self.accept("\"") {
            return Err(self.expected_error("\""));
        }
        let mut escaped = false;
        while let Some(r) = self.next() {
            if escaped {
                escaped = false;
            } else if r == '\\' {
                escaped = true;
            } else if r == '"' {
                self.rewind();
                break;
            }
        }
        if !self.accept("\"") {
            let p = self.position();
            return Err(format!(
                "{}:{}: {}: missing end \"",
                p.column_start,
                p.column_end,
                &self.input[p.offset_start..p.offset_end]
            ));
        }
        Ok(self.emit(Kind::Quoted))
    }

    fn scan_unquoted(&mut self) -> Token<'a> {
        while let Some(r) = self.next() {
            if is_reserved(r) {
                self.rewind();
                break;
            }
        }
        self.emit(Kind::Unquoted)
    }

    fn expected_error(&self, expected: &str) -> String {
        let p = self.position();
        if p.offset_end >= self.input.len() {
            format!(
                "{}:{}: unexpected end of input, expected one of '{expected}'",
                p.column_start, p.column_end
            )
        } else {
            format!(
                "{}:{}: {}: expected one of '{expected}'",
                p.column_start,
                p.column_end,
                &self.input[p.offset_start..p.offset_end]
            )
        }
    }

    fn peek(&mut self) -> std::result::Result<Token<'a>, String> {
        let saved = (self.start, self.pos, self.width, self.column, self.cols);
        let result = self.scan();
        (self.start, self.pos, self.width, self.column, self.cols) = saved;
        result
    }

    fn position(&self) -> Position {
        Position {
            offset_start: self.start,
            offset_end: self.pos,
            column_start: self.column,
            column_end: self.cols,
        }
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.rewind();
                false
            }
        }
    }

    fn emit(&mut self, kind: Kind) -> Token<'a> {
        let token = Token {
            kind,
            value: &self.input[self.start..self.pos],
            pos: self.position(),
        };
        self.start = self.pos;
        self.column = self.cols;
        token
    }

    fn next(&mut self) -> Option<char> {
        match self.input[self.pos..].chars().next() {
            Some(c) => {
                self.width = c.len_utf8();
                self.pos += self.width;
                self.cols += 1;
                Some(c)
            }
            None => {
                self.width = 0;
                None
            }
        }
    }

    fn rewind(&mut self) {
        self.pos -= self.width;
        if self.width > 0 {
            self.cols -= 1;
        }
    }

    fn skip(&mut self) {
        self.start = self.pos;
        self.column = self.cols;
    }
}

/// What went wrong while parsing: the end of input (Go's `errEOF`, which some states
/// accept), any other message, or a matcher that could not be built.
enum Fault {
    Eof,
    Message(String),
    Matcher(Error),
}

impl Fault {
    /// Go's `fmt.Errorf("%w: %w", err, expected)`.
    fn expected(self, expected: &str) -> Fault {
        match self {
            Fault::Eof => Fault::Message(format!("end of input: {expected}")),
            Fault::Message(m) => Fault::Message(format!("{m}: {expected}")),
            Fault::Matcher(e) => Fault::Matcher(e),
        }
    }
}

type Step<T> = std::result::Result<T, Fault>;

#[derive(Debug, Clone, Copy)]
enum State {
    OpenBrace,
    CloseBrace,
    Matcher,
    EndOfMatcher,
    Comma,
    Eof,
}

/// The state machine of `matcher/parse/parse.go`.
struct Parser<'a> {
    lexer: Lexer<'a>,
    has_open_brace: bool,
    matchers: Vec<Matcher>,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Parser<'a> {
        Parser {
            lexer: Lexer::new(input),
            has_open_brace: false,
            matchers: Vec::new(),
        }
    }

    fn parse(mut self) -> Step<Vec<Matcher>> {
        let mut state = State::OpenBrace;
        loop {
            state = match state {
                State::OpenBrace => self.open_brace()?,
                State::CloseBrace => self.close_brace()?,
                State::Matcher => self.matcher()?,
                State::EndOfMatcher => self.end_of_matcher()?,
                State::Comma => self.comma()?,
                State::Eof => {
                    self.eof()?;
                    return Ok(self.matchers);
                }
            };
        }
    }

    fn open_brace(&mut self) -> Step<State> {
        match self.accept(&[Kind::OpenBrace]) {
            Err(Fault::Eof) => return Ok(State::Eof),
            Err(e) => return Err(e),
            Ok(open) => self.has_open_brace = open,
        }
        match self.accept_peek(&[Kind::CloseBrace]) {
            Err(Fault::Eof) | Ok(true) => Ok(State::CloseBrace),
            Err(e) => Err(e),
            Ok(false) => Ok(State::Matcher),
        }
    }

    fn close_brace(&mut self) -> Step<State> {
        if self.has_open_brace {
            if let Err(e) = self.expect(&[Kind::CloseBrace]) {
                let column = self.lexer.position().column_end;
                let inner = match e {
                    Fault::Eof => "end of input".to_owned(),
                    Fault::Message(m) => m,
                    Fault::Matcher(e) => return Err(Fault::Matcher(e)),
                };
                return Err(Fault::Message(format!(
                    "0:{column}: {inner}: expected close brace"
                )));
            }
        } else if self.expect(&[Kind::CloseBrace]).is_ok() {
            let column = self.lexer.position().column_end;
            return Err(Fault::Message(format!(
                "0:{column}: }}: expected opening brace"
            )));
        }
        Ok(State::Eof)
    }

    fn matcher(&mut self) -> Step<State> {
        let t = self
            .expect(&[Kind::Quoted, Kind::Unquoted])
            .map_err(|e| e.expected("expected label name"))?;
        let name = t.unquote().map_err(|()| t.invalid_input())?;
        let t = self
            .expect(&[
                Kind::Equals,
                Kind::NotEquals,
                Kind::Matches,
                Kind::NotMatches,
            ])
            .map_err(|e| e.expected("expected an operator such as '=', '!=', '=~' or '!~'"))?;
        let match_type = match t.kind {
            Kind::NotEquals => MatchType::NotEqual,
            Kind::Matches => MatchType::Regexp,
            Kind::NotMatches => MatchType::NotRegexp,
            _ => MatchType::Equal,
        };
        let t = self
            .expect(&[Kind::Unquoted, Kind::Quoted])
            .map_err(|e| e.expected("expected label value"))?;
        let value = t.unquote().map_err(|()| t.invalid_input())?;
        let matcher = Matcher::new(match_type, name, value)
            .map_err(|e| Fault::Matcher(syntax_error(format!("failed to create matcher: {e}"))))?;
        self.matchers.push(matcher);
        Ok(State::EndOfMatcher)
    }

    fn end_of_matcher(&mut self) -> Step<State> {
        match self.expect_peek(&[Kind::Comma, Kind::CloseBrace]) {
            Err(Fault::Eof) => Ok(State::CloseBrace),
            Err(e) => Err(e.expected("expected a comma or close brace")),
            Ok(t) if t.kind == Kind::Comma => Ok(State::Comma),
            Ok(_) => Ok(State::CloseBrace),
        }
    }

    fn comma(&mut self) -> Step<State> {
        self.expect(&[Kind::Comma])
            .map_err(|e| e.expected("expected a comma"))?;
        match self.expect_peek(&[Kind::CloseBrace, Kind::Unquoted, Kind::Quoted]) {
            Err(Fault::Eof) => Ok(State::CloseBrace),
            Err(e) => Err(e.expected("expected a matcher or close brace after comma")),
            Ok(t) if t.kind == Kind::CloseBrace => Ok(State::CloseBrace),
            Ok(_) => Ok(State::Matcher),
        }
    }

    fn eof(&mut self) -> Step<()> {
        let t = self
            .lexer
            .scan()
            .map_err(|m| Fault::Message(format!("{m}: expected end of input")))?;
        if t.kind != Kind::Eof {
            return Err(Fault::Message(format!(
                "{}:{}: {}: expected end of input",
                t.pos.column_start, t.pos.column_end, t.value
            )));
        }
        Ok(())
    }

    fn accept(&mut self, kinds: &[Kind]) -> Step<bool> {
        let ok = self.accept_peek(kinds)?;
        if ok {
            self.lexer.scan().map_err(Fault::Message)?;
        }
        Ok(ok)
    }

    fn accept_peek(&mut self, kinds: &[Kind]) -> Step<bool> {
        let t = self.lexer.peek().map_err(Fault::Message)?;
        if t.kind == Kind::Eof {
            return Err(Fault::Eof);
        }
        Ok(kinds.contains(&t.kind))
    }

    fn expect(&mut self, kinds: &[Kind]) -> Step<Token<'a>> {
        let t = self.expect_peek(kinds)?;
        self.lexer.scan().map_err(Fault::Message)?;
        Ok(t)
    }

    fn expect_peek(&mut self, kinds: &[Kind]) -> Step<Token<'a>> {
        let t = self.lexer.peek().map_err(Fault::Message)?;
        if t.kind == Kind::Eof {
            return Err(Fault::Eof);
        }
        if !kinds.contains(&t.kind) {
            return Err(Fault::Message(format!(
                "{}:{}: unexpected {}",
                t.pos.column_start, t.pos.column_end, t.value
            )));
        }
        Ok(t)
    }
}

/// Go's `strconv.Unquote` for a double-quoted string; the bytes may be invalid UTF-8
/// (`\xff`), which the caller rejects.
fn go_unquote(s: &str) -> std::result::Result<Vec<u8>, ()> {
    let mut rest = s.as_bytes().strip_prefix(b"\"").ok_or(())?;
    let mut out = Vec::with_capacity(rest.len());
    loop {
        match rest.first() {
            None | Some(b'\n') => return Err(()),
            Some(b'"') => {
                rest = &rest[1..];
                break;
            }
            Some(_) => rest = unquote_char(rest, &mut out)?,
        }
    }
    if rest.is_empty() { Ok(out) } else { Err(()) }
}

/// Go's `strconv.UnquoteChar` with `quote == '"'`, appending to `out`.
fn unquote_char<'b>(s: &'b [u8], out: &mut Vec<u8>) -> std::result::Result<&'b [u8], ()> {
    let c = *s.first().ok_or(())?;
    if c != b'\\' {
        // A whole character: `s` comes from a `str` and is cut at character boundaries.
        let len = match c {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            _ => 4,
        };
        let len = len.min(s.len());
        out.extend_from_slice(&s[..len]);
        return Ok(&s[len..]);
    }
    let c = *s.get(1).ok_or(())?;
    let s = &s[2..];
    let simple = match c {
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(11),
        b'\\' => Some(b'\\'),
        b'"' => Some(b'"'),
        _ => None,
    };
    if let Some(b) = simple {
        out.push(b);
        return Ok(s);
    }
    match c {
        b'x' | b'u' | b'U' => {
            let n = match c {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let digits = s.get(..n).ok_or(())?;
            let mut v: u32 = 0;
            for d in digits {
                v = v << 4 | char::from(*d).to_digit(16).ok_or(())?;
            }
            if c == b'x' {
                // A single byte, possibly not UTF-8.
                out.push(v as u8);
            } else {
                let ch = char::from_u32(v).ok_or(())?;
                let mut buf = [0; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            Ok(&s[n..])
        }
        b'0'..=b'7' => {
            let digits = s.get(..2).ok_or(())?;
            let mut v = u32::from(c - b'0');
            for d in digits {
                if !(b'0'..=b'7').contains(d) {
                    return Err(());
                }
                v = (v << 3) | u32::from(d - b'0');
            }
            let byte = u8::try_from(v).map_err(|_| ())?;
            out.push(byte);
            Ok(&s[2..])
        }
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex_all(input: &str) -> std::result::Result<Vec<(Kind, String, usize, usize)>, String> {
        let mut lexer = Lexer::new(input);
        let mut out = Vec::new();
        loop {
            let t = lexer.scan()?;
            if t.kind == Kind::Eof {
                return Ok(out);
            }
            out.push((
                t.kind,
                t.value.to_owned(),
                t.pos.column_start,
                t.pos.column_end,
            ));
        }
    }

    #[test]
    fn lexer_table() {
        // From matcher/parse/lexer_test.go.
        assert_eq!(
            lex_all("hello🙂Σ world").expect("lexes"),
            vec![
                (Kind::Unquoted, "hello🙂Σ".to_owned(), 0, 7),
                (Kind::Unquoted, "world".to_owned(), 8, 13)
            ]
        );
        assert_eq!(
            lex_all("!").expect_err("bad"),
            "0:1: unexpected end of input, expected one of '=~'"
        );
        assert_eq!(lex_all("~").expect_err("bad"), "0:1: ~: invalid input");
        assert_eq!(
            lex_all("=!").expect_err("bad"),
            "1:2: unexpected end of input, expected one of '=~'"
        );
        assert_eq!(
            lex_all("!=!!").expect_err("bad"),
            "2:3: !: expected one of '=~'"
        );
        assert_eq!(
            lex_all("hello\\n").expect_err("bad"),
            "5:6: \\: invalid input"
        );
        assert_eq!(
            lex_all("\"hello").expect_err("bad"),
            "0:6: \"hello: missing end \""
        );
        assert_eq!(
            lex_all("\"hello\\\"").expect_err("bad"),
            "0:8: \"hello\\\": missing end \""
        );
        assert_eq!(
            lex_all("\"hello\u{202f}world\"").expect("lexes"),
            vec![(Kind::Quoted, "\"hello\u{202f}world\"".to_owned(), 0, 13)]
        );
    }

    #[test]
    fn unquote_is_go_strconv() {
        let ok = |s: &str| String::from_utf8(go_unquote(s).expect("unquotes")).expect("utf-8");
        assert_eq!(ok(r#""a\tb""#), "a\tb");
        assert_eq!(ok(r#""\xf0\x9f\x99\x82""#), "🙂");
        assert_eq!(ok(r#""\U0001f642""#), "🙂");
        assert_eq!(ok(r#""\u00e9\101""#), "éA");
        assert_eq!(ok("\"tab\there\""), "tab\there");
        for bad in [
            r#""\d""#,
            r#""\'""#,
            "\"a\nb\"",
            r#""\400""#,
            r#""\ud800""#,
            r#""a"b""#,
        ] {
            assert!(go_unquote(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(String::from_utf8(go_unquote(r#""\xf0\x9f""#).expect("bytes")).is_err());
    }
}
