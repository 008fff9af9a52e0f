//! Concurrency: writers to different keys never lose each other, writers to one key end with one
//! of their values, and many sessions work side by side.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use session_core::{Change, SessionId, Store};

use crate::TestStore;
use crate::check::{CaseResult, Failure, LONG, ensure, ensure_eq, fresh_id};
use crate::race::{Rounds, in_parallel, stagger};

const WRITERS: usize = 64;

/// Rounds of 64 writers in which calls overlapped, enough to catch a lost write: each such round
/// holds dozens of overlapping pairs.
pub(crate) const OVERLAPPING_ROUNDS: usize = 4;

/// Rounds in which a racing pair overlapped with the outcome a case needs.
const RACING_ROUNDS: usize = 60;

/// The store writer `i` uses: the instances take turns.
pub(crate) fn pick(stores: &[Arc<dyn Store>], i: usize) -> Arc<dyn Store> {
    stores[i % stores.len()].clone()
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
    distinct_keys(&[t.store]).await
}

/// [`distinct_keys_lose_nothing`], the writers spread over `stores`.
pub(crate) async fn distinct_keys(stores: &[Arc<dyn Store>]) -> CaseResult {
    let mut rounds = Rounds::until_observed(OVERLAPPING_ROUNDS);
    while let Some(round) = rounds.next() {
        let existing = round % 2 == 1;
        let id = fresh_id();
        if existing {
            stores[0].set(&id, "seed", json!(0), LONG).await?;
        }
        let raced = in_parallel(WRITERS, |i| {
            let store = pick(stores, i);
            async move { Ok(store.set(&id, &format!("k{i}"), json!(i), LONG).await?) }
        })
        .await?;
        let what = if existing {
            "an existing session"
        } else {
            "a new session"
        };
        expect_keys(&*stores[0], &id, WRITERS, &format!("round {round}, {what}")).await?;
        rounds.observed(raced.overlapped);
    }
    Ok(())
}

/// Concurrent `set_many` batches of disjoint keys lose nothing.
pub async fn disjoint_batches_lose_nothing(t: TestStore) -> CaseResult {
    let stores = [t.store];
    let mut rounds = Rounds::until_observed(OVERLAPPING_ROUNDS);
    while let Some(round) = rounds.next() {
        let id = fresh_id();
        let raced = in_parallel(16, |i| {
            let store = pick(&stores, i);
            async move {
                let batch = (i * 4..i * 4 + 4)
                    .map(|k| Change::Set(format!("k{k}"), json!(k)))
                    .collect();
                Ok(store.set_many(&id, batch, LONG).await?)
            }
        })
        .await?;
        expect_keys(
            &*stores[0],
            &id,
            64,
            &format!("round {round}, after concurrent batches"),
        )
        .await?;
        rounds.observed(raced.overlapped);
    }
    Ok(())
}

/// Concurrent writers to one key end with exactly one of the values written.
pub async fn one_key_ends_with_a_written_value(t: TestStore) -> CaseResult {
    let value_of = |i: usize| json!({ "writer": i, "pad": "x".repeat(i * 10) });
    let mut rounds = Rounds::until_observed(OVERLAPPING_ROUNDS);
    while let Some(round) = rounds.next() {
        let id = fresh_id();
        let raced = in_parallel(32, |i| {
            let store = t.store.clone();
            async move { Ok(store.set(&id, "contended", value_of(i), LONG).await?) }
        })
        .await?;
        let value = t.store.get(&id, "contended", None).await?;
        let writer = value
            .as_ref()
            .and_then(|v| v["writer"].as_u64())
            .map(|w| w as usize);
        ensure!(
            writer.is_some_and(|w| w < 32),
            "round {round}: the contended key holds {value:?}, which no writer wrote"
        );
        ensure_eq!(
            value,
            writer.map(value_of),
            "round {round}: the contended key holds a torn value"
        );
        rounds.observed(raced.overlapped);
    }
    Ok(())
}

