//! The conformance kit, used as a third party would: two suites in one file, named options.

use conformance_tests::TestStore;
use third_party_store::ShardedStore;

conformance_tests::store_suite! {
    name: one_shard,
    factory: || async { TestStore::builder(ShardedStore::with_shards(1)).build() },
}

conformance_tests::store_suite! {
    enumerate: false,
    factory: || async { TestStore::builder(ShardedStore::with_shards(16)).build() },
    subject_index: false,
    name: sixteen_shards,
}
