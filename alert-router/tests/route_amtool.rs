//! Differential tests of the routing tree against the real `amtool` 0.25.
//!
//! Proptest generates route trees (nested, `continue`, inherited receivers and
//! `group_by`, matchers of every kind written as `match`, `match_re` and `matchers`,
//! odd label values) and alerts (`route_support`, shared with `route_semantics.rs`);
//! for every (config, alert) pair the full stdout of `amtool config routes test --tree`
//! (the matching tree and the receivers line) must equal ours, and for every config so
//! must `amtool config routes show`.

mod route_support;

use std::fmt::Write as _;

use alert_core::MatchType;
use alert_router::route::{RoutingTree, matching_tree, routing_tree};
use alert_testkit::amtool;
use proptest::prelude::*;
use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestRng, TestRunner,
};
use route_support::{
    RECEIVERS, RouteSpec, alert_strategy, group_by_of, labels_of, matcher_fields, matcher_text,
    model_route, q, route_spec,
};

fn write_route(out: &mut String, r: &RouteSpec, indent: usize) {
    writeln!(out, "{}- continue: {}", " ".repeat(indent), r.continue_).unwrap();
    if let Some(rc) = r.receiver {
        writeln!(
            out,
            "{}receiver: {}",
            " ".repeat(indent + 2),
            q(RECEIVERS[rc])
        )
        .unwrap();
    }
    write_body(out, r, indent + 2);
}

fn write_body(out: &mut String, r: &RouteSpec, indent: usize) {
    let pad = " ".repeat(indent);
    let (mut matches, mut res, ms) = matcher_fields(r);
    // A YAML map cannot repeat a key; the last one wins in our generator.
    for (key, pairs) in [("match", &mut matches), ("match_re", &mut res)] {
        let mut seen = std::collections::BTreeMap::new();
        for (n, v) in pairs.iter() {
            seen.insert(*n, *v);
        }
        if !seen.is_empty() {
            writeln!(out, "{pad}{key}:").unwrap();
            for (n, v) in seen {
                writeln!(out, "{pad}  {n}: {}", q(v)).unwrap();
            }
        }
    }
    if !ms.is_empty() {
        writeln!(out, "{pad}matchers:").unwrap();
        for m in ms {
            writeln!(out, "{pad}  - {}", q(&m)).unwrap();
        }
    }
    if let Some(names) = group_by_of(r) {
        let names: Vec<String> = names.iter().map(|n| q(n)).collect();
        writeln!(out, "{pad}group_by: [{}]", names.join(", ")).unwrap();
    }
    if !r.children.is_empty() {
        writeln!(out, "{pad}routes:").unwrap();
        for c in &r.children {
            write_route(out, c, indent + 2);
        }
    }
}

fn config_yaml(root_children: &[RouteSpec], root_group_by: bool) -> String {
    let mut out = String::from("route:\n  receiver: r0\n");
    if root_group_by {
        out.push_str("  group_by: [\"team\"]\n");
    }
    let root = RouteSpec {
        receiver: None,
        matchers: Vec::new(),
        continue_: false,
        group_by: None,
        children: root_children.to_vec(),
    };
    write_body(&mut out, &root, 2);
    out.push_str("receivers:\n");
    for r in RECEIVERS {
        writeln!(out, "  - name: {}", q(r)).unwrap();
    }
    out
}

fn check_config(
    children: &[RouteSpec],
    root_group_by: bool,
    alerts: &[Vec<(usize, usize)>],
) -> Result<(), TestCaseError> {
    let yaml = config_yaml(children, root_group_by);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yml");
    std::fs::write(&path, &yaml).unwrap();
    let file_arg = format!("--config.file={}", path.display());

    let mut root = model_route(&RouteSpec {
        receiver: Some(0),
        matchers: Vec::new(),
        continue_: false,
        group_by: root_group_by.then(|| vec![0]),
        children: children.to_vec(),
    });
    root.receiver = Some("r0".to_owned());
    let tree = RoutingTree::new(&root).unwrap();

    let show = amtool(["config", "routes", "show", &file_arg]);
    prop_assert!(show.success(), "amtool rejected:\n{yaml}\n{}", show.stderr);
    prop_assert_eq!(
        routing_tree(&tree),
        show.stdout,
        "routes show differs for\n{}",
        yaml
    );

    for pairs in alerts {
        let labels = labels_of(pairs);
        let mut args = vec![
            "config".to_owned(),
            "routes".to_owned(),
            "test".to_owned(),
            "--tree".to_owned(),
            file_arg.clone(),
        ];
        for (name, value) in labels.iter() {
            args.push(matcher_text(name, MatchType::Equal, value));
        }
        let real = amtool(&args);
        prop_assert!(
            real.success(),
            "amtool failed on {:?}: {}",
            args,
            real.stderr
        );
        let ours = format!(
            "{}{}\n",
            matching_tree(&tree, &labels),
            tree.receivers(&labels).join(",")
        );
        prop_assert_eq!(ours, real.stdout, "alert {:?} on\n{}", labels, yaml);
        let matched = tree.matches(&labels);
        let mut c = COVERAGE.lock().unwrap();
        c.pairs += 1;
        c.deep += usize::from(matched.iter().any(|r| r.depth() >= 2));
        c.multiple += usize::from(matched.len() > 1);
    }
    Ok(())
}

/// What the generated pairs exercised, to show the test is not vacuous.
#[derive(Debug, Default)]
struct Coverage {
    pairs: usize,
    deep: usize,
    multiple: usize,
}

static COVERAGE: std::sync::Mutex<Coverage> = std::sync::Mutex::new(Coverage {
    pairs: 0,
    deep: 0,
    multiple: 0,
});

/// 64 configs x 16 alerts = 1,024 (config, alert) pairs, each compared with the full
/// `amtool config routes test --tree` output; plus `routes show` for every config.
#[test]
fn routing_equals_amtool() {
    // A fixed seed: the same 1,024 pairs every run.
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig {
            cases: 64,
            failure_persistence: None,
            ..ProptestConfig::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = (
        prop::collection::vec(route_spec(2), 0..5),
        any::<bool>(),
        prop::collection::vec(alert_strategy(), 16),
    );
    runner
        .run(&strategy, |(children, root_group_by, alerts)| {
            check_config(&children, root_group_by, &alerts)
        })
        .unwrap();
    let c = COVERAGE.lock().unwrap();
    eprintln!("{c:?}");
    assert!(c.pairs >= 1024, "{c:?}");
    assert!(
        c.deep * 10 >= c.pairs,
        "too few alerts reach depth 2: {c:?}"
    );
    assert!(c.multiple * 20 >= c.pairs, "too few alerts fan out: {c:?}");
}
