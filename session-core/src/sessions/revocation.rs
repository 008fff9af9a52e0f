//! The revocation epoch: how a revocation of a user's sessions catches the session a login (or
//! renewal) racing it is writing.
//!
//! `revoke_subject` ends the sessions bound to the subject when it runs; a login writes its new
//! session and binds it a moment later, so a revocation landing in between misses it, and the
//! user's password change would leave the attacker's fresh login alive. So every revocation
//! first counts itself in a per-subject record (the epoch), and every write that binds a session
//! to a subject reads the epoch before it writes and again after it binds: a change means a
//! revocation ran meanwhile, and the new session is removed at once.
//!
//! Why that closes the gap: the revocation bumps the epoch, then revokes. A binding write whose
//! first read came before the bump either bound before the revoke ran (and the revoke ends it) or
//! bound after it, and then its second read comes after the bump and sees it. One whose first
//! read came after the bump started after the revocation did, and may stay.
//!
//! The record lives under an id derived from the subject, which no token hashes to (that would
//! take a SHA-256 preimage), like the rotation records.

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::SessionError;
use super::shared::Shared;
use crate::{Change, SessionId};

/// Domain separation: an epoch id is never the SHA-256 of anything a token or grace id is made
/// from.
const EPOCH_DOMAIN: &[u8] = b"session-core revocation epoch v1\0";

/// The key the epoch is counted under.
const EPOCH_KEY: &str = "__sys:revocations";

/// How long an epoch record lives after its last revocation: it only has to outlive a binding
/// write in flight (milliseconds); a day is ample, and bounds what users who never return leave.
const EPOCH_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The id `subject`'s epoch record is kept under.
fn epoch_id(subject: &str) -> SessionId {
    let mut hasher = Sha256::new();
    hasher.update(EPOCH_DOMAIN);
    hasher.update(subject.as_bytes());
    SessionId::from_bytes(hasher.finalize().into())
}

/// How many revocations of `subject` the store has seen lately (0 without a record).
///
/// Read by adding 0 rather than by `get`: a store may serve plain reads from a cache that lags
/// another instance's writes by a bounded moment (the Redis store's client-side cache), and a
/// check that read a revocation's bump late would keep the session the revocation missed. An
/// atomic increment is always answered by the store itself; it creates nothing, and moves the
/// record's expiry only forward.
async fn epoch(shared: &Shared, subject: &str) -> Result<i64, SessionError> {
    let value = shared
        .store
        .incr_live(&epoch_id(subject), EPOCH_KEY, 0, EPOCH_TTL)
        .await?;
    Ok(value.unwrap_or(0))
}

/// Counts a revocation of `subject`: call it before revoking, so a binding write racing the
/// revocation sees the change.
pub(crate) async fn bump(shared: &Shared, subject: &str) -> Result<(), SessionError> {
    shared
        .store
        .incr(&epoch_id(subject), EPOCH_KEY, 1, EPOCH_TTL)
        .await?;
    Ok(())
}

/// The epoch of `subject`, read before a write that binds a session to it.
pub(crate) struct Watch<'a> {
    subject: &'a str,
    before: i64,
}

impl<'a> Watch<'a> {
    /// Reads the epoch; call it before writing the session that will be bound.
    pub(crate) async fn start(shared: &Shared, subject: &'a str) -> Result<Self, SessionError> {
        Ok(Self {
            subject,
            before: epoch(shared, subject).await?,
        })
    }

    /// After `id` was written and bound: when a revocation of the subject ran meanwhile, removes
    /// `id` and answers [`SessionError::Destroyed`].
    pub(crate) async fn check(self, shared: &Shared, id: &SessionId) -> Result<(), SessionError> {
        if epoch(shared, self.subject).await? == self.before {
            return Ok(());
        }
        shared.store.del_all(id).await?;
        Err(SessionError::Destroyed)
    }
}

/// Writes `changes` as session `id` with `ttl` and, when the manager has a subject index and
/// `subject` is set, binds it, watching for a revocation of the subject meanwhile. When the
/// binding fails, the session is removed again (unbound, a revocation could not end it) and the
/// binding's error returned; when a revocation ran meanwhile, it is removed and the answer is
/// [`SessionError::Destroyed`].
pub(crate) async fn write_bound(
    shared: &Shared,
    id: &SessionId,
    changes: Vec<Change>,
    ttl: Duration,
    subject: Option<&str>,
) -> Result<(), SessionError> {
    let bound = shared.subjects.as_ref().zip(subject);
    let watch = match bound {
        Some((_, subject)) => Some(Watch::start(shared, subject).await?),
        None => None,
    };
    shared.store.set_many(id, changes, ttl).await?;
    if let Some((index, subject)) = bound
        && let Err(error) = index.bind_subject(id, subject).await
    {
        if let Err(cleanup) = shared.store.del_all(id).await {
            tracing::warn!(session = %id.short(), error = %cleanup, "could not remove a session whose subject binding failed");
        }
        return Err(error.into());
    }
    match watch {
        Some(watch) => watch.check(shared, id).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_ids_are_one_per_subject() {
        assert_ne!(epoch_id("alice"), epoch_id("bob"));
        assert_eq!(epoch_id("alice"), epoch_id("alice"));
    }
}
