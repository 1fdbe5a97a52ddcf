//! Checking configurations: Alertmanager's own rules, and on request Cortex/Mimir tenant
//! rules, cluster timing and lints.

pub mod alertmanager;
mod summary;

pub use summary::{CheckConfigOutput, check_config_output, failed_files_message};
