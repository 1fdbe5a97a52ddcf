//! Label matchers, exactly as Alertmanager reads and applies them.
//!
//! A [`Matcher`] tests one label: `=`, `!=`, `=~`, `!~`. Regular expressions are fully
//! anchored (`^(?:value)$`) and have Go's RE2 meaning (ASCII `\d \w \s \b`, Go's error
//! texts, Go's limits); a missing label matches as the empty string. [`Matchers`] is the
//! AND of a list.
//!
//! Two grammars read matchers from text ([`ParserMode`]): the *classic* one of
//! Alertmanager 0.25 (`pkg/labels/parse.go`), lenient and still the default of library
//! users, and the *UTF-8* one of Alertmanager 0.27+ (`matcher/parse`), strict, with
//! quoted label names. *Fallback* tries both, as Alertmanager's default mode does.
//!
//! ```
//! use alert_core::{LabelSet, ParserMode, parse_matchers};
//!
//! let matchers = parse_matchers(r#"{severity=~"critical|page", env!="dev"}"#, ParserMode::Classic)?;
//! assert_eq!(matchers.to_string(), r#"{severity=~"critical|page",env!="dev"}"#);
//!
//! let alert = LabelSet::from_pairs([("severity", "page"), ("alertname", "DiskFull")])?;
//! assert!(matchers.matches(&alert)); // `env` is missing, so it is "" and not "dev"
//! # Ok::<(), alert_core::Error>(())
//! ```

mod classic;
mod pattern;
mod re2;
mod utf8;

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::labels::LabelSet;
use pattern::Pattern;

/// How a matcher compares a label value.
///
/// Ordered as Alertmanager numbers them (`=` 0, `!=` 1, `=~` 2, `!~` 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchType {
    /// `=`: the value equals.
    Equal,
    /// `!=`: the value differs.
    NotEqual,
    /// `=~`: the anchored regular expression matches.
    Regexp,
    /// `!~`: the anchored regular expression does not match.
    NotRegexp,
}

impl MatchType {
    /// The operator as written: `=`, `!=`, `=~` or `!~`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regexp => "=~",
            MatchType::NotRegexp => "!~",
        }
    }

    /// Whether the value is a regular expression (`=~`, `!~`).
    pub fn is_regex(self) -> bool {
        matches!(self, MatchType::Regexp | MatchType::NotRegexp)
    }

    /// Whether the matcher selects matching values (`=`, `=~`) rather than excluding them.
    pub fn is_positive(self) -> bool {
        matches!(self, MatchType::Equal | MatchType::Regexp)
    }
}

impl fmt::Display for MatchType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The comparison a matcher makes, with its compiled pattern.
#[derive(Debug, Clone)]
enum Test {
    Equal,
    NotEqual,
    Regexp(Arc<Pattern>),
    NotRegexp(Arc<Pattern>),
}

/// One label matcher: a label name, a [`MatchType`] and a value.
///
/// Equality and hashing look at name, type and value; ordering is Alertmanager's (name,
/// then value, then type). `Display` is Alertmanager 0.25's `String()`: the name, the
/// operator and the value in double quotes with `\`, newline and `"` escaped.
///
/// ```
/// use alert_core::{MatchType, Matcher};
///
/// let m = Matcher::new(MatchType::Regexp, "instance", r"host-\d+")?;
/// assert!(m.matches("host-42"));
/// assert!(!m.matches("host-42.example.com")); // anchored
/// assert!(!m.matches("host-٤٢")); // \d is ASCII, as in Go
/// assert_eq!(m.to_string(), r#"instance=~"host-\\d+""#);
///
/// let err = Matcher::new(MatchType::Regexp, "job", "(unclosed").unwrap_err();
/// assert_eq!(err.to_string(), "error parsing regexp: missing closing ): `^(?:(unclosed)$`");
/// # Ok::<(), alert_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Matcher {
    name: String,
    value: String,
    test: Test,
}

