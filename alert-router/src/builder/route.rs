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
//! An endpoint's **test route** ([`endpoint_test_route`]) matches
//! `alert_endpoint_test="<endpoint id>"`, sends to the endpoint's receiver, groups by
//! every label, notifies at once and does not continue.
//!
//! With a cluster ([`crate::builder::BuildOptions::cluster`]), every route of a condition
//! to an endpoint must wait at least as long as the cluster's last peer
//! ([`check_cluster_timing`]).
//!
//! In the combined configuration a tenant's condition routes sit under one route per
//! tenant ([`write_tenant_route_head`]), and are copied there from their per-tenant text
//! one level deeper ([`push_indented`]).
//!
//! [`write_route_item`] writes a route exactly as [`crate::config::Config::to_yaml`]
//! writes it as a list item, but directly into a string: the builder renders tens of
//! thousands of condition routes, and the generic writer (which first builds a tree of
//! values) spends most of the build time on them. The two agree byte for byte; the
//! builder's tests check it.

use std::borrow::Cow;
use std::fmt::Write;

use alert_core::{AlertCondition, CONDITION_ID_LABEL, ConditionId, Duration, EndpointId};

use crate::builder::options::{
    BLACKHOLE_RECEIVER, ENDPOINT_TEST_GROUP_INTERVAL, ENDPOINT_TEST_GROUP_WAIT,
    ENDPOINT_TEST_LABEL, ENDPOINT_TEST_REPEAT_INTERVAL,
};
use crate::builder::receiver::receiver_name;
use crate::builder::tenant::TenantKey;
use crate::config::yaml::quote;
use crate::config::{GROUP_BY_ALL, Route};
use crate::error::{Error, Result};
use crate::rules::TENANT_LABEL;
use crate::validate::ClusterTiming;

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

/// The route that sends a synthetic alert carrying `alert_endpoint_test="<id>"`
/// ([`crate::builder::ENDPOINT_TEST_LABEL`]) to the endpoint's receiver and nowhere else:
/// it groups by every label, waits 0s, repeats after 1h (`group_interval` 1m) and does
/// not continue. See [`crate::builder::BuildOptions::endpoint_tests`].
///
/// ```
/// use alert_router::builder::endpoint_test_route;
///
/// let route = endpoint_test_route(&"pager".parse()?);
/// assert_eq!(route.matchers, [r#"alert_endpoint_test="pager""#]);
/// assert_eq!(route.receiver.as_deref(), Some("pager"));
/// assert!(!route.r#continue);
/// assert_eq!(route.group_wait.map(|d| d.to_string()).as_deref(), Some("0s"));
/// # Ok::<(), alert_core::Error>(())
/// ```
pub fn endpoint_test_route(endpoint: &EndpointId) -> Route {
    Route {
        receiver: Some(receiver_name(endpoint).to_owned()),
        group_by: Some(vec![GROUP_BY_ALL.to_owned()]),
        // Endpoint ids never hold `"`, `\` or a line break, so nothing needs escaping.
        matchers: vec![format!("{ENDPOINT_TEST_LABEL}=\"{endpoint}\"")],
        r#continue: false,
        group_wait: Some(ENDPOINT_TEST_GROUP_WAIT),
        group_interval: Some(ENDPOINT_TEST_GROUP_INTERVAL),
        repeat_interval: Some(ENDPOINT_TEST_REPEAT_INTERVAL),
        ..Route::default()
    }
}

/// Checks that every route of `condition` to an endpoint waits (`group_wait`: the
/// attachment's, else the condition's throttle, else `root_group_wait`, what the root
/// route passes down) at least as long as the last peer of `cluster`. Unrouted
/// conditions have no route to check.
pub(crate) fn check_cluster_timing(
    condition: &AlertCondition,
    root_group_wait: Duration,
    cluster: &ClusterTiming,
) -> Result<()> {
    if !condition.is_enabled() {
        return Ok(());
    }
    let id = &condition.id;
    for (i, attached) in condition.endpoints.iter().enumerate() {
        let (wait, path, source) =
            match (attached.throttle.group_wait, condition.throttle.group_wait) {
                (Some(wait), _) => (
                    wait,
                    format!("conditions[{id}].endpoints[{i}].group_wait"),
                    "",
                ),
                (None, Some(wait)) => (
                    wait,
                    format!("conditions[{id}].throttle.group_wait"),
                    " (from the condition's throttle)",
                ),
                (None, None) => (
                    root_group_wait,
                    format!("conditions[{id}].endpoints[{i}]"),
                    " (inherited from the root route)",
                ),
            };
        if let Some(reason) = cluster.group_wait_too_short(wait) {
            return Err(Error::GroupWaitShorterThanClusterWait {
                path,
                message: format!(
                    "route to endpoint {:?}{source}: {reason}",
                    attached.id.as_str()
                ),
            });
        }
    }
    Ok(())
}

/// The matcher of a tenant's route in the combined configuration: `tenant="<id>"`, and
/// `tenant=""` (the label is absent or empty) for [`TenantKey::Unbound`].
pub(crate) fn tenant_matcher(tenant: &TenantKey) -> String {
    // Tenant ids never hold `"`, `\` or a line break, so nothing needs escaping.
    let id = tenant.tenant().map_or("", |t| t.as_str());
    format!("{TENANT_LABEL}=\"{id}\"")
}

