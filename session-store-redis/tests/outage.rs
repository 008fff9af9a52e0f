//! A Redis server killed under a running store: operations return `Unavailable` within the
//! configured timeout (no panic, no hang), and succeed again after the restart without rebuilding
//! the store. The server is a throwaway of this test's own, so it can be killed.

use std::time::{Duration, Instant};

use serde_json::json;
use session_core::{SessionId, Store, StoreError};
use session_store_redis::RedisStore;
use session_test_support::{RedisServer, assert_unavailable, until_recovered};

const TTL: Duration = Duration::from_secs(3600);
const TIMEOUT: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_is_unavailable_then_recovers_with_the_same_store() {
    let mut server = RedisServer::start();
    let store = RedisStore::builder(server.url())
        .operation_timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .connect()
        .await
        .expect("connect");
    let id = SessionId::from_bytes([3; 32]);
    store
        .set(&id, "k", json!("before"), TTL)
        .await
        .expect("set before the outage");

    server.kill();
    for attempt in 0..5 {
        let start = Instant::now();
        assert_unavailable(store.get(&id, "k", None).await, "get during the outage");
        assert_unavailable(
            store.set(&id, "k", json!("during"), TTL).await,
            "set during the outage",
        );
        assert_unavailable(store.extend(&id, TTL).await, "extend during the outage");
        // Three operations, each within the timeout, with slack for a loaded machine.
        let took = start.elapsed();
        assert!(
            took < 3 * TIMEOUT + Duration::from_millis(500),
            "attempt {attempt} took {took:?}"
        );
    }

    server.resume();
    until_recovered(Duration::from_secs(30), || {
        store.set(&id, "k", json!("after"), TTL)
    })
    .await;
    // The restarted server kept nothing (no persistence): the session is the one written after.
    assert_eq!(
        store.get_all(&id, None).await.unwrap(),
        Some(serde_json::from_value(json!({"k": "after"})).unwrap())
    );
}

#[tokio::test]
async fn nothing_listening_is_unavailable_at_connect() {
    let port = session_test_support::process::free_port();
    let start = Instant::now();
    let result = RedisStore::builder(format!("redis://127.0.0.1:{port}"))
        .connect_timeout(TIMEOUT)
        .connect()
        .await;
    assert_unavailable(result, "connect to a closed port");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    let bad = RedisStore::builder("not a url").connect().await;
    assert!(matches!(bad, Err(StoreError::InvalidInput(_))), "{bad:?}");
    let braces = RedisStore::builder("redis://127.0.0.1")
        .prefix("a{b}")
        .connect()
        .await;
    assert!(
        matches!(braces, Err(StoreError::InvalidInput(_))),
        "{braces:?}"
    );
}
