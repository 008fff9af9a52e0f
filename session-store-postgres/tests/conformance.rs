//! The PostgreSQL store runs the whole conformance suite, in a schema of this run's own: each case
//! in tables of its own, each store the case asks for a new store on the run's pool.

mod common;

use conformance_tests::{Namespace, TestStore};

conformance_tests::store_suite! {
    factory: |ns: Namespace| async move {
        let store = common::store_for_case("conformance", None, ns).await;
        TestStore::builder(store).subject_index().cleanup().enumerate().build()
    },
    subject_index: true,
    cleanup: true,
    enumerate: true,
}
