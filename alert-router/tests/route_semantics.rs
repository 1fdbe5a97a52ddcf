//! Alertmanager 0.25's routing rules, one fact per test, from its source and the vectors
//! the reference notes captured from the real binaries (file names in comments).

mod route_support;

use alert_core::LabelSet;
use alert_router::config::Config;
use alert_router::route::{MatchBuffer, RoutingTree};

fn tree(yaml: &str) -> RoutingTree {
    let config = Config::from_yaml(yaml).unwrap();
    RoutingTree::new(&config.route).unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    LabelSet::from_pairs(pairs.iter().copied()).unwrap()
}

fn receivers(t: &RoutingTree, pairs: &[(&str, &str)]) -> String {
    t.receivers(&labels(pairs)).join(",")
}

#[test]
fn a_matching_parent_without_matching_children_stops_its_siblings() {
    // 07_parent_match_no_child_match_stops_siblings.yml
    let t = tree(
        r#"
route:
  receiver: default
  routes:
    - receiver: team-a
      matchers: ['team="a"']
      routes:
        - receiver: a-crit
          matchers: ['sev="critical"']
    - receiver: crit
      matchers: ['sev="critical"']
receivers: [{name: default}, {name: team-a}, {name: a-crit}, {name: crit}]
"#,
    );
    assert_eq!(
        receivers(&t, &[("team", "a"), ("sev", "warning")]),
        "team-a"
    );
    assert_eq!(receivers(&t, &[("team", "b"), ("sev", "critical")]), "crit");
    assert_eq!(receivers(&t, &[("team", "b")]), "default");
}

#[test]
fn continue_on_a_parent_tries_the_following_siblings_after_its_subtree() {
    // 21_continue_on_parent.yml
    let t = tree(
        r#"
route:
  receiver: default
  routes:
    - receiver: team-a
      matchers: ['team="a"']
      continue: true
      routes:
        - receiver: a-pager
          matchers: ['sev="page"']
    - receiver: global-pager
      matchers: ['sev="page"']
receivers: [{name: default}, {name: team-a}, {name: a-pager}, {name: global-pager}]
"#,
    );
    assert_eq!(
        receivers(&t, &[("team", "a"), ("sev", "page")]),
        "a-pager,global-pager"
    );
}

#[test]
fn duplicates_are_kept_and_a_catch_all_child_shadows_its_parent() {
    // 22_ (three continue routes, one receiver) and 24_catch_all_child_with_continue.yml
    let t = tree(
        r#"
route:
  receiver: default
  routes:
    - {receiver: shared, continue: true}
    - {receiver: shared, continue: true}
    - {receiver: shared, continue: true}
receivers: [{name: default}, {name: shared}]
"#,
    );
    assert_eq!(receivers(&t, &[("a", "b")]), "shared,shared,shared");
    let t = tree(
        r#"
route:
  receiver: default
  routes:
    - {receiver: audit-log, continue: true}
    - receiver: team-a
      matchers: ['team="a"']
receivers: [{name: default}, {name: audit-log}, {name: team-a}]
"#,
    );
    assert_eq!(receivers(&t, &[("team", "a")]), "audit-log,team-a");
    assert_eq!(receivers(&t, &[("team", "b")]), "audit-log");
}

#[test]
fn missing_labels_read_as_empty() {
    // 09_, 11_, 12_, 42_
    let t = tree(
        r#"
route:
  receiver: default
  routes:
    - {receiver: never, matchers: ['env!~".*"']}
    - {receiver: not-prod, matchers: ['env!="prod"'], continue: true}
    - {receiver: empty, matchers: ['env=""'], continue: true}
    - {receiver: prod-or-none, matchers: ['env=~"prod|"']}
receivers: [{name: default}, {name: never}, {name: not-prod}, {name: empty}, {name: prod-or-none}]
"#,
    );
    assert_eq!(receivers(&t, &[("a", "1")]), "not-prod,empty,prod-or-none");
    assert_eq!(receivers(&t, &[("env", "")]), "not-prod,empty,prod-or-none");
    assert_eq!(receivers(&t, &[("env", "prod")]), "prod-or-none");
    assert_eq!(receivers(&t, &[("env", "dev")]), "not-prod");
}

