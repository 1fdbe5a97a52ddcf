//! Shared pieces of the example binaries.

pub mod history;
