//! The memory store runs the whole conformance suite.

use conformance_tests::TestStore;
use session_store_memory::MemoryStore;

conformance_tests::store_suite!(
    || async { TestStore::builder(MemoryStore::new()).subject_index().enumerate().build() },
    subject_index: yes,
    cleanup: no,
    enumerate: yes
);
