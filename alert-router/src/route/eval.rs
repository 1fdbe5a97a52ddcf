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
//!    numbers ([`NameId`]), without reading a name's bytes, and each value's chunks are
//!    fetched from the caller's [`ValueCache`]: the results remembered for that value
//!    across alerts (a hash of the value's 32-byte head and a compare). A label the
//!    alert lacks, or whose value is empty, reads as `""`, whose results are computed
//!    once, when the tree is compiled. Labels read only below some route's matchers
//!    (not where every alert gets) are looked up when the walk first needs them;
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

use std::collections::HashMap;
use std::hint::select_unpredictable;

use alert_core::fingerprint::MAX_FOLDED_NAMES;
use alert_core::{LabelSet, MatchType, Matcher, NameId, ValueRef};

use super::value_cache::ValueCache;
use super::{MatchBuffer, RouteId};

/// Chunks that get a table in the value cache (the tables share a memory budget, see
/// [`ValueCache::new`]); tests in later chunks are remembered per alert only.
const MAX_CACHED_CHUNKS: usize = 512;
/// No slot: a label the tree does not read.
const NO_SLOT: u32 = u32::MAX;
/// A chunk whose value the cache does not keep.
pub(crate) const UNCACHED: u32 = u32::MAX;

/// One requirement: test `bit` of `chunk` must be `want`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Req {
    chunk: u32,
    bit: u8,
    want: bool,
}

/// One test the children of a node (a group of up to 64 of them) read: bit `j` of `t`
/// (of `f`) is set when child `j` needs the test to be true (false).
#[derive(Debug, Clone, Copy)]
struct ChildTest {
    t: u64,
    f: u64,
    chunk: u32,
    bit: u32,
}

/// A [`ChildTest`] as the walk reads it: the test's bit as a mask.
#[derive(Debug, Clone, Copy)]
struct GroupTest {
    t: u64,
    f: u64,
    mask: u64,
    chunk: u32,
}

