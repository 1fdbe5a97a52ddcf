//! The per-alert state: per chunk, which tests are known and their results, the
//! value-cache entry and the label's position in the alert; and what a [`MatchBuffer`]
//! keeps of it between alerts.
//!
//! [`MatchBuffer`]: super::super::MatchBuffer

use super::super::value_cache::ValueCache;
use super::{ChunkIdx, Engine, FEW_CHUNKS, Layout, SlotIdx, UNCACHED};

/// Per-alert state of one chunk: which tests are known, and their results.
pub(crate) type Bits = [u64; 2];

/// The per-alert state, as the walk reads and completes it.
pub(super) trait AlertState {
    /// Chunk `c`'s known tests and their results.
    fn bits(&self, c: ChunkIdx) -> Bits;
    fn bits_mut(&mut self, c: ChunkIdx) -> Option<&mut Bits>;
    /// Chunk `c`'s value-cache entry, or [`UNCACHED`]: only meaningful for chunks whose
    /// value was looked up for this alert.
    fn entry(&self, c: ChunkIdx) -> u32;
    fn set_entry(&mut self, c: ChunkIdx, entry: u32);
    /// The position in the alert of the label read by `slot`: only meaningful when
    /// the alert has that label.
    fn label(&self, slot: SlotIdx) -> usize;
    /// Whether chunk `c`'s label is in the alert but its value not yet looked up in the
    /// cache (see [`Few::lazy`](super::Few::lazy)); the lookup is then due, so the mark
    /// is cleared.
    fn take_pending(&mut self, c: ChunkIdx) -> bool;
}

/// One chunk's per-alert state in a tree with few chunks ([`Layout::Few`]). Between
/// alerts, small trees reset only `bits` ([`FewReset::Small`](super::FewReset::Small)):
/// `entry` and `label` are written for this alert before they are read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FewChunk {
    pub(super) bits: Bits,
    /// Its value-cache entry (see [`AlertState::entry`]).
    pub(super) entry: u32,
    /// The position of its label (see [`AlertState::label`]).
    pub(super) label: u32,
}

/// A missing label's state for a chunk whose tests give `bits` on `""`.
pub(super) const fn missing(bits: Bits) -> FewChunk {
    FewChunk {
        bits,
        entry: UNCACHED,
        label: 0,
    }
}

/// The state of a tree with few chunks, one a slot (slot `i` is chunk `i`,
/// [`Layout::Few`]): one array, so the label loop and the walk keep one pointer to it.
pub(super) struct FewState<'s> {
    pub(super) chunks: &'s mut [FewChunk; FEW_CHUNKS],
    /// Lazy chunks whose label the alert has, not yet looked up: a bit per chunk.
    pub(super) pending: u64,
}

impl AlertState for FewState<'_> {
    #[inline(always)]
    fn bits(&self, c: ChunkIdx) -> Bits {
        self.chunks[c.index() % FEW_CHUNKS].bits
    }

    #[inline(always)]
    fn bits_mut(&mut self, c: ChunkIdx) -> Option<&mut Bits> {
        Some(&mut self.chunks[c.index() % FEW_CHUNKS].bits)
    }

    #[inline(always)]
    fn entry(&self, c: ChunkIdx) -> u32 {
        self.chunks[c.index() % FEW_CHUNKS].entry
    }

    #[inline(always)]
    fn set_entry(&mut self, c: ChunkIdx, entry: u32) {
        self.chunks[c.index() % FEW_CHUNKS].entry = entry;
    }

    #[inline(always)]
    fn label(&self, slot: SlotIdx) -> usize {
        self.chunks[slot.index() % FEW_CHUNKS].label as usize
    }

    #[inline(always)]
    fn take_pending(&mut self, c: ChunkIdx) -> bool {
        let bit = 1u64 << (c.index() % 64);
        let pending = self.pending & bit != 0;
        self.pending &= !bit;
        pending
    }
}

/// The state of any other tree ([`Layout::Many`]).
pub(super) struct ManyState<'s> {
    pub(super) bits: &'s mut [Bits],
    pub(super) entry: &'s mut [u32],
    /// Per slot.
    pub(super) label: &'s mut [u32],
}

impl AlertState for ManyState<'_> {
    #[inline(always)]
    fn bits(&self, c: ChunkIdx) -> Bits {
        self.bits.get(c.index()).copied().unwrap_or([0, 0])
    }

    #[inline(always)]
    fn bits_mut(&mut self, c: ChunkIdx) -> Option<&mut Bits> {
        self.bits.get_mut(c.index())
    }

    #[inline(always)]
    fn entry(&self, c: ChunkIdx) -> u32 {
        self.entry.get(c.index()).copied().unwrap_or(UNCACHED)
    }

    #[inline(always)]
    fn set_entry(&mut self, c: ChunkIdx, entry: u32) {
        if let Some(e) = self.entry.get_mut(c.index()) {
            *e = entry;
        }
    }

    #[inline(always)]
    fn label(&self, slot: SlotIdx) -> usize {
        self.label
            .get(slot.index())
            .map_or(usize::MAX, |&i| i as usize)
    }

    #[inline(always)]
    fn take_pending(&mut self, _: ChunkIdx) -> bool {
        false
    }
}

/// What a [`MatchBuffer`](super::super::MatchBuffer) keeps for the engine between alerts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    /// The state, in the layout of the engine it serves.
    pub(super) kept: Kept,
    pub(super) cache: ValueCache,
}

/// An alert's state as [`Scratch`] keeps it between alerts, in one engine's [`Layout`].
#[derive(Debug, Clone)]
pub(super) enum Kept {
    /// [`Layout::Few`]: [`FEW_CHUNKS`] chunks' state ([`FewState`]).
    Few(Box<[FewChunk; FEW_CHUNKS]>),
    /// [`Layout::Many`] ([`ManyState`]).
    Many(ManyKept),
}

impl Default for Kept {
    fn default() -> Kept {
        Kept::Many(ManyKept::default())
    }
}

/// The vectors [`ManyState`] borrows.
#[derive(Debug, Clone, Default)]
pub(super) struct ManyKept {
    /// Per chunk, known tests and results for the current alert.
    pub(super) bits: Vec<Bits>,
    /// Per chunk looked up for the current alert: its cache entry, or [`UNCACHED`].
    pub(super) entry: Vec<u32>,
    /// Per slot whose label the current alert has: that label's position in the alert.
    pub(super) label: Vec<u32>,
    /// Chunks looked up for the current alert (set back to `empty` before the next
    /// one).
    pub(super) fetched: Vec<ChunkIdx>,
}

impl Engine {
    /// Prepares `scratch` for this engine (after it served another one, or none).
    pub(crate) fn reset_scratch(&self, scratch: &mut Scratch) {
        scratch.kept = match self.layout {
            Layout::Few(_) => Kept::Few(Box::new([missing([0, 0]); FEW_CHUNKS])),
            Layout::Many => Kept::Many(ManyKept {
                bits: self.empty.clone(),
                entry: vec![UNCACHED; self.empty.len()],
                label: vec![0; self.slot_chunks.len()],
                fetched: Vec::new(),
            }),
        };
        scratch.cache = ValueCache::new(self.cached_chunks());
    }
}