#[test]
fn options_are_inherited_but_time_intervals_are_not() {
    let t = tree(
        r#"
route:
  receiver: default
  group_by: [alertname]
  group_wait: 10s
  routes:
    - receiver: all
      group_by: ['...']
      repeat_interval: 1h
      mute_time_intervals: [night]
      active_time_intervals: [day]
      matchers: ['a="1"']
      routes:
        - matchers: ['b="1"']
          group_interval: 2m
          routes:
            - matchers: ['c="1"']
              group_by: []
            - matchers: ['c="2"']
              group_by: [zone, cluster, zone2]
              receiver: ""
receivers: [{name: default}, {name: all}]
time_intervals:
  - name: night
    time_intervals: [{times: [{start_time: "00:00", end_time: "06:00"}]}]
  - name: day
    time_intervals: [{times: [{start_time: "06:00", end_time: "24:00"}]}]
"#,
    );
    let root = t.root();
    assert_eq!(root.opts().group_wait.to_string(), "10s");
    assert_eq!(root.opts().group_interval.to_string(), "5m");
    assert_eq!(root.opts().repeat_interval.to_string(), "4h");
    let all = root.children().next().unwrap();
    assert!(all.opts().group_by_all);
    assert_eq!(all.opts().mute_time_intervals, ["night"]);
    assert_eq!(all.opts().active_time_intervals, ["day"]);
    let b = all.children().next().unwrap();
    assert_eq!(b.receiver(), "all");
    assert!(b.opts().group_by_all);
    assert_eq!(b.opts().group_wait.to_string(), "10s");
    assert_eq!(b.opts().group_interval.to_string(), "2m");
    assert_eq!(b.opts().repeat_interval.to_string(), "1h");
    assert!(b.opts().mute_time_intervals.is_empty());
    assert!(b.opts().active_time_intervals.is_empty());
    let mut kids = b.children();
    let c1 = kids.next().unwrap();
    // 0.25: `group_by: []` inherits.
    assert!(c1.opts().group_by_all);
    let c2 = kids.next().unwrap();
    assert!(!c2.opts().group_by_all);
    assert_eq!(c2.opts().group_by, ["cluster", "zone", "zone2"]);
    assert_eq!(c2.receiver(), "all");
    assert_eq!(c2.path(), "route.routes[0].routes[0].routes[1]");
    assert_eq!(c2.depth(), 3);
    assert_eq!(c2.parent().unwrap().id(), b.id());
}

#[test]
fn keys_sort_matchers_and_anchor_match_re_twice() {
    // dispatch/route_test.go keys; the last one as real amtool 0.25 prints it.
    let t = tree(
        r#"
route:
  receiver: default
  routes:
    - receiver: r
      match: {owner: team-A}
      routes:
        - receiver: r
          match_re: {env: "produ.*", job: ".*"}
    - receiver: r
      matchers: ['team=~"db|web"', 'sev!="info"', 'alpha="1"']
      match: {team: x}
receivers: [{name: default}, {name: r}]
"#,
    );
    let keys: Vec<&str> = t.routes().map(|r| r.key()).collect();
    assert_eq!(
        keys,
        [
            "{}",
            r#"{}/{owner="team-A"}"#,
            r#"{}/{owner="team-A"}/{env=~"^(?:produ.*)$",job=~"^(?:.*)$"}"#,
            r#"{}/{alpha="1",sev!="info",team=~"db|web",team="x"}"#,
        ]
    );
}

#[test]
fn group_keys_are_0_25s() {
    // live/groups.jsonl, captured from a real Alertmanager 0.25.
    let t = tree(
        r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: db
      matchers: ['team="db"']
      group_by: [alertname, cluster]
    - receiver: web
      match_re: {team: "db|web"}
      group_by: ['...']
receivers: [{name: default}, {name: db}, {name: web}]
"#,
    );
    let mut buf = MatchBuffer::new();
    let key = |pairs: &[(&str, &str)], buf: &mut MatchBuffer| {
        let l = labels(pairs);
        let id = t.match_into(&l, buf)[0];
        t.route(id).group_key(&l)
    };
    assert_eq!(
        key(&[("alertname", "E")], &mut buf),
        r#"{}:{alertname="E"}"#
    );
    assert_eq!(
        key(
            &[
                ("alertname", "A"),
                ("cluster", "c1"),
                ("team", "db"),
                ("sev", "critical")
            ],
            &mut buf
        ),
        r#"{}/{team="db"}:{alertname="A", cluster="c1"}"#
    );
    assert_eq!(
        key(
            &[
                ("a", "x"),
                ("a0", "y"),
                ("a_b", "z"),
                ("alertname", "I"),
                ("team", "web")
            ],
            &mut buf
        ),
        r#"{}/{team=~"^(?:db|web)$"}:{a0="y", a="x", a_b="z", alertname="I", team="web"}"#
    );
}

