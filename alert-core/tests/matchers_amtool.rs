//! Differential tests against the REAL Alertmanager 0.25 (`amtool`, Debian 0.25.0).
//!
//! * Classic matchers: each input goes into a route's `matchers:` list of a temporary
//!   `alertmanager.yml` (as a YAML double-quoted string). `amtool check-config` over one
//!   file per input says which inputs 0.25 rejects and with what message; one `amtool
//!   config routes show` over a config holding every accepted input prints each route's
//!   `Matchers.String()`. Ours must give the same, for the whole shared table and for
//!   generated inputs.
//! * Regexes: a `match_re` route per pattern — accepted or rejected with the same message —
//!   and `amtool config routes test` with one `continue: true` route per (pattern, value)
//!   pair, so one run checks hundreds of matches.
//!
//! Runs of `amtool` are batched (many files per `check-config`, many routes per config)
//! to keep this quick. Without `amtool` the tests fail, saying how to install it.

// Only the inputs are used here; the expectations are `matchers_table.rs`'s.
#[allow(dead_code)]
mod matchers_cases;

// The generators `alert_core::strategies` exports with feature `proptest-strategies`.
#[allow(dead_code)]
// The library's public strategies, compiled into this test crate.
#[allow(unreachable_pub)]
#[path = "../src/strategies.rs"]
mod strategies;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use alert_core::{MatchType, Matcher, ParserMode, parse_matchers};
use alert_testkit::amtool;
use proptest::prelude::*;
use strategies::{fast_path_pattern, fast_path_value};

