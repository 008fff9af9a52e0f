//! `SessionId`: what stores see, the SHA-256 of the client's token.

use std::fmt;
use std::hash::{Hash, Hasher};

use subtle::ConstantTimeEq;

use crate::StoreError;

/// The number of bytes in a [`SessionId`].
pub const SESSION_ID_LEN: usize = 32;

/// The identity of a session inside a store: `SHA-256(token)`.
///
/// Stores only ever see this value, never the token, so a leaked database, backup or log yields no
/// token a client could present. It is opaque to stores: they key on [`SessionId::as_bytes`] or
/// [`SessionId::to_hex`] as a whole and never on a part of it.
///
/// `Display` prints the whole id as lowercase hex (as [`SessionId::to_hex`]), so
/// `id.to_string()` is a correct storage key; `Debug` prints only the short form
/// ([`SessionId::short`]), which is what logs should name a session by.
#[derive(Clone, Copy, Eq, PartialOrd, Ord)]
pub struct SessionId([u8; SESSION_ID_LEN]);

impl SessionId {
    /// The id with these raw bytes (for stores reading ids back, and for tests).
    pub const fn from_bytes(bytes: [u8; SESSION_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; SESSION_ID_LEN] {
        &self.0
    }

    /// The id as 64 lowercase hex characters, the form text-keyed stores use.
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(SESSION_ID_LEN * 2);
        self.push_hex(&mut out);
        out
    }

    /// Appends the [`to_hex`](SessionId::to_hex) form to `out`: a store building a key around
    /// the id (`prefix{hex}`) does it in one allocation.
    pub fn push_hex(&self, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        // Filled as bytes and appended once: a `push` per character cost ten times as much.
        let mut hex = [0u8; SESSION_ID_LEN * 2];
        for (pair, b) in hex.chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 0xf)];
        }
        // Always ASCII, so never the empty fallback.
        out.push_str(std::str::from_utf8(&hex).unwrap_or_default());
    }

    /// Parses the form [`SessionId::to_hex`] writes (64 hex characters, either case).
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for any other string.
    pub fn from_hex(hex: &str) -> Result<Self, StoreError> {
        let invalid = || StoreError::InvalidInput("session id is not 64 hex characters".into());
        let bytes = hex.as_bytes();
        if bytes.len() != SESSION_ID_LEN * 2 {
            return Err(invalid());
        }
        let mut out = [0u8; SESSION_ID_LEN];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let nibble = |c: u8| (c as char).to_digit(16).ok_or_else(invalid);
            out[i] = (nibble(pair[0])? << 4 | nibble(pair[1])?) as u8;
        }
        Ok(Self(out))
    }

    /// A short prefix (8 hex characters) for logs: enough to correlate lines, useless to an
    /// attacker.
    pub fn short(&self) -> ShortId {
        ShortId([self.0[0], self.0[1], self.0[2], self.0[3]])
    }
}

// Ids are compared in constant time: a lookup never leaks how much of a guess matched.
impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

// Equal ids hash equally: both look at all 32 bytes.
impl Hash for SessionId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.short())
    }
}

// The full id, as lowercase hex (what `to_hex` gives): `id.to_string()` is a safe storage key.
// Logs use `short()`; `Debug` shows only that prefix.
impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The log-safe form of a [`SessionId`], see [`SessionId::short`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ShortId([u8; 4]);

impl fmt::Display for ShortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ShortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_pairs_in_order_and_push_hex_appends_it() {
        let id = SessionId::from_bytes(std::array::from_fn(|i| if i == 0 { 0xa5 } else { 0x0f }));
        assert_eq!(id.to_hex(), format!("a5{}", "0f".repeat(31)));
        let mut key = String::from("p{");
        id.push_hex(&mut key);
        assert_eq!(key, format!("p{{{}", id.to_hex()));
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let id = SessionId::from_bytes(std::array::from_fn(|i| (i * 7) as u8));
        assert_eq!(SessionId::from_hex(&id.to_hex()).unwrap(), id);
        assert_eq!(
            SessionId::from_hex(&id.to_hex().to_uppercase()).unwrap(),
            id
        );
        assert!(SessionId::from_hex("abc").is_err());
        assert!(SessionId::from_hex(&"g".repeat(64)).is_err());
        assert!(SessionId::from_hex(&"é".repeat(32)).is_err());
    }

    #[test]
    fn display_is_the_whole_id_and_debug_the_short_form() {
        let id = SessionId::from_bytes(std::array::from_fn(|i| i as u8));
        assert_eq!(id.to_string(), id.to_hex());
        assert_eq!(id.to_string().len(), 64);
        assert_ne!(
            SessionId::from_bytes([0xab; 32]).to_string(),
            SessionId::from_bytes(
                [[0xab; 4].as_slice(), &[0; 28]]
                    .concat()
                    .try_into()
                    .unwrap()
            )
            .to_string(),
            "ids sharing the short prefix differ in Display"
        );
        assert_eq!(
            format!("{:?}", SessionId::from_bytes([0xab; 32])),
            "SessionId(abababab)"
        );
    }
}
