//! The shape every configuration of a builder shares: the base configuration, the
//! default webhooks (history, emitter) and the blackhole, with places for the endpoint test routes, the
//! condition routes (in the combined configuration: the tenants' routes) and the
//! endpoint receivers.
//!
//! The root route's children are, in order:
//!
//! | base | default webhooks | children of the root |
//! |------|------------------|----------------------|
//! | no   | none             | test routes, condition routes |
//! | no   | some             | default routes, test routes, condition routes |
//! | yes  | none             | test routes, condition routes, the base's routes |
//! | yes  | some             | default routes, test routes, then one route without matchers holding the condition routes and the base's routes |
//!
//! (Default routes: history, then emitter, each when configured; test routes only with
//! [`BuildOptions::endpoint_tests`].) The last row keeps the base configuration's
//! meaning: in Alertmanager an alert goes to the root's receiver only when no child
//! route matched, and a default route matches everything. Put beside the
//! base's routes, it would swallow the fallback to the base's root receiver; one level
//! down, under a route that inherits everything from the root, the fallback happens there
//! exactly as before. Without a default route no such wrapper is needed, and without a
//! base there is no fallback to keep (the root receiver is the blackhole). Test routes
//! match only alerts carrying the test label and end their path, so they take nothing
//! from the routes after them.
//!
//! Receivers: the blackhole (without a base; in the combined configuration always, as
//! the tenants' routes name it), the history and emitter receivers, the endpoint receivers sorted by
//! endpoint id, then the base's receivers.
//!
//! The layout is rendered once per combination of empty and filled route places, with a
//! placeholder route in each filled place and a placeholder receiver; the text around
//! them is kept, and a configuration's YAML is that text with its routes and receivers
//! written in between. A list item's text does not depend on its neighbours, so this is
//! byte for byte what [`Config::to_yaml`] writes for the whole configuration (the
//! builder's tests check it).

use std::collections::HashMap;

use alert_core::Duration;

use crate::builder::options::{
    BLACKHOLE_RECEIVER, BuildOptions, DEFAULT_GROUP_WAIT, DefaultWebhook, EMITTER_RECEIVER,
    HISTORY_RECEIVER, RESERVED_RECEIVERS,
};
use crate::config::yaml::quote;
use crate::config::{Config, Receiver, Route, WebhookConfig};
use crate::error::{Error, Result};
use crate::validate::alertmanager::check;

/// The placeholder receiver name of the route slot: no real name renders like it.
const ROUTE_SLOT: &str = "\u{1}alert-router:condition-routes\u{1}";
/// The placeholder receiver name of the test route slot.
const TEST_SLOT: &str = "\u{1}alert-router:test-routes\u{1}";
/// The placeholder name of the receiver slot.
const RECEIVER_SLOT: &str = "\u{1}alert-router:endpoint-receivers\u{1}";

/// Which configuration a layout is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// One tenant's: condition routes in the route slot.
    Tenant,
    /// The combined one: tenants' routes in the route slot, and the blackhole receiver
    /// always (the tenants' routes name it).
    Combined,
}

/// Where the condition routes go in the route tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteSlot {
    /// Among the root's children, at this index.
    Root(usize),
    /// First among the children of the root's child at this index (the wrapper).
    Nested(usize),
}

/// The text of the layout around its slots, for one combination of filled route slots:
/// `pieces[0]`, the first filled slot, `pieces[1]`, ..., the receiver slot, the last
/// piece. The slots are in the order test routes, condition routes, receivers.
#[derive(Clone, Default)]
struct Template {
    pieces: Vec<String>,
}

