//! The Redis store runs the whole conformance suite against standalone Redis: each case under a
//! key prefix of its own, each store the case asks for a new client.

mod common;

use conformance_tests::Namespace;
use session_store_redis::RedisStore;
use session_test_support::redis_url;

conformance_tests::store_suite! {
    factory: |ns: Namespace| async move {
        let url = redis_url();
        let builder = RedisStore::builder(url);
        common::suite_store(builder, common::case_prefix("standalone", &ns), &format!("Redis at {url}")).await
    },
    subject_index: true,
    enumerate: true,
}
