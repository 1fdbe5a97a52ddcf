//! The YAML document as a tree of nodes, built from libyaml's events (see
//! [`super::events`]) so that the decoder can follow Go's yaml.v2 rules (YAML 1.1
//! scalars, strict fields, error accumulation).
//!
//! Every node gets a pre-order id and keeps its line; scalars resolved to something
//! other than a string keep their source text. Scalars are resolved as `yaml_serde`
//! resolves them (the decoder re-resolves plain strings by YAML 1.1's rules).
//!
//! The tree is built and dropped without recursion, so any depth is safe to hold; the
//! depth itself is limited as yaml.v2's scanner limits it, in linear time: at most
//! [`MAX_DEPTH`] nested flow collections, and at most [`MAX_DEPTH`] block indentation
//! levels (a block sequence written at its key's indentation adds none).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::events::{Event, Mark, ParseError, Parser, ScalarStyle};

/// yaml.v2's `max_flow_level` and `max_indents`: how deep flow collections, and block
/// indentation levels, may nest.
pub(crate) const MAX_DEPTH: usize = 10_000;

/// How many nodes aliases may expand to in all (see [`Builder::alias`]).
const MAX_COPIED: usize = 1_000_000;

/// The tag `!!binary` resolves to.
const BINARY_TAG: &str = "tag:yaml.org,2002:binary";

/// One YAML node.
#[derive(Debug, PartialEq)]
pub(crate) struct Node<'s> {
    /// Pre-order id.
    pub id: u32,
    /// One past the largest id in this node's subtree.
    pub end: u32,
    /// 1-based line where the node starts (its tag or anchor, if it has one).
    pub line: usize,
    /// What the node is.
    pub kind: Kind<'s>,
    /// The source text of a scalar resolved to something other than a string.
    pub raw: Option<Box<str>>,
}

/// The kinds of node, with scalars as `yaml_serde` resolved them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind<'s> {
    /// A plain null (`~`, `null`, `Null`, `NULL`, empty).
    Null,
    /// A plain `true`/`false` in one of its three spellings.
    Bool(bool),
    /// A plain integer that fits `i64` but not `u64` (negative).
    Int(i64),
    /// A plain non-negative integer (decimal, `0x`, `0o`, `0b`).
    Uint(u64),
    /// A plain float, or an integer too large for 64 bits (Go reads those as floats).
    Float(f64),
    /// Any other scalar.
    Str {
        /// The scalar's value.
        text: Cow<'s, str>,
        /// Byte offset of the value in the source, when `yaml_serde` lent it.
        offset: Option<usize>,
        /// How the scalar was written; only plain scalars are resolved.
        style: Style,
    },
    /// A sequence.
    Seq(Vec<Node<'s>>),
    /// A mapping, pairs in document order (duplicates kept).
    Map(Vec<(Node<'s>, Node<'s>)>),
}

impl Node<'_> {
    /// Whether the node is a scalar (anything but a sequence or mapping).
    pub(super) fn is_scalar(&self) -> bool {
        !matches!(self.kind, Kind::Seq(_) | Kind::Map(_))
    }

    fn contains(&self, id: u32) -> bool {
        (self.id..self.end).contains(&id)
    }
}

/// How a string scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Unquoted, untagged: yaml.v2 resolves it (`yes` is a boolean).
    Plain,
    /// Single- or double-quoted.
    Quoted,
    /// With an explicit tag (`!!str null`).
    Tagged,
    /// Quoted with escapes, a block scalar, or a plain scalar over several lines:
    /// the value is not a slice of the source.
    Other,
    /// Tagged `!!binary`: yaml.v2 base64-decodes it where it decodes the value.
    Binary,
}

impl Style {
    /// Whether yaml.v2 resolves the scalar (plain and untagged).
    pub(super) fn is_plain(self) -> bool {
        self == Style::Plain
    }
}

