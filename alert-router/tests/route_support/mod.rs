//! Shared by the route tree's test files: generated route trees (nested, `continue`,
//! inherited receivers and `group_by`, matchers of every kind written as `match`,
//! `match_re` and `matchers`, odd label values) and alerts over the same names and
//! values.

#![allow(dead_code)]

use alert_core::{LabelSet, MatchType, Matcher};
use alert_router::config::Route;
use proptest::prelude::*;

/// Label names used by both matchers and alerts.
pub(crate) const NAMES: &[&str] = &["team", "sev", "env", "a", "a0", "a_b", "service"];
/// Label values, including the awkward ones.
pub(crate) const VALUES: &[&str] = &[
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
pub(crate) const REGEXES: &[&str] = &[
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
pub(crate) const RECEIVERS: &[&str] = &["r0", "r1", "r2", "r 3", "r.4"];

/// A generated matcher, as indices in [`NAMES`], [`VALUES`] and [`REGEXES`].
#[derive(Debug, Clone)]
pub(crate) enum MatcherSpec {
    /// `match: {name: value}`.
    Match(usize, usize),
    /// `match_re: {name: regex}`.
    MatchRe(usize, usize),
    /// `matchers: ['name<op>"value"']` with op index 0..4 and a value or regex.
    Matchers(usize, usize, usize),
}

/// A generated route: its receiver (an index in [`RECEIVERS`], `None` inherits), matchers,
/// `continue`, `group_by` (indices in [`NAMES`], one past the end for `'...'`) and
/// children.
#[derive(Debug, Clone)]
pub(crate) struct RouteSpec {
    pub(crate) receiver: Option<usize>,
    pub(crate) matchers: Vec<MatcherSpec>,
    pub(crate) continue_: bool,
    pub(crate) group_by: Option<Vec<usize>>,
    pub(crate) children: Vec<RouteSpec>,
}

/// A matcher of any kind over [`NAMES`], [`VALUES`] and [`REGEXES`].
pub(crate) fn matcher_spec() -> impl Strategy<Value = MatcherSpec> {
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

/// A route with up to `depth` levels below it, up to three children a level.
pub(crate) fn route_spec(depth: u32) -> BoxedStrategy<RouteSpec> {
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
pub(crate) fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// `name<op>"value"` as Alertmanager prints a matcher, which its classic parser reads
/// back as the same matcher (amtool's label arguments, config `matchers` strings).
pub(crate) fn matcher_text(name: &str, op: MatchType, value: &str) -> String {
    Matcher::new(op, name, value).unwrap().to_string()
}

/// `(name, value)` pairs of a `match` or `match_re` map.
pub(crate) type Pairs = Vec<(&'static str, &'static str)>;

/// The matcher fields of a route: `match`, `match_re` (a later entry for the same name
/// wins, as in a YAML map) and `matchers` strings.
pub(crate) fn matcher_fields(r: &RouteSpec) -> (Pairs, Pairs, Vec<String>) {
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
pub(crate) fn group_by_of(r: &RouteSpec) -> Option<Vec<String>> {
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
pub(crate) fn model_route(r: &RouteSpec) -> Route {
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

/// An alert: up to four labels of [`NAMES`] with values of [`VALUES`], as indices (a
/// repeated name keeps its last value).
pub(crate) fn alert_strategy() -> impl Strategy<Value = Vec<(usize, usize)>> {
    prop::collection::vec((0..NAMES.len(), 0..VALUES.len()), 0..5)
}

/// The labels of an [`alert_strategy`] alert.
pub(crate) fn labels_of(pairs: &[(usize, usize)]) -> LabelSet {
    let mut set = LabelSet::new();
    for &(n, v) in pairs {
        set.insert(NAMES[n], VALUES[v]).unwrap();
    }
    set
}
