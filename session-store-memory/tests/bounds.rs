//! What is particular to the memory store: its bound, LRU order, and lazy expiry.

use std::time::Duration;

use serde_json::json;
use session_core::{Enumerate, SessionId, Store, StoreError, SubjectIndex};
use session_store_memory::MemoryStore;

const LONG: Duration = Duration::from_secs(3600);

fn id(n: u8) -> SessionId {
    SessionId::from_bytes([n; 32])
}

#[tokio::test]
async fn the_least_recently_used_session_goes_when_full() {
    let store = MemoryStore::builder()
        .max_sessions(3)
        .shards(1)
        .build()
        .unwrap();
    for n in 1..=3 {
        store.set(&id(n), "k", json!(n), LONG).await.unwrap();
    }
    // Reading session 1 makes session 2 the least recently used.
    assert!(store.get(&id(1), "k", None).await.unwrap().is_some());
    store.set(&id(4), "k", json!(4), LONG).await.unwrap();
    assert_eq!(store.get_all(&id(2), None).await.unwrap(), None);
    for n in [1, 3, 4] {
        assert_eq!(
            store.get(&id(n), "k", None).await.unwrap(),
            Some(json!(n)),
            "session {n}"
        );
    }
    assert_eq!(store.count().await.unwrap(), 3);
}

#[tokio::test]
async fn many_shards_never_hold_more_than_the_bound_rounded_up() {
    let store = MemoryStore::builder()
        .max_sessions(64)
        .shards(8)
        .build()
        .unwrap();
    for n in 0..=255u8 {
        let mut bytes = [0u8; 32];
        bytes[0] = n;
        store
            .set(&SessionId::from_bytes(bytes), "k", json!(n), LONG)
            .await
            .unwrap();
    }
    assert!(store.count().await.unwrap() <= 64);
}

#[tokio::test]
async fn an_evicted_session_leaves_its_subject() {
    let store = MemoryStore::builder().max_sessions(1).build().unwrap();
    store.set(&id(1), "k", json!(1), LONG).await.unwrap();
    assert!(store.bind_subject(&id(1), "alice").await.unwrap());
    store.set(&id(2), "k", json!(2), LONG).await.unwrap();
    assert!(store.subject_sessions("alice").await.unwrap().is_empty());
    assert_eq!(store.revoke_subject("alice").await.unwrap(), 0);
    assert!(store.get_all(&id(2), None).await.unwrap().is_some());
}

#[tokio::test]
async fn an_expired_session_is_dropped_when_read() {
    let store = MemoryStore::builder().max_sessions(10).build().unwrap();
    store
        .set(&id(1), "k", json!(1), Duration::from_millis(20))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    // Not counted, even before anything read it; and a read removes it.
    assert_eq!(store.count().await.unwrap(), 0);
    assert_eq!(store.get(&id(1), "k", None).await.unwrap(), None);
    assert!(store.ids().await.unwrap().is_empty());
}

#[test]
fn zero_bounds_are_refused() {
    assert!(matches!(
        MemoryStore::builder().max_sessions(0).build(),
        Err(StoreError::InvalidInput(_))
    ));
    assert!(matches!(
        MemoryStore::builder().shards(0).build(),
        Err(StoreError::InvalidInput(_))
    ));
}
