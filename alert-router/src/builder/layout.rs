//! The shape every tenant's configuration shares: the base configuration, the history
//! webhook and the blackhole, with a place for the tenant's condition routes and endpoint
//! receivers.
//!
//! The root route's children are, in order:
//!
//! | base | history | children of the root |
//! |------|---------|----------------------|
//! | no   | no      | condition routes |
//! | no   | yes     | history route, condition routes |
//! | yes  | no      | condition routes, the base's routes |
//! | yes  | yes     | history route, then one route without matchers holding the condition routes and the base's routes |
//!
//! The last row keeps the base configuration's meaning: in Alertmanager an alert goes
//! to the root's receiver only when no child route matched, and the history route
//! matches everything. Put beside the base's routes, it would swallow the fallback to the
//! base's root receiver; one level down, under a route that inherits everything from the
//! root, the fallback happens there exactly as before. Without a history route no such
//! wrapper is needed, and without a base there is no fallback to keep (the root receiver
//! is the blackhole).
//!
//! Receivers: the blackhole (without a base), the history receiver, the endpoint
//! receivers sorted by endpoint id, then the base's receivers.
//!
//! The layout is rendered once with a placeholder route and a placeholder receiver; the
//! text around them is kept, and a tenant's YAML is that text with its condition routes
//! and endpoint receivers written in between. A list item's text does not depend on its
//! neighbours, so this is byte for byte what [`Config::to_yaml`] writes for the whole
//! configuration (the builder's tests check it).

use std::collections::HashMap;

use crate::builder::options::{BLACKHOLE_RECEIVER, BuildOptions, HISTORY_RECEIVER, HistoryWebhook};
use crate::config::yaml::quote;
use crate::config::{Config, Receiver, Route, WebhookConfig};
use crate::error::{Error, Result};
use crate::validate::alertmanager::check;

/// The placeholder receiver name of the route slot: no real name renders like it.
const ROUTE_SLOT: &str = "\u{1}alert-router:condition-routes\u{1}";
/// The placeholder name of the receiver slot.
const RECEIVER_SLOT: &str = "\u{1}alert-router:endpoint-receivers\u{1}";

/// Where the condition routes go in the route tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteSlot {
    /// Among the root's children, at this index.
    Root(usize),
    /// First among the children of the root's child at this index (the wrapper).
    Nested(usize),
}

/// The shared shape of every tenant's configuration (see the module documentation).
/// Not `Debug`: its text holds the base configuration's secrets.
#[derive(Clone)]
pub(crate) struct Layout {
    /// The configuration of a tenant without routed conditions.
    empty: Config,
    /// `empty` as YAML, and its sync id.
    empty_yaml: String,
    empty_sync_id: String,
    route_slot: RouteSlot,
    receiver_slot: usize,
    /// The column of the `- ` of a condition route.
    route_indent: usize,
    /// The YAML before the condition routes, between them and the endpoint receivers,
    /// and after those.
    prefix: String,
    middle: String,
    suffix: String,
    /// Receiver names of the base configuration, with their index.
    base_receivers: HashMap<String, usize>,
    /// The `global` section of the base, for checking endpoint receivers.
    global: Option<crate::config::GlobalConfig>,
}

impl Layout {
    /// Checks the base configuration and the options, and lays them out.
    pub(crate) fn new(options: &BuildOptions) -> Result<Layout> {
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
        if options.base.is_none() {
            own.push(Receiver::new(BLACKHOLE_RECEIVER));
        }
        let mut history_route = None;
        if let Some(history) = &options.history {
            if let Some(&i) = base_receivers.get(HISTORY_RECEIVER) {
                return Err(Error::NameCollision {
                    path: "history".to_owned(),
                    message: format!(
                        "receiver {HISTORY_RECEIVER:?} of the history webhook collides with \
                         base config receivers[{i}] {HISTORY_RECEIVER:?}"
                    ),
                });
            }
            let (route, receiver) = history_parts(history);
            check_history(&route, &receiver)?;
            own.push(receiver);
            history_route = Some(route);
        }
        check_group_by(&options.condition_group_by)?;

        let base_routes = std::mem::take(&mut config.route.routes);
        let route_slot = match (options.base.is_some(), history_route) {
            (false, None) => RouteSlot::Root(0),
            (false, Some(history)) => {
                config.route.routes.push(history);
                RouteSlot::Root(1)
            }
            (true, None) => {
                config.route.routes = base_routes;
                RouteSlot::Root(0)
            }
            (true, Some(history)) => {
                config.route.routes.push(history);
                config.route.routes.push(Route {
                    routes: base_routes,
                    ..Route::default()
                });
                RouteSlot::Nested(1)
            }
        };
        let receiver_slot = own.len();
        own.append(&mut config.receivers);
        config.receivers = own;
        check(&config)?;

        let mut skeleton = config.clone();
        insert_routes(&mut skeleton, route_slot, vec![Route::new(ROUTE_SLOT)]);
        skeleton
            .receivers
            .insert(receiver_slot, Receiver::new(RECEIVER_SLOT));
        let text = skeleton.to_yaml();
        let route_line = format!("- receiver: {}\n", quote(ROUTE_SLOT));
        let receiver_line = format!("- name: {}\n", quote(RECEIVER_SLOT));
        let (prefix, rest, route_indent) = split_at_line(&text, &route_line)?;
        let (middle, suffix, _) = split_at_line(rest, &receiver_line)?;

        let empty_yaml = config.to_yaml();
        Ok(Layout {
            empty_sync_id: crate::builder::tenant::sync_id(&empty_yaml),
            empty_yaml,
            route_slot,
            receiver_slot,
            route_indent,
            prefix: prefix.to_owned(),
            middle: middle.to_owned(),
            suffix: suffix.to_owned(),
            base_receivers,
            global: config.global.clone(),
            empty: config,
        })
    }

