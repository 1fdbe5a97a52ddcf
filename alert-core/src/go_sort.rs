//! Go's `sort.Sort` as Go 1.19 runs it, for output that must list equal elements in the
//! order a Go program lists them.
//!
//! `sort.Sort` is not stable: elements that compare equal come out in an order decided
//! by the algorithm (pattern-defeating quicksort since Go 1.19: insertion sort for up to
//! 12 elements, which keeps their input order; beyond that, partitions, pivots chosen by
//! median of three or Tukey's ninther, heapsort after too many unbalanced partitions,
//! and a deterministic xorshift to break patterns). amtool 0.25 (Debian's build, Go
//! 1.19.8) sorts silences by end time and alerts by start time with it, so a list with
//! ties longer than 12 comes out in an order no stable sort reproduces. [`sort_by`]
//! makes the same comparisons and swaps in the same sequence, so it leaves any input in
//! the same order as Go 1.19's `sort.Sort` with the same `Less`.
//!
//! ```
//! use alert_core::go_sort;
//! // Sorting by the number only, as a Go `Less` on that field would.
//! let mut v: Vec<(u8, char)> = (0..20).map(|i| (i % 2, char::from(b'a' + i))).collect();
//! go_sort::sort_by(&mut v, |a, b| a.0 < b.0);
//! let order: String = v.iter().map(|p| p.1).collect();
//! assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
//! // Not the input order of the ties: Go's pdqsort moved them.
//! assert_ne!(order, "acegikmoqsbdfhjlnprt");
//! ```

/// Sorts `data` in place exactly as Go 1.19's `sort.Sort` sorts a `sort.Interface` whose
/// `Less(i, j)` is `less(&data[i], &data[j])`: ascending, not stable, the same final
/// order for any input.
pub fn sort_by<T>(data: &mut [T], less: impl FnMut(&T, &T) -> bool) {
    let n = data.len();
    if n <= 1 {
        return;
    }
    let mut s = Sorter { data, less };
    s.pdqsort(0, n, bit_len(n));
}

/// Go's `bits.Len`: the number of bits needed to represent `x`.
fn bit_len(x: usize) -> usize {
    (usize::BITS - x.leading_zeros()) as usize
}

/// What `choosePivot` learnt of the order around the pivot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
    Unknown,
    Increasing,
    Decreasing,
}

struct Sorter<'a, T, F> {
    data: &'a mut [T],
    less: F,
}

