//! The SQLite store runs the whole conformance suite: one database file per case (removed when
//! the case ends), and a new store
//! instance (its own connection pool) for each store the case asks for, so a case's two instances
//! share their file as two processes would.

use std::path::PathBuf;
use std::sync::OnceLock;

use conformance_tests::{Namespace, TestStore};
use session_store_sqlite::SqliteStore;

/// This run's directory, in cargo's scratch directory for integration tests.
fn directory() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("sqlite-conformance-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        path
    })
}

conformance_tests::store_suite! {
    factory: |ns: Namespace| async move {
        let file = directory().join(format!("{ns}.db"));
        let store = SqliteStore::open(&file)
            .await
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", file.display()));
        TestStore::builder(store)
            .subject_index()
            .cleanup()
            .enumerate()
            // The case's file and its write-ahead log go with it.
            .teardown(move || {
                let file = file.clone();
                async move {
                    for suffix in ["", "-wal", "-shm"] {
                        let mut path = file.clone().into_os_string();
                        path.push(suffix);
                        let _ = tokio::fs::remove_file(path).await;
                    }
                }
            })
            .build()
    },
    subject_index: true,
    cleanup: true,
    enumerate: true,
}
