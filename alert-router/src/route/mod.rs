//! The compiled routing tree: which routes an alert goes to, exactly as Alertmanager
//! 0.25's `dispatch.Route.Match` decides, without allocating per alert.
//!
//! [`RoutingTree::new`] compiles a configuration's route tree once: options inherited
//! from the parent (receiver, `group_by` including `'...'`, the three timers; not the
//! time intervals), matchers from `match`, `match_re` (anchored twice, as 0.25 does) and
//! `matchers`, sorted as 0.25 sorts them, route keys. Matching is 0.25's walk: depth
//! first, children in configuration order, honouring `continue`; a matching child
//! shadows its parent.
//!
//! Matching evaluates matchers as bits (the private `eval` module documents the
//! details): the alert's labels are sorted into the tree's label slots by their interned
//! name numbers, each value's test results are fetched from a cache in the caller's
//! [`MatchBuffer`] that remembers them per label value across alerts, and a node's
//! children are classified together without branches. How long a match takes on the
//! benchmark data (224 routes, 100,000 alerts) is measured in `alert-benches`, by the
//! `router` criterion bench (`benches/benches/router.rs`) and the `route-throughput`
//! binary (`benches/src/bin/route_throughput.rs`); `benches/README.md` holds the
//! figures, with the machine and the command, beside Alertmanager 0.25's own router on
//! the same data.
//!
//! ```
//! use alert_core::LabelSet;
//! use alert_router::config::Config;
//! use alert_router::route::{MatchBuffer, RoutingTree};
//!
//! let config = Config::from_yaml(r#"
//! route:
//!   receiver: default
//!   group_by: [alertname]
//!   routes:
//!     - receiver: audit
//!       continue: true
//!     - receiver: db
//!       match_re: {service: "db-.*"}
//! receivers: [{name: default}, {name: audit}, {name: db}]
//! "#)?;
//! let tree = RoutingTree::new(&config.route)?;
//! let alert = LabelSet::from_pairs([("alertname", "DiskFull"), ("service", "db-1")])?;
//!
//! let mut buf = MatchBuffer::new();
//! let receivers: Vec<&str> = tree
//!     .match_into(&alert, &mut buf)
//!     .iter()
//!     .map(|&id| tree.route(id).receiver())
//!     .collect();
//! assert_eq!(receivers, ["audit", "db"]);
//!
//! let db = tree.route(buf.routes()[1]);
//! assert_eq!(db.key(), r#"{}/{service=~"^(?:db-.*)$"}"#);
//! assert_eq!(db.group_key(&alert), r#"{}/{service=~"^(?:db-.*)$"}:{alertname="DiskFull"}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod build;
mod eval;
mod group_key;
mod tree_print;
mod value_cache;

use alert_core::{Duration, LabelSet, Matchers};

use eval::{Engine, Scratch};

pub(crate) use build::config_matchers;
pub use tree_print::{matching_tree, routing_tree};

/// The index of a route in its [`RoutingTree`], in depth-first pre-order (the root is 0).
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteId(u32);

impl RouteId {
    /// The root route.
    pub const ROOT: RouteId = RouteId(0);

    /// The position in depth-first pre-order.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The options a route applies, after inheritance (Alertmanager's `RouteOpts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteOpts {
    /// The receiver notified for alerts that end on this route.
    pub receiver: String,
    /// Label names to group by, sorted and without duplicates (empty with `group_by_all`
    /// or when nothing groups).
    pub group_by: Vec<String>,
    /// `group_by: ['...']`: group by every label.
    pub group_by_all: bool,
    /// How long to wait before the first notification of a new group.
    pub group_wait: Duration,
    /// How long to wait before notifying about new alerts in a group.
    pub group_interval: Duration,
    /// How long to wait before repeating a notification.
    pub repeat_interval: Duration,
    /// Names of the time intervals that mute this route (never inherited).
    pub mute_time_intervals: Vec<String>,
    /// Names of the time intervals outside which this route is muted (never inherited).
    pub active_time_intervals: Vec<String>,
}

/// One compiled route.
#[derive(Debug, Clone)]
struct Node {
    opts: RouteOpts,
    matchers: Matchers,
    continue_: bool,
    parent: Option<RouteId>,
    /// Range in `RoutingTree::child_ids`.
    children: (u32, u32),
    key: String,
    path: String,
    depth: u32,
}

/// A route tree compiled for matching. Immutable and `Sync`: share one between threads,
/// each with its own [`MatchBuffer`].
#[derive(Debug, Clone)]
pub struct RoutingTree {
    /// Unique per compiled tree (clones share it): tells a [`MatchBuffer`] whether its
    /// remembered test results belong to this tree.
    id: u64,
    nodes: Vec<Node>,
    child_ids: Vec<RouteId>,
    engine: Engine,
}

/// Reusable storage for [`RoutingTree::match_into`]: the matched routes, the per-alert
/// test results, and test results remembered by label value across alerts.
/// Allocates only while it grows to the tree's needs. One per thread; it may be used
/// with several trees.
#[derive(Debug, Clone, Default)]
pub struct MatchBuffer {
    routes: Vec<RouteId>,
    scratch: Scratch,
    /// The [`RoutingTree::id`] of the tree `scratch` holds results for (0: none).
    owner: u64,
}

impl MatchBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The routes of the last match, in Alertmanager's order.
    pub fn routes(&self) -> &[RouteId] {
        &self.routes
    }
}

/// A route of a [`RoutingTree`], with everything Alertmanager knows about it.
#[derive(Debug, Clone, Copy)]
pub struct Route<'t> {
    tree: &'t RoutingTree,
    id: RouteId,
}

