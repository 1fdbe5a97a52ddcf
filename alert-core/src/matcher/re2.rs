//! Regular expressions as Go reads them: Go 1.19's `regexp/syntax` with the `Perl` flags
//! that `regexp.Compile` uses, which is what Alertmanager 0.25 runs.
//!
//! Go's RE2 dialect and Rust's `regex` crate disagree in many small ways: `\d`, `\w`, `\s`
//! and `\b` are ASCII-only in Go (and `\s` has no `\v`); `(?i)\w` also matches the Kelvin
//! sign and the long s; `a{,5}` and `a{` are literal text; `\Q…\E` quotes; `\pL` names
//! are case-sensitive and limited to Unicode 13's categories and scripts; `[a&&b]`,
//! `[[a]]` and `\<` are literal; `(?<name>…)`, `(?x)`, `a**`, `a{1001}` and
//! `(a{100}){11}` are errors. So the pattern is parsed here, by a port of Go's parser,
//! into a [`Node`] tree; errors carry Go's wording and the same offending text; the tree
//! is then lowered to a `regex-syntax` [`Hir`] with Go's meaning and compiled by `regex`.
//!
//! Known residual differences: Unicode tables are those of `regex-syntax` (newer than
//! Go 1.19's Unicode 13), so characters assigned after Unicode 13 may be classified
//! differently; Go's "expression too large" and "nests too deeply" limits are computed on
//! this tree, which is close to but not node-for-node Go's.

use std::fmt;

use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Dot, Hir, Look, Repetition};

/// Go's largest counted repetition, `{1000}` (also the limit on nested counts).
const MAX_REPEAT: i64 = 1000;
/// Go's `maxHeight`: deeper parse trees are "expression nests too deeply".
const MAX_HEIGHT: u32 = 1000;
/// Go's `maxSize` (`128 << 20 / instSize`): larger programs are "expression too large".
const MAX_SIZE: i64 = (128 << 20) / 40;
/// Trees deeper than this are compiled on a thread with a large stack, because the
/// `regex` compiler recurses once per nesting level.
const DEEP_TREE: u32 = 48;
/// The stack given to that thread.
const DEEP_STACK_BYTES: usize = 64 << 20;
/// Compiled-program size limit handed to `regex`: anything Go accepts must fit.
const REGEX_SIZE_LIMIT: usize = 256 << 20;

/// Go's `regexp/syntax.ErrorCode`s that this parser can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    InvalidCharRange,
    InvalidEscape,
    InvalidNamedCapture,
    InvalidPerlOp,
    InvalidRepeatOp,
    InvalidRepeatSize,
    MissingBracket,
    MissingParen,
    MissingRepeatArgument,
    TrailingBackslash,
    UnexpectedParen,
    NestingDepth,
    Large,
}

impl ErrorCode {
    fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidCharRange => "invalid character class range",
            ErrorCode::InvalidEscape => "invalid escape sequence",
            ErrorCode::InvalidNamedCapture => "invalid named capture",
            ErrorCode::InvalidPerlOp => "invalid or unsupported Perl syntax",
            ErrorCode::InvalidRepeatOp => "invalid nested repetition operator",
            ErrorCode::InvalidRepeatSize => "invalid repeat count",
            ErrorCode::MissingBracket => "missing closing ]",
            ErrorCode::MissingParen => "missing closing )",
            ErrorCode::MissingRepeatArgument => "missing argument to repetition operator",
            ErrorCode::TrailingBackslash => "trailing backslash at end of expression",
            ErrorCode::UnexpectedParen => "unexpected )",
            ErrorCode::NestingDepth => "expression nests too deeply",
            ErrorCode::Large => "expression too large",
        }
    }
}

/// A syntax error as Go's `*syntax.Error` prints it, without the leading
/// `error parsing regexp: ` (which [`crate::Error::InvalidRegex`] adds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) code: ErrorCode,
    pub(crate) expr: String,
}

impl SyntaxError {
    fn new(code: ErrorCode, expr: &str) -> SyntaxError {
        SyntaxError {
            code,
            expr: expr.to_owned(),
        }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: `{}`", self.code.as_str(), self.expr)
    }
}

type ParseResult<T> = std::result::Result<T, SyntaxError>;

/// Zero-width assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Assertion {
    /// `^` in multi-line mode.
    BeginLine,
    /// `$` in multi-line mode.
    EndLine,
    /// `^` (default), `\A`.
    BeginText,
    /// `$` (default), `\z`.
    EndText,
    /// `\b`, ASCII.
    WordBoundary,
    /// `\B`, ASCII.
    NoWordBoundary,
}

/// Which repetition operator was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RepeatOp {
    Star,
    Plus,
    Quest,
    /// `{min}`, `{min,}` or `{min,max}`.
    Counted,
}

/// A node of Go's parse tree, as far as matching and Go's limits care.
#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    /// Matches the empty string.
    Empty,
    /// One character; `fold` means any character of its simple case-folding orbit.
    /// A code point that is not a `char` (a surrogate written as `\x{D800}`) never
    /// matches, as in Go.
    Literal {
        c: u32,
        fold: bool,
    },
    /// A character class, case folding and negation already applied.
    Class(ClassUnicode),
    /// `.` without `s`.
    AnyCharNotNl,
    /// `.` with `s`.
    AnyChar,
    Assertion(Assertion),
    Capture(Box<Node>),
    Repeat {
        op: RepeatOp,
        min: i64,
        /// `-1`: unbounded.
        max: i64,
        greedy: bool,
        sub: Box<Node>,
    },
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
}

/// A parse-tree node with Go's height and size measures of the subtree.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    height: u32,
    size: i64,
}

impl Node {
    fn leaf(kind: NodeKind) -> Node {
        Node {
            kind,
            height: 1,
            size: 1,
        }
    }

