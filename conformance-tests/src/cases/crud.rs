//! CRUD: reading, writing and removing keys and sessions.

use serde_json::json;
use session_core::{Change, Map};

use crate::TestStore;
use crate::check::{CaseResult, LONG, SHORT, ensure, ensure_eq, eventually, fresh_id, map};

/// `get` and `get_all` on a session that was never written answer `None`, not an error.
pub async fn missing_session_is_none(t: TestStore) -> CaseResult {
    let id = fresh_id();
    ensure_eq!(
        t.store.get(&id, "k", None).await?,
        None,
        "get on a missing session"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "get_all on a missing session"
    );
    ensure_eq!(
        t.store.get(&id, "k", Some(LONG)).await?,
        None,
        "touching get on a missing session"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "a touching read must not create the session"
    );
    Ok(())
}

/// A live session answers `None` for a key it does not hold.
pub async fn missing_key_is_none(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "present", json!(1), LONG).await?;
    ensure_eq!(
        t.store.get(&id, "absent", None).await?,
        None,
        "get of an absent key"
    );
    Ok(())
}

/// A value set can be read back by `get` and appears in `get_all`.
pub async fn set_then_get(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "a", json!("x"), LONG).await?;
    t.store.set(&id, "b", json!({"n": 2}), LONG).await?;
    ensure_eq!(
        t.store.get(&id, "a", None).await?,
        Some(json!("x")),
        "get a"
    );
    ensure_eq!(
        t.store.get(&id, "b", None).await?,
        Some(json!({"n": 2})),
        "get b"
    );
    let all = t.store.get_all(&id, None).await?.unwrap_or_default();
    ensure_eq!(all, map(json!({"a": "x", "b": {"n": 2}})), "get_all");
    Ok(())
}

/// A second `set` of a key replaces its value.
pub async fn overwrite(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "k", json!([1, 2, 3]), LONG).await?;
    t.store.set(&id, "k", json!("replaced"), LONG).await?;
    ensure_eq!(
        t.store.get(&id, "k", None).await?,
        Some(json!("replaced")),
        "after overwrite"
    );
    Ok(())
}

/// `del` removes one key and leaves the others.
pub async fn del_removes_only_its_key(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "a", json!(1), LONG).await?;
    t.store.set(&id, "b", json!(2), LONG).await?;
    t.store.del(&id, "a", LONG).await?;
    ensure_eq!(t.store.get(&id, "a", None).await?, None, "deleted key");
    ensure_eq!(
        t.store.get(&id, "b", None).await?,
        Some(json!(2)),
        "other key"
    );
    Ok(())
}

/// `del` of a missing key is `Ok`; on a missing session it creates nothing.
pub async fn del_missing_is_ok(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.del(&id, "nothing", LONG).await?;
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "del must not create a session"
    );
    t.store.set(&id, "a", json!(1), LONG).await?;
    t.store.del(&id, "nothing", LONG).await?;
    ensure_eq!(
        t.store.get(&id, "a", None).await?,
        Some(json!(1)),
        "other key after del of a missing one"
    );
    Ok(())
}

/// Removing the last key leaves a live, empty session: `get_all` answers `Some(empty map)`.
pub async fn del_last_key_keeps_empty_session(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "only", json!(true), LONG).await?;
    t.store.del(&id, "only", LONG).await?;
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        Some(Default::default()),
        "get_all of an emptied session"
    );
    ensure!(
        t.store.extend(&id, LONG).await?,
        "extend of an emptied, live session returned false"
    );
    Ok(())
}

/// After `del_all`, `get` and `get_all` answer `None`; `del_all` of a missing session is `Ok`.
pub async fn del_all_removes_session(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.del_all(&id).await?;
    t.store.set(&id, "a", json!(1), LONG).await?;
    t.store.set(&id, "b", json!(2), LONG).await?;
    t.store.del_all(&id).await?;
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "get_all after del_all"
    );
    ensure_eq!(
        t.store.get(&id, "a", None).await?,
        None,
        "get after del_all"
    );
    ensure!(
        !t.store.extend(&id, LONG).await?,
        "extend after del_all returned true"
    );
    t.store.del_all(&id).await?;
    Ok(())
}

/// `take` answers every key of a live session and removes it; a missing session is `None`, a
/// live one with no keys is `Some(empty)`, and a second `take` finds nothing.
pub async fn take_returns_and_removes(t: TestStore) -> CaseResult {
    let id = fresh_id();
    ensure_eq!(t.store.take(&id).await?, None, "take of a missing session");
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "take created a session"
    );
    t.store.set(&id, "a", json!(1), LONG).await?;
    t.store
        .set(&id, "b", json!({"deep": [null, "\u{0}"]}), LONG)
        .await?;
    ensure_eq!(
        t.store.take(&id).await?,
        Some(map(json!({"a": 1, "b": {"deep": [null, "\u{0}"]}}))),
        "take of a live session"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "get_all after take"
    );
    ensure!(
        !t.store.extend(&id, LONG).await?,
        "extend after take returned true"
    );
    ensure_eq!(t.store.take(&id).await?, None, "a second take");

    let empty = fresh_id();
    t.store.set(&empty, "k", json!(1), LONG).await?;
    t.store.del(&empty, "k", LONG).await?;
    ensure_eq!(
        t.store.take(&empty).await?,
        Some(Map::new()),
        "take of a live session with no keys"
    );
    Ok(())
}

/// A `set` after `del_all` starts a fresh session: no key from before comes back.
pub async fn set_after_del_all_starts_fresh(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "old", json!("gone"), LONG).await?;
    t.store.del_all(&id).await?;
    t.store.set(&id, "new", json!("here"), LONG).await?;
    let expected = map(json!({"new": "here"}));
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        Some(expected),
        "session after del_all and set"
    );
    Ok(())
}

