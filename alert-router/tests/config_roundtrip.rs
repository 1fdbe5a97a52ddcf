//! Writing configurations: what `Config::to_yaml` writes reads back as the same
//! configuration here, deterministically, and real Alertmanager 0.25 reads the same
//! values (checked through `amtool config routes show`, which prints every route's
//! matchers and receiver), YAML 1.1 specials included.

mod check_config_support;

use std::collections::BTreeMap;

use alert_core::{MatchType, Matcher, Matchers, ParserMode, parse_matchers};
use alert_router::config::{
    Config, EmailConfig, GlobalConfig, InhibitRule, NamedTimeInterval, PagerdutyConfig, Receiver,
    Route, Secret, SlackConfig, TimeInterval, TimeRange, WebhookConfig, WeekdayRange,
};
use alert_router::validate::alertmanager::check;
use check_config_support::amtool_check_all;
use proptest::prelude::*;
use proptest::sample::select;

/// Strings YAML 1.1 or 1.2 would read as something else when written plain.
const SPECIALS: &[&str] = &[
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "N",
    "YES",
    "Off",
    "~",
    "null",
    "Null",
    "true",
    "False",
    "1_000",
    "0x1F",
    "12:30",
    "190:20:30",
    ".inf",
    "-.inf",
    ".NaN",
    "2024-01-01",
    "2001-12-14t21:59:43.10Z",
    "010",
    "09",
    "1e3",
    "+5",
    "-5",
    "0",
    "1.5",
    "<<",
    "=",
    "...",
    "---",
    "- dash",
    "a: b",
    "#hash",
    "x #y",
    "[list]",
    "{map}",
    "&anchor",
    "*alias",
    "!tag",
    "%dir",
    "@at",
    "`tick",
    "'single'",
    "\"double\"",
    "back\\slash",
    " lead",
    "trail ",
    "é",
    "日本語",
    "🙂",
    "tab\there",
    "",
];

fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(SPECIALS).prop_map(str::to_owned),
        2 => "[a-z0-9_.:/ -]{1,12}",
        1 => "\\PC{0,8}",
    ]
}

fn single_line(s: String) -> String {
    s.replace(['\n', '\r'], " ")
}

fn label_name() -> impl Strategy<Value = String> {
    select(&["team", "severity", "env", "a", "b_c", "_x", "alertname"][..]).prop_map(str::to_owned)
}

fn regex() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => select(&["db|web", ".*", "[a-z]+", "\\d{2,3}", "(?i)prod", "yes", "~", "1_000", "12:30"][..])
            .prop_map(str::to_owned),
        1 => odd_string().prop_map(|s| regex_syntax::escape(&s)),
    ]
}

fn matcher_text() -> impl Strategy<Value = String> {
    (
        label_name(),
        select(
            &[
                MatchType::Equal,
                MatchType::NotEqual,
                MatchType::Regexp,
                MatchType::NotRegexp,
            ][..],
        ),
        odd_string(),
        regex(),
    )
        .prop_map(|(name, op, value, re)| {
            let value = if op.is_regex() { re } else { value };
            Matcher::new(op, name, value)
                .expect("valid regex")
                .to_string()
        })
}

/// A route tree whose receivers come from `names`.
fn route(depth: u32, names: Vec<String>) -> BoxedStrategy<Route> {
    let own = (
        prop::option::of(select(names.clone())),
        prop::option::of(prop::collection::btree_set(label_name(), 0..3)),
        any::<bool>(),
        prop::collection::btree_map(label_name(), odd_string(), 0..2),
        prop::collection::btree_map(label_name(), regex(), 0..2),
        prop::collection::vec(matcher_text(), 0..3),
        prop::option::of(select(&["10s", "1m", "5m30s", "2h"][..])),
    );
    let children = if depth == 0 {
        Just(Vec::new()).boxed()
    } else {
        prop::collection::vec(route(depth - 1, names), 0..3).boxed()
    };
    (own, children)
        .prop_map(
            |((receiver, group_by, cont, m, mre, matchers, wait), routes)| Route {
                receiver,
                group_by: group_by.map(|g| g.into_iter().collect()),
                r#continue: cont,
                r#match: m,
                match_re: mre,
                matchers,
                routes,
                group_wait: wait.map(|w| w.parse().expect("valid duration")),
                ..Route::default()
            },
        )
        .boxed()
}

