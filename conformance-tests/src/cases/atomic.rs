//! Reads of several keys, atomic increments and compare-and-set: what makes a read-modify-write
//! of one key safe for applications.

use std::sync::Arc;

use serde_json::json;
use session_core::{Store, StoreError};

use crate::TestStore;
use crate::cases::concurrency::{OVERLAPPING_ROUNDS, pick};
use crate::check::{CaseResult, LONG, SHORT, ensure, ensure_eq, eventually, fresh_id, map};
use crate::race::{Rounds, in_parallel};

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

/// `get_many` answers each asked key in its place, a key asked twice (or three times, present or
/// missing) answering each time, with and without a touch; a store that consumes a key as it
/// answers it (moving values out of the map it read) answers `None` the second time.
pub async fn get_many_answers_a_key_asked_twice(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "a", json!("A"), LONG).await?;
    t.store.set(&id, "b", json!([1, 2]), LONG).await?;
    let keys = ["a", "b", "a", "gone", "a", "gone", "b"];
    let expected = Some(vec![
        Some(json!("A")),
        Some(json!([1, 2])),
        Some(json!("A")),
        None,
        Some(json!("A")),
        None,
        Some(json!([1, 2])),
    ]);
    for touch in [None, Some(LONG)] {
        ensure_eq!(
            t.store.get_many(&id, &keys, touch).await?,
            expected,
            "get_many of {keys:?} (touch {touch:?})"
        );
    }
    ensure_eq!(
        t.store.get_many(&id, &["b", "b"], None).await?,
        Some(vec![Some(json!([1, 2])), Some(json!([1, 2]))]),
        "get_many of one key twice"
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

/// `incr_live` and `compare_and_set_live` answer `None` and create nothing for a missing, removed
/// or expired session; on a live one they act as `incr` and `compare_and_set` (and refuse what
/// those refuse).
pub async fn live_variants_never_create(t: TestStore) -> CaseResult {
    let id = fresh_id();
    ensure_eq!(
        t.store.incr_live(&id, "n", 1, LONG).await?,
        None,
        "incr_live, missing"
    );
    ensure_eq!(
        t.store
            .compare_and_set_live(&id, "c", None, json!(1), LONG)
            .await?,
        None,
        "compare_and_set_live expecting absent, missing"
    );
    ensure_eq!(t.store.get_all(&id, None).await?, None, "nothing created");

    t.store.set(&id, "a", json!(1), LONG).await?;
    ensure_eq!(t.store.incr_live(&id, "n", 2, LONG).await?, Some(2), "live");
    ensure_eq!(
        t.store.incr_live(&id, "n", 3, LONG).await?,
        Some(5),
        "again"
    );
    ensure_eq!(
        t.store
            .compare_and_set_live(&id, "c", None, json!("x"), LONG)
            .await?,
        Some(true),
        "expecting absent, live"
    );
    ensure_eq!(
        t.store
            .compare_and_set_live(&id, "c", None, json!("y"), LONG)
            .await?,
        Some(false),
        "expecting absent, present"
    );
    ensure_eq!(
        t.store
            .compare_and_set_live(&id, "c", Some(json!("x")), json!("z"), LONG)
            .await?,
        Some(true),
        "expecting the value"
    );
    ensure!(
        matches!(
            t.store.incr_live(&id, "c", 1, LONG).await,
            Err(StoreError::InvalidInput(_))
        ),
        "incr_live of a string is refused"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        Some(map(json!({"a": 1, "n": 5, "c": "z"}))),
        "the writes"
    );

    t.store.del_all(&id).await?;
    ensure_eq!(
        t.store.incr_live(&id, "n", 1, LONG).await?,
        None,
        "incr_live, removed"
    );
    ensure_eq!(
        t.store
            .compare_and_set_live(&id, "n", None, json!(1), LONG)
            .await?,
        None,
        "compare_and_set_live, removed"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "nothing re-created"
    );

    let short = fresh_id();
    t.store.set(&short, "a", json!(1), SHORT).await?;
    let gone = eventually!(t.store.get(&short, "a", None).await?.is_none());
    ensure!(gone, "the session never expired");
    ensure_eq!(
        t.store.incr_live(&short, "n", 1, LONG).await?,
        None,
        "incr_live, expired"
    );
    ensure_eq!(
        t.store
            .compare_and_set_live(&short, "n", None, json!(1), LONG)
            .await?,
        None,
        "compare_and_set_live, expired"
    );
    ensure_eq!(
        t.store.get_all(&short, None).await?,
        None,
        "nothing revived"
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
    incr_concurrently(&[t.store]).await
}

/// [`incr_64_concurrent_lose_none`], the callers spread over `stores`.
pub(crate) async fn incr_concurrently(stores: &[Arc<dyn Store>]) -> CaseResult {
    let mut rounds = Rounds::until_observed(OVERLAPPING_ROUNDS);
    while let Some(round) = rounds.next() {
        let id = fresh_id();
        if round % 2 == 1 {
            stores[0].set(&id, "other", json!(0), LONG).await?;
        }
        let raced = in_parallel(64, |i| {
            let store = pick(stores, i);
            async move { Ok(store.incr(&id, "n", 1, LONG).await?) }
        })
        .await?;
        let mut seen = raced.results;
        seen.sort_unstable();
        ensure_eq!(
            seen,
            (1..=64).collect::<Vec<i64>>(),
            "round {round}: the sums returned"
        );
        ensure_eq!(
            stores[0].get(&id, "n", None).await?,
            Some(json!(64)),
            "round {round}: increments lost"
        );
        rounds.observed(raced.overlapped);
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

/// 32 concurrent compare-and-sets expecting a key absent from a missing session (each creating
/// the session if it wins): exactly one wins, and its value is the one stored. The session
/// manager claims a rotation this way, so that racing requests of one browser agree on one new
/// session.
pub async fn compare_and_set_claims_a_missing_session_once(t: TestStore) -> CaseResult {
    let mut rounds = Rounds::until_observed(OVERLAPPING_ROUNDS * 5);
    while let Some(round) = rounds.next() {
        let id = fresh_id();
        let store = t.store.clone();
        let raced = in_parallel(32, |i| {
            let store = store.clone();
            async move {
                Ok(store
                    .compare_and_set(&id, "claim", None, json!(i), LONG)
                    .await?)
            }
        })
        .await?;
        let winners: Vec<usize> = raced
            .results
            .iter()
            .enumerate()
            .filter(|(_, won)| **won)
            .map(|(i, _)| i)
            .collect();
        ensure_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        ensure_eq!(
            t.store.get(&id, "claim", None).await?,
            Some(json!(winners[0])),
            "round {round}: the stored claim is not the winner's"
        );
        rounds.observed(raced.overlapped);
    }
    Ok(())
}

/// 32 concurrent compare-and-sets from one value: exactly one wins, each round.
pub async fn compare_and_set_32_concurrent_one_winner(t: TestStore) -> CaseResult {
    compare_and_set_concurrently(&[t.store]).await
}

/// [`compare_and_set_32_concurrent_one_winner`], the callers spread over `stores`.
pub(crate) async fn compare_and_set_concurrently(stores: &[Arc<dyn Store>]) -> CaseResult {
    let id = fresh_id();
    stores[0].set(&id, "turn", json!(0), LONG).await?;
    let mut rounds = Rounds::until_observed(OVERLAPPING_ROUNDS * 5);
    while let Some(round) = rounds.next() {
        let turn = round as i64;
        let raced = in_parallel(32, |i| {
            let store = pick(stores, i);
            async move {
                Ok(store
                    .compare_and_set(&id, "turn", Some(json!(turn)), json!(turn + 1), LONG)
                    .await?)
            }
        })
        .await?;
        let winners = raced.results.iter().filter(|won| **won).count();
        ensure_eq!(winners, 1, "round {round}: winners");
        ensure_eq!(
            stores[0].get(&id, "turn", None).await?,
            Some(json!(turn + 1)),
            "round {round}"
        );
        rounds.observed(raced.overlapped);
    }
    Ok(())
}
