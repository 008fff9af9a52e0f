//! TTL: sessions expire by themselves, and only the operations that should move expiry do.

use std::time::Instant;

use serde_json::json;
use session_core::Change;

use crate::TestStore;
use crate::check::{
    CaseResult, LONG, SHORT, ensure, ensure_eq, eventually, fresh_id, map, outlive,
};

/// A session disappears for `get` after its TTL, with no cleanup having run.
pub async fn get_expires(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "k", json!(1), SHORT).await?;
    let gone = eventually!(t.store.get(&id, "k", None).await?.is_none());
    ensure!(gone, "get still returned the value long after its ttl");
    Ok(())
}

/// A session disappears for `get_all` after its TTL, with no cleanup having run.
pub async fn get_all_expires(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "k", json!(1), SHORT).await?;
    let gone = eventually!(t.store.get_all(&id, None).await?.is_none());
    ensure!(
        gone,
        "get_all still returned the session long after its ttl"
    );
    Ok(())
}

/// A `set` on an expired session starts an empty one: no key from before the expiry comes back.
pub async fn set_on_expired_starts_empty(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "old", json!("stale"), SHORT).await?;
    let gone = eventually!(t.store.get(&id, "old", None).await?.is_none());
    ensure!(gone, "the session never expired");
    t.store.set(&id, "new", json!("fresh"), LONG).await?;
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        Some(map(json!({"new": "fresh"}))),
        "expired keys came back"
    );
    Ok(())
}

/// `take` of an expired session answers `None`: expired data never comes back, not even once.
pub async fn take_of_expired_is_none(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "k", json!(1), SHORT).await?;
    let gone = eventually!(t.store.get_all(&id, None).await?.is_none());
    ensure!(gone, "the session never expired");
    ensure_eq!(t.store.take(&id).await?, None, "take returned expired data");
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "take revived an expired session"
    );
    Ok(())
}

/// `extend` of a live session returns `true` and pushes its deadline past the old one.
pub async fn extend_pushes_deadline(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let start = Instant::now();
    t.store.set(&id, "k", json!(1), SHORT).await?;
    ensure!(
        t.store.extend(&id, LONG).await?,
        "extend of a live session returned false"
    );
    outlive(start, SHORT).await;
    ensure_eq!(
        t.store.get(&id, "k", None).await?,
        Some(json!(1)),
        "session after the old deadline"
    );
    Ok(())
}

/// `extend` can also shorten: the deadline is now + ttl, not the later of the two.
pub async fn extend_sets_deadline_from_now(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "k", json!(1), LONG).await?;
    ensure!(
        t.store.extend(&id, SHORT).await?,
        "extend of a live session returned false"
    );
    let gone = eventually!(t.store.get_all(&id, None).await?.is_none());
    ensure!(gone, "the session outlived the ttl its last extend gave it");
    Ok(())
}

/// `extend` of a missing or expired session returns `false` and creates nothing.
pub async fn extend_missing_is_false(t: TestStore) -> CaseResult {
    let id = fresh_id();
    ensure!(
        !t.store.extend(&id, LONG).await?,
        "extend of a missing session returned true"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "extend created a session"
    );
    t.store.set(&id, "k", json!(1), SHORT).await?;
    let gone = eventually!(t.store.get_all(&id, None).await?.is_none());
    ensure!(gone, "the session never expired");
    ensure!(
        !t.store.extend(&id, LONG).await?,
        "extend of an expired session returned true"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "extend revived an expired session"
    );
    Ok(())
}

/// A read with `touch: Some(ttl)` moves the deadline to now + ttl.
pub async fn touching_read_extends(t: TestStore) -> CaseResult {
    let (a, b) = (fresh_id(), fresh_id());
    let start = Instant::now();
    t.store.set(&a, "k", json!(1), SHORT).await?;
    t.store.set(&b, "k", json!(2), SHORT).await?;
    ensure_eq!(
        t.store.get(&a, "k", Some(LONG)).await?,
        Some(json!(1)),
        "touching get"
    );
    ensure!(
        t.store.get_all(&b, Some(LONG)).await?.is_some(),
        "touching get_all found nothing"
    );
    outlive(start, SHORT).await;
    ensure_eq!(
        t.store.get(&a, "k", None).await?,
        Some(json!(1)),
        "session touched by get"
    );
    ensure_eq!(
        t.store.get(&b, "k", None).await?,
        Some(json!(2)),
        "session touched by get_all"
    );
    Ok(())
}

/// Reads with `touch: None` do not move the deadline: a session read often still expires.
pub async fn plain_read_does_not_extend(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "k", json!(1), SHORT).await?;
    let gone = eventually!({
        let one = t.store.get(&id, "k", None).await?;
        let all = t.store.get_all(&id, None).await?;
        one.is_none() && all.is_none()
    });
    ensure!(gone, "a session read with touch: None never expired");
    Ok(())
}

/// `set`, `del` and `set_many` each move the deadline to now + ttl.
pub async fn writes_move_deadline(t: TestStore) -> CaseResult {
    let (a, b, c) = (fresh_id(), fresh_id(), fresh_id());
    let start = Instant::now();
    for id in [&a, &b, &c] {
        t.store.set(id, "k", json!(1), SHORT).await?;
    }
    t.store.set(&a, "other", json!(2), LONG).await?;
    t.store.del(&b, "absent", LONG).await?;
    t.store
        .set_many(&c, vec![Change::Set("other".into(), json!(2))], LONG)
        .await?;
    outlive(start, SHORT).await;
    ensure_eq!(
        t.store.get(&a, "k", None).await?,
        Some(json!(1)),
        "session after set with a longer ttl"
    );
    ensure_eq!(
        t.store.get(&b, "k", None).await?,
        Some(json!(1)),
        "session after del with a longer ttl"
    );
    ensure_eq!(
        t.store.get(&c, "k", None).await?,
        Some(json!(1)),
        "session after set_many with a longer ttl"
    );
    Ok(())
}