    fn with_subs(kind: NodeKind) -> Node {
        let (height, size) = match &kind {
            NodeKind::Capture(sub) => (sub.height + 1, 2 + sub.size),
            NodeKind::Repeat {
                op, min, max, sub, ..
            } => {
                let size = match op {
                    RepeatOp::Star => 2 + sub.size,
                    RepeatOp::Plus | RepeatOp::Quest => 1 + sub.size,
                    RepeatOp::Counted if *max == -1 && *min == 0 => 2 + sub.size,
                    RepeatOp::Counted if *max == -1 => 1 + min * sub.size,
                    RepeatOp::Counted => max * sub.size + (max - min),
                };
                (sub.height + 1, size)
            }
            NodeKind::Concat(subs) | NodeKind::Alternate(subs) => {
                let height = subs.iter().map(|s| s.height).max().unwrap_or(0) + 1;
                let mut size: i64 = subs.iter().map(|s| s.size).sum();
                if matches!(kind, NodeKind::Alternate(_)) && subs.len() > 1 {
                    size += subs.len() as i64 - 1;
                }
                (height, size)
            }
            _ => (1, 1),
        };
        Node {
            kind,
            height,
            size: size.max(1),
        }
    }

    /// The sub-nodes, for tree walks.
    fn subs(&self) -> &[Node] {
        match &self.kind {
            NodeKind::Capture(sub) | NodeKind::Repeat { sub, .. } => std::slice::from_ref(sub),
            NodeKind::Concat(subs) | NodeKind::Alternate(subs) => subs,
            _ => &[],
        }
    }
}

/// Go's parser flags that change meaning (`ClassNL`, `PerlX` and `UnicodeGroups` are
/// always on for `regexp.Compile`).
#[derive(Debug, Clone, Copy)]
struct Flags {
    fold_case: bool,
    one_line: bool,
    dot_nl: bool,
    non_greedy: bool,
}

/// `syntax.Perl`, the flags of `regexp.Compile`.
const PERL: Flags = Flags {
    fold_case: false,
    one_line: true,
    dot_nl: false,
    non_greedy: false,
};

/// An open group: what is collected until its `)`.
struct Frame {
    /// Flags at the `(`, restored at the `)`.
    saved_flags: Flags,
    capture: bool,
    alternatives: Vec<Node>,
    concat: Vec<Node>,
}

impl Frame {
    fn new(saved_flags: Flags, capture: bool) -> Frame {
        Frame {
            saved_flags,
            capture,
            alternatives: Vec::new(),
            concat: Vec::new(),
        }
    }
}

struct Parser<'a> {
    whole: &'a str,
    flags: Flags,
    frames: Vec<Frame>,
}

/// Parses `pattern` as Go's `regexp.Compile` does.
pub(crate) fn parse(pattern: &str) -> ParseResult<Node> {
    Parser {
        whole: pattern,
        flags: PERL,
        frames: vec![Frame::new(PERL, false)],
    }
    .run()
}

/// Go's `nextRune`; on empty input it yields U+FFFD and consumes nothing, as
/// `utf8.DecodeRuneInString("")` does.
fn next_rune(s: &str) -> (char, &str) {
    match s.chars().next() {
        Some(c) => (c, &s[c.len_utf8()..]),
        None => ('\u{FFFD}', s),
    }
}

/// The text of `whole` between the start of `from` and the start of `rest`, both
/// suffixes of the same string.
fn span<'a>(from: &'a str, rest: &str) -> &'a str {
    &from[..from.len() - rest.len()]
}

fn unhex(c: char) -> Option<u32> {
    c.to_digit(16)
}

fn is_octal(b: Option<&u8>) -> bool {
    matches!(b, Some(b'0'..=b'7'))
}

impl<'a> Parser<'a> {
    fn run(mut self) -> ParseResult<Node> {
        let mut t: &'a str = self.whole;
        let mut last_repeat: &'a str = "";
        while !t.is_empty() {
            let mut repeat: &'a str = "";
            let bytes = t.as_bytes();
            match bytes[0] {
                b'(' => {
                    if bytes.len() >= 2 && bytes[1] == b'?' {
                        t = self.parse_perl_flags(t)?;
                    } else {
                        self.frames.push(Frame::new(self.flags, true));
                        t = &t[1..];
                    }
                }
                b'|' => {
                    self.vertical_bar();
                    t = &t[1..];
                }
                b')' => {
                    self.right_paren()?;
                    t = &t[1..];
                }
                b'^' => {
                    let a = if self.flags.one_line {
                        Assertion::BeginText
                    } else {
                        Assertion::BeginLine
                    };
                    self.push(Node::leaf(NodeKind::Assertion(a)))?;
                    t = &t[1..];
                }
                b'$' => {
                    let a = if self.flags.one_line {
                        Assertion::EndText
                    } else {
                        Assertion::EndLine
                    };
                    self.push(Node::leaf(NodeKind::Assertion(a)))?;
                    t = &t[1..];
                }
                b'.' => {
                    let kind = if self.flags.dot_nl {
                        NodeKind::AnyChar
                    } else {
                        NodeKind::AnyCharNotNl
                    };
                    self.push(Node::leaf(kind))?;
                    t = &t[1..];
                }
                b'[' => t = self.parse_class(t)?,
                b'*' | b'+' | b'?' => {
                    let op = match bytes[0] {
                        b'*' => RepeatOp::Star,
                        b'+' => RepeatOp::Plus,
                        _ => RepeatOp::Quest,
                    };
                    let before = t;
                    t = self.repeat(op, 0, 0, before, &t[1..], last_repeat)?;
                    repeat = before;
                }
                b'{' => {
                    let before = t;
                    match parse_repeat(t) {
                        None => {
                            // Not a valid repetition: `{` is a literal.
                            self.literal('{' as u32)?;
                            t = &t[1..];
                        }
                        Some((min, max, after)) => {
                            if !(0..=MAX_REPEAT).contains(&min)
                                || max > MAX_REPEAT
                                || (max >= 0 && min > max)
                            {
                                return Err(SyntaxError::new(
                                    ErrorCode::InvalidRepeatSize,
                                    span(before, after),
                                ));
                            }
                            t = self.repeat(
                                RepeatOp::Counted,
                                min,
                                max,
                                before,
                                after,
                                last_repeat,
                            )?;
                            repeat = before;
                        }
                    }
                }
                b'\\' => t = self.backslash(t)?,
                _ => {
                    let (c, rest) = next_rune(t);
                    self.literal(c as u32)?;
                    t = rest;
                }
            }
            last_repeat = repeat;
        }
        if self.frames.len() != 1 {
            return Err(SyntaxError::new(ErrorCode::MissingParen, self.whole));
        }
        let root = self
            .frames
            .pop()
            .map(finish_frame)
            .unwrap_or_else(|| Node::leaf(NodeKind::Empty));
        self.check_limits(&root)?;
        Ok(root)
    }

