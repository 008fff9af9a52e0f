//! The whole conformance suite against standalone Redis with the client-side cache on: every
//! read that can be cached is, so a store that served a stale reply after its own write (or
//! after a `take`, a `del_all` or a revocation) fails the suite's cases.
//!
//! Both instances of a case share one store, and so one cache (`in_process`): the kit's
//! cross-instance cases expect a write through one instance to be read at once through the
//! other, and two caches agree only within the staleness bound (100 ms; an invalidation usually
//! arrives within a millisecond, which the suite's back-to-back steps can outrun, most often on
//! a cluster, where the write and the next read go to different nodes). Separate caches over
//! one server are tested against the bound itself in `cache_coherence.rs`.

mod common;

use session_store_redis::RedisStore;
use session_test_support::redis_url;

conformance_tests::store_suite! {
    factory: conformance_tests::in_process(|| async {
        let url = redis_url();
        let builder = RedisStore::builder(url).client_cache(1_000);
        common::suite_store(builder, common::next_prefix("cached"), &format!("Redis at {url}")).await
    }),
    subject_index: true,
    enumerate: true,
}