impl Matcher {
    /// Builds a matcher as Alertmanager's `NewMatcher` does. Regex types compile
    /// `^(?:value)$` with Go's RE2 meaning; a pattern Go rejects is
    /// [`Error::InvalidRegex`] with Go's message.
    ///
    /// The name is not validated: which names are valid depends on the grammar (see
    /// [`crate::is_valid_label_name`] for Alertmanager 0.25's rule).
    pub fn new(
        match_type: MatchType,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Matcher> {
        let name = name.into();
        let value = value.into();
        let compile = |value: &str| {
            Pattern::anchored(value)
                .map(Arc::new)
                .map_err(|e| Error::InvalidRegex {
                    pattern: value.to_owned(),
                    reason: e.to_string(),
                })
        };
        let test = match match_type {
            MatchType::Equal => Test::Equal,
            MatchType::NotEqual => Test::NotEqual,
            MatchType::Regexp => Test::Regexp(compile(&value)?),
            MatchType::NotRegexp => Test::NotRegexp(compile(&value)?),
        };
        Ok(Matcher { name, value, test })
    }

    /// The label name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value as written (for regex types, the pattern before anchoring).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The comparison.
    pub fn match_type(&self) -> MatchType {
        match self.test {
            Test::Equal => MatchType::Equal,
            Test::NotEqual => MatchType::NotEqual,
            Test::Regexp(_) => MatchType::Regexp,
            Test::NotRegexp(_) => MatchType::NotRegexp,
        }
    }

    /// Whether one label value matches. Allocation-free.
    #[inline]
    pub fn matches(&self, value: &str) -> bool {
        match &self.test {
            Test::Equal => pattern::same_text(value, &self.value),
            Test::NotEqual => !pattern::same_text(value, &self.value),
            Test::Regexp(p) => p.is_match(value),
            Test::NotRegexp(p) => !p.is_match(value),
        }
    }

    /// Whether a label set matches, a missing label counting as `""`.
    #[inline]
    pub fn matches_labels(&self, labels: &LabelSet) -> bool {
        self.matches(labels.get_or_empty(&self.name))
    }

    /// Alertmanager 0.25's `matchesEmpty` for silence validation: `=` with `""`, or `=~`
    /// whose pattern matches the empty string; `!=` and `!~` never count.
    ///
    /// Like Alertmanager, the regex is compiled **unanchored** here (Go's
    /// `regexp.MatchString(pattern, "")`). For every ordinary pattern that is the same as
    /// the anchored test; for a pattern that only compiles anchored (`a)|(b`), it is
    /// `false`, as in Go, and silence validation rejects such a pattern anyway.
    pub fn matches_empty(&self) -> bool {
        go_matches_empty(self.match_type(), &self.value)
    }

    /// Checks that Go compiles the pattern unanchored, as Alertmanager's silence
    /// validation does (`regexp.Compile(pattern)`); always `Ok` for `=` and `!=`.
    pub fn check_unanchored_regex(&self) -> Result<()> {
        if self.match_type().is_regex() {
            check_regex_unanchored(&self.value)
        } else {
            Ok(())
        }
    }
}

/// Alertmanager 0.25's `matchesEmpty` on a matcher's type and value (see
/// [`Matcher::matches_empty`]).
pub(crate) fn go_matches_empty(match_type: MatchType, value: &str) -> bool {
    match match_type {
        MatchType::Equal => value.is_empty(),
        MatchType::Regexp => pattern::unanchored_matches_empty(value).unwrap_or(false),
        MatchType::NotEqual | MatchType::NotRegexp => false,
    }
}

/// Go's `regexp.Compile(pattern)`, unanchored: `Ok`, or [`Error::InvalidRegex`] with
/// Go's message.
pub(crate) fn check_regex_unanchored(pattern: &str) -> Result<()> {
    pattern::check_unanchored(pattern).map_err(|e| Error::InvalidRegex {
        pattern: pattern.to_owned(),
        reason: e.to_string(),
    })
}

/// Writes `s` with OpenMetrics escaping: `\` → `\\`, newline → `\n`, `"` → `\"`.
fn write_escaped(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '\\' => "\\\\",
            '\n' => "\\n",
            '"' => "\\\"",
            _ => continue,
        };
        f.write_str(&s[start..i])?;
        f.write_str(escape)?;
        start = i + 1;
    }
    f.write_str(&s[start..])
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        f.write_str(self.match_type().as_str())?;
        f.write_str("\"")?;
        write_escaped(f, &self.value)?;
        f.write_str("\"")
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.match_type() == other.match_type()
            && self.value == other.value
    }
}

