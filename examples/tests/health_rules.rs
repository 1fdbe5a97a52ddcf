//! `alert-health eval` on a graph naming alert rules (`prometheus.io/Rules`,
//! `RuleGroup`, `Rule`), against a REAL Prometheus 2.42 through the test kit (missing,
//! the test fails with the install command) evaluating the health graph's rule file
//! (`alert-health-graph/tests/fixtures/rules/shop-rules.yml`): what it prints, and
//! `--fail-on` exit codes from firing, pending and failed rules.

mod health_support;

use std::path::Path;
use std::time::Duration;

use alert_testkit::{Prometheus, wait_until};
use health_support::{eval, write_graph};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A Prometheus evaluating the rule file, once every rule has been evaluated.
fn prometheus(dir: &Path) -> Prometheus {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../alert-health-graph/tests/fixtures/rules/shop-rules.yml");
    let rules_dir = dir.join("rules");
    std::fs::create_dir_all(&rules_dir).expect("rules dir");
    std::fs::copy(&rules, rules_dir.join("shop.yml")).expect("the rule file");
    let prom = Prometheus::builder().rules_dir(&rules_dir).start();
    wait_until(Duration::from_secs(30), "every rule evaluated", || {
        let groups = prom.rules();
        let rules: Vec<&serde_json::Value> = groups
            .iter()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .collect();
        (rules.len() == 6 && rules.iter().all(|r| r["health"] != "unknown")).then_some(())
    });
    prom
}

#[test]
fn eval_judges_alert_rules_of_a_real_prometheus_and_fails_on_a_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let prom = prometheus(dir.path());
    let url = prom.base_url();
    let path = write_graph(
        dir.path(),
        "rules.yml",
        &format!(
            "\
sensors:
  - {{name: shop-rules, kind: prometheus.io/Rules, params: {{url: \"{url}\", file: shop.yml, groups: [shop, broken]}}}}
  - {{name: slow-burn, kind: prometheus.io/Rule, params: {{url: \"{url}\", group: shop, rule: SlowBurn}}}}
  - {{name: never-fires, kind: prometheus.io/Rule, params: {{url: \"{url}\", rule: NeverFires}}}}
services:
  - {{name: shop, system: shop-rules}}
  - {{name: checkout, system: slow-burn}}
  - {{name: quiet, system: never-fires}}
"
        ),
    );

    let out = eval(&path, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        r#"rule AlwaysFiring (group shop): firing, 2 instances: {instance="web-1"}, {instance="web-2"}"#,
        "rule SlowBurn (group shop): pending, 1 instance: {}",
        "rule BadRegex (group broken): evaluation failed: invalid regular expression in label_replace(): (",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(text.contains("passing : quiet"), "{text}");
    let out = eval(&path, &["--only-failing"]);
    let text = stdout(&out);
    assert!(
        text.contains("failing : shop") && !text.contains("quiet"),
        "{text}"
    );

    let out = eval(&path, &["--fail-on", "failing"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "alert-health: 1 service at or worse than failing: shop (failing)\n"
    );
    let out = eval(&path, &["--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "alert-health: services at or worse than degraded: shop (failing), checkout (degraded)\n"
    );

    // Only the inactive rule: nothing at or worse than a warning.
    let quiet = write_graph(
        dir.path(),
        "quiet.yml",
        &format!(
            "sensors:\n  - {{name: never-fires, kind: prometheus.io/Rule, params: {{url: \"{url}\", rule: NeverFires}}}}\n"
        ),
    );
    let out = eval(&quiet, &["--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("rule NeverFires (group shop): inactive"),
        "{}",
        stdout(&out)
    );

    // A kind's parameters refused: the bad-graph exit code, the entry located.
    let bad = write_graph(
        dir.path(),
        "bad.yml",
        &format!(
            "sensors:\n  - {{name: x, kind: prometheus.io/Rule, params: {{url: \"{url}\", group: shop}}}}\n"
        ),
    );
    let out = eval(&bad, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "alert-health: sensors[0].params: instrumenting kind=prometheus.io:Rule: missing rule\n"
    );
}
