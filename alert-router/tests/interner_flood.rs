//! Alerts carrying thousands of never-seen label names cannot slow routing down (issue
//! #20): after a flood that fills the interner's share for data, a routing tree
//! compiled later still interns every name it reads (its fast layout) and routes as
//! before. In its own test binary: the flood is process-wide.

use alert_core::LabelSet;
use alert_core::fingerprint::{MAX_FOLDED_NAMES, RESERVED_FOR_CONFIGURED, interned_names};
use alert_router::config::Config;
use alert_router::route::RoutingTree;

#[test]
fn a_tree_compiled_after_a_name_flood_keeps_its_fast_layout() {
    // The flood, as webhook bodies bring it: label sets decoded from JSON.
    for i in 0..MAX_FOLDED_NAMES {
        let body = format!(r#"{{"alertname": "A", "junk_{i}": "x"}}"#);
        let labels: LabelSet = serde_json::from_str(&body).expect("labels");
        assert_eq!(labels.len(), 2);
    }
    assert_eq!(interned_names(), MAX_FOLDED_NAMES - RESERVED_FOR_CONFIGURED);

    // A configuration whose routes read 50 names never seen before.
    let mut yaml = String::from("route:\n  receiver: default\n  routes:\n");
    for i in 0..50 {
        yaml.push_str(&format!(
            "  - receiver: team-{i}\n    matchers: ['owner_{i}=\"yes\"']\n"
        ));
    }
    yaml.push_str("receivers:\n- name: default\n");
    for i in 0..50 {
        yaml.push_str(&format!("- name: team-{i}\n"));
    }
    let config = Config::from_yaml(&yaml).expect("valid configuration");
    let tree = RoutingTree::new(&config.route).expect("tree");
    assert!(
        tree.names_interned(),
        "the tree lost its fast layout to the flood"
    );

    let alert = LabelSet::from_pairs([("alertname", "A"), ("owner_42", "yes")]).expect("labels");
    assert_eq!(tree.receivers(&alert), ["team-42"]);
    let flooded = LabelSet::from_pairs([("junk_4000", "x"), ("owner_7", "yes")]).expect("labels");
    assert_eq!(tree.receivers(&flooded), ["team-7"]);
}