impl<T, F: FnMut(&T, &T) -> bool> Sorter<'_, T, F> {
    fn less(&mut self, i: usize, j: usize) -> bool {
        (self.less)(&self.data[i], &self.data[j])
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.data.swap(i, j);
    }

    fn insertion_sort(&mut self, a: usize, b: usize) {
        for i in a + 1..b {
            let mut j = i;
            while j > a && self.less(j, j - 1) {
                self.swap(j, j - 1);
                j -= 1;
            }
        }
    }

    /// The heap property on `data[first + lo .. first + hi]`.
    fn sift_down(&mut self, lo: usize, hi: usize, first: usize) {
        let mut root = lo;
        loop {
            let mut child = 2 * root + 1;
            if child >= hi {
                return;
            }
            if child + 1 < hi && self.less(first + child, first + child + 1) {
                child += 1;
            }
            if !self.less(first + root, first + child) {
                return;
            }
            self.swap(first + root, first + child);
            root = child;
        }
    }

    fn heap_sort(&mut self, a: usize, b: usize) {
        let first = a;
        let hi = b - a;
        for i in (0..=(hi - 1) / 2).rev() {
            self.sift_down(i, hi, first);
        }
        for i in (0..hi).rev() {
            self.swap(first, first + i);
            self.sift_down(0, i, first);
        }
    }

    /// Sorts `data[a..b]`; `limit` unbalanced partitions are allowed before heapsort.
    fn pdqsort(&mut self, mut a: usize, mut b: usize, mut limit: usize) {
        const MAX_INSERTION: usize = 12;
        let mut was_balanced = true;
        let mut was_partitioned = true;
        loop {
            let length = b - a;
            if length <= MAX_INSERTION {
                self.insertion_sort(a, b);
                return;
            }
            if limit == 0 {
                self.heap_sort(a, b);
                return;
            }
            if !was_balanced {
                self.break_patterns(a, b);
                limit -= 1;
            }
            let (mut pivot, mut hint) = self.choose_pivot(a, b);
            if hint == Hint::Decreasing {
                self.reverse_range(a, b);
                pivot = (b - 1) - (pivot - a);
                hint = Hint::Increasing;
            }
            if was_balanced
                && was_partitioned
                && hint == Hint::Increasing
                && self.partial_insertion_sort(a, b)
            {
                return;
            }
            // Many elements equal to the one before this range: split off those equal to
            // the pivot.
            if a > 0 && !self.less(a - 1, pivot) {
                a = self.partition_equal(a, b, pivot);
                continue;
            }
            let (mid, already_partitioned) = self.partition(a, b, pivot);
            was_partitioned = already_partitioned;
            let (left, right) = (mid - a, b - mid);
            let balance_threshold = length / 8;
            if left < right {
                was_balanced = left >= balance_threshold;
                self.pdqsort(a, mid, limit);
                a = mid + 1;
            } else {
                was_balanced = right >= balance_threshold;
                self.pdqsort(mid + 1, b, limit);
                b = mid;
            }
        }
    }

    /// One quicksort partition around `data[pivot]`: the new pivot position, and whether
    /// the range was already partitioned.
    fn partition(&mut self, a: usize, b: usize, pivot: usize) -> (usize, bool) {
        self.swap(a, pivot);
        // `i` and `j` bound, inclusively, what is left to partition; `j` may pass below
        // `a + 1` only to `a`, so it is kept as a signed offset.
        let (mut i, mut j) = (a + 1, b as isize - 1);
        while i as isize <= j && self.less(i, a) {
            i += 1;
        }
        while i as isize <= j && !self.less(j as usize, a) {
            j -= 1;
        }
        if i as isize > j {
            self.swap(j as usize, a);
            return (j as usize, true);
        }
        self.swap(i, j as usize);
        i += 1;
        j -= 1;
        loop {
            while i as isize <= j && self.less(i, a) {
                i += 1;
            }
            while i as isize <= j && !self.less(j as usize, a) {
                j -= 1;
            }
            if i as isize > j {
                break;
            }
            self.swap(i, j as usize);
            i += 1;
            j -= 1;
        }
        self.swap(j as usize, a);
        (j as usize, false)
    }

    /// Splits `data[a..b]` (none of it less than the pivot) into the elements equal to
    /// `data[pivot]`, then the greater ones; returns where the greater ones start.
    fn partition_equal(&mut self, a: usize, b: usize, pivot: usize) -> usize {
        self.swap(a, pivot);
        let (mut i, mut j) = (a + 1, b as isize - 1);
        loop {
            while i as isize <= j && !self.less(a, i) {
                i += 1;
            }
            while i as isize <= j && self.less(a, j as usize) {
                j -= 1;
            }
            if i as isize > j {
                break;
            }
            self.swap(i, j as usize);
            i += 1;
            j -= 1;
        }
        i
    }

    /// Shifts a few out-of-order neighbours into place; whether `data[a..b]` is sorted.
    fn partial_insertion_sort(&mut self, a: usize, b: usize) -> bool {
        const MAX_STEPS: usize = 5;
        const SHORTEST_SHIFTING: usize = 50;
        let mut i = a + 1;
        for _ in 0..MAX_STEPS {
            while i < b && !self.less(i, i - 1) {
                i += 1;
            }
            if i == b {
                return true;
            }
            if b - a < SHORTEST_SHIFTING {
                return false;
            }
            self.swap(i, i - 1);
            // The smaller one to the left (Go's loop runs down to index 1, not to `a`).
            if i - a >= 2 {
                let mut j = i - 1;
                while j >= 1 {
                    if !self.less(j, j - 1) {
                        break;
                    }
                    self.swap(j, j - 1);
                    j -= 1;
                }
            }
            // The greater one to the right.
            if b - i >= 2 {
                for j in i + 1..b {
                    if !self.less(j, j - 1) {
                        break;
                    }
                    self.swap(j, j - 1);
                }
            }
        }
        false
    }

    /// Scatters three elements around the middle, with Go 1.19's xorshift seeded by the
    /// length.
    fn break_patterns(&mut self, a: usize, b: usize) {
        let length = b - a;
        if length < 8 {
            return;
        }
        let mut random = length as u64;
        let modulus = 1u64 << bit_len(length);
        let middle = a + (length / 4) * 2;
        for idx in middle - 1..=middle + 1 {
            // Go 1.19's constants (13, 17, 5); later Go releases use (13, 7, 17).
            random ^= random << 13;
            random ^= random >> 17;
            random ^= random << 5;
            let mut other = (random & (modulus - 1)) as usize;
            if other >= length {
                other -= length;
            }
            self.swap(idx, a + other);
        }
    }

    /// A pivot for `data[a..b]`, and what the comparisons said of its order.
    fn choose_pivot(&mut self, a: usize, b: usize) -> (usize, Hint) {
        const SHORTEST_NINTHER: usize = 50;
        const MAX_SWAPS: usize = 4 * 3;
        let l = b - a;
        let mut swaps = 0;
        let mut i = a + l / 4;
        let mut j = a + l / 4 * 2;
        let mut k = a + l / 4 * 3;
        if l >= 8 {
            if l >= SHORTEST_NINTHER {
                i = self.median(i - 1, i, i + 1, &mut swaps);
                j = self.median(j - 1, j, j + 1, &mut swaps);
                k = self.median(k - 1, k, k + 1, &mut swaps);
            }
            j = self.median(i, j, k, &mut swaps);
        }
        match swaps {
            0 => (j, Hint::Increasing),
            MAX_SWAPS => (j, Hint::Decreasing),
            _ => (j, Hint::Unknown),
        }
    }

    /// `(a, b)` ordered so that `data[first] <= data[second]`, counting a swap.
    fn order2(&mut self, a: usize, b: usize, swaps: &mut usize) -> (usize, usize) {
        if self.less(b, a) {
            *swaps += 1;
            (b, a)
        } else {
            (a, b)
        }
    }

    /// The index of the median of `data[a]`, `data[b]`, `data[c]`.
    fn median(&mut self, a: usize, b: usize, c: usize, swaps: &mut usize) -> usize {
        let (a, b) = self.order2(a, b, swaps);
        let (b, _c) = self.order2(b, c, swaps);
        let (_a, b) = self.order2(a, b, swaps);
        b
    }

    fn reverse_range(&mut self, a: usize, b: usize) {
        let (mut i, mut j) = (a, b - 1);
        while i < j {
            self.swap(i, j);
            i += 1;
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_lists_keep_the_input_order_of_ties() {
        let mut v: Vec<(u8, u8)> = (0..12).map(|i| (i % 3, i)).collect();
        sort_by(&mut v, |a, b| a.0 < b.0);
        let order: Vec<u8> = v.iter().map(|p| p.1).collect();
        assert_eq!(order, [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
    }

    proptest! {
        /// Whatever the input, the result is sorted and a permutation of it.
        #[test]
        fn sorts_and_permutes(mut v in proptest::collection::vec((0u8..6, any::<u16>()), 0..400)) {
            let mut expected = v.clone();
            expected.sort();
            sort_by(&mut v, |a, b| a.0 < b.0);
            prop_assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
            let mut got = v.clone();
            got.sort();
            prop_assert_eq!(got, expected);
        }

        /// A total order gives the one sorted result (heapsort, partitions and pattern
        /// breaking included: the inputs reach all of them).
        #[test]
        fn total_orders_sort_fully(mut v in proptest::collection::vec(any::<u32>(), 0..2000)) {
            let mut expected = v.clone();
            expected.sort_unstable();
            sort_by(&mut v, |a, b| a < b);
            prop_assert_eq!(v, expected);
        }
    }

    #[test]
    fn adversarial_shapes_sort() {
        // Descending, organ pipe, all equal, sawtooth: the reverse, partial insertion,
        // equal-partition and pattern-breaking paths.
        let shapes: Vec<Vec<u32>> = vec![
            (0..500).rev().collect(),
            (0..250).chain((0..250).rev()).collect(),
            vec![7; 300],
            (0..600).map(|i| i % 17).collect(),
            (0..1000)
                .map(|i| if i % 2 == 0 { i } else { 1000 - i })
                .collect(),
        ];
        for mut v in shapes {
            let mut expected = v.clone();
            expected.sort_unstable();
            sort_by(&mut v, |a, b| a < b);
            assert_eq!(v, expected);
        }
    }
}
