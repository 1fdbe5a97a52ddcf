//! Fingerprints must equal those a real Alertmanager 0.25 reports in `GET /api/v2/alerts`.
//!
//! Label sets come from a proptest strategy run with a fixed seed and a fixed count
//! (`real_alertmanager_strategies`), so every run checks the same sets. They are posted
//! in batches to one process and each reported `fingerprint` is compared.

use std::collections::BTreeMap;

use alert_core::{Fingerprint, LabelSet};
use alert_testkit::{Alertmanager, MINIMAL_CONFIG};
use serde_json::{Value, json};

mod real_alertmanager_strategies;
use real_alertmanager_strategies::generated_sets;

/// How many generated label sets are checked.
const CASES: usize = 300;
/// How many alerts go into one `POST /api/v2/alerts`.
const BATCH: usize = 50;
/// The proptest seed: change it to explore, keep it fixed to reproduce.
const SEED: [u8; 32] = *b"alert-core fingerprints vs AM025";

fn postable(labels: &LabelSet) -> Value {
    json!({ "labels": labels })
}

#[test]
fn fingerprints_equal_those_alertmanager_reports() {
    let sets = generated_sets(SEED, CASES);
    let am = Alertmanager::start(MINIMAL_CONFIG);

    // What the API will keep of each set (empty values dropped), and our fingerprint of it.
    let mut expected: BTreeMap<LabelSet, Fingerprint> = BTreeMap::new();
    let mut all_empty = Vec::new();
    let mut with_empty_values = 0;
    for set in &sets {
        let kept = set.without_empty();
        if set.iter().any(|(_, v)| v.is_empty()) {
            with_empty_values += 1;
            assert_ne!(
                set.fingerprint(),
                set.fingerprint_without_empty(),
                "an empty-valued label still changes the full fingerprint: {set}"
            );
        } else {
            assert_eq!(set.fingerprint(), set.fingerprint_without_empty(), "{set}");
        }
        if kept.is_empty() {
            all_empty.push(set.clone());
        } else {
            expected.insert(kept, set.fingerprint_without_empty());
        }
    }
    assert!(
        with_empty_values >= 20,
        "the strategy should make sets with empty values ({with_empty_values})"
    );
    assert!(
        expected.len() >= 200,
        "only {} distinct sets",
        expected.len()
    );

    let postables: Vec<Value> = expected.keys().map(postable).collect();
    for batch in postables.chunks(BATCH) {
        let answer = am.post_alerts(&Value::Array(batch.to_vec()));
        assert_eq!(answer.status, 200, "batch refused: {}", answer.body);
    }
    // A set whose values are all empty has no labels left: Alertmanager refuses it.
    for set in &all_empty {
        let answer = am.post_alerts(&json!([postable(set)]));
        assert_eq!(answer.status, 400, "{set}: {}", answer.body);
        assert!(
            answer.body.contains("at least one label pair required"),
            "{set}: {}",
            answer.body
        );
    }

    let mut reported: BTreeMap<LabelSet, String> = BTreeMap::new();
    for alert in am.alerts() {
        let labels: LabelSet = serde_json::from_value(alert["labels"].clone())
            .unwrap_or_else(|e| panic!("labels of {alert} do not read back: {e}"));
        let fingerprint = alert["fingerprint"]
            .as_str()
            .unwrap_or_else(|| panic!("no fingerprint in {alert}"))
            .to_owned();
        reported.insert(labels, fingerprint);
    }
    assert_eq!(
        reported.len(),
        expected.len(),
        "Alertmanager lists a different number of alerts"
    );
    let mut mismatches = Vec::new();
    for (labels, ours) in &expected {
        match reported.get(labels) {
            None => mismatches.push(format!("{labels}: not reported with these labels")),
            Some(theirs) => {
                if ours.to_string() != *theirs {
                    mismatches.push(format!("{labels}: ours {ours}, Alertmanager {theirs}"));
                }
                let parsed: Fingerprint = theirs.parse().expect("a hex fingerprint");
                assert_eq!(parsed, labels.fingerprint(), "{labels}");
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} fingerprints differ:\n{}",
        mismatches.len(),
        expected.len(),
        mismatches.join("\n")
    );
}

#[test]
fn fixed_examples_match_the_live_notes() {
    // From the research notes (captured from a live 0.25): these must hold without a
    // process, and the process must agree.
    let cases = [
        (vec![("alertname", "E")], "d2b8efc389d2cbcb"),
        (
            vec![
                ("alertname", "A"),
                ("cluster", "c1"),
                ("sev", "critical"),
                ("team", "db"),
            ],
            "1c45fea7d6a9ec15",
        ),
        (
            vec![("alertname", "Test"), ("severity", "page")],
            "823de09697ca9348",
        ),
    ];
    let am = Alertmanager::start(MINIMAL_CONFIG);
    let sets: Vec<LabelSet> = cases
        .iter()
        .map(|(pairs, _)| LabelSet::from_pairs(pairs.iter().copied()).expect("valid"))
        .collect();
    let body: Vec<Value> = sets.iter().map(postable).collect();
    assert_eq!(am.post_alerts(&Value::Array(body)).status, 200);
    let reported: Vec<(String, String)> = am
        .alerts()
        .iter()
        .map(|a| {
            (
                a["labels"].to_string(),
                a["fingerprint"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    for (set, (_, want)) in sets.iter().zip(&cases) {
        assert_eq!(set.fingerprint().to_string(), *want, "{set}");
        let labels = serde_json::to_value(set).expect("serialise").to_string();
        assert!(
            reported.contains(&(labels.clone(), want.to_string())),
            "{labels} -> {want} not in {reported:?}"
        );
    }
}
