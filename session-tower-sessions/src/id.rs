//! tower-sessions' ids as our stores see them.

use session_core::SessionId;
use sha2::{Digest, Sha256};
use tower_sessions_core::session::Id;

/// The id a store knows a tower-sessions session by: SHA-256 of a domain tag and the id's 16
/// bytes. A leaked store (or its backup, or a log) then yields no cookie a client could present,
/// as with our own tokens, and the tag keeps these ids apart from the ones session-core derives
/// from its tokens, so the two kinds of session can share one store.
pub fn store_id(id: &Id) -> SessionId {
    let mut hasher = Sha256::new();
    hasher.update(b"session-tower-sessions id v1\0");
    hasher.update(id.0.to_le_bytes());
    SessionId::from_bytes(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hashed_with_a_tag_of_their_own() {
        let id = Id(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(store_id(&id), store_id(&id));
        assert_ne!(store_id(&id), store_id(&Id(id.0 + 1)));
        // Not the untagged hash of the same bytes.
        let plain: [u8; 32] = Sha256::digest(id.0.to_le_bytes()).into();
        assert_ne!(store_id(&id), SessionId::from_bytes(plain));
    }
}
