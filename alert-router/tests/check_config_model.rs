//! `validate::alertmanager::check` on configurations built in code must report what the
//! real `amtool check-config` reports on the YAML `Config::to_yaml` writes for them:
//! accept the same, and fail with the same message (the first fault in the order
//! Alertmanager meets it in the written file).

mod check_config_support;

use alert_core::Duration;
use alert_router::config::{Config, EmailConfig, InhibitRule, Receiver, Route, WebhookConfig};
use alert_router::validate::alertmanager::check;
use check_config_support::amtool_check_all;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

fn tree(depth: u32) -> BoxedStrategy<Route> {
    let leaf = (
        prop::option::of(prop::sample::select(&["a", "b", "c"][..])),
        prop::collection::vec(
            prop::sample::select(&["team=\"db\"", "sev=~\"crit|page\"", "env!=\"prod\""][..]),
            0..2,
        ),
        any::<bool>(),
    )
        .prop_map(|(receiver, matchers, cont)| Route {
            receiver: receiver.map(str::to_owned),
            matchers: matchers.into_iter().map(str::to_owned).collect(),
            r#continue: cont,
            ..Route::default()
        });
    if depth == 0 {
        return leaf.boxed();
    }
    (leaf, prop::collection::vec(tree(depth - 1), 0..3))
        .prop_map(|(mut r, routes)| {
            r.routes = routes;
            r
        })
        .boxed()
}

/// One fault to put into a valid configuration, at a position chosen by `at`.
#[derive(Debug, Clone, Copy)]
enum Fault {
    UndefinedReceiver,
    BadMatcher,
    BadRegexMatcher,
    BadMatchRe,
    DuplicateReceiver,
    InvalidGroupBy,
    DuplicateGroupBy,
    ZeroInterval,
    BadWebhookUrl,
    MissingReceiverName,
    RootContinue,
    EmailWithoutTo,
    UndefinedTimeInterval,
    BadEqualLabel,
    BadMatchKey,
}

const FAULTS: [Fault; 15] = [
    Fault::UndefinedReceiver,
    Fault::BadMatcher,
    Fault::BadRegexMatcher,
    Fault::BadMatchRe,
    Fault::DuplicateReceiver,
    Fault::InvalidGroupBy,
    Fault::DuplicateGroupBy,
    Fault::ZeroInterval,
    Fault::BadWebhookUrl,
    Fault::MissingReceiverName,
    Fault::RootContinue,
    Fault::EmailWithoutTo,
    Fault::UndefinedTimeInterval,
    Fault::BadEqualLabel,
    Fault::BadMatchKey,
];

/// The routes of the tree in pre-order, as paths of child indices.
fn route_paths(r: &Route, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    out.push(prefix.clone());
    for (i, c) in r.routes.iter().enumerate() {
        prefix.push(i);
        route_paths(c, prefix, out);
        prefix.pop();
    }
}

fn route_at<'a>(root: &'a mut Route, path: &[usize]) -> &'a mut Route {
    let mut r = root;
    for &i in path {
        r = &mut r.routes[i];
    }
    r
}

