//! The shared matcher table (`matchers_cases`) against both grammars and the fallback
//! mode, and single-matcher parsing as Alertmanager's `ParseMatcher` / `compat.Matcher`.

mod matchers_cases;

use alert_core::{MatchType, ParserMode, parse_matcher, parse_matchers};
use matchers_cases::{CASES, Expect};

/// What a parser made of an input: sorted `Matchers.String()`, or the error text.
fn outcome(input: &str, mode: ParserMode) -> Result<String, String> {
    parse_matchers(input, mode)
        .map(|mut m| {
            m.sort();
            m.to_string()
        })
        .map_err(|e| e.to_string())
}

fn agrees(expect: Expect, got: &Result<String, String>) -> bool {
    match (expect, got) {
        (Expect::Ok(want), Ok(got)) => want == got,
        (Expect::Err(want), Err(got)) => want == got,
        (Expect::Fails, Err(_)) => true,
        _ => false,
    }
}

fn check_mode(mode: ParserMode, expect_of: impl Fn(&matchers_cases::Case) -> Expect) {
    let mut failures = Vec::new();
    for case in CASES {
        let got = outcome(case.input, mode);
        let expect = expect_of(case);
        if !agrees(expect, &got) {
            failures.push(format!("{:?}: want {expect:?}, got {got:?}", case.input));
        }
    }
    assert!(
        failures.is_empty(),
        "{mode} grammar disagrees on {} of {} cases:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_is_large_and_covers_both_outcomes() {
    assert!(CASES.len() >= 100, "only {} cases", CASES.len());
    let classic_errors = CASES
        .iter()
        .filter(|c| matches!(c.classic, Expect::Err(_)))
        .count();
    let utf8_errors = CASES
        .iter()
        .filter(|c| !matches!(c.utf8, Expect::Ok(_)))
        .count();
    assert!(classic_errors >= 25 && utf8_errors >= 25);
}

#[test]
fn classic_grammar_gives_what_alertmanager_0_25_gives() {
    check_mode(ParserMode::Classic, |c| c.classic);
}

#[test]
fn utf8_grammar_gives_what_upstream_tables_state() {
    check_mode(ParserMode::Utf8, |c| c.utf8);
}

#[test]
fn fallback_takes_classic_then_utf8_then_the_classic_error() {
    check_mode(ParserMode::Fallback, |c| match (c.classic, c.utf8) {
        (Expect::Ok(classic), _) => Expect::Ok(classic),
        (_, Expect::Ok(utf8)) => Expect::Ok(utf8),
        (classic, _) => classic,
    });
}

#[test]
fn matchers_keep_input_order() {
    for mode in [ParserMode::Classic, ParserMode::Utf8, ParserMode::Fallback] {
        let ms = parse_matchers(r#"{z="1", a!="2", m=~"3"}"#, mode).expect("parses");
        let names: Vec<&str> = ms.iter().map(|m| m.name()).collect();
        assert_eq!(names, ["z", "a", "m"], "{mode}");
    }
}

/// One `parse_matcher` input: the matcher's `String()` or the error, per mode.
struct Single {
    input: &'static str,
    classic: Result<&'static str, &'static str>,
    utf8: Result<&'static str, &'static str>,
    fallback: Result<&'static str, &'static str>,
}

const SINGLE: &[Single] = &[
    Single {
        input: "foo=bar",
        classic: Ok(r#"foo="bar""#),
        utf8: Ok(r#"foo="bar""#),
        fallback: Ok(r#"foo="bar""#),
    },
    // 0.25's ParseMatcher reads no list: the comma is part of the value.
    Single {
        input: "a=b,c=d",
        classic: Ok(r#"a="b,c=d""#),
        utf8: Err("expected 1 matcher, found 2"),
        fallback: Ok(r#"a="b,c=d""#),
    },
    Single {
        input: "foo=bar,",
        classic: Ok(r#"foo="bar,""#),
        utf8: Ok(r#"foo="bar""#),
        fallback: Ok(r#"foo="bar,""#),
    },
    Single {
        input: "{foo=bar}",
        classic: Err("bad matcher format: {foo=bar}"),
        utf8: Err("unexpected open or close brace: {foo=bar}"),
        fallback: Err("unexpected open or close brace: {foo=bar}"),
    },
    Single {
        input: "",
        classic: Err("bad matcher format: "),
        utf8: Err("no matchers"),
        fallback: Err("bad matcher format: "),
    },
    Single {
        input: r#""foo"="bar""#,
        classic: Err(r#"bad matcher format: "foo"="bar""#),
        utf8: Ok(r#"foo="bar""#),
        fallback: Ok(r#"foo="bar""#),
    },
    // matcher/parse/parse_test.go TestMatcher.
    Single {
        input: r#"foo="\xf0\x9f""#,
        classic: Ok(r#"foo="\\xf0\\x9f""#),
        utf8: Err(r#"4:14: "\xf0\x9f": invalid input"#),
        fallback: Ok(r#"foo="\\xf0\\x9f""#),
    },
    Single {
        input: r#""foo"="\U0001f642""#,
        classic: Err(r#"bad matcher format: "foo"="\U0001f642""#),
        utf8: Ok(r#"foo="🙂""#),
        fallback: Ok(r#"foo="🙂""#),
    },
    Single {
        input: "foo!~[a-z]+",
        classic: Ok(r#"foo!~"[a-z]+""#),
        utf8: Ok(r#"foo!~"[a-z]+""#),
        fallback: Ok(r#"foo!~"[a-z]+""#),
    },
    Single {
        input: r#"job=~"(unclosed""#,
        classic: Err("error parsing regexp: missing closing ): `^(?:(unclosed)$`"),
        utf8: Err(
            "failed to create matcher: error parsing regexp: missing closing ): `^(?:(unclosed)$`",
        ),
        fallback: Err("error parsing regexp: missing closing ): `^(?:(unclosed)$`"),
    },
];

#[test]
fn single_matcher_parsing_per_mode() {
    for case in SINGLE {
        for (mode, want) in [
            (ParserMode::Classic, case.classic),
            (ParserMode::Utf8, case.utf8),
            (ParserMode::Fallback, case.fallback),
        ] {
            let got = parse_matcher(case.input, mode)
                .map(|m| m.to_string())
                .map_err(|e| e.to_string());
            let want = want.map(str::to_owned).map_err(str::to_owned);
            assert_eq!(got, want, "{mode} on {:?}", case.input);
        }
    }
}

#[test]
fn errors_are_typed() {
    use alert_core::Error;
    let classic = |s| parse_matchers(s, ParserMode::Classic).unwrap_err();
    assert!(matches!(classic("1a=b"), Error::BadMatcherFormat { .. }));
    assert!(matches!(
        classic(r#"a="b"#),
        Error::UnescapedDoubleQuote { .. }
    ));
    assert!(matches!(classic("a=~("), Error::InvalidRegex { .. }));
    let utf8 = parse_matchers("{a=b", ParserMode::Utf8).unwrap_err();
    assert_eq!(
        utf8,
        Error::MatcherSyntax {
            position: "0:4: ".into(),
            message: "end of input: expected close brace".into()
        }
    );
    assert_eq!(
        parse_matcher("a=b,c=d", ParserMode::Utf8).unwrap_err(),
        Error::ExpectedOneMatcher { found: 2 }
    );
    assert_eq!(
        parse_matcher("{}", ParserMode::Classic)
            .unwrap_err()
            .to_string(),
        "bad matcher format: {}"
    );
    assert_eq!(
        parse_matcher("a=~x", ParserMode::Classic)
            .expect("valid")
            .match_type(),
        MatchType::Regexp
    );
}
