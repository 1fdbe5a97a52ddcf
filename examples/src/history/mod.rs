//! `alert-history-server`: Alertmanager's webhook receiver that records every alert in
//! an [`alert_history`] store and serves episodes, health timelines and exports.
//!
//! The routes are [`alert_history::server`]'s; this module holds what makes them a
//! process. Flags: [`config::Args`]; start-up, background tasks and shutdown:
//! [`run::run`].

pub mod config;
pub mod ops;
pub mod run;
