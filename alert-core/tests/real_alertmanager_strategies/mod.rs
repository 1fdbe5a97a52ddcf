//! Label sets for the real-Alertmanager tests: a proptest strategy run from a fixed
//! seed, so every run checks the same sets. Names of every valid shape; values with
//! non-ASCII text, quotes, backslashes, newlines, control characters, HTML-special
//! characters and empty strings.

use alert_core::LabelSet;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn label_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z_][a-zA-Z0-9_]{0,12}",
        1 => prop::sample::select(vec![
            "alertname", "severity", "__name__", "job", "instance", "a", "a0", "a_b", "_", "Z9",
        ])
        .prop_map(str::to_owned),
    ]
}

fn value_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range(' ', '~'),
        2 => prop::sample::select(vec![
            '"', '\\', '\n', '\t', '\r', '\0', '\u{7f}', '{', '}', '=', ',', '~', '!', '\'', '`',
            '<', '>', '&', '\u{8}', '\u{c}', '\u{2028}', '\u{2029}', '\u{fffd}', '\u{feff}', '\u{1b}',
        ]),
        2 => prop::sample::select(vec!['é', 'ß', 'ø', 'Ω', 'ж', '日', '本', '語', '🚨', '🔥', '\u{301}']),
        1 => any::<char>(),
    ]
}

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        6 => prop::collection::vec(value_char(), 1..20).prop_map(|cs| cs.into_iter().collect()),
    ]
}

fn label_set() -> impl Strategy<Value = LabelSet> {
    prop::collection::btree_map(label_name(), label_value(), 1..7).prop_map(|map| {
        LabelSet::from_pairs(map).expect("the strategy only makes valid, distinct names")
    })
}

/// `count` label sets from `seed`: the same sets on every run.
pub(crate) fn generated_sets(seed: [u8; 32], count: usize) -> Vec<LabelSet> {
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let strategy = label_set();
    (0..count)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("the strategy never rejects")
                .current()
        })
        .collect()
}