/// A fault of the YAML text itself, found while building the tree.
#[derive(Debug, Clone)]
pub(crate) enum SyntaxError {
    /// libyaml's (reader, scanner or parser).
    Libyaml(ParseError),
    /// Deeper than yaml.v2 allows ([`MAX_DEPTH`]): a scanner error at `mark`.
    TooDeep {
        /// Where the level that is one too many starts.
        mark: Mark,
    },
    /// `*name` before any `&name`.
    UnknownAnchor {
        /// The anchor named.
        name: String,
    },
    /// Aliases expand to more nodes than a document of this size warrants (an alias
    /// bomb); yaml.v2 refuses such a document as it decodes it.
    ExcessiveAliasing,
    /// A scalar with a core tag its value does not fit (`!!bool maybe`), in
    /// `yaml_serde`'s words.
    BadTaggedValue {
        /// 1-based line of the scalar.
        line: usize,
        /// `invalid value: string "maybe", expected a boolean`.
        message: String,
    },
}

/// A built tree and how deep it nests.
#[derive(Debug)]
pub(crate) struct Tree<'s> {
    /// The document's root node.
    pub root: Node<'s>,
    /// The number of nested collections on the longest path from the root.
    pub height: usize,
}

/// Builds the tree of the first document of `src`; `None` when there is no document.
/// Faults anywhere up to the end of that document are reported, as yaml.v2 reads a
/// document whole before decoding it.
pub(crate) fn build(src: &str) -> Result<Option<Tree<'_>>, SyntaxError> {
    let mut parser = Parser::new(src.as_bytes());
    let mut b = Builder {
        src,
        next_id: 0,
        stack: Vec::new(),
        anchors: HashMap::new(),
        open_anchors: HashMap::new(),
        flow_level: 0,
        indents: 0,
        height: 0,
        events: 0,
        copied: 0,
    };
    let mut root = None;
    loop {
        let Some((event, mark)) = parser.next().map_err(SyntaxError::Libyaml)? else {
            return Ok(None);
        };
        b.events += 1;
        let done = match event {
            Event::StreamStart | Event::DocumentStart => None,
            Event::StreamEnd | Event::DocumentEnd => {
                return Ok(root.map(|root| Tree {
                    root,
                    height: b.height,
                }));
            }
            Event::Alias { anchor } => {
                let node = b.alias(&anchor)?;
                b.attach(node)
            }
            Event::Scalar {
                anchor,
                tag,
                value,
                style,
                end,
            } => {
                let node = b.scalar(tag.as_deref(), value, style, mark, end)?;
                if let Some(name) = anchor {
                    b.anchors.insert(name, node.clone());
                }
                b.attach(node)
            }
            Event::SequenceStart { anchor, block } => {
                b.open(anchor, block, mark, Collection::Seq(Vec::new()))?;
                None
            }
            Event::MappingStart { anchor, block } => {
                b.open(anchor, block, mark, Collection::Map(Vec::new(), None))?;
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match b.close() {
                Some(node) => b.attach(node),
                None => None,
            },
        };
        if done.is_some() {
            root = done;
        }
    }
}

/// The first fault libyaml finds in `bytes` (which need not be UTF-8) up to the end of
/// the first document; `None` when there is none.
pub(crate) fn check_bytes(bytes: &[u8]) -> Option<SyntaxError> {
    let mut parser = Parser::new(bytes);
    loop {
        match parser.next() {
            Ok(Some((Event::DocumentEnd | Event::StreamEnd, _))) | Ok(None) => return None,
            Ok(Some(_)) => {}
            Err(e) => return Some(SyntaxError::Libyaml(e)),
        }
    }
}

/// A collection whose end has not been read yet.
struct Open<'s> {
    id: u32,
    line: usize,
    column: usize,
    block: bool,
    /// Whether it took one of yaml.v2's indentation levels.
    indented: bool,
    anchor: Option<String>,
    /// Ids of aliases to this collection's own anchor inside it (see [`Builder::alias`]).
    cycles: HashSet<u32>,
    items: Collection<'s>,
}

enum Collection<'s> {
    Seq(Vec<Node<'s>>),
    /// Pairs so far, and a key waiting for its value.
    Map(Vec<(Node<'s>, Node<'s>)>, Option<Node<'s>>),
}

struct Builder<'s> {
    src: &'s str,
    next_id: u32,
    stack: Vec<Open<'s>>,
    anchors: HashMap<String, Node<'s>>,
    /// Anchors of collections still open: for each, the stack positions that have it.
    open_anchors: HashMap<String, Vec<usize>>,
    flow_level: usize,
    indents: usize,
    height: usize,
    /// Events read so far.
    events: usize,
    /// Nodes made by expanding aliases so far.
    copied: usize,
}

