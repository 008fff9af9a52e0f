//! The whole conformance suite against standalone Redis with the client-side cache on: every
//! read that can be cached is, so a store that served a stale reply after its own write (or
//! after a `take`, a `del_all` or a revocation) fails the suite's cases.

mod common;

use conformance_tests::{Namespace, TestStore};
use session_store_redis::RedisStore;
use session_test_support::redis_url;

conformance_tests::store_suite! {
    factory: |ns: Namespace| async move {
        let url = redis_url();
        let store = RedisStore::builder(url)
            .prefix(common::case_prefix("cached", &ns))
            .client_cache(1_000)
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
