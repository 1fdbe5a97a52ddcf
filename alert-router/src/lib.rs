//! The Alertmanager configuration model (route tree, receivers, inhibit rules, time
//! intervals) read and written as YAML that real Alertmanager 0.25 accepts; validation;
//! routing an alert exactly as Alertmanager does; and a builder that renders one
//! configuration per tenant from `alert_core` conditions and endpoints.
//!
//! Pure: no I/O beyond reading and writing strings. Work on this crate is tracked in the
//! alert-router issue; nothing is implemented here yet.

pub mod builder;
pub mod config;
pub mod error;
pub mod inhibit;
pub mod route;
pub mod time_interval_eval;
pub mod validate;
