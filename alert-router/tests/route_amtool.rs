//! Differential tests of the routing tree against the real `amtool` 0.25.
//!
//! Proptest generates route trees (nested, `continue`, inherited receivers and
//! `group_by`, matchers of every kind written as `match`, `match_re` and `matchers`,
//! odd label values) and alerts; for every (config, alert) pair the full stdout of
//! `amtool config routes test --tree` (the matching tree and the receivers line) must
//! equal ours, and for every config so must `amtool config routes show`.

use std::fmt::Write as _;

use alert_core::{LabelSet, MatchType, Matcher};
use alert_router::config::Route;
use alert_router::route::{RoutingTree, matching_tree, routing_tree};
use alert_testkit::amtool;
use proptest::prelude::*;
use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestRng, TestRunner,
};

/// Label names used by both matchers and alerts.
const NAMES: &[&str] = &["team", "sev", "env", "a", "a0", "a_b", "service"];
/// Label values, including the awkward ones.
const VALUES: &[&str] = &[
    "x",
    "y",
    "",
    "db-1",
    "web",
    "web-2",
    "critical",
    "page",
    "a b",
    "q\"uote",
    "back\\slash",
    "comma,v",
    "ünï",
    "日本",
    "new\nline",
    "tab\tx",
    "{curly}",
    "=eq",
    "X",
    "٣",
    "7",
];
/// Regexes for `match_re` and `=~`/`!~` matchers.
const REGEXES: &[&str] = &[
    ".*",
    ".+",
    "x|y",
    "db-.*",
    "(?i)X",
    "[a-c].*",
    "",
    "x?",
    "web|",
    "a b|ü.*",
    r"\d+",
    "[0-9]+",
    "(?s).*line",
    ".*line",
    "web(-[0-9])?",
    "crit.*|page",
    "日.",
];
const RECEIVERS: &[&str] = &["r0", "r1", "r2", "r 3", "r.4"];

#[derive(Debug, Clone)]
enum MatcherSpec {
    /// `match: {name: value}`.
    Match(usize, usize),
    /// `match_re: {name: regex}`.
    MatchRe(usize, usize),
    /// `matchers: ['name<op>"value"']` with op index 0..4 and a value or regex.
    Matchers(usize, usize, usize),
}

#[derive(Debug, Clone)]
struct RouteSpec {
    receiver: Option<usize>,
    matchers: Vec<MatcherSpec>,
    continue_: bool,
    group_by: Option<Vec<usize>>,
    children: Vec<RouteSpec>,
}

fn matcher_spec() -> impl Strategy<Value = MatcherSpec> {
    prop_oneof![
        (0..NAMES.len(), 0..VALUES.len()).prop_map(|(n, v)| MatcherSpec::Match(n, v)),
        (0..NAMES.len(), 0..REGEXES.len()).prop_map(|(n, r)| MatcherSpec::MatchRe(n, r)),
        (
            0..NAMES.len(),
            0..4usize,
            0..VALUES.len().max(REGEXES.len())
        )
            .prop_map(|(n, op, v)| MatcherSpec::Matchers(n, op, v)),
    ]
}

fn route_spec(depth: u32) -> BoxedStrategy<RouteSpec> {
    let leaf = (
        prop::option::weighted(0.7, 0..RECEIVERS.len()),
        prop::collection::vec(matcher_spec(), 0..3),
        prop::bool::weighted(0.3),
        prop::option::weighted(0.2, prop::collection::vec(0..NAMES.len() + 1, 0..3)),
    );
    if depth == 0 {
        return leaf
            .prop_map(|(receiver, matchers, continue_, group_by)| RouteSpec {
                receiver,
                matchers,
                continue_,
                group_by,
                children: Vec::new(),
            })
            .boxed();
    }
    (leaf, prop::collection::vec(route_spec(depth - 1), 0..4))
        .prop_map(
            |((receiver, matchers, continue_, group_by), children)| RouteSpec {
                receiver,
                matchers,
                continue_,
                group_by,
                children,
            },
        )
        .boxed()
}

/// A JSON string is a valid YAML double-quoted scalar.
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// `name<op>"value"` as Alertmanager prints a matcher, which its classic parser reads
/// back as the same matcher (amtool's label arguments, config `matchers` strings).
fn matcher_text(name: &str, op: MatchType, value: &str) -> String {
    Matcher::new(op, name, value).unwrap().to_string()
}

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

/// The matcher fields of a route: `match`, `match_re` (a later entry for the same name
/// wins, as in a YAML map) and `matchers` strings.
/// `(name, value)` pairs of a `match` or `match_re` map.
type Pairs = Vec<(&'static str, &'static str)>;

fn matcher_fields(r: &RouteSpec) -> (Pairs, Pairs, Vec<String>) {
    let (mut matches, mut res, mut ms) = (Vec::new(), Vec::new(), Vec::new());
    for m in &r.matchers {
        match *m {
            MatcherSpec::Match(n, v) => matches.push((NAMES[n], VALUES[v])),
            MatcherSpec::MatchRe(n, re) => res.push((NAMES[n], REGEXES[re])),
            MatcherSpec::Matchers(n, op, v) => {
                let (op, value) = match op {
                    0 => (MatchType::Equal, VALUES[v % VALUES.len()]),
                    1 => (MatchType::NotEqual, VALUES[v % VALUES.len()]),
                    2 => (MatchType::Regexp, REGEXES[v % REGEXES.len()]),
                    _ => (MatchType::NotRegexp, REGEXES[v % REGEXES.len()]),
                };
                ms.push(matcher_text(NAMES[n], op, value));
            }
        }
    }
    (matches, res, ms)
}

/// `group_by` as written; `'...'` is never mixed with names.
fn group_by_of(r: &RouteSpec) -> Option<Vec<String>> {
    r.group_by.as_ref().map(|g| {
        // Alertmanager refuses a repeated name.
        let mut names: Vec<String> = Vec::new();
        for &i in g {
            let name = NAMES.get(i).copied().unwrap_or("...").to_owned();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if names.iter().any(|n| n == "...") && names.len() > 1 {
            vec!["...".to_owned()]
        } else {
            names
        }
    })
}

/// The same route as our configuration model holds it.
fn model_route(r: &RouteSpec) -> Route {
    let (matches, res, ms) = matcher_fields(r);
    Route {
        receiver: r.receiver.map(|i| RECEIVERS[i].to_owned()),
        group_by: group_by_of(r),
        r#continue: r.continue_,
        r#match: matches
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
        match_re: res
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
        matchers: ms,
        routes: r.children.iter().map(model_route).collect(),
        ..Route::default()
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

fn alert_strategy() -> impl Strategy<Value = Vec<(usize, usize)>> {
    prop::collection::vec((0..NAMES.len(), 0..VALUES.len()), 0..5)
}

fn labels_of(pairs: &[(usize, usize)]) -> LabelSet {
    let mut set = LabelSet::new();
    for &(n, v) in pairs {
        set.insert(NAMES[n], VALUES[v]).unwrap();
    }
    set
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
