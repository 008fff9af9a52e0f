//! A down server, a restart, and an exhausted pool: typed errors within the timeouts, no panic, no
//! hang, and the same store works again afterwards. The server here is a throwaway cluster of this
//! test's own, so it can be killed.

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use session_core::{SessionId, Store, StoreError};
use session_store_postgres::PostgresStore;
use session_test_support::{PgCluster, assert_unavailable, until_recovered};

const TTL: Duration = Duration::from_secs(3600);

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
    let value = until_recovered(Duration::from_secs(30), || store.get(&id, "k", None)).await;
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

/// 64 operations against a pool of 4, made slow by another client holding their session's row
/// lock: the 4 that get a connection wait on the lock until the operation timeout, the other 60
/// give up at the acquire timeout; all end in `Unavailable`, nothing deadlocks, and once the lock
/// is released the same store works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_slow_operations_on_a_pool_of_four() {
    const ACQUIRE: Duration = Duration::from_millis(300);
    const OPERATION: Duration = Duration::from_millis(1500);
    let store = common::store_with("slowpool", |b| {
        b.acquire_timeout(Duration::from_millis(300))
            .operation_timeout(Duration::from_millis(1500))
            .max_connections(4)
    })
    .await;
    let id = SessionId::from_bytes([9; 32]);
    store.set(&id, "k", json!(0), TTL).await.unwrap();

    // Another client locks the session's row, as a long transaction would.
    let tx = lock_row(&store, &id).await;

    let start = Instant::now();
    let ops: Vec<_> = (0..64)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let began = Instant::now();
                let result = store.set(&id, &format!("k{i}"), json!(i), TTL).await;
                (result, began.elapsed())
            })
        })
        .collect();
    let mut by_acquire = 0;
    for op in ops {
        let (result, took) = tokio::time::timeout(Duration::from_secs(10), op)
            .await
            .expect("a deadlock or hang")
            .unwrap();
        assert_unavailable(result, "a slow operation");
        assert!(
            took < OPERATION + Duration::from_millis(500),
            "an operation took {took:?}"
        );
        if took < ACQUIRE + Duration::from_millis(500) {
            by_acquire += 1;
        }
    }
    println!(
        "64 slow operations on 4 connections: all Unavailable in {:?}; {by_acquire} at the acquire timeout",
        start.elapsed()
    );
    assert!(
        by_acquire >= 56,
        "most operations gave up waiting for a connection: {by_acquire}"
    );

    tx.rollback().await.unwrap();
    until_recovered(Duration::from_secs(10), || {
        store.set(&id, "after", json!(true), TTL)
    })
    .await;
    assert_eq!(
        store.get(&id, "after", None).await.unwrap(),
        Some(json!(true))
    );
    // Give any statement still queued on the server time to land, if it were going to.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = store.get_all(&id, None).await.unwrap().unwrap_or_default();
    let late: Vec<&String> = all
        .keys()
        .filter(|k| k.starts_with('k') && k.as_str() != "k")
        .collect();
    assert!(
        late.is_empty(),
        "writes reported Unavailable landed later: {late:?}"
    );
}

/// A pool brought by the application had no `statement_timeout`: a write that timed out on the
/// client while waiting on a row lock ran anyway once the lock was released, so an operation
/// reported as failed took effect. Built with `PostgresStoreBuilder::statement_timeout`, the
/// server gives up first and the write is rolled back. The plain pool is run too, to show the
/// check can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brought_pool_with_the_statement_timeout_never_applies_a_timed_out_write() {
    use session_store_postgres::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use std::str::FromStr;

    fn configure(
        b: session_store_postgres::PostgresStoreBuilder,
    ) -> session_store_postgres::PostgresStoreBuilder {
        b.operation_timeout(Duration::from_millis(800))
    }
    let url = session_test_support::postgres_url();
    let plain = PgConnectOptions::from_str(url).unwrap();
    for with_helper in [true, false] {
        let options = match with_helper {
            true => configure(PostgresStore::builder()).statement_timeout(plain.clone()),
            false => plain.clone(),
        };
        let pool = PgPoolOptions::new().connect_with(options).await.unwrap();
        let store = common::store_on_pool_with("broughtpool", pool, configure).await;
        let id = SessionId::from_bytes([if with_helper { 11 } else { 12 }; 32]);
        store.set(&id, "k", json!(0), TTL).await.unwrap();

        let tx = lock_row(&store, &id).await;
        assert_unavailable(
            store.set(&id, "late", json!(true), TTL).await,
            "a write behind a lock",
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        tx.rollback().await.unwrap();
        // Give a statement still queued on the server time to land, if it were going to.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let late = store.get(&id, "late", None).await.unwrap();
        match with_helper {
            true => assert_eq!(late, None, "a write reported Unavailable was applied later"),
            false => assert_eq!(
                late,
                Some(json!(true)),
                "without the timeout the late write lands (the check can fail)"
            ),
        }
    }
}

/// Another client's transaction holding the row lock of session `id`, until it is rolled back.
async fn lock_row(
    store: &PostgresStore,
    id: &SessionId,
) -> session_store_postgres::sqlx::Transaction<'static, session_store_postgres::sqlx::Postgres> {
    let blocker =
        session_store_postgres::sqlx::PgPool::connect(session_test_support::postgres_url())
            .await
            .unwrap();
    let mut tx = blocker.begin().await.unwrap();
    session_store_postgres::sqlx::query(session_store_postgres::sqlx::AssertSqlSafe(format!(
        "SELECT 1 FROM \"{}\".\"{}\" WHERE id = $1 FOR UPDATE",
        store.schema(),
        store.table()
    )))
    .bind(id.as_bytes().as_slice())
    .execute(&mut *tx)
    .await
    .unwrap();
    tx
}
