//! The rotation record: how every request of one session agrees on one rotation, and finds the
//! session while it moves.
//!
//! A rotation (login, `rotate`, renewal) of session `old` is claimed by creating the record under
//! the old id's grace id (see `sessions::grace`) with `compare_and_set` expecting it absent: of
//! any number of racing requests, on any number of instances, exactly one wins. The winner then
//! takes the session out of `old` (`Store::take`), writes it under the new id, and finishes the
//! record (`done`), with the read-only copy beside it for the grace. Because the record exists
//! before `old` disappears, and readers look at `old` first and the grace id second, no moment
//! exists in which a presented token finds nothing: a reader that sees the record unfinished
//! waits for it (a few store round trips).
//!
//! A renewal's record holds a random nonce: the old token's holders compute the new token from
//! it ([`Token::successor`]) and carry on in the renewed session. A login's or `rotate`'s record
//! holds none: the old token only reads the copy (the pre-login token must never reach the
//! logged-in session).

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::SessionError;
use super::grace::grace_id;
use super::meta::{META_KEY, Meta};
use super::revocation::write_bound;
use super::shared::Shared;
use crate::{Change, Map, SessionId, StoreError, Token, Value};

/// The key the record is kept under, in the grace id's session.
pub(crate) const ROTATION_KEY: &str = "__sys:rotation";

/// How long a claimed record lives before it is finished: past it, a winner that died mid-way
/// no longer holds the session's requests waiting.
const CLAIM_TTL: Duration = Duration::from_secs(30);

/// The longest a request waits for another request's rotation to finish before answering
/// `Unavailable`: the winner needs three store round trips, so only a failing store or a
/// winner that died mid-way is this slow.
pub(crate) const ROTATION_WAIT: Duration = Duration::from_secs(5);

/// One rotation of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Rotation {
    /// A renewal's nonce (base64url): the old token's holders follow to its successor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    renewal: Option<String>,
    /// The session is under its new id, and the read-only copy (if any) is written.
    #[serde(default)]
    done: bool,
}

impl Rotation {
    /// A renewal: a new random nonce, which fixes the new token.
    pub(crate) fn renewal() -> Result<Self, SessionError> {
        let mut nonce = [0u8; 32];
        getrandom::fill(&mut nonce).map_err(|e| {
            SessionError::Store(StoreError::backend("generating a renewal nonce", e))
        })?;
        Ok(Self {
            renewal: Some(URL_SAFE_NO_PAD.encode(nonce)),
            done: false,
        })
    }

    /// A move (login, `rotate`): the new token is random and the old one learns nothing of it.
    pub(crate) fn relocation() -> Self {
        Self {
            renewal: None,
            done: false,
        }
    }

    /// The new token for a holder of `old` when this is a renewal; `None` for a move.
    pub(crate) fn successor(&self, old: &Token) -> Option<Token> {
        Some(old.successor(self.renewal.as_deref()?.as_bytes()))
    }

    fn to_stored(&self) -> Result<Value, SessionError> {
        Ok(Value::String(serde_json::to_string(self)?))
    }

    pub(crate) fn from_stored(value: &Value) -> Option<Self> {
        serde_json::from_str(value.as_str()?).ok()
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }
}

/// Claims the rotation of session `old`: `true` for exactly one of any number of racing callers.
pub(crate) async fn claim(
    shared: &Shared,
    old: &SessionId,
    rotation: &Rotation,
) -> Result<bool, SessionError> {
    Ok(shared
        .store
        .compare_and_set(
            &grace_id(old),
            ROTATION_KEY,
            None,
            rotation.to_stored()?,
            CLAIM_TTL.max(shared.config.rotation_grace),
        )
        .await?)
}

/// Finishes the claimed rotation of `old`: the record marked done, for the grace. A move's
/// record has beside it the read-only copy of the session as it was taken (`data`, `meta`),
/// bound to its subject so that a revocation ends it too; a renewal's needs none (the old
/// token's holders follow to the successor). With a zero grace the record goes at once: the old
/// token finds nothing.
pub(crate) async fn finish(
    shared: &Shared,
    old: &SessionId,
    mut rotation: Rotation,
    data: Map,
    mut meta: Meta,
) -> Result<(), SessionError> {
    let grace = shared.config.rotation_grace;
    if grace.is_zero() {
        return abandon(shared, old).await;
    }
    rotation.done = true;
    let record = Change::Set(ROTATION_KEY.to_owned(), rotation.to_stored()?);
    let copy = grace_id(old);
    if rotation.renewal.is_some() {
        shared.store.set_many(&copy, vec![record], grace).await?;
        return Ok(());
    }
    meta.rotated = true;
    let mut changes: Vec<Change> = data.into_iter().map(|(k, v)| Change::Set(k, v)).collect();
    changes.push(meta.change());
    changes.push(record);
    // A copy whose binding failed is removed (unbound, a revocation could not end it); one
    // revoked meanwhile is gone with its record, which is right.
    match write_bound(shared, &copy, changes, grace, meta.subject.as_deref()).await {
        Err(SessionError::Destroyed) => Ok(()),
        result => result,
    }
}

/// Gives up the claimed rotation of `old` (the session stays, or went, where it is).
pub(crate) async fn abandon(shared: &Shared, old: &SessionId) -> Result<(), SessionError> {
    shared.store.del_all(&grace_id(old)).await?;
    Ok(())
}

/// The rotation of `old` once it has finished (waiting for one under way), or `None` when the
/// session was never rotated, its grace has ended, or the rotation was given up.
///
/// # Errors
/// [`SessionError::Store`]: the store failed, or the rotation did not finish within
/// [`ROTATION_WAIT`] (`Unavailable`).
pub(crate) async fn settled(
    shared: &Shared,
    old: &SessionId,
) -> Result<Option<Rotation>, SessionError> {
    let grace = grace_id(old);
    let deadline = Instant::now() + ROTATION_WAIT;
    let mut pause = Duration::from_millis(1);
    loop {
        let record = shared
            .store
            .get(&grace, ROTATION_KEY, None)
            .await?
            .and_then(|value| Rotation::from_stored(&value));
        match record {
            Some(rotation) if !rotation.done => {}
            other => return Ok(other),
        }
        if Instant::now() >= deadline {
            return Err(StoreError::timeout(format!(
                "waiting for a rotation of session {} to finish",
                old.short()
            ))
            .into());
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The keys a read of a grace id asks for: the metadata, the record, then `keys`.
pub(crate) fn grace_keys<'a>(keys: &[&'a str]) -> Vec<&'a str> {
    let mut asked = Vec::with_capacity(keys.len() + 2);
    asked.push(META_KEY);
    asked.push(ROTATION_KEY);
    asked.extend_from_slice(keys);
    asked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_only_a_renewal_has_a_successor() {
        let old = Token::generate().unwrap();
        let renewal = Rotation::renewal().unwrap();
        let back = Rotation::from_stored(&renewal.to_stored().unwrap()).unwrap();
        assert_eq!(back, renewal);
        assert_eq!(back.successor(&old), renewal.successor(&old));
        assert!(renewal.successor(&old).is_some());
        assert_ne!(
            Rotation::renewal().unwrap().successor(&old),
            renewal.successor(&old)
        );
        assert_eq!(Rotation::relocation().successor(&old), None);
    }
}
