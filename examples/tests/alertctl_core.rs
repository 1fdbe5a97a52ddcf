//! The `alertctl` binary: `fingerprint` and `matchers parse`, run as a user runs them.
//! `matchers parse` is checked against the real Alertmanager 0.25 (`amtool config routes
//! show` prints each route's matchers).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use alert_core::LabelSet;

fn alertctl(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alertctl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("alertctl starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("alertctl ends")
}

fn ok(args: &[&str]) -> String {
    let out = alertctl(args, "");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The exit status and standard error of a failing run (standard output must be empty).
fn fails(args: &[&str], stdin: &str) -> (i32, String) {
    let out = alertctl(args, stdin);
    assert!(!out.status.success(), "{args:?} should fail");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stderr).expect("UTF-8 errors"),
    )
}

fn fingerprint_of(pairs: &[(&str, &str)]) -> String {
    LabelSet::from_pairs(pairs.iter().copied())
        .expect("labels")
        .fingerprint()
        .to_string()
}

#[test]
fn fingerprint_of_label_arguments() {
    // The fingerprint the real Alertmanager 0.25 gives alertname=Test,severity=page.
    assert_eq!(
        ok(&["fingerprint", "alertname=Test", "severity=page"]),
        "823de09697ca9348\n"
    );
    // amtool's label syntax: quotes and escapes, a later duplicate wins.
    assert_eq!(
        ok(&["fingerprint", r#"msg="say \"hi\"""#, "team=db", "team=web"]),
        format!(
            "{}\n",
            fingerprint_of(&[("msg", "say \"hi\""), ("team", "web")])
        )
    );
    assert_eq!(ok(&["fingerprint"]), format!("{}\n", fingerprint_of(&[])));
}

#[test]
fn strip_empty_drops_empty_values_first() {
    let with_empty = ok(&["fingerprint", "a=1", "b="]);
    let stripped = ok(&["fingerprint", "--strip-empty", "a=1", "b="]);
    assert_eq!(
        with_empty,
        format!("{}\n", fingerprint_of(&[("a", "1"), ("b", "")]))
    );
    assert_eq!(stripped, format!("{}\n", fingerprint_of(&[("a", "1")])));
    assert_ne!(with_empty, stripped);
}

#[test]
fn fingerprint_refuses_what_amtool_refuses() {
    let (code, err) = fails(&["fingerprint", "severity=~page"], "");
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "alertctl: error: labels must be specified as key=value pairs\n"
    );
    let (code, err) = fails(&["fingerprint", "{a=b}"], "");
    assert_eq!(code, 1);
    assert_eq!(err, "alertctl: error: bad matcher format: {a=b}\n");
}

#[test]
fn fingerprint_reads_json_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("alerts.jsonl");
    std::fs::write(
        &path,
        "{\"alertname\":\"Test\",\"severity\":\"page\"}\n\n{\"b\":\"\",\"a\":\"x\"}\n",
    )
    .expect("write alerts");
    let path = path.to_str().expect("UTF-8 path");
    assert_eq!(
        ok(&["fingerprint", "--alerts", path]),
        format!(
            "823de09697ca9348\n{}\n",
            fingerprint_of(&[("a", "x"), ("b", "")])
        )
    );
    assert_eq!(
        ok(&["fingerprint", "--strip-empty", "--alerts", path]),
        format!("823de09697ca9348\n{}\n", fingerprint_of(&[("a", "x")]))
    );

    // Standard input, and a bad line named by its number.
    let out = alertctl(&["fingerprint", "--alerts", "-"], "{\"a\":\"1\"}\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", fingerprint_of(&[("a", "1")]))
    );
    let (code, err) = fails(
        &["fingerprint", "--alerts", "-"],
        "{\"a\":\"1\"}\n\n{\"a\":1}\n",
    );
    assert_eq!(code, 1);
    assert!(
        err.starts_with("alertctl: error: standard input: line 3: invalid type"),
        "{err}"
    );
    let (_, err) = fails(&["fingerprint", "--alerts", "-"], "{\"bad-name\":\"1\"}\n");
    assert!(err.contains("line 1:") && err.contains("bad-name"), "{err}");
    let (_, err) = fails(&["fingerprint", "--alerts", "-", "a=1"], "");
    assert_eq!(
        err,
        "alertctl: error: label arguments cannot be combined with --alerts\n"
    );
}

