//! The routing tree as the matcher evaluates it: tests as bits, nodes as bit
//! requirements, children checked together.
//!
//! Every distinct matcher of the tree becomes a *positive test* on one label: `value ==
//! literal` or `regex matches value` (`!=` and `!~` are the same tests, wanted false).
//! A label's tests are numbered in *chunks* of up to 64, so that per alert the results of
//! a chunk are two words: which tests are known, and their results. A route is a list of
//! requirements `(chunk, bit, wanted result)`.
//!
//! Per alert:
//! 1. the alert's labels are sorted into the tree's label slots by their interned name
//!    numbers ([`NameId`](alert_core::NameId)), without reading a name's bytes, and each
//!    value's chunks are fetched from the caller's
//!    [`ValueCache`](super::value_cache::ValueCache): the results remembered for that
//!    value across alerts (a hash of the value's 32-byte head and a compare). A label the
//!    alert lacks, or whose value is empty, reads as `""`, whose results are computed
//!    once, when the tree is compiled. In trees laid out for few chunks (below), labels
//!    read only below some route's matchers (not where every alert gets) are looked up
//!    when the walk first needs them;
//! 2. the walk is Alertmanager's `Route.Match` (depth first, children in order,
//!    `continue`, a matching child shadows its parent), but a node's children are checked
//!    together and without branches: one pass over the tests they read gives the children
//!    known to match and those still undecided, and only those are visited in order;
//! 3. a test still unknown (a value not seen before, or a label whose values rarely
//!    repeat and are not cached) is evaluated when an undecided child needs it, and
//!    remembered.
//!
//! Children sit next to each other (the nodes are laid out breadth first), and the tests
//! a group of up to 64 siblings reads are stored with a bit per sibling.
//!
//! # Index spaces
//!
//! Four numberings meet here, each its own type, so that one is never taken for another
//! and every conversion is written out:
//! - [`RouteId`]: a route in depth-first pre-order, the order of the configuration and of
//!   the public API, and what a match returns;
//! - [`NodeIdx`]: the same routes laid out breadth first ([`Engine::shape`]), where
//!   siblings are consecutive; a node's [`Shape::route`] is its route;
//! - [`SlotIdx`]: a label name the tree reads, the most used first;
//! - [`ChunkIdx`]: up to 64 tests of one slot (a slot's chunks are consecutive), the unit
//!   of the per-alert state and of the value cache's tables.
//!
//! # State layouts
//!
//! [`Layout`], fixed when the tree is compiled, says how an alert's state is kept:
//! [`Layout::Few`] when every slot has one chunk, there are at most 63 chunks (64 with
//! the spare one, where names the tree does not read go) and every name is interned (the
//! usual tree: one fixed-size array indexed without bounds checks, a table from name
//! number to chunk, labels read deep in the tree looked up lazily), and [`Layout::Many`]
//! otherwise (vectors, only the chunks an alert looked up reset for the next).
//! [`Engine::run`] matches the layout once per alert; the label loop and the walk are
//! compiled once per layout, the walk generic over [`AlertState`](state::AlertState).
//!
//! # Files
//!
//! - `mod.rs`: the [`Engine`] and what both phases read (requirements, groups, runs,
//!   shapes, tests, the index types, the layouts);
//! - `compile.rs`: [`Engine::compile`], from the routes in pre-order: distinct tests in
//!   chunks, the breadth-first layout, each group's tests and runs, the lazy chunks;
//! - `state.rs`: the per-alert state ([`FewState`](state::FewState),
//!   [`ManyState`](state::ManyState)) and what a buffer keeps of it between alerts
//!   ([`Scratch`]);
//! - `walk.rs`: [`Engine::run`]: the label loops and the walk.

mod compile;
mod state;
mod walk;

use alert_core::{MatchType, Matcher};

use super::RouteId;

pub(crate) use compile::NodeView;
pub(crate) use state::Scratch;
use state::{Bits, FewChunk};

/// Chunks that get a table in the value cache (the tables share a memory budget, see
/// [`ValueCache::new`](super::value_cache::ValueCache::new)); tests in later chunks are
/// remembered per alert only.
const MAX_CACHED_CHUNKS: usize = 512;
/// A chunk whose value the cache does not keep.
pub(crate) const UNCACHED: u32 = u32::MAX;

