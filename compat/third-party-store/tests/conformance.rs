//! The conformance kit, used as a third party would: two suites in one file, named options. The
//! store keeps its data in the process, so a case's two instances are one store (`in_process`).

use conformance_tests::{TestStore, in_process};
use third_party_store::ShardedStore;

conformance_tests::store_suite! {
    name: one_shard,
    factory: in_process(|| async { TestStore::builder(ShardedStore::with_shards(1)).build() }),
}

conformance_tests::store_suite! {
    enumerate: false,
    factory: in_process(|| async { TestStore::builder(ShardedStore::with_shards(16)).build() }),
    subject_index: false,
    name: sixteen_shards,
}
