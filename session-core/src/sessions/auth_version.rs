//! The per-subject auth version: one call (a password change, say) ends every session of a user
//! on every instance, on any store.
//!
//! The store keeps a counter per subject, under an id derived from the subject that no token
//! hashes to (as the revocation epoch). A session records the counter's value when it is bound
//! to its subject (a login, `set_user`); with the check on, every load of a session with a
//! subject reads the counter and compares it with the recorded value, in constant time, and a
//! mismatch ends the session. [`SessionManager::bump_auth_version`] adds one to the counter.
//!
//! Unlike [`revoke_all`](crate::SessionManager::revoke_all) it needs no subject index and ends
//! sessions lazily: each on its next load, wherever it is loaded. A login racing the bump either
//! read the counter after it (and stays: it came after the password change) or before it (and
//! its session ends on its next load).
//!
//! [`SessionManager::bump_auth_version`]: crate::SessionManager::bump_auth_version

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::SessionError;
use super::shared::Shared;
use crate::{MAX_TTL, SessionId};

/// Domain separation from token, grace and epoch ids.
const DOMAIN: &[u8] = b"session-core auth version v1\0";

/// The key the version is counted under.
const KEY: &str = "__sys:auth_version";

/// The id `subject`'s version record is kept under.
fn version_id(subject: &str) -> SessionId {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    hasher.update(subject.as_bytes());
    SessionId::from_bytes(hasher.finalize().into())
}

/// The subject's current auth version: 0 until its first bump.
///
/// A plain read: on a store that serves plain reads from a coherent cache (the Redis client-side
/// cache), a bump made through another instance is seen within that cache's staleness bound,
/// and with no round trip in between. A record the store lost (evicted by a bounded memory
/// store) reads as 0, which ends every session bound after a bump: it fails closed.
pub(crate) async fn current(shared: &Shared, subject: &str) -> Result<i64, SessionError> {
    let value = shared.store.get(&version_id(subject), KEY, None).await?;
    Ok(value.and_then(|v| v.as_i64()).unwrap_or(0))
}

/// Adds one to the subject's auth version; the new version.
///
/// The record lives as long as a store keeps anything ([`MAX_TTL`]): it has to outlive every
/// session bound before the bump, and there is one small record per user who ever bumped.
pub(crate) async fn bump(shared: &Shared, subject: &str) -> Result<i64, SessionError> {
    Ok(shared
        .store
        .incr(&version_id(subject), KEY, 1, MAX_TTL)
        .await?)
}

/// Whether a session that recorded `recorded` (none: bound before the check was on, so 0) is
/// still valid against `current`, compared in constant time.
pub(crate) fn matches(recorded: Option<i64>, current: i64) -> bool {
    recorded
        .unwrap_or(0)
        .to_le_bytes()
        .ct_eq(&current.to_le_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_exactly_and_ids_are_one_per_subject() {
        assert!(matches(None, 0));
        assert!(matches(Some(3), 3));
        assert!(!matches(Some(3), 4));
        assert!(!matches(None, 1));
        assert_ne!(version_id("alice"), version_id("bob"));
    }
}