impl<'s> Builder<'s> {
    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        id
    }

    /// Adds a finished node to the collection being built; the node itself when it is
    /// the root.
    fn attach(&mut self, node: Node<'s>) -> Option<Node<'s>> {
        let Some(top) = self.stack.last_mut() else {
            return Some(node);
        };
        match &mut top.items {
            Collection::Seq(items) => items.push(node),
            Collection::Map(pairs, key) => match key.take() {
                Some(k) => pairs.push((k, node)),
                None => *key = Some(node),
            },
        }
        None
    }

    /// Opens a collection, counting the levels yaml.v2's scanner counts: every flow
    /// collection is a flow level; every block collection is an indentation level,
    /// except a sequence written at the indentation of the mapping it is a value of.
    fn open(
        &mut self,
        anchor: Option<String>,
        block: bool,
        mark: Mark,
        items: Collection<'s>,
    ) -> Result<(), SyntaxError> {
        let mut indented = false;
        if block {
            let indentless = matches!(items, Collection::Seq(_))
                && self.stack.last().is_some_and(|parent| {
                    parent.block
                        && matches!(parent.items, Collection::Map(..))
                        && parent.column == mark.column
                });
            if !indentless {
                indented = true;
                self.indents += 1;
                if self.indents > MAX_DEPTH {
                    return Err(SyntaxError::TooDeep { mark });
                }
            }
        } else {
            self.flow_level += 1;
            if self.flow_level > MAX_DEPTH {
                return Err(SyntaxError::TooDeep { mark });
            }
        }
        if let Some(name) = &anchor {
            let at = self.stack.len();
            self.open_anchors.entry(name.clone()).or_default().push(at);
        }
        let id = self.id();
        self.stack.push(Open {
            id,
            line: mark.line + 1,
            column: mark.column,
            block,
            indented,
            anchor,
            cycles: HashSet::new(),
            items,
        });
        self.height = self.height.max(self.stack.len());
        Ok(())
    }

    /// Closes the innermost collection.
    fn close(&mut self) -> Option<Node<'s>> {
        let open = self.stack.pop()?;
        if open.block {
            self.indents -= usize::from(open.indented);
        } else {
            self.flow_level = self.flow_level.saturating_sub(1);
        }
        let kind = match open.items {
            Collection::Seq(items) => Kind::Seq(items),
            Collection::Map(pairs, _) => Kind::Map(pairs),
        };
        let mut node = Node {
            id: open.id,
            end: self.next_id,
            line: open.line,
            kind,
            raw: None,
        };
        if !open.cycles.is_empty() {
            // Unroll each alias to this node once: a copy of the node, in which the
            // alias stays an empty collection.
            node = node.copy_from(open.id, &open.cycles, Some(&node));
            self.next_id = node.end;
        }
        if let Some(name) = open.anchor {
            if let Some(at) = self.open_anchors.get_mut(&name) {
                at.pop();
                if at.is_empty() {
                    self.open_anchors.remove(&name);
                }
            }
            self.anchors.insert(name, node.clone());
        }
        Some(node)
    }

    /// `*name`: a copy of the anchored node, with ids of its own.
    ///
    /// Inside the node `&name` marks, yaml.v2 makes the alias a cycle, and decoding
    /// follows it (failing with `anchor 'name' value contains itself` if it comes round
    /// to the same alias again). A tree holds no cycles: the alias becomes an empty
    /// collection of the anchor's kind, and when the anchor's node is complete, a copy
    /// of it. Decoding sees the same first turn of the cycle, which is as far as
    /// decoding into Alertmanager's types ever gets before a type error.
    fn alias(&mut self, name: &str) -> Result<Node<'s>, SyntaxError> {
        if let Some(&at) = self.open_anchors.get(name).and_then(|at| at.last()) {
            let id = self.id();
            let (kind, line) = match self.stack.get_mut(at) {
                Some(open) => {
                    open.cycles.insert(id);
                    let kind = match open.items {
                        Collection::Seq(_) => Kind::Seq(Vec::new()),
                        Collection::Map(..) => Kind::Map(Vec::new()),
                    };
                    (kind, open.line)
                }
                None => (Kind::Null, 0),
            };
            return Ok(Node {
                id,
                end: id + 1,
                line,
                kind,
                raw: None,
            });
        }
        let Some(target) = self.anchors.get(name) else {
            return Err(SyntaxError::UnknownAnchor { name: name.into() });
        };
        // yaml.v2 shares an anchor's node among its aliases; here each is a copy, so the
        // copies are bounded: at most ten nodes per event read once past 100,000, and
        // a million in all.
        self.copied = self
            .copied
            .saturating_add((target.end - target.id) as usize);
        if self.copied > MAX_COPIED || (self.copied > 100_000 && self.copied > 10 * self.events) {
            return Err(SyntaxError::ExcessiveAliasing);
        }
        let copy = target.copy_from(self.next_id, &HashSet::new(), None);
        self.next_id = copy.end;
        Ok(copy)
    }

    /// A scalar, resolved as `yaml_serde` resolves it.
    fn scalar(
        &mut self,
        tag: Option<&str>,
        value: String,
        style: ScalarStyle,
        start: Mark,
        end: Mark,
    ) -> Result<Node<'s>, SyntaxError> {
        let id = self.id();
        let line = start.line + 1;
        let bad = |expected: &str| SyntaxError::BadTaggedValue {
            line,
            message: format!("invalid value: string {value:?}, expected {expected}"),
        };
        let kind = match tag {
            // A local tag (`!foo`): Go reads the value as if untagged.
            Some(t) if t.starts_with('!') => {
                let mut kind = self.untagged(&value, style, start, end);
                if let Kind::Str { style, .. } = &mut kind {
                    *style = Style::Tagged;
                }
                kind
            }
            Some("tag:yaml.org,2002:bool") => {
                Kind::Bool(parse_bool(&value).ok_or_else(|| bad("a boolean"))?)
            }
            Some("tag:yaml.org,2002:int") => int_kind(&value).ok_or_else(|| bad("an integer"))?,
            Some("tag:yaml.org,2002:float") => {
                Kind::Float(parse_f64(&value).ok_or_else(|| bad("a float"))?)
            }
            Some("tag:yaml.org,2002:null") => {
                if !is_null(&value) {
                    return Err(bad("null"));
                }
                Kind::Null
            }
            Some(t) => {
                let mut kind = self.string(&value, style, start, end);
                if t == BINARY_TAG
                    && let Kind::Str { style, .. } = &mut kind
                {
                    *style = Style::Binary;
                }
                kind
            }
            None if style == ScalarStyle::Plain => self.untagged(&value, style, start, end),
            None => self.string(&value, style, start, end),
        };
        let raw = match kind {
            Kind::Str { .. } | Kind::Seq(_) | Kind::Map(_) => None,
            _ => Some(value.into_boxed_str()),
        };
        Ok(Node {
            id,
            end: id + 1,
            line,
            kind,
            raw,
        })
    }

    /// An untagged plain scalar: null, boolean, integer, float, else string.
    fn untagged(&self, v: &str, style: ScalarStyle, start: Mark, end: Mark) -> Kind<'s> {
        if is_null(v) || v.is_empty() {
            return Kind::Null;
        }
        if let Some(b) = parse_bool(v) {
            return Kind::Bool(b);
        }
        if let Some(kind) = int_kind(v) {
            return kind;
        }
        if !digits_but_not_number(v)
            && let Some(f) = parse_f64(v)
        {
            return Kind::Float(f);
        }
        self.string(v, style, start, end)
    }

    /// A string scalar, borrowed from the source when its value is written there as is.
    fn string(&self, v: &str, style: ScalarStyle, start: Mark, end: Mark) -> Kind<'s> {
        let inset = match style {
            ScalarStyle::Plain => Some(0),
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Some(1),
            ScalarStyle::Block => None,
        };
        let at = inset.and_then(|inset| {
            let value_end = end.index.checked_sub(inset)?;
            let value_start = value_end.checked_sub(v.len())?;
            (value_start >= start.index && self.src.get(value_start..value_end) == Some(v))
                .then_some(value_start)
        });
        match at {
            Some(offset) => {
                let text = &self.src[offset..offset + v.len()];
                Kind::Str {
                    text: Cow::Borrowed(text),
                    offset: Some(offset),
                    style: scalar_style(self.src.as_bytes(), offset, v.len()),
                }
            }
            None => Kind::Str {
                text: Cow::Owned(v.to_owned()),
                offset: None,
                style: Style::Other,
            },
        }
    }
}

