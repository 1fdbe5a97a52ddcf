//! Shared pieces of the example binaries.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "library code returns errors; tests may unwrap"
    )
)]

pub mod alertctl;
pub mod demo;
pub mod health;
pub mod history;
pub mod server_main;
