//! Sensors, Systems and Services (the Alpacalert design) over a DAG: an instrumentor
//! registry keyed by `Kind(namespace, name)`, evaluation with timeouts, bounded
//! concurrency and explanations, visualisers (console, JSON, HTML status page), and an
//! evaluator that turns component health over time into alerts. Nothing is implemented
//! here yet.
