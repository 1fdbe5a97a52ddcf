//! `alert-health`: evaluate a health graph once (`eval`) or keep evaluating it and serve
//! its status page, JSON, Statuspage `summary.json` and metrics (`serve`).
//!
//! * [`cli`]: arguments, loading the graph file, and the `eval` command.
//! * [`server`]: the HTTP server of `serve`, reading what the evaluator publishes.
//! * [`metrics`]: the Prometheus text exposition of a snapshot.

pub mod cli;
pub mod metrics;
pub mod server;
