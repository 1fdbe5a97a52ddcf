//! Every alert Alertmanager sent, with when it fired and cleared: episodes merged from
//! webhook notifications, stores behind one trait (embedded SQLite by default, Grafana
//! Loki for scale), queries by time range and matchers, and health timelines that include
//! the periods when the alerting pipeline itself was down. Nothing is implemented here yet.