#[test]
fn one_buffer_serves_many_alerts_and_trees() {
    let t1 = tree(
        "route: {receiver: a, routes: [{receiver: b, matchers: ['x=~\"1|2\"']}]}\nreceivers: [{name: a}, {name: b}]\n",
    );
    let t2 = tree(
        "route: {receiver: c, routes: [{receiver: d, matchers: ['x=~\"2|3\"']}]}\nreceivers: [{name: c}, {name: d}]\n",
    );
    let mut buf = MatchBuffer::new();
    for (value, r1, r2) in [
        ("1", "b", "c"),
        ("2", "b", "d"),
        ("3", "a", "d"),
        ("1", "b", "c"),
    ] {
        let l = labels(&[("x", value)]);
        let got1 = t1.route(t1.match_into(&l, &mut buf)[0]).receiver();
        let got2 = t2.route(t2.match_into(&l, &mut buf)[0]).receiver();
        assert_eq!((got1, got2), (r1, r2), "x={value}");
    }
}

#[test]
fn trees_reading_many_label_names_match_every_one() {
    // More names than the matcher resolves in its first pass (32): the rest are looked
    // up when a route needs them.
    let mut yaml = String::from("route:\n  receiver: default\n  routes:\n");
    let mut receivers = String::from("receivers:\n  - name: default\n");
    for i in 0..40 {
        let op = if i % 2 == 0 { "=" } else { "=~" };
        yaml.push_str(&format!(
            "    - receiver: r{i}\n      matchers: ['l{i}{op}\"v{i}\"']\n"
        ));
        receivers.push_str(&format!("  - name: r{i}\n"));
    }
    let t = tree(&format!("{yaml}{receivers}"));
    let mut buf = MatchBuffer::new();
    for i in 0..40 {
        let name = format!("l{i}");
        let value = format!("v{i}");
        let l = labels(&[(name.as_str(), value.as_str()), ("other", "x")]);
        let got: Vec<&str> = t
            .match_into(&l, &mut buf)
            .iter()
            .map(|&id| t.route(id).receiver())
            .collect();
        assert_eq!(got, [format!("r{i}")], "{name}");
        let miss = labels(&[(name.as_str(), "nope")]);
        assert_eq!(t.receivers(&miss), ["default"]);
    }
}

mod against_a_plain_reference {
    //! The compiled tree (tests as bits, siblings classified together, the value cache,
    //! one buffer for many alerts) against a direct transcription of Alertmanager's
    //! recursive `Route.Match`.

    use std::collections::BTreeMap;

    use super::*;
    use alert_router::config;
    use alert_router::route::{Route, RouteId};
    use proptest::prelude::*;
    use proptest::sample::Index;
    use proptest::test_runner::TestCaseError;

    use super::route_support::{
        RouteSpec, alert_strategy, labels_of, matcher_spec, model_route, route_spec,
    };

    /// `dispatch.Route.Match`, written the obvious way over the compiled routes'
    /// matchers.
    fn reference(route: Route<'_>, labels: &LabelSet, out: &mut Vec<RouteId>) -> bool {
        if !route.matchers().matches(labels) {
            return false;
        }
        let before = out.len();
        for child in route.children() {
            if reference(child, labels, out) && !child.continues() {
                break;
            }
        }
        if out.len() == before {
            out.push(route.id());
        }
        true
    }

    const CONFIG: &str = r#"
route:
  receiver: default
  routes:
    - {receiver: a, matchers: ['x=~"1|2"', 'y!~"b.*"'], continue: true}
    - receiver: b
      match_re: {x: "[0-9]+"}
      routes:
        - {receiver: c, matchers: ['y=~"(?i)B"'], continue: true}
        - {receiver: d, matchers: ['y=~".+"', 'z!="q"']}
        - {receiver: e, match: {z: q}}
    - {receiver: f, matchers: ['z=~"q|"', 'x!="3"']}
    - {receiver: g, matchers: ['y=~"b.*|c"'], continue: true}
    - receiver: h
receivers: [{name: default}, {name: a}, {name: b}, {name: c}, {name: d}, {name: e},
            {name: f}, {name: g}, {name: h}]
"#;

