//! One condition as one route, and the route written as YAML without the generic writer.
//!
//! A condition's route matches `alert_condition_id="<id>"` (a `matchers` entry that the
//! classic and the UTF-8 matcher parsers read alike: the label name is a plain
//! identifier and condition ids hold only `A-Z a-z 0-9 _ . -`), sets `group_by`, has
//! `continue: true` so that later conditions and the base configuration's routes still
//! see the alert, and has one child per attached endpoint, in attachment order. A child
//! has no matchers, sends to the endpoint's receiver, carries the attachment's effective
//! throttle (initial delay → `group_wait`, throttle → `group_interval`, repeat →
//! `repeat_interval`; unset values inherit from the root) and `continue: true`, so every
//! attached endpoint is notified.
//!
//! [`write_route_item`] writes a route exactly as [`crate::config::Config::to_yaml`]
//! writes it as a list item, but directly into a string: the builder renders tens of
//! thousands of condition routes, and the generic writer (which first builds a tree of
//! values) spends most of the build time on them. The two agree byte for byte; the
//! builder's tests check it.

use std::borrow::Cow;
use std::fmt::Write;

#[cfg(test)]
use alert_core::Duration;
use alert_core::{AlertCondition, CONDITION_ID_LABEL};

use crate::builder::receiver::receiver_name;
use crate::config::Route;
use crate::config::yaml::quote;

/// The `matchers` entry of a condition's route: `alert_condition_id="<id>"`.
///
/// ```
/// use alert_router::builder::condition_matcher;
/// assert_eq!(condition_matcher(&"cpu-high".parse()?), r#"alert_condition_id="cpu-high""#);
/// # Ok::<(), alert_core::Error>(())
/// ```
pub fn condition_matcher(id: &alert_core::ConditionId) -> String {
    // Condition ids never hold `"`, `\` or a line break, so nothing needs escaping.
    format!("{CONDITION_ID_LABEL}=\"{id}\"")
}

/// The route of `condition`, or `None` when it is not routed: a disabled condition, or
/// one without attached endpoints (its alerts reach only the history webhook and the
/// base configuration's routes).
///
/// ```
/// use alert_core::AlertCondition;
/// use alert_router::builder::condition_route;
///
/// let condition: AlertCondition = serde_json::from_str(r#"{
///     "id": "cpu-high",
///     "endpoints": [{"id": "ops-slack", "group_wait": "30s"}, "pager"]
/// }"#)?;
/// let route = condition_route(&condition, &["alert_condition_id".to_owned()]).unwrap();
/// assert_eq!(route.matchers, [r#"alert_condition_id="cpu-high""#]);
/// assert!(route.r#continue);
/// let receivers: Vec<_> = route.routes.iter().map(|r| r.receiver.as_deref()).collect();
/// assert_eq!(receivers, [Some("ops-slack"), Some("pager")]);
/// assert_eq!(route.routes[0].group_wait.map(|d| d.to_string()).as_deref(), Some("30s"));
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn condition_route(condition: &AlertCondition, group_by: &[String]) -> Option<Route> {
    if !condition.is_enabled() || condition.endpoints.is_empty() {
        return None;
    }
    let routes = condition
        .endpoints
        .iter()
        .map(|attached| {
            let throttle = condition.effective_throttle(attached);
            Route {
                receiver: Some(receiver_name(&attached.id).to_owned()),
                r#continue: true,
                group_wait: throttle.group_wait,
                group_interval: throttle.group_interval,
                repeat_interval: throttle.repeat_interval,
                ..Route::default()
            }
        })
        .collect();
    Some(Route {
        group_by: Some(group_by.to_vec()),
        matchers: vec![condition_matcher(&condition.id)],
        r#continue: true,
        routes,
        ..Route::default()
    })
}

/// Writes `route` as an item of a `routes:` list whose `- ` sits at column `indent`,
/// exactly as [`crate::config::Config::to_yaml`] writes it there.
pub(crate) fn write_route_item(route: &Route, indent: usize, out: &mut String) {
    pad(out, indent);
    out.push_str("- ");
    let mut entries = Entries {
        out,
        indent: indent + 2,
        first: true,
    };
    if let Some(receiver) = &route.receiver {
        entries.key("receiver");
        entries.scalar(&scalar(receiver));
    }
    if let Some(group_by) = &route.group_by {
        entries.list("group_by", group_by.iter().map(String::as_str), true);
    }
    for (key, map) in [("match", &route.r#match), ("match_re", &route.match_re)] {
        if !map.is_empty() {
            entries.key(key);
            entries.out.push('\n');
            for (name, value) in map {
                pad(entries.out, entries.indent + 2);
                entries.out.push_str(&scalar(name));
                entries.out.push_str(": ");
                entries.out.push_str(&scalar(value));
                entries.out.push('\n');
            }
        }
    }
    for (key, list) in [
        ("matchers", &route.matchers),
        ("mute_time_intervals", &route.mute_time_intervals),
        ("active_time_intervals", &route.active_time_intervals),
    ] {
        entries.list(key, list.iter().map(String::as_str), false);
    }
    if route.r#continue {
        entries.key("continue");
        entries.scalar("true");
    }
    if !route.routes.is_empty() {
        entries.key("routes");
        entries.out.push('\n');
        let indent = entries.indent;
        for child in &route.routes {
            write_route_item(child, indent, entries.out);
        }
    }
    for (key, value) in [
        ("group_wait", route.group_wait),
        ("group_interval", route.group_interval),
        ("repeat_interval", route.repeat_interval),
    ] {
        if let Some(value) = value {
            entries.key(key);
            // Writing into `out` directly cannot fail.
            let _ = writeln!(entries.out, " {value}");
        }
    }
    if entries.first {
        out.push_str("{}\n");
    }
}

