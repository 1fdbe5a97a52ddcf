//! `alert-history-server`: Alertmanager's webhook receiver that records every alert in
//! an [`alert_history`] store and serves episodes, health timelines and exports.
//!
//! Flags: [`config::Args`]; routes: [`server`]; the process: [`run::run`].

pub mod auth;
pub mod clock;
pub mod config;
pub mod metrics;
pub mod params;
pub mod run;
pub mod server;