impl Eq for Matcher {}

impl Hash for Matcher {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.match_type().hash(state);
        self.value.hash(state);
    }
}

impl PartialOrd for Matcher {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Matcher {
    /// Alertmanager's `Matchers.Less`: name, then value, then type.
    fn cmp(&self, other: &Self) -> Ordering {
        self.name
            .cmp(&other.name)
            .then_with(|| self.value.cmp(&other.value))
            .then_with(|| self.match_type().cmp(&other.match_type()))
    }
}

impl FromStr for Matcher {
    type Err = Error;

    /// Reads one matcher with the classic grammar (Alertmanager 0.25's `ParseMatcher`).
    fn from_str(s: &str) -> Result<Matcher> {
        parse_matcher(s, ParserMode::Classic)
    }
}

impl Serialize for Matcher {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Matcher {
    /// Reads a string with the classic grammar as Alertmanager 0.25 reads a config
    /// `matchers` entry (braces allowed); it must hold exactly one matcher.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        let mut parsed = classic::parse_matchers(&s).map_err(serde::de::Error::custom)?;
        match parsed.len() {
            1 => parsed
                .pop()
                .ok_or_else(|| serde::de::Error::custom(Error::NoMatchers)),
            0 => Err(serde::de::Error::custom(Error::NoMatchers)),
            found => Err(serde::de::Error::custom(Error::ExpectedOneMatcher {
                found,
            })),
        }
    }
}

/// A list of matchers, all of which must match. The empty list matches everything.
///
/// `Display` is Alertmanager's `Matchers.String()`: `{a="b",c=~"d"}`. Serde reads and
/// writes the config form: a list of strings, each read with the classic grammar (one
/// string may hold several matchers), sorted as Alertmanager 0.25's
/// `config.Matchers.UnmarshalYAML` sorts them; written one matcher per string.
///
/// ```
/// use alert_core::{LabelSet, Matchers, ParserMode, parse_matchers};
///
/// let ms: Matchers = parse_matchers("team=db,severity!~info|debug", ParserMode::Classic)?;
/// assert_eq!(ms.len(), 2);
/// let labels = LabelSet::from_pairs([("team", "db"), ("severity", "critical")])?;
/// assert!(ms.matches(&labels));
/// assert!(Matchers::default().matches(&LabelSet::new()));
/// # Ok::<(), alert_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Matchers(Vec<Matcher>);

impl Matchers {
    /// Wraps a list (kept in the given order).
    pub fn new(matchers: Vec<Matcher>) -> Matchers {
        Matchers(matchers)
    }

    /// Whether every matcher matches `labels` (missing labels count as `""`).
    #[inline]
    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.0.iter().all(|m| m.matches_labels(labels))
    }

    /// The matchers in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Matcher> {
        self.0.iter()
    }

    /// The matchers as a slice.
    pub fn as_slice(&self) -> &[Matcher] {
        &self.0
    }

    /// The number of matchers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (then everything matches).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorts in Alertmanager's order: name, value, type.
    pub fn sort(&mut self) {
        self.0.sort();
    }

    /// Appends a matcher.
    pub fn push(&mut self, matcher: Matcher) {
        self.0.push(matcher);
    }

    /// The matchers as a vector.
    pub fn into_vec(self) -> Vec<Matcher> {
        self.0
    }
}

impl fmt::Display for Matchers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            fmt::Display::fmt(m, f)?;
        }
        f.write_str("}")
    }
}

impl From<Vec<Matcher>> for Matchers {
    fn from(v: Vec<Matcher>) -> Matchers {
        Matchers(v)
    }
}

impl FromIterator<Matcher> for Matchers {
    fn from_iter<I: IntoIterator<Item = Matcher>>(iter: I) -> Matchers {
        Matchers(iter.into_iter().collect())
    }
}

