//! Properties of matchers: what `Display` writes, the grammars read back as the same
//! matchers; the API and config serialisations round-trip; matching follows the type.

use alert_core::silence::ApiMatcher;
use alert_core::{
    LabelSet, MatchType, Matcher, Matchers, ParserMode, parse_matcher, parse_matchers,
};
use proptest::prelude::*;

fn match_type() -> impl Strategy<Value = MatchType> {
    prop_oneof![
        Just(MatchType::Equal),
        Just(MatchType::NotEqual),
        Just(MatchType::Regexp),
        Just(MatchType::NotRegexp),
    ]
}

/// Names the classic grammar reads: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
fn classic_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_:][a-zA-Z0-9_:]{0,8}"
}

/// Values with every character the escaping rules care about.
fn value() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<char>(),
            1 => Just('"'),
            1 => Just('\\'),
            1 => Just('\n'),
            1 => Just(','),
            1 => Just('{'),
            1 => Just('}'),
            1 => Just(' '),
            1 => Just('\t'),
            1 => Just('='),
        ],
        0..12,
    )
    .prop_map(|v| v.into_iter().collect())
}

/// A matcher with a classic name; regex values are escaped text or real patterns.
fn matcher(name: impl Strategy<Value = String>) -> impl Strategy<Value = Matcher> {
    let pattern = prop_oneof![
        value().prop_map(|v| regex_syntax::escape(&v)),
        prop::sample::select(vec![
            ".*",
            ".+",
            "",
            "a|b|",
            "(?i)watchdog",
            r"\d+\.\d+",
            "[^\"]*",
            r#"She said: "Hi\"?"#,
            "(?s)a.b",
            r"\\n",
            "a{2,3}",
        ])
        .prop_map(str::to_owned),
    ];
    (name, match_type(), value(), pattern).prop_map(|(n, t, v, p)| {
        let value = if t.is_regex() { p } else { v };
        Matcher::new(t, n, value).expect("escaped text and the listed patterns compile")
    })
}

fn same(a: &Matcher, b: &Matcher) -> bool {
    a.name() == b.name() && a.match_type() == b.match_type() && a.value() == b.value()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn classic_reads_back_what_display_writes(m in matcher(classic_name())) {
        let text = m.to_string();
        let single = parse_matcher(&text, ParserMode::Classic).expect("classic reads String()");
        prop_assert!(same(&single, &m), "{text:?} read as {single}");
        let list = parse_matchers(&text, ParserMode::Classic).expect("classic reads a one-item list");
        prop_assert_eq!(list.len(), 1);
        prop_assert!(same(&list.as_slice()[0], &m));
    }

    #[test]
    fn all_grammars_read_back_matchers_display(ms in prop::collection::vec(matcher(classic_name()), 0..5)) {
        let ms = Matchers::new(ms);
        let text = ms.to_string();
        for mode in [ParserMode::Classic, ParserMode::Utf8, ParserMode::Fallback] {
            let back = parse_matchers(&text, mode).unwrap_or_else(|e| panic!("{mode} on {text:?}: {e}"));
            prop_assert_eq!(&back, &ms, "{} on {:?}", mode, text);
        }
    }

    /// The UTF-8 grammar also reads names the classic one cannot, as long as `String()`
    /// leaves them unquoted (no reserved characters).
    #[test]
    fn utf8_reads_back_utf8_names(m in matcher("[^\\s{}!=~,\\\\\"'`]{1,6}")) {
        let text = m.to_string();
        let back = parse_matcher(&text, ParserMode::Utf8).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        prop_assert!(same(&back, &m), "{text:?} read as {back}");
    }

    #[test]
    fn api_and_config_forms_round_trip(ms in prop::collection::vec(matcher(classic_name()), 1..5)) {
        for m in &ms {
            let api: ApiMatcher = serde_json::from_str(&serde_json::to_string(&ApiMatcher::from(m)).expect("writes")).expect("reads");
            prop_assert_eq!(&Matcher::try_from(api).expect("compiles"), m);
        }
        let mut sorted = Matchers::new(ms);
        sorted.sort();
        let json = serde_json::to_string(&sorted).expect("writes");
        let back: Matchers = serde_json::from_str(&json).expect("reads");
        prop_assert_eq!(back, sorted);
    }

    #[test]
    fn negations_are_complements(m in matcher(classic_name()), probe in value()) {
        let flipped = match m.match_type() {
            MatchType::Equal => MatchType::NotEqual,
            MatchType::NotEqual => MatchType::Equal,
            MatchType::Regexp => MatchType::NotRegexp,
            MatchType::NotRegexp => MatchType::Regexp,
        };
        let other = Matcher::new(flipped, m.name(), m.value()).expect("same value compiles");
        for v in [probe.as_str(), m.value(), ""] {
            prop_assert_ne!(m.matches(v), other.matches(v));
        }
        // A missing label is the empty value.
        prop_assert_eq!(m.matches_labels(&LabelSet::new()), m.matches(""));
        // Equality matchers compare whole strings.
        if m.match_type() == MatchType::Equal {
            prop_assert!(m.matches(m.value()));
        }
    }
}