    /// Go's `checkLimits`, applied as each node is built.
    fn check_limits(&self, node: &Node) -> ParseResult<()> {
        if node.height > MAX_HEIGHT {
            return Err(SyntaxError::new(ErrorCode::NestingDepth, self.whole));
        }
        if node.size > MAX_SIZE {
            return Err(SyntaxError::new(ErrorCode::Large, self.whole));
        }
        Ok(())
    }

    fn frame(&mut self) -> &mut Frame {
        // The root frame is only popped at the end of `run`; this never fires.
        if self.frames.is_empty() {
            self.frames.push(Frame::new(PERL, false));
        }
        let last = self.frames.len() - 1;
        &mut self.frames[last]
    }

    fn push(&mut self, node: Node) -> ParseResult<()> {
        self.check_limits(&node)?;
        self.frame().concat.push(node);
        Ok(())
    }

    fn literal(&mut self, c: u32) -> ParseResult<()> {
        let fold = self.flags.fold_case;
        self.push(Node::leaf(NodeKind::Literal { c, fold }))
    }

    fn vertical_bar(&mut self) {
        let frame = self.frame();
        let concat = collapse_concat(std::mem::take(&mut frame.concat));
        frame.alternatives.push(concat);
    }

    fn right_paren(&mut self) -> ParseResult<()> {
        if self.frames.len() < 2 {
            return Err(SyntaxError::new(ErrorCode::UnexpectedParen, self.whole));
        }
        let Some(frame) = self.frames.pop() else {
            return Err(SyntaxError::new(ErrorCode::UnexpectedParen, self.whole));
        };
        self.flags = frame.saved_flags;
        let capture = frame.capture;
        let inner = finish_frame(frame);
        let node = if capture {
            Node::with_subs(NodeKind::Capture(Box::new(inner)))
        } else {
            inner
        };
        self.push(node)
    }

