//! The Redis store runs the whole conformance suite against a 3-master Redis Cluster with the client-side cache on (a tracking connection to every master): each case
//! under a key prefix of its own, each store the case asks for a new cluster client.

mod common;

use conformance_tests::{Namespace, TestStore};
use session_store_redis::RedisStore;
use session_test_support::redis_cluster_urls;

conformance_tests::store_suite! {
    factory: |ns: Namespace| async move {
        let urls = redis_cluster_urls();
        let store = RedisStore::cluster_builder(urls.iter().cloned())
            .prefix(common::case_prefix("cluster-cached", &ns))
            .client_cache(1_000)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("cannot connect to Redis Cluster at {urls:?}: {e}"));
        TestStore::builder(store)
            .subject_index()
            .enumerate()
            .build()
    },
    subject_index: true,
    enumerate: true,
}
