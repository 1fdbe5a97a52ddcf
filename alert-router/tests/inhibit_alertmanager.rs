//! Inhibition against a real Alertmanager 0.25: generated inhibit rules (source and
//! target sides from `*_matchers`, `*_match`, `*_match_re`; `equal` lists, labels that
//! are missing on either side, alerts matching both sides) and firing sets are loaded
//! into a real process; the alerts `GET /api/v2/alerts` reports as inhibited must be the
//! ones we mute, and the one source fingerprint it names (`inhibitedBy`) must be among
//! ours.
//!
//! One process serves every case: each case reloads the configuration and its alerts
//! carry a `case` label that every rule's `equal` includes, so earlier cases' alerts can
//! neither inhibit nor be inhibited by later ones.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use alert_core::LabelSet;
use alert_router::config::InhibitRule;
use alert_router::inhibit::Inhibitor;
use alert_testkit::{Alertmanager, MINIMAL_CONFIG};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use serde_json::json;

const NAMES: &[&str] = &["sev", "zone", "team"];
const VALUES: &[&str] = &["crit", "warn", "a", "b"];

#[derive(Debug, Clone)]
struct Side {
    /// `*_matchers` strings.
    matchers: Vec<String>,
    /// `*_match` entries.
    eq: BTreeMap<String, String>,
    /// `*_match_re` entries.
    re: BTreeMap<String, String>,
}

fn side() -> impl Strategy<Value = Side> {
    let matcher = (0..NAMES.len(), 0..4usize, 0..VALUES.len()).prop_map(|(n, op, v)| {
        let op = ["=", "!=", "=~", "!~"][op];
        let value = if op.contains('~') {
            format!("{}|{}", VALUES[v], VALUES[(v + 1) % VALUES.len()])
        } else {
            VALUES[v].to_owned()
        };
        format!("{}{op}\"{value}\"", NAMES[n])
    });
    (
        prop::collection::vec(matcher, 0..2),
        prop::collection::btree_map(0..NAMES.len(), 0..VALUES.len(), 0..2),
        prop::collection::btree_map(0..NAMES.len(), 0..VALUES.len(), 0..2),
    )
        .prop_map(|(matchers, eq, re)| Side {
            matchers,
            eq: eq
                .into_iter()
                .map(|(n, v)| (NAMES[n].to_owned(), VALUES[v].to_owned()))
                .collect(),
            re: re
                .into_iter()
                .map(|(n, v)| (NAMES[n].to_owned(), format!("{}|x", VALUES[v])))
                .collect(),
        })
}

/// A side that often matches: one common matcher.
fn common_side() -> impl Strategy<Value = Side> {
    prop::sample::select(vec![
        r#"sev="crit""#,
        r#"sev="warn""#,
        r#"sev=~"crit|warn""#,
        r#"zone!="b""#,
    ])
    .prop_map(|m| Side {
        matchers: vec![m.to_owned()],
        eq: BTreeMap::new(),
        re: BTreeMap::new(),
    })
}

fn rule() -> impl Strategy<Value = InhibitRule> {
    let source = prop_oneof![3 => common_side(), 1 => side()];
    let target = prop_oneof![3 => common_side(), 1 => side()];
    // `equal` over zone and team mostly (sev differs between most common sides).
    let equal = prop::collection::btree_set(prop_oneof![4 => 1..NAMES.len(), 1 => 0..1usize], 0..3);
    (source, target, equal).prop_map(|(source, target, equal)| {
        let mut equal: Vec<String> = equal.into_iter().map(|n| NAMES[n].to_owned()).collect();
        equal.push("case".to_owned());
        InhibitRule {
            source_match: source.eq,
            source_match_re: source.re,
            source_matchers: source.matchers,
            target_match: target.eq,
            target_match_re: target.re,
            target_matchers: target.matchers,
            equal,
        }
    })
}

fn alert() -> impl Strategy<Value = BTreeMap<usize, usize>> {
    // `sev` (name 0) is crit or warn more often than not; zone and team are a, b or
    // missing.
    (
        prop::collection::btree_map(1..NAMES.len(), 2..VALUES.len(), 0..3),
        prop::option::weighted(0.8, 0..2usize),
    )
        .prop_map(|(mut m, sev)| {
            if let Some(v) = sev {
                m.insert(0, v);
            }
            m
        })
}

fn yaml_map(m: &BTreeMap<String, String>) -> String {
    let items: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{k}: {}", serde_json::to_string(v).unwrap()))
        .collect();
    format!("{{{}}}", items.join(", "))
}

