//! Cleanup beside writers, and migrations: several cleaners and many writers at once never
//! deadlock or fail, remove only expired sessions and every one of them; migrating again is a
//! no-op; tables from a newer version are refused.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use session_core::{Enumerate, ExpiredCleanup, SessionId, Store, StoreError};
use session_store_mysql::sqlx::{self, AssertSqlSafe};

const LONG: Duration = Duration::from_secs(3600);

/// How many of the 600 expired sessions the writers start again.
const REVIVED: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cleaners_and_writers_never_deadlock() {
    let store = Arc::new(common::fresh_store("cleanup", "race", |b| b).await);
    // 600 sessions that expire at once, 200 that live; then 4 cleaners in batches of 25 race 16
    // writers that revive half the expired sessions (the first 300), touch live ones and create
    // new ones. The other 300 only the cleaners can remove.
    let expired: Vec<SessionId> = (0..600u32).map(id).collect();
    let live: Vec<SessionId> = (1000..1200u32).map(id).collect();
    for i in &expired {
        store
            .set(i, "k", json!(1), Duration::from_millis(500))
            .await
            .unwrap();
    }
    for i in &live {
        store.set(i, "k", json!(1), LONG).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(800)).await;

    let cleaners: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut removed = 0;
                loop {
                    let n = store.delete_expired(25).await.expect("a cleaner failed");
                    removed += n;
                    if n == 0 {
                        return removed;
                    }
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..16u32)
        .map(|w| {
            let store = store.clone();
            let (expired, live) = (expired.clone(), live.clone());
            tokio::spawn(async move {
                for round in 0..40u32 {
                    let n = (w * 40 + round) as usize;
                    // Revive an expired session (it starts empty), touch a live one, make a new one.
                    store
                        .set(&expired[n % REVIVED], "new", json!(n), LONG)
                        .await
                        .expect("revive");
                    store
                        .get(&live[n % 200], "k", Some(LONG))
                        .await
                        .expect("touch");
                    store
                        .set(&id(5000 + n as u32), "k", json!(n), LONG)
                        .await
                        .expect("create");
                }
            })
        })
        .collect();
    let mut removed = 0;
    for cleaner in cleaners {
        removed += tokio::time::timeout(Duration::from_secs(60), cleaner)
            .await
            .expect("a cleaner hung")
            .unwrap();
    }
    for writer in writers {
        tokio::time::timeout(Duration::from_secs(60), writer)
            .await
            .expect("a writer hung")
            .unwrap();
    }
    // The cleaners removed every session nobody revived, and at most all 600 (a revived one only
    // if they got it before its writer).
    let removed = removed as usize;
    assert!(
        (600 - REVIVED..=600).contains(&removed),
        "removed {removed}"
    );
    assert_eq!(
        store.delete_expired(1000).await.unwrap(),
        0,
        "expired sessions left"
    );
    for i in &live {
        assert_eq!(
            store.get(i, "k", None).await.unwrap(),
            Some(json!(1)),
            "a live session"
        );
    }
    for (n, i) in expired.iter().enumerate() {
        let all = store.get_all(i, None).await.unwrap();
        assert_eq!(
            all.is_some(),
            n < REVIVED,
            "session {n}: revived iff a writer set it"
        );
        if let Some(all) = all {
            assert!(
                all.get("k").is_none(),
                "session {n} kept a key from before its expiry"
            );
        }
    }
    let count = store.count().await.unwrap();
    assert_eq!(count, (200 + REVIVED + 640) as u64, "live sessions counted");
}

#[tokio::test]
async fn migrating_again_changes_nothing_and_newer_tables_are_refused() {
    let store = common::fresh_store("cleanup", "migrate", |b| b).await;
    let i = id(1);
    store.set(&i, "k", json!("kept"), LONG).await.unwrap();
    store.migrate().await.expect("migrate again");
    assert_eq!(store.get(&i, "k", None).await.unwrap(), Some(json!("kept")));

    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO `{}_migrations` (version, applied_at) VALUES (99, 0)",
        store.table()
    )))
    .execute(store.pool())
    .await
    .unwrap();
    let refused = store.migrate().await;
    assert!(
        matches!(&refused, Err(StoreError::Backend { .. }))
            && refused
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("migrating"),
        "{refused:?}"
    );
}

fn id(n: u32) -> SessionId {
    let mut bytes = [0u8; 32];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    bytes[31] = 0xee;
    SessionId::from_bytes(bytes)
}
