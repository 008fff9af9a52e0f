//! The MySQL store runs the whole conformance suite against a real server (MariaDB here): each
//! case in a table of its own, each store the case asks for a new store on the run's pool.

mod common;

use conformance_tests::{Namespace, TestStore};

conformance_tests::store_suite! {
    factory: |ns: Namespace| async move {
        let store = common::store_in_table("conformance", ns.as_str()).await;
        TestStore::builder(store).subject_index().cleanup().enumerate().build()
    },
    subject_index: true,
    cleanup: true,
    enumerate: true,
}