impl<'t> Route<'t> {
    fn node(&self) -> &'t Node {
        &self.tree.nodes[self.id.index()]
    }

    /// This route's id.
    pub fn id(&self) -> RouteId {
        self.id
    }

    /// The options after inheritance.
    pub fn opts(&self) -> &'t RouteOpts {
        &self.node().opts
    }

    /// The receiver (inherited when the route names none).
    pub fn receiver(&self) -> &'t str {
        &self.node().opts.receiver
    }

    /// The route's own matchers, sorted as Alertmanager sorts them (by name, value,
    /// type); `match_re` values appear anchored, `^(?:value)$`.
    pub fn matchers(&self) -> &'t Matchers {
        &self.node().matchers
    }

    /// Whether the route has `continue: true`.
    pub fn continues(&self) -> bool {
        self.node().continue_
    }

    /// The parent route; `None` for the root.
    pub fn parent(&self) -> Option<Route<'t>> {
        self.node().parent.map(|id| self.tree.route(id))
    }

    /// The child routes in configuration order.
    pub fn children(&self) -> impl ExactSizeIterator<Item = Route<'t>> + 't {
        let tree = self.tree;
        let (start, end) = self.node().children;
        tree.child_ids[start as usize..end as usize]
            .iter()
            .map(move |&c| tree.route(c))
    }

    /// How deep the route is: 0 for the root.
    pub fn depth(&self) -> usize {
        self.node().depth as usize
    }

    /// Alertmanager's route key: the parent's key, `/`, the matchers (`{}` for the root).
    /// Siblings with identical matchers share a key.
    pub fn key(&self) -> &'t str {
        &self.node().key
    }

    /// Where the route is in the configuration, such as `route.routes[2].routes[0]`.
    pub fn path(&self) -> &'t str {
        &self.node().path
    }

    /// The key of the aggregation group `labels` falls into on this route:
    /// `<route key>:<group labels>`, exactly as Alertmanager 0.25 prints it (the
    /// webhook's `groupKey`). Empty-valued labels are left out, as Alertmanager's API
    /// drops them.
    pub fn group_key(&self, labels: &LabelSet) -> String {
        let opts = self.opts();
        group_key::group_key(self.key(), &opts.group_by, opts.group_by_all, labels)
    }

    /// The labels `labels` is grouped by on this route (Alertmanager's group labels).
    pub fn group_labels(&self, labels: &LabelSet) -> LabelSet {
        let opts = self.opts();
        if opts.group_by_all {
            return labels.without_empty();
        }
        labels
            .without_empty()
            .project(opts.group_by.iter().map(String::as_str))
    }
}

impl RoutingTree {
    /// The number of routes, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always false: a tree has at least its root.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The route with id `id`.
    ///
    /// # Panics
    /// If `id` does not come from this tree.
    pub fn route(&self, id: RouteId) -> Route<'_> {
        assert!(id.index() < self.nodes.len(), "route id from another tree");
        Route { tree: self, id }
    }

    /// The root route.
    pub fn root(&self) -> Route<'_> {
        self.route(RouteId::ROOT)
    }

    /// Every route in depth-first pre-order.
    pub fn routes(&self) -> impl ExactSizeIterator<Item = Route<'_>> + '_ {
        (0..self.nodes.len() as u32).map(move |i| Route {
            tree: self,
            id: RouteId(i),
        })
    }

    /// How many distinct tests the tree evaluates, and how many of those are regexes
    /// (the rest are string comparisons). `!=` and `!~` share the test of `=` and `=~`
    /// with the same label and value.
    pub fn matcher_counts(&self) -> (usize, usize) {
        self.engine.test_counts()
    }

    /// Whether every label name the tree's matchers read has an interned number
    /// ([`alert_core::NameId`]), which gives matching its fastest layout. Configuration
    /// names have places kept for them in the interner
    /// ([`alert_core::fingerprint::RESERVED_FOR_CONFIGURED`]), so alerts carrying
    /// thousands of never-seen names cannot take this away; `false` only for a name
    /// longer than [`alert_core::fingerprint::MAX_FOLDED_NAME_LEN`] or once configurations
    /// alone have filled the interner. Either way routing stays correct.
    pub fn names_interned(&self) -> bool {
        self.engine.all_names_interned()
    }

    /// The routes `labels` goes to, in Alertmanager's order, written into `buf` (whose
    /// previous contents are replaced) and returned. Never empty for a valid
    /// configuration (whose root has no matchers): an alert no child route takes ends on
    /// the root. Does not allocate once `buf` has grown.
    ///
    /// A missing label reads as the empty string, as in Alertmanager.
    pub fn match_into<'b>(&self, labels: &LabelSet, buf: &'b mut MatchBuffer) -> &'b [RouteId] {
        buf.routes.clear();
        if buf.owner != self.id {
            self.engine.reset_scratch(&mut buf.scratch);
            buf.owner = self.id;
        }
        self.engine.run(labels, buf);
        &buf.routes
    }

    /// The routes `labels` goes to, in Alertmanager's order. Allocates; see
    /// [`RoutingTree::match_into`] for the hot path.
    pub fn matches(&self, labels: &LabelSet) -> Vec<Route<'_>> {
        let mut buf = MatchBuffer::new();
        self.match_into(labels, &mut buf);
        buf.routes.iter().map(|&id| self.route(id)).collect()
    }

    /// The receivers `labels` is routed to, in order, duplicates kept: what
    /// `amtool config routes test` prints (joined by `,`).
    pub fn receivers(&self, labels: &LabelSet) -> Vec<&str> {
        self.matches(labels).iter().map(|r| r.receiver()).collect()
    }

    /// Whether route `id`'s own matchers match `labels`.
    pub fn route_matches(&self, id: RouteId, labels: &LabelSet) -> bool {
        self.nodes[id.index()].matchers.matches(labels)
    }
}
