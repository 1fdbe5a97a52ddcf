//! A decoder over the node tree that behaves as Go's yaml.v2 `UnmarshalStrict`:
//!
//! * type mismatches, unknown fields, fields and map keys set twice are *collected*
//!   (`line N: ...`) and decoding goes on;
//! * errors raised by Alertmanager's own `UnmarshalYAML` checks *abort* at once, and
//!   drop what was collected, which is what yaml.v2 does;
//! * a custom check is skipped when its subtree collected a fault (yaml.v2 hands the
//!   fault back to it as a `TypeError`).
//!
//! Messages name Go's types as Alertmanager's decoding sees them (`config.plain` for
//! every type decoded through a `plain` alias).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::node::{Kind, Node, Style, locate};
use super::resolve::{Resolved, resolve_plain};
use crate::config::go_quote::go_quote;
use crate::error::{DecodeFault, Error, Result};

/// A collected fault, before its line is known.
struct Pending {
    node: u32,
    offset: Option<usize>,
    path: String,
    message: String,
}

/// What yaml.v2's `prepare` decides for a node.
pub(crate) enum Prepared {
    /// Null: no `UnmarshalYAML`, the target keeps its zero value.
    Zero,
    /// A quoted `"null"` or `"~"`: no `UnmarshalYAML`; string kinds get the text, other
    /// types fail to decode it.
    Quoted(String),
    /// Decode normally.
    Proceed,
}

/// Whether the source text contains spellings of null, booleans and integers other
/// than the ones the resolved value prints as (checked once over the whole text; when
/// absent, a scalar's source text is known without asking the parser again).
struct Spellings {
    capital_null: bool,
    capital_bool: bool,
    int_prefix: bool,
}

impl Spellings {
    fn of(src: &str) -> Spellings {
        Spellings {
            capital_null: src.contains("Null") || src.contains("NULL"),
            capital_bool: ["True", "TRUE", "False", "FALSE"]
                .iter()
                .any(|w| src.contains(w)),
            int_prefix: src.contains('+')
                || ["0x", "0X", "0o", "0O", "0b", "0B"]
                    .iter()
                    .any(|p| src.contains(p)),
        }
    }
}

/// The decoding state.
pub(crate) struct Decoder<'s, 't> {
    src: &'s str,
    /// Which spellings of resolved scalars the text may contain, to know when their
    /// source text must be fetched.
    spelled: Spellings,
    root: &'t Node<'s>,
    texts: HashMap<u32, String>,
    missing_texts: HashSet<u32>,
    faults: Vec<Pending>,
    path: String,
    /// An error that ends decoding at once (yaml.v2's `failf`), such as invalid base64
    /// in a `!!binary` value: once set, decoding stops at the next field or entry.
    fatal: Option<Error>,
    /// Paths of `null` list entries Alertmanager 0.25 would dereference.
    pub null_entries: Vec<String>,
    /// Matcher strings and regexes already checked.
    pub memo: crate::validate::alertmanager::ParseMemo,
}

impl<'s, 't> Decoder<'s, 't> {
    /// A decoder for the tree `root` of `src`, with the raw scalar texts known so far.
    pub(super) fn new(src: &'s str, root: &'t Node<'s>, texts: HashMap<u32, String>) -> Self {
        Decoder {
            src,
            spelled: Spellings::of(src),
            root,
            texts,
            missing_texts: HashSet::new(),
            faults: Vec::new(),
            fatal: None,
            path: String::new(),
            null_entries: Vec::new(),
            memo: Default::default(),
        }
    }

    /// Ids of scalars whose source text was needed but is not known yet.
    pub(super) fn missing_texts(&self) -> &HashSet<u32> {
        &self.missing_texts
    }

    /// How many faults have been collected (an error that ends decoding counts as one).
    pub(super) fn fault_count(&self) -> usize {
        self.faults.len() + usize::from(self.fatal.is_some())
    }

