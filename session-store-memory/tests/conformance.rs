//! The memory store runs the whole conformance suite. Its data lives in the store itself, so a
//! case's two instances are one store (`in_process`).

use conformance_tests::{TestStore, in_process};
use session_store_memory::MemoryStore;

conformance_tests::store_suite! {
    factory: in_process(|| async {
        TestStore::builder(MemoryStore::new()).subject_index().enumerate().build()
    }),
    subject_index: true,
    enumerate: true,
}
