//! The Redis store runs the whole conformance suite against standalone Redis: each case under a
//! key prefix of its own, each store the case asks for a new client.

mod common;

use conformance_tests::{Namespace, TestStore};
use session_store_redis::RedisStore;
use session_test_support::redis_url;

conformance_tests::store_suite! {
    factory: |ns: Namespace| async move {
        let url = redis_url();
        let store = RedisStore::builder(url)
            .prefix(common::case_prefix("standalone", &ns))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("cannot connect to Redis at {url}: {e}"));
        TestStore::builder(store)
            .subject_index()
            .enumerate()
            .build()
    },
    subject_index: true,
    enumerate: true,
}
