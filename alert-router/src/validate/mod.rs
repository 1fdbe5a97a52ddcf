//! Checking configurations.
//!
//! [`validate`] applies Alertmanager 0.25's own rules (what `amtool check-config`
//! refuses is an [`Error`](crate::error::Error)), and on request the rules Cortex and Mimir add for tenants
//! (also errors), the timing of an Alertmanager cluster and lints (both [`Warning`]s).
//!
//! ```
//! use alert_router::config::{Config, Receiver, Route};
//! use alert_router::validate::{ClusterTiming, Options, WarningKind, validate};
//!
//! let mut root = Route::new("default");
//! root.group_wait = Some("10s".parse()?);
//! let mut config = Config::new(root);
//! config.receivers.push(Receiver::new("default"));
//! config.receivers.push(Receiver::new("unused"));
//!
//! let options = Options { cluster: Some(ClusterTiming::new(3)), lints: true, ..Options::default() };
//! let report = validate(&config, &options)?;
//! let kinds: Vec<WarningKind> = report.warnings.iter().map(|w| w.kind).collect();
//! assert_eq!(kinds, [WarningKind::GroupWaitShorterThanClusterWait, WarningKind::UnusedReceiver]);
//! assert_eq!(report.warnings[1].path, "receivers[1]");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod alertmanager;
mod cluster;
mod lint;
mod summary;
mod tenant;

use std::fmt;

pub use cluster::{ClusterTiming, DEFAULT_PEER_TIMEOUT};
pub use summary::{
    CheckConfigOutput, check_config_output, check_config_output_bytes, check_config_output_with,
    failed_files_message,
};
pub use tenant::{TenantBackend, TenantLimits, TenantRules, upload_size};

use crate::config::Config;
use crate::error::Result;

/// What to check besides Alertmanager's own rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Cortex/Mimir tenant rules (errors).
    pub tenant: Option<TenantRules>,
    /// The cluster the configuration runs in (warnings).
    pub cluster: Option<ClusterTiming>,
    /// Whether to run the lints (warnings).
    pub lints: bool,
}

/// What a successful validation found worth a look.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Warnings, cluster timing first, then lints in configuration order.
    pub warnings: Vec<Warning>,
}

/// A finding that does not make the configuration invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where (`route.routes[2]`, `receivers[3]`).
    pub path: String,
    /// What kind of finding.
    pub kind: WarningKind,
    /// What is wrong and why it matters.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The kinds of [`Warning`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WarningKind {
    /// A `group_wait` shorter than the wait of the last peer of the cluster.
    GroupWaitShorterThanClusterWait,
    /// A route after a catch-all sibling without `continue`.
    UnreachableRoute,
    /// A receiver no route names.
    UnusedReceiver,
    /// A regex that matches no value.
    RegexMatchesNothing,
}

/// Checks `config`: Alertmanager's rules first (the first violation is the error, with
/// Alertmanager's wording), then the tenant rules if asked for (their first violation is
/// the error), then cluster timing and lints if asked for (warnings).
///
/// The tenant size limit is checked against [`Config::to_yaml`]; use [`validate_yaml`]
/// to check the text as it will be uploaded.
pub fn validate(config: &Config, options: &Options) -> Result<Report> {
    alertmanager::check(config)?;
    finish(config, None, options)
}

/// Reads `text` as Alertmanager does ([`Config::from_yaml`]) and checks it as
/// [`validate`] does, counting the tenant size limit on `text` itself.
///
/// ```
/// use alert_router::validate::{Options, TenantLimits, TenantRules, validate_yaml};
/// let text = "route: {receiver: r}\nreceivers: [{name: r}]\n";
/// let tenant = TenantRules {
///     limits: TenantLimits { max_config_size_bytes: Some(10), ..Default::default() },
///     ..Default::default()
/// };
/// let options = Options { tenant: Some(tenant), ..Options::default() };
/// let e = validate_yaml(text, &options).unwrap_err();
/// assert_eq!(e.alertmanager_message(), "Alertmanager configuration is too big, limit: 10 bytes");
/// ```
pub fn validate_yaml(text: &str, options: &Options) -> Result<(Config, Report)> {
    let config = Config::from_yaml(text)?;
    let report = finish(&config, Some(text), options)?;
    Ok((config, report))
}

fn finish(config: &Config, text: Option<&str>, options: &Options) -> Result<Report> {
    if let Some(tenant) = &options.tenant {
        match text {
            Some(text) => tenant.check(config, text)?,
            None => tenant.check(config, &config.to_yaml())?,
        }
    }
    let mut report = Report::default();
    if let Some(cluster) = &options.cluster {
        cluster.check(&config.route, &mut report.warnings);
    }
    if options.lints {
        lint::lint(config, &mut report.warnings);
    }
    Ok(report)
}
