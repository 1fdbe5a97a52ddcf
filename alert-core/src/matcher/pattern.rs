//! A matcher's regular expression, compiled as Alertmanager compiles it
//! (`^(?:value)$`, Go RE2 meaning), with string-operation fast paths.
//!
//! Most routing and silence regexes are small: alternations of literals
//! (`critical|page`), prefixes (`db-.*`), suffixes (`.*Down`), case-insensitive words
//! (`(?i)watchdog|deadmansswitch`), `.+`. Those are recognised on the parse tree and
//! answered with comparisons; everything else, and every input a fast path cannot decide
//! exactly, goes to the compiled regex. Unit tests below check by property that the fast
//! path and the regex agree.

use super::re2::{self, Assertion, Node, NodeKind, RepeatOp, SyntaxError};

/// The most alternatives a pattern may expand to before it is left to the regex.
const MAX_ALTERNATIVES: usize = 32;
/// The most characters of a class that are expanded into alternatives.
const MAX_CLASS_CHARS: u32 = 16;
/// The most alternatives with a gap (`.*`, `.+`) a fast path tests one by one; beyond
/// that (`[A-M].*` is thirteen) the regex engine is faster.
const MAX_GAPPED_ALTERNATIVES: usize = 3;

/// A compiled anchored pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    regex: regex::Regex,
    fast: Option<FastPath>,
}

impl Pattern {
    /// Compiles `value` exactly as Alertmanager's `NewMatcher` does: `^(?:value)$`.
    pub(crate) fn anchored(value: &str) -> Result<Pattern, SyntaxError> {
        let anchored = format!("^(?:{value})$");
        let node = re2::parse(&anchored)?;
        let regex = re2::compile(&node, &anchored)?;
        let fast = FastPath::of_anchored(&node);
        Ok(Pattern { regex, fast })
    }

    /// Whether `value` matches the whole pattern.
    #[inline]
    pub(crate) fn is_match(&self, value: &str) -> bool {
        if let Some(answer) = self.fast.as_ref().and_then(|fast| fast.matches(value)) {
            return answer;
        }
        self.regex.is_match(value)
    }

    /// The regex alone, without fast paths (for tests).
    #[cfg(test)]
    fn regex_is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

/// Whether `pattern`, compiled unanchored as Go's `regexp.MatchString(pattern, "")` does,
/// matches the empty string. `Err` when Go cannot compile it unanchored.
pub(crate) fn unanchored_matches_empty(pattern: &str) -> Result<bool, SyntaxError> {
    let node = re2::parse(pattern)?;
    Ok(re2::compile(&node, pattern)?.is_match(""))
}

/// Checks that Go compiles `pattern` unanchored (as Alertmanager's silence validation does).
pub(crate) fn check_unanchored(pattern: &str) -> Result<(), SyntaxError> {
    re2::parse(pattern).map(|_| ())
}

/// Byte equality. Label values are short, and a call to the C library's `memcmp` costs
/// 20 to 150 ns on the reference machine: up to 32 bytes, two or four (overlapping) word
/// compares whose results are combined without early exits, so where two strings first
/// differ does not steer a branch.
#[inline]
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w4 = |s: &[u8], at: usize| {
        s.get(at..at + 4)
            .and_then(|w| w.first_chunk::<4>())
            .map_or(0, |w| u64::from(u32::from_le_bytes(*w)))
    };
    let w8 = |s: &[u8], at: usize| {
        s.get(at..at + 8)
            .and_then(|w| w.first_chunk::<8>())
            .map_or(0, |w| u64::from_le_bytes(*w))
    };
    let byte = |s: &[u8], at: usize| s.get(at).copied().map_or(0, u64::from);
    match n {
        0 => true,
        1..=3 => {
            let diff = (byte(a, 0) ^ byte(b, 0))
                | (byte(a, n / 2) ^ byte(b, n / 2))
                | (byte(a, n - 1) ^ byte(b, n - 1));
            diff == 0
        }
        4..=7 => ((w4(a, 0) ^ w4(b, 0)) | (w4(a, n - 4) ^ w4(b, n - 4))) == 0,
        8..=16 => ((w8(a, 0) ^ w8(b, 0)) | (w8(a, n - 8) ^ w8(b, n - 8))) == 0,
        17..=32 => {
            let diff = (w8(a, 0) ^ w8(b, 0))
                | (w8(a, 8) ^ w8(b, 8))
                | (w8(a, n - 16) ^ w8(b, n - 16))
                | (w8(a, n - 8) ^ w8(b, n - 8));
            diff == 0
        }
        // Long values: a call is worth it.
        _ => a == b,
    }
}