impl<'s> Node<'s> {
    /// A copy of the subtree, made without recursion, its nodes numbered in pre-order
    /// from `first`; nodes whose ids are in `cycles` become copies of `template` (in
    /// which they stay as they are).
    fn copy_from(
        &self,
        first: u32,
        cycles: &HashSet<u32>,
        template: Option<&Node<'s>>,
    ) -> Node<'s> {
        enum Step<'a, 's> {
            Enter(&'a Node<'s>, bool),
            Leave(&'a Node<'s>, u32),
        }
        let mut next = first;
        let mut steps = vec![Step::Enter(self, true)];
        let mut done: Vec<Node<'s>> = Vec::new();
        while let Some(step) = steps.pop() {
            match step {
                Step::Enter(n, expand) => {
                    let (n, expand) = match template {
                        Some(t) if expand && cycles.contains(&n.id) => (t, false),
                        _ => (n, expand),
                    };
                    let id = next;
                    next = next.saturating_add(1);
                    match &n.kind {
                        Kind::Seq(items) => {
                            steps.push(Step::Leave(n, id));
                            steps.extend(items.iter().rev().map(|c| Step::Enter(c, expand)));
                        }
                        Kind::Map(pairs) => {
                            steps.push(Step::Leave(n, id));
                            for (k, v) in pairs.iter().rev() {
                                steps.push(Step::Enter(v, expand));
                                steps.push(Step::Enter(k, expand));
                            }
                        }
                        scalar => done.push(Node {
                            id,
                            end: id + 1,
                            line: n.line,
                            kind: scalar.clone(),
                            raw: n.raw.clone(),
                        }),
                    }
                }
                Step::Leave(n, id) => {
                    let kind = match &n.kind {
                        Kind::Seq(items) => {
                            Kind::Seq(done.split_off(done.len().saturating_sub(items.len())))
                        }
                        Kind::Map(pairs) => {
                            let flat = done.split_off(done.len().saturating_sub(2 * pairs.len()));
                            let mut it = flat.into_iter();
                            let mut out = Vec::with_capacity(pairs.len());
                            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                                out.push((k, v));
                            }
                            Kind::Map(out)
                        }
                        _ => continue,
                    };
                    done.push(Node {
                        id,
                        end: next,
                        line: n.line,
                        kind,
                        raw: None,
                    });
                }
            }
        }
        done.pop().unwrap_or(Node {
            id: first,
            end: first + 1,
            line: self.line,
            kind: Kind::Null,
            raw: None,
        })
    }

    /// The node with id `target` in this subtree.
    pub(super) fn find(&self, target: u32) -> Option<&Node<'s>> {
        let mut n = self;
        loop {
            if n.id == target {
                return Some(n);
            }
            if !n.contains(target) {
                return None;
            }
            n = match &n.kind {
                Kind::Seq(items) => items.get(items.partition_point(|c| c.end <= target))?,
                Kind::Map(pairs) => {
                    let (k, v) = pairs.get(pairs.partition_point(|(_, v)| v.end <= target))?;
                    if k.contains(target) { k } else { v }
                }
                _ => return None,
            };
        }
    }
}