/// A node's position in the breadth-first layout ([`Engine::shape`]), where a node's
/// children are consecutive. Not a [`RouteId`], which numbers the same routes depth
/// first in pre-order: [`Shape::route`] converts.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct NodeIdx(u32);

impl NodeIdx {
    /// The root, first in either order.
    const ROOT: NodeIdx = NodeIdx(0);

    #[inline(always)]
    fn index(self) -> usize {
        self.0 as usize
    }

    /// The node `j` places after this one: child `j` of a group whose first child this
    /// is.
    #[inline(always)]
    fn plus(self, j: u32) -> NodeIdx {
        NodeIdx(self.0 + j)
    }
}

/// A chunk: up to 64 consecutive tests of one label ([`Engine::chunk_slot`]), and the
/// value-cache table that remembers their results per value.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ChunkIdx(u32);

impl ChunkIdx {
    #[cfg(test)]
    pub(crate) const fn new(i: u32) -> ChunkIdx {
        ChunkIdx(i)
    }

    #[inline(always)]
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }

    /// The chunks from `first` up to `end`, excluded.
    #[inline(always)]
    fn range(first: ChunkIdx, end: ChunkIdx) -> impl Iterator<Item = ChunkIdx> {
        (first.0..end.0).map(ChunkIdx)
    }
}

/// A slot: one label name the tree reads ([`Engine::slot_chunks`]), numbered most used
/// first.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SlotIdx(u32);

impl SlotIdx {
    #[inline(always)]
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// No slot: a label the tree does not read.
const NO_SLOT: SlotIdx = SlotIdx(u32::MAX);

/// One requirement: test `bit` of `chunk` must be `want`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Req {
    chunk: ChunkIdx,
    bit: u8,
    want: bool,
}

/// One test the children of a group read, as the walk reads it: bit `j` of `t` (of `f`)
/// is set when child `j` needs the test to be true (false); the test's bit as a mask.
#[derive(Debug, Clone, Copy)]
struct GroupTest {
    t: u64,
    f: u64,
    mask: u64,
    chunk: ChunkIdx,
}

/// Consecutive tests of one chunk that consecutive children each need, one apiece, with
/// the same wanted result: the usual dispatch by a label's value (`team="a"`,
/// `team="b"`, …). Checked with a few word operations instead of a test at a time.
#[derive(Debug, Clone, Copy)]
struct Run {
    chunk: ChunkIdx,
    /// The first test's bit in the chunk.
    lo: u32,
    /// The first child's bit in the group.
    child_lo: u32,
    /// `len` low bits set.
    mask: u64,
    /// `mask` when the tests must be true, 0 when they must be false.
    want: u64,
}

/// Up to 64 consecutive children of a node, and the tests they read.
#[derive(Debug, Clone, Copy, Default)]
struct Group {
    /// The first child.
    first: NodeIdx,
    len: u32,
    /// Range in `Engine::child_tests`.
    tests: (u32, u32),
    /// Range in `Engine::runs`.
    runs: (u32, u32),
    /// The children without children of their own (a bit each).
    leaves: u64,
    /// The children without `continue` (a bit each).
    stops: u64,
}

/// A positive test on a label's value (`=` or `=~`): the first matcher seen with that
/// label, kind and value, flipped back when that matcher was the negation (`!=`, `!~`).
#[derive(Debug, Clone)]
struct Test {
    matcher: Matcher,
    flip: bool,
}

impl Test {
    fn new(matcher: &Matcher) -> Test {
        let flip = matches!(
            matcher.match_type(),
            MatchType::NotEqual | MatchType::NotRegexp
        );
        Test {
            matcher: matcher.clone(),
            flip,
        }
    }

    fn is_regex(&self) -> bool {
        matches!(
            self.matcher.match_type(),
            MatchType::Regexp | MatchType::NotRegexp
        )
    }

    #[inline]
    fn eval(&self, value: &str) -> bool {
        self.matcher.matches(value) != self.flip
    }
}

/// Where a node's children and requirements are.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// The route this node is.
    route: RouteId,
    /// Range in `Engine::groups`.
    groups: (u32, u32),
    /// A copy of the first of them (`len` 0 for a leaf): the walk reads it with the
    /// node, one load less on its way.
    first: Group,
    /// Range in `Engine::all_reqs`: every requirement, cheapest first.
    reqs: (u32, u32),
}