#[test]
fn matchers_parse_prints_one_per_line_in_input_order() {
    assert_eq!(
        ok(&[
            "matchers",
            "parse",
            r#"{foo = "bar", dings !~ "b(u|a)ms", }"#
        ]),
        "foo=\"bar\"\ndings!~\"b(u|a)ms\"\n"
    );
    assert_eq!(ok(&["matchers", "parse", "{}"]), "");
    assert_eq!(
        ok(&["matchers", "parse", "--", "foo==bar"]),
        "foo=\"=bar\"\n"
    );
    assert_eq!(
        ok(&[
            "matchers",
            "parse",
            "--parser",
            "utf8",
            r#"{"service name"=~"db|cache"}"#
        ]),
        "service name=~\"db|cache\"\n"
    );
    assert_eq!(
        ok(&["matchers", "parse", "--parser", "fallback", "foo=bar\\n"]),
        "foo=\"bar\\n\"\n"
    );
}

#[test]
fn matchers_parse_reports_the_parsers_error() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["matchers", "parse", "--parser", "utf8", "{foo=bar"],
            "alertctl: error: 0:8: end of input: expected close brace\n",
        ),
        (
            &["matchers", "parse", r#"job="value"#],
            "alertctl: error: matcher value contains unescaped double quote: \"value\n",
        ),
        (
            &["matchers", "parse", "--parser", "fallback", r#"foo=~"(a""#],
            "alertctl: error: error parsing regexp: missing closing ): `^(?:(a)$`\n",
        ),
        (
            &["matchers", "parse", "--parser", "utf8", r#"foo=~"(a""#],
            "alertctl: error: failed to create matcher: error parsing regexp: missing closing ): `^(?:(a)$`\n",
        ),
    ];
    for (args, want) in cases {
        let (code, err) = fails(args, "");
        assert_eq!((code, err.as_str()), (1, *want), "{args:?}");
    }
    // An unknown grammar is a usage error: status 1, as kingpin's.
    let (code, err) = fails(&["matchers", "parse", "--parser", "pcre", "a=b"], "");
    assert_eq!(code, 1);
    assert!(
        err.starts_with("alertctl: error: invalid value 'pcre'"),
        "{err}"
    );
}

/// `alertctl matchers parse` (classic) prints what Alertmanager 0.25 prints for the same
/// `matchers:` entry of a route (which it shows sorted).
#[test]
fn matchers_parse_agrees_with_real_amtool() {
    let inputs = [
        r#"{foo="bar", baz!~"quux.*"}"#,
        "foo=bar,dings!=bums",
        r#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#,
        "tricky=~~~",
        r#"trickier==\\=\=\""#,
        r"{foo=bar\n}",
        r#"foo="a\qb",a:b=c"#,
        "{foo=bar}}",
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let mut yaml = String::from("route:\n  receiver: root\n  routes:\n");
    let mut receivers = String::from("receivers:\n- name: root\n");
    for (i, input) in inputs.iter().enumerate() {
        let quoted = serde_json::to_string(input).expect("JSON string");
        yaml.push_str(&format!(
            "  - receiver: r{i}\n    matchers:\n    - {quoted}\n"
        ));
        receivers.push_str(&format!("- name: r{i}\n"));
    }
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(&config, yaml + &receivers).expect("write config");
    let shown = alert_testkit::amtool([
        "config".to_owned(),
        "routes".to_owned(),
        "show".to_owned(),
        format!("--config.file={}", config.display()),
    ]);
    assert!(shown.success(), "{}", shown.stderr);
    for (i, input) in inputs.iter().enumerate() {
        let theirs = shown
            .stdout
            .lines()
            .find_map(|line| {
                let (node, receiver) = line.split_once("── ")?.1.rsplit_once("  receiver: ")?;
                (receiver == format!("r{i}")).then(|| node.to_owned())
            })
            .expect("route shown");
        // Alertmanager shows a route's matchers sorted; read our lines back and sort.
        let mut ours: alert_core::Matchers = ok(&["matchers", "parse", "--", input])
            .lines()
            .map(|line| {
                line.parse::<alert_core::Matcher>()
                    .expect("our line reads back")
            })
            .collect();
        ours.sort();
        assert_eq!(ours.to_string(), theirs, "input {input:?}");
    }
}
