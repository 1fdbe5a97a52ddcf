//! The process-wide label-name interner is bounded (issue #20): names from data never
//! take more than their share, names longer than the cap are never interned, and names
//! from configuration keep places of their own. In its own test binary: it fills the
//! interner, which would change what other tests see.

use alert_core::fingerprint::{
    MAX_FOLDED_NAME_LEN, MAX_FOLDED_NAMES, RESERVED_FOR_CONFIGURED, interned_names,
};
use alert_core::{LabelSet, NameId};

/// prometheus/common's fingerprint, byte by byte.
fn reference(labels: &[(&str, &str)]) -> String {
    let mut sorted = labels.to_vec();
    sorted.sort();
    let mut h: u64 = 14_695_981_039_346_656_037;
    for (n, v) in sorted {
        for b in n.bytes().chain([0xff]).chain(v.bytes()).chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(1_099_511_628_211);
        }
    }
    format!("{h:016x}")
}

#[test]
fn the_interner_is_bounded_and_keeps_room_for_configuration() {
    // A long name is an ordinary string: not interned, still fingerprinted exactly.
    let long = "n".repeat(MAX_FOLDED_NAME_LEN + 1);
    let before = interned_names();
    assert_eq!(NameId::intern(&long), None);
    assert_eq!(NameId::intern_configured(&long), None);
    let set = LabelSet::from_pairs([(long.as_str(), "v"), ("alertname", "A")]).expect("valid");
    assert_eq!(set.get(&long), Some("v"));
    assert_eq!(
        set.fingerprint().to_string(),
        reference(&[(&long, "v"), ("alertname", "A")])
    );
    assert_eq!(interned_names(), before + 1, "only alertname was interned");
    let at_cap = "m".repeat(MAX_FOLDED_NAME_LEN);
    assert!(
        NameId::intern(&at_cap).is_some(),
        "a name of exactly the cap is interned"
    );

    // A flood of never-seen names from data stops at the data's share.
    let share = MAX_FOLDED_NAMES - RESERVED_FOR_CONFIGURED;
    let mut i = 0;
    while NameId::intern(&format!("flood_{i}")).is_some() {
        i += 1;
        assert!(i <= MAX_FOLDED_NAMES, "the interner has no bound");
    }
    assert_eq!(interned_names(), share);
    // Past it, names still work as strings, and names already interned keep their ids.
    let late = LabelSet::from_pairs([("late_name", "x"), ("flood_0", "y")]).expect("valid");
    let ids: Vec<_> = late
        .iter_with_ids()
        .map(|(id, n, _)| (id.is_some(), n))
        .collect();
    assert_eq!(ids, [(true, "flood_0"), (false, "late_name")]);
    assert_eq!(
        late.fingerprint().to_string(),
        reference(&[("late_name", "x"), ("flood_0", "y")])
    );

    // Configuration still gets places, up to the whole interner, and then none.
    let mut j = 0;
    while NameId::intern_configured(&format!("route_label_{j}")).is_some() {
        j += 1;
        assert!(j <= MAX_FOLDED_NAMES, "the interner has no bound");
    }
    assert_eq!(j, RESERVED_FOR_CONFIGURED);
    assert_eq!(interned_names(), MAX_FOLDED_NAMES);
    assert_eq!(
        NameId::intern("flood_0"),
        NameId::intern_configured("flood_0")
    );
}