/// Whether `s` holds a newline byte: up to 32 bytes in two or four (overlapping) words
/// tested at once, without a branch per byte.
#[inline]
fn has_newline(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = ONES * b'\n' as u64;
    // A byte of `w` is `\n` exactly when the same byte of `w ^ NL` is zero; the classic
    // zero-byte test has no false positive in the lowest zero byte, so "any" is exact.
    let zero_byte = |w: u64| {
        let x = w ^ NL;
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    let w8 = |at: usize| {
        s.get(at..at + 8)
            .and_then(|w| w.first_chunk::<8>())
            .map_or(0, |w| u64::from_le_bytes(*w))
    };
    let n = s.len();
    match n {
        0..=7 => s.contains(&b'\n'),
        8..=16 => zero_byte(w8(0)) | zero_byte(w8(n - 8)) != 0,
        17..=32 => {
            zero_byte(w8(0)) | zero_byte(w8(8)) | zero_byte(w8(n - 16)) | zero_byte(w8(n - 8)) != 0
        }
        _ => s.contains(&b'\n'),
    }
}

/// The characters a gap may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GapChars {
    /// `.` with `(?s)`: anything.
    Any,
    /// `.`: anything but a newline.
    AnyButNewline,
    /// An ASCII-only class such as `\d` or `[a-z0-9_]`, as a bit per code point.
    Ascii(u128),
}

/// A run of characters between a literal head and tail: `.*`, `.+`, `\d+`, `[a-z]*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gap {
    /// The fewest characters it takes (`.*` 0, `.+` 1, `.+.+` 2).
    min_chars: usize,
    chars: GapChars,
}

impl Gap {
    #[inline]
    fn accepts(self, middle: &str) -> bool {
        match self.chars {
            GapChars::Any => self.enough_chars(middle),
            GapChars::AnyButNewline => {
                // Not `contains`: values are short and a call into the C library's
                // `memchr` costs more than a few word operations.
                !has_newline(middle.as_bytes()) && self.enough_chars(middle)
            }
            GapChars::Ascii(set) => {
                // All ASCII, so bytes are characters.
                middle.len() >= self.min_chars
                    && middle.bytes().all(|b| b < 128 && set & (1u128 << b) != 0)
            }
        }
    }

    /// Whether `middle` has at least `min_chars` characters: `.*` and `.+` (zero or
    /// one) by its length alone.
    #[inline]
    fn enough_chars(self, middle: &str) -> bool {
        match self.min_chars {
            0 | 1 => middle.len() >= self.min_chars,
            n => middle.len() >= n && middle.chars().take(n).count() == n,
        }
    }

    /// Two adjacent gaps as one (`.*.+`), when they take the same characters.
    fn then(self, next: Gap) -> Option<Gap> {
        (self.chars == next.chars).then_some(Gap {
            min_chars: self.min_chars + next.min_chars,
            chars: self.chars,
        })
    }

    /// The characters of a repeated node, if a gap can test them.
    fn chars_of(node: &Node) -> Option<GapChars> {
        match &node.kind {
            NodeKind::AnyChar => Some(GapChars::Any),
            NodeKind::AnyCharNotNl => Some(GapChars::AnyButNewline),
            NodeKind::Class(class) => {
                let mut set = 0u128;
                for range in class.ranges() {
                    let (lo, hi) = (u32::from(range.start()), u32::from(range.end()));
                    if hi >= 128 {
                        return None;
                    }
                    for c in lo..=hi {
                        set |= 1u128 << c;
                    }
                }
                Some(GapChars::Ascii(set))
            }
            _ => None,
        }
    }
}

/// How a piece of an alternative relates to case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    /// No letters: the same with or without `(?i)`.
    Neutral,
    Sensitive,
    /// ASCII letters under `(?i)`.
    Folded,
}

impl Case {
    fn join(self, other: Case) -> Option<Case> {
        match (self, other) {
            (Case::Neutral, c) | (c, Case::Neutral) => Some(c),
            (a, b) if a == b => Some(a),
            _ => None,
        }
    }
}

/// One piece of an alternative while it is being built.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Gap(Gap),
}

/// A sequence of literal text and gaps, with one case rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sequence {
    segments: Vec<Segment>,
    case: Case,
}

impl Sequence {
    fn empty() -> Sequence {
        Sequence {
            segments: Vec::new(),
            case: Case::Neutral,
        }
    }

