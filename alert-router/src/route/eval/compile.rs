//! Compiling a route tree into an [`Engine`]: distinct tests numbered in chunks, nodes
//! laid out breadth first, the tests of each group of siblings, runs.

use std::collections::HashMap;

use alert_core::fingerprint::MAX_FOLDED_NAMES;
use alert_core::{MatchType, Matcher, NameId};

use super::super::RouteId;
use super::state::missing;
use super::{
    ChunkIdx, Engine, FEW_CHUNKS, Few, FewReset, Group, GroupTest, Layout, NO_SLOT, NodeIdx, Req,
    Run, SMALL_CHUNKS, Shape, SlotIdx, Test,
};

/// One test the children of a node (a group of up to 64 of them) read: bit `j` of `t`
/// (of `f`) is set when child `j` needs the test to be true (false).
#[derive(Debug, Clone, Copy)]
struct ChildTest {
    t: u64,
    f: u64,
    chunk: ChunkIdx,
    bit: u32,
}

/// A bit per route of `routes` (at most 64) for which `keep` holds.
fn bits_of(routes: &[RouteId], keep: impl Fn(RouteId) -> bool) -> u64 {
    routes
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
    /// The children, in configuration order.
    pub(crate) children: &'a [RouteId],
    pub(crate) continue_: bool,
}