    /// The routes the reference finds for `labels`.
    fn expected(t: &RoutingTree, labels: &LabelSet) -> Vec<RouteId> {
        let mut out = Vec::new();
        reference(t.root(), labels, &mut out);
        out
    }

    /// Matches every alert through one buffer and checks each against the reference.
    fn agree(t: &RoutingTree, alerts: impl IntoIterator<Item = LabelSet>) {
        let mut buf = MatchBuffer::new();
        for l in alerts {
            assert_eq!(t.match_into(&l, &mut buf), &expected(t, &l)[..], "{l}");
        }
    }

    /// [`agree`] for one alert, in a property test, through a buffer that may have
    /// served other alerts and other trees.
    fn agrees(t: &RoutingTree, l: &LabelSet, buf: &mut MatchBuffer) -> Result<(), TestCaseError> {
        prop_assert_eq!(t.match_into(l, buf), &expected(t, l)[..], "{}", l);
        Ok(())
    }

    /// A root with receiver `default` whose children are the given flow-style routes.
    fn flat_tree(children: impl IntoIterator<Item = String>) -> RoutingTree {
        let mut yaml = String::from("route:\n  receiver: default\n  routes:\n");
        for child in children {
            yaml.push_str(&format!("    - {child}\n"));
        }
        yaml.push_str("receivers: [{name: default}]\n");
        tree(&yaml)
    }

    #[test]
    fn a_label_with_more_tests_than_one_chunk_holds() {
        // 150 equality and 60 regex tests on `l`: four chunks of 64, and the label loop
        // for trees with several chunks per label.
        let t = flat_tree(
            (0..150)
                .map(|i| {
                    let cont = if i % 3 == 0 { ", continue: true" } else { "" };
                    format!("{{receiver: default, matchers: ['l=\"v{i}\"']{cont}}}")
                })
                .chain((0..60).map(|i| {
                    format!(
                        "{{receiver: default, matchers: ['l=~\"v{i}.*\"', 'm!~\"x{i}|\"'], continue: true}}"
                    )
                })),
        );
        agree(
            &t,
            (0..3000).map(|i| {
                labels(&[
                    ("l", &format!("v{}", i % 400)),
                    ("m", &format!("x{}", i % 70)),
                ])
            }),
        );
    }

    #[test]
    fn dispatch_by_a_labels_value() {
        // Runs of siblings each needing one value of a label (checked as runs), broken by
        // other tests, negated runs, `continue`, more than 64 siblings.
        let t = flat_tree((0..150).map(|i| {
            let m = match i % 37 {
                5 => format!("'t=~\"v{i}|w{i}\"', 'e!=\"\"'"),
                11..=14 => format!("'u!=\"v{i}\"'"),
                20 => "'t=~\".+\"'".to_owned(),
                _ => format!("'t=\"v{i}\"'"),
            };
            let cont = if i % 9 == 0 { ", continue: true" } else { "" };
            format!("{{receiver: default, matchers: [{m}]{cont}}}")
        }));
        agree(
            &t,
            (0..3000).map(|i| {
                let v = format!("{}{}", ["v", "w", "x"][i % 3], (i * 13) % 160);
                let u = format!("v{}", (i * 7) % 40);
                let e = ["", "prod"][i % 2];
                labels(&[("t", v.as_str()), ("u", u.as_str()), ("e", e)])
            }),
        );
    }

    #[test]
    fn trees_reading_more_than_64_label_names() {
        // More chunks than the fixed-size per-alert state holds: the general label loop,
        // which resets only the chunks the previous alert fetched.
        let t = flat_tree((0..80).map(|i| {
            let cont = if i % 4 == 0 { ", continue: true" } else { "" };
            format!(
                "{{receiver: default, matchers: ['l{i}=~\"v.*\"', 'l{}!=\"v1\"']{cont}}}",
                (i + 1) % 80
            )
        }));
        agree(
            &t,
            (0..2000).map(|i| {
                let a = format!("l{}", i % 80);
                let b = format!("l{}", (i * 7 + 1) % 80);
                labels(&[
                    (a.as_str(), ["v1", "v2", "w"][i % 3]),
                    (b.as_str(), ["v1", "x"][i % 2]),
                ])
            }),
        );
    }

