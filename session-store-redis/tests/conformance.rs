//! The Redis store runs the whole conformance suite against standalone Redis.

mod common;

use conformance_tests::TestStore;
use session_store_redis::RedisStore;
use session_test_support::redis_url;
use tokio::sync::OnceCell;

async fn shared() -> RedisStore {
    static STORE: OnceCell<RedisStore> = OnceCell::const_new();
    let connect = || async {
        let url = redis_url();
        RedisStore::builder(url)
            .prefix(common::unique_prefix("standalone"))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("cannot connect to Redis at {url}: {e}"))
    };
    STORE.get_or_init(connect).await.clone()
}

conformance_tests::store_suite!(
    || async { TestStore::builder(shared().await).subject_index().build() },
    subject_index: yes,
    cleanup: no,
    enumerate: no
);
