//! The in-memory option runs the whole conformance suite too (one private database per case; a
//! case's two instances are one store, as nothing else can reach a private in-memory database).

use conformance_tests::{TestStore, in_process};
use session_store_sqlite::SqliteStore;

conformance_tests::store_suite! {
    factory: in_process(|| async {
        let store = SqliteStore::open_in_memory().await.expect("an in-memory database opens");
        TestStore::builder(store).subject_index().cleanup().enumerate().build()
    }),
    subject_index: true,
    cleanup: true,
    enumerate: true,
}
