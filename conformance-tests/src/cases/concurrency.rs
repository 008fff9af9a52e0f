//! Concurrency: writers to different keys never lose each other, writers to one key end with one
//! of their values, and many sessions work side by side.

use std::sync::Arc;

use futures::future::try_join_all;
use serde_json::json;
use session_core::{Change, SessionId, Store};

use crate::TestStore;
use crate::check::{CaseResult, Failure, LONG, ensure, ensure_eq, fresh_id};

const WRITERS: usize = 64;

/// Runs `task(i)` for `0..n` on separate tokio tasks, all released at once, and waits for all.
async fn in_parallel<F, Fut>(n: usize, task: F) -> Result<(), Failure>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<(), Failure>> + Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let handles = (0..n).map(|i| {
        let (start, work) = (start.clone(), task(i));
        tokio::spawn(async move {
            start.wait().await;
            work.await
        })
    });
    for joined in try_join_all(handles)
        .await
        .map_err(|e| Failure(format!("a writer task failed: {e}")))?
    {
        joined?;
    }
    Ok(())
}

async fn expect_keys(store: &dyn Store, id: &SessionId, n: usize, what: &str) -> CaseResult {
    let all = store.get_all(id, None).await?.unwrap_or_default();
    let missing: Vec<usize> = (0..n)
        .filter(|i| all.get(&format!("k{i}")) != Some(&json!(i)))
        .collect();
    ensure!(
        missing.is_empty(),
        "{what}: {} of {n} keys lost: {missing:?}",
        missing.len()
    );
    Ok(())
}

/// 64 concurrent `set`s of distinct keys on a new session (racing to create it) and on an
/// existing one lose nothing.
pub async fn distinct_keys_lose_nothing(t: TestStore) -> CaseResult {
    for existing in [false, true] {
        let id = fresh_id();
        if existing {
            t.store.set(&id, "seed", json!(0), LONG).await?;
        }
        let store = t.store.clone();
        in_parallel(WRITERS, |i| {
            let store = store.clone();
            async move { Ok(store.set(&id, &format!("k{i}"), json!(i), LONG).await?) }
        })
        .await?;
        expect_keys(
            &*t.store,
            &id,
            WRITERS,
            if existing {
                "existing session"
            } else {
                "new session"
            },
        )
        .await?;
    }
    Ok(())
}

/// Concurrent `set_many` batches of disjoint keys lose nothing.
pub async fn disjoint_batches_lose_nothing(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let store = t.store.clone();
    in_parallel(16, |i| {
        let store = store.clone();
        async move {
            let batch = (i * 4..i * 4 + 4)
                .map(|k| Change::Set(format!("k{k}"), json!(k)))
                .collect();
            Ok(store.set_many(&id, batch, LONG).await?)
        }
    })
    .await?;
    expect_keys(&*t.store, &id, 64, "after concurrent batches").await
}

/// Concurrent writers to one key end with exactly one of the values written.
pub async fn one_key_ends_with_a_written_value(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let store = t.store.clone();
    in_parallel(32, |i| {
        let store = store.clone();
        async move {
            Ok(store
                .set(
                    &id,
                    "contended",
                    json!({ "writer": i, "pad": "x".repeat(i * 10) }),
                    LONG,
                )
                .await?)
        }
    })
    .await?;
    let value = t.store.get(&id, "contended", None).await?;
    let writer = value
        .as_ref()
        .and_then(|v| v["writer"].as_u64())
        .map(|w| w as usize);
    let expected = writer.map(|i| json!({ "writer": i, "pad": "x".repeat(i * 10) }));
    ensure!(
        writer.is_some_and(|w| w < 32),
        "the contended key holds {value:?}, which no writer wrote"
    );
    ensure_eq!(value, expected, "the contended key holds a torn value");
    Ok(())
}

/// `set` racing `extend` and touching reads on the same session loses no key.
pub async fn set_racing_extend_loses_nothing(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "seed", json!(0), LONG).await?;
    let store = t.store.clone();
    in_parallel(WRITERS, |i| {
        let store = store.clone();
        async move {
            match i % 4 {
                0 => {
                    store.extend(&id, LONG).await?;
                }
                1 => {
                    store.get_all(&id, Some(LONG)).await?;
                }
                _ => store.set(&id, &format!("k{i}"), json!(i), LONG).await?,
            }
            Ok(())
        }
    })
    .await?;
    let all = t.store.get_all(&id, None).await?.unwrap_or_default();
    let lost: Vec<usize> = (0..WRITERS)
        .filter(|i| i % 4 >= 2 && all.get(&format!("k{i}")) != Some(&json!(i)))
        .collect();
    ensure!(
        lost.is_empty(),
        "keys lost to concurrent extend/touch: {lost:?}"
    );
    ensure_eq!(all.get("seed"), Some(&json!(0)), "the seed key");
    Ok(())
}

