//! Reads of several keys, atomic increments and compare-and-set: what makes a read-modify-write
//! of one key safe for applications.

use std::sync::Arc;

use futures::future::try_join_all;
use serde_json::json;
use session_core::StoreError;

use crate::TestStore;
use crate::check::{CaseResult, Failure, LONG, ensure, ensure_eq, fresh_id, map};

/// `get_many` answers the asked keys in order, `None` for a missing key, and `None` for a
/// missing session; no keys asked of a live session is an empty list.
pub async fn get_many_reads_the_asked_keys(t: TestStore) -> CaseResult {
    let id = fresh_id();
    ensure_eq!(
        t.store.get_many(&id, &["a"], None).await?,
        None,
        "missing session"
    );
    t.store.set(&id, "a", json!(1), LONG).await?;
    t.store.set(&id, "b", json!({"x": [true]}), LONG).await?;
    ensure_eq!(
        t.store.get_many(&id, &["b", "missing", "a"], None).await?,
        Some(vec![Some(json!({"x": [true]})), None, Some(json!(1))]),
        "values in the asked order"
    );
    ensure_eq!(
        t.store.get_many(&id, &[], Some(LONG)).await?,
        Some(vec![]),
        "no keys of a live session"
    );
    Ok(())
}

/// `incr` counts from zero on a missing key, creates a missing session as `set` does, and stores
/// a plain JSON integer.
pub async fn incr_adds_and_creates(t: TestStore) -> CaseResult {
    let id = fresh_id();
    ensure_eq!(
        t.store.incr(&id, "n", 5, LONG).await?,
        5,
        "a missing session"
    );
    ensure_eq!(t.store.incr(&id, "n", -7, LONG).await?, -2, "again");
    ensure_eq!(
        t.store.get(&id, "n", None).await?,
        Some(json!(-2)),
        "stored as JSON"
    );
    t.store.set(&id, "big", json!(i64::MAX - 1), LONG).await?;
    ensure_eq!(
        t.store.incr(&id, "big", 1, LONG).await?,
        i64::MAX,
        "to the edge"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        Some(map(json!({"n": -2, "big": i64::MAX}))),
        "nothing else"
    );
    Ok(())
}

/// A value that is not an integer fitting an `i64`, or a sum that overflows, is `InvalidInput`,
/// and nothing changes.
pub async fn incr_refuses_what_it_cannot_add(t: TestStore) -> CaseResult {
    let id = fresh_id();
    for (key, value) in [
        ("s", json!("1")),
        ("f", json!(1.5)),
        ("b", json!(true)),
        ("u", json!(u64::MAX)),
        ("max", json!(i64::MAX)),
    ] {
        t.store.set(&id, key, value.clone(), LONG).await?;
        let result = t.store.incr(&id, key, 1, LONG).await;
        ensure!(
            matches!(result, Err(StoreError::InvalidInput(_))),
            "incr of {value} answered {result:?}"
        );
        ensure_eq!(
            t.store.get(&id, key, None).await?,
            Some(value),
            "it changed"
        );
    }
    let other = fresh_id();
    t.store.set(&other, "min", json!(i64::MIN), LONG).await?;
    ensure!(
        matches!(
            t.store.incr(&other, "min", -1, LONG).await,
            Err(StoreError::InvalidInput(_))
        ),
        "underflow was not refused"
    );
    Ok(())
}

/// 64 concurrent increments of one key (on a new session, racing to create it, then on an
/// existing one) lose none.
pub async fn incr_64_concurrent_lose_none(t: TestStore) -> CaseResult {
    for round in 0..3 {
        let id = fresh_id();
        let start = Arc::new(tokio::sync::Barrier::new(64));
        let tasks = (0..64).map(|_| {
            let (store, start) = (t.store.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                store.incr(&id, "n", 1, LONG).await
            })
        });
        let results = try_join_all(tasks)
            .await
            .map_err(|e| Failure(format!("a task failed: {e}")))?;
        let mut seen: Vec<i64> = results.into_iter().collect::<Result<_, _>>()?;
        seen.sort_unstable();
        ensure_eq!(
            seen,
            (1..=64).collect::<Vec<i64>>(),
            "round {round}: the sums returned"
        );
        ensure_eq!(
            t.store.get(&id, "n", None).await?,
            Some(json!(64)),
            "round {round}: increments lost"
        );
    }
    Ok(())
}

/// `compare_and_set` writes only on an exact match: `None` means absent (a missing session
/// too, which it then creates), `1` is not `1.0`, object key order does not matter; a failure
/// creates nothing and changes nothing.
pub async fn compare_and_set_compares_exactly(t: TestStore) -> CaseResult {
    let id = fresh_id();
    ensure!(
        !t.store
            .compare_and_set(&id, "k", Some(json!(1)), json!(2), LONG)
            .await?,
        "matched a missing session"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "a failure created the session"
    );
    ensure!(
        t.store
            .compare_and_set(&id, "k", None, json!(1), LONG)
            .await?,
        "absent did not match a missing session"
    );
    ensure!(
        !t.store
            .compare_and_set(&id, "k", None, json!(9), LONG)
            .await?,
        "absent matched a present key"
    );
    ensure!(
        !t.store
            .compare_and_set(&id, "k", Some(json!(1.0)), json!(9), LONG)
            .await?,
        "1.0 matched 1"
    );
    ensure!(
        t.store
            .compare_and_set(
                &id,
                "k",
                Some(json!(1)),
                json!({"b": 1, "a": [null, "\u{0}"]}),
                LONG
            )
            .await?,
        "1 did not match 1"
    );
    ensure!(
        t.store
            .compare_and_set(
                &id,
                "k",
                Some(json!({"a": [null, "\u{0}"], "b": 1})),
                json!("done"),
                LONG
            )
            .await?,
        "key order mattered"
    );
    ensure_eq!(
        t.store.get(&id, "k", None).await?,
        Some(json!("done")),
        "the last value"
    );
    Ok(())
}

/// 32 concurrent compare-and-sets from one value: exactly one wins, each round.
pub async fn compare_and_set_32_concurrent_one_winner(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "turn", json!(0), LONG).await?;
    for round in 0..20i64 {
        let start = Arc::new(tokio::sync::Barrier::new(32));
        let tasks = (0..32).map(|i| {
            let (store, start) = (t.store.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                store
                    .compare_and_set(&id, "turn", Some(json!(round)), json!(round + 1), LONG)
                    .await
                    .map(|won| (i, won))
            })
        });
        let results = try_join_all(tasks)
            .await
            .map_err(|e| Failure(format!("a task failed: {e}")))?;
        let winners = results
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|(_, won)| *won)
            .count();
        ensure_eq!(winners, 1, "round {round}: winners");
        ensure_eq!(
            t.store.get(&id, "turn", None).await?,
            Some(json!(round + 1)),
            "round {round}"
        );
    }
    Ok(())
}