/// `set_many` applies sets and removals in order: a later change to a key wins.
pub async fn set_many_applies_in_order(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "stale", json!(0), LONG).await?;
    let changes = vec![
        Change::Set("a".into(), json!(1)),
        Change::Set("b".into(), json!(2)),
        Change::Del("stale".into()),
        Change::Set("a".into(), json!(3)),
        Change::Set("c".into(), json!(4)),
        Change::Del("c".into()),
    ];
    t.store.set_many(&id, changes, LONG).await?;
    let expected = map(json!({"a": 3, "b": 2}));
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        Some(expected),
        "after set_many"
    );
    Ok(())
}

/// `set_many` creates a missing session when it sets a key (even one it then removes), and
/// creates nothing when it only removes keys or is empty.
pub async fn set_many_creates_only_by_setting(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set_many(&id, vec![], LONG).await?;
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "an empty batch created a session"
    );
    t.store
        .set_many(&id, vec![Change::Del("x".into())], LONG)
        .await?;
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "a batch of removals created a session"
    );
    t.store
        .set_many(&id, vec![Change::Set("x".into(), json!(1))], LONG)
        .await?;
    ensure_eq!(
        t.store.get(&id, "x", None).await?,
        Some(json!(1)),
        "a batch with a set"
    );
    // A key set and then removed in one batch still created the session, as set then del would.
    let other = fresh_id();
    let batch = vec![Change::Set("x".into(), json!(1)), Change::Del("x".into())];
    t.store.set_many(&other, batch, LONG).await?;
    ensure_eq!(
        t.store.get_all(&other, None).await?,
        Some(Default::default()),
        "set then del in one batch"
    );
    Ok(())
}

/// A batch of thousands of changes (more than a backend may pass in one command) applies whole and
/// in order, including keys removed and then set again.
pub async fn set_many_applies_a_large_batch(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let keys = 5_000;
    let mut changes: Vec<Change> = (0..keys)
        .map(|k| Change::Set(format!("k{k}"), json!(k)))
        .collect();
    // Every third key is removed, and every ninth set again after its removal.
    changes.extend((0..keys).step_by(3).map(|k| Change::Del(format!("k{k}"))));
    changes.extend(
        (0..keys)
            .step_by(9)
            .map(|k| Change::Set(format!("k{k}"), json!(-k))),
    );
    t.store.set_many(&id, changes, LONG).await?;
    let expected: session_core::Map = (0..keys)
        .filter_map(|k| match (k % 9, k % 3) {
            (0, _) => Some((format!("k{k}"), json!(-k))),
            (_, 0) => None,
            _ => Some((format!("k{k}"), json!(k))),
        })
        .collect();
    let got = t.store.get_all(&id, None).await?;
    ensure_eq!(
        got.as_ref().map(|m| m.len()),
        Some(expected.len()),
        "keys after the batch"
    );
    ensure_eq!(got, Some(expected), "session after the batch");
    Ok(())
}

/// `update` on a live session applies the batch in order, returns `true`, and moves the expiry.
pub async fn update_applies_to_a_live_session(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "old", json!(0), SHORT).await?;
    let changes = vec![
        Change::Set("a".into(), json!(1)),
        Change::Del("old".into()),
        Change::Set("a".into(), json!(2)),
    ];
    ensure!(
        t.store.update(&id, changes, LONG).await?,
        "update of a live session returned false"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        Some(map(json!({"a": 2}))),
        "after update"
    );
    tokio::time::sleep(SHORT + std::time::Duration::from_millis(300)).await;
    ensure_eq!(
        t.store.get(&id, "a", None).await?,
        Some(json!(2)),
        "update moved the expiry"
    );
    ensure!(
        t.store.update(&id, vec![], LONG).await?,
        "an empty update of a live session"
    );
    Ok(())
}

/// `update` applies its batch in the order given: a removal before a set of the same key leaves
/// the key set, a set before a removal leaves it removed (not "sets first, then removals", nor
/// the reverse).
pub async fn update_applies_in_order(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "x", json!(0), LONG).await?;
    t.store.set(&id, "y", json!(0), LONG).await?;
    let changes = vec![
        Change::Del("x".into()),
        Change::Set("x".into(), json!(1)),
        Change::Set("y".into(), json!(1)),
        Change::Del("y".into()),
        Change::Set("z".into(), json!(1)),
        Change::Set("z".into(), json!(2)),
    ];
    ensure!(
        t.store.update(&id, changes, LONG).await?,
        "update of a live session returned false"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        Some(map(json!({"x": 1, "z": 2}))),
        "after [del x, set x=1, set y=1, del y, set z=1, set z=2] (the contract: \
         `update` applies changes in order)"
    );
    Ok(())
}

/// `update` on a missing, removed or expired session returns `false` and creates nothing.
pub async fn update_never_creates(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let batch = || vec![Change::Set("k".into(), json!(1))];
    ensure!(
        !t.store.update(&id, batch(), LONG).await?,
        "update of a missing session returned true"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "update created a missing session"
    );
    t.store.set(&id, "k", json!(0), LONG).await?;
    t.store.del_all(&id).await?;
    ensure!(
        !t.store.update(&id, batch(), LONG).await?,
        "update of a removed session returned true"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "update recreated a removed session"
    );
    t.store
        .set(&id, "k", json!(0), std::time::Duration::from_millis(200))
        .await?;
    let gone = eventually!(t.store.get_all(&id, None).await?.is_none());
    ensure!(gone, "the session never expired");
    ensure!(
        !t.store.update(&id, batch(), LONG).await?,
        "update of an expired session returned true"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "update revived an expired session"
    );
    Ok(())
}
