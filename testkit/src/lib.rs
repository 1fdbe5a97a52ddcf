//! Test machinery (see the crate description). Filled in by the foundation issue.
