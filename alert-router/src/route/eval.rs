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
//!    once, when the tree is compiled;
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
use alert_core::{LabelSet, MatchType, Matcher, NameId};

use super::value_cache::ValueCache;
use super::{MatchBuffer, RouteId};

/// Label slots whose labels' positions are kept per alert; values of later slots (rare:
/// a tree reading more than this many label names) are looked up by name when needed.
const INLINE_SLOTS: usize = 32;
/// A label position not kept: look the value up by name.
const BY_NAME: u16 = u16::MAX;
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
#[derive(Debug, Clone, Copy)]
struct Group {
    first: u32,
    len: u32,
    /// Range in `Engine::child_tests`.
    tests: (u32, u32),
    /// Range in `Engine::runs`.
    runs: (u32, u32),
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
    /// Range in `Engine::all_reqs`: every requirement, cheapest first.
    reqs: (u32, u32),
    continue_: bool,
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
    slot_names: Vec<Box<str>>,
    /// Per chunk: its slot, and the index in `tests` of its bit 0.
    chunk_slot: Vec<u32>,
    chunk_first_test: Vec<u32>,
    tests: Vec<Test>,
    regex_count: usize,
    shape: Vec<Shape>,
    groups: Vec<Group>,
    child_tests: Vec<ChildTest>,
    runs: Vec<Run>,
    all_reqs: Vec<Req>,
    /// Per slot: its chunks (consecutive).
    slot_chunks: Vec<(u32, u32)>,
    /// Per chunk: the results of its tests on `""` (a missing label), all known; and
    /// `[0, 0]` for the spare chunk at the end.
    empty: Vec<Bits>,
    /// When every slot has one chunk (slot `i` is chunk `i`) and every name is
    /// interned: per [`NameId`] index, the slot of that name or the spare chunk. The
    /// label loop then runs without branches. Empty otherwise.
    direct: Vec<u16>,
}

/// Per-alert state of one chunk: which tests are known, and their results.
pub(crate) type Bits = [u64; 2];

/// Trees with at most this many chunks (the spare one included) keep the per-alert
/// chunk state in a fixed-size array, indexed without bounds checks.
const FEW_CHUNKS: usize = 64;

/// The per-alert chunk state, as the walk reads it.
trait ChunkBits {
    fn get(&self, c: u32) -> Bits;
    fn get_mut(&mut self, c: u32) -> Option<&mut Bits>;
}

/// A tree with few chunks: every chunk id is below [`FEW_CHUNKS`].
impl ChunkBits for [Bits; FEW_CHUNKS] {
    #[inline(always)]
    fn get(&self, c: u32) -> Bits {
        self[c as usize % FEW_CHUNKS]
    }

    #[inline(always)]
    fn get_mut(&mut self, c: u32) -> Option<&mut Bits> {
        Some(&mut self[c as usize % FEW_CHUNKS])
    }
}

impl ChunkBits for [Bits] {
    #[inline(always)]
    fn get(&self, c: u32) -> Bits {
        <[Bits]>::get(self, c as usize).copied().unwrap_or([0, 0])
    }

    #[inline(always)]
    fn get_mut(&mut self, c: u32) -> Option<&mut Bits> {
        <[Bits]>::get_mut(self, c as usize)
    }
}

