//! Capability `Enumerate`: live sessions are counted and listed, dead ones are not.

use std::sync::Arc;

use serde_json::json;
use session_core::{Enumerate, SessionId};

use crate::check::{CaseResult, Failure, LONG, SHORT, ensure, eventually, fresh_id};
use crate::{Capability, TestStore};

fn enumerator(t: &TestStore) -> Result<Arc<dyn Enumerate>, Failure> {
    t.enumerate
        .clone()
        .ok_or_else(|| Failure(crate::runner::lacks(Capability::Enumerate)))
}

/// Live sessions appear in `ids` and in `count`; deleted and expired ones leave `ids`.
pub async fn lists_live_sessions(t: TestStore) -> CaseResult {
    let en = enumerator(&t)?;
    let live: Vec<SessionId> = (0..3).map(|_| fresh_id()).collect();
    let (deleted, short) = (fresh_id(), fresh_id());
    for id in live.iter().chain([&deleted]) {
        t.store.set(id, "k", json!(1), LONG).await?;
    }
    t.store.set(&short, "k", json!(1), SHORT).await?;
    t.store.del_all(&deleted).await?;
    let ids = en.ids().await?;
    ensure!(
        live.iter().all(|id| ids.contains(id)),
        "ids() misses a live session"
    );
    ensure!(!ids.contains(&deleted), "ids() lists a deleted session");
    ensure!(
        en.count().await? >= live.len() as u64,
        "count() is below the live sessions of this case"
    );
    let expired_left = eventually!(!en.ids().await?.contains(&short));
    ensure!(expired_left, "ids() still lists an expired session");
    Ok(())
}