/// A directory under the system temp dir, removed when dropped.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "alert-core-matchers-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch { dir }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).expect("write config");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A YAML double-quoted scalar (JSON escaping, and every character YAML treats as a line
/// break or refuses raw escaped as well).
fn yaml_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20
                || ('\u{7F}'..='\u{9F}').contains(&c)
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}') =>
            {
                write!(out, "\\u{:04x}", c as u32).expect("write to string");
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A config whose routes each carry one extra block (`matchers:` / `match_re:` lines).
fn config_with_routes<'a>(
    routes: impl IntoIterator<Item = (String, &'a str)>,
    cont: bool,
) -> String {
    let mut yaml = String::from("route:\n  receiver: root\n  routes:\n");
    let mut receivers = String::from("receivers:\n- name: root\n");
    for (i, (block, receiver)) in routes.into_iter().enumerate() {
        let _ = i;
        writeln!(yaml, "  - receiver: {receiver}").expect("write");
        if cont {
            yaml.push_str("    continue: true\n");
        }
        yaml.push_str(&block);
        writeln!(receivers, "- name: {receiver}").expect("write");
    }
    yaml + &receivers
}

fn matchers_block(input: &str) -> String {
    format!("    matchers:\n    - {}\n", yaml_quote(input))
}

fn match_re_block(label: &str, pattern: &str) -> String {
    format!("    match_re:\n      {label}: {}\n", yaml_quote(pattern))
}

/// `amtool check-config` over one file per config: `Ok` or the error 0.25 printed.
fn check_configs(scratch: &Scratch, configs: &[String]) -> Vec<Result<(), String>> {
    if configs.is_empty() {
        return Vec::new();
    }
    let paths: Vec<PathBuf> = configs
        .iter()
        .enumerate()
        .map(|(i, c)| scratch.write(&format!("check-{i}.yml"), c))
        .collect();
    let out = amtool(
        std::iter::once("check-config".to_owned())
            .chain(paths.iter().map(|p| p.display().to_string())),
    );
    let mut results = Vec::with_capacity(paths.len());
    for (i, path) in paths.iter().enumerate() {
        let start_marker = format!("Checking '{}'  ", path.display());
        let start = out
            .stdout
            .find(&start_marker)
            .unwrap_or_else(|| panic!("no report for {}:\n{}", path.display(), out.stdout))
            + start_marker.len();
        let end = paths
            .get(i + 1)
            .and_then(|next| out.stdout.find(&format!("Checking '{}'  ", next.display())))
            .unwrap_or(out.stdout.len());
        let block = &out.stdout[start..end];
        if block.starts_with("SUCCESS") {
            results.push(Ok(()));
        } else {
            let err = block
                .strip_prefix("FAILED: ")
                .unwrap_or_else(|| panic!("unexpected report {block:?}"));
            results.push(Err(err.strip_suffix("\n\n").unwrap_or(err).to_owned()));
        }
    }
    results
}

/// `amtool config routes show`: each route's text, by receiver name.
fn routes_show(scratch: &Scratch, config: &str) -> Vec<(String, String)> {
    let path = scratch.write("show.yml", config);
    let out = amtool([
        "config",
        "routes",
        "show",
        &format!("--config.file={}", path.display()),
    ]);
    assert!(out.success(), "amtool routes show failed: {}", out.stderr);
    out.stdout
        .split('\n')
        .filter_map(|line| {
            let text = line.split_once("── ")?.1;
            let (node, receiver) = text.rsplit_once("  receiver: ")?;
            Some((receiver.to_owned(), node.to_owned()))
        })
        .collect()
}

/// The real classic parser's answer per input: sorted `Matchers.String()` or the error.
fn classic_via_amtool(inputs: &[String]) -> Vec<Result<String, String>> {
    let scratch = Scratch::new();
    let configs: Vec<String> = inputs
        .iter()
        .map(|input| config_with_routes([(matchers_block(input), "r")], false))
        .collect();
    let checked = check_configs(&scratch, &configs);
    let accepted: Vec<usize> = (0..inputs.len()).filter(|&i| checked[i].is_ok()).collect();
    let receivers: Vec<String> = accepted.iter().map(|i| format!("r{i}")).collect();
    let shown = if accepted.is_empty() {
        Vec::new()
    } else {
        routes_show(
            &scratch,
            &config_with_routes(
                accepted
                    .iter()
                    .zip(&receivers)
                    .map(|(&i, r)| (matchers_block(&inputs[i]), r.as_str())),
                false,
            ),
        )
    };
    checked
        .into_iter()
        .enumerate()
        .map(|(i, checked)| {
            checked?;
            let receiver = format!("r{i}");
            let node = shown
                .iter()
                .find(|(r, _)| *r == receiver)
                .map(|(_, node)| node.clone())
                .unwrap_or_else(|| panic!("route {receiver} missing from routes show"));
            Ok(if node == "default-route" {
                "{}".to_owned()
            } else {
                node
            })
        })
        .collect()
}

fn classic_ours(input: &str) -> Result<String, String> {
    parse_matchers(input, ParserMode::Classic)
        .map(|mut m| {
            m.sort();
            m.to_string()
        })
        .map_err(|e| e.to_string())
}

fn assert_classic_agrees(inputs: &[String]) {
    let theirs = classic_via_amtool(inputs);
    let mut failures = Vec::new();
    for (input, theirs) in inputs.iter().zip(&theirs) {
        let ours = classic_ours(input);
        if &ours != theirs {
            failures.push(format!(
                "{input:?}:\n  amtool 0.25: {theirs:?}\n  ours:        {ours:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inputs differ from Alertmanager 0.25:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}

#[test]
fn classic_table_agrees_with_real_alertmanager() {
    let inputs: Vec<String> = matchers_cases::CASES
        .iter()
        .map(|c| c.input.to_owned())
        .collect();
    assert_classic_agrees(&inputs);
}

/// Inputs made of the pieces the classic grammar is lenient about.
fn classic_input() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("foo"),
        Just("a_b"),
        Just("a:b"),
        Just("_x9"),
        Just("1x"),
        Just("x-y"),
        Just("é"),
        Just(""),
    ];
    let op = prop_oneof![
        Just("="),
        Just("!="),
        Just("=~"),
        Just("!~"),
        Just("=="),
        Just("=!"),
        Just(" = "),
        Just(""),
    ];
    let value_char = prop_oneof![
        Just('a'),
        Just('b'),
        Just(' '),
        Just('"'),
        Just('\\'),
        Just('n'),
        Just(','),
        Just('{'),
        Just('}'),
        Just('='),
        Just('~'),
        Just('\t'),
        Just('\n'),
        Just('é'),
        Just('.'),
        Just('*'),
        Just('('),
        Just(')'),
        Just('|'),
        Just('\''),
        Just('\x0B'),
    ];
    let value =
        prop::collection::vec(value_char, 0..7).prop_map(|v| v.into_iter().collect::<String>());
    let quoted = any::<bool>();
    let matcher = (name, op, value, quoted).prop_map(|(n, o, v, q)| {
        if q {
            format!("{n}{o}\"{v}\"")
        } else {
            format!("{n}{o}{v}")
        }
    });
    let sep = prop_oneof![Just(","), Just(", "), Just(" ,"), Just(",,")];
    (
        prop::collection::vec(matcher, 0..4),
        sep,
        prop_oneof![
            Just(("", "")),
            Just(("{", "}")),
            Just(("{", "")),
            Just(("", "}")),
            Just((" {", "} "))
        ],
        any::<bool>(),
    )
        .prop_map(|(ms, sep, (open, close), trailing)| {
            let mut s = format!("{open}{}", ms.join(sep));
            if trailing {
                s.push(',');
            }
            s + close
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5, max_shrink_iters: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_classic_inputs_agree_with_real_alertmanager(inputs in prop::collection::vec(classic_input(), 150)) {
        assert_classic_agrees(&inputs);
    }
}

/// Our verdict on a regex, and Go's (through a `match_re` route).
fn assert_regexes_agree(patterns: &[String]) {
    let scratch = Scratch::new();
    let configs: Vec<String> = patterns
        .iter()
        .map(|p| config_with_routes([(match_re_block("a", p), "r")], false))
        .collect();
    let theirs = check_configs(&scratch, &configs);
    let mut failures = Vec::new();
    for (p, theirs) in patterns.iter().zip(theirs) {
        let ours = Matcher::new(MatchType::Regexp, "a", p.as_str())
            .map(|_| ())
            .map_err(|e| e.to_string());
        if ours != theirs {
            failures.push(format!(
                "{p:?}:\n  Go 1.19: {theirs:?}\n  ours:    {ours:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} regexes differ from Go:\n{}",
        failures.len(),
        patterns.len(),
        failures.join("\n")
    );
}

/// Patterns whose acceptance or meaning differs between Go's RE2 and Rust's `regex`, and
/// ordinary routing regexes.
const REGEXES: &[&str] = &[
    ".*Down",
    "critical|page",
    "db-.*",
    "(?i)watchdog|deadmansswitch",
    r"10\.0\..*",
    r"host-\d+\.example\.com:9100",
    "High(CPU|Memory)Usage",
    "HTTP[45]xxSpike",
    "[A-M].*",
    ".+",
    "a**",
    "a*??",
    "a+*",
    "a??",
    "a{2}{3}",
    "a{2}*",
    r"\C",
    "(?<n>a)",
    "(?P<n>a)(?P<n>b)",
    "(?P<>a)",
    "(?P<a-b>x)",
    "(?P<n",
    "a)|(b",
    "a)",
    "(a",
    "[regexp",
    "a{1001}",
    "a{1000}",
    "(a{100}){11}",
    "(a{100}){10}",
    "((a{10}){10}){10}",
    "((a{10}){10}){11}",
    r"\Qa.b",
    r"\Qa.b\E+",
    r"\pX",
    r"\p{greek}",
    r"\p{Greek}",
    r"\p{Vithkuqi}",
    r"\p{Cn}",
    r"\p{LC}",
    r"\p{Any}",
    r"\pL",
    r"\PL",
    r"\p{^Greek}",
    r"\P{^Greek}",
    r"\p",
    r"\p{L",
    r"\p{}",
    r"\Z",
    r"\z",
    r"\A",
    r"\1",
    r"\8",
    r"\12",
    r"\0",
    r"\08",
    r"\777",
    "(?x)a",
    "(?)",
    "(?i)",
    "(?-)",
    "(?i-)",
    "(?i-m)",
    "(?im-sU:a)",
    "(?:)",
    "()",
    "(|)",
    "a||b",
    "[[:foo:]]",
    "[[:alpha:]]",
    "[[:^alpha:]]",
    "[[:word:]-z]",
    r"[a-\d]",
    r"[\d-z]",
    r"\xZZ",
    r"\x{110000}",
    r"\x{10FFFF}",
    r"\x{D800}",
    r"\x{}",
    r"\x{41",
    r"\x4",
    "*",
    "+a",
    "?",
    "{",
    "a{",
    "a{,5}",
    "a{1,2",
    "a{01}",
    "a{2,1}",
    "a{100000000000}",
    "x{2}{3}",
    r"\é",
    r"\_",
    r"\<",
    r"\>",
    r"\b",
    r"\B",
    "[z-a]",
    "[a-]",
    "[]a]",
    "[^]a]",
    "[]",
    "[^]",
    "[a",
    r"[\Q]",
    "[a&&b]",
    "[[a]]",
    "[--z]",
    "^*",
    "$+",
    r"\b*",
    "(?i)K",
    r"(?s).",
    "(?m)^a$",
    "(?U)a+",
    "a|*",
    "(*)",
    "(?i)*",
    "a(?i)*",
    "a*(?i)*",
    r"\d\D\w\W\s\S",
    r"[\p{Lu}\d]",
    r"\pN{2}",
    "a{2,}",
    "a{0}",
    "a{0,0}",
    "é+",
    "🙂{2}",
    r"\t\n\v\f\r\a",
    r"\e",
    r"\cA",
    r"\u0041",
    r"\N{LATIN}",
    r"\h",
    r"\R",
    r"\X",
];

#[test]
fn regex_acceptance_and_errors_agree_with_go() {
    let patterns: Vec<String> = REGEXES.iter().map(|p| p.to_string()).collect();
    assert_regexes_agree(&patterns);
}

fn regex_pattern() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("a"),
        Just("b"),
        Just("."),
        Just("*"),
        Just("+"),
        Just("?"),
        Just("|"),
        Just("("),
        Just(")"),
        Just("["),
        Just("]"),
        Just("{"),
        Just("}"),
        Just("^"),
        Just("$"),
        Just("\\"),
        Just("-"),
        Just(","),
        Just("0"),
        Just("1"),
        Just("2"),
        Just("d"),
        Just("w"),
        Just("s"),
        Just("p"),
        Just("P"),
        Just("L"),
        Just("Q"),
        Just("E"),
        Just("x"),
        Just("z"),
        Just("i"),
        Just(":"),
        Just("<"),
        Just(">"),
        Just("="),
        Just("!"),
        Just("é"),
        Just("(?"),
        Just("[:"),
        Just(":]"),
        Just("{2}"),
        Just("{1,3}"),
        Just("\\d"),
        Just("\\p{Greek}"),
        Just("K"),
    ];
    prop::collection::vec(piece, 1..9).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, max_shrink_iters: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_regexes_agree_with_go(patterns in prop::collection::vec(regex_pattern(), 200)) {
        assert_regexes_agree(&patterns);
    }
}

/// A `matchers:` block with one `=~` matcher, its value quoted in the classic grammar.
///
/// (Not `match_re`: 0.25 keeps a `match_re` pattern in its anchored form and anchors it
/// again when it builds the route's matcher, so `a)|(b` means something else there.)
fn regex_matcher_block(label: &str, pattern: &str) -> String {
    let quoted = pattern.replace('\\', "\\\\").replace('"', "\\\"");
    matchers_block(&format!("{label}=~\"{quoted}\""))
}

/// Runs `amtool config routes test` with one `continue: true` route per (pattern, value)
/// pair, each on its own label, and returns which pairs Go matched.
fn go_matches(pairs: &[(String, String)]) -> Vec<bool> {
    let scratch = Scratch::new();
    let receivers: Vec<String> = (0..pairs.len()).map(|i| format!("r{i}")).collect();
    let config = config_with_routes(
        pairs
            .iter()
            .zip(&receivers)
            .enumerate()
            .map(|(i, ((p, _), r))| (regex_matcher_block(&format!("l{i}"), p), r.as_str())),
        true,
    );
    let path: &Path = &scratch.write("test.yml", &config);
    let mut args = vec![
        "config".to_owned(),
        "routes".to_owned(),
        "test".to_owned(),
        format!("--config.file={}", path.display()),
    ];
    for (i, (_, value)) in pairs.iter().enumerate() {
        let escaped = value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        args.push(format!("l{i}=\"{escaped}\""));
    }
    let out = amtool(&args);
    assert!(out.success(), "amtool routes test failed: {}", out.stderr);
    let matched: Vec<&str> = out.stdout.trim_end().split(',').collect();
    receivers
        .iter()
        .map(|r| matched.contains(&r.as_str()))
        .collect()
}

fn assert_matching_agrees(pairs: &[(String, String)]) {
    let theirs = go_matches(pairs);
    let mut failures = Vec::new();
    for ((pattern, value), theirs) in pairs.iter().zip(theirs) {
        let ours = Matcher::new(MatchType::Regexp, "l", pattern.as_str())
            .expect("pattern accepted")
            .matches(value);
        if ours != theirs {
            failures.push(format!(
                "{pattern:?} on {value:?}: Go {theirs}, ours {ours}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} matches differ from Go:\n{}",
        failures.len(),
        pairs.len(),
        failures.join("\n")
    );
}

#[test]
fn regex_matching_agrees_with_go() {
    let patterns = [
        ".*Down",
        "critical|page",
        "db-.*",
        "(?i)watchdog|deadmansswitch",
        r"10\.0\..*",
        r"host-\d+\.example\.com:9100",
        "[A-M].*",
        ".+",
        ".*",
        "",
        "prod|",
        ".*-0[0-4]",
        r"\d+",
        r"\w+",
        r"\s",
        r"(?i)\w",
        r"(?i)\W",
        r"(?i)k",
        r"(?i)s",
        r"\bfoo\b",
        r"a{,2}",
        r"\Qa.b\E",
        "(?s).+",
        "(?m)^b$",
        r"\p{Greek}+",
        r"\p{C}",
        r"[^a]",
        r"[[:^alpha:]]",
        "a)|(b",
        "x*",
        ".*foo.*",
        "(?i)é",
        r"\x{212A}",
    ];
    let values = [
        "",
        "NodeDown",
        "Node\nDown",
        "critical",
        "page",
        "pager",
        "db-",
        "db-main\n",
        "WatchDog",
        "DEADMANSSWITCH",
        "10.0.3.4",
        "10.0\n",
        "host-12.example.com:9100",
        "host-١٢.example.com:9100",
        "Alpha",
        "Zeta",
        "\n",
        "123",
        "٣",
        "é",
        "\t",
        "\x0B",
        "\u{212A}",
        "ſ",
        "K",
        "s",
        "foo bar",
        "a{,2}",
        "a.b",
        "a\nb",
        "αβγ",
        "\u{0378}",
        "\u{7}",
        "-03",
        "x-05",
        "axb",
        "bxa",
        "É",
    ];
    let pairs: Vec<(String, String)> = patterns
        .iter()
        .flat_map(|p| values.iter().map(move |v| (p.to_string(), v.to_string())))
        .collect();
    for chunk in pairs.chunks(400) {
        assert_matching_agrees(chunk);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, max_shrink_iters: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_matches_agree_with_go(pairs in prop::collection::vec((fast_path_pattern(), fast_path_value()), 300)) {
        assert_matching_agrees(&pairs);
    }
}