/// A matcher that takes exactly the alerts of these conditions:
/// `alert_condition_id=~"cpu-high|disk[.]full"`. Condition ids hold only
/// `A-Z a-z 0-9 _ . -`, of which only `.` means something in a regex; `[.]` says it
/// without a backslash (which the matcher grammar would escape once more).
pub(crate) fn conditions_matcher<'a>(ids: impl Iterator<Item = &'a ConditionId>) -> String {
    let mut out = format!("{CONDITION_ID_LABEL}=~\"");
    for (i, id) in ids.enumerate() {
        if i > 0 {
            out.push('|');
        }
        for c in id.as_str().chars() {
            match c {
                '.' => out.push_str("[.]"),
                c => out.push(c),
            }
        }
    }
    out.push('"');
    out
}

/// Writes the start of a tenant's route in the combined configuration, as an item at
/// column `indent` up to and including its `routes:` key: the tenant's condition routes
/// follow at column `indent + 2`.
///
/// It matches the tenant ([`tenant_matcher`]) and only alerts of the tenant's routed
/// conditions ([`conditions_matcher`]), so that it never matches without one of its
/// children: a route that matched with none of its children would count as a match and
/// hide the alert from the root's (the base configuration's) fallback, which the
/// tenant's own configuration would have used. It continues, as the condition routes do,
/// so later tenants' routes and the base's routes still see the alert, and its receiver
/// is [`BLACKHOLE_RECEIVER`], never the root's, should it ever end an alert's path.
pub(crate) fn write_tenant_route_head<'a>(
    tenant: &TenantKey,
    conditions: impl Iterator<Item = &'a ConditionId>,
    indent: usize,
    out: &mut String,
) {
    let head = Route {
        receiver: Some(BLACKHOLE_RECEIVER.to_owned()),
        matchers: vec![tenant_matcher(tenant), conditions_matcher(conditions)],
        r#continue: true,
        ..Route::default()
    };
    write_route_item(&head, indent, out);
    // The head has no timers, so `routes:` is its last key.
    pad(out, indent + 2);
    out.push_str("routes:\n");
}

/// Appends `text` (whole lines of YAML) with every line moved `extra` columns right. The
/// builder's route text holds only single-line scalars, so this is the same text written
/// one level deeper.
pub(crate) fn push_indented(out: &mut String, text: &str, extra: usize) {
    if extra == 0 {
        out.push_str(text);
        return;
    }
    for line in text.split_inclusive('\n') {
        pad(out, extra);
        out.push_str(line);
    }
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
    fn tenant_routes_match_the_tenant_and_only_its_conditions() {
        let ids: Vec<ConditionId> = ["cpu-high", "disk.full", "0x1F"]
            .iter()
            .map(|id| id.parse().expect("id"))
            .collect();
        assert_eq!(
            conditions_matcher(ids.iter()),
            r#"alert_condition_id=~"cpu-high|disk[.]full|0x1F""#
        );
        assert_eq!(
            tenant_matcher(&TenantKey::Tenant("(prod)".parse().expect("tenant"))),
            r#"tenant="(prod)""#
        );
        assert_eq!(tenant_matcher(&TenantKey::Unbound), r#"tenant="""#);
        // The regex takes exactly the listed ids: `.` is no wildcard, and it is anchored.
        let matchers = alert_core::parse_matchers(
            &conditions_matcher(ids.iter()),
            alert_core::ParserMode::Classic,
        )
        .expect("parses");
        let takes = |id: &str| {
            let labels =
                alert_core::LabelSet::from_pairs([("alert_condition_id", id)]).expect("labels");
            matchers.matches(&labels)
        };
        assert!(takes("disk.full") && takes("cpu-high") && takes("0x1F"));
        assert!(!takes("diskxfull") && !takes("cpu-high2") && !takes("cpu"));
    }

    #[test]
    fn the_tenant_route_head_is_the_generic_writers_text_before_the_children() {
        let tenant = TenantKey::Tenant("cluster-a".parse().expect("tenant"));
        let ids: Vec<ConditionId> = vec!["cpu".parse().expect("id")];
        let child = Route::new("pager");
        let mut head = String::new();
        write_tenant_route_head(&tenant, ids.iter(), 4, &mut head);
        let mut child_text = String::new();
        write_route_item(&child, 2, &mut child_text);
        push_indented(&mut head, &child_text, 4);
        let whole = Route {
            receiver: Some(BLACKHOLE_RECEIVER.to_owned()),
            matchers: vec![tenant_matcher(&tenant), conditions_matcher(ids.iter())],
            r#continue: true,
            routes: vec![child],
            ..Route::default()
        };
        let mut expected = String::new();
        write_route_item(&whole, 4, &mut expected);
        assert_eq!(head, expected);
    }

    #[test]
    fn test_routes_agree_with_the_generic_writer() {
        let route = endpoint_test_route(&"yes".parse().expect("id"));
        assert_eq!(fast_item(&route), generic_item(&route));
        assert!(fast_item(&route).contains("alert_endpoint_test=\"yes\""));
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