/// What a [`MatchBuffer`] keeps for the engine between alerts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    /// Per chunk: known tests and results for the current alert (at least
    /// [`FEW_CHUNKS`] long).
    bits: Vec<Bits>,
    /// Per chunk fetched for the current alert: its cache entry, or [`UNCACHED`].
    entry: Vec<u32>,
    /// Chunks fetched for the current alert (set back to `empty` before the next one).
    fetched: Vec<u32>,
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
            e.slot_names.push((*name).into());
            match NameId::intern(name) {
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
        if e.uninterned.is_empty() && e.slot_chunks.iter().all(|&(a, b)| b == a + 1) {
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
                e.child_tests.extend(tests);
                e.groups.push(Group {
                    first: next + (g * 64) as u32,
                    len: chunk_of_kids.len() as u32,
                    tests: (tests_start, e.child_tests.len() as u32),
                    runs: (runs_start, e.runs.len() as u32),
                });
            }
            e.shape[h] = Shape {
                route,
                groups: (groups_start, e.groups.len() as u32),
                reqs: (reqs_start, e.all_reqs.len() as u32),
                continue_: nodes[route as usize].continue_,
            };
            for &k in kids {
                hot_of[k as usize] = next;
                next += 1;
                queue.push_back(k);
            }
        }
        e
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
        scratch.bits.clone_from(&self.empty);
        if scratch.bits.len() < FEW_CHUNKS {
            scratch.bits.resize(FEW_CHUNKS, [0, 0]);
        }
        scratch.entry = vec![UNCACHED; self.empty.len()];
        scratch.fetched.clear();
        scratch.cache = ValueCache::new(self.cached_chunks());
    }

    /// Alertmanager's `Route.Match` from the root: the matched routes are appended to
    /// `buf.routes`.
    pub(crate) fn run(&self, labels: &LabelSet, buf: &mut MatchBuffer) {
        let s = &mut buf.scratch;
        let few = self.empty.len() <= FEW_CHUNKS;
        // Set the chunks the last alert fetched back to a missing label's results: all
        // of them at once when there are few (a copy is cheaper than the bookkeeping).
        if few {
            if let Some(b) = s.bits.get_mut(..self.empty.len()) {
                b.copy_from_slice(&self.empty);
            }
        } else {
            for &c in &s.fetched {
                if let (Some(b), Some(empty)) =
                    (s.bits.get_mut(c as usize), self.empty.get(c as usize))
                {
                    *b = *empty;
                }
            }
        }
        s.fetched.clear();
        // Per inline slot, the position of its label; one more for the labels the tree
        // does not read and slots past the inline ones.
        let mut index = [BY_NAME; INLINE_SLOTS + 1];
        let Scratch {
            bits,
            entry,
            fetched,
            cache,
        } = s;
        match bits.first_chunk_mut::<FEW_CHUNKS>() {
            Some(fixed) if few && !self.direct.is_empty() => {
                self.sort_direct(labels, fixed, entry, cache, &mut index);
                self.walk(labels, index, fixed, entry, cache, &mut buf.routes);
            }
            _ => {
                self.sort_labels(labels, bits, entry, fetched, cache, &mut index);
                self.walk(labels, index, &mut bits[..], entry, cache, &mut buf.routes);
            }
        }
    }

    /// Matches from the root with the chunks fetched.
    #[inline(always)]
    fn walk<B: ChunkBits + ?Sized>(
        &self,
        labels: &LabelSet,
        index: [u16; INLINE_SLOTS + 1],
        bits: &mut B,
        entry: &[u32],
        cache: &mut ValueCache,
        out: &mut Vec<RouteId>,
    ) {
        let mut walk = Walk {
            e: self,
            labels,
            index,
            bits,
            entry,
            cache,
            out,
        };
        if walk.check(0) {
            walk.descend(0);
        }
    }

    /// The label loop of trees with few chunks, one a slot, and every name interned:
    /// a table from name number to chunk, no bookkeeping of what was fetched.
    #[inline(always)]
    fn sort_direct(
        &self,
        labels: &LabelSet,
        bits: &mut [Bits; FEW_CHUNKS],
        entry: &mut [u32],
        cache: &mut ValueCache,
        index: &mut [u16; INLINE_SLOTS + 1],
    ) {
        let spare = self.chunk_slot.len();
        for (i, (id, value)) in labels.values_with_ids().enumerate() {
            let c = match id {
                Some(id) => self
                    .direct
                    .get(id.index())
                    .map_or(spare, |&c| usize::from(c)),
                None => spare,
            };
            if c == spare {
                continue;
            }
            if let Some(p) = index.get_mut(c.min(INLINE_SLOTS)) {
                *p = u16::try_from(i).unwrap_or(BY_NAME);
            }
            let (e, b) = if value.is_empty() {
                // Reads like a missing label, whose results `empty` holds.
                (UNCACHED, self.empty.get(c).copied().unwrap_or([0, 0]))
            } else {
                cache.lookup(c as u32, value.head(), value.len())
            };
            bits[c % FEW_CHUNKS] = b;
            if let Some(slot) = entry.get_mut(c) {
                *slot = e;
            }
        }
    }

    /// The label loop for other trees: several chunks per slot, names the interner had
    /// no room for, or many chunks (only those fetched are reset for the next alert).
    fn sort_labels(
        &self,
        labels: &LabelSet,
        bits: &mut [Bits],
        entry: &mut [u32],
        fetched: &mut Vec<u32>,
        cache: &mut ValueCache,
        index: &mut [u16; INLINE_SLOTS + 1],
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
            if let Some(p) = index.get_mut((slot as usize).min(INLINE_SLOTS)) {
                *p = u16::try_from(i).unwrap_or(BY_NAME);
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
                if let (Some(bits), Some(entry)) =
                    (bits.get_mut(c as usize), entry.get_mut(c as usize))
                {
                    *bits = b;
                    *entry = e;
                }
                fetched.push(c);
            }
        }
    }
}

