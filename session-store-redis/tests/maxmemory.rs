//! Redis at its `maxmemory`: with `noeviction`, writes fail with a clear, typed error and leave
//! no partial session; with `allkeys-lru`, an evicted session reads as absent, never as a broken
//! one. Each case runs its own throwaway server with the policy under test.

use std::time::Duration;

use serde_json::json;
use session_core::{Change, SessionId, Store, StoreError};
use session_store_redis::RedisStore;
use session_test_support::RedisServer;

const TTL: Duration = Duration::from_secs(3600);

fn id(n: u32) -> SessionId {
    let mut bytes = [7u8; 32];
    bytes[..4].copy_from_slice(&n.to_le_bytes());
    SessionId::from_bytes(bytes)
}

fn batch(n: u32, size: usize) -> Vec<Change> {
    (0..5)
        .map(|k| {
            Change::Set(
                format!("k{k}"),
                json!(format!("{n}:{k}:{}", "x".repeat(size))),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noeviction_refuses_writes_whole() {
    let server =
        RedisServer::start_with_args(&["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]);
    let store = RedisStore::connect(&server.url()).await.expect("connect");
    let survivor = id(u32::MAX);
    store
        .set(&survivor, "k", json!("before"), TTL)
        .await
        .unwrap();

    let mut refused = None;
    for n in 0..10_000 {
        match store.set_many(&id(n), batch(n, 2000), TTL).await {
            Ok(()) => {}
            Err(error) => {
                refused = Some((n, error));
                break;
            }
        }
    }
    let (n, error) = refused.expect("the server never reached maxmemory");
    assert!(
        matches!(error, StoreError::Unavailable { .. }),
        "a clear, transient error: {error:?}"
    );
    let text = std::error::Error::source(&error)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        text.contains("OOM"),
        "the cause names the server's OOM refusal: {text}"
    );
    assert_eq!(
        Store::get_all(&store, &id(n), None).await.unwrap(),
        None,
        "no partial session from the refused batch"
    );

    // A batch refused on an existing session leaves it exactly as it was.
    let result = store.set_many(&survivor, batch(0, 2000), TTL).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable { .. })),
        "{result:?}"
    );
    let left = Store::get_all(&store, &survivor, None)
        .await
        .unwrap()
        .expect("the session is still there");
    assert_eq!(
        left.len(),
        1,
        "none of the refused batch's keys were applied: {:?}",
        left.keys()
    );
    // Reads still work.
    assert_eq!(
        store.get(&survivor, "k", None).await.unwrap(),
        Some(json!("before"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allkeys_lru_evicts_whole_sessions() {
    let server =
        RedisServer::start_with_args(&["--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru"]);
    let store = RedisStore::connect(&server.url()).await.expect("connect");
    let written = 3000;
    for n in 0..written {
        store
            .set_many(&id(n), batch(n, 200), TTL)
            .await
            .expect("lru never refuses a write");
    }
    let (mut absent, mut whole) = (0, 0);
    for n in 0..written {
        match Store::get_all(&store, &id(n), None).await.unwrap() {
            None => absent += 1,
            Some(map) => {
                assert_eq!(map.len(), 5, "session {n} is broken: {:?}", map.keys());
                for k in 0..5 {
                    let value = map[&format!("k{k}")].as_str().unwrap();
                    assert!(
                        value.starts_with(&format!("{n}:{k}:")),
                        "session {n} holds another's data"
                    );
                }
                whole += 1;
            }
        }
    }
    println!("allkeys-lru: {written} sessions written, {whole} whole, {absent} evicted");
    assert!(
        absent > 0,
        "nothing was evicted: the test did not reach maxmemory"
    );
    assert!(whole > 0);
}