/// Consecutive tests of one chunk that consecutive children each need, one apiece, with
/// the same wanted result: the usual dispatch by a label's value (`team="a"`,
/// `team="b"`, …). Checked with a few word operations instead of a test at a time.
#[derive(Debug, Clone, Copy)]
struct Run {
    chunk: u32,
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
    first: u32,
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

/// A bit per node of `nodes` (at most 64) for which `keep` holds.
fn bits_of(nodes: &[u32], keep: impl Fn(u32) -> bool) -> u64 {
    nodes
        .iter()
        .enumerate()
        .filter(|&(_, &k)| keep(k))
        .fold(0, |m, (j, _)| m | 1 << j)
}

/// The shortest run of tests kept as a [`Run`].
const MIN_RUN: usize = 3;

/// Splits a group's tests into runs and the tests left over.
fn find_runs(tests: Vec<ChildTest>) -> (Vec<Run>, Vec<ChildTest>) {
    // A candidate: one child, one wanted result.
    let single = |t: &ChildTest| match (t.t.count_ones(), t.f.count_ones()) {
        (1, 0) => Some((t.t.trailing_zeros(), true)),
        (0, 1) => Some((t.f.trailing_zeros(), false)),
        _ => None,
    };
    let (mut candidates, mut rest): (Vec<ChildTest>, Vec<ChildTest>) =
        tests.into_iter().partition(|t| single(t).is_some());
    candidates.sort_by_key(|t| (t.chunk, t.bit));
    let mut runs = Vec::new();
    let mut i = 0;
    while i < candidates.len() {
        let (child, want) = single(&candidates[i]).unwrap_or((0, true));
        let mut j = i + 1;
        while j < candidates.len() {
            let (prev, next) = (&candidates[j - 1], &candidates[j]);
            let continues = next.chunk == prev.chunk
                && next.bit == prev.bit + 1
                && single(next) == Some((child + (j - i) as u32, want));
            if !continues {
                break;
            }
            j += 1;
        }
        let len = j - i;
        if len >= MIN_RUN {
            let mask = u64::MAX >> (64 - len);
            runs.push(Run {
                chunk: candidates[i].chunk,
                lo: candidates[i].bit,
                child_lo: child,
                mask,
                want: if want { mask } else { 0 },
            });
        } else {
            rest.extend_from_slice(&candidates[i..j]);
        }
        i = j;
    }
    (runs, rest)
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
#[derive(Debug, Clone, Copy, Default)]
struct Shape {
    /// The route id (depth-first pre-order) of this node.
    route: u32,
    /// Range in `Engine::groups`.
    groups: (u32, u32),
    /// A copy of the first of them (`len` 0 for a leaf): the walk reads it with the
    /// node, one load less on its way.
    first: Group,
    /// Range in `Engine::all_reqs`: every requirement, cheapest first.
    reqs: (u32, u32),
}

/// One label's distinct tests, in order of first use: a matcher of each kind (`=` or
/// `=~`, or its negation) and value, indexed by kind and value.
struct SlotTests<'a> {
    name: &'a str,
    tests: Vec<&'a Matcher>,
    index: HashMap<(MatchType, &'a str), usize>,
}

/// What the engine needs of one route.
pub(crate) struct NodeView<'a> {
    pub(crate) matchers: &'a [Matcher],
    /// Route ids (depth-first pre-order) of the children, in configuration order.
    pub(crate) children: &'a [u32],
    pub(crate) continue_: bool,
}

/// A compiled tree, ready to match.
#[derive(Debug, Clone, Default)]
pub(crate) struct Engine {
    /// Per [`NameId`] index: the slot of that name, [`NO_SLOT`] when the tree does not
    /// read it.
    slot_of_id: Vec<u32>,
    /// Names the interner had no room for, with their slots (normally empty).
    uninterned: Vec<(Box<str>, u32)>,
    /// Per chunk: its slot, and the index in `tests` of its bit 0.
    chunk_slot: Vec<u32>,
    chunk_first_test: Vec<u32>,
    tests: Vec<Test>,
    regex_count: usize,
    shape: Vec<Shape>,
    groups: Vec<Group>,
    child_tests: Vec<GroupTest>,
    runs: Vec<Run>,
    all_reqs: Vec<Req>,
    /// Per slot: its chunks (consecutive).
    slot_chunks: Vec<(u32, u32)>,
    /// Per chunk: the results of its tests on `""` (a missing label), all known; and
    /// `[0, 0]` for the spare chunk at the end.
    empty: Vec<Bits>,
    /// When every slot has one chunk (slot `i` is chunk `i`), the chunks (the spare one
    /// included) are at most [`FEW_CHUNKS`] and every name is interned: per [`NameId`]
    /// index, the slot of that name or the spare chunk. Empty otherwise.
    direct: Vec<u16>,
    /// With `direct`: `empty` as the fixed-size state's chunks.
    few_missing: Vec<FewChunk>,
    /// With `direct`: the chunks (a bit each) whose values are looked up in the cache
    /// only when the walk first needs one of their tests. Labels read near the top of
    /// the tree are needed by almost every alert and are looked up in the label loop;
    /// the others (read only below some route's matchers) would mostly be looked up for
    /// nothing.
    lazy: u64,
    /// With `direct` and at most [`SMALL_CHUNKS`] chunks: their missing-label bits,
    /// padded with `[0, 0]`.
    small_missing: Option<[Bits; SMALL_CHUNKS]>,
}

/// Trees with this many chunks at most reset their bits in one fixed-length copy.
const SMALL_CHUNKS: usize = 16;

/// Per-alert state of one chunk: which tests are known, and their results.
pub(crate) type Bits = [u64; 2];

/// Trees with at most this many chunks (the spare one included), one a slot, keep the
/// per-alert state in one fixed-size array ([`FewState`]), indexed without bounds checks.
const FEW_CHUNKS: usize = 64;

/// The per-alert state, as the walk reads and completes it.
trait AlertState {
    /// Chunk `c`'s known tests and their results.
    fn bits(&self, c: u32) -> Bits;
    fn bits_mut(&mut self, c: u32) -> Option<&mut Bits>;
    /// Chunk `c`'s value-cache entry, or [`UNCACHED`]: only meaningful for chunks whose
    /// value was looked up for this alert.
    fn entry(&self, c: u32) -> u32;
    fn set_entry(&mut self, c: u32, entry: u32);
    /// The position in the alert of the label read by `slot`: only meaningful when
    /// the alert has that label.
    fn label(&self, slot: u32) -> usize;
    /// Whether chunk `c`'s label is in the alert but its value not yet looked up in
    /// the cache (see [`Engine::lazy`]); the lookup is then due, so the mark is cleared.
    fn take_pending(&mut self, c: u32) -> bool;
}

/// One chunk's per-alert state in a tree with few chunks. Between alerts, small trees
/// reset only `bits`: `entry` and `label` are written for this alert before they are read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FewChunk {
    bits: Bits,
    /// Its value-cache entry (see [`AlertState::entry`]).
    entry: u32,
    /// The position of its label (see [`AlertState::label`]).
    label: u32,
}

