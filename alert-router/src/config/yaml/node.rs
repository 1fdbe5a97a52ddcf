//! The YAML document as a tree of nodes, built with `yaml_serde`, so that the decoder can
//! follow Go's yaml.v2 rules (YAML 1.1 scalars, strict fields, error accumulation).
//!
//! Every node gets a pre-order id. `yaml_serde` does not expose positions or the raw text
//! of scalars it resolved to numbers, so two extra passes over the same text recover
//! them on demand, addressing nodes by id: [`locate`] (the line of a node, through the
//! mark `yaml_serde` attaches to an error raised at that node) and [`raw_texts`] (the
//! source text of scalars, through `deserialize_str`). Both are only needed when a
//! configuration has faults or unusual scalars, so the common path reads the text once.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

/// One YAML node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node<'s> {
    /// Pre-order id.
    pub id: u32,
    /// One past the largest id in this node's subtree.
    pub end: u32,
    /// What the node is.
    pub kind: Kind<'s>,
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
    pub fn is_scalar(&self) -> bool {
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
    /// `yaml_serde` did not lend the text, so only its value is known.
    Other,
}

impl Style {
    /// Whether yaml.v2 resolves the scalar (plain and untagged).
    pub fn is_plain(self) -> bool {
        self == Style::Plain
    }
}

/// A fault of the YAML text itself, as `yaml_serde` reports it.
#[derive(Debug)]
pub(crate) struct SyntaxError(pub yaml_serde::Error);

/// Builds the tree of the first document of `src`; `None` when there is no document.
pub(crate) fn build(src: &str) -> Result<Option<Node<'_>>, SyntaxError> {
    let Some(document) = yaml_serde::Deserializer::from_str(src).next() else {
        return Ok(None);
    };
    let counter = Cell::new(0);
    let seed = BuildSeed {
        src,
        counter: &counter,
    };
    match seed.deserialize(document) {
        Ok(Some(node)) => Ok(Some(node)),
        Ok(None) => Ok(None),
        Err(e) => Err(SyntaxError(e)),
    }
}

struct BuildSeed<'a, 's> {
    src: &'s str,
    counter: &'a Cell<u32>,
}

impl<'a, 's> BuildSeed<'a, 's> {
    fn next_id(&self) -> u32 {
        let id = self.counter.get();
        self.counter.set(id + 1);
        id
    }