/// `set` racing `extend` and touching reads on the same session loses no key.
pub async fn set_racing_extend_loses_nothing(t: TestStore) -> CaseResult {
    let mut rounds = Rounds::until_observed(OVERLAPPING_ROUNDS);
    while let Some(round) = rounds.next() {
        let id = fresh_id();
        t.store.set(&id, "seed", json!(0), LONG).await?;
        let raced = in_parallel(WRITERS, |i| {
            let store = t.store.clone();
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
            "round {round}: keys lost to concurrent extend/touch: {lost:?}"
        );
        ensure_eq!(
            all.get("seed"),
            Some(&json!(0)),
            "round {round}: the seed key"
        );
        rounds.observed(raced.overlapped);
    }
    Ok(())
}

/// `del` of one key racing `set`s of others removes only its own key.
pub async fn del_racing_set_removes_only_its_key(t: TestStore) -> CaseResult {
    let mut rounds = Rounds::until_observed(OVERLAPPING_ROUNDS);
    while let Some(round) = rounds.next() {
        let id = fresh_id();
        let victims: Vec<Change> = (0..32)
            .map(|i| Change::Set(format!("victim{i}"), json!(i)))
            .collect();
        t.store.set_many(&id, victims, LONG).await?;
        let raced = in_parallel(WRITERS, |i| {
            let store = t.store.clone();
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
        ensure!(
            lost.is_empty(),
            "round {round}: keys lost to a concurrent del: {lost:?}"
        );
        let survivors: Vec<&String> = all.keys().filter(|k| k.starts_with("victim")).collect();
        ensure!(
            survivors.is_empty(),
            "round {round}: deleted keys came back: {survivors:?}"
        );
        rounds.observed(raced.overlapped);
    }
    Ok(())
}

/// 200 sessions written and read in parallel each hold exactly their own data.
pub async fn many_sessions_in_parallel(t: TestStore) -> CaseResult {
    let ids: Arc<Vec<SessionId>> = Arc::new((0..200).map(|_| fresh_id()).collect());
    in_parallel(ids.len(), |i| {
        let (store, ids) = (t.store.clone(), ids.clone());
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
    .await?;
    Ok(())
}

/// How an `update` and the call racing it went.
struct UpdateRace<T> {
    id: SessionId,
    /// What `update` returned.
    written: bool,
    /// What the other call returned.
    other: T,
    /// Whether the other call began before `update` returned and ended after it began.
    overlapped: bool,
}

/// On a new session holding `k` (written through `stores[0]`), an `update` through `stores[0]`
/// setting `late`, racing `other` through the last store; the other call starts after `round % 8`
/// yields, so the rounds scan the points where it can land.
async fn update_racing<T, F, Fut>(
    stores: &[Arc<dyn Store>],
    round: usize,
    other: F,
) -> Result<UpdateRace<T>, Failure>
where
    T: Send + 'static,
    F: FnOnce(Arc<dyn Store>, SessionId) -> Fut,
    Fut: Future<Output = Result<T, session_core::StoreError>> + Send + 'static,
{
    let id = fresh_id();
    stores[0].set(&id, "k", json!(0), LONG).await?;
    let store = stores[0].clone();
    let flush = tokio::spawn(async move {
        let began = Instant::now();
        let written = store
            .update(&id, vec![Change::Set("late".into(), json!(round))], LONG)
            .await;
        (began, Instant::now(), written)
    });
    let call = other(stores[stores.len() - 1].clone(), id);
    let racing = tokio::spawn(async move {
        stagger(round % 8).await;
        let began = Instant::now();
        let done = call.await;
        (began, Instant::now(), done)
    });
    let joined = |e: tokio::task::JoinError| Failure(format!("a task failed: {e}"));
    let (update_began, update_ended, written) = flush.await.map_err(joined)?;
    let (other_began, other_ended, other) = racing.await.map_err(joined)?;
    Ok(UpdateRace {
        id,
        written: written?,
        other: other?,
        overlapped: other_began < update_ended && update_began < other_ended,
    })
}

/// `update` racing `del_all` on one session never brings it back: after both, it is gone. This is
/// a request's flush racing a logout.
pub async fn update_racing_del_all_never_resurrects(t: TestStore) -> CaseResult {
    update_racing_del_all(&[t.store]).await
}

/// [`update_racing_del_all_never_resurrects`], the two calls on `stores`' first and last.
pub(crate) async fn update_racing_del_all(stores: &[Arc<dyn Store>]) -> CaseResult {
    let mut rounds = Rounds::until_observed(RACING_ROUNDS);
    while let Some(round) = rounds.next() {
        let race = update_racing(stores, round, |store, id| async move {
            store.del_all(&id).await
        })
        .await?;
        ensure_eq!(
            stores[0].get_all(&race.id, None).await?,
            None,
            "round {round}: the removed session came back (update returned {})",
            race.written
        );
        rounds.observed(race.overlapped && race.written);
    }
    Ok(())
}

/// An `update` racing a `take` of the same session: a write the store accepted (`true`) is in
/// what `take` returned, one it refused (`false`) is nowhere, and the session stays removed.
/// This is what lets a session move to a new id (rotation) without dropping a racing write.
pub async fn update_racing_take_loses_nothing(t: TestStore) -> CaseResult {
    let stores = [t.store];
    let mut rounds = Rounds::until_observed(RACING_ROUNDS);
    while let Some(round) = rounds.next() {
        let race = update_racing(
            &stores,
            round,
            |store, id| async move { store.take(&id).await },
        )
        .await?;
        let taken = race
            .other
            .ok_or_else(|| Failure(format!("round {round}: take found nothing")))?;
        ensure_eq!(
            taken.get("late").is_some(),
            race.written,
            "round {round}: update returned {} but take returned {taken:?}",
            race.written
        );
        ensure_eq!(
            stores[0].get_all(&race.id, None).await?,
            None,
            "round {round}: the taken session came back"
        );
        rounds.observed(race.overlapped && race.written);
    }
    Ok(())
}

/// Concurrent `take`s of one session: exactly one returns it (a rotation's claim rests on this),
/// in rounds of takes alone; and in rounds where takes race `set`s of distinct keys, every set
/// that returned is in exactly one place: a map one take returned, or the session left after.
/// A `take` built as a read and then a removal fails both: two takes return the session, and a
/// set landing between the read and the removal is lost.
pub async fn racing_takes_have_one_winner(t: TestStore) -> CaseResult {
    const TASKS: usize = 16;
    let mut rounds = Rounds::until_observed(8);
    while let Some(round) = rounds.next() {
        let takes_alone = round % 2 == 0;
        let is_take = move |i: usize| takes_alone || i.is_multiple_of(4);
        let id = fresh_id();
        t.store.set(&id, "seed", json!(round), LONG).await?;
        let raced = in_parallel(TASKS, |i| {
            let store = t.store.clone();
            async move {
                stagger(i % 3).await;
                if is_take(i) {
                    Ok(store.take(&id).await?)
                } else {
                    store.set(&id, &format!("w{i}"), json!(i), LONG).await?;
                    Ok(None)
                }
            }
        })
        .await?;
        let taken: Vec<&session_core::Map> = raced.results.iter().flatten().collect();
        let left = t.store.get_all(&id, None).await?;
        if takes_alone {
            ensure_eq!(
                taken.len(),
                1,
                "round {round}: {TASKS} concurrent takes of one session; these returned it: \
                 {taken:?}"
            );
            ensure_eq!(
                left,
                None,
                "round {round}: the taken session is still there"
            );
        } else {
            for i in (0..TASKS).filter(|i| !is_take(*i)) {
                let key = format!("w{i}");
                let places = taken.iter().filter(|m| m.contains_key(&key)).count()
                    + usize::from(left.as_ref().is_some_and(|m| m.contains_key(&key)));
                ensure_eq!(
                    places,
                    1,
                    "round {round}: set of {key} returned Ok; the takes returned {taken:?} and \
                     the session left holds {left:?}"
                );
            }
            let seeds = taken.iter().filter(|m| m.contains_key("seed")).count();
            ensure_eq!(
                seeds,
                1,
                "round {round}: the first session's key was taken by this many takes"
            );
        }
        rounds.observed(raced.overlapped);
    }
    Ok(())
}
