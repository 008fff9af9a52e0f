//! The in-memory option runs the whole conformance suite too (one private database per case).

use conformance_tests::TestStore;
use session_store_sqlite::SqliteStore;

conformance_tests::store_suite!(
    || async {
        let store = SqliteStore::open_in_memory().await.expect("an in-memory database opens");
        TestStore::builder(store).subject_index().cleanup().enumerate().build()
    },
    subject_index: yes,
    cleanup: yes,
    enumerate: yes
);
