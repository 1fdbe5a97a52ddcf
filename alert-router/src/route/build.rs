//! Compiling a configuration's route tree: inheritance (Alertmanager 0.25's `NewRoute`),
//! matchers collected and sorted, keys, and the flat arena the matcher walks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use alert_core::{Duration, MatchType, Matcher, Matchers, ParserMode, parse_matchers};

use crate::config;
use crate::error::{Error, Result};

use super::eval::{Engine, NodeView};
use super::{Node, RouteId, RouteOpts, RoutingTree};

/// One route as configured, before inheritance: the fields `NewRoute` reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct NodeSpec {
    pub(crate) receiver: Option<String>,
    /// `group_by` as written (`'...'` included); `None` when absent.
    pub(crate) group_by: Option<Vec<String>>,
    pub(crate) group_wait: Option<Duration>,
    pub(crate) group_interval: Option<Duration>,
    pub(crate) repeat_interval: Option<Duration>,
    /// Every matcher of `match`, `match_re` (value already anchored `^(?:v)$`) and
    /// `matchers`, in any order.
    pub(crate) matchers: Vec<Matcher>,
    pub(crate) continue_: bool,
    pub(crate) mute_time_intervals: Vec<String>,
    pub(crate) active_time_intervals: Vec<String>,
    pub(crate) children: Vec<NodeSpec>,
}

/// `secs` as a constant duration (all callers pass small constants).
const fn secs(secs: u64) -> Duration {
    match Duration::from_secs(secs) {
        Some(d) => d,
        None => Duration::ZERO,
    }
}

/// Alertmanager's `DefaultRouteOpts`, the root's starting point.
fn default_opts() -> RouteOpts {
    RouteOpts {
        receiver: String::new(),
        group_by: Vec::new(),
        group_by_all: false,
        group_wait: secs(30),
        group_interval: secs(5 * 60),
        repeat_interval: secs(4 * 60 * 60),
        mute_time_intervals: Vec::new(),
        active_time_intervals: Vec::new(),
    }
}

/// `NewRoute`'s inheritance: `parent`'s options overridden by what `spec` sets.
fn inherit(parent: &RouteOpts, spec: &NodeSpec) -> RouteOpts {
    let mut opts = parent.clone();
    if let Some(r) = spec.receiver.as_deref().filter(|r| !r.is_empty()) {
        opts.receiver = r.to_owned();
    }
    if let Some(group_by) = &spec.group_by {
        // 0.25: `'...'` sets GroupByAll; the other names form GroupBy, which is nil
        // (inherit) when there are none, so `group_by: []` inherits.
        let mut names: Vec<String> = group_by.iter().filter(|g| *g != "...").cloned().collect();
        if !names.is_empty() {
            names.sort_unstable();
            names.dedup();
            opts.group_by = names;
            opts.group_by_all = false;
        } else if group_by.iter().any(|g| g == "...") {
            opts.group_by_all = true;
        }
    }
    if let Some(d) = spec.group_wait {
        opts.group_wait = d;
    }
    if let Some(d) = spec.group_interval {
        opts.group_interval = d;
    }
    if let Some(d) = spec.repeat_interval {
        opts.repeat_interval = d;
    }
    opts.mute_time_intervals = spec.mute_time_intervals.clone();
    opts.active_time_intervals = spec.active_time_intervals.clone();
    opts
}

