//! The whole conformance suite against standalone Redis with the client-side cache on: every
//! read that can be cached is, so a store that served a stale reply after its own write (or
//! after a `take`, a `del_all` or a revocation) fails the suite's cases.

mod common;

use conformance_tests::Namespace;
use session_store_redis::RedisStore;
use session_test_support::redis_url;

conformance_tests::store_suite! {
    factory: |ns: Namespace| async move {
        let url = redis_url();
        let builder = RedisStore::builder(url).client_cache(1_000);
        common::suite_store(builder, "cached", &ns, &format!("Redis at {url}")).await
    },
    subject_index: true,
    enumerate: true,
}
