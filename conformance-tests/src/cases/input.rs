//! Input: refused keys and TTLs are typed errors that change nothing.

use std::time::Duration;

use serde_json::json;
use session_core::{Change, MAX_KEY_LEN, MAX_TTL, RESERVED_KEY_PREFIX, StoreError};

use crate::TestStore;
use crate::check::{CaseResult, Failure, LONG, ensure, ensure_eq, fresh_id};

fn refused<T: std::fmt::Debug>(what: &str, result: Result<T, StoreError>) -> CaseResult {
    match result {
        Err(StoreError::InvalidInput(_) | StoreError::TooLarge { .. }) => Ok(()),
        other => Err(Failure(format!(
            "{what}: expected InvalidInput or TooLarge, got {other:?}"
        ))),
    }
}

/// Empty, oversized and NUL-holding keys are refused with `InvalidInput`/`TooLarge` by every
/// operation that takes a key, and nothing is written.
pub async fn invalid_keys_are_refused(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let long = "k".repeat(MAX_KEY_LEN + 1);
    for key in ["", long.as_str(), "a\0b"] {
        refused("set", t.store.set(&id, key, json!(1), LONG).await)?;
        refused("get", t.store.get(&id, key, None).await)?;
        refused("del", t.store.del(&id, key, LONG).await)?;
        let batch = vec![
            Change::Set("fine".into(), json!(1)),
            Change::Set(key.into(), json!(2)),
        ];
        refused("set_many", t.store.set_many(&id, batch, LONG).await)?;
    }
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "a refused batch must write nothing"
    );
    Ok(())
}

/// Keys in the reserved system namespace are valid at the store level (the session manager
/// writes its metadata there).
pub async fn reserved_keys_are_storable(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let key = format!("{RESERVED_KEY_PREFIX}meta");
    t.store.set(&id, &key, json!({"created": 1}), LONG).await?;
    ensure_eq!(
        t.store.get(&id, &key, None).await?,
        Some(json!({"created": 1})),
        "reserved key"
    );
    Ok(())
}

/// A zero TTL and one above `MAX_TTL` are refused with `InvalidInput` and write nothing.
pub async fn invalid_ttls_are_refused(t: TestStore) -> CaseResult {
    let id = fresh_id();
    for ttl in [Duration::ZERO, MAX_TTL + Duration::from_secs(1)] {
        refused("set", t.store.set(&id, "k", json!(1), ttl).await)?;
        refused("extend", t.store.extend(&id, ttl).await)?;
        refused(
            "set_many",
            t.store
                .set_many(&id, vec![Change::Set("k".into(), json!(1))], ttl)
                .await,
        )?;
    }
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "a refused ttl must write nothing"
    );
    t.store.set(&id, "k", json!(1), MAX_TTL).await?;
    ensure!(
        t.store.get(&id, "k", None).await?.is_some(),
        "a session with MAX_TTL was not stored"
    );
    Ok(())
}
