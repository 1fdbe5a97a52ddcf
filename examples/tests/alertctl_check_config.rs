//! The `alertctl check-config` binary against the real `amtool check-config` 0.25: the same
//! files, checked by both, must give the same standard output, the same standard error
//! (amtool's program name read as alertctl's) and the same exit status.

use std::fs;
use std::path::Path;
use std::process::Command;

use alert_testkit::amtool;

/// A configuration amtool accepts, with inhibit rules, several receivers and a template.
const FULL: &str = r#"global:
  resolve_timeout: 2m
templates:
  - "TEMPLATE_DIR/*.tmpl"
route:
  receiver: default
  group_by: [alertname, cluster]
  routes:
    - receiver: pager
      matchers: ['severity="page"']
      continue: true
    - receiver: hook
      matchers: [team=~"db|web"]
inhibit_rules:
  - source_matchers: [severity="page"]
    target_matchers: [severity="ticket"]
    equal: [cluster]
  - source_matchers: [alertname="Maintenance"]
    target_matchers: [severity=~".+"]
receivers:
  - name: default
  - name: pager
    webhook_configs:
      - url: http://127.0.0.1:9999/page
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:9999/hook
        send_resolved: false
"#;

/// Files amtool refuses, each for a different rule.
const INVALID: [(&str, &str); 6] = [
    (
        "undefined_receiver.yml",
        "route: {receiver: nope}\nreceivers: [{name: default}]\n",
    ),
    ("no_route.yml", "receivers: [{name: default}]\n"),
    (
        "unknown_field.yml",
        "route: {receiver: default, colour: blue}\nreceivers: [{name: default}]\n",
    ),
    (
        "bad_duration.yml",
        "route: {receiver: default, group_wait: 5 minutes}\nreceivers: [{name: default}]\n",
    ),
    (
        "bad_yaml.yml",
        "route:\n  receiver: default\n routes: [\nreceivers: [{name: default}]\n",
    ),
    (
        "bad_url.yml",
        "route: {receiver: hook}\nreceivers:\n  - name: hook\n    webhook_configs: [{url: 'ftp://x'}]\n",
    ),
];

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn alertctl(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_alertctl"))
        .args(args)
        .output()
        .expect("alertctl runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 errors"),
    }
}

/// Runs `check-config FILES` with both tools, asserts they agree byte for byte and
/// returns amtool's run.
fn both(files: &[&Path]) -> Run {
    let mut args = vec!["check-config".to_owned()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let judge = amtool(&args);
    let ours = alertctl(&args);
    assert_eq!(ours.stdout, judge.stdout, "stdout of {args:?}");
    assert_eq!(
        ours.stderr,
        judge.stderr.replace("amtool: error:", "alertctl: error:"),
        "stderr of {args:?}"
    );
    assert_eq!(ours.code, judge.code(), "exit status of {args:?}");
    Run {
        code: judge.code(),
        stdout: judge.stdout,
        stderr: judge.stderr,
    }
}

#[test]
fn valid_files_print_amtools_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(
        dir.path().join("slack.tmpl"),
        "{{ define \"slack.title\" }}{{ .CommonLabels.alertname }}{{ end }}\n",
    )
    .expect("template written");
    let full = dir.path().join("full.yml");
    let text = FULL.replace("TEMPLATE_DIR", &dir.path().display().to_string());
    fs::write(&full, text).expect("config written");
    let minimal = dir.path().join("minimal.yml");
    fs::write(
        &minimal,
        "route: {receiver: default}\nreceivers: [{name: default}]\n",
    )
    .expect("config written");

    let run = both(&[&full]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains(" - 2 inhibit rules"), "{}", run.stdout);
    assert!(run.stdout.contains(" - 3 receivers"), "{}", run.stdout);
    assert!(run.stdout.contains(" - 1 templates"), "{}", run.stdout);

    let run = both(&[&minimal, &full]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout.matches("SUCCESS").count(), 3, "{}", run.stdout);
}

/// Writes the smallest valid configuration into `dir`, as `valid.yml`.
fn write_valid(dir: &std::path::Path) -> std::path::PathBuf {
    let valid = dir.join("valid.yml");
    fs::write(
        &valid,
        "route: {receiver: default}\nreceivers: [{name: default}]\n",
    )
    .expect("config written");
    valid
}

#[test]
fn invalid_files_fail_with_alertmanagers_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let valid = write_valid(dir.path());
    let mut paths = Vec::new();
    for (name, text) in INVALID {
        let path = dir.path().join(name);
        fs::write(&path, text).expect("config written");
        let run = both(&[&path]);
        assert_eq!(run.code, Some(1), "{name}: {}", run.stdout);
        assert!(run.stdout.contains("FAILED: "), "{name}: {}", run.stdout);
        paths.push(path);
    }

    // Valid and invalid files in one run: every file is checked, the count is of failures.
    let run = both(&[&paths[0], &valid, &paths[4]]);
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.contains("SUCCESS"), "{}", run.stdout);
    assert!(
        run.stderr.contains("failed to validate 2 file(s)"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_files_and_directories_are_refused_before_checking() {
    let dir = tempfile::tempdir().expect("temp dir");
    let valid = write_valid(dir.path());
    let missing = dir.path().join("missing.yml");

    let run = both(&[&valid, &missing]);
    assert_ne!(run.code, Some(0));
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);

    let run = both(&[dir.path()]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("is a directory"), "{}", run.stderr);
}