impl IntoIterator for Matchers {
    type Item = Matcher;
    type IntoIter = std::vec::IntoIter<Matcher>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Matchers {
    type Item = &'a Matcher;
    type IntoIter = std::slice::Iter<'a, Matcher>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for Matchers {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for m in &self.0 {
            seq.serialize_element(m)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Matchers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct LinesVisitor;

        impl<'de> Visitor<'de> for LinesVisitor {
            type Value = Matchers;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of matcher strings")
            }

            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Matchers, A::Error> {
                let mut all = Vec::new();
                while let Some(line) = seq.next_element::<String>()? {
                    all.extend(classic::parse_matchers(&line).map_err(serde::de::Error::custom)?);
                }
                let mut matchers = Matchers(all);
                matchers.sort();
                Ok(matchers)
            }
        }

        deserializer.deserialize_seq(LinesVisitor)
    }
}

/// Which grammar reads matcher text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ParserMode {
    /// Alertmanager 0.25's `pkg/labels` parser (the only one of 0.25; "classic mode"
    /// later). The default, as for library users of every Alertmanager version.
    #[default]
    Classic,
    /// The UTF-8 parser of Alertmanager 0.27+ (`utf8-strict-mode`).
    Utf8,
    /// Alertmanager 0.27+'s default: the UTF-8 parser, falling back to the classic one.
    /// When both accept the input the classic result is used (Alertmanager logs a
    /// disagreement if they differ); when both reject it, the classic error is returned.
    Fallback,
}

impl ParserMode {
    /// The mode's name: `classic`, `utf8` or `fallback`.
    pub fn as_str(self) -> &'static str {
        match self {
            ParserMode::Classic => "classic",
            ParserMode::Utf8 => "utf8",
            ParserMode::Fallback => "fallback",
        }
    }
}

impl fmt::Display for ParserMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ParserMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<ParserMode> {
        match s {
            "classic" => Ok(ParserMode::Classic),
            "utf8" => Ok(ParserMode::Utf8),
            "fallback" => Ok(ParserMode::Fallback),
            _ => Err(Error::InvalidField {
                field: "parser mode".to_owned(),
                value: s.to_owned(),
                expected: "one of classic, utf8, fallback".to_owned(),
            }),
        }
    }
}

/// Reads a list of matchers (Alertmanager's `ParseMatchers` / `compat.Matchers`).
///
/// ```
/// use alert_core::{ParserMode, parse_matchers};
///
/// // The classic grammar is lenient; the UTF-8 one is not.
/// assert_eq!(parse_matchers("foo==bar", ParserMode::Classic)?.to_string(), r#"{foo="=bar"}"#);
/// let err = parse_matchers("{foo=bar", ParserMode::Utf8).unwrap_err();
/// assert_eq!(err.to_string(), "0:8: end of input: expected close brace");
/// // The UTF-8 grammar reads names the classic one cannot.
/// assert_eq!(parse_matchers(r#"{"service name"="db"}"#, ParserMode::Fallback)?.len(), 1);
/// # Ok::<(), alert_core::Error>(())
/// ```
pub fn parse_matchers(input: &str, mode: ParserMode) -> Result<Matchers> {
    let parsed = match mode {
        ParserMode::Classic => classic::parse_matchers(input),
        ParserMode::Utf8 => utf8::parse_matchers(input),
        ParserMode::Fallback => match classic::parse_matchers(input) {
            Ok(classic) => Ok(classic),
            Err(classic_err) => utf8::parse_matchers(input).map_err(|_| classic_err),
        },
    };
    parsed.map(Matchers)
}