    fn repeat(
        &mut self,
        op: RepeatOp,
        min: i64,
        max: i64,
        before: &'a str,
        after: &'a str,
        last_repeat: &'a str,
    ) -> ParseResult<&'a str> {
        let mut after = after;
        let mut flags = self.flags;
        if after.starts_with('?') {
            after = &after[1..];
            flags.non_greedy = !flags.non_greedy;
        }
        if !last_repeat.is_empty() {
            // `a**` is a syntax error, not a doubled star.
            return Err(SyntaxError::new(
                ErrorCode::InvalidRepeatOp,
                span(last_repeat, after),
            ));
        }
        let Some(sub) = self.frame().concat.pop() else {
            return Err(SyntaxError::new(
                ErrorCode::MissingRepeatArgument,
                span(before, after),
            ));
        };
        let node = Node::with_subs(NodeKind::Repeat {
            op,
            min,
            max,
            greedy: !flags.non_greedy,
            sub: Box::new(sub),
        });
        self.check_limits(&node)?;
        if op == RepeatOp::Counted && (min >= 2 || max >= 2) && !repeat_is_valid(&node, MAX_REPEAT)
        {
            return Err(SyntaxError::new(
                ErrorCode::InvalidRepeatSize,
                span(before, after),
            ));
        }
        self.frame().concat.push(node);
        Ok(after)
    }

    /// `(?flags)`, `(?flags:`, `(?P<name>`.
    fn parse_perl_flags(&mut self, s: &'a str) -> ParseResult<&'a str> {
        let b = s.as_bytes();
        if b.len() > 4 && b[2] == b'P' && b[3] == b'<' {
            let Some(end) = s.find('>') else {
                return Err(SyntaxError::new(ErrorCode::InvalidNamedCapture, s));
            };
            let capture = &s[..end + 1];
            let name = &s[4..end];
            let valid =
                !name.is_empty() && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
            if !valid {
                return Err(SyntaxError::new(ErrorCode::InvalidNamedCapture, capture));
            }
            self.frames.push(Frame::new(self.flags, true));
            return Ok(&s[end + 1..]);
        }

        let mut t = &s[2..];
        let mut flags = self.flags;
        let mut negated = false;
        let mut saw_flag = false;
        while !t.is_empty() {
            let (c, rest) = next_rune(t);
            t = rest;
            match c {
                'i' => {
                    flags.fold_case = !negated;
                    saw_flag = true;
                }
                'm' => {
                    flags.one_line = negated;
                    saw_flag = true;
                }
                's' => {
                    flags.dot_nl = !negated;
                    saw_flag = true;
                }
                'U' => {
                    flags.non_greedy = !negated;
                    saw_flag = true;
                }
                '-' => {
                    if negated {
                        break;
                    }
                    negated = true;
                    saw_flag = false;
                }
                ':' | ')' => {
                    if negated && !saw_flag {
                        break;
                    }
                    if c == ':' {
                        self.frames.push(Frame::new(self.flags, false));
                    }
                    self.flags = flags;
                    return Ok(t);
                }
                _ => break,
            }
        }
        Err(SyntaxError::new(ErrorCode::InvalidPerlOp, span(s, t)))
    }

    /// Everything that starts with `\` outside a class.
    fn backslash(&mut self, t: &'a str) -> ParseResult<&'a str> {
        let b = t.as_bytes();
        if b.len() >= 2 {
            let assertion = match b[1] {
                b'A' => Some(Assertion::BeginText),
                b'b' => Some(Assertion::WordBoundary),
                b'B' => Some(Assertion::NoWordBoundary),
                b'z' => Some(Assertion::EndText),
                _ => None,
            };
            if let Some(a) = assertion {
                self.push(Node::leaf(NodeKind::Assertion(a)))?;
                return Ok(&t[2..]);
            }
            match b[1] {
                // Any byte: not supported.
                b'C' => return Err(SyntaxError::new(ErrorCode::InvalidEscape, &t[..2])),
                b'Q' => {
                    // `\Q … \E`: the text between is literal; without `\E`, to the end.
                    let rest = &t[2..];
                    let (lit, after) = match rest.find("\\E") {
                        Some(i) => (&rest[..i], &rest[i + 2..]),
                        None => (rest, ""),
                    };
                    for c in lit.chars() {
                        self.literal(c as u32)?;
                    }
                    return Ok(after);
                }
                _ => {}
            }
        }
        if let Some((class, rest)) = self.parse_unicode_class(t)? {
            self.push(Node::leaf(NodeKind::Class(class)))?;
            return Ok(rest);
        }
        if let Some((class, rest)) = self.parse_perl_class_escape(t) {
            self.push(Node::leaf(NodeKind::Class(class)))?;
            return Ok(rest);
        }
        let (c, rest) = parse_escape(t)?;
        self.literal(c)?;
        Ok(rest)
    }

    /// A bracketed class starting at `s` (`[`).
    fn parse_class(&mut self, s: &'a str) -> ParseResult<&'a str> {
        let mut t = &s[1..];
        let mut class = ClassUnicode::empty();
        let negated = t.starts_with('^');
        if negated {
            // `ClassNL` is on: `[^a]` matches a newline, nothing to add.
            t = &t[1..];
        }
        let mut first = true;
        while t.is_empty() || !t.starts_with(']') || first {
            first = false;
            if t.len() > 2
                && t.starts_with("[:")
                && let Some((named, rest)) = self.parse_named_class(t)?
            {
                class.union(&named);
                t = rest;
                continue;
            }
            if let Some((unicode, rest)) = self.parse_unicode_class(t)? {
                class.union(&unicode);
                t = rest;
                continue;
            }
            if let Some((perl, rest)) = self.parse_perl_class_escape(t) {
                class.union(&perl);
                t = rest;
                continue;
            }
            let range_start = t;
            let (lo, rest) = parse_class_char(t, s)?;
            t = rest;
            let mut hi = lo;
            let b = t.as_bytes();
            if b.len() >= 2 && b[0] == b'-' && b[1] != b']' {
                t = &t[1..];
                let (h, rest) = parse_class_char(t, s)?;
                t = rest;
                hi = h;
                if hi < lo {
                    return Err(SyntaxError::new(
                        ErrorCode::InvalidCharRange,
                        span(range_start, t),
                    ));
                }
            }
            let mut range = code_point_range(lo, hi);
            if self.flags.fold_case {
                range.case_fold_simple();
            }
            class.union(&range);
        }
        t = &t[1..];
        if negated {
            class.negate();
        }
        self.push(Node::leaf(NodeKind::Class(class)))?;
        Ok(t)
    }

    /// `[:alpha:]` and friends, ASCII only; `None` if `s` is not of that shape.
    fn parse_named_class(&self, s: &'a str) -> ParseResult<Option<(ClassUnicode, &'a str)>> {
        let Some(i) = s[2..].find(":]") else {
            return Ok(None);
        };
        let i = i + 2;
        let name = &s[..i + 2];
        let rest = &s[i + 2..];
        let Some((negated, ranges)) = posix_group(name) else {
            return Err(SyntaxError::new(ErrorCode::InvalidCharRange, name));
        };
        Ok(Some((self.group(ranges, negated), rest)))
    }

    /// `\d \D \s \S \w \W`; `None` if `s` does not start with one.
    fn parse_perl_class_escape(&self, s: &'a str) -> Option<(ClassUnicode, &'a str)> {
        let b = s.as_bytes();
        if b.len() < 2 || b[0] != b'\\' {
            return None;
        }
        let (negated, ranges): (bool, &[(char, char)]) = match b[1] {
            b'd' => (false, DIGIT),
            b'D' => (true, DIGIT),
            b's' => (false, PERL_SPACE),
            b'S' => (true, PERL_SPACE),
            b'w' => (false, WORD),
            b'W' => (true, WORD),
            _ => return None,
        };
        Some((self.group(ranges, negated), &s[2..]))
    }

    /// Go's `appendGroup`: fold first (when `(?i)`), then negate.
    fn group(&self, ranges: &[(char, char)], negated: bool) -> ClassUnicode {
        let mut class =
            ClassUnicode::new(ranges.iter().map(|&(a, b)| ClassUnicodeRange::new(a, b)));
        if self.flags.fold_case {
            class.case_fold_simple();
        }
        if negated {
            class.negate();
        }
        class
    }

    /// `\pL`, `\p{Greek}`, `\P{…}`, `\p{^…}`; `None` if `s` does not start with `\p`/`\P`.
    fn parse_unicode_class(&self, s: &'a str) -> ParseResult<Option<(ClassUnicode, &'a str)>> {
        let b = s.as_bytes();
        if b.len() < 2 || b[0] != b'\\' || (b[1] != b'p' && b[1] != b'P') {
            return Ok(None);
        }
        let mut negated = b[1] == b'P';
        let (c, after) = next_rune(&s[2..]);
        let (seq, mut name, rest) = if c != '{' {
            let seq = span(s, after);
            (seq, &seq[2..], after)
        } else {
            let Some(end) = s.find('}') else {
                return Err(SyntaxError::new(ErrorCode::InvalidCharRange, s));
            };
            (&s[..end + 1], &s[3..end], &s[end + 1..])
        };
        if let Some(stripped) = name.strip_prefix('^') {
            negated = !negated;
            name = stripped;
        }
        let Some(mut class) = unicode_table(name) else {
            return Err(SyntaxError::new(ErrorCode::InvalidCharRange, seq));
        };
        if self.flags.fold_case {
            class.case_fold_simple();
        }
        if negated {
            class.negate();
        }
        Ok(Some((class, rest)))
    }
}

/// Closes a group: its alternatives, the last one being the open concatenation.
fn finish_frame(mut frame: Frame) -> Node {
    let last = collapse_concat(std::mem::take(&mut frame.concat));
    frame.alternatives.push(last);
    collapse_alternate(frame.alternatives)
}

fn collapse_concat(items: Vec<Node>) -> Node {
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        match item.kind {
            NodeKind::Concat(subs) => flat.extend(subs),
            _ => flat.push(item),
        }
    }
    match flat.len() {
        0 => Node::leaf(NodeKind::Empty),
        1 => flat.pop().unwrap_or_else(|| Node::leaf(NodeKind::Empty)),
        _ => Node::with_subs(NodeKind::Concat(flat)),
    }
}

fn collapse_alternate(items: Vec<Node>) -> Node {
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        match item.kind {
            NodeKind::Alternate(subs) => flat.extend(subs),
            _ => flat.push(item),
        }
    }
    match flat.len() {
        0 => Node::leaf(NodeKind::Empty),
        1 => flat.pop().unwrap_or_else(|| Node::leaf(NodeKind::Empty)),
        _ => Node::with_subs(NodeKind::Alternate(flat)),
    }
}