/// `del` of one key racing `set`s of others removes only its own key.
pub async fn del_racing_set_removes_only_its_key(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let victims: Vec<Change> = (0..32)
        .map(|i| Change::Set(format!("victim{i}"), json!(i)))
        .collect();
    t.store.set_many(&id, victims, LONG).await?;
    let store = t.store.clone();
    in_parallel(WRITERS, |i| {
        let store = store.clone();
        async move {
            if i % 2 == 0 {
                store.del(&id, &format!("victim{}", i / 2), LONG).await?;
            } else {
                store.set(&id, &format!("k{i}"), json!(i), LONG).await?;
            }
            Ok(())
        }
    })
    .await?;
    let all = t.store.get_all(&id, None).await?.unwrap_or_default();
    let lost: Vec<usize> = (1..WRITERS)
        .step_by(2)
        .filter(|i| all.get(&format!("k{i}")) != Some(&json!(i)))
        .collect();
    ensure!(lost.is_empty(), "keys lost to a concurrent del: {lost:?}");
    let survivors: Vec<&String> = all.keys().filter(|k| k.starts_with("victim")).collect();
    ensure!(
        survivors.is_empty(),
        "deleted keys came back: {survivors:?}"
    );
    Ok(())
}

/// 200 sessions written and read in parallel each hold exactly their own data.
pub async fn many_sessions_in_parallel(t: TestStore) -> CaseResult {
    let ids: Arc<Vec<SessionId>> = Arc::new((0..200).map(|_| fresh_id()).collect());
    let store = t.store.clone();
    in_parallel(ids.len(), |i| {
        let (store, ids) = (store.clone(), ids.clone());
        async move {
            let id = &ids[i];
            store.set(id, "owner", json!(i), LONG).await?;
            store.set(id, "k", json!(format!("v{i}")), LONG).await?;
            let all = store.get_all(id, None).await?.unwrap_or_default();
            ensure_eq!(all.get("owner"), Some(&json!(i)), "owner of session {i}");
            ensure_eq!(all.len(), 2, "keys of session {i}");
            Ok(())
        }
    })
    .await
}

/// On a new session holding `k`, an `update` setting `late` racing `other(store, id)`, both
/// spawned at once; answers the session, what `update` returned, and what `other` did.
async fn update_racing<T, F, Fut>(
    t: &TestStore,
    round: usize,
    other: F,
) -> Result<(SessionId, bool, T), Failure>
where
    T: Send + 'static,
    F: FnOnce(Arc<dyn Store>, SessionId) -> Fut,
    Fut: Future<Output = Result<T, session_core::StoreError>> + Send + 'static,
{
    let id = fresh_id();
    t.store.set(&id, "k", json!(0), LONG).await?;
    let store = t.store.clone();
    let flush = tokio::spawn(async move {
        store
            .update(&id, vec![Change::Set("late".into(), json!(round))], LONG)
            .await
    });
    let racing = tokio::spawn(other(t.store.clone(), id));
    let joined = |e: tokio::task::JoinError| Failure(format!("a task failed: {e}"));
    let written = flush.await.map_err(joined)??;
    let done = racing.await.map_err(joined)??;
    Ok((id, written, done))
}

/// `update` racing `del_all` on one session never brings it back: after both, it is gone. This is
/// a request's flush racing a logout.
pub async fn update_racing_del_all_never_resurrects(t: TestStore) -> CaseResult {
    for round in 0..100 {
        let (id, _, ()) = update_racing(
            &t,
            round,
            |store, id| async move { store.del_all(&id).await },
        )
        .await?;
        ensure_eq!(
            t.store.get_all(&id, None).await?,
            None,
            "round {round}: the removed session came back"
        );
    }
    Ok(())
}

/// An `update` racing a `take` of the same session: a write the store accepted (`true`) is in
/// what `take` returned, one it refused (`false`) is nowhere, and the session stays removed.
/// This is what lets a session move to a new id (rotation) without dropping a racing write.
pub async fn update_racing_take_loses_nothing(t: TestStore) -> CaseResult {
    for round in 0..100 {
        let (id, written, taken) =
            update_racing(&t, round, |store, id| async move { store.take(&id).await }).await?;
        let taken = taken.ok_or_else(|| Failure(format!("round {round}: take found nothing")))?;
        ensure_eq!(
            taken.get("late").is_some(),
            written,
            "round {round}: update returned {written} but take returned {taken:?}"
        );
        ensure_eq!(
            t.store.get_all(&id, None).await?,
            None,
            "round {round}: the taken session came back"
        );
    }
    Ok(())
}