pub(crate) fn compile(root: &NodeSpec) -> RoutingTree {
    struct Builder {
        nodes: Vec<Node>,
        children_of: Vec<Vec<RouteId>>,
    }

    impl Builder {
        fn add(&mut self, spec: &NodeSpec, parent: Option<(RouteId, usize)>) -> RouteId {
            let id = RouteId(self.nodes.len() as u32);
            let (opts, key, path, depth) = match parent {
                None => (
                    inherit(&default_opts(), spec),
                    String::new(),
                    "route".to_owned(),
                    0,
                ),
                Some((p, index)) => {
                    let pn = &self.nodes[p.index()];
                    (
                        inherit(&pn.opts, spec),
                        pn.key.clone(),
                        format!("{}.routes[{index}]", pn.path),
                        pn.depth + 1,
                    )
                }
            };
            let mut matchers = Matchers::new(spec.matchers.clone());
            matchers.sort();
            let key = if parent.is_none() {
                matchers.to_string()
            } else {
                format!("{key}/{matchers}")
            };
            self.nodes.push(Node {
                opts,
                matchers,
                continue_: spec.continue_,
                parent: parent.map(|(p, _)| p),
                children: (0, 0),
                key,
                path,
                depth,
            });
            self.children_of.push(Vec::new());
            for (i, child) in spec.children.iter().enumerate() {
                let c = self.add(child, Some((id, i)));
                self.children_of[id.index()].push(c);
            }
            id
        }
    }

    let mut b = Builder {
        nodes: Vec::new(),
        children_of: Vec::new(),
    };
    b.add(root, None);
    let views: Vec<NodeView<'_>> = b
        .nodes
        .iter()
        .zip(&b.children_of)
        .map(|(node, children)| NodeView {
            matchers: node.matchers.as_slice(),
            children,
            continue_: node.continue_,
        })
        .collect();
    let engine = Engine::compile(&views);
    let mut child_ids = Vec::new();
    for (node, children) in b.nodes.iter_mut().zip(&b.children_of) {
        let start = child_ids.len() as u32;
        child_ids.extend_from_slice(children);
        node.children = (start, child_ids.len() as u32);
    }
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    RoutingTree {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        nodes: b.nodes,
        child_ids,
        engine,
    }
}

/// The matchers of a route or an inhibit-rule side, built as Alertmanager 0.25 builds
/// them: `match` entries as equality, `match_re` values anchored as `^(?:value)$` (the
/// matcher anchors them again), `matchers` strings with the classic grammar. Unsorted.
/// `prefix` is the path of the fields (`route.routes[0].`, `inhibit_rules[1].source_`).
pub(crate) fn config_matchers(
    eq: &BTreeMap<String, String>,
    re: &BTreeMap<String, String>,
    strings: &[String],
    prefix: &str,
) -> Result<Vec<Matcher>> {
    let invalid = |field: String, e: alert_core::Error| Error::InvalidMatcher {
        path: format!("{prefix}{field}"),
        message: e.to_string(),
    };
    let mut out = Vec::new();
    for (name, value) in eq {
        out.push(
            Matcher::new(MatchType::Equal, name.as_str(), value.as_str())
                .map_err(|e| invalid(format!("match.{name}"), e))?,
        );
    }
    for (name, value) in re {
        out.push(
            Matcher::new(MatchType::Regexp, name.as_str(), format!("^(?:{value})$"))
                .map_err(|e| invalid(format!("match_re.{name}"), e))?,
        );
    }
    for (i, text) in strings.iter().enumerate() {
        let parsed = parse_matchers(text, ParserMode::Classic)
            .map_err(|e| invalid(format!("matchers[{i}]"), e))?;
        out.extend(parsed.into_vec());
    }
    Ok(out)
}

impl NodeSpec {
    /// Reads a configured route (and its subtree), parsing its matchers as Alertmanager
    /// 0.25 does: `match` as equality, `match_re` anchored as `^(?:value)$` (then
    /// anchored again by the matcher), `matchers` with the classic grammar.
    pub(crate) fn from_config(route: &config::Route, path: &str) -> Result<NodeSpec> {
        let matchers = config_matchers(
            &route.r#match,
            &route.match_re,
            &route.matchers,
            &format!("{path}."),
        )?;
        let children = route
            .routes
            .iter()
            .enumerate()
            .map(|(i, child)| NodeSpec::from_config(child, &format!("{path}.routes[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        Ok(NodeSpec {
            receiver: route.receiver.clone(),
            group_by: route.group_by.clone(),
            group_wait: route.group_wait,
            group_interval: route.group_interval,
            repeat_interval: route.repeat_interval,
            matchers,
            continue_: route.r#continue,
            mute_time_intervals: route.mute_time_intervals.clone(),
            active_time_intervals: route.active_time_intervals.clone(),
            children,
        })
    }
}

impl RoutingTree {
    /// Compiles the route tree rooted at `root` (a configuration's `route`).
    ///
    /// Validation is the configuration's business ([`crate::config`]); this only fails
    /// when a matcher does not parse or a regex does not compile, naming the route path
    /// (`route.routes[2].matchers[0]`).
    pub fn new(root: &config::Route) -> Result<RoutingTree> {
        Ok(compile(&NodeSpec::from_config(root, "route")?))
    }
}