/// Go's `repeatIsValid`: nested counted repetitions may not multiply beyond `n` copies.
fn repeat_is_valid(node: &Node, mut n: i64) -> bool {
    if let NodeKind::Repeat {
        op: RepeatOp::Counted,
        min,
        max,
        ..
    } = &node.kind
    {
        let mut m = *max;
        if m == 0 {
            return true;
        }
        if m < 0 {
            m = *min;
        }
        if m > n {
            return false;
        }
        if m > 0 {
            n /= m;
        }
    }
    node.subs().iter().all(|sub| repeat_is_valid(sub, n))
}

/// Go's `parseRepeat`: `{n}`, `{n,}`, `{n,m}` at the start of `s`, with Go's sentinels
/// (`max == -1` unbounded; `min == -1` when a number was too big).
fn parse_repeat(s: &str) -> Option<(i64, i64, &str)> {
    let s = s.strip_prefix('{')?;
    let (mut min, s) = parse_int(s)?;
    if s.is_empty() {
        return None;
    }
    let (max, s) = if let Some(s) = s.strip_prefix(',') {
        if s.is_empty() {
            return None;
        }
        if s.starts_with('}') {
            (-1, s)
        } else {
            let (max, s) = parse_int(s)?;
            if max < 0 {
                min = -1;
            }
            (max, s)
        }
    } else {
        (min, s)
    };
    let rest = s.strip_prefix('}')?;
    Some((min, max, rest))
}

/// Go's `parseInt`: decimal, no leading zeros, `-1` when too big.
fn parse_int(s: &str) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if b.len() >= 2 && b[0] == b'0' && b[1].is_ascii_digit() {
        return None;
    }
    let digits = b.iter().take_while(|d| d.is_ascii_digit()).count();
    let mut n: i64 = 0;
    for d in &b[..digits] {
        if n >= 100_000_000 {
            n = -1;
            break;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some((n, &s[digits..]))
}

/// One character of a class (`parseClassChar`); `whole` is the class from its `[`.
fn parse_class_char<'a>(s: &'a str, whole: &str) -> ParseResult<(u32, &'a str)> {
    if s.is_empty() {
        return Err(SyntaxError::new(ErrorCode::MissingBracket, whole));
    }
    if s.starts_with('\\') {
        return parse_escape(s);
    }
    let (c, rest) = next_rune(s);
    Ok((c as u32, rest))
}

/// Go's `parseEscape`: a single-character escape at the start of `s` (`\`).
fn parse_escape(s: &str) -> ParseResult<(u32, &str)> {
    let t = &s[1..];
    if t.is_empty() {
        return Err(SyntaxError::new(ErrorCode::TrailingBackslash, ""));
    }
    let (c, mut t) = next_rune(t);
    let invalid = |t: &str| Err(SyntaxError::new(ErrorCode::InvalidEscape, span(s, t)));
    match c {
        '1'..='7' | '0' => {
            // A single non-zero digit would be a backreference: not supported.
            if c != '0' && !is_octal(t.as_bytes().first()) {
                return invalid(t);
            }
            let mut r = c as u32 - '0' as u32;
            for _ in 1..3 {
                let Some(&d) = t
                    .as_bytes()
                    .first()
                    .filter(|d| d.is_ascii_digit() && **d < b'8')
                else {
                    break;
                };
                r = r * 8 + u32::from(d - b'0');
                t = &t[1..];
            }
            Ok((r, t))
        }
        'x' => {
            if t.is_empty() {
                return invalid(t);
            }
            let (c, rest) = next_rune(t);
            t = rest;
            if c == '{' {
                let mut nhex = 0;
                let mut r: u32 = 0;
                loop {
                    if t.is_empty() {
                        return invalid(t);
                    }
                    let (c, rest) = next_rune(t);
                    t = rest;
                    if c == '}' {
                        break;
                    }
                    let Some(v) = unhex(c) else {
                        return invalid(t);
                    };
                    r = r * 16 + v;
                    if r > 0x10FFFF {
                        return invalid(t);
                    }
                    nhex += 1;
                }
                if nhex == 0 {
                    return invalid(t);
                }
                return Ok((r, t));
            }
            let x = unhex(c);
            let (c, rest) = next_rune(t);
            t = rest;
            match (x, unhex(c)) {
                (Some(x), Some(y)) => Ok((x * 16 + y, t)),
                _ => invalid(t),
            }
        }
        'a' => Ok((7, t)),
        'f' => Ok((12, t)),
        'n' => Ok((10, t)),
        'r' => Ok((13, t)),
        't' => Ok((9, t)),
        'v' => Ok((11, t)),
        // Escaped punctuation is always itself.
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok((c as u32, t)),
        _ => invalid(t),
    }
}

