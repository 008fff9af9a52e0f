//! Cleanup on PostgreSQL: two cleaners at once on one table finish without deadlock and remove
//! each expired session exactly once; live sessions stay. Migrations run concurrently too.

mod common;

use std::time::Duration;

use serde_json::json;
use session_core::{Change, ExpiredCleanup, SessionId, Store, delete_all_expired};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_cleaners_at_once_remove_each_expired_session_once() {
    let store = common::store_in_fresh_schema("cleanup", None).await;
    let expired: Vec<SessionId> = (0..1500u32)
        .map(|n| {
            let mut bytes = [0u8; 32];
            bytes[..4].copy_from_slice(&n.to_le_bytes());
            SessionId::from_bytes(bytes)
        })
        .collect();
    let live: Vec<SessionId> = (0..20u8)
        .map(|n| SessionId::from_bytes([n; 32].map(|b| b.wrapping_add(200))))
        .collect();
    for id in &expired {
        let batch = vec![
            Change::Set("a".into(), json!(1)),
            Change::Set("b".into(), json!(2)),
        ];
        store
            .set_many(id, batch, Duration::from_millis(1))
            .await
            .expect("write");
    }
    for id in &live {
        store
            .set(id, "a", json!("live"), Duration::from_secs(3600))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;

    let (a, b) = (store.clone(), store.clone());
    let run = |s: session_store_postgres::PostgresStore| {
        tokio::spawn(async move { delete_all_expired(&s, 50).await })
    };
    let (ra, rb) = tokio::time::timeout(Duration::from_secs(60), async {
        (run(a).await, run(b).await)
    })
    .await
    .expect("the cleaners deadlocked or hung");
    let (ra, rb) = (ra.unwrap().unwrap(), rb.unwrap().unwrap());
    assert_eq!(
        ra + rb,
        1500,
        "removed {ra} + {rb}: each expired session exactly once"
    );
    assert_eq!(store.delete_expired(50).await.unwrap(), 0);

    let rows: i64 = session_store_postgres::sqlx::query_scalar(
        session_store_postgres::sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {}, jsonb_object_keys(data)",
            sessions_table(&store)
        )),
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(rows, 20, "only the live sessions' keys remain");
    for id in &live {
        assert_eq!(store.get(id, "a", None).await.unwrap(), Some(json!("live")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_apply_once() {
    let store = common::store_in_fresh_schema("migrate", None).await;
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.migrate().await })
        })
        .collect();
    for run in runs {
        run.await.unwrap().expect("a concurrent migrate failed");
    }
}

/// The sessions table of the store, schema-qualified.
fn sessions_table(store: &session_store_postgres::PostgresStore) -> String {
    format!("\"{}\".\"{}\"", store.schema(), store.table())
}