    /// The error that ended decoding, if one did.
    fn stop(&self) -> Result<()> {
        match &self.fatal {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The collected faults as one error, lines filled in; `None` when there are none.
    /// An error that ended decoding comes instead, as yaml.v2 drops what it collected.
    pub(super) fn faults_error(&self) -> Option<Error> {
        if let Some(e) = &self.fatal {
            return Some(e.clone());
        }
        if self.faults.is_empty() {
            return None;
        }
        let faults = self
            .faults
            .iter()
            .map(|p| DecodeFault {
                line: p
                    .offset
                    .map(|o| line_of_offset(self.src, o))
                    .or_else(|| locate(self.root, p.node))
                    .unwrap_or(0),
                path: p.path.clone(),
                message: p.message.clone(),
            })
            .collect();
        Some(Error::YamlDecode { faults })
    }

    /// The current configuration path (`route.routes[2]`).
    pub(super) fn path(&self) -> &str {
        &self.path
    }

    /// The path of field `name` below the current one.
    pub(super) fn path_of(&self, name: &str) -> String {
        join(&self.path, name)
    }

    /// Runs `f` with `.name` appended to the path.
    pub(super) fn field<R>(&mut self, name: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        let len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(name);
        let r = f(self);
        self.path.truncate(len);
        r
    }

    /// Runs `f` with `[index]` appended to the path.
    pub(super) fn index<R>(
        &mut self,
        index: impl std::fmt::Display,
        f: impl FnOnce(&mut Self) -> R,
    ) -> R {
        let len = self.path.len();
        self.path.push_str(&format!("[{index}]"));
        let r = f(self);
        self.path.truncate(len);
        r
    }

    /// Records a type mismatch: `cannot unmarshal !!str `x` into bool`.
    pub(super) fn type_error(&mut self, n: &Node<'s>, go_type: &str) {
        let tag = self.tag(n);
        let value = match &n.kind {
            Kind::Seq(_) | Kind::Map(_) => String::new(),
            _ => {
                let raw = self.raw(n).into_owned();
                if raw.len() > 10 {
                    format!(" `{}...`", String::from_utf8_lossy(&raw.as_bytes()[..7]))
                } else {
                    format!(" `{raw}`")
                }
            }
        };
        let message = format!("cannot unmarshal {tag}{value} into {go_type}");
        self.fault(n, self.path.clone(), message);
    }

    fn fault(&mut self, n: &Node<'s>, path: String, message: String) {
        let offset = match &n.kind {
            Kind::Str { offset, .. } => *offset,
            _ => None,
        };
        self.faults.push(Pending {
            node: n.id,
            offset,
            path,
            message,
        });
    }

    /// The YAML tag of a node as yaml.v2 names it in messages.
    fn tag(&self, n: &Node<'s>) -> &'static str {
        match &n.kind {
            Kind::Str {
                style: Style::Binary,
                ..
            } => "!!binary",
            Kind::Null => "!!null",
            Kind::Bool(_) => "!!bool",
            Kind::Int(_) | Kind::Uint(_) => "!!int",
            Kind::Float(_) => "!!float",
            Kind::Str { text, style, .. } => {
                if style.is_plain() {
                    resolve_plain(text).tag()
                } else {
                    "!!str"
                }
            }
            Kind::Seq(_) => "!!seq",
            Kind::Map(_) => "!!map",
        }
    }

    /// The source text of a scalar (yaml.v2's `n.value`).
    pub(super) fn raw<'n>(&mut self, n: &'n Node<'s>) -> Cow<'n, str> {
        let canonical = match &n.kind {
            Kind::Str { text, .. } => return Cow::Borrowed(text.as_ref()),
            Kind::Seq(_) | Kind::Map(_) => return Cow::Borrowed(""),
            // Spelled `true`/`false` unless the text has other spellings somewhere.
            Kind::Bool(b) if !self.spelled.capital_bool => Some(b.to_string()),
            // Decimal unless the text has base prefixes or signs somewhere.
            Kind::Int(i) if !self.spelled.int_prefix => Some(i.to_string()),
            Kind::Uint(u) if !self.spelled.int_prefix => Some(u.to_string()),
            _ => None,
        };
        if let Some(text) = canonical {
            return Cow::Owned(text);
        }
        if let Some(t) = self.texts.get(&n.id) {
            return Cow::Owned(t.clone());
        }
        self.missing_texts.insert(n.id);
        Cow::Owned(match &n.kind {
            Kind::Bool(b) => b.to_string(),
            Kind::Int(i) => i.to_string(),
            Kind::Uint(u) => u.to_string(),
            Kind::Float(f) => f.to_string(),
            _ => String::new(),
        })
    }

    /// What yaml.v2 resolves a scalar to.
    fn resolved(&self, n: &Node<'s>) -> Option<Resolved> {
        Some(match &n.kind {
            Kind::Null => Resolved::Null,
            Kind::Bool(b) => Resolved::Bool(*b),
            Kind::Int(i) => Resolved::Int(*i),
            Kind::Uint(u) => match i64::try_from(*u) {
                Ok(i) => Resolved::Int(i),
                Err(_) => Resolved::Uint(*u),
            },
            Kind::Float(f) => Resolved::Float(*f),
            Kind::Str { text, style, .. } => {
                if style.is_plain() {
                    resolve_plain(text)
                } else {
                    Resolved::Str
                }
            }
            Kind::Seq(_) | Kind::Map(_) => return None,
        })
    }

    /// Whether the node resolves to null (decoded into a plain Go value, it gives the zero
    /// value).
    pub(super) fn is_null(&self, n: &Node<'s>) -> bool {
        self.resolved(n) == Some(Resolved::Null)
    }

    /// yaml.v2's `prepare` null test, made before decoding into a pointer or a type with
    /// its own `UnmarshalYAML`: a scalar `null` or `~` in any style but tagged, or a
    /// plain empty scalar (but not `Null` or `NULL`, which do reach `UnmarshalYAML`).
    pub(super) fn prepare(&mut self, n: &Node<'s>) -> Prepared {
        match &n.kind {
            Kind::Null => {
                if self.spelled.capital_null && matches!(self.raw(n).as_ref(), "Null" | "NULL") {
                    Prepared::Proceed
                } else {
                    Prepared::Zero
                }
            }
            Kind::Str { text, style, .. }
                if !matches!(style, Style::Tagged | Style::Binary)
                    && (text == "null" || text == "~") =>
            {
                Prepared::Quoted(text.to_string())
            }
            _ => Prepared::Proceed,
        }
    }

    /// [`Decoder::prepare`] for a pointer or custom type named `go_type` (as Go prints it,
    /// `*config.URL`): `true` when the node stops there (the value stays zero; a quoted
    /// `"null"` is also a type error, since yaml.v2 then decodes the string into the type
    /// itself).
    pub(super) fn skip_null(&mut self, n: &Node<'s>, go_type: &str) -> bool {
        match self.prepare(n) {
            Prepared::Zero => true,
            Prepared::Quoted(_) => {
                self.type_error(n, go_type);
                true
            }
            Prepared::Proceed => false,
        }
    }

    /// A Go `string`: null is `""`, any other scalar its source text, a collection a
    /// type error (`None`).
    pub(super) fn string(&mut self, n: &Node<'s>) -> Option<String> {
        self.string_as(n, "string")
    }

    /// A Go string-kinded type named `go_type` (`config.plain` for `Secret`).
    pub(super) fn string_as(&mut self, n: &Node<'s>, go_type: &str) -> Option<String> {
        match self.resolved(n) {
            None => {
                self.type_error(n, go_type);
                None
            }
            Some(Resolved::Null) => Some(String::new()),
            Some(_) if is_binary(n) => {
                let bytes = self.binary(n)?;
                // Go keeps the bytes as they are; a Rust string holds UTF-8 only.
                Some(String::from_utf8_lossy(&bytes).into_owned())
            }
            Some(_) => Some(self.raw(n).into_owned()),
        }
    }

    /// A `!!binary` scalar's bytes, as yaml.v2 decodes it wherever it decodes the value:
    /// invalid base64 ends decoding (`None`, the error kept for [`Decoder::stop`]).
    fn binary(&mut self, n: &Node<'s>) -> Option<Vec<u8>> {
        let decoded = go_base64(&self.raw(n));
        if decoded.is_none() && self.fatal.is_none() {
            self.fatal = Some(Error::YamlSyntax {
                line: None,
                problem: "!!binary value contains invalid base64 data".into(),
            });
        }
        decoded
    }

    /// Decoding a `!!binary` scalar into a non-string type: yaml.v2 checks its base64
    /// first; `false` when that ended decoding.
    fn binary_checked(&mut self, n: &Node<'s>) -> bool {
        !is_binary(n) || self.binary(n).is_some()
    }

    /// A Go `bool`: null is `false`; `None` for a type error.
    pub(super) fn bool(&mut self, n: &Node<'s>) -> Option<bool> {
        if !self.binary_checked(n) {
            return None;
        }
        match self.resolved(n) {
            Some(Resolved::Null) => Some(false),
            Some(Resolved::Bool(b)) => Some(b),
            _ => {
                self.type_error(n, "bool");
                None
            }
        }
    }

    /// A Go `uint64`: null is 0; `None` for a type error.
    pub(super) fn uint64(&mut self, n: &Node<'s>) -> Option<u64> {
        if !self.binary_checked(n) {
            return None;
        }
        let v = match self.resolved(n) {
            Some(Resolved::Null) => return Some(0),
            Some(Resolved::Int(i)) => u64::try_from(i).ok(),
            Some(Resolved::Uint(u)) => Some(u),
            Some(Resolved::Float(f)) if (0.0..=u64::MAX as f64).contains(&f) => Some(f as u64),
            _ => None,
        };
        if v.is_none() {
            self.type_error(n, "uint64");
        }
        v
    }

    /// A Go `int64`: null is 0; `None` for a type error.
    pub(super) fn int64(&mut self, n: &Node<'s>) -> Option<i64> {
        if !self.binary_checked(n) {
            return None;
        }
        let v = match self.resolved(n) {
            Some(Resolved::Null) => return Some(0),
            Some(Resolved::Int(i)) => Some(i),
            Some(Resolved::Uint(u)) => i64::try_from(u).ok(),
            Some(Resolved::Float(f)) if f <= i64::MAX as f64 && f >= i64::MIN as f64 => {
                Some(f as i64)
            }
            _ => None,
        };
        if v.is_none() {
            self.type_error(n, "int64");
        }
        v
    }

    /// A Go slice: null is `None` (nil), a sequence decodes each element with `elem`
    /// (path `[i]`), anything else is a type error into `go_type`.
    pub(super) fn seq<T>(
        &mut self,
        n: &Node<'s>,
        go_type: &str,
        mut elem: impl FnMut(&mut Self, &Node<'s>) -> Result<Option<T>>,
    ) -> Result<Option<Vec<T>>> {
        match &n.kind {
            Kind::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    self.stop()?;
                    if let Some(v) = self.index(i, |d| elem(d, item))? {
                        out.push(v);
                    }
                }
                Ok(Some(out))
            }
            _ if self.is_null(n) => Ok(None),
            _ => {
                self.type_error(n, go_type);
                Ok(None)
            }
        }
    }

    /// A Go `[]string`.
    pub(super) fn strings(&mut self, n: &Node<'s>) -> Result<Option<Vec<String>>> {
        self.seq(n, "[]string", |d, item| Ok(d.string(item)))
    }

    /// A Go `map[string]V`: null is empty, a mapping decodes keys as strings and values
    /// with `value` (path `.key`), `<<` merges, a key set twice is a fault at the value
    /// (`key "a" already set in map`); anything else is a type error into `go_type`.
    pub(super) fn map<V>(
        &mut self,
        n: &Node<'s>,
        go_type: &str,
        value: &mut dyn FnMut(&mut Self, &Node<'s>) -> Result<Option<V>>,
    ) -> Result<Vec<(String, V)>> {
        let mut out: Vec<(String, V)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        self.map_into(n, go_type, value, &mut out, &mut seen)?;
        Ok(out)
    }

    fn map_into<V>(
        &mut self,
        n: &Node<'s>,
        go_type: &str,
        value: &mut dyn FnMut(&mut Self, &Node<'s>) -> Result<Option<V>>,
        out: &mut Vec<(String, V)>,
        seen: &mut HashSet<String>,
    ) -> Result<()> {
        let Some(pairs) = self.pairs(n, go_type) else {
            return Ok(());
        };
        for (k, v) in pairs {
            self.stop()?;
            if self.is_merge(k) {
                for m in self.merge_sources(v)? {
                    self.map_into(m, go_type, value, out, seen)?;
                }
                continue;
            }
            let Some(key) = self.string(k) else {
                continue;
            };
            let Some(decoded) = self.field(&key, |d| value(d, v))? else {
                continue;
            };
            if seen.contains(&key) {
                let message = format!("key {} already set in map", go_quote(&key));
                self.fault(v, self.path_of(&key), message);
                continue;
            }
            seen.insert(key.clone());
            out.push((key, decoded));
        }
        Ok(())
    }

    /// A Go `map[string]string`.
    pub(super) fn string_map(&mut self, n: &Node<'s>) -> Result<BTreeMap<String, String>> {
        let pairs = self.map(n, "map[string]string", &mut |d, v| Ok(d.string(v)))?;
        Ok(pairs.into_iter().collect())
    }

    /// The pairs of a mapping decoded into a Go struct or map named `go_type`; `None` for
    /// null (nothing to do) and for anything else (a type error, recorded).
    fn pairs<'n>(&mut self, n: &'n Node<'s>, go_type: &str) -> Option<&'n [(Node<'s>, Node<'s>)]> {
        match &n.kind {
            Kind::Map(pairs) => Some(pairs),
            _ if self.is_null(n) => None,
            _ => {
                self.type_error(n, go_type);
                None
            }
        }
    }

    fn is_merge(&self, k: &Node<'s>) -> bool {
        matches!(&k.kind, Kind::Str { text, style: Style::Plain, .. } if text == "<<")
    }

    /// The mappings a `<<` value merges, in the order yaml.v2 applies them.
    fn merge_sources<'n>(&self, v: &'n Node<'s>) -> Result<Vec<&'n Node<'s>>> {
        let fail = || Error::YamlSyntax {
            line: None,
            problem: "map merge requires map or sequence of maps as the value".into(),
        };
        match &v.kind {
            Kind::Map(_) => Ok(vec![v]),
            Kind::Seq(items) => {
                // Later entries first: earlier ones take precedence.
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter().rev() {
                    if !matches!(item.kind, Kind::Map(_)) {
                        return Err(fail());
                    }
                    out.push(item);
                }
                Ok(out)
            }
            _ => Err(fail()),
        }
    }

    /// A Go struct decoded strictly (`go_type` is its name in messages): a mapping whose
    /// keys must be among `fields`, each at most once; `field` decodes the value of field
    /// number `i` (path `.name`). Unknown and repeated keys are faults at the key. Not a
    /// mapping: a type error. Null: nothing happens (the caller keeps its defaults).
    pub(super) fn fields(
        &mut self,
        n: &Node<'s>,
        go_type: &str,
        names: &[&str],
        field: &mut dyn FnMut(&mut Self, usize, &Node<'s>) -> Result<()>,
    ) -> Result<()> {
        let Some(pairs) = self.pairs(n, go_type) else {
            return Ok(());
        };
        let mut done = vec![false; names.len()];
        for (k, v) in pairs {
            self.stop()?;
            if self.is_merge(k) {
                for m in self.merge_sources(v)? {
                    self.fields(m, go_type, names, field)?;
                }
                continue;
            }
            let Some(key) = self.string(k) else {
                continue;
            };
            match names.iter().position(|f| *f == key) {
                Some(i) => {
                    if done[i] {
                        let message = format!("field {key} already set in type {go_type}");
                        self.fault(k, self.path_of(&key), message);
                        continue;
                    }
                    done[i] = true;
                    self.field(&key, |d| field(d, i, v))?;
                }
                None => {
                    let message = format!("field {key} not found in type {go_type}");
                    self.fault(k, self.path_of(&key), message);
                }
            }
        }
        Ok(())
    }

    /// An error at the current path, for Alertmanager checks that abort decoding.
    pub(super) fn fail(&self, make: impl FnOnce(String) -> Error) -> Error {
        match &self.fatal {
            Some(e) => e.clone(),
            None => make(self.path.clone()),
        }
    }
}

fn is_binary(n: &Node<'_>) -> bool {
    matches!(
        n.kind,
        Kind::Str {
            style: Style::Binary,
            ..
        }
    )
}

/// Go's `base64.StdEncoding.DecodeString`: the standard alphabet, `=` padding required,
/// line breaks ignored; `None` for anything else.
fn go_base64(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let chars: Vec<u8> = text
        .bytes()
        .filter(|c| !matches!(c, b'\r' | b'\n'))
        .collect();
    if !chars.len().is_multiple_of(4) {
        return None;
    }
    let quanta = chars.len() / 4;
    let mut out = Vec::with_capacity(quanta * 3);
    for (i, quantum) in chars.chunks(4).enumerate() {
        let pads = quantum.iter().rev().take_while(|c| **c == b'=').count();
        if pads > 2 || (pads > 0 && i + 1 != quanta) {
            return None;
        }
        let mut bits = 0u32;
        for c in &quantum[..4 - pads] {
            bits = bits << 6 | value(*c)?;
        }
        bits <<= 6 * pads;
        out.extend_from_slice(&bits.to_be_bytes()[1..4 - pads]);
    }
    Some(out)
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// The 1-based line of byte `offset` in `src`.
fn line_of_offset(src: &str, offset: usize) -> usize {
    let b = &src.as_bytes()[..offset.min(src.len())];
    let breaks = b
        .iter()
        .enumerate()
        .filter(|(i, c)| **c == b'\n' || (**c == b'\r' && b.get(i + 1) != Some(&b'\n')))
        .count();
    breaks + 1
}
