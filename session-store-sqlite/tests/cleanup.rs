//! Cleanup removes exactly the expired sessions, in batches, while live ones stay; the periodic
//! task does the same on its own. Row counts are read straight from the file with rusqlite.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use session_core::{Change, ExpiredCleanup, SessionId, Store, spawn_cleanup};
use session_store_sqlite::SqliteStore;

const LONG: Duration = Duration::from_secs(3600);

/// What is physically in the file: (session rows, keys in their documents).
fn rows(path: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(path).expect("open raw");
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get(0)).unwrap();
    (
        count("SELECT count(*) FROM sessions"),
        count("SELECT count(*) FROM sessions, json_each(sessions.data)"),
    )
}

/// 25 sessions (2 keys each) that expire in 1 ms, and 10 that live, all fresh ids.
async fn populate(store: &SqliteStore) -> (Vec<SessionId>, Vec<SessionId>) {
    let fresh = |n: usize| {
        (0..n)
            .map(|_| session_core::Token::generate().unwrap().id())
            .collect::<Vec<_>>()
    };
    let (expired, live) = (fresh(25), fresh(10));
    for id in &expired {
        let both = vec![
            Change::Set("a".into(), json!(1)),
            Change::Set("b".into(), json!(2)),
        ];
        store
            .set_many(id, both, Duration::from_millis(1))
            .await
            .unwrap();
    }
    for id in &live {
        store.set(id, "a", json!("live"), LONG).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    (expired, live)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_removes_exactly_the_expired_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cleanup.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let (expired, live) = populate(&store).await;
    assert_eq!(rows(&path), (35, 60));

    let batches = [
        store.delete_expired(10).await.unwrap(),
        store.delete_expired(10).await.unwrap(),
        store.delete_expired(10).await.unwrap(),
        store.delete_expired(10).await.unwrap(),
    ];
    assert_eq!(batches, [10, 10, 5, 0]);
    assert_eq!(rows(&path), (10, 10), "only the live sessions' rows remain");
    for id in &live {
        assert_eq!(store.get(id, "a", None).await.unwrap(), Some(json!("live")));
    }
    for id in &expired {
        assert_eq!(store.get_all(id, None).await.unwrap(), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_task_cleans_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("periodic.db");
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    populate(&store).await;
    let task = spawn_cleanup(store.clone(), Duration::from_millis(50), 7);
    let deadline = Instant::now() + Duration::from_secs(20);
    while rows(&path) != (10, 10) {
        assert!(
            Instant::now() < deadline,
            "the periodic cleanup never finished: {:?}",
            rows(&path)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.stop().await;
    // Stopped: new expired rows stay until someone cleans again.
    populate(&store).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rows(&path).0, 45);
}