    #[test]
    fn long_values_and_labels_whose_values_do_not_repeat() {
        // Values around the cache's 32-byte limit, and a label with more distinct values
        // than the cache keeps (it stops caching it after its trial).
        let long = "a".repeat(31);
        let t = tree(&format!(
            r#"
route:
  receiver: default
  routes:
    - {{receiver: default, matchers: ['x="{long}b"'], continue: true}}
    - {{receiver: default, matchers: ['x="{long}bc"'], continue: true}}
    - {{receiver: default, matchers: ['x=~"{long}b.+"', 'i=~".*7"']}}
    - {{receiver: default, matchers: ['i=~"1.*"'], continue: true}}
    - {{receiver: default, matchers: ['i!="42"', 'x=""']}}
receivers: [{{name: default}}]
"#
        ));
        let xs = [
            format!("{long}b"),
            format!("{long}bc"),
            format!("{long}bcd"),
            format!("{long}c"),
            long.clone(),
            String::new(),
        ];
        agree(
            &t,
            (0..12_000).map(|i| {
                let x = &xs[i % xs.len()];
                let n = i * 7919 % 10_007;
                labels(&[("x", x.as_str()), ("i", &n.to_string())])
            }),
        );
    }

    #[test]
    fn labels_read_only_below_some_routes() {
        // `d`, `e` and `f` are read only below `team` routes: their values are looked up
        // when the walk first needs them. Empty and missing values, values that repeat
        // and values that do not, one buffer for all alerts.
        let t = tree(
            r#"
route:
  receiver: default
  routes:
    - {receiver: default, matchers: ['sev=~"crit|page"'], continue: true}
    - receiver: default
      matchers: ['team="a"']
      routes:
        - receiver: default
          matchers: ['d=~"x.*"', 'sev!="info"']
          routes:
            - {receiver: default, matchers: ['e=""'], continue: true}
            - {receiver: default, matchers: ['f=~".*7"']}
            - {receiver: default, matchers: ['e!~"1|2"']}
        - {receiver: default, matchers: ['d="y"'], continue: true}
        - {receiver: default, matchers: ['e="1"', 'd!=""']}
    - receiver: default
      matchers: ['team=~"b|c"']
      routes:
        - {receiver: default, matchers: ['f!~"1.*"', 'e=~"2|3"']}
        - {receiver: default, matchers: ['d=~"y|"']}
receivers: [{name: default}]
"#,
        );
        agree(
            &t,
            (0..6000).map(|i| {
                let mut pairs = vec![
                    ("team", ["a", "b", "c", "d", ""][i % 5].to_owned()),
                    ("sev", ["crit", "info", "warn"][i % 3].to_owned()),
                ];
                if i % 7 != 0 {
                    pairs.push(("d", ["x1", "y", "", "x"][(i / 5) % 4].to_owned()));
                }
                if i % 4 != 1 {
                    pairs.push(("e", ["1", "2", "3", ""][(i / 3) % 4].to_owned()));
                }
                if i % 2 == 0 {
                    pairs.push(("f", (i * 7919 % 10_007).to_string()));
                }
                let pairs: Vec<(&str, &str)> =
                    pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
                labels(&pairs)
            }),
        );
    }

    proptest! {
        #[test]
        fn compiled_matching_equals_the_reference(
            alerts in prop::collection::vec(
                prop::collection::btree_map("[xyz]", "(1|2|3|12|b|B|bb|c|q|é|\n)?", 0..4),
                1..60,
            ),
        ) {
            let t = tree(CONFIG);
            let mut buf = MatchBuffer::new();
            for m in alerts {
                agrees(&t, &LabelSet::try_from(m).unwrap(), &mut buf)?;
            }
        }
    }