impl Engine {
    /// Compiles the tree whose routes are given in depth-first pre-order (indexed by
    /// [`RouteId`]), the root first.
    pub(crate) fn compile(nodes: &[NodeView<'_>]) -> Engine {
        let mut e = Engine::default();
        // Distinct positive tests, grouped by label name into slots numbered in order of
        // first use (renumbered most used first below).
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
        let mut test_pos: Vec<Vec<(ChunkIdx, u8)>> = vec![Vec::new(); slots.len()];
        for (new, &old) in order.iter().enumerate() {
            let new = SlotIdx(new as u32);
            let SlotTests { name, tests, .. } = &slots[old];
            match NameId::intern_configured(name) {
                Some(id) => {
                    if e.slot_of_id.len() <= id.index() {
                        e.slot_of_id.resize(id.index() + 1, NO_SLOT);
                    }
                    e.slot_of_id[id.index()] = new;
                }
                None => e.uninterned.push(((*name).into(), new)),
            }
            let first_chunk = ChunkIdx(e.chunk_slot.len() as u32);
            for (i, &matcher) in tests.iter().enumerate() {
                if i % 64 == 0 {
                    e.chunk_slot.push(new);
                    e.chunk_first_test.push(e.tests.len() as u32);
                }
                let chunk = ChunkIdx((e.chunk_slot.len() - 1) as u32);
                test_pos[old].push((chunk, (i % 64) as u8));
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
            let end = ChunkIdx(e.chunk_slot.len() as u32);
            e.slot_chunks.push((first_chunk, end));
        }
        e.empty.push([0, 0]);
        // The table of `Layout::Few`, when the tree fits it.
        let direct = (e.uninterned.is_empty()
            && e.empty.len() <= FEW_CHUNKS
            && e.slot_chunks.iter().all(|&(a, b)| b.0 == a.0 + 1))
        .then(|| {
            // Every name is interned: fewer than MAX_FOLDED_NAMES slots, so chunks (one a
            // slot) and the spare fit in u16.
            let spare = e.chunk_slot.len() as u16;
            let mut direct = vec![spare; MAX_FOLDED_NAMES];
            for (id, &slot) in e.slot_of_id.iter().enumerate() {
                if let Some(&(chunk, _)) = e.slot_chunks.get(slot.index())
                    && let Some(d) = direct.get_mut(id)
                {
                    *d = chunk.0 as u16;
                }
            }
            direct
        });
        let node_reqs: Vec<Vec<Req>> = node_tests
            .iter()
            .map(|own| {
                let mut reqs: Vec<(bool, Req)> = own
                    .iter()
                    .map(|&(s, t, want)| {
                        let (chunk, bit) = test_pos[s][t];
                        let test = (e.chunk_first_test[chunk.index()] + u32::from(bit)) as usize;
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
        let mut queue = std::collections::VecDeque::from([RouteId::ROOT]);
        // Per route: its node, set when its parent is laid out.
        let mut node_of = vec![NodeIdx::ROOT; nodes.len()];
        let mut next = NodeIdx::ROOT.plus(1);
        let unset = Shape {
            route: RouteId::ROOT,
            groups: (0, 0),
            first: Group::default(),
            reqs: (0, 0),
        };
        e.shape = vec![unset; nodes.len()];
        while let Some(route) = queue.pop_front() {
            let h = node_of[route.index()];
            let kids = nodes[route.index()].children;
            let reqs = &node_reqs[route.index()];
            let reqs_start = e.all_reqs.len() as u32;
            e.all_reqs.extend_from_slice(reqs);
            let groups_start = e.groups.len() as u32;
            for (g, chunk_of_kids) in kids.chunks(64).enumerate() {
                let tests_start = e.child_tests.len() as u32;
                let mut tests: Vec<ChildTest> = Vec::new();
                for (j, &k) in chunk_of_kids.iter().enumerate() {
                    for r in &node_reqs[k.index()] {
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
                    first: next.plus((g * 64) as u32),
                    len: chunk_of_kids.len() as u32,
                    tests: (tests_start, e.child_tests.len() as u32),
                    runs: (runs_start, e.runs.len() as u32),
                    leaves: bits_of(chunk_of_kids, |k| nodes[k.index()].children.is_empty()),
                    stops: bits_of(chunk_of_kids, |k| !nodes[k.index()].continue_),
                });
            }
            e.shape[h.index()] = Shape {
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
                node_of[k.index()] = next;
                next = next.plus(1);
                queue.push_back(k);
            }
        }
        if let Some(direct) = direct {
            let reset = if e.empty.len() <= SMALL_CHUNKS {
                let mut small = [[0, 0]; SMALL_CHUNKS];
                for (s, b) in small.iter_mut().zip(&e.empty) {
                    *s = *b;
                }
                FewReset::Small(small)
            } else {
                FewReset::Full(e.empty.iter().map(|&b| missing(b)).collect())
            };
            let eager = e.eager_chunks();
            let lazy = (0..e.chunk_slot.len())
                .filter(|&c| !eager[c])
                .fold(0, |m, c| m | 1 << (c % 64));
            e.layout = Layout::Few(Few {
                direct,
                lazy,
                reset,
            });
        }
        e
    }

    /// The chunks read where every alert gets to: by the root, by the children of the
    /// root, and likewise below children without matchers (hubs).
    fn eager_chunks(&self) -> Vec<bool> {
        let mut eager = vec![false; self.chunk_slot.len()];
        let mut mark = |c: ChunkIdx| {
            if let Some(m) = eager.get_mut(c.index()) {
                *m = true;
            }
        };
        let mut hubs = vec![NodeIdx::ROOT];
        while let Some(h) = hubs.pop() {
            let shape = self.shape[h.index()];
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
                for child in (0..g.len).map(|j| g.first.plus(j)) {
                    let (a, b) = self.shape[child.index()].reqs;
                    if a == b {
                        hubs.push(child);
                    }
                }
            }
        }
        eager
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
        let chunk = ChunkIdx(chunk);
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
        let children: Vec<Vec<RouteId>> = nodes
            .iter()
            .map(|(_, kids)| kids.iter().map(|&k| RouteId(k)).collect())
            .collect();
        let views: Vec<NodeView<'_>> = nodes
            .iter()
            .zip(&children)
            .map(|((matchers, _), children)| NodeView {
                matchers,
                children,
                continue_: false,
            })
            .collect();
        let e = Engine::compile(&views);
        let Layout::Few(few) = &e.layout else {
            panic!("a tree of five labels is laid out for few chunks");
        };
        let slot = |name: &str| {
            let id = NameId::intern(name).expect("interned");
            e.slot_of_id[id.index()]
        };
        // Slot `i` is chunk `i`.
        let lazy = |name: &str| few.lazy >> slot(name).0 & 1 == 1;
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
                chunk: ChunkIdx(3),
                bit: 0,
            },
        ];
        let (runs, rest) = find_runs(tests);
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[0].chunk.0, runs[0].lo, runs[0].child_lo), (0, 1, 3));
        assert_eq!((runs[0].mask, runs[0].want), (0b1111, 0b1111));
        assert_eq!((runs[1].chunk.0, runs[1].lo, runs[1].child_lo), (2, 7, 10));
        assert_eq!((runs[1].mask, runs[1].want), (0b111, 0));
        assert_eq!(rest.len(), 3);
    }
}
