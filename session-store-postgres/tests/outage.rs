//! A down server, a restart, and an exhausted pool: typed errors within the timeouts, no panic, no
//! hang, and the same store works again afterwards. The server here is a throwaway cluster of this
//! test's own, so it can be killed.

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use session_core::{SessionId, Store, StoreError};
use session_store_postgres::PostgresStore;
use session_test_support::PgCluster;

const TTL: Duration = Duration::from_secs(3600);

fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Unavailable { .. })),
        "{what}: expected Unavailable, got {result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_is_unavailable_then_recovers_with_the_same_pool() {
    let cluster = PgCluster::start();
    let store = PostgresStore::builder()
        .acquire_timeout(Duration::from_secs(1))
        .operation_timeout(Duration::from_secs(2))
        .connect(&cluster.url())
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let id = SessionId::from_bytes([7; 32]);
    store
        .set(&id, "k", json!("before"), TTL)
        .await
        .expect("set before the outage");

    cluster.kill();
    for attempt in 0..3 {
        let start = Instant::now();
        assert_unavailable(store.get(&id, "k", None).await, "get during the outage");
        assert_unavailable(
            store.set(&id, "k", json!("during"), TTL).await,
            "set during the outage",
        );
        // Each within the operation timeout (2 s), with slack for a loaded machine.
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "attempt {attempt} took {:?}",
            start.elapsed()
        );
    }

    cluster.resume();
    let deadline = Instant::now() + Duration::from_secs(30);
    let value = loop {
        match store.get(&id, "k", None).await {
            Ok(value) => break value,
            Err(e) => {
                assert!(
                    e.is_transient(),
                    "a non-transient error after restart: {e:?}"
                );
                assert!(
                    Instant::now() < deadline,
                    "the store never recovered: {e:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert_eq!(
        value,
        Some(json!("before")),
        "data written before the outage"
    );
    store
        .set(&id, "k", json!("after"), TTL)
        .await
        .expect("set after the restart");
    assert_eq!(
        store.get(&id, "k", None).await.unwrap(),
        Some(json!("after"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_is_unavailable_within_the_acquire_timeout() {
    let store = common::store_with("exhausted", |b| {
        b.acquire_timeout(Duration::from_millis(500))
            .max_connections(2)
    })
    .await;
    let held = [
        store.pool().acquire().await.unwrap(),
        store.pool().acquire().await.unwrap(),
    ];
    let start = Instant::now();
    assert_unavailable(
        store.get_all(&SessionId::from_bytes([1; 32]), None).await,
        "get_all on a full pool",
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
    drop(held);
    assert_eq!(
        store
            .get_all(&SessionId::from_bytes([1; 32]), None)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_server_that_is_not_there_is_unavailable_at_connect() {
    let port = session_test_support::process::free_port();
    let start = Instant::now();
    let result = PostgresStore::builder()
        .acquire_timeout(Duration::from_millis(500))
        .connect(&format!("postgres://postgres@127.0.0.1:{port}/postgres"))
        .await;
    assert_unavailable(result, "connect to a closed port");
    assert!(start.elapsed() < Duration::from_secs(5));
    let bad = PostgresStore::connect("not a url").await;
    assert!(matches!(bad, Err(StoreError::InvalidInput(_))), "{bad:?}");
}
