//! Capability `ExpiredCleanup`: only expired sessions go, in bounded batches.

use std::sync::Arc;

use serde_json::json;
use session_core::{ExpiredCleanup, SessionId, delete_all_expired};

use crate::check::{CaseResult, Failure, LONG, SHORT, ensure, ensure_eq, eventually, fresh_id};
use crate::{Capability, TestStore};

pub(crate) fn cleaner(t: &TestStore) -> Result<Arc<dyn ExpiredCleanup>, Failure> {
    t.cleanup
        .clone()
        .ok_or_else(|| Failure(crate::runner::lacks(Capability::Cleanup)))
}

/// A batch removes exactly its limit while more expired sessions wait, and reports what it
/// removed; running batches to the end removes the rest, leaves live sessions untouched, and the
/// expired ones stay gone (a later `set` starts them empty).
pub async fn removes_only_expired_in_batches(t: TestStore) -> CaseResult {
    let cleaner = cleaner(&t)?;
    let expired: Vec<SessionId> = (0..7).map(|_| fresh_id()).collect();
    let live: Vec<SessionId> = (0..3).map(|_| fresh_id()).collect();
    for id in &expired {
        t.store.set(id, "k", json!("old"), SHORT).await?;
    }
    for id in &live {
        t.store.set(id, "k", json!("live"), LONG).await?;
    }
    // Watched instead of the seven, which are left unread: a store may drop what it finds
    // expired on a read, and the probe (written last) expires last.
    let probe = fresh_id();
    t.store.set(&probe, "k", json!("probe"), SHORT).await?;
    let gone = eventually!(t.store.get_all(&probe, None).await?.is_none());
    ensure!(gone, "the short sessions never expired");
    let first = cleaner.delete_expired(2).await?;
    ensure_eq!(
        first,
        2,
        "a batch of 2 with at least 7 expired sessions waiting removed"
    );
    let rest = delete_all_expired(&*cleaner, 3).await?;
    ensure!(
        rest == 5 || rest == 6,
        "batches of 3 removed {rest} sessions; 5 expired ones were left (6 if the store kept the \
         expired probe after reading it)"
    );
    ensure_eq!(
        cleaner.delete_expired(10).await?,
        0,
        "a batch with nothing expired left removed"
    );
    for id in &live {
        ensure_eq!(
            t.store.get(id, "k", None).await?,
            Some(json!("live")),
            "a live session after cleanup"
        );
    }
    for id in &expired {
        ensure_eq!(
            t.store.get_all(id, None).await?,
            None,
            "an expired session after cleanup"
        );
    }
    t.store.set(&expired[0], "new", json!(1), LONG).await?;
    ensure_eq!(
        t.store.get(&expired[0], "k", None).await?,
        None,
        "cleanup left an old key behind"
    );
    Ok(())
}

/// Cleanup runs while writes go on, and never removes a session that was extended in time.
pub async fn cleanup_spares_extended_sessions(t: TestStore) -> CaseResult {
    let cleaner = cleaner(&t)?;
    let id = fresh_id();
    t.store.set(&id, "k", json!(1), SHORT).await?;
    ensure!(
        t.store.extend(&id, LONG).await?,
        "extend of a live session returned false"
    );
    let probe = fresh_id();
    t.store.set(&probe, "k", json!(1), SHORT).await?;
    let gone = eventually!(t.store.get_all(&probe, None).await?.is_none());
    ensure!(gone, "the probe session never expired");
    delete_all_expired(&*cleaner, 100).await?;
    ensure_eq!(
        t.store.get(&id, "k", None).await?,
        Some(json!(1)),
        "an extended session after cleanup"
    );
    Ok(())
}
