//! Where a rotated-out token's read-only copy lives.
//!
//! Rotation removes the old id from the store, so nothing written through the old token (a
//! request still holding it, a handle loaded before the rotation) can reach a session again: the
//! store's `update` finds nothing there. For the grace period, a copy of the session as it was at
//! rotation is kept under an id derived from the old one, which no token hashes to (that would
//! take a SHA-256 preimage), marked rotated and written with the grace as its whole lifetime.
//! Loading the old token finds that copy, read-only.

use sha2::{Digest, Sha256};

use super::SessionError;
use super::meta::META_KEY;
use super::shared::Shared;
use crate::SessionId;

/// Domain separation: a grace id is never the SHA-256 of anything a token id is made from.
const GRACE_DOMAIN: &[u8] = b"session-core rotated-out v1\0";

/// The id the read-only copy of rotated-out session `id` is kept under.
pub(crate) fn grace_id(id: &SessionId) -> SessionId {
    let mut hasher = Sha256::new();
    hasher.update(GRACE_DOMAIN);
    hasher.update(id.as_bytes());
    SessionId::from_bytes(hasher.finalize().into())
}

/// Whether session `id` was rotated out and its grace has not ended.
pub(crate) async fn was_rotated_out(shared: &Shared, id: &SessionId) -> Result<bool, SessionError> {
    Ok(shared
        .store
        .get(&grace_id(id), META_KEY, None)
        .await?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Token;

    #[test]
    fn a_grace_id_is_not_the_id_and_is_stable() {
        let id = Token::generate().unwrap().id();
        assert_ne!(grace_id(&id), id);
        assert_eq!(grace_id(&id), grace_id(&id));
        assert_ne!(grace_id(&grace_id(&id)), grace_id(&id));
    }
}
