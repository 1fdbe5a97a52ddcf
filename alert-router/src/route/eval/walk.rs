//! Matching one alert: the label loop, then Alertmanager's walk over the compiled tree.

use std::hint::select_unpredictable;

use alert_core::{LabelSet, ValueRef};

use super::super::value_cache::ValueCache;
use super::super::{MatchBuffer, RouteId};
use super::state::{AlertState, FewState, Kept, ManyKept, ManyState, Scratch};
use super::{
    ChunkIdx, Engine, FEW_CHUNKS, Few, FewReset, Group, Layout, NO_SLOT, NodeIdx, SlotIdx, UNCACHED,
};

impl Engine {
    /// Alertmanager's `Route.Match` from the root: the matched routes are appended to
    /// `buf.routes`.
    pub(crate) fn run(&self, labels: &LabelSet, buf: &mut MatchBuffer) {
        let Scratch { kept, cache } = &mut buf.scratch;
        match (&self.layout, kept) {
            (Layout::Few(few), Kept::Few(chunks)) => {
                // Every chunk back to a missing label's state, in one copy.
                match &few.reset {
                    FewReset::Small(small) => {
                        for (c, b) in chunks.iter_mut().zip(small) {
                            c.bits = *b;
                        }
                    }
                    FewReset::Full(missing) => {
                        if let Some(c) = chunks.get_mut(..missing.len()) {
                            c.copy_from_slice(missing);
                        }
                    }
                }
                let mut st = FewState { chunks, pending: 0 };
                self.sort_direct(few, labels, &mut st, cache);
                self.walk(labels, st, cache, &mut buf.routes);
            }
            (
                Layout::Many,
                Kept::Many(ManyKept {
                    bits,
                    entry,
                    label,
                    fetched,
                }),
            ) => {
                // Only the chunks the last alert looked up.
                for &c in fetched.iter() {
                    if let (Some(b), Some(empty)) =
                        (bits.get_mut(c.index()), self.empty.get(c.index()))
                    {
                        *b = *empty;
                    }
                }
                fetched.clear();
                let mut st = ManyState { bits, entry, label };
                self.sort_labels(labels, &mut st, fetched, cache);
                self.walk(labels, st, cache, &mut buf.routes);
            }
            _ => {
                // Not reached: `reset_scratch` gave the scratch this engine's layout
                // when the buffer came to this tree.
                self.reset_scratch(&mut buf.scratch);
                self.run(labels, buf);
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
        if first == end || walk.check(NodeIdx::ROOT) {
            walk.descend(NodeIdx::ROOT);
        }
    }

    /// The label loop of trees with few chunks, one a slot, and every name interned:
    /// a table from name number to chunk, no bookkeeping of what was looked up.
    #[inline(always)]
    fn sort_direct(
        &self,
        few: &Few,
        labels: &LabelSet,
        st: &mut FewState<'_>,
        cache: &mut ValueCache,
    ) {
        let spare = self.chunk_slot.len();
        let mut tables = cache.eager();
        for (i, (id, value)) in labels.values_with_ids().enumerate() {
            let c = id
                .and_then(|id| few.direct.get(id.index()))
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
            if few.lazy >> k & 1 == 1 {
                chunk.bits = [0, 0];
                st.pending |= 1 << k;
                continue;
            }
            let (e, b) = tables.lookup(ChunkIdx(c as u32), value.head(), value.len());
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
        fetched: &mut Vec<ChunkIdx>,
        cache: &mut ValueCache,
    ) {
        // The first chunk without a value-cache table.
        let uncached = ChunkIdx(self.cached_chunks() as u32);
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
            let Some(&(first, end)) = self.slot_chunks.get(slot.index()) else {
                continue;
            };
            if let Some(p) = st.label.get_mut(slot.index()) {
                *p = i as u32;
            }
            if value.is_empty() {
                // Reads like a missing label: `empty` already holds its results.
                continue;
            }
            let head = value.head();
            for c in ChunkIdx::range(first, end) {
                let (e, b) = if c < uncached {
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
    fn value(&self, slot: SlotIdx) -> &str {
        self.labels
            .value_at(self.st.label(slot))
            .map_or("", ValueRef::as_str)
    }

    /// Looks chunk `c`'s value up in the cache (a lazy chunk, first needed now).
    #[inline(never)]
    fn fetch(&mut self, c: ChunkIdx) {
        let Some(value) = self
            .labels
            .value_at(self.st.label(self.e.chunk_slot[c.index()]))
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
    fn result(&mut self, c: ChunkIdx, bit: u8) -> bool {
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
        let t = (self.e.chunk_first_test[c.index()] + u32::from(bit)) as usize;
        let r = self.e.tests[t].eval(self.value(self.e.chunk_slot[c.index()]));
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
    fn check(&mut self, h: NodeIdx) -> bool {
        let (start, end) = self.e.shape[h.index()].reqs;
        for i in start..end {
            let r = self.e.all_reqs[i as usize];
            if self.result(r.chunk, r.bit) != r.want {
                return false;
            }
        }
        true
    }

    /// `Route.Match` below node `h`, whose own requirements hold.
    fn descend(&mut self, h: NodeIdx) {
        let e = self.e;
        let shape = &e.shape[h.index()];
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
                    let child = g.first.plus(j);
                    if undecided >> j & 1 == 1 && !self.check(child) {
                        continue;
                    }
                    if g.leaves >> j & 1 == 1 {
                        // A leaf: it matched, so it is the route.
                        self.out.push(e.shape[child.index()].route);
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
            self.out.push(shape.route);
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