/// A string as a YAML scalar, as [`quote`] writes it, without `quote`'s work for the
/// strings the builder writes most: receiver names and matchers that start with a
/// letter and hold a digit or one of `_ . - = "`. Nothing YAML 1.1 or 1.2 resolves to
/// another type looks like that (their words are letters only, their numbers start with
/// a digit, a sign or a dot), and none of these characters is special inside a plain
/// scalar; the tests check that `quote` agrees.
fn scalar(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let starts_with_letter = bytes.first().is_some_and(u8::is_ascii_alphabetic);
    let plain_chars = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'=' | b'"'));
    let not_a_word = bytes.iter().any(|b| !b.is_ascii_alphabetic());
    if starts_with_letter && plain_chars && not_a_word {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(quote(s))
    }
}

/// Prometheus durations (`30s`, `1h30m`, `100ms`) are always plain scalars: digits then
/// unit letters is neither a YAML 1.1 nor a YAML 1.2 number (the tests check it).
#[cfg(test)]
fn duration_is_plain(value: Duration) -> bool {
    let text = value.to_string();
    quote(&text) == text
}

/// The entries of one mapping written as a list item.
struct Entries<'a> {
    out: &'a mut String,
    /// The column every key is written at.
    indent: usize,
    /// Whether no key was written yet (the first one follows the `- `).
    first: bool,
}

impl Entries<'_> {
    fn key(&mut self, key: &str) {
        if self.first {
            self.first = false;
        } else {
            pad(self.out, self.indent);
        }
        self.out.push_str(key);
        self.out.push(':');
    }

    fn scalar(&mut self, text: &str) {
        self.out.push(' ');
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// A list of strings; an empty one is written as `[]` when `keep_empty`, skipped
    /// otherwise.
    fn list<'s>(
        &mut self,
        key: &str,
        items: impl ExactSizeIterator<Item = &'s str>,
        keep_empty: bool,
    ) {
        if items.len() == 0 {
            if keep_empty {
                self.key(key);
                self.scalar("[]");
            }
            return;
        }
        self.key(key);
        self.out.push('\n');
        for item in items {
            pad(self.out, self.indent);
            self.out.push_str("- ");
            self.out.push_str(&scalar(item));
            self.out.push('\n');
        }
    }
}

fn pad(out: &mut String, n: usize) {
    const SPACES: &str = "                                ";
    match SPACES.get(..n) {
        Some(spaces) => out.push_str(spaces),
        None => out.extend(std::iter::repeat_n(' ', n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Receiver};

    /// The generic writer's rendering of `route` as the only child of the root.
    fn generic_item(route: &Route) -> String {
        let mut root = Route::new("r");
        root.routes.push(route.clone());
        let mut config = Config::new(root);
        config.receivers.push(Receiver::new("r"));
        let yaml = config.to_yaml();
        let start = yaml.find("\n  routes:\n").expect("routes") + "\n  routes:\n".len();
        let end = yaml.find("\nreceivers:\n").expect("receivers") + 1;
        yaml[start..end].to_owned()
    }

    fn fast_item(route: &Route) -> String {
        let mut out = String::new();
        write_route_item(route, 2, &mut out);
        out
    }

    #[test]
    fn agrees_with_the_generic_writer_on_every_field() {
        let mut route = Route::new("yes");
        route.group_by = Some(vec!["...".into()]);
        route.r#match.insert("a".into(), "12:30".into());
        route.r#match.insert("b".into(), "x".into());
        route.match_re.insert("c".into(), ".*".into());
        route.matchers = vec!["x=\"on\"".into(), "y!~\"1_000\"".into()];
        route.mute_time_intervals = vec!["~".into()];
        route.active_time_intervals = vec!["office".into()];
        route.r#continue = true;
        route.group_wait = Some("0s".parse().expect("duration"));
        route.group_interval = Some("1h30m".parse().expect("duration"));
        route.repeat_interval = Some("4h".parse().expect("duration"));
        let mut child = Route::default();
        child.routes.push(Route::default());
        child.group_by = Some(vec![]);
        route.routes.push(child);
        route.routes.push(Route::new("null"));
        assert_eq!(fast_item(&route), generic_item(&route));
        assert_eq!(
            fast_item(&Route::default()),
            generic_item(&Route::default())
        );
    }

    proptest::proptest! {
        #[test]
        fn scalar_agrees_with_quote(s in "[a-zA-Z0-9_.=\"~:# -]{0,12}|\\PC{0,6}") {
            proptest::prop_assert_eq!(scalar(&s), quote(&s));
        }

        #[test]
        fn durations_are_plain(ms in 0u64..=9_000_000_000_000) {
            let d = Duration::from_millis(ms).unwrap_or(Duration::ZERO);
            proptest::prop_assert!(duration_is_plain(d), "{}", d);
        }
    }

    #[test]
    fn keywords_and_numbers_are_quoted() {
        for s in [
            "yes", "on", "null", "y", "NaN", "inf", "1e3", "0x1F", "1_000", "12:30", "e5",
        ] {
            assert_eq!(scalar(s), quote(s), "{s}");
        }
        assert_eq!(
            scalar("alert_condition_id=\"yes\""),
            "alert_condition_id=\"yes\""
        );
        assert_eq!(scalar("ops-slack"), "ops-slack");
    }
}