/// The characters `lo..=hi` (code points; surrogates, which no string holds, dropped).
fn code_point_range(lo: u32, hi: u32) -> ClassUnicode {
    let mut ranges = Vec::with_capacity(2);
    let mut push = |a: u32, b: u32| {
        if let (Some(a), Some(b)) = (char::from_u32(a), char::from_u32(b))
            && a <= b
        {
            ranges.push(ClassUnicodeRange::new(a, b));
        }
    };
    push(lo, hi.min(0xD7FF));
    push(lo.max(0xE000), hi);
    ClassUnicode::new(ranges)
}

const DIGIT: &[(char, char)] = &[('0', '9')];
/// Go's `\s`: no `\v`.
const PERL_SPACE: &[(char, char)] = &[('\t', '\n'), ('\x0C', '\r'), (' ', ' ')];
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];

/// Go's POSIX classes (ASCII), by their bracketed name; `true` when negated.
fn posix_group(name: &str) -> Option<(bool, &'static [(char, char)])> {
    let (negated, base) = match name.strip_prefix("[:^") {
        Some(rest) => (true, rest),
        None => (false, name.strip_prefix("[:")?),
    };
    let ranges: &'static [(char, char)] = match base {
        "alnum:]" => &[('0', '9'), ('A', 'Z'), ('a', 'z')],
        "alpha:]" => &[('A', 'Z'), ('a', 'z')],
        "ascii:]" => &[('\0', '\x7F')],
        "blank:]" => &[('\t', '\t'), (' ', ' ')],
        "cntrl:]" => &[('\0', '\x1F'), ('\x7F', '\x7F')],
        "digit:]" => DIGIT,
        "graph:]" => &[('!', '~')],
        "lower:]" => &[('a', 'z')],
        "print:]" => &[(' ', '~')],
        "punct:]" => &[('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
        "space:]" => &[('\t', '\r'), (' ', ' ')],
        "upper:]" => &[('A', 'Z')],
        "word:]" => WORD,
        "xdigit:]" => &[('0', '9'), ('A', 'F'), ('a', 'f')],
        _ => return None,
    };
    Some((negated, ranges))
}

/// Go 1.19's `unicode.Categories` keys (Unicode 13; no `Cn`, no `LC`).
const GO_CATEGORIES: &[&str] = &[
    "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N",
    "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So",
    "Z", "Zl", "Zp", "Zs",
];

/// Go 1.19's `unicode.Scripts` keys (Unicode 13.0), sorted. Checked one by one against
/// the real Go 1.19 `amtool`: every other script name `regex-syntax` knows is rejected.
const GO_SCRIPTS: &[&str] = &[
    "Adlam",
    "Ahom",
    "Anatolian_Hieroglyphs",
    "Arabic",
    "Armenian",
    "Avestan",
    "Balinese",
    "Bamum",
    "Bassa_Vah",
    "Batak",
    "Bengali",
    "Bhaiksuki",
    "Bopomofo",
    "Brahmi",
    "Braille",
    "Buginese",
    "Buhid",
    "Canadian_Aboriginal",
    "Carian",
    "Caucasian_Albanian",
    "Chakma",
    "Cham",
    "Cherokee",
    "Chorasmian",
    "Common",
    "Coptic",
    "Cuneiform",
    "Cypriot",
    "Cyrillic",
    "Deseret",
    "Devanagari",
    "Dives_Akuru",
    "Dogra",
    "Duployan",
    "Egyptian_Hieroglyphs",
    "Elbasan",
    "Elymaic",
    "Ethiopic",
    "Georgian",
    "Glagolitic",
    "Gothic",
    "Grantha",
    "Greek",
    "Gujarati",
    "Gunjala_Gondi",
    "Gurmukhi",
    "Han",
    "Hangul",
    "Hanifi_Rohingya",
    "Hanunoo",
    "Hatran",
    "Hebrew",
    "Hiragana",
    "Imperial_Aramaic",
    "Inherited",
    "Inscriptional_Pahlavi",
    "Inscriptional_Parthian",
    "Javanese",
    "Kaithi",
    "Kannada",
    "Katakana",
    "Kayah_Li",
    "Kharoshthi",
    "Khitan_Small_Script",
    "Khmer",
    "Khojki",
    "Khudawadi",
    "Lao",
    "Latin",
    "Lepcha",
    "Limbu",
    "Linear_A",
    "Linear_B",
    "Lisu",
    "Lycian",
    "Lydian",
    "Mahajani",
    "Makasar",
    "Malayalam",
    "Mandaic",
    "Manichaean",
    "Marchen",
    "Masaram_Gondi",
    "Medefaidrin",
    "Meetei_Mayek",
    "Mende_Kikakui",
    "Meroitic_Cursive",
    "Meroitic_Hieroglyphs",
    "Miao",
    "Modi",
    "Mongolian",
    "Mro",
    "Multani",
    "Myanmar",
    "Nabataean",
    "Nandinagari",
    "New_Tai_Lue",
    "Newa",
    "Nko",
    "Nushu",
    "Nyiakeng_Puachue_Hmong",
    "Ogham",
    "Ol_Chiki",
    "Old_Hungarian",
    "Old_Italic",
    "Old_North_Arabian",
    "Old_Permic",
    "Old_Persian",
    "Old_Sogdian",
    "Old_South_Arabian",
    "Old_Turkic",
    "Oriya",
    "Osage",
    "Osmanya",
    "Pahawh_Hmong",
    "Palmyrene",
    "Pau_Cin_Hau",
    "Phags_Pa",
    "Phoenician",
    "Psalter_Pahlavi",
    "Rejang",
    "Runic",
    "Samaritan",
    "Saurashtra",
    "Sharada",
    "Shavian",
    "Siddham",
    "SignWriting",
    "Sinhala",
    "Sogdian",
    "Sora_Sompeng",
    "Soyombo",
    "Sundanese",
    "Syloti_Nagri",
    "Syriac",
    "Tagalog",
    "Tagbanwa",
    "Tai_Le",
    "Tai_Tham",
    "Tai_Viet",
    "Takri",
    "Tamil",
    "Tangut",
    "Telugu",
    "Thaana",
    "Thai",
    "Tibetan",
    "Tifinagh",
    "Tirhuta",
    "Ugaritic",
    "Vai",
    "Wancho",
    "Warang_Citi",
    "Yezidi",
    "Yi",
    "Zanabazar_Square",
];

/// Go's `unicodeTable`: the class a `\p{name}` denotes, or `None` for an unknown name.
fn unicode_table(name: &str) -> Option<ClassUnicode> {
    match name {
        "Any" => Some(ClassUnicode::new([ClassUnicodeRange::new('\0', char::MAX)])),
        // No string holds a surrogate.
        "Cs" => Some(ClassUnicode::empty()),
        // Go's `C` is `Cc|Cf|Co|Cs`; Unicode's also has the unassigned `Cn`.
        "C" => {
            let mut class = property_class("gc=Cc")?;
            class.union(&property_class("gc=Cf")?);
            class.union(&property_class("gc=Co")?);
            Some(class)
        }
        _ if GO_CATEGORIES.contains(&name) => property_class(&format!("gc={name}")),
        _ if GO_SCRIPTS.binary_search(&name).is_ok() => property_class(&format!("sc={name}")),
        _ => None,
    }
}

/// The class of a Unicode property as `regex-syntax` knows it.
fn property_class(property: &str) -> Option<ClassUnicode> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(&format!(r"\p{{{property}}}"))
        .ok()?;
    match hir.into_kind() {
        regex_syntax::hir::HirKind::Class(Class::Unicode(class)) => Some(class),
        _ => None,
    }
}