    fn concat(&self, next: &Sequence) -> Option<Sequence> {
        let case = self.case.join(next.case)?;
        let mut segments = self.segments.clone();
        for seg in &next.segments {
            match (segments.last_mut(), seg) {
                (Some(Segment::Text(a)), Segment::Text(b)) => a.push_str(b),
                (Some(Segment::Gap(a)), Segment::Gap(b)) => *a = a.then(*b)?,
                _ => segments.push(seg.clone()),
            }
        }
        Some(Sequence { segments, case })
    }
}

/// The shape of one alternative a fast path can test exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// The whole value equals the text.
    Exact(Box<str>),
    /// `head`, a gap, `tail` (either may be empty).
    Gapped {
        head: Box<str>,
        gap: Gap,
        tail: Box<str>,
    },
    /// `.*text.*`.
    Contains { text: Box<str>, dot_nl: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Alternative {
    shape: Shape,
    /// ASCII case-insensitive (the text is ASCII).
    folded: bool,
}

impl Alternative {
    fn from_sequence(seq: Sequence) -> Option<Alternative> {
        let folded = seq.case == Case::Folded;
        let text = |s: &String| -> Box<str> { s.as_str().into() };
        let shape = match seq.segments.as_slice() {
            [] => Shape::Exact("".into()),
            [Segment::Text(t)] => Shape::Exact(text(t)),
            [Segment::Gap(gap)] => Shape::Gapped {
                head: "".into(),
                gap: *gap,
                tail: "".into(),
            },
            [Segment::Text(h), Segment::Gap(gap)] => Shape::Gapped {
                head: text(h),
                gap: *gap,
                tail: "".into(),
            },
            [Segment::Gap(gap), Segment::Text(t)] => Shape::Gapped {
                head: "".into(),
                gap: *gap,
                tail: text(t),
            },
            [Segment::Text(h), Segment::Gap(gap), Segment::Text(t)] => Shape::Gapped {
                head: text(h),
                gap: *gap,
                tail: text(t),
            },
            [Segment::Gap(a), Segment::Text(t), Segment::Gap(b)]
                if a.min_chars == 0 && b.min_chars == 0 && a.chars == b.chars && !folded =>
            {
                let dot_nl = match a.chars {
                    GapChars::Any => true,
                    GapChars::AnyButNewline => false,
                    GapChars::Ascii(_) => return None,
                };
                Shape::Contains {
                    text: text(t),
                    dot_nl,
                }
            }
            _ => return None,
        };
        Some(Alternative { shape, folded })
    }

    /// `Some(answer)` when this alternative decides exactly; `None` to ask the regex.
    /// A folded alternative is only asked with ASCII values.
    #[inline]
    fn matches(&self, value: &str) -> Option<bool> {
        let eq = |a: &str, b: &str| {
            if self.folded {
                a.eq_ignore_ascii_case(b)
            } else {
                same_text(a, b)
            }
        };
        match &self.shape {
            Shape::Exact(text) => Some(eq(value, text)),
            Shape::Gapped { head, gap, tail } => {
                let (h, t) = (head.len(), tail.len());
                if value.len() < h + t {
                    return Some(false);
                }
                let (Some(vh), Some(vt), Some(middle)) = (
                    value.get(..h),
                    value.get(value.len() - t..),
                    value.get(h..value.len() - t),
                ) else {
                    // Not on character boundaries: head or tail cannot match there.
                    return Some(false);
                };
                Some(eq(vh, head) && eq(vt, tail) && gap.accepts(middle))
            }
            Shape::Contains { text, dot_nl } => {
                if !dot_nl && value.contains('\n') {
                    // Newlines inside the text itself are possible: leave it to the regex.
                    return None;
                }
                Some(value.contains(&**text))
            }
        }
    }
}

/// The alternatives of an anchored pattern that can be tested with string operations.
#[derive(Debug, Clone)]
struct FastPath {
    alternatives: Box<[Alternative]>,
    /// Some alternative is case-insensitive: non-ASCII values go to the regex.
    any_folded: bool,
}

impl FastPath {
    /// Recognises `^(?:…)$` whose body expands to simple alternatives.
    fn of_anchored(root: &Node) -> Option<FastPath> {
        let NodeKind::Concat(items) = &root.kind else {
            return None;
        };
        let (first, rest) = items.split_first()?;
        let (last, body) = rest.split_last()?;
        let begin = |n: &Node| matches!(n.kind, NodeKind::Assertion(Assertion::BeginText));
        let end = |n: &Node| matches!(n.kind, NodeKind::Assertion(Assertion::EndText));
        if !begin(first) || !end(last) {
            return None;
        }
        // `match_re` values arrive anchored already (`^(?:^(?:v)$)$` once the matcher
        // anchors them again): more anchors at the very edges change nothing.
        let mut body = body;
        while let Some((first, rest)) = body.split_first()
            && begin(first)
        {
            body = rest;
        }
        while let Some((last, rest)) = body.split_last()
            && end(last)
        {
            body = rest;
        }
        let sequences = expand_all(body)?;
        let alternatives: Vec<Alternative> = sequences
            .into_iter()
            .map(Alternative::from_sequence)
            .collect::<Option<_>>()?;
        let gapped = alternatives
            .iter()
            .filter(|a| !matches!(a.shape, Shape::Exact(_)))
            .count();
        if gapped > MAX_GAPPED_ALTERNATIVES {
            return None;
        }
        let any_folded = alternatives.iter().any(|a| a.folded);
        Some(FastPath {
            alternatives: alternatives.into_boxed_slice(),
            any_folded,
        })
    }

    #[inline]
    fn matches(&self, value: &str) -> Option<bool> {
        if self.any_folded && !value.is_ascii() {
            return None;
        }
        let mut undecided = false;
        for alternative in self.alternatives.iter() {
            match alternative.matches(value) {
                Some(true) => return Some(true),
                Some(false) => {}
                None => undecided = true,
            }
        }
        if undecided { None } else { Some(false) }
    }
}

/// The sequences a concatenation of nodes expands to.
fn expand_all(nodes: &[Node]) -> Option<Vec<Sequence>> {
    let mut acc = vec![Sequence::empty()];
    for node in nodes {
        let next = expand(node)?;
        let mut product = Vec::with_capacity(acc.len() * next.len());
        for a in &acc {
            for b in &next {
                product.push(a.concat(b)?);
                if product.len() > MAX_ALTERNATIVES {
                    return None;
                }
            }
        }
        acc = product;
    }
    Some(acc)
}

/// The sequences one node expands to, or `None` when it is not of a simple form.
fn expand(node: &Node) -> Option<Vec<Sequence>> {
    match &node.kind {
        NodeKind::Empty => Some(vec![Sequence::empty()]),
        NodeKind::Literal { c, fold } => {
            let ch = char::from_u32(*c)?;
            let case = match (*fold, ch.is_ascii(), ch.is_alphabetic()) {
                // Under (?i) a non-ASCII character may fold to ASCII (ſ to s): regex.
                (true, false, _) => return None,
                (_, _, false) => Case::Neutral,
                (false, _, true) => Case::Sensitive,
                (true, true, true) => Case::Folded,
            };
            Some(vec![Sequence {
                segments: vec![Segment::Text(ch.to_string())],
                case,
            }])
        }
        NodeKind::Class(class) => {
            let count: u32 = class
                .ranges()
                .iter()
                .map(|r| u32::from(r.end()) - u32::from(r.start()) + 1)
                .sum();
            if count == 0 || count > MAX_CLASS_CHARS {
                return None;
            }
            let mut out = Vec::new();
            for range in class.ranges() {
                for ch in range.start()..=range.end() {
                    out.push(Sequence {
                        segments: vec![Segment::Text(ch.to_string())],
                        case: if ch.is_alphabetic() {
                            Case::Sensitive
                        } else {
                            Case::Neutral
                        },
                    });
                }
            }
            Some(out)
        }
        NodeKind::Capture(sub) => expand(sub),
        NodeKind::Repeat {
            op, min, max, sub, ..
        } => {
            let min_chars = match op {
                RepeatOp::Star => Some(0),
                RepeatOp::Plus => Some(1),
                RepeatOp::Counted if *max == -1 => usize::try_from(*min).ok(),
                _ => None,
            };
            if let (Some(chars), Some(min_chars)) = (Gap::chars_of(sub), min_chars) {
                return Some(vec![Sequence {
                    segments: vec![Segment::Gap(Gap { min_chars, chars })],
                    case: Case::Neutral,
                }]);
            }
            if *op == RepeatOp::Quest {
                let mut out = expand(sub)?;
                out.push(Sequence::empty());
                return (out.len() <= MAX_ALTERNATIVES).then_some(out);
            }
            None
        }
        NodeKind::Concat(subs) => expand_all(subs),
        NodeKind::Alternate(subs) => {
            let mut out = Vec::new();
            for sub in subs {
                out.extend(expand(sub)?);
                if out.len() > MAX_ALTERNATIVES {
                    return None;
                }
            }
            Some(out)
        }
        NodeKind::AnyChar | NodeKind::AnyCharNotNl | NodeKind::Assertion(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::{fast_path_pattern, fast_path_value};
    use proptest::prelude::*;

    fn pattern(p: &str) -> Pattern {
        Pattern::anchored(p).expect("valid pattern")
    }

    #[test]
    fn routing_regexes_have_fast_paths() {
        for p in [
            ".*Down",
            "critical|page",
            "db-.*",
            "(?i)watchdog|deadmansswitch",
            r"10\.0\..*",
            "Postgres.*|MySQL.*",
            "pay.*|ledger|billing",
            "(api|web)-.*",
            "eu-(west|central)-1",
            "High(CPU|Memory)Usage",
            "HTTP[45]xxSpike",
            ".*-0[0-1]",
            ".+",
            ".*",
            "",
            "prod|",
            ".*foo.*",
            "colou?r",
            r"host-\d+\.example\.com:9100",
            "[a-z0-9_]+",
            // `match_re` values, anchored by the configuration before the matcher.
            "^(?:critical|page)$",
            r"^(?:10\.0\..*)$",
            "^(?:.+)$",
            "^x",
            "^^x$$",
        ] {
            assert!(pattern(p).fast.is_some(), "no fast path for {p:?}");
        }
        for p in [
            r"host-\d+\.example\.com:9100:\d+",
            "a)|(b",
            "x|^y",
            "a^x",
            "(?m)^x",
            r"\bx",
            "(?i)é",
        ] {
            assert!(pattern(p).fast.is_none(), "unexpected fast path for {p:?}");
        }
    }

    #[test]
    fn fast_paths_answer_like_go() {
        let cases: &[(&str, &str, bool)] = &[
            (".*Down", "NodeDown", true),
            (".*Down", "Node\nDown", false),
            ("(?s).*Down", "Node\nDown", true),
            ("db-.*", "db-", true),
            ("db-.*", "db", false),
            ("(?i)watchdog|deadmansswitch", "WatchDog", true),
            ("(?i)watchdog|deadmansswitch", "DeadMansSwitch", true),
            ("(?i)watchdog|deadmansswitch", "watchdogs", false),
            // The Kelvin sign folds to k, the long s to s: decided by the regex.
            ("(?i)k", "\u{212A}", true),
            ("(?i)s", "ſ", true),
            ("critical|page", "page", true),
            ("critical|page", "pager", false),
            (".+", "", false),
            (".+", "\n", false),
            (".*", "", true),
            ("prod|", "", true),
            (".*foo.*", "a\nfoo", false),
            (".*foo.*", "xfooy", true),
            (
                r"host-\d+\.example\.com:9100",
                "host-12.example.com:9100",
                true,
            ),
            (
                r"host-\d+\.example\.com:9100",
                "host-.example.com:9100",
                false,
            ),
            (
                r"host-\d+\.example\.com:9100",
                "host-١٢.example.com:9100",
                false,
            ),
            (
                r"host-\d+\.example\.com:9100",
                "host-1x.example.com:9100",
                false,
            ),
            ("^(?:critical|page)$", "page", true),
            ("^(?:critical|page)$", "pager", false),
            ("^^x$$", "x", true),
            ("^(?:.+)$", "", false),
        ];
        for &(p, v, want) in cases {
            assert_eq!(pattern(p).is_match(v), want, "{p:?} on {v:?}");
        }
    }

    proptest! {
        #[test]
        fn word_compares_agree_with_byte_compares(
            a in "[a\n\u{e9}\u{1F6A8}]{0,40}",
            flip in any::<prop::sample::Index>(),
        ) {
            prop_assert_eq!(has_newline(a.as_bytes()), a.contains('\n'));
            prop_assert!(same_text(&a, &a.clone()));
            // The same length, one byte changed anywhere.
            if !a.is_empty() {
                let mut b = a.clone().into_bytes();
                let i = flip.index(b.len());
                b[i] ^= 0x20;
                let b = String::from_utf8_lossy(&b).into_owned();
                prop_assert_eq!(same_text(&a, &b), a == b, "{:?} {:?}", a, b);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn fast_path_agrees_with_regex(
            p in fast_path_pattern(),
            anchored in any::<bool>(),
            values in prop::collection::vec(fast_path_value(), 1..12),
        ) {
            // Half the time as `match_re` gives it: anchored before the matcher anchors it.
            let p = if anchored { format!("^(?:{p})$") } else { p };
            let compiled = pattern(&p);
            for v in &values {
                prop_assert_eq!(compiled.is_match(v), compiled.regex_is_match(v), "pattern {:?} value {:?}", p, v);
            }
            // Values spelled from the pattern's own text, to hit matches.
            let spelled: String = p.chars().filter(|c| c.is_alphanumeric() || *c == '.' || *c == '-').collect();
            prop_assert_eq!(compiled.is_match(&spelled), compiled.regex_is_match(&spelled), "pattern {:?} value {:?}", p, spelled);
        }
    }
}
