//! Capability `Enumerate`: live sessions are counted and listed, dead ones are not.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;
use session_core::{Enumerate, SessionId};

use crate::check::{CaseResult, Failure, LONG, SHORT, ensure, ensure_eq, eventually, fresh_id};
use crate::{Capability, TestStore};

pub(crate) fn enumerator(t: &TestStore) -> Result<Arc<dyn Enumerate>, Failure> {
    t.enumerate
        .clone()
        .ok_or_else(|| Failure(crate::runner::lacks(Capability::Enumerate)))
}

/// Exactly the live sessions are counted and listed: not deleted ones, not expired ones
/// (whether or not anything cleaned them up), and nothing outside the case's namespace.
pub async fn lists_live_sessions(t: TestStore) -> CaseResult {
    let en = enumerator(&t)?;
    let live: HashSet<SessionId> = (0..3).map(|_| fresh_id()).collect();
    let (deleted, short) = (fresh_id(), fresh_id());
    for id in live.iter().chain([&deleted]) {
        t.store.set(id, "k", json!(1), LONG).await?;
    }
    t.store.set(&short, "k", json!(1), SHORT).await?;
    t.store.del_all(&deleted).await?;
    let ids: HashSet<SessionId> = en.ids().await?.into_iter().collect();
    ensure!(
        ids.is_superset(&live),
        "ids() misses a live session: {} of {} listed",
        ids.intersection(&live).count(),
        live.len()
    );
    ensure!(!ids.contains(&deleted), "ids() lists a deleted session");
    // Watched instead of `short`, which is left unread: a store may drop what it finds expired
    // on a read, and the probe (written last) expires last.
    let probe = fresh_id();
    t.store.set(&probe, "k", json!(1), SHORT).await?;
    let expired = eventually!(t.store.get_all(&probe, None).await?.is_none());
    ensure!(expired, "the short sessions never expired");
    let ids: HashSet<SessionId> = en.ids().await?.into_iter().collect();
    ensure_eq!(
        ids,
        live,
        "ids() once the short session expired (exactly the live ones)"
    );
    ensure_eq!(
        en.count().await?,
        3,
        "count() once the short session expired (exactly the live ones)"
    );
    Ok(())
}
