//! The Redis store runs the whole conformance suite against a 3-master Redis Cluster with the
//! client-side cache on (a tracking connection to every master): each case under a key prefix of
//! its own, each store the case asks for a new cluster client.
//!
//! Both instances of a case share one store, and so one cache (`in_process`): the kit's
//! cross-instance cases expect a write through one instance to be read at once through the
//! other, and two caches agree only within the staleness bound (100 ms; an invalidation usually
//! arrives within a millisecond, which the suite's back-to-back steps can outrun, most often on
//! a cluster, where the write and the next read go to different nodes). Separate caches over
//! one server are tested against the bound itself in `cache_coherence.rs`.

mod common;

use session_store_redis::RedisStore;
use session_test_support::redis_cluster_urls;

conformance_tests::store_suite! {
    factory: conformance_tests::in_process(|| async {
        let urls = redis_cluster_urls();
        let builder = RedisStore::cluster_builder(urls.iter().cloned()).client_cache(1_000);
        common::suite_store(builder, common::next_prefix("cluster-cached"), &format!("Redis Cluster at {urls:?}")).await
    }),
    subject_index: true,
    enumerate: true,
}
