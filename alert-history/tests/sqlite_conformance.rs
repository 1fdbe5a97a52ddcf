//! The store conformance suite against the embedded SQLite store.
#![cfg(feature = "sqlite")]

use alert_history::HistoryStore;
use alert_history::conformance::Backend;
use alert_history::sqlite::SqliteStore;

/// A fresh database file per test; every `open` opens the same file.
struct Sqlite {
    dir: tempfile::TempDir,
}

impl Backend for Sqlite {
    fn open(&self) -> Box<dyn HistoryStore> {
        Box::new(SqliteStore::open(self.dir.path().join("history.db")).expect("open store"))
    }
}

alert_history::conformance_suite!(Sqlite {
    dir: tempfile::tempdir().expect("temp dir")
});

#[test]
fn brief_queries_leave_out_details() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("history.db")).expect("open store");
    alert_history::conformance::brief_queries_leave_out_details(&store);
}
