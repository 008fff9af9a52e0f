//! A down server, a restart, and an exhausted or blocked pool: typed errors within the timeouts,
//! no panic, no hang, and the same store works again afterwards. The server here is a throwaway
//! MariaDB of this test's own, so it can be killed.

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use session_core::{SessionId, Store, StoreError};
use session_store_mysql::MySqlStore;
use session_store_mysql::sqlx::{self, AssertSqlSafe};
use session_test_support::{MariaDbServer, assert_unavailable, mysql_url, until_recovered};

const TTL: Duration = Duration::from_secs(3600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_is_unavailable_then_recovers_with_the_same_pool() {
    let server = MariaDbServer::start();
    let store = MySqlStore::builder()
        .acquire_timeout(Duration::from_secs(1))
        .operation_timeout(Duration::from_secs(2))
        .connect(&server.url())
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let id = SessionId::from_bytes([7; 32]);
    store
        .set(&id, "k", json!("before"), TTL)
        .await
        .expect("set before the outage");

    server.kill();
    for attempt in 0..3 {
        let start = Instant::now();
        assert_unavailable(store.get(&id, "k", None).await, "get during the outage");
        assert_unavailable(
            store.set(&id, "k", json!("during"), TTL).await,
            "set during the outage",
        );
        assert_unavailable(store.incr(&id, "n", 1, TTL).await, "incr during the outage");
        // Each within the operation timeout (2 s), with slack for a loaded machine.
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "attempt {attempt} took {:?}",
            start.elapsed()
        );
    }

    server.resume();
    let value = until_recovered(Duration::from_secs(60), || store.get(&id, "k", None)).await;
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
    assert_eq!(
        store.get(&id, "n", None).await.unwrap(),
        None,
        "an incr that failed landed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_is_unavailable_within_the_acquire_timeout() {
    let store = MySqlStore::builder()
        .acquire_timeout(Duration::from_millis(500))
        .max_connections(2)
        .connect(mysql_url())
        .await
        .expect("connect");
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
    // No table yet: a server error, typed, not a panic.
    let missing = store.get_all(&SessionId::from_bytes([1; 32]), None).await;
    assert!(
        matches!(missing, Err(StoreError::Backend { .. })),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_server_that_is_not_there_is_unavailable_at_connect() {
    let port = session_test_support::process::free_port();
    let start = Instant::now();
    let result = MySqlStore::builder()
        .acquire_timeout(Duration::from_millis(500))
        .connect(&format!("mysql://root@127.0.0.1:{port}/test"))
        .await;
    assert_unavailable(result, "connect to a closed port");
    assert!(start.elapsed() < Duration::from_secs(5));
    let bad = MySqlStore::connect("not a url").await;
    assert!(matches!(bad, Err(StoreError::InvalidInput(_))), "{bad:?}");
}

/// 32 writes against a pool of 4, made slow by another client holding their session's row lock:
/// all end in `Unavailable` within the timeouts, nothing deadlocks, and none of them lands later
/// (the server gave up on each before the client did), and once the lock is released the same
/// store works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_blocked_by_a_row_lock_fail_and_never_land_later() {
    let store = common::fresh_store("outage", "blocked", |b| {
        b.acquire_timeout(Duration::from_millis(500))
            .operation_timeout(Duration::from_millis(1500))
            .max_connections(4)
    })
    .await;
    let id = SessionId::from_bytes([9; 32]);
    store.set(&id, "k", json!(0), TTL).await.unwrap();

    let blocker = sqlx::MySqlPool::connect(mysql_url()).await.unwrap();
    let mut tx = blocker.begin().await.unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "SELECT 1 FROM `{}` WHERE id = ? FOR UPDATE",
        store.table()
    )))
    .bind(id.as_bytes().as_slice())
    .execute(&mut *tx)
    .await
    .unwrap();

    let ops: Vec<_> = (0..32)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let began = Instant::now();
                let result = match i % 3 {
                    0 => store.set(&id, &format!("k{i}"), json!(i), TTL).await,
                    1 => store.incr(&id, &format!("k{i}"), 1, TTL).await.map(drop),
                    _ => store.del(&id, "k", TTL).await,
                };
                (result, began.elapsed())
            })
        })
        .collect();
    for op in ops {
        let (result, took) = tokio::time::timeout(Duration::from_secs(10), op)
            .await
            .expect("a deadlock or hang")
            .unwrap();
        assert_unavailable(result, "a blocked write");
        assert!(took < Duration::from_secs(3), "an operation took {took:?}");
    }
    // Hold the lock past the server's own limit for the last of them, then release it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    tx.rollback().await.unwrap();
    until_recovered(Duration::from_secs(10), || {
        store.set(&id, "after", json!(true), TTL)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = store.get_all(&id, None).await.unwrap().unwrap_or_default();
    let late: Vec<&String> = all
        .keys()
        .filter(|k| k.as_str() != "after" && k.as_str() != "k")
        .collect();
    assert!(
        late.is_empty(),
        "writes reported Unavailable landed later: {late:?}"
    );
    assert_eq!(
        all.get("k"),
        Some(&json!(0)),
        "a del reported Unavailable landed later"
    );
}