fn config() -> impl Strategy<Value = Config> {
    prop::collection::btree_set(
        odd_string()
            .prop_map(single_line)
            .prop_filter("a receiver needs a name", |s| !s.is_empty()),
        1..5,
    )
    .prop_flat_map(|names| {
        let names: Vec<String> = names.into_iter().collect();
        let first = names[0].clone();
        (
            route(2, names.clone()),
            prop::collection::vec(odd_string(), 4),
            Just(names),
        )
            .prop_map(move |(mut root, texts, names)| {
                root.receiver = Some(first.clone());
                root.r#continue = false;
                root.r#match.clear();
                root.match_re.clear();
                root.matchers.clear();
                let mut config = Config::new(root);
                config.global = Some(GlobalConfig {
                    smtp_smarthost: Some("localhost:25".into()),
                    smtp_from: Some("alertmanager@example.org".into()),
                    slack_api_url: Some(Secret::new("https://hooks.slack.com/services/T/B/X")),
                    ..GlobalConfig::default()
                });
                for (i, name) in names.iter().enumerate() {
                    let mut r = Receiver::new(name.clone());
                    match i % 4 {
                        0 => r.webhook_configs.push(WebhookConfig {
                            send_resolved: Some(false),
                            max_alerts: Some(3),
                            ..WebhookConfig::new("http://127.0.0.1:9/hook")
                        }),
                        1 => {
                            let mut s = SlackConfig::new(
                                "https://hooks.slack.com/services/A/B/C",
                                texts[1].clone(),
                            );
                            s.title = Some(texts[2].clone());
                            r.slack_configs.push(s);
                        }
                        2 => {
                            let mut e = EmailConfig::new("ops@example.org");
                            e.headers
                                .insert("X-Team".into(), single_line(texts[3].clone()));
                            r.email_configs.push(e);
                        }
                        _ => r
                            .pagerduty_configs
                            .push(PagerdutyConfig::with_routing_key(format!(
                                "key-{}",
                                texts[1]
                            ))),
                    }
                    config.receivers.push(r);
                }
                config.inhibit_rules.push(InhibitRule {
                    source_match: BTreeMap::from([("severity".into(), texts[0].clone())]),
                    target_matchers: vec!["severity=\"warning\"".into()],
                    equal: vec!["alertname".into()],
                    ..InhibitRule::default()
                });
                config.time_intervals.push(NamedTimeInterval {
                    name: "office".into(),
                    time_intervals: vec![TimeInterval {
                        times: Some(vec![TimeRange::parse("09:00", "17:30").expect("valid")]),
                        weekdays: Some(vec![
                            "monday:friday".parse::<WeekdayRange>().expect("valid"),
                        ]),
                        ..TimeInterval::default()
                    }],
                });
                config
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn written_yaml_reads_back_as_the_same_config(config in config()) {
        prop_assert!(check(&config).is_ok(), "{:?}", check(&config));
        let yaml = config.to_yaml();
        prop_assert_eq!(config.to_yaml(), yaml.clone(), "deterministic");
        let back = Config::from_yaml(&yaml);
        prop_assert!(back.is_ok(), "{:?}\n{}", back.as_ref().err(), yaml);
        prop_assert_eq!(back.ok(), Some(config));
    }
}

/// What `amtool config routes show` prints for each route, in tree order: the node text
/// (`default-route` or the sorted matchers), `continue`, the effective receiver.
fn expected_tree(route: &Route, parent_receiver: &str, out: &mut Vec<String>) {
    let mut all: Vec<Matcher> = Vec::new();
    for (k, v) in &route.r#match {
        all.push(Matcher::new(MatchType::Equal, k.clone(), v.clone()).expect("equality"));
    }
    for (k, v) in &route.match_re {
        all.push(Matcher::new(MatchType::Regexp, k.clone(), format!("^(?:{v})$")).expect("regex"));
    }
    for m in &route.matchers {
        all.extend(
            parse_matchers(m, ParserMode::Classic)
                .expect("valid matchers")
                .into_vec(),
        );
    }
    let mut matchers = Matchers::new(all);
    matchers.sort();
    let text = if matchers.is_empty() {
        "default-route".to_string()
    } else {
        matchers.to_string()
    };
    let receiver = route.own_receiver().unwrap_or(parent_receiver).to_string();
    let cont = if route.r#continue {
        "  continue: true"
    } else {
        ""
    };
    out.push(format!("{text}{cont}  receiver: {receiver}"));
    for child in &route.routes {
        expected_tree(child, &receiver, out);
    }
}

/// The node lines of amtool's tree, without the tree drawing.
fn amtool_tree(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip_while(|l| *l != ".")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let start = l
                .char_indices()
                .find(|(_, c)| !matches!(c, ' ' | '\u{a0}' | '│' | '├' | '└' | '─'))
                .map_or(l.len(), |(i, _)| i);
            l[start..].to_string()
        })
        .collect()
}