    fn leaf(&self, id: u32, kind: Kind<'s>) -> Option<Node<'s>> {
        Some(Node {
            id,
            end: id + 1,
            kind,
        })
    }

    fn borrowed(&self, id: u32, v: &'s str) -> Option<Node<'s>> {
        let base = self.src.as_ptr() as usize;
        let at = v.as_ptr() as usize;
        let offset = (at >= base && at + v.len() <= base + self.src.len()).then(|| at - base);
        let style = match offset {
            None => Style::Other,
            Some(o) => scalar_style(self.src.as_bytes(), o, v.len()),
        };
        self.leaf(
            id,
            Kind::Str {
                text: Cow::Borrowed(v),
                offset,
                style,
            },
        )
    }
}

impl<'de: 's, 's> DeserializeSeed<'de> for BuildSeed<'_, 's> {
    /// `None` only for an empty document.
    type Value = Option<Node<'s>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let id = self.next_id();
        d.deserialize_any(BuildVisitor { seed: self, id })
    }
}

struct BuildVisitor<'a, 's> {
    seed: BuildSeed<'a, 's>,
    id: u32,
}

impl<'de: 's, 's> Visitor<'de> for BuildVisitor<'_, 's> {
    type Value = Option<Node<'s>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        // Only an empty document reaches here.
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.seed.leaf(self.id, Kind::Null))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.seed.leaf(self.id, Kind::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        let kind = match u64::try_from(v) {
            Ok(u) => Kind::Uint(u),
            Err(_) => Kind::Int(v),
        };
        Ok(self.seed.leaf(self.id, kind))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.seed.leaf(self.id, Kind::Uint(v)))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        Ok(self.seed.leaf(self.id, Kind::Float(v as f64)))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        Ok(self.seed.leaf(self.id, Kind::Float(v as f64)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self.seed.leaf(self.id, Kind::Float(v)))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(self.seed.borrowed(self.id, v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.seed.leaf(
            self.id,
            Kind::Str {
                text: Cow::Owned(v.to_owned()),
                offset: None,
                style: Style::Other,
            },
        ))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(BuildSeed {
            src: self.seed.src,
            counter: self.seed.counter,
        })? {
            items.extend(item);
        }
        Ok(Some(Node {
            id: self.id,
            end: self.seed.counter.get(),
            kind: Kind::Seq(items),
        }))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
        let seed = || BuildSeed {
            src: self.seed.src,
            counter: self.seed.counter,
        };
        while let Some(key) = map.next_key_seed(seed())? {
            let value = map.next_value_seed(seed())?;
            if let (Some(k), Some(v)) = (key, value) {
                pairs.push((k, v));
            }
        }
        Ok(Some(Node {
            id: self.id,
            end: self.seed.counter.get(),
            kind: Kind::Map(pairs),
        }))
    }

    /// A scalar or collection with a local tag (`!foo bar`): Go ignores tags it does not
    /// know and reads the value as a string, so keep the inner node, unresolved.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        use serde::de::VariantAccess;
        let (_tag, variant): (de::IgnoredAny, _) = data.variant()?;
        // The inner node takes this node's id, so ids stay the same in every pass.
        self.seed.counter.set(self.id);
        let inner = variant.newtype_variant_seed(BuildSeed {
            src: self.seed.src,
            counter: self.seed.counter,
        })?;
        Ok(inner.map(|mut node| {
            if let Kind::Str { style, .. } = &mut node.kind {
                *style = Style::Tagged;
            }
            node
        }))
    }
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

/// The 1-based line (as Go's yaml.v2 counts it) of the node with `target` id in `root`,
/// found by raising an error at that node and reading the mark `yaml_serde` attaches.
pub(crate) fn locate(src: &str, root: &Node<'_>, target: u32) -> Option<usize> {
    let document = yaml_serde::Deserializer::from_str(src).next()?;
    let walk = Walk {
        node: root,
        job: &Job::Locate(target),
        texts: &Cell::new(None),
    };
    match walk.deserialize(document) {
        Ok(()) => None,
        Err(e) => e.location().map(|l| l.line()),
    }
}

/// The source text of the scalars whose ids are in `wanted`.
pub(crate) fn raw_texts(src: &str, root: &Node<'_>, wanted: &HashSet<u32>) -> HashMap<u32, String> {
    let texts = Cell::new(Some(HashMap::new()));
    if let Some(document) = yaml_serde::Deserializer::from_str(src).next() {
        let walk = Walk {
            node: root,
            job: &Job::Texts(wanted),
            texts: &texts,
        };
        // A failure here only means fewer texts; callers fall back to resolved values.
        let _ = walk.deserialize(document);
    }
    texts.take().unwrap_or_default()
}

enum Job<'a> {
    Locate(u32),
    Texts(&'a HashSet<u32>),
}

/// Walks the document in step with the tree built by [`build`].
struct Walk<'a, 's> {
    node: &'a Node<'s>,
    job: &'a Job<'a>,
    texts: &'a Cell<Option<HashMap<u32, String>>>,
}

const LOCATE_MARKER: &str = "locate";

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let node = self.node;
        match self.job {
            Job::Locate(target) if node.id == *target => {
                d.deserialize_any(Fail)?;
                Err(de::Error::custom(LOCATE_MARKER))
            }
            Job::Locate(target) if !node.contains(*target) => {
                d.deserialize_ignored_any(de::IgnoredAny).map(|_| ())
            }
            Job::Texts(wanted) if node.is_scalar() => {
                if wanted.contains(&node.id) {
                    let text = d.deserialize_str(Text)?;
                    let mut map = self.texts.take().unwrap_or_default();
                    map.insert(node.id, text);
                    self.texts.set(Some(map));
                    Ok(())
                } else {
                    d.deserialize_ignored_any(de::IgnoredAny).map(|_| ())
                }
            }
            _ => match &node.kind {
                Kind::Seq(_) => d.deserialize_seq(self),
                Kind::Map(_) => d.deserialize_map(self),
                _ => d.deserialize_ignored_any(de::IgnoredAny).map(|_| ()),
            },
        }
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the same document as before")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Kind::Seq(items) = &self.node.kind {
            for item in items {
                let walk = Walk {
                    node: item,
                    job: self.job,
                    texts: self.texts,
                };
                if seq.next_element_seed(walk)?.is_none() {
                    break;
                }
            }
        }
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if let Kind::Map(pairs) = &self.node.kind {
            for (k, v) in pairs {
                let key = Walk {
                    node: k,
                    job: self.job,
                    texts: self.texts,
                };
                if map.next_key_seed(key)?.is_none() {
                    break;
                }
                map.next_value_seed(Walk {
                    node: v,
                    job: self.job,
                    texts: self.texts,
                })?;
            }
        }
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(())
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        use serde::de::VariantAccess;
        let (_tag, variant): (de::IgnoredAny, _) = data.variant()?;
        variant.newtype_variant_seed(self)
    }
}

/// A visitor that fails at once, so that the error carries the node's mark.
struct Fail;

impl<'de> Visitor<'de> for Fail {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(LOCATE_MARKER)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(LOCATE_MARKER))
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(LOCATE_MARKER))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(LOCATE_MARKER))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(LOCATE_MARKER))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(LOCATE_MARKER))
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        Err(E::custom(LOCATE_MARKER))
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        Err(E::custom(LOCATE_MARKER))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(LOCATE_MARKER))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(LOCATE_MARKER))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(LOCATE_MARKER))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(LOCATE_MARKER))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        use serde::de::VariantAccess;
        let (_tag, variant): (de::IgnoredAny, _) = data.variant()?;
        variant.newtype_variant::<de::IgnoredAny>()?;
        Err(de::Error::custom(LOCATE_MARKER))
    }
}

/// Reads a scalar's source text.
struct Text;

impl Visitor<'_> for Text {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(src: &str) -> Node<'_> {
        build(src).expect("valid YAML").expect("a document")
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
        assert_eq!(locate(src, &root, 4), Some(2));
        assert_eq!(locate(src, &root, 6), Some(4));
        assert_eq!(locate(src, &root, 9), Some(4));
        assert_eq!(locate(src, &root, 2), Some(2));
    }

    #[test]
    fn raw_texts_recover_resolved_scalars() {
        let src = "a: 0x1F\nb: True\nc: [1.50, ~]\n";
        let root = tree(src);
        let wanted: HashSet<u32> = [2, 4, 7, 8].into_iter().collect();
        let texts = raw_texts(src, &root, &wanted);
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
        assert_eq!(locate(src, &root, 8), Some(1));
    }
}