/// Lowers a Go parse tree to a `regex-syntax` tree with the same meaning.
pub(crate) fn to_hir(node: &Node) -> Hir {
    match &node.kind {
        NodeKind::Empty => Hir::empty(),
        NodeKind::Literal { c, fold } => match char::from_u32(*c) {
            None => Hir::fail(),
            Some(ch) if *fold => {
                let mut class = ClassUnicode::new([ClassUnicodeRange::new(ch, ch)]);
                class.case_fold_simple();
                Hir::class(Class::Unicode(class))
            }
            Some(ch) => {
                let mut buf = [0; 4];
                Hir::literal(ch.encode_utf8(&mut buf).as_bytes())
            }
        },
        NodeKind::Class(class) => Hir::class(Class::Unicode(class.clone())),
        NodeKind::AnyCharNotNl => Hir::dot(Dot::AnyCharExceptLF),
        NodeKind::AnyChar => Hir::dot(Dot::AnyChar),
        NodeKind::Assertion(a) => Hir::look(match a {
            Assertion::BeginLine => Look::StartLF,
            Assertion::EndLine => Look::EndLF,
            Assertion::BeginText => Look::Start,
            Assertion::EndText => Look::End,
            Assertion::WordBoundary => Look::WordAscii,
            Assertion::NoWordBoundary => Look::WordAsciiNegate,
        }),
        NodeKind::Capture(sub) => to_hir(sub),
        NodeKind::Repeat {
            op,
            min,
            max,
            greedy,
            sub,
        } => {
            let (min, max) = match op {
                RepeatOp::Star => (0, None),
                RepeatOp::Plus => (1, None),
                RepeatOp::Quest => (0, Some(1)),
                // Both are within 0..=1000 once parsed.
                RepeatOp::Counted => (*min as u32, u32::try_from(*max).ok()),
            };
            Hir::repetition(Repetition {
                min,
                max,
                greedy: *greedy,
                sub: Box::new(to_hir(sub)),
            })
        }
        NodeKind::Concat(subs) => Hir::concat(subs.iter().map(to_hir).collect()),
        NodeKind::Alternate(subs) => Hir::alternation(subs.iter().map(to_hir).collect()),
    }
}

