//! Shared pieces of the example binaries.