/// A missing label's state for a chunk whose tests give `bits` on `""`.
const fn missing(bits: Bits) -> FewChunk {
    FewChunk {
        bits,
        entry: UNCACHED,
        label: 0,
    }
}

/// The state of a tree with few chunks, one a slot (slot `i` is chunk `i`): one array,
/// so the label loop and the walk keep one pointer to it.
struct FewState<'s> {
    chunks: &'s mut [FewChunk; FEW_CHUNKS],
    /// Lazy chunks whose label the alert has, not yet looked up: a bit per chunk.
    pending: u64,
}

impl AlertState for FewState<'_> {
    #[inline(always)]
    fn bits(&self, c: u32) -> Bits {
        self.chunks[c as usize % FEW_CHUNKS].bits
    }

    #[inline(always)]
    fn bits_mut(&mut self, c: u32) -> Option<&mut Bits> {
        Some(&mut self.chunks[c as usize % FEW_CHUNKS].bits)
    }

    #[inline(always)]
    fn entry(&self, c: u32) -> u32 {
        self.chunks[c as usize % FEW_CHUNKS].entry
    }

    #[inline(always)]
    fn set_entry(&mut self, c: u32, entry: u32) {
        self.chunks[c as usize % FEW_CHUNKS].entry = entry;
    }

    #[inline(always)]
    fn label(&self, slot: u32) -> usize {
        self.chunks[slot as usize % FEW_CHUNKS].label as usize
    }

    #[inline(always)]
    fn take_pending(&mut self, c: u32) -> bool {
        let bit = 1u64 << (c % 64);
        let pending = self.pending & bit != 0;
        self.pending &= !bit;
        pending
    }
}

/// The state of any other tree.
struct ManyState<'s> {
    bits: &'s mut [Bits],
    entry: &'s mut [u32],
    /// Per slot.
    label: &'s mut [u32],
}

impl AlertState for ManyState<'_> {
    #[inline(always)]
    fn bits(&self, c: u32) -> Bits {
        self.bits.get(c as usize).copied().unwrap_or([0, 0])
    }

    #[inline(always)]
    fn bits_mut(&mut self, c: u32) -> Option<&mut Bits> {
        self.bits.get_mut(c as usize)
    }

    #[inline(always)]
    fn entry(&self, c: u32) -> u32 {
        self.entry.get(c as usize).copied().unwrap_or(UNCACHED)
    }

    #[inline(always)]
    fn set_entry(&mut self, c: u32, entry: u32) {
        if let Some(e) = self.entry.get_mut(c as usize) {
            *e = entry;
        }
    }

    #[inline(always)]
    fn label(&self, slot: u32) -> usize {
        self.label
            .get(slot as usize)
            .map_or(usize::MAX, |&i| i as usize)
    }

    #[inline(always)]
    fn take_pending(&mut self, _: u32) -> bool {
        false
    }
}

/// What a [`MatchBuffer`] keeps for the engine between alerts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    /// Trees without the fixed-size state ([`ManyState`]): per chunk, known tests and
    /// results for the current alert.
    bits: Vec<Bits>,
    /// Per chunk looked up for the current alert: its cache entry, or [`UNCACHED`].
    entry: Vec<u32>,
    /// Per slot whose label the current alert has: that label's position in the alert.
    label: Vec<u32>,
    /// Chunks looked up for the current alert (set back to `empty` before the next
    /// one).
    fetched: Vec<u32>,
    /// Trees with few chunks, one a slot ([`FewState`]): [`FEW_CHUNKS`] chunks' state.
    few: Vec<FewChunk>,
    cache: ValueCache,
}