/// The shared shape of every configuration (see the module documentation). Not
/// `Debug`: its text holds the base configuration's secrets.
#[derive(Clone)]
pub(crate) struct Layout {
    /// The configuration with no routes and receivers of its own.
    empty: Config,
    /// `empty` as YAML, and its sync id.
    empty_yaml: String,
    empty_sync_id: String,
    route_slot: RouteSlot,
    /// Where the test routes go among the root's children.
    test_slot: usize,
    receiver_slot: usize,
    /// The column of the `- ` of a route in the route slot.
    route_indent: usize,
    /// The column of the `- ` of a test route.
    test_indent: usize,
    /// The text, by `[tests filled][routes filled]`.
    templates: [[Template; 2]; 2],
    /// Receiver names of the base configuration, with their index.
    base_receivers: HashMap<String, usize>,
    /// The `global` section of the base, for checking endpoint receivers.
    global: Option<crate::config::GlobalConfig>,
    /// The `group_wait` the root passes down: the base's, else Alertmanager's 30s.
    root_group_wait: Duration,
}

impl Layout {
    /// Checks the base configuration and the options, and lays them out.
    pub(crate) fn new(options: &BuildOptions, shape: Shape) -> Result<Layout> {
        let mut config = match &options.base {
            Some(base) => {
                check(base)?;
                base.clone()
            }
            None => Config::new(Route::new(BLACKHOLE_RECEIVER)),
        };
        let base_receivers: HashMap<String, usize> = match &options.base {
            Some(base) => base
                .receivers
                .iter()
                .enumerate()
                .map(|(i, r)| (r.name.clone(), i))
                .collect(),
            None => HashMap::new(),
        };
        let mut own = Vec::new();
        if options.base.is_none() || shape == Shape::Combined {
            own.push(Receiver::new(BLACKHOLE_RECEIVER));
        }
        check_reserved_names(options.base.as_ref())?;
        let mut default_routes = Vec::new();
        for (option, name, webhook) in [
            ("history", HISTORY_RECEIVER, &options.history),
            ("emitter", EMITTER_RECEIVER, &options.emitter),
        ] {
            let Some(webhook) = webhook else { continue };
            if let Some(cluster) = &options.cluster
                && let Some(reason) = cluster.group_wait_too_short(webhook.group_wait)
            {
                return Err(Error::GroupWaitShorterThanClusterWait {
                    path: format!("{option}.group_wait"),
                    message: format!("route to the {option} webhook: {reason}"),
                });
            }
            let (route, receiver) = default_parts(name, webhook);
            check_default(option, &route, &receiver)?;
            own.push(receiver);
            default_routes.push(route);
        }
        check_group_by(&options.condition_group_by)?;

        let test_slot = default_routes.len();
        let base_routes = std::mem::take(&mut config.route.routes);
        let has_defaults = !default_routes.is_empty();
        config.route.routes = default_routes;
        let route_slot = match (options.base.is_some(), has_defaults) {
            (false, _) => RouteSlot::Root(test_slot),
            (true, false) => {
                config.route.routes = base_routes;
                RouteSlot::Root(0)
            }
            (true, true) => {
                config.route.routes.push(Route {
                    routes: base_routes,
                    ..Route::default()
                });
                RouteSlot::Nested(test_slot)
            }
        };
        let receiver_slot = own.len();
        own.append(&mut config.receivers);
        config.receivers = own;
        check(&config)?;

        let mut layout = Layout {
            empty_yaml: String::new(),
            empty_sync_id: String::new(),
            route_slot,
            test_slot,
            receiver_slot,
            route_indent: 0,
            test_indent: 0,
            templates: Default::default(),
            base_receivers,
            global: config.global.clone(),
            root_group_wait: config.route.group_wait.unwrap_or(DEFAULT_GROUP_WAIT),
            empty: config,
        };
        let route_line = format!("- receiver: {}\n", quote(ROUTE_SLOT));
        let test_line = format!("- receiver: {}\n", quote(TEST_SLOT));
        let receiver_line = format!("- name: {}\n", quote(RECEIVER_SLOT));
        for tests in [false, true] {
            for routes in [false, true] {
                let text = layout
                    .config(
                        if tests {
                            vec![Route::new(TEST_SLOT)]
                        } else {
                            Vec::new()
                        },
                        if routes {
                            vec![Route::new(ROUTE_SLOT)]
                        } else {
                            Vec::new()
                        },
                        vec![Receiver::new(RECEIVER_SLOT)],
                    )
                    .to_yaml();
                let mut pieces = Vec::with_capacity(4);
                let mut rest = text.as_str();
                if tests {
                    let (before, after, indent) = split_at_line(rest, &test_line)?;
                    pieces.push(before.to_owned());
                    rest = after;
                    layout.test_indent = indent;
                }
                if routes {
                    let (before, after, indent) = split_at_line(rest, &route_line)?;
                    pieces.push(before.to_owned());
                    rest = after;
                    layout.route_indent = indent;
                }
                let (before, after, _) = split_at_line(rest, &receiver_line)?;
                pieces.push(before.to_owned());
                pieces.push(after.to_owned());
                layout.templates[usize::from(tests)][usize::from(routes)] = Template { pieces };
            }
        }
        layout.empty_yaml = layout.empty.to_yaml();
        layout.empty_sync_id = crate::builder::tenant::sync_id(&layout.empty_yaml);
        Ok(layout)
    }