/// A compiled tree, ready to match.
#[derive(Debug, Clone, Default)]
pub(crate) struct Engine {
    /// Per [`NameId`](alert_core::NameId) index: the slot of that name, [`NO_SLOT`] when
    /// the tree does not read it.
    slot_of_id: Vec<SlotIdx>,
    /// Names the interner had no room for, with their slots (normally empty).
    uninterned: Vec<(Box<str>, SlotIdx)>,
    /// Per chunk: its slot, and the index in `tests` of its bit 0.
    chunk_slot: Vec<SlotIdx>,
    chunk_first_test: Vec<u32>,
    tests: Vec<Test>,
    regex_count: usize,
    /// Per node, in breadth-first order.
    shape: Vec<Shape>,
    groups: Vec<Group>,
    child_tests: Vec<GroupTest>,
    runs: Vec<Run>,
    all_reqs: Vec<Req>,
    /// Per slot: its chunks, `first..end`.
    slot_chunks: Vec<(ChunkIdx, ChunkIdx)>,
    /// Per chunk: the results of its tests on `""` (a missing label), all known; and
    /// `[0, 0]` for the spare chunk at the end.
    empty: Vec<Bits>,
    /// How an alert's state is kept.
    layout: Layout,
}

/// How an engine keeps an alert's state: chosen when the tree is compiled, matched once
/// per alert ([`Engine::run`]), each arm with its own label loop and its own
/// monomorphised walk.
#[derive(Debug, Clone, Default)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per tree, read once per alert: inline, its reset bits are one load nearer"
)]
enum Layout {
    /// Every slot has one chunk (slot `i` is chunk `i`), the chunks (the spare one
    /// included) are at most [`FEW_CHUNKS`] and every name is interned: the state is one
    /// fixed-size array ([`FewState`](state::FewState)), indexed without bounds checks,
    /// and the label loop a table from name number to chunk.
    Few(Few),
    /// Any other tree: the state is kept per chunk and per slot in vectors
    /// ([`ManyState`](state::ManyState)), and only the chunks the last alert looked up
    /// are reset.
    #[default]
    Many,
}

/// What [`Layout::Few`] needs.
#[derive(Debug, Clone)]
struct Few {
    /// Per [`NameId`](alert_core::NameId) index: the chunk of that name, or the spare
    /// chunk (fewer than [`MAX_FOLDED_NAMES`](alert_core::fingerprint::MAX_FOLDED_NAMES)
    /// names are interned, so chunks and the spare fit in `u16`).
    direct: Vec<u16>,
    /// The chunks (a bit each) whose values are looked up in the cache only when the walk
    /// first needs one of their tests. Labels read near the top of the tree are needed by
    /// almost every alert and are looked up in the label loop; the others (read only
    /// below some route's matchers) would mostly be looked up for nothing.
    lazy: u64,
    /// How every chunk is set back to a missing label's state before an alert.
    reset: FewReset,
}

/// How [`Layout::Few`] sets its chunks back to a missing label's state before an alert:
/// in one copy either way.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per tree, read once per alert: inline, it is one load nearer"
)]
enum FewReset {
    /// At most [`SMALL_CHUNKS`] chunks: only their bits (padded with `[0, 0]`), in a copy
    /// of fixed length. A chunk's entry and label position are written for an alert
    /// before they are read.
    Small([Bits; SMALL_CHUNKS]),
    /// More chunks: `empty` as whole chunks' state.
    Full(Vec<FewChunk>),
}

/// Trees with this many chunks at most reset their bits in one fixed-length copy.
const SMALL_CHUNKS: usize = 16;

/// Trees with at most this many chunks (the spare one included), one a slot, keep the
/// per-alert state in one fixed-size array ([`Layout::Few`]).
const FEW_CHUNKS: usize = 64;

impl Engine {
    /// Whether every label name the tree reads has an interned number.
    pub(crate) fn all_names_interned(&self) -> bool {
        self.uninterned.is_empty()
    }

    /// How many distinct positive tests the tree evaluates, and how many are regexes.
    pub(crate) fn test_counts(&self) -> (usize, usize) {
        (self.tests.len(), self.regex_count)
    }

    /// How many chunks have value-cache tables.
    fn cached_chunks(&self) -> usize {
        self.chunk_slot.len().min(MAX_CACHED_CHUNKS)
    }
}
