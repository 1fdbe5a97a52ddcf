//! What a [`crate::builder::Builder`] is told besides conditions and endpoints: the base
//! configuration, the history webhook, the grouping of condition routes, the Alertmanager
//! version the output must load into, whether endpoints get test routes, and the cluster
//! whose gossip timing every condition route must respect.

use alert_core::{CONDITION_ID_LABEL, Duration};

use crate::config::{Config, GROUP_BY_ALL};
use crate::validate::ClusterTiming;

/// The receiver the root route sends to when there is no base configuration: a receiver
/// with no integrations, so alerts that no route takes are dropped. The tenant routes of
/// the combined configuration ([`crate::builder::Builder::combined`]) name it too. The
/// `:` keeps it apart from every endpoint receiver (endpoint ids cannot contain one).
pub const BLACKHOLE_RECEIVER: &str = "alert-router:blackhole";

/// The receiver of the history webhook ([`BuildOptions::history`]). The `:` keeps it
/// apart from every endpoint receiver (endpoint ids cannot contain one).
pub const HISTORY_RECEIVER: &str = "alert-router:history";

/// The receiver of the emitter webhook ([`BuildOptions::emitter`]). The `:` keeps it
/// apart from every endpoint receiver (endpoint ids cannot contain one).
pub const EMITTER_RECEIVER: &str = "alert-router:emitter";

/// The receivers the builder adds itself, which a base configuration may neither define
/// nor name in a route.
pub const RESERVED_RECEIVERS: [&str; 3] = [BLACKHOLE_RECEIVER, HISTORY_RECEIVER, EMITTER_RECEIVER];

/// The label of a synthetic alert that tests one endpoint: its value is the endpoint id,
/// and with [`BuildOptions::endpoint_tests`] the alert goes to that endpoint's receiver
/// only (and to the history webhook, which sees every alert).
pub const ENDPOINT_TEST_LABEL: &str = "alert_endpoint_test";

/// `group_wait` of an endpoint test route: a test is notified at once.
pub(crate) const ENDPOINT_TEST_GROUP_WAIT: Duration = secs(0);
/// `group_interval` of an endpoint test route.
pub(crate) const ENDPOINT_TEST_GROUP_INTERVAL: Duration = secs(60);
/// `repeat_interval` of an endpoint test route.
pub(crate) const ENDPOINT_TEST_REPEAT_INTERVAL: Duration = secs(3600);

/// The Alertmanager version the built configurations must load into.
///
/// It decides which endpoints can be expressed: 0.25 has no `msteams_configs` (0.26), no
/// webhook `timeout` (0.28) and no inline TLS `ca` (only `ca_file`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AlertmanagerVersion {
    /// Alertmanager 0.25, the version this crate's configuration model describes.
    #[default]
    V0_25,
}

impl AlertmanagerVersion {
    /// The version as people write it: `0.25`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertmanagerVersion::V0_25 => "0.25",
        }
    }
}

/// A **default webhook**: one of the gateway's own receivers that every configuration
/// sends every alert to (the history service, [`BuildOptions::history`], and the
/// emitter, [`BuildOptions::emitter`]), and the timing of the route to it.
///
/// The route is among the first children of the root (history, then emitter), has no
/// matchers and `continue: true`, so it sees every alert (condition alerts, the base
/// configuration's own alerts and the `Watchdog`), and no route of a base configuration
/// or of a condition comes before it to shadow it. All four options are always written
/// out, never inherited, because the history service reads them back: it infers "the
/// pipeline was down" when two `Watchdog` notifications are further apart than `repeat_interval + group_interval`
/// (plus its own slack).
///
/// The defaults group by every label (each alert is its own group, so each one's state
/// changes arrive separately) and use Alertmanager's default timers (30s, 5m, 4h), which
/// are also the defaults of alert-history's heartbeat policy.
///
/// ```
/// use alert_router::builder::DefaultWebhook;
///
/// let mut history = DefaultWebhook::new("http://127.0.0.1:9094/webhook");
/// assert_eq!(history.group_by, ["..."]);
/// assert_eq!(history.repeat_interval.to_string(), "4h");
/// history.repeat_interval = "15m".parse()?;
/// # Ok::<(), alert_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultWebhook {
    /// Where Alertmanager POSTs the notifications (`http` or `https`).
    pub url: String,
    /// `group_by` of the route; `["..."]` by default.
    pub group_by: Vec<String>,
    /// `group_wait` of the route; 30s by default.
    pub group_wait: Duration,
    /// `group_interval` of the route; 5m by default. Never zero.
    pub group_interval: Duration,
    /// `repeat_interval` of the route; 4h by default. Never zero.
    pub repeat_interval: Duration,
    /// `max_alerts` of the webhook; 0 (no limit) by default.
    pub max_alerts: u64,
}