fn apply(config: &mut Config, fault: Fault, at: usize) {
    let mut paths = Vec::new();
    route_paths(&config.route, &mut Vec::new(), &mut paths);
    // Faults of child routes go to a non-root route when there is one.
    let child_paths: Vec<&Vec<usize>> = paths.iter().filter(|p| !p.is_empty()).collect();
    let child = if child_paths.is_empty() {
        None
    } else {
        Some(child_paths[at % child_paths.len()].clone())
    };
    match fault {
        Fault::UndefinedReceiver => {
            let p = paths[at % paths.len()].clone();
            route_at(&mut config.route, &p).receiver = Some("nope".into());
        }
        Fault::BadMatcher | Fault::BadRegexMatcher | Fault::BadMatchRe | Fault::BadMatchKey => {
            if let Some(p) = child.clone() {
                let r = route_at(&mut config.route, &p);
                match fault {
                    Fault::BadMatcher => r.matchers.push("foo".into()),
                    Fault::BadRegexMatcher => r.matchers.push("a=~\"(\"".into()),
                    Fault::BadMatchRe => {
                        r.match_re.insert("x".into(), "[".into());
                    }
                    _ => {
                        r.r#match.insert("1x".into(), "v".into());
                    }
                }
            }
        }
        Fault::DuplicateReceiver => {
            let name = config.receivers[at % config.receivers.len()].name.clone();
            config.receivers.push(Receiver::new(name));
        }
        Fault::InvalidGroupBy => {
            let p = paths[at % paths.len()].clone();
            route_at(&mut config.route, &p).group_by = Some(vec!["ok".into(), "not-ok".into()]);
        }
        Fault::DuplicateGroupBy => {
            let p = paths[at % paths.len()].clone();
            route_at(&mut config.route, &p).group_by = Some(vec!["a".into(), "a".into()]);
        }
        Fault::ZeroInterval => {
            let p = paths[at % paths.len()].clone();
            route_at(&mut config.route, &p).repeat_interval = Some(Duration::ZERO);
        }
        Fault::BadWebhookUrl => {
            let i = at % config.receivers.len();
            config.receivers[i]
                .webhook_configs
                .push(WebhookConfig::new("ftp://hooks.example"));
        }
        Fault::MissingReceiverName => {
            let i = at % config.receivers.len();
            config.receivers[i].name.clear();
        }
        Fault::RootContinue => config.route.r#continue = true,
        Fault::EmailWithoutTo => {
            let i = at % config.receivers.len();
            config.receivers[i].email_configs.push(EmailConfig {
                smarthost: Some("smtp:25".into()),
                from: Some("a@b".into()),
                ..EmailConfig::default()
            });
        }
        Fault::UndefinedTimeInterval => {
            if let Some(p) = child.clone() {
                route_at(&mut config.route, &p)
                    .mute_time_intervals
                    .push("never-defined".into());
            }
        }
        Fault::BadEqualLabel => config.inhibit_rules.push(InhibitRule {
            equal: vec!["bad-label".into()],
            ..InhibitRule::default()
        }),
    }
}

fn config_with_faults() -> impl Strategy<Value = Config> {
    (
        tree(2),
        prop::collection::vec((prop::sample::select(&FAULTS[..]), any::<usize>()), 0..3),
    )
        .prop_map(|(mut root, faults)| {
            root.receiver = Some("a".into());
            root.r#continue = false;
            root.matchers.clear();
            let mut config = Config::new(root);
            for name in ["a", "b", "c"] {
                let mut r = Receiver::new(name);
                r.webhook_configs
                    .push(WebhookConfig::new(format!("http://hooks.example/{name}")));
                config.receivers.push(r);
            }
            for (fault, at) in faults {
                apply(&mut config, fault, at);
            }
            config
        })
}

#[test]
fn check_agrees_with_amtool_on_written_configs() {
    let mut runner = TestRunner::deterministic();
    let strategy = config_with_faults();
    let configs: Vec<Config> = (0..300)
        .map(|_| strategy.new_tree(&mut runner).expect("a config").current())
        .collect();
    let texts: Vec<String> = configs.iter().map(Config::to_yaml).collect();
    let verdicts = amtool_check_all(&texts);
    let mut problems = Vec::new();
    let mut rejected = 0;
    for ((config, text), verdict) in configs.iter().zip(&texts).zip(&verdicts) {
        let ours = check(config);
        match (&verdict.failure, &ours) {
            (None, Ok(())) => {}
            (Some(theirs), Err(e)) => {
                rejected += 1;
                if *theirs != e.alertmanager_message() {
                    problems.push(format!("amtool: {theirs}\nours:   {e}\n{text}"));
                }
            }
            _ => problems.push(format!(
                "amtool: {:?}, ours: {:?}\n{text}",
                verdict.failure,
                ours.as_ref().err().map(|e| e.to_string())
            )),
        }
        // What we write and accept reads back as the same configuration.
        if ours.is_ok() {
            assert_eq!(Config::from_yaml(text).as_ref(), Ok(config));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert!(
        rejected > 100 && rejected < 290,
        "{rejected} of 300 rejected"
    );
}
