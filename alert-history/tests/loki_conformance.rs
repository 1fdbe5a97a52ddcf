//! The store conformance suite against the Loki store, talking to the Loki fixture of
//! the test kit (Loki's push and query_range API with its default limits, auth on).
#![cfg(feature = "loki")]

use alert_history::HistoryStore;
use alert_history::conformance::Backend;
use alert_history::loki::{LokiConfig, LokiStore};
use alert_testkit::loki::LokiFixture;

/// A fresh fixture per test; every `open` is a new client of the same Loki and tenant.
struct Loki {
    fixture: LokiFixture,
}

impl Backend for Loki {
    fn open(&self) -> Box<dyn HistoryStore> {
        let mut config = LokiConfig::new(self.fixture.url());
        config.tenant = Some("tenant-a".into());
        // The suite's data spans a few hours with no re-notifications.
        config.lookback = "12h".parse().expect("valid duration");
        Box::new(LokiStore::new(config))
    }
}

alert_history::conformance_suite!(Loki {
    fixture: LokiFixture::start()
});
