//! The label names a routing tree looks at, numbered, with a small hash table that finds
//! an alert label's number in a few instructions.

/// Label names numbered `0..len`, and a lookup table from name to number.
#[derive(Debug, Clone, Default)]
pub(crate) struct LabelSlots {
    names: Vec<Box<str>>,
    /// Open addressing, linear probing; `u32::MAX` marks an empty bucket.
    table: Vec<u32>,
    shift: u32,
}

impl LabelSlots {
    /// Numbers `names` in the order given (duplicates must already be removed).
    pub(crate) fn new(names: Vec<Box<str>>) -> Self {
        let buckets = (names.len() * 4).next_power_of_two().max(8);
        let bits = buckets.trailing_zeros();
        let mut slots = LabelSlots {
            table: vec![u32::MAX; buckets],
            shift: 32 - bits,
            names: Vec::new(),
        };
        for (i, name) in names.iter().enumerate() {
            let mask = slots.table.len() - 1;
            let mut b = slots.bucket(name);
            while slots.table[b] != u32::MAX {
                b = (b + 1) & mask;
            }
            slots.table[b] = i as u32;
        }
        slots.names = names;
        slots
    }

    /// The name numbered `slot`.
    pub(crate) fn name(&self, slot: u32) -> &str {
        &self.names[slot as usize]
    }

    /// Where the search for `name` starts. Reads three bytes of the name: computing it
    /// for every label first lets the loads of scattered names overlap.
    #[inline]
    pub(crate) fn bucket(&self, name: &str) -> usize {
        let b = name.as_bytes();
        let n = b.len();
        let h = if n == 0 {
            0
        } else {
            (n as u32)
                ^ (u32::from(b[0]) << 6)
                ^ (u32::from(b[n - 1]) << 13)
                ^ (u32::from(b[n / 2]) << 20)
        };
        (h.wrapping_mul(0x9E37_79B1) >> self.shift) as usize
    }

    /// The number of `name`, if the tree looks at it; `bucket` is
    /// [`LabelSlots::bucket`] of `name`.
    #[inline]
    pub(crate) fn get_from(&self, bucket: usize, name: &str) -> Option<u32> {
        let mask = self.table.len() - 1;
        let mut b = bucket & mask;
        loop {
            let slot = self.table[b];
            if slot == u32::MAX {
                return None;
            }
            if super::short_str::eq(self.names[slot as usize].as_bytes(), name.as_bytes()) {
                return Some(slot);
            }
            b = (b + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl LabelSlots {
        fn get(&self, name: &str) -> Option<u32> {
            self.get_from(self.bucket(name), name)
        }
    }

    #[test]
    fn finds_every_name_and_nothing_else() {
        let names: Vec<Box<str>> = [
            "alertname",
            "severity",
            "security",
            "team",
            "env",
            "region",
            "service",
            "cluster",
            "instance",
            "customer",
            "tier",
            "a",
            "b",
            "ab",
            "ba",
        ]
        .into_iter()
        .map(Into::into)
        .collect();
        let slots = LabelSlots::new(names.clone());
        for (i, n) in names.iter().enumerate() {
            assert_eq!(slots.get(n), Some(i as u32));
            assert_eq!(slots.name(i as u32), &**n);
        }
        for n in ["", "job", "severitx", "aa", "teams", "c"] {
            assert_eq!(slots.get(n), None, "{n}");
        }
        assert_eq!(LabelSlots::new(Vec::new()).get("x"), None);
    }
}