/// Reads exactly one matcher (Alertmanager's `ParseMatcher` / `compat.Matcher`).
///
/// Classic mode is 0.25's `labels.ParseMatcher`: no braces, no list (`a=b,c=d` is the
/// value `b,c=d`). The UTF-8 and fallback modes reject input that starts with `{` or ends
/// with `}` (`unexpected open or close brace: …`), as `compat.Matcher` does.
///
/// ```
/// use alert_core::{ParserMode, parse_matcher};
///
/// assert_eq!(parse_matcher("a=b,c=d", ParserMode::Classic)?.value(), "b,c=d");
/// assert_eq!(
///     parse_matcher("a=b,c=d", ParserMode::Utf8).unwrap_err().to_string(),
///     "expected 1 matcher, found 2"
/// );
/// # Ok::<(), alert_core::Error>(())
/// ```
pub fn parse_matcher(input: &str, mode: ParserMode) -> Result<Matcher> {
    let braces = || {
        (input.starts_with('{') || input.ends_with('}')).then(|| Error::MatcherSyntax {
            position: String::new(),
            message: format!("unexpected open or close brace: {input}"),
        })
    };
    match mode {
        ParserMode::Classic => classic::parse_matcher(input),
        ParserMode::Utf8 => match braces() {
            Some(e) => Err(e),
            None => utf8::parse_matcher(input),
        },
        ParserMode::Fallback => match braces() {
            Some(e) => Err(e),
            None => match classic::parse_matcher(input) {
                Ok(classic) => Ok(classic),
                Err(classic_err) => utf8::parse_matcher(input).map_err(|_| classic_err),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_escapes_like_open_metrics() {
        let m = Matcher::new(MatchType::Equal, "a", "x\\y\n\"z\"\t").expect("valid");
        assert_eq!(m.to_string(), "a=\"x\\\\y\\n\\\"z\\\"\t\"");
    }

    #[test]
    fn order_is_name_value_type() {
        let a = Matcher::new(MatchType::NotEqual, "a", "1").expect("valid");
        let b = Matcher::new(MatchType::Equal, "a", "2").expect("valid");
        let c = Matcher::new(MatchType::Equal, "a", "1").expect("valid");
        let mut ms = Matchers::new(vec![b.clone(), a.clone(), c.clone()]);
        ms.sort();
        assert_eq!(ms.into_vec(), vec![c, a, b]);
    }

    #[test]
    fn missing_label_is_empty() {
        let labels = LabelSet::from_pairs([("a", "1")]).expect("labels");
        let ne = Matcher::new(MatchType::NotEqual, "env", "prod").expect("valid");
        let any = Matcher::new(MatchType::Regexp, "env", ".*").expect("valid");
        let none = Matcher::new(MatchType::NotRegexp, "env", ".*").expect("valid");
        assert!(ne.matches_labels(&labels));
        assert!(any.matches_labels(&labels));
        assert!(!none.matches_labels(&labels));
    }

    #[test]
    fn matches_empty_is_unanchored_like_go() {
        let m = |t, v| Matcher::new(t, "a", v).expect("valid");
        assert!(m(MatchType::Equal, "").matches_empty());
        assert!(!m(MatchType::NotEqual, "").matches_empty());
        assert!(m(MatchType::Regexp, "a*").matches_empty());
        assert!(!m(MatchType::Regexp, "a+").matches_empty());
        assert!(!m(MatchType::NotRegexp, "a+").matches_empty());
        // Compiles anchored only; unanchored Go rejects it, so it does not count.
        let odd = m(MatchType::Regexp, "x)|(");
        assert!(odd.matches(""));
        assert!(!odd.matches_empty());
        assert!(odd.check_unanchored_regex().is_err());
    }

    #[test]
    fn serde_is_the_config_form() {
        let ms: Matchers =
            serde_json::from_str(r#"["b=1,a=~\"x|y\"", "{c!=\"\"}"]"#).expect("parses");
        assert_eq!(ms.to_string(), r#"{a=~"x|y",b="1",c!=""}"#);
        assert_eq!(
            serde_json::to_string(&ms).expect("serialises"),
            r#"["a=~\"x|y\"","b=\"1\"","c!=\"\""]"#
        );
        let one: Matcher = serde_json::from_str(r#""{job=\"x\"}""#).expect("parses");
        assert_eq!(one.to_string(), r#"job="x""#);
        assert!(serde_json::from_str::<Matcher>(r#""a=1,b=2""#).is_err());
    }
}
