//! The store conformance suite against the PostgreSQL store, on a real PostgreSQL server
//! of the test kit (one per test binary) with a fresh database per test.
#![cfg(feature = "postgres")]

use alert_history::HistoryStore;
use alert_history::conformance::Backend;
use alert_history::postgres::PostgresStore;
use alert_testkit::postgres::PostgresServer;

/// A fresh database per test; every `open` is a new store (new connections) on it.
struct Postgres {
    url: String,
}

impl Backend for Postgres {
    fn open(&self) -> Box<dyn HistoryStore> {
        Box::new(PostgresStore::connect(&self.url).expect("connect store"))
    }
}

alert_history::conformance_suite!(Postgres {
    url: PostgresServer::shared().create_database().url()
});