impl Engine {
    /// Compiles the tree whose nodes are given in depth-first pre-order, the root first.
    pub(crate) fn compile(nodes: &[NodeView<'_>]) -> Engine {
        let mut e = Engine::default();
        // Distinct positive tests, grouped by label name.
        let mut slots: Vec<SlotTests<'_>> = Vec::new();
        let mut slot_index = HashMap::<&str, usize>::new();
        let mut node_tests: Vec<Vec<(usize, usize, bool)>> = Vec::with_capacity(nodes.len());
        for node in nodes {
            let mut own = Vec::new();
            for m in node.matchers {
                let (kind, want) = match m.match_type() {
                    MatchType::Equal => (MatchType::Equal, true),
                    MatchType::NotEqual => (MatchType::Equal, false),
                    MatchType::Regexp => (MatchType::Regexp, true),
                    MatchType::NotRegexp => (MatchType::Regexp, false),
                };
                let s = *slot_index.entry(m.name()).or_insert_with(|| {
                    slots.push(SlotTests {
                        name: m.name(),
                        tests: Vec::new(),
                        index: HashMap::new(),
                    });
                    slots.len() - 1
                });
                let slot = &mut slots[s];
                let t = *slot.index.entry((kind, m.value())).or_insert_with(|| {
                    slot.tests.push(m);
                    slot.tests.len() - 1
                });
                own.push((s, t, want));
            }
            own.sort_unstable();
            own.dedup();
            node_tests.push(own);
        }
        // Slots most used first, so the inline ones carry most of the work.
        let mut uses = vec![0usize; slots.len()];
        for own in &node_tests {
            for &(s, _, _) in own {
                uses[s] += 1;
            }
        }
        let mut order: Vec<usize> = (0..slots.len()).collect();
        order.sort_by_key(|&s| (std::cmp::Reverse(uses[s]), s));
        // Per old slot: the chunk of each of its tests, and its bit.
        let mut test_pos: Vec<Vec<(u32, u8)>> = vec![Vec::new(); slots.len()];
        for (new, &old) in order.iter().enumerate() {
            let SlotTests { name, tests, .. } = &slots[old];
            match NameId::intern_configured(name) {
                Some(id) => {
                    if e.slot_of_id.len() <= id.index() {
                        e.slot_of_id.resize(id.index() + 1, NO_SLOT);
                    }
                    e.slot_of_id[id.index()] = new as u32;
                }
                None => e.uninterned.push(((*name).into(), new as u32)),
            }
            let first_chunk = e.chunk_slot.len() as u32;
            for (i, &matcher) in tests.iter().enumerate() {
                if i % 64 == 0 {
                    e.chunk_slot.push(new as u32);
                    e.chunk_first_test.push(e.tests.len() as u32);
                }
                test_pos[old].push(((e.chunk_slot.len() - 1) as u32, (i % 64) as u8));
                let test = Test::new(matcher);
                e.regex_count += usize::from(test.is_regex());
                if i % 64 == 0 {
                    e.empty.push([0, 0]);
                }
                if let Some(empty) = e.empty.last_mut() {
                    empty[0] |= 1 << (i % 64);
                    empty[1] |= u64::from(test.eval("")) << (i % 64);
                }
                e.tests.push(test);
            }
            e.slot_chunks.push((first_chunk, e.chunk_slot.len() as u32));
        }
        e.empty.push([0, 0]);
        if e.uninterned.is_empty()
            && e.empty.len() <= FEW_CHUNKS
            && e.slot_chunks.iter().all(|&(a, b)| b == a + 1)
        {
            // Every name is interned: fewer than MAX_FOLDED_NAMES slots, so chunks (one a
            // slot) and the spare fit in u16.
            let spare = e.chunk_slot.len() as u16;
            e.direct = vec![spare; MAX_FOLDED_NAMES];
            for (id, &slot) in e.slot_of_id.iter().enumerate() {
                if slot != NO_SLOT
                    && let Some(d) = e.direct.get_mut(id)
                {
                    *d = slot as u16;
                }
            }
        }
        let node_reqs: Vec<Vec<Req>> = node_tests
            .iter()
            .map(|own| {
                let mut reqs: Vec<(bool, Req)> = own
                    .iter()
                    .map(|&(s, t, want)| {
                        let (chunk, bit) = test_pos[s][t];
                        let test = (e.chunk_first_test[chunk as usize] + u32::from(bit)) as usize;
                        let req = Req { chunk, bit, want };
                        (e.tests[test].is_regex(), req)
                    })
                    .collect();
                // Equality first: cheap and selective.
                reqs.sort_by_key(|&(regex, r)| (regex, r.chunk, r.bit));
                reqs.into_iter().map(|(_, r)| r).collect()
            })
            .collect();
        // Breadth-first layout: each node's children are contiguous.
        let mut queue = std::collections::VecDeque::from([0u32]);
        let mut hot_of = vec![u32::MAX; nodes.len()];
        hot_of[0] = 0;
        let mut next = 1u32;
        e.shape = vec![Shape::default(); nodes.len()];
        while let Some(route) = queue.pop_front() {
            let h = hot_of[route as usize] as usize;
            let kids = nodes[route as usize].children;
            let reqs = &node_reqs[route as usize];
            let reqs_start = e.all_reqs.len() as u32;
            e.all_reqs.extend_from_slice(reqs);
            let groups_start = e.groups.len() as u32;
            for (g, chunk_of_kids) in kids.chunks(64).enumerate() {
                let tests_start = e.child_tests.len() as u32;
                let mut tests: Vec<ChildTest> = Vec::new();
                for (j, &k) in chunk_of_kids.iter().enumerate() {
                    for r in &node_reqs[k as usize] {
                        let i = match tests
                            .iter()
                            .position(|t| t.chunk == r.chunk && t.bit == u32::from(r.bit))
                        {
                            Some(i) => i,
                            None => {
                                tests.push(ChildTest {
                                    t: 0,
                                    f: 0,
                                    chunk: r.chunk,
                                    bit: u32::from(r.bit),
                                });
                                tests.len() - 1
                            }
                        };
                        if r.want {
                            tests[i].t |= 1 << j;
                        } else {
                            tests[i].f |= 1 << j;
                        }
                    }
                }
                let (runs, tests) = find_runs(tests);
                let runs_start = e.runs.len() as u32;
                e.runs.extend(runs);
                e.child_tests.extend(tests.iter().map(|ct| GroupTest {
                    t: ct.t,
                    f: ct.f,
                    mask: 1 << (ct.bit % 64),
                    chunk: ct.chunk,
                }));
                e.groups.push(Group {
                    first: next + (g * 64) as u32,
                    len: chunk_of_kids.len() as u32,
                    tests: (tests_start, e.child_tests.len() as u32),
                    runs: (runs_start, e.runs.len() as u32),
                    leaves: bits_of(chunk_of_kids, |k| nodes[k as usize].children.is_empty()),
                    stops: bits_of(chunk_of_kids, |k| !nodes[k as usize].continue_),
                });
            }
            e.shape[h] = Shape {
                route,
                groups: (groups_start, e.groups.len() as u32),
                first: e
                    .groups
                    .get(groups_start as usize)
                    .copied()
                    .unwrap_or_default(),
                reqs: (reqs_start, e.all_reqs.len() as u32),
            };
            for &k in kids {
                hot_of[k as usize] = next;
                next += 1;
                queue.push_back(k);
            }
        }
        if !e.direct.is_empty() {
            e.few_missing = e.empty.iter().map(|&b| missing(b)).collect();
            if e.empty.len() <= SMALL_CHUNKS {
                let mut small = [[0, 0]; SMALL_CHUNKS];
                for (s, b) in small.iter_mut().zip(&e.empty) {
                    *s = *b;
                }
                e.small_missing = Some(small);
            }
            let eager = e.eager_chunks();
            e.lazy = (0..e.chunk_slot.len())
                .filter(|&c| !eager[c])
                .fold(0, |m, c| m | 1 << (c % 64));
        }
        e
    }

    /// The chunks read where every alert gets to: by the root, by the children of the
    /// root, and likewise below children without matchers (hubs).
    fn eager_chunks(&self) -> Vec<bool> {
        let mut eager = vec![false; self.chunk_slot.len()];
        let mut mark = |c: u32| {
            if let Some(m) = eager.get_mut(c as usize) {
                *m = true;
            }
        };
        let mut hubs = vec![0u32];
        while let Some(h) = hubs.pop() {
            let shape = self.shape[h as usize];
            for r in &self.all_reqs[shape.reqs.0 as usize..shape.reqs.1 as usize] {
                mark(r.chunk);
            }
            for g in &self.groups[shape.groups.0 as usize..shape.groups.1 as usize] {
                for ct in &self.child_tests[g.tests.0 as usize..g.tests.1 as usize] {
                    mark(ct.chunk);
                }
                for run in &self.runs[g.runs.0 as usize..g.runs.1 as usize] {
                    mark(run.chunk);
                }
                for child in g.first..g.first + g.len {
                    let (a, b) = self.shape[child as usize].reqs;
                    if a == b {
                        hubs.push(child);
                    }
                }
            }
        }
        eager
    }

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

    /// Prepares `scratch` for this engine (after it served another one, or none).
    pub(crate) fn reset_scratch(&self, scratch: &mut Scratch) {
        scratch.fetched.clear();
        if self.direct.is_empty() {
            scratch.bits.clone_from(&self.empty);
            scratch.entry = vec![UNCACHED; self.empty.len()];
            scratch.label = vec![0; self.slot_chunks.len()];
            scratch.few = Vec::new();
        } else {
            scratch.bits = Vec::new();
            scratch.entry = Vec::new();
            scratch.label = Vec::new();
            scratch.few = vec![missing([0, 0]); FEW_CHUNKS];
        }
        scratch.cache = ValueCache::new(self.cached_chunks());
    }

    /// Alertmanager's `Route.Match` from the root: the matched routes are appended to
    /// `buf.routes`.
    pub(crate) fn run(&self, labels: &LabelSet, buf: &mut MatchBuffer) {
        let Scratch {
            bits,
            entry,
            label,
            fetched,
            few,
            cache,
        } = &mut buf.scratch;
        match few.first_chunk_mut::<FEW_CHUNKS>() {
            Some(chunks) if !self.direct.is_empty() => {
                // Every chunk back to a missing label's state, in one copy (in small
                // trees, only the bits: see `FewChunk`).
                if let Some(small) = &self.small_missing {
                    for (c, b) in chunks.iter_mut().zip(small) {
                        c.bits = *b;
                    }
                } else if let Some(c) = chunks.get_mut(..self.few_missing.len()) {
                    c.copy_from_slice(&self.few_missing);
                }
                let mut st = FewState { chunks, pending: 0 };
                self.sort_direct(labels, &mut st, cache);
                self.walk(labels, st, cache, &mut buf.routes);
            }
            _ => {
                // Only the chunks the last alert looked up.
                for &c in fetched.iter() {
                    if let (Some(b), Some(empty)) =
                        (bits.get_mut(c as usize), self.empty.get(c as usize))
                    {
                        *b = *empty;
                    }
                }
                fetched.clear();
                let mut st = ManyState { bits, entry, label };
                self.sort_labels(labels, &mut st, fetched, cache);
                self.walk(labels, st, cache, &mut buf.routes);
            }
        }
    }

    /// Matches from the root with the alert's labels sorted into slots.
    #[inline(always)]
    fn walk<S: AlertState>(
        &self,
        labels: &LabelSet,
        st: S,
        cache: &mut ValueCache,
        out: &mut Vec<RouteId>,
    ) {
        let mut walk = Walk {
            e: self,
            labels,
            st,
            cache,
            out,
        };
        // Alertmanager's root has no matchers: checked only if this one has.
        let (first, end) = self.shape.first().map_or((0, 0), |s| s.reqs);
        if first == end || walk.check(0) {
            walk.descend(0);
        }
    }

    /// The label loop of trees with few chunks, one a slot, and every name interned:
    /// a table from name number to chunk, no bookkeeping of what was looked up.
    #[inline(always)]
    fn sort_direct(&self, labels: &LabelSet, st: &mut FewState<'_>, cache: &mut ValueCache) {
        let spare = self.chunk_slot.len();
        let mut tables = cache.eager();
        for (i, (id, value)) in labels.values_with_ids().enumerate() {
            let c = id
                .and_then(|id| self.direct.get(id.index()))
                .map_or(spare, |&c| usize::from(c));
            if c == spare {
                continue;
            }
            let k = c % FEW_CHUNKS;
            let chunk = &mut st.chunks[k];
            chunk.label = i as u32;
            if value.is_empty() {
                // Reads like a missing label, whose results the chunk already holds.
                continue;
            }
            if self.lazy >> k & 1 == 1 {
                chunk.bits = [0, 0];
                st.pending |= 1 << k;
                continue;
            }
            let (e, b) = tables.lookup(c as u32, value.head(), value.len());
            chunk.bits = b;
            chunk.entry = e;
        }
    }

    /// The label loop for other trees: several chunks per slot, names the interner had
    /// no room for, or many chunks (only those looked up are reset for the next alert).
    fn sort_labels(
        &self,
        labels: &LabelSet,
        st: &mut ManyState<'_>,
        fetched: &mut Vec<u32>,
        cache: &mut ValueCache,
    ) {
        let cached = self.cached_chunks() as u32;
        // Names past the interner's cap are compared by their bytes.
        let mut names = (!self.uninterned.is_empty()).then(|| labels.names());
        for (i, (id, value)) in labels.values_with_ids().enumerate() {
            let name = names.as_mut().and_then(Iterator::next);
            let slot = match (id, name) {
                (Some(id), _) => self.slot_of_id.get(id.index()).copied().unwrap_or(NO_SLOT),
                (None, Some(name)) => self
                    .uninterned
                    .iter()
                    .find(|(n, _)| **n == *name)
                    .map_or(NO_SLOT, |&(_, s)| s),
                (None, None) => NO_SLOT,
            };
            let Some(&(first, end)) = self.slot_chunks.get(slot as usize) else {
                continue;
            };
            if let Some(p) = st.label.get_mut(slot as usize) {
                *p = i as u32;
            }
            if value.is_empty() {
                // Reads like a missing label: `empty` already holds its results.
                continue;
            }
            let head = value.head();
            for c in first..end {
                let (e, b) = if c < cached {
                    cache.lookup(c, head, value.len())
                } else {
                    (UNCACHED, [0, 0])
                };
                if let Some(bits) = st.bits_mut(c) {
                    *bits = b;
                }
                st.set_entry(c, e);
                fetched.push(c);
            }
        }
    }
}

/// The state of one match.
struct Walk<'e, 'l, 'b, S: AlertState> {
    e: &'e Engine,
    labels: &'l LabelSet,
    st: S,
    cache: &'b mut ValueCache,
    out: &'b mut Vec<RouteId>,
}