impl Clone for Node<'_> {
    fn clone(&self) -> Self {
        self.copy_from(self.id, &HashSet::new(), None)
    }
}

impl Drop for Node<'_> {
    /// Drops the subtree without recursion.
    fn drop(&mut self) {
        fn children<'s>(kind: &mut Kind<'s>, into: &mut Vec<Node<'s>>) {
            match kind {
                Kind::Seq(items) => into.append(items),
                Kind::Map(pairs) => {
                    for (k, v) in pairs.drain(..) {
                        into.push(k);
                        into.push(v);
                    }
                }
                _ => {}
            }
        }
        let mut rest = Vec::new();
        children(&mut self.kind, &mut rest);
        while let Some(mut n) = rest.pop() {
            children(&mut n.kind, &mut rest);
        }
    }
}

fn is_null(v: &str) -> bool {
    matches!(v, "null" | "Null" | "NULL" | "~")
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Leading zeros followed by digits: a string by YAML 1.2, as `yaml_serde` reads it.
fn digits_but_not_number(v: &str) -> bool {
    let v = v.strip_prefix(['-', '+']).unwrap_or(v);
    v.len() > 1 && v.starts_with('0') && v[1..].bytes().all(|b| b.is_ascii_digit())
}

/// An integer as `yaml_serde` reads one: 64 bits, else 128 bits kept as a float.
fn int_kind(v: &str) -> Option<Kind<'static>> {
    if let Some(u) = unsigned(v, u64::from_str_radix) {
        return Some(Kind::Uint(u));
    }
    if let Some(i) = negative(v, i64::from_str_radix) {
        return Some(match u64::try_from(i) {
            Ok(u) => Kind::Uint(u),
            Err(_) => Kind::Int(i),
        });
    }
    if let Some(u) = unsigned(v, u128::from_str_radix) {
        return Some(Kind::Float(u as f64));
    }
    negative(v, i128::from_str_radix).map(|i| Kind::Float(i as f64))
}

