//! The Alertmanager configuration model (route tree, receivers, inhibit rules, time
//! intervals) read and written as YAML that real Alertmanager 0.25 accepts; validation
//! with Alertmanager's rules (plus Cortex/Mimir tenant limits, HA timing and lints);
//! routing an alert exactly as Alertmanager does; and a [`builder`] that renders one
//! configuration per tenant from `alert_core` conditions and endpoints.
//!
//! Pure: no I/O beyond reading and writing strings, no async runtime.
//!
//! ```
//! use alert_core::LabelSet;
//! use alert_router::{Config, RoutingTree};
//!
//! let config = Config::from_yaml(r#"
//! route:
//!   receiver: default
//!   routes:
//!     - {receiver: pager, matchers: ['severity=~"critical|page"']}
//! receivers: [{name: default}, {name: pager}]
//! "#)?;
//! alert_router::validate::alertmanager::check(&config)?;
//! let tree = RoutingTree::new(&config.route)?;
//! let alert = LabelSet::from_pairs([("alertname", "DiskFull"), ("severity", "page")])?;
//! assert_eq!(tree.receivers(&alert), ["pager"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "library code returns errors; tests may unwrap"
    )
)]

pub mod builder;
pub mod config;
pub mod error;
pub mod inhibit;
pub mod route;
pub mod rules;
pub mod time_interval_eval;
pub mod validate;

pub use builder::{BuildOptions, Builder};
pub use config::Config;
pub use error::{Error, Result};
pub use inhibit::Inhibitor;
pub use route::RoutingTree;
pub use rules::{RuleFile, RuleGroup};