/// The state of one match.
struct Walk<'e, 'l, 'b, B: ChunkBits + ?Sized> {
    e: &'e Engine,
    labels: &'l LabelSet,
    /// Per inline slot, the position of its label in the alert (only read for chunks
    /// fetched this alert), or [`BY_NAME`].
    index: [u16; INLINE_SLOTS + 1],
    bits: &'b mut B,
    entry: &'b [u32],
    cache: &'b mut ValueCache,
    out: &'b mut Vec<RouteId>,
}

impl<B: ChunkBits + ?Sized> Walk<'_, '_, '_, B> {
    /// The alert's value of the label in `slot` (`""` when it has none).
    #[inline]
    fn value(&self, slot: u32) -> &str {
        let kept = self
            .index
            .get(slot as usize)
            .filter(|&&i| (slot as usize) < INLINE_SLOTS && i != BY_NAME)
            .and_then(|&i| self.labels.get_index(usize::from(i)));
        match kept {
            Some((_, v)) => v,
            None => self.labels.get_or_empty(&self.e.slot_names[slot as usize]),
        }
    }

    /// The result of test `bit` of chunk `c`, evaluating (and remembering) it if unknown.
    #[inline]
    fn result(&mut self, c: u32, bit: u8) -> bool {
        let [known, results] = self.bits.get(c);
        if known >> bit & 1 == 1 {
            return results >> bit & 1 == 1;
        }
        let t = (self.e.chunk_first_test[c as usize] + u32::from(bit)) as usize;
        let r = self.e.tests[t].eval(self.value(self.e.chunk_slot[c as usize]));
        if let Some(b) = self.bits.get_mut(c) {
            b[0] |= 1 << bit;
            b[1] |= u64::from(r) << bit;
            let i = self.entry.get(c as usize).copied().unwrap_or(UNCACHED);
            if i != UNCACHED {
                self.cache.store(i, *b);
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
        let shape = e.shape[h as usize];
        let before = self.out.len();
        if shape.groups.0 < shape.groups.1 {
            'groups: for g in &e.groups[shape.groups.0 as usize..shape.groups.1 as usize] {
                let (pass, undecided) = self.classify(g);
                let mut candidates = pass | undecided;
                while candidates != 0 {
                    let j = candidates.trailing_zeros();
                    candidates &= candidates - 1;
                    let child = g.first + j;
                    if undecided >> j & 1 == 1 && !self.check(child) {
                        continue;
                    }
                    let cs = &e.shape[child as usize];
                    if cs.groups.0 == cs.groups.1 {
                        // A leaf: it matched, so it is the route.
                        self.out.push(RouteId(cs.route));
                    } else {
                        self.descend(child);
                    }
                    if !cs.continue_ {
                        break 'groups;
                    }
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
            let [k, v] = self.bits.get(ct.chunk);
            let mask = 1u64 << ct.bit;
            let known = k & mask != 0;
            let result = v & mask != 0;
            // Which children the result fails. The outcome varies from alert to alert: a
            // select, not a branch.
            let against = select_unpredictable(result, ct.f, ct.t);
            failed |= select_unpredictable(known, against, 0);
            unknown |= select_unpredictable(known, 0, ct.t | ct.f);
        }
        for run in &self.e.runs[group.runs.0 as usize..group.runs.1 as usize] {
            let [k, v] = self.bits.get(run.chunk);
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