type Radix<T> = fn(&str, u32) -> Result<T, std::num::ParseIntError>;

fn unsigned<T>(v: &str, parse: Radix<T>) -> Option<T> {
    let unsigned = v.strip_prefix('+').unwrap_or(v);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = unsigned.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(n) = parse(rest, radix) {
                return Some(n);
            }
        }
    }
    if unsigned.starts_with(['+', '-']) || digits_but_not_number(v) {
        return None;
    }
    parse(unsigned, 10).ok()
}

fn negative<T>(v: &str, parse: Radix<T>) -> Option<T> {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = v.strip_prefix(prefix)
            && let Ok(n) = parse(&format!("-{rest}"), radix)
        {
            return Some(n);
        }
    }
    if digits_but_not_number(v) {
        return None;
    }
    parse(v, 10).ok()
}

fn parse_f64(v: &str) -> Option<f64> {
    let unsigned = match v.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => v,
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        _ => {}
    }
    match v {
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// The style of the scalar whose value is `src[offset..offset + len]`: quoted when a
/// quote surrounds it, tagged when the token before it is a tag (`!!str`), else plain.
fn scalar_style(src: &[u8], offset: usize, len: usize) -> Style {
    let before = offset.checked_sub(1).and_then(|i| src.get(i)).copied();
    let after = src.get(offset + len).copied();
    if matches!(before, Some(b'"' | b'\'')) && before == after {
        return Style::Quoted;
    }
    let mut i = offset;
    while i > 0 && matches!(src[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    let end = i;
    while i > 0
        && !matches!(
            src[i - 1],
            b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b','
        )
    {
        i -= 1;
    }
    if end > i && src[i] == b'!' {
        Style::Tagged
    } else {
        Style::Plain
    }
}

/// The 1-based line of the node with `target` id in `root`.
pub(crate) fn locate(root: &Node<'_>, target: u32) -> Option<usize> {
    root.find(target).map(|n| n.line)
}

/// The source text of the scalars whose ids are in `wanted`.
pub(crate) fn raw_texts(root: &Node<'_>, wanted: &HashSet<u32>) -> HashMap<u32, String> {
    wanted
        .iter()
        .filter_map(|&id| {
            let n = root.find(id)?;
            let text = match (&n.raw, &n.kind) {
                (Some(raw), _) => raw.to_string(),
                (None, Kind::Str { text, .. }) => text.to_string(),
                _ => return None,
            };
            Some((id, text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(src: &str) -> Node<'_> {
        build(src).expect("valid YAML").expect("a document").root
    }

    #[test]
    fn ids_are_preorder_and_plainness_is_known() {
        let src = "a: yes\nb: 'yes'\nc: [1, \"x\\ty\"]\nd: ~\n";
        let root = tree(src);
        let Kind::Map(pairs) = &root.kind else {
            panic!("a mapping")
        };
        assert_eq!(root.id, 0);
        assert_eq!(root.end, 11);
        let (k, v) = &pairs[0];
        assert_eq!((k.id, v.id), (1, 2));
        assert!(
            matches!(&v.kind, Kind::Str { text, style: Style::Plain, offset: Some(3) } if text == "yes")
        );
        assert!(matches!(
            &pairs[1].1.kind,
            Kind::Str {
                style: Style::Quoted,
                ..
            }
        ));
        let Kind::Seq(items) = &pairs[2].1.kind else {
            panic!("a sequence")
        };
        assert_eq!(items[0].kind, Kind::Uint(1));
        assert!(matches!(
            &items[1].kind,
            Kind::Str {
                offset: None,
                style: Style::Other,
                ..
            }
        ));
        assert_eq!(pairs[3].1.kind, Kind::Null);
    }

    #[test]
    fn tags_are_seen() {
        let src = "a: !!str null\nb: [!!str yes, \"yes\", yes]\n";
        let root = tree(src);
        let Kind::Map(pairs) = &root.kind else {
            panic!("a mapping")
        };
        assert!(matches!(
            &pairs[0].1.kind,
            Kind::Str {
                style: Style::Tagged,
                ..
            }
        ));
        let Kind::Seq(items) = &pairs[1].1.kind else {
            panic!("a sequence")
        };
        let styles: Vec<Style> = items
            .iter()
            .map(|i| match &i.kind {
                Kind::Str { style, .. } => *style,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(styles, [Style::Tagged, Style::Quoted, Style::Plain]);
    }

    #[test]
    fn empty_documents_have_no_tree() {
        assert!(build("").expect("valid").is_none());
        assert!(build("# just a comment\n").expect("valid").is_none());
    }

    #[test]
    fn locate_finds_lines_of_any_node() {
        let src = "a:\n  b: 0x1F\n  c:\n    - {x: y}\n";
        let root = tree(src);
        // ids: 0 root, 1 a, 2 map, 3 b, 4 0x1F, 5 c, 6 seq, 7 {x: y}, 8 x, 9 y
        assert_eq!(locate(&root, 4), Some(2));
        assert_eq!(locate(&root, 6), Some(4));
        assert_eq!(locate(&root, 9), Some(4));
        assert_eq!(locate(&root, 2), Some(2));
    }

    #[test]
    fn raw_texts_recover_resolved_scalars() {
        let src = "a: 0x1F\nb: True\nc: [1.50, ~]\n";
        let root = tree(src);
        let wanted: HashSet<u32> = [2, 4, 7, 8].into_iter().collect();
        let texts = raw_texts(&root, &wanted);
        assert_eq!(texts.get(&2).map(String::as_str), Some("0x1F"));
        assert_eq!(texts.get(&4).map(String::as_str), Some("True"));
        assert_eq!(texts.get(&7).map(String::as_str), Some("1.50"));
        assert_eq!(texts.get(&8).map(String::as_str), Some("~"));
    }

    #[test]
    fn aliases_expand_in_place_with_their_own_ids() {
        let src = "x: &a {k: v}\ny: *a\n";
        let root = tree(src);
        let Kind::Map(pairs) = &root.kind else {
            panic!("a mapping")
        };
        // ids: 0 root, 1 x, 2 {k: v}, 3 k, 4 v, 5 y, 6 the copy, 7 k, 8 v
        assert_eq!(pairs[1].1.id, 6);
        assert!(matches!(&pairs[1].1.kind, Kind::Map(p) if p.len() == 1));
        assert_eq!(locate(&root, 8), Some(1));
    }

    #[test]
    fn alias_bombs_are_refused_before_they_expand() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            src.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        assert!(matches!(build(&src), Err(SyntaxError::ExcessiveAliasing)));
    }

    #[test]
    fn depth_is_counted_as_yaml_v2_counts_it() {
        let flow = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(
            build(&flow(MAX_DEPTH))
                .expect("at the limit")
                .map(|t| t.height),
            Some(MAX_DEPTH)
        );
        assert!(matches!(
            build(&flow(MAX_DEPTH + 1)),
            Err(SyntaxError::TooDeep { .. })
        ));
        // `k:` takes one level, the first `-` (at the key's indentation) none, and every
        // further `-` one.
        let dashes = |n: usize| format!("k:\n{}x\n", "- ".repeat(n));
        assert!(build(&dashes(MAX_DEPTH)).is_ok());
        assert!(
            matches!(build(&dashes(MAX_DEPTH + 1)), Err(SyntaxError::TooDeep { mark }) if mark.line == 1)
        );
    }
}
