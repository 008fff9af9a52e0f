//! The Redis store runs the whole conformance suite against a 3-master Redis Cluster.

mod common;

use conformance_tests::TestStore;
use session_store_redis::RedisStore;
use session_test_support::redis_cluster_urls;
use tokio::sync::OnceCell;

async fn shared() -> RedisStore {
    static STORE: OnceCell<RedisStore> = OnceCell::const_new();
    let connect = || async {
        let urls = redis_cluster_urls();
        RedisStore::cluster_builder(urls.iter().cloned())
            .prefix(common::unique_prefix("cluster"))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("cannot connect to Redis Cluster at {urls:?}: {e}"))
    };
    STORE.get_or_init(connect).await.clone()
}

conformance_tests::store_suite!(
    || async { TestStore::builder(shared().await).subject_index().build() },
    subject_index: yes,
    cleanup: no,
    enumerate: no
);
