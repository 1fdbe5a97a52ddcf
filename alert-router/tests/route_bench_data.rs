//! The benchmark data (`shared/bench-data/gen_routing.py`: 224 routes, mixed `match`,
//! `match_re` and `matchers`, odd label values) against the real thing:
//! - the receivers of the first 2,000 alerts against `amtool config routes test`;
//! - the group keys of 300 alerts against a real Alertmanager's webhook `groupKey`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use alert_core::{LabelSet, MatchType, Matcher};
use alert_router::config::Config;
use alert_router::route::{MatchBuffer, RoutingTree};
use alert_testkit::{Alertmanager, WebhookSink, amtool};

/// The generator: `BENCH_DATA_GENERATOR` (as for the benches), else the one in the
/// `shared` directory beside the checkout.
fn generator() -> PathBuf {
    std::env::var_os("BENCH_DATA_GENERATOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench-data/gen_routing.py")
        })
}

/// Generates the data (the generator's default seed) with `n` alerts into `dir`.
fn generate(dir: &Path, n: usize) -> (String, Vec<LabelSet>) {
    let status = std::process::Command::new("python3")
        .arg(generator())
        .arg("--out")
        .arg(dir)
        .arg("--alerts")
        .arg(n.to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs the bench-data generator");
    assert!(
        status.success(),
        "{} failed ({status}); set BENCH_DATA_GENERATOR to its path",
        generator().display()
    );
    let yaml = std::fs::read_to_string(dir.join("config.yml")).unwrap();
    let alerts = std::fs::read_to_string(dir.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<LabelSet>(l).unwrap())
        .collect();
    (yaml, alerts)
}

/// `name<op>"value"` as Alertmanager prints a matcher, which its classic parser reads
/// back as the same matcher (amtool's label arguments, config `matchers` strings).
fn matcher_text(name: &str, op: MatchType, value: &str) -> String {
    Matcher::new(op, name, value).unwrap().to_string()
}

#[test]
fn bench_alerts_route_as_amtool_routes_them() {
    const N: usize = 2000;
    let dir = tempfile::tempdir().unwrap();
    let (yaml, alerts) = generate(dir.path(), N);
    let config = Config::from_yaml(&yaml).unwrap();
    let tree = RoutingTree::new(&config.route).unwrap();
    assert_eq!(tree.len(), 225);
    let file_arg = format!("--config.file={}", dir.path().join("config.yml").display());

    let threads = 2;
    let mismatches: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (tree, alerts, file_arg) = (&tree, &alerts, &file_arg);
                s.spawn(move || {
                    let mut bad = Vec::new();
                    // One buffer for every alert of this thread, as a router keeps it:
                    // regex results remembered across alerts must not leak between them.
                    let mut buf = MatchBuffer::new();
                    for labels in alerts.iter().skip(t).step_by(threads) {
                        let mut args =
                            vec!["config".to_owned(), "routes".to_owned(), "test".to_owned()];
                        args.push(file_arg.clone());
                        args.extend(
                            labels
                                .iter()
                                .map(|(n, v)| matcher_text(n, MatchType::Equal, v)),
                        );
                        let real = amtool(&args);
                        assert!(real.success(), "{}", real.stderr);
                        let receivers: Vec<&str> = tree
                            .match_into(labels, &mut buf)
                            .iter()
                            .map(|&id| tree.route(id).receiver())
                            .collect();
                        let ours = format!("{}\n", receivers.join(","));
                        if ours != real.stdout {
                            bad.push(format!("{labels}: ours {ours:?}, amtool {:?}", real.stdout));
                        }
                    }
                    bad
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The bench configuration with every receiver sending to `url` and quick timers.
fn with_webhooks(yaml: &str, url: &str) -> String {
    let (head, receivers) = yaml.split_once("receivers:\n").unwrap();
    let head = head
        .replace("  group_wait: 30s\n", "  group_wait: 1s\n")
        .replace("  group_interval: 5m\n", "  group_interval: 1h\n");
    let mut out = format!("{head}receivers:\n");
    for line in receivers.lines() {
        out.push_str(line);
        out.push('\n');
        if line.starts_with("  - name: ") {
            out.push_str(&format!("    webhook_configs: [{{url: '{url}'}}]\n"));
        }
    }
    out
}

#[test]
fn group_keys_equal_a_real_alertmanagers_webhook_group_keys() {
    const N: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let (yaml, alerts) = generate(dir.path(), N);
    let sink = WebhookSink::start();
    let yaml = with_webhooks(&yaml, &sink.url());
    let config = Config::from_yaml(&yaml).unwrap();
    let tree = RoutingTree::new(&config.route).unwrap();

    // What we expect: one notification per aggregation group (route, group labels).
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for labels in &alerts {
        for route in tree.matches(&labels.without_empty()) {
            expected.insert(route.group_key(labels), route.receiver().to_owned());
        }
    }

    let am = Alertmanager::start(&yaml);
    let body: Vec<serde_json::Value> = alerts
        .iter()
        .map(|l| serde_json::json!({ "labels": l }))
        .collect();
    am.post_alerts(&serde_json::Value::Array(body))
        .ensure_success();
    sink.wait_until(Duration::from_secs(60), "every expected group", |got| {
        got.len() >= expected.len()
    });
    // Let stragglers arrive, then compare the complete sets.
    std::thread::sleep(Duration::from_secs(2));
    let got = sink.received();
    assert!(got.len() >= expected.len());
    let real: BTreeMap<String, String> = got
        .iter()
        .map(|r| {
            let j = r.json();
            (
                j["groupKey"].as_str().unwrap().to_owned(),
                j["receiver"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let ours: BTreeSet<&String> = expected.keys().collect();
    let theirs: BTreeSet<&String> = real.keys().collect();
    assert_eq!(
        ours.difference(&theirs).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "group keys we expect that Alertmanager did not send"
    );
    assert_eq!(
        theirs.difference(&ours).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "group keys Alertmanager sent that we do not expect"
    );
    for (key, receiver) in &expected {
        // The webhook carries regexp.QuoteMeta(receiver); bench names need no quoting.
        assert_eq!(&real[key], receiver, "receiver of {key}");
    }
    drop(am);
}
