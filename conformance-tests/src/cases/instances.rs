//! Two instances on one backend (the factory called twice with one namespace), as two processes
//! or app servers would hold: what one writes, the other sees, and concurrent writes through both
//! lose nothing. A store that serializes its writes with a lock inside one instance passes every
//! one-instance case and fails these.

use std::collections::HashSet;

use serde_json::json;

use crate::TestStore;
use crate::cases::{atomic, concurrency, subject};
use crate::check::{
    CaseResult, LONG, SHORT, ensure, ensure_eq, eventually, fresh_id, fresh_subject,
};

/// 64 concurrent `set`s of distinct keys, through two instances in turn, lose nothing.
pub async fn distinct_keys_lose_nothing(a: TestStore, b: TestStore) -> CaseResult {
    concurrency::distinct_keys(&[a.store, b.store]).await
}

/// 64 concurrent increments of one key, through two instances in turn, lose none.
pub async fn incr_loses_none(a: TestStore, b: TestStore) -> CaseResult {
    atomic::incr_concurrently(&[a.store, b.store]).await
}

/// 32 concurrent compare-and-sets through two instances: exactly one wins.
pub async fn compare_and_set_has_one_winner(a: TestStore, b: TestStore) -> CaseResult {
    atomic::compare_and_set_concurrently(&[a.store, b.store]).await
}

/// An `update` through one instance racing `del_all` through the other never brings the session
/// back.
pub async fn update_racing_del_all_never_resurrects(a: TestStore, b: TestStore) -> CaseResult {
    concurrency::update_racing_del_all(&[a.store, b.store]).await
}

/// A session written through one instance is read, extended and expired the same through the
/// other: expiry is the backend's, not an instance's clock or cache.
pub async fn expiry_is_seen_from_the_other(a: TestStore, b: TestStore) -> CaseResult {
    let id = fresh_id();
    a.store.set(&id, "k", json!(1), SHORT).await?;
    ensure_eq!(
        b.store.get(&id, "k", None).await?,
        Some(json!(1)),
        "the other instance reads a new session"
    );
    let gone = eventually!(b.store.get_all(&id, None).await?.is_none());
    ensure!(gone, "the other instance never saw the session expire");
    ensure_eq!(
        a.store.get_all(&id, None).await?,
        None,
        "the writing instance still returns an expired session"
    );
    b.store.set(&id, "new", json!(2), LONG).await?;
    ensure_eq!(
        a.store.get_all(&id, None).await?,
        Some(crate::check::map(json!({"new": 2}))),
        "a set through the other instance after expiry must start empty"
    );

    let extended = fresh_id();
    a.store.set(&extended, "k", json!(1), SHORT).await?;
    ensure!(
        b.store.extend(&extended, LONG).await?,
        "extend through the other instance found no session"
    );
    let probe = fresh_id();
    a.store.set(&probe, "k", json!(1), SHORT).await?;
    let probe_gone = eventually!(a.store.get_all(&probe, None).await?.is_none());
    ensure!(probe_gone, "the probe session never expired");
    ensure_eq!(
        a.store.get(&extended, "k", None).await?,
        Some(json!(1)),
        "an extend through the other instance did not move the deadline"
    );
    Ok(())
}

/// The subject index is the backend's: a binding made through one instance is listed and revoked
/// through the other, and ends with its session whichever instance ended it.
pub async fn subject_index_is_shared(a: TestStore, b: TestStore) -> CaseResult {
    let (index_a, index_b) = (subject::index(&a)?, subject::index(&b)?);
    let user = fresh_subject();
    let (one, two, three) = (fresh_id(), fresh_id(), fresh_id());
    for id in [&one, &two, &three] {
        a.store.set(id, "k", json!(1), LONG).await?;
    }
    ensure!(
        index_a.bind_subject(&one, &user).await?,
        "bind through the first instance"
    );
    ensure!(
        index_b.bind_subject(&two, &user).await?,
        "bind through the second instance"
    );
    ensure!(
        index_a.bind_subject(&three, &user).await?,
        "bind through the first instance"
    );
    ensure_eq!(
        subject::listed(&*index_b, &user).await?,
        HashSet::from([one, two, three]),
        "the second instance lists the subject's sessions"
    );
    b.store.del_all(&three).await?;
    ensure_eq!(
        subject::listed(&*index_a, &user).await?,
        HashSet::from([one, two]),
        "a session removed through the other instance is still listed"
    );
    ensure_eq!(
        index_b.revoke_subject(&user).await?,
        2,
        "revoke through the second instance counts the live sessions"
    );
    for id in [&one, &two] {
        ensure_eq!(
            a.store.get_all(id, None).await?,
            None,
            "a revoked session is still readable through the other instance"
        );
    }
    ensure!(
        subject::listed(&*index_a, &user).await?.is_empty(),
        "the subject still lists sessions after a revoke"
    );
    Ok(())
}
