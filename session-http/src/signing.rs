//! Signed cookie values: `<token>.<base64url HMAC-SHA256>`, signed with the newest key and
//! verified against every key, so keys can be rotated without logging everyone out.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The shortest signing key accepted (256 bits).
pub const MIN_KEY_LEN: usize = 32;

/// HMAC keys, newest first.
#[derive(Clone)]
pub struct SigningKeys(Vec<Vec<u8>>);

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKeys({} keys)", self.0.len())
    }
}

/// How a signed value checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verified {
    /// Signed by the newest key.
    Current(String),
    /// Signed by an older key: valid, and worth re-signing with the newest.
    Old(String),
}

impl SigningKeys {
    /// Keys newest first: the first signs, all verify. Retire a key by dropping it from the list.
    ///
    /// # Errors
    /// When the list is empty or a key is shorter than [`MIN_KEY_LEN`] bytes.
    pub fn new(keys: Vec<Vec<u8>>) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("at least one signing key is needed".into());
        }
        if keys.iter().any(|k| k.len() < MIN_KEY_LEN) {
            return Err(format!("signing keys must be at least {MIN_KEY_LEN} bytes"));
        }
        Ok(Self(keys))
    }

    fn mac(key: &[u8], name: &str, token: &str) -> HmacSha256 {
        // Keys of any length are valid for HMAC, so this cannot fail.
        let mut mac =
            HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
        // The cookie name is signed too, so a value cannot be moved to another cookie.
        mac.update(name.as_bytes());
        mac.update(b"=");
        mac.update(token.as_bytes());
        mac
    }

    /// `token` signed with the newest key.
    pub(crate) fn sign(&self, name: &str, token: &str) -> String {
        let tag = Self::mac(&self.0[0], name, token).finalize().into_bytes();
        format!("{token}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The token inside a signed value, if any key's signature matches (compared in constant
    /// time). A value without a signature, or with a bad one, is refused: there is no fallback.
    pub(crate) fn verify(&self, name: &str, value: &str) -> Option<Verified> {
        let (token, tag) = value.rsplit_once('.')?;
        // 32 bytes of HMAC are 43 base64url characters; anything else is not ours.
        if tag.len() != 43 {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        for (i, key) in self.0.iter().enumerate() {
            if Self::mac(key, name, token).verify_slice(&tag).is_ok() {
                let token = token.to_owned();
                return Some(if i == 0 {
                    Verified::Current(token)
                } else {
                    Verified::Old(token)
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(seeds: &[u8]) -> SigningKeys {
        SigningKeys::new(seeds.iter().map(|s| vec![*s; 32]).collect()).unwrap()
    }

    #[test]
    fn sign_verify_rotate_retire() {
        let old = keys(&[1]);
        let value = old.sign("s", "token");
        assert_eq!(
            old.verify("s", &value),
            Some(Verified::Current("token".into()))
        );
        assert_eq!(
            old.verify("other-name", &value),
            None,
            "bound to the cookie name"
        );
        let rotated = keys(&[2, 1]);
        assert_eq!(
            rotated.verify("s", &value),
            Some(Verified::Old("token".into()))
        );
        let retired = keys(&[2]);
        assert_eq!(retired.verify("s", &value), None);
        assert_eq!(old.verify("s", "token"), None, "unsigned");
        assert_eq!(old.verify("s", "token.AAAA"), None);
    }

    #[test]
    fn short_or_missing_keys_are_refused() {
        assert!(SigningKeys::new(vec![]).is_err());
        assert!(SigningKeys::new(vec![vec![0; 31]]).is_err());
    }
}
