//! The SQLite store runs the whole conformance suite against one database file, with a new store
//! instance (its own connection pool) per case, so instances share the file as processes would.

use std::path::PathBuf;
use std::sync::OnceLock;

use conformance_tests::TestStore;
use session_store_sqlite::SqliteStore;

/// One file for the whole run, in cargo's scratch directory for integration tests.
fn database() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("sqlite-conformance-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        path
    })
}

conformance_tests::store_suite!(
    || async {
        let store = SqliteStore::open(database())
            .await
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", database().display()));
        TestStore::builder(store).subject_index().cleanup().enumerate().build()
    },
    subject_index: yes,
    cleanup: yes,
    enumerate: yes
);