    /// Leaves that test label `w` (which the generated routes do not read): `w="w<n>"`,
    /// `w=~"w<n>.*"` or their negations, each a distinct test, with or without
    /// `continue`, each under a route chosen by its index.
    fn w_leaves(
        count: std::ops::Range<usize>,
    ) -> impl Strategy<Value = Vec<(config::Route, Index)>> {
        prop::collection::btree_map(
            (any::<bool>(), 0..100u32),
            (any::<bool>(), prop::bool::weighted(0.3), any::<Index>()),
            count,
        )
        .prop_map(|tests| {
            tests
                .into_iter()
                .map(|((regex, n), (negated, continue_, under))| {
                    let op = match (regex, negated) {
                        (false, false) => "=",
                        (false, true) => "!=",
                        (true, false) => "=~",
                        (true, true) => "!~",
                    };
                    let value = if regex {
                        format!("w{n}.*")
                    } else {
                        format!("w{n}")
                    };
                    let mut leaf = config::Route::with_matchers([format!("w{op}\"{value}\"")]);
                    leaf.r#continue = continue_;
                    (leaf, under)
                })
                .collect()
        })
    }

    /// How many routes `route` has, itself included.
    fn count(route: &config::Route) -> usize {
        1 + route.routes.iter().map(count).sum::<usize>()
    }

    /// Appends to each route (numbered in pre-order from `next`) the leaves `leaves` holds
    /// for its number, after its own children.
    fn graft(
        route: &mut config::Route,
        next: &mut usize,
        leaves: &mut BTreeMap<usize, Vec<config::Route>>,
    ) {
        let here = *next;
        *next += 1;
        for child in &mut route.routes {
            graft(child, next, leaves);
        }
        if let Some(mine) = leaves.remove(&here) {
            route.routes.extend(mine);
        }
    }

    /// A generated tree (rarely with matchers on the root, which Alertmanager's
    /// configuration forbids but the walk handles) with `w_count` leaves on label `w`
    /// grafted in: more than 64 of them put more than 64 tests on one label, which the
    /// evaluator keeps in several chunks, in its general state layout; fewer keep every
    /// label in one chunk, in its fixed-size one.
    fn generated_tree(w_count: std::ops::Range<usize>) -> impl Strategy<Value = config::Route> {
        (
            prop::option::weighted(0.1, matcher_spec()),
            prop::collection::vec(route_spec(3), 0..6),
            w_leaves(w_count),
        )
            .prop_map(|(root_matcher, children, leaves)| {
                let mut root = model_route(&RouteSpec {
                    receiver: Some(0),
                    matchers: root_matcher.into_iter().collect(),
                    continue_: false,
                    group_by: None,
                    children,
                });
                let routes = count(&root);
                let mut by_parent: BTreeMap<usize, Vec<config::Route>> = BTreeMap::new();
                for (leaf, under) in leaves {
                    by_parent.entry(under.index(routes)).or_default().push(leaf);
                }
                graft(&mut root, &mut 0, &mut by_parent);
                root
            })
    }

    /// An alert of the generated trees' labels, and `w` absent, empty or `w<n>`.
    fn generated_alert() -> impl Strategy<Value = LabelSet> {
        let w = prop_oneof![
            1 => Just(None),
            1 => Just(Some(String::new())),
            8 => (0..110u32).prop_map(|n| Some(format!("w{n}"))),
        ];
        (alert_strategy(), w).prop_map(|(pairs, w)| {
            let mut labels = labels_of(&pairs);
            if let Some(w) = w {
                labels.insert("w", &w).unwrap();
            }
            labels
        })
    }

    proptest! {
        /// Generated trees of both state layouts and many alerts, all through one buffer:
        /// every alert through the tree of few chunks, then through the tree of many (the
        /// value cache reused across alerts, and reset when the buffer changes tree), then
        /// alternating between the two trees.
        #[test]
        fn generated_trees_match_as_the_reference_through_one_buffer(
            few in generated_tree(0..20),
            many in generated_tree(65..100),
            alerts in prop::collection::vec(generated_alert(), 1..200),
        ) {
            let few = RoutingTree::new(&few).unwrap();
            let many = RoutingTree::new(&many).unwrap();
            prop_assert!(many.matcher_counts().0 > 64);
            let mut buf = MatchBuffer::new();
            for t in [&few, &many] {
                for l in &alerts {
                    agrees(t, l, &mut buf)?;
                }
            }
            for l in &alerts {
                agrees(&few, l, &mut buf)?;
                agrees(&many, l, &mut buf)?;
            }
        }
    }
}
