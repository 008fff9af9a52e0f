//! The Redis store runs the whole conformance suite against a 3-master Redis Cluster: each case
//! under a key prefix of its own, each store the case asks for a new cluster client.

mod common;

use conformance_tests::Namespace;
use session_store_redis::RedisStore;
use session_test_support::redis_cluster_urls;

conformance_tests::store_suite! {
    factory: |ns: Namespace| async move {
        let urls = redis_cluster_urls();
        let builder = RedisStore::cluster_builder(urls.iter().cloned());
        common::suite_store(builder, common::case_prefix("cluster", &ns), &format!("Redis Cluster at {urls:?}")).await
    },
    subject_index: true,
    enumerate: true,
}