/// Compiles a parsed Go pattern (as written: no anchors are added here) for `regex`.
pub(crate) fn compile(node: &Node, pattern: &str) -> ParseResult<regex::Regex> {
    let text = to_hir(node).to_string();
    let build = move || {
        regex::RegexBuilder::new(&text)
            .size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(u32::MAX)
            .build()
    };
    let built = if node.height > DEEP_TREE {
        // `regex` compiles recursively; Go allows nesting 1000 deep.
        std::thread::Builder::new()
            .stack_size(DEEP_STACK_BYTES)
            .spawn(build)
            .ok()
            .and_then(|handle| handle.join().ok())
    } else {
        Some(build())
    };
    match built {
        Some(Ok(regex)) => Ok(regex),
        // Only size limits can fail here: Go's closest wording.
        _ => Err(SyntaxError::new(ErrorCode::Large, pattern)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(p: &str) -> String {
        match parse(p) {
            Ok(_) => "OK".to_owned(),
            Err(e) => e.to_string(),
        }
    }

    fn matches(p: &str, s: &str) -> bool {
        let node = parse(p).expect("pattern parses");
        compile(&node, p).expect("pattern compiles").is_match(s)
    }

    #[test]
    fn go_error_texts() {
        // Each expected text was printed by Go 1.19's amtool for the anchored pattern.
        let cases = [
            ("^(?:a**)$", "invalid nested repetition operator: `**`"),
            ("^(?:a*??)$", "invalid nested repetition operator: `*??`"),
            ("^(?:\\C)$", "invalid escape sequence: `\\C`"),
            ("^(?:(?<n>a))$", "invalid or unsupported Perl syntax: `(?<`"),
            ("^(?:a))$", "unexpected ): `^(?:a))$`"),
            ("^(?:(a)$", "missing closing ): `^(?:(a)$`"),
            ("^(?:[regexp)$", "missing closing ]: `[regexp)$`"),
            ("^(?:a{1001})$", "invalid repeat count: `{1001}`"),
            ("^(?:(a{100}){11})$", "invalid repeat count: `{11}`"),
            ("^(?:\\Qa.b)$", "missing closing ): `^(?:\\Qa.b)$`"),
            ("^(?:\\pX)$", "invalid character class range: `\\pX`"),
            (
                "^(?:\\p{greek})$",
                "invalid character class range: `\\p{greek}`",
            ),
            (
                "^(?:\\p{Vithkuqi})$",
                "invalid character class range: `\\p{Vithkuqi}`",
            ),
            ("^(?:\\Z)$", "invalid escape sequence: `\\Z`"),
            ("^(?:\\1)$", "invalid escape sequence: `\\1`"),
            ("^(?:\\8)$", "invalid escape sequence: `\\8`"),
            ("^(?:(?x)a)$", "invalid or unsupported Perl syntax: `(?x`"),
            (
                "^(?:[[:foo:]])$",
                "invalid character class range: `[:foo:]`",
            ),
            ("^(?:[a-\\d])$", "invalid escape sequence: `\\d`"),
            ("^(?:\\xZZ)$", "invalid escape sequence: `\\xZZ`"),
            ("^(?:*)$", "missing argument to repetition operator: `*`"),
            (
                "^(?:x{2}{3})$",
                "invalid nested repetition operator: `{2}{3}`",
            ),
            ("^(?:(?i)(?P<>a))$", "invalid named capture: `(?P<>`"),
            ("^(?:\\p)$", "invalid character class range: `\\p)`"),
            ("^(?:\\p{L)$", "invalid character class range: `\\p{L)$`"),
            ("^(?:[z-a])$", "invalid character class range: `z-a`"),
            ("^(?:(?-))$", "invalid or unsupported Perl syntax: `(?-)`"),
            ("^(?:(?i-))$", "invalid or unsupported Perl syntax: `(?i-)`"),
            ("^(?:\\é)$", "invalid escape sequence: `\\é`"),
            ("^(?:\\x{110000})$", "invalid escape sequence: `\\x{110000`"),
            ("(a", "missing closing ): `(a`"),
            ("a\\", "trailing backslash at end of expression: ``"),
        ];
        for (pattern, want) in cases {
            assert_eq!(err(pattern), want, "pattern {pattern:?}");
        }
        for ok in [
            "^(?:(?P<n>a)(?P<n>b))$",
            "^(?:a)|(b)$",
            "^(?:(?))$",
            "^(?:a{,5})$",
            "^(?:\\x{D800})$",
            "^(?:\\p{Greek}\\pL\\p{^Han}\\PN)$",
            "^(?:[\\d-z])$",
        ] {
            assert_eq!(err(ok), "OK", "pattern {ok:?}");
        }
    }

    #[test]
    fn go_meaning() {
        // ASCII Perl classes; Go's \s has no \v.
        assert!(!matches(r"^\d$", "٣"));
        assert!(!matches(r"^\w$", "é"));
        assert!(matches(r"^\s$", "\t"));
        assert!(!matches(r"^\s$", "\x0B"));
        // (?i) folds the Kelvin sign and the long s into \w.
        assert!(matches(r"^(?i)\w$", "\u{212A}"));
        assert!(matches(r"^(?i)\w$", "ſ"));
        assert!(!matches(r"^(?i)\W$", "\u{212A}"));
        // Literal braces, quoting, octal.
        assert!(matches(r"^a{,5}$", "a{,5}"));
        assert!(matches(r"^a{$", "a{"));
        assert!(matches(r"^\Qa.b\E$", "a.b"));
        assert!(!matches(r"^\Qa.b\E$", "axb"));
        assert!(matches(r"^\101$", "A"));
        // Rust's class set operators are literal text in Go.
        assert!(matches(r"^[a&&b]$", "&"));
        assert!(matches(r"^[[a]$", "["));
        assert!(matches(r"^\<$", "<"));
        // `.` stops at newlines unless (?s); `$` is end of text.
        assert!(!matches(r"^.*$", "a\nb"));
        assert!(matches(r"^(?s).*$", "a\nb"));
        assert!(!matches(r"^a$", "a\n"));
        assert!(matches(r"^(?m)a$", "a\nb") && !matches(r"^a$", "a\nb"));
        // ASCII word boundary.
        assert!(!matches(r"\bé", "é"));
        assert!(matches(r"a\b", "aé"));
        // A surrogate literal never matches.
        assert!(!matches(r"^\x{D800}$", "\u{FFFD}"));
        // Go's C has no unassigned code points.
        assert!(!matches(r"^\p{C}$", "\u{0378}"));
        assert!(matches(r"^\p{C}$", "\u{0007}"));
    }

    #[test]
    fn deep_nesting_within_go_limit_compiles() {
        let mut p = String::from("a");
        for _ in 0..300 {
            p = format!("(b{p})*");
        }
        let node = parse(&p).expect("parses");
        assert!(compile(&node, &p).expect("compiles").is_match("bba"));
        let mut deep = String::from("a");
        for _ in 0..1001 {
            deep = format!("({deep})");
        }
        assert_eq!(err(&deep), format!("expression nests too deeply: `{deep}`"));
    }
}
