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
    // The glob matches no file: amtool has nothing to parse, alertctl nothing to leave
    // unchecked (see the next test for templates that exist).
    let full = dir.path().join("full.yml");
    let text = FULL.replace(
        "TEMPLATE_DIR",
        &dir.path().join("none").display().to_string(),
    );
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

/// Where the tools part: amtool parses the template files a configuration names,
/// alertctl cannot, so it says they were not checked and fails the file, never printing
/// SUCCESS for them. Relative globs are read from the configuration's directory.
#[test]
fn template_files_are_never_claimed_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmpl = dir.path().join("slack.tmpl");
    fs::write(
        &tmpl,
        "{{ define \"slack.title\" }}{{ .CommonLabels.alertname }}{{ end }}\n",
    )
    .expect("template written");
    let absolute = dir.path().join("absolute.yml");
    fs::write(
        &absolute,
        FULL.replace("TEMPLATE_DIR", &dir.path().display().to_string()),
    )
    .expect("config written");
    let relative = dir.path().join("relative.yml");
    fs::write(
        &relative,
        "route: {receiver: x}\nreceivers: [{name: x}]\ntemplates: ['*.tmpl', 'missing/*.tmpl']\n",
    )
    .expect("config written");
    for config in [&absolute, &relative] {
        let path = config.display().to_string();
        let judge = amtool(["check-config", &path]);
        assert_eq!(judge.code(), Some(0), "{}", judge.stderr);
        assert!(
            judge.stdout.contains(" templates\n  SUCCESS\n"),
            "{}",
            judge.stdout
        );
        let ours = alertctl(&["check-config", &path]);
        assert_eq!(ours.code, Some(1));
        let verdict = format!(
            " templates\n  FAILED: alertctl does not parse Go templates: 1 file(s) not checked ({})\n\n",
            tmpl.display()
        );
        assert!(ours.stdout.ends_with(&verdict), "{}", ours.stdout);
        assert!(!ours.stdout.contains("SUCCESS\n\n"), "{}", ours.stdout);
        assert_eq!(
            ours.stderr,
            "alertctl: error: failed to validate 1 file(s)\n\n"
        );
        // Everything above the template line is amtool's.
        let head = |s: &str| s.split(" templates\n").next().unwrap_or("").to_owned();
        assert_eq!(head(&ours.stdout), head(&judge.stdout));
    }
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