    /// The configuration with no routes and receivers of its own, its YAML and sync id.
    pub(crate) fn empty(&self) -> (&Config, &str, &str) {
        (&self.empty, &self.empty_yaml, &self.empty_sync_id)
    }

    /// The column the `- ` of a route in the route slot is written at.
    pub(crate) fn route_indent(&self) -> usize {
        self.route_indent
    }

    /// The column the `- ` of a test route is written at.
    pub(crate) fn test_indent(&self) -> usize {
        self.test_indent
    }

    /// The `group_wait` the root route passes down to routes that set none.
    pub(crate) fn root_group_wait(&self) -> Duration {
        self.root_group_wait
    }

    /// The index in the base configuration's receivers of a receiver called `name`.
    pub(crate) fn base_receiver(&self, name: &str) -> Option<usize> {
        self.base_receivers.get(name).copied()
    }

    /// The `global` section every configuration has.
    pub(crate) fn global(&self) -> Option<&crate::config::GlobalConfig> {
        self.global.as_ref()
    }

    /// How many routes below the root and how many receivers every configuration has
    /// besides its own.
    pub(crate) fn fixed_counts(&self) -> (usize, usize) {
        (self.empty.route.count() - 1, self.empty.receivers.len())
    }

    /// A configuration's YAML: the layout with `tests` (rendered test routes), `routes`
    /// (rendered routes of the route slot) and `receivers` (rendered endpoint receivers)
    /// in their places.
    pub(crate) fn render(&self, tests: &[&str], routes: &[&str], receivers: &[&str]) -> String {
        if tests.is_empty() && routes.is_empty() && receivers.is_empty() {
            return self.empty_yaml.clone();
        }
        let template =
            &self.templates[usize::from(!tests.is_empty())][usize::from(!routes.is_empty())];
        let mut slots: Vec<&[&str]> = Vec::with_capacity(3);
        if !tests.is_empty() {
            slots.push(tests);
        }
        if !routes.is_empty() {
            slots.push(routes);
        }
        slots.push(receivers);
        let len = template.pieces.iter().map(String::len).sum::<usize>()
            + slots
                .iter()
                .flat_map(|slot| slot.iter())
                .map(|item| item.len())
                .sum::<usize>();
        let mut out = String::with_capacity(len);
        for (piece, slot) in template.pieces.iter().zip(slots) {
            out.push_str(piece);
            slot.iter().for_each(|item| out.push_str(item));
        }
        if let Some(last) = template.pieces.last() {
            out.push_str(last);
        }
        out
    }

    /// A configuration as a value: the empty configuration with `tests`, `routes` and
    /// `receivers` in their places.
    pub(crate) fn config(
        &self,
        tests: Vec<Route>,
        routes: Vec<Route>,
        receivers: Vec<Receiver>,
    ) -> Config {
        let mut config = self.empty.clone();
        if !routes.is_empty() {
            insert_routes(&mut config, self.route_slot, routes);
        }
        if !tests.is_empty() {
            // Before the condition routes when they share the root's list.
            insert_routes(&mut config, RouteSlot::Root(self.test_slot), tests);
        }
        let at = self.receiver_slot.min(config.receivers.len());
        config.receivers.splice(at..at, receivers);
        config
    }
}

