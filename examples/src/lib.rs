//! Shared pieces of the example binaries.

pub mod alertctl;
pub mod demo;
pub mod health;
pub mod history;
pub mod server_main;