/// Alertmanager's `group_wait` default.
pub(crate) const DEFAULT_GROUP_WAIT: Duration = secs(30);
/// Alertmanager's `group_interval` default.
const DEFAULT_GROUP_INTERVAL: Duration = secs(300);
/// Alertmanager's `repeat_interval` default.
const DEFAULT_REPEAT_INTERVAL: Duration = secs(4 * 3600);

const fn secs(s: u64) -> Duration {
    match Duration::from_secs(s) {
        Some(d) => d,
        None => Duration::ZERO,
    }
}

impl DefaultWebhook {
    /// A history webhook posting to `url`, with the default grouping and timers.
    pub fn new(url: impl Into<String>) -> DefaultWebhook {
        DefaultWebhook {
            url: url.into(),
            group_by: vec![GROUP_BY_ALL.to_owned()],
            group_wait: DEFAULT_GROUP_WAIT,
            group_interval: DEFAULT_GROUP_INTERVAL,
            repeat_interval: DEFAULT_REPEAT_INTERVAL,
            max_alerts: 0,
        }
    }
}

/// Everything a [`crate::builder::Builder`] needs besides conditions and endpoints.
///
/// ```
/// use alert_router::builder::{BuildOptions, DefaultWebhook};
/// use alert_router::config::Config;
/// use alert_router::validate::ClusterTiming;
///
/// let options = BuildOptions {
///     base: Some(Config::from_yaml("route: {receiver: ops}\nreceivers: [{name: ops}]\n")?),
///     history: Some(DefaultWebhook::new("http://127.0.0.1:9094/webhook")),
///     endpoint_tests: true,
///     cluster: Some(ClusterTiming::new(3)),
///     ..BuildOptions::default()
/// };
/// assert_eq!(options.condition_group_by, ["alert_condition_id"]);
/// # Ok::<(), alert_router::error::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// A configuration every tenant's configuration is merged into: its `global`,
    /// templates, inhibit rules, time intervals, routes and receivers are kept, and its
    /// root receiver stays the root receiver. Without one, the root receiver is
    /// [`BLACKHOLE_RECEIVER`].
    pub base: Option<Config>,
    /// The history webhook, if alerts should also go to alert-history: the first route,
    /// receiver [`HISTORY_RECEIVER`].
    pub history: Option<DefaultWebhook>,
    /// The emitter webhook, if alerts should also go to the gateway's emitter (message
    /// cache, Kubernetes Events): the route after the history route, receiver
    /// [`EMITTER_RECEIVER`].
    pub emitter: Option<DefaultWebhook>,
    /// `group_by` of every condition route (its endpoint routes inherit it). The default,
    /// `["alert_condition_id"]`, makes one notification group per condition: all of a
    /// condition's firing alerts are notified together, and the attachment's throttle
    /// (`group_interval`) limits how often that notification is updated. `["..."]` gives
    /// every alert its own group instead.
    pub condition_group_by: Vec<String>,
    /// The Alertmanager version the configurations must load into.
    pub target: AlertmanagerVersion,
    /// Whether every configuration gets one **endpoint test route** per endpoint receiver
    /// it holds (the combined configuration: per endpoint the builder knows), right
    /// after the history route (first without one). Such a route matches
    /// `alert_endpoint_test="<endpoint id>"` ([`ENDPOINT_TEST_LABEL`]), sends to that
    /// endpoint's receiver, groups by every label, notifies at once (`group_wait: 0s`,
    /// `group_interval: 1m`, `repeat_interval: 1h`) and does not continue: a synthetic
    /// alert carrying the label reaches that endpoint (and the history webhook) and
    /// nothing else. Off by default.
    pub endpoint_tests: bool,
    /// The Alertmanager cluster the configurations run in. When set, the builder refuses
    /// ([`crate::error::Error::GroupWaitShorterThanClusterWait`]) a condition whose route
    /// to an endpoint would wait (`group_wait`: the attachment's throttle, else the
    /// condition's, else inherited from the root route: the base configuration's root
    /// `group_wait`, else Alertmanager's 30s) less than
    /// [`ClusterTiming::last_peer_wait`], and a history webhook whose `group_wait` is
    /// shorter: the last peer would notify before the others' notification log reached
    /// it, and the group's first notification would go out twice. Endpoint test routes
    /// are exempt: a test must be fast, and a duplicated test notification is harmless.
    /// `None` (the default) checks nothing.
    pub cluster: Option<ClusterTiming>,
}

impl Default for BuildOptions {
    fn default() -> BuildOptions {
        BuildOptions {
            base: None,
            history: None,
            emitter: None,
            condition_group_by: vec![CONDITION_ID_LABEL.to_owned()],
            target: AlertmanagerVersion::V0_25,
            endpoint_tests: false,
            cluster: None,
        }
    }
}
