//! Equality of short byte strings without a call into libc: label names and
//! values are mostly under 32 bytes, where a `memcmp` call costs more than the
//! comparison (20 to 150 ns a call on the 2-core VMs this runs on).

/// Reads `len` (at most 8) bytes of `b` starting at `at` into a word, with at most two
/// loads: the same bytes always give the same word, different bytes a different one.
#[inline(always)]
fn word(b: &[u8], at: usize, len: usize) -> u64 {
    let b = &b[at..at + len];
    match len {
        0 => 0,
        1 => u64::from(b[0]),
        2 | 3 => {
            let lo = u64::from(u16::from_le_bytes([b[0], b[1]]));
            let hi = u64::from(u16::from_le_bytes([b[len - 2], b[len - 1]]));
            lo | hi << 16
        }
        4..=7 => {
            let lo = u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            let hi = u64::from(u32::from_le_bytes([
                b[len - 4],
                b[len - 3],
                b[len - 2],
                b[len - 1],
            ]));
            lo | hi << 32
        }
        _ => word8(b, 0),
    }
}

#[inline(always)]
fn word8(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Whether `a == b`, a word at a time (the last word overlapping the one before it).
#[inline(always)]
pub(crate) fn eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return n == 0 || word(a, 0, n) == word(b, 0, n);
    }
    let mut at = 0;
    while at + 8 < n {
        if word8(a, at) != word8(b, at) {
            return false;
        }
        at += 8;
    }
    word8(a, n - 8) == word8(b, n - 8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn eq_agrees_with_str_eq(a in ".{0,40}", b in ".{0,40}") {
            prop_assert_eq!(eq(a.as_bytes(), b.as_bytes()), a == b);
            prop_assert!(eq(a.as_bytes(), a.clone().as_bytes()));
        }

    }

    #[test]
    fn near_misses_differ() {
        assert!(!eq(b"severity", b"severitx"));
        assert!(!eq(b"abcdefghijklmnop", b"abcdefghijklmnoq"));
        assert!(!eq(b"a", b"b"));
        assert!(eq(b"", b""));
    }
}