/// A default webhook's route and receiver.
fn default_parts(name: &str, webhook: &DefaultWebhook) -> (Route, Receiver) {
    let route = Route {
        receiver: Some(name.to_owned()),
        group_by: Some(webhook.group_by.clone()),
        r#continue: true,
        group_wait: Some(webhook.group_wait),
        group_interval: Some(webhook.group_interval),
        repeat_interval: Some(webhook.repeat_interval),
        ..Route::default()
    };
    let mut receiver = Receiver::new(name);
    receiver.webhook_configs.push(WebhookConfig {
        url: Some(webhook.url.clone()),
        max_alerts: (webhook.max_alerts != 0).then_some(webhook.max_alerts),
        ..WebhookConfig::default()
    });
    (route, receiver)
}

/// Checks a default webhook's route and receiver on their own, so that a fault is
/// reported against the option (`history`, `emitter`) rather than the base
/// configuration.
fn check_default(option: &str, route: &Route, receiver: &Receiver) -> Result<()> {
    let mut probe = Config::new(Route::new(receiver.name.clone()));
    probe.route.routes.push(route.clone());
    probe.receivers.push(receiver.clone());
    check(&probe).map_err(|e| Error::InvalidOption {
        path: option.to_owned(),
        message: e.to_string(),
    })
}

/// Refuses a base configuration that defines a receiver the builder adds itself
/// ([`RESERVED_RECEIVERS`]): it would replace the gateway's own receivers. (A base
/// route naming one without defining it is already refused by the base's own check as
/// an undefined receiver.)
fn check_reserved_names(base: Option<&Config>) -> Result<()> {
    let Some(base) = base else { return Ok(()) };
    for (i, receiver) in base.receivers.iter().enumerate() {
        if RESERVED_RECEIVERS.contains(&receiver.name.as_str()) {
            return Err(Error::NameCollision {
                path: format!("base.receivers[{i}]"),
                message: format!(
                    "receiver {:?} is reserved for the gateway's own receivers ({}); \
                     rename it",
                    receiver.name,
                    RESERVED_RECEIVERS.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// Checks `condition_group_by` as Alertmanager checks a route's `group_by`.
fn check_group_by(group_by: &[String]) -> Result<()> {
    if group_by.is_empty() {
        return Err(Error::InvalidOption {
            path: "condition_group_by".to_owned(),
            message: "at least one label name, or \"...\"".to_owned(),
        });
    }
    let mut probe = Config::new(Route::new("probe"));
    probe.route.routes.push(Route {
        group_by: Some(group_by.to_vec()),
        ..Route::default()
    });
    probe.receivers.push(Receiver::new("probe"));
    check(&probe).map_err(|e| Error::InvalidOption {
        path: "condition_group_by".to_owned(),
        message: e.alertmanager_message().into_owned(),
    })
}

fn insert_routes(config: &mut Config, slot: RouteSlot, routes: Vec<Route>) {
    let (list, at) = match slot {
        RouteSlot::Root(at) => (&mut config.route.routes, at),
        RouteSlot::Nested(wrapper) => match config.route.routes.get_mut(wrapper) {
            Some(w) => (&mut w.routes, 0),
            // The wrapper is put there by `Layout::new`; without it, add at the end.
            None => (&mut config.route.routes, usize::MAX),
        },
    };
    let at = at.min(list.len());
    list.splice(at..at, routes);
}

/// Splits `text` around the one line that consists of spaces and `line`: the text
/// before the line, the text after it, and the line's indentation.
fn split_at_line<'t>(text: &'t str, line: &str) -> Result<(&'t str, &'t str, usize)> {
    let mut found = text.match_indices(line).filter(|&(at, _)| {
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        text[start..at].bytes().all(|b| b == b' ')
    });
    match (found.next(), found.next()) {
        (Some((at, _)), None) => {
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            Ok((&text[..start], &text[at + line.len()..], at - start))
        }
        _ => Err(Error::InvalidOption {
            path: "base".to_owned(),
            message: "the base configuration holds one of the builder's placeholder names \
                      (receiver names starting with \\x01alert-router:)"
                .to_owned(),
        }),
    }
}