impl<S: AlertState> Walk<'_, '_, '_, S> {
    /// The alert's value of the label in `slot` (only asked for slots whose label the
    /// alert has: the other slots' tests are all known).
    #[inline]
    fn value(&self, slot: u32) -> &str {
        self.labels
            .value_at(self.st.label(slot))
            .map_or("", ValueRef::as_str)
    }

    /// Looks chunk `c`'s value up in the cache (a lazy chunk, first needed now).
    #[inline(never)]
    fn fetch(&mut self, c: u32) {
        let Some(value) = self
            .labels
            .value_at(self.st.label(self.e.chunk_slot[c as usize]))
        else {
            // Not reached: a pending chunk's label is in the alert. Its tests are then
            // evaluated on `""` and remembered for this alert only.
            self.st.set_entry(c, UNCACHED);
            return;
        };
        let (e, b) = self.cache.lookup(c, value.head(), value.len());
        if let Some(bits) = self.st.bits_mut(c) {
            *bits = b;
        }
        self.st.set_entry(c, e);
    }

    /// The result of test `bit` of chunk `c`, evaluating (and remembering) it if unknown.
    #[inline]
    fn result(&mut self, c: u32, bit: u8) -> bool {
        let [known, results] = self.st.bits(c);
        if known >> bit & 1 == 1 {
            return results >> bit & 1 == 1;
        }
        if self.st.take_pending(c) {
            self.fetch(c);
            let [known, results] = self.st.bits(c);
            if known >> bit & 1 == 1 {
                return results >> bit & 1 == 1;
            }
        }
        let t = (self.e.chunk_first_test[c as usize] + u32::from(bit)) as usize;
        let r = self.e.tests[t].eval(self.value(self.e.chunk_slot[c as usize]));
        if let Some(b) = self.st.bits_mut(c) {
            b[0] |= 1 << bit;
            b[1] |= u64::from(r) << bit;
            let b = *b;
            let i = self.st.entry(c);
            if i != UNCACHED {
                self.cache.store(i, b);
            }
        }
        r
    }

    /// Whether node `h`'s own requirements hold, evaluating what is unknown (cheapest
    /// first, stopping at the first failure).
    fn check(&mut self, h: u32) -> bool {
        let (start, end) = self.e.shape[h as usize].reqs;
        for i in start..end {
            let r = self.e.all_reqs[i as usize];
            if self.result(r.chunk, r.bit) != r.want {
                return false;
            }
        }
        true
    }

    /// `Route.Match` below node `h`, whose own requirements hold.
    fn descend(&mut self, h: u32) {
        let e = self.e;
        let shape = &e.shape[h as usize];
        let before = self.out.len();
        if shape.first.len > 0 {
            let mut g = &shape.first;
            let mut next = shape.groups.0 + 1;
            'groups: loop {
                let (pass, undecided) = self.classify(g);
                let mut candidates = pass | undecided;
                while candidates != 0 {
                    let j = candidates.trailing_zeros();
                    candidates &= candidates - 1;
                    let child = g.first + j;
                    if undecided >> j & 1 == 1 && !self.check(child) {
                        continue;
                    }
                    if g.leaves >> j & 1 == 1 {
                        // A leaf: it matched, so it is the route.
                        self.out.push(RouteId(e.shape[child as usize].route));
                    } else {
                        self.descend(child);
                    }
                    if g.stops >> j & 1 == 1 {
                        break 'groups;
                    }
                }
                // More than 64 children: the next group.
                match e.groups.get(next as usize) {
                    Some(more) if next < shape.groups.1 => {
                        g = more;
                        next += 1;
                    }
                    _ => break,
                }
            }
        }
        if self.out.len() == before {
            self.out.push(RouteId(shape.route));
        }
    }

    /// For the children in `group`: which are known to match, and which are undecided
    /// (a test they read is still unknown). The rest are known not to match.
    #[inline]
    fn classify(&self, group: &Group) -> (u64, u64) {
        let mut failed = 0u64;
        let mut unknown = 0u64;
        for ct in &self.e.child_tests[group.tests.0 as usize..group.tests.1 as usize] {
            let [k, v] = self.st.bits(ct.chunk);
            let known = k & ct.mask != 0;
            let result = v & ct.mask != 0;
            // Which children the result fails. The outcome varies from alert to alert: a
            // select, not a branch.
            let against = select_unpredictable(result, ct.f, ct.t);
            failed |= select_unpredictable(known, against, 0);
            unknown |= select_unpredictable(known, 0, ct.t | ct.f);
        }
        for run in &self.e.runs[group.runs.0 as usize..group.runs.1 as usize] {
            let [k, v] = self.st.bits(run.chunk);
            let known = k >> run.lo & run.mask;
            let result = v >> run.lo & run.mask;
            failed |= (known & (result ^ run.want)) << run.child_lo;
            unknown |= (!known & run.mask) << run.child_lo;
        }
        let all = u64::MAX >> (64 - group.len);
        (all & !failed & !unknown, unknown & !failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(chunk: u32, bit: u32, child: u32, want: bool) -> ChildTest {
        let (t, f) = if want {
            (1 << child, 0)
        } else {
            (0, 1 << child)
        };
        ChildTest { t, f, chunk, bit }
    }

    fn m(t: MatchType, name: &str, value: &str) -> Matcher {
        Matcher::new(t, name, value).expect("valid matcher")
    }

    #[test]
    fn labels_read_where_every_alert_gets_are_eager() {
        use MatchType::{Equal, NotEqual, Regexp};
        // Pre-order: 0 root; 1 {sev}; 2 {} (a hub); 3 {team} under 2; 4 {team}; 5 {d, e}
        // under 4; 6 {f} under 5.
        let nodes = [
            (vec![], vec![1, 2, 4]),
            (vec![m(Regexp, "sev", "crit|page")], vec![]),
            (vec![], vec![3]),
            (vec![m(Equal, "team", "a")], vec![]),
            (vec![m(Equal, "team", "b")], vec![5]),
            (vec![m(Regexp, "d", "x.*"), m(NotEqual, "e", "")], vec![6]),
            (vec![m(Equal, "f", "1")], vec![]),
        ];
        let views: Vec<NodeView<'_>> = nodes
            .iter()
            .map(|(matchers, children)| NodeView {
                matchers,
                children,
                continue_: false,
            })
            .collect();
        let e = Engine::compile(&views);
        assert!(!e.direct.is_empty());
        let slot = |name: &str| {
            let id = NameId::intern(name).expect("interned");
            e.slot_of_id[id.index()]
        };
        let lazy = |name: &str| e.lazy >> slot(name) & 1 == 1;
        assert!(!lazy("sev") && !lazy("team"));
        assert!(lazy("d") && lazy("e") && lazy("f"));
    }

    #[test]
    fn runs_are_consecutive_tests_of_consecutive_children() {
        let tests = vec![
            // A run of four on chunk 0, out of order.
            single(0, 3, 5, true),
            single(0, 1, 3, true),
            single(0, 2, 4, true),
            single(0, 4, 6, true),
            // Two only: left as tests.
            single(1, 0, 0, true),
            single(1, 1, 1, true),
            // A negated run of three.
            single(2, 7, 10, false),
            single(2, 8, 11, false),
            single(2, 9, 12, false),
            // Shared by two children: never in a run.
            ChildTest {
                t: 0b11,
                f: 0,
                chunk: 3,
                bit: 0,
            },
        ];
        let (runs, rest) = find_runs(tests);
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[0].chunk, runs[0].lo, runs[0].child_lo), (0, 1, 3));
        assert_eq!((runs[0].mask, runs[0].want), (0b1111, 0b1111));
        assert_eq!((runs[1].chunk, runs[1].lo, runs[1].child_lo), (2, 7, 10));
        assert_eq!((runs[1].mask, runs[1].want), (0b111, 0));
        assert_eq!(rest.len(), 3);
    }
}