    /// The configuration of a tenant without routed conditions, its YAML and sync id.
    pub(crate) fn empty(&self) -> (&Config, &str, &str) {
        (&self.empty, &self.empty_yaml, &self.empty_sync_id)
    }

    /// The column the `- ` of a condition route is written at.
    pub(crate) fn route_indent(&self) -> usize {
        self.route_indent
    }

    /// The index in the base configuration's receivers of a receiver called `name`.
    pub(crate) fn base_receiver(&self, name: &str) -> Option<usize> {
        self.base_receivers.get(name).copied()
    }

    /// The `global` section every tenant's configuration has.
    pub(crate) fn global(&self) -> Option<&crate::config::GlobalConfig> {
        self.global.as_ref()
    }

    /// How many routes below the root and how many receivers every tenant's
    /// configuration has besides its own.
    pub(crate) fn fixed_counts(&self) -> (usize, usize) {
        (self.empty.route.count() - 1, self.empty.receivers.len())
    }

    /// A tenant's YAML: the layout with `routes` (rendered condition routes) and
    /// `receivers` (rendered endpoint receivers) in their places. With no routes, the
    /// empty configuration's YAML.
    pub(crate) fn render<'a>(
        &self,
        routes: impl Iterator<Item = &'a str> + Clone,
        receivers: impl Iterator<Item = &'a str> + Clone,
    ) -> String {
        let mut any = routes.clone().peekable();
        if any.peek().is_none() {
            return self.empty_yaml.clone();
        }
        let len = self.prefix.len()
            + self.middle.len()
            + self.suffix.len()
            + routes.clone().map(str::len).sum::<usize>()
            + receivers.clone().map(str::len).sum::<usize>();
        let mut out = String::with_capacity(len);
        out.push_str(&self.prefix);
        routes.for_each(|r| out.push_str(r));
        out.push_str(&self.middle);
        receivers.for_each(|r| out.push_str(r));
        out.push_str(&self.suffix);
        out
    }

    /// A tenant's configuration as a value: the empty configuration with `routes` and
    /// `receivers` in their places.
    pub(crate) fn config(&self, routes: Vec<Route>, receivers: Vec<Receiver>) -> Config {
        let mut config = self.empty.clone();
        if routes.is_empty() {
            return config;
        }
        insert_routes(&mut config, self.route_slot, routes);
        let at = self.receiver_slot;
        config.receivers.splice(at..at, receivers);
        config
    }
}

/// The history route and receiver.
fn history_parts(history: &HistoryWebhook) -> (Route, Receiver) {
    let route = Route {
        receiver: Some(HISTORY_RECEIVER.to_owned()),
        group_by: Some(history.group_by.clone()),
        r#continue: true,
        group_wait: Some(history.group_wait),
        group_interval: Some(history.group_interval),
        repeat_interval: Some(history.repeat_interval),
        ..Route::default()
    };
    let mut receiver = Receiver::new(HISTORY_RECEIVER);
    receiver.webhook_configs.push(WebhookConfig {
        url: Some(history.url.clone()),
        max_alerts: (history.max_alerts != 0).then_some(history.max_alerts),
        ..WebhookConfig::default()
    });
    (route, receiver)
}

/// Checks the history webhook's route and receiver on their own, so that a fault is
/// reported against the option rather than the base configuration.
fn check_history(route: &Route, receiver: &Receiver) -> Result<()> {
    let mut probe = Config::new(Route::new(HISTORY_RECEIVER));
    probe.route.routes.push(route.clone());
    probe.receivers.push(receiver.clone());
    check(&probe).map_err(|e| Error::InvalidOption {
        path: "history".to_owned(),
        message: e.to_string(),
    })
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