fn yaml_list(v: &[String]) -> String {
    let items: Vec<String> = v
        .iter()
        .map(|s| serde_json::to_string(s).unwrap())
        .collect();
    format!("[{}]", items.join(", "))
}

fn config_yaml(rules: &[InhibitRule]) -> String {
    let mut out = String::from(MINIMAL_CONFIG);
    out.push_str("inhibit_rules:\n");
    for r in rules {
        out.push_str(&format!(
            "  - source_match: {}\n    source_match_re: {}\n    source_matchers: {}\n    \
             target_match: {}\n    target_match_re: {}\n    target_matchers: {}\n    equal: {}\n",
            yaml_map(&r.source_match),
            yaml_map(&r.source_match_re),
            yaml_list(&r.source_matchers),
            yaml_map(&r.target_match),
            yaml_map(&r.target_match_re),
            yaml_list(&r.target_matchers),
            yaml_list(&r.equal),
        ));
    }
    out
}

/// Inhibited fingerprint -> the source Alertmanager names, for the alerts of `case`.
fn real_inhibitions(am: &Alertmanager, case: &str) -> BTreeMap<String, String> {
    am.alerts()
        .iter()
        .filter(|a| a["labels"]["case"] == case)
        .filter_map(|a| {
            let by = a["status"]["inhibitedBy"]
                .as_array()?
                .first()?
                .as_str()?
                .to_owned();
            Some((a["fingerprint"].as_str()?.to_owned(), by))
        })
        .collect()
}

#[test]
fn inhibition_equals_a_real_alertmanagers() {
    let am = Alertmanager::start(MINIMAL_CONFIG);
    let case_no = std::cell::Cell::new(0u32);
    let muted_total = std::cell::Cell::new(0usize);
    // A fixed seed: the same cases every run.
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig {
            cases: 48,
            failure_persistence: None,
            ..ProptestConfig::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = (
        prop::collection::vec(rule(), 1..3),
        prop::collection::vec(alert(), 3..8),
    );
    runner
        .run(&strategy, |(rules, alerts)| {
            case_no.set(case_no.get() + 1);
            let case = format!("c{}", case_no.get());
            let firing: BTreeSet<LabelSet> = alerts
                .iter()
                .map(|m| {
                    let mut l = LabelSet::new();
                    l.insert("case", case.as_str()).unwrap();
                    l.insert("alertname", "A").unwrap();
                    for (&n, &v) in m {
                        l.insert(NAMES[n], VALUES[v]).unwrap();
                    }
                    l
                })
                .collect();
            let firing: Vec<LabelSet> = firing.into_iter().collect();
            let ours = Inhibitor::new(&rules).unwrap().muted(&firing);
            let expected: BTreeMap<String, Vec<String>> = ours
                .iter()
                .map(|m| {
                    (
                        m.fingerprint.to_string(),
                        m.sources.iter().map(|s| s.to_string()).collect(),
                    )
                })
                .collect();
            muted_total.set(muted_total.get() + expected.len());

            let yaml = config_yaml(&rules);
            let reload = am.reload_with(&yaml);
            prop_assert!(
                reload.is_success(),
                "reload failed: {}\n{yaml}",
                reload.body
            );
            let body: Vec<serde_json::Value> =
                firing.iter().map(|l| json!({ "labels": l })).collect();
            am.post_alerts(&serde_json::Value::Array(body))
                .ensure_success();

            // The inhibitor learns sources asynchronously: wait until Alertmanager agrees
            // on the muted set, then make sure it still does a moment later.
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut real = real_inhibitions(&am, &case);
            let agrees = |real: &BTreeMap<String, String>| {
                real.keys().collect::<Vec<_>>() == expected.keys().collect::<Vec<_>>()
            };
            while !agrees(&real) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
                real = real_inhibitions(&am, &case);
            }
            std::thread::sleep(Duration::from_millis(500));
            let real = real_inhibitions(&am, &case);
            prop_assert_eq!(
                real.keys().collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>(),
                "muted alerts differ for\n{}\nfiring {:?}",
                yaml,
                firing
            );
            for (fp, by) in &real {
                prop_assert!(
                    expected[fp].contains(by),
                    "{} inhibited by {} which we do not list: {:?}",
                    fp,
                    by,
                    expected[fp]
                );
            }
            Ok(())
        })
        .unwrap();
    let muted_total = muted_total.get();
    eprintln!(
        "{} cases, {muted_total} inhibited alerts compared",
        case_no.get()
    );
    assert!(
        muted_total >= 5,
        "too few inhibitions exercised: {muted_total}"
    );
}
