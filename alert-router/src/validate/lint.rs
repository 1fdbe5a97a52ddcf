//! Lints: configurations Alertmanager accepts but that cannot do what they say.
//!
//! * a route after a sibling that takes every alert and has no `continue` is never tried;
//! * a receiver no route names never receives anything;
//! * a regex (`match_re`, `=~`) whose language is empty matches no label value, so its
//!   route never matches (or its inhibition side never applies).

use std::collections::HashSet;

use alert_core::{MatchType, ParserMode, parse_matchers};
use regex_syntax::hir::{Hir, HirKind, Look};

use super::{Warning, WarningKind};
use crate::config::{Config, Route};

/// Every lint over `config`, in configuration order.
pub(crate) fn lint(config: &Config, out: &mut Vec<Warning>) {
    let mut path = String::from("route");
    route(&config.route, &mut path, out);
    for (i, rule) in config.inhibit_rules.iter().enumerate() {
        for (side, map, lines) in [
            ("source", &rule.source_match_re, &rule.source_matchers),
            ("target", &rule.target_match_re, &rule.target_matchers),
        ] {
            let p = format!("inhibit_rules[{i}].{side}");
            regexes(map, lines, &p, out);
        }
    }
    let mut named = HashSet::new();
    config.route.walk("route", &mut |_, r| {
        if let Some(name) = r.own_receiver() {
            named.insert(name.to_owned());
        }
    });
    for (i, r) in config.receivers.iter().enumerate() {
        if !named.contains(&r.name) {
            out.push(Warning {
                path: format!("receivers[{i}]"),
                kind: WarningKind::UnusedReceiver,
                message: format!(
                    "receiver {} is not used by any route",
                    crate::config::go_quote::go_quote(&r.name)
                ),
            });
        }
    }
}

fn route(r: &Route, path: &mut String, out: &mut Vec<Warning>) {
    regexes(&r.match_re, &r.matchers, path, out);
    let mut catch_all: Option<usize> = None;
    for (i, child) in r.routes.iter().enumerate() {
        let len = path.len();
        path.push_str(&format!(".routes[{i}]"));
        if let Some(j) = catch_all {
            out.push(Warning {
                path: path.clone(),
                kind: WarningKind::UnreachableRoute,
                message: format!(
                    "route is never tried: routes[{j}] before it takes every alert and has no continue"
                ),
            });
        }
        route(child, path, out);
        path.truncate(len);
        if catch_all.is_none() && !child.r#continue && child.is_catch_all() {
            catch_all = Some(i);
        }
    }
}

/// Regexes of one route or inhibition side whose language is empty.
fn regexes(
    match_re: &std::collections::BTreeMap<String, String>,
    lines: &[String],
    path: &str,
    out: &mut Vec<Warning>,
) {
    let mut flag = |what: String, pattern: &str| {
        out.push(Warning {
            path: what,
            kind: WarningKind::RegexMatchesNothing,
            message: format!("regex {pattern:?} matches no value, so this never matches"),
        });
    };
    for (name, pattern) in match_re {
        if matches_nothing(pattern) {
            flag(format!("{path}.match_re.{name}"), pattern);
        }
    }
    for (i, line) in lines.iter().enumerate() {
        let Ok(parsed) = parse_matchers(line, ParserMode::Classic) else {
            continue;
        };
        for m in parsed.iter() {
            if m.match_type() == MatchType::Regexp && matches_nothing(m.value()) {
                flag(format!("{path}.matchers[{i}]"), m.value());
            }
        }
    }
}

/// Whether the anchored pattern `^(?:pattern)$` can match no string at all. Patterns the
/// Rust regex parser does not read (Go-only syntax) are given the benefit of the doubt.
pub(crate) fn matches_nothing(pattern: &str) -> bool {
    let anchored = format!("^(?:{pattern})$");
    match regex_syntax::Parser::new().parse(&anchored) {
        Ok(hir) => never(&hir),
        Err(_) => false,
    }
}

fn min_len(h: &Hir) -> Option<usize> {
    h.properties().minimum_len()
}

/// Whether `h` matches no string: an empty class or alternation, or a text anchor that
/// input must precede (`a^b`) or follow (`a$b`).
fn never(h: &Hir) -> bool {
    if min_len(h).is_none() {
        return true;
    }
    match h.kind() {
        HirKind::Concat(subs) => {
            if subs.iter().any(never) {
                return true;
            }
            let mut consumed = false;
            for s in subs {
                if matches!(s.kind(), HirKind::Look(Look::Start)) && consumed {
                    return true;
                }
                consumed |= min_len(s).is_some_and(|n| n > 0);
            }
            let mut follows = false;
            for s in subs.iter().rev() {
                if matches!(s.kind(), HirKind::Look(Look::End)) && follows {
                    return true;
                }
                follows |= min_len(s).is_some_and(|n| n > 0);
            }
            false
        }
        HirKind::Alternation(subs) => subs.iter().all(never),
        HirKind::Repetition(r) => r.min > 0 && never(&r.sub),
        HirKind::Capture(c) => never(&c.sub),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Receiver;

    #[test]
    fn empty_languages() {
        for p in [
            "a^b",
            "foo$bar",
            "[^\\s\\S]",
            "(a^b|c$d)",
            "x(a^b)+",
            "(?:a\\bb^)",
        ] {
            assert!(matches_nothing(p), "{p}");
        }
        for p in [
            "",
            ".*",
            "a|b",
            "(a^b)*",
            "a^?b",
            "(?m)a\\n^b",
            "x$|y",
            "[a-z]+",
            "\\C",
        ] {
            assert!(!matches_nothing(p), "{p}");
        }
    }

    #[test]
    fn unreachable_unused_and_empty_regexes() {
        let mut root = Route::new("a");
        root.routes.push(Route::with_matchers(["x=\"1\""]));
        let mut catch_all = Route::new("b");
        catch_all.r#continue = false;
        root.routes.push(catch_all);
        root.routes.push(Route::with_matchers(["y=~\"a^b\""]));
        let mut config = Config::new(root);
        for name in ["a", "b", "c"] {
            config.receivers.push(Receiver::new(name));
        }
        let mut out = Vec::new();
        lint(&config, &mut out);
        let found: Vec<(WarningKind, &str)> =
            out.iter().map(|w| (w.kind, w.path.as_str())).collect();
        assert_eq!(
            found,
            [
                (WarningKind::UnreachableRoute, "route.routes[2]"),
                (
                    WarningKind::RegexMatchesNothing,
                    "route.routes[2].matchers[0]"
                ),
                (WarningKind::UnusedReceiver, "receivers[2]"),
            ]
        );
    }

    #[test]
    fn continue_keeps_later_siblings_reachable() {
        let mut root = Route::new("a");
        root.routes.push(Route {
            r#continue: true,
            ..Route::default()
        });
        root.routes.push(Route::with_matchers(["x=\"1\""]));
        let mut out = Vec::new();
        let mut config = Config::new(root);
        config.receivers.push(Receiver::new("a"));
        lint(&config, &mut out);
        assert!(out.is_empty(), "{out:?}");
    }
}