#[test]
fn alertmanager_reads_written_values_back() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = config();
    let configs: Vec<Config> = (0..60)
        .map(|_| {
            proptest::strategy::ValueTree::current(
                &strategy.new_tree(&mut runner).expect("a config"),
            )
        })
        .collect();
    let texts: Vec<String> = configs.iter().map(Config::to_yaml).collect();
    // amtool accepts every written file.
    for (verdict, text) in amtool_check_all(&texts).iter().zip(&texts) {
        assert_eq!(
            verdict.failure, None,
            "amtool rejects what we wrote:\n{text}"
        );
    }
    // And reads every matcher value and receiver name as written.
    let dir = tempfile::tempdir().expect("temporary directory");
    for (i, (config, text)) in configs.iter().zip(&texts).enumerate() {
        let path = dir.path().join(format!("rt-{i}.yml"));
        std::fs::write(&path, text).expect("write");
        let out = alert_testkit::amtool([
            "config".to_string(),
            "routes".to_string(),
            "show".to_string(),
            format!("--config.file={}", path.display()),
        ]);
        assert!(out.success(), "{}", out.stderr);
        let mut want = Vec::new();
        expected_tree(&config.route, "", &mut want);
        assert_eq!(amtool_tree(&out.stdout), want, "\n{text}");
    }
}

#[test]
fn yaml_1_1_specials_survive_alertmanager() {
    let specials: Vec<&str> = SPECIALS
        .iter()
        .copied()
        .filter(|s| !s.is_empty() && !s.contains('\t'))
        .collect();
    let mut root = Route::new(specials[0]);
    let mut config = Config::default();
    for (i, s) in specials.iter().enumerate() {
        config.receivers.push(Receiver::new(*s));
        let mut child = Route::new(*s);
        child.r#match.insert("v".into(), (*s).to_string());
        child.matchers.push(
            Matcher::new(MatchType::Equal, "w", *s)
                .expect("matcher")
                .to_string(),
        );
        child.match_re.insert("x".into(), regex_syntax::escape(s));
        child.r#continue = i % 2 == 0;
        root.routes.push(child);
    }
    config.route = root;
    let text = config.to_yaml();
    assert_eq!(Config::from_yaml(&text).as_ref().ok(), Some(&config));
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("specials.yml");
    std::fs::write(&path, &text).expect("write");
    let out = alert_testkit::amtool([
        "config".to_string(),
        "routes".to_string(),
        "show".to_string(),
        format!("--config.file={}", path.display()),
    ]);
    assert!(out.success(), "{}\n{text}", out.stderr);
    let mut want = Vec::new();
    expected_tree(&config.route, "", &mut want);
    assert_eq!(amtool_tree(&out.stdout), want, "\n{text}");
}
