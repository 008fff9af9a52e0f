//! `Token`: the secret a client holds, generated from the OS CSPRNG and parsed strictly.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{SessionId, TokenError};

/// The number of random bytes in a token (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// The length of a token's text form: [`TOKEN_BYTES`] in base64url without padding.
pub const TOKEN_LEN: usize = 43;

/// The secret a client presents (in a cookie, a header...). Only its [`SessionId`] reaches a store.
///
/// `Debug` never prints the token; equality is constant-time.
#[derive(Clone)]
pub struct Token(String);

/// The operating system could not provide random bytes for a new token.
#[derive(Debug, thiserror::Error)]
#[error("the OS random number generator failed: {0}")]
pub struct RandomnessError(getrandom::Error);

impl Token {
    /// A new token: 256 bits from the OS CSPRNG, base64url-encoded.
    ///
    /// # Errors
    /// [`RandomnessError`] when the OS cannot supply random bytes; no weaker fallback is used.
    pub fn generate() -> Result<Self, RandomnessError> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).map_err(RandomnessError)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Parses an untrusted token string.
    ///
    /// The length is checked first and the alphabet second, before anything else looks at the
    /// input, so an oversized or hostile string costs nothing. The string must also be canonical
    /// base64url (no unused trailing bits), so one token has exactly one spelling.
    ///
    /// # Errors
    /// [`TokenError::Length`] or [`TokenError::Alphabet`].
    pub fn parse(input: &str) -> Result<Self, TokenError> {
        if input.len() != TOKEN_LEN {
            return Err(TokenError::Length);
        }
        let base64url = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
        if !input.as_bytes().iter().all(base64url) {
            return Err(TokenError::Alphabet);
        }
        let mut bytes = [0u8; TOKEN_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(input, &mut bytes) {
            Ok(TOKEN_BYTES) => Ok(Self(input.to_owned())),
            _ => Err(TokenError::Alphabet),
        }
    }

    /// The text to hand to the client.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The token a renewal of this token's session issues, given the renewal's random `nonce`:
    /// `SHA-256` of a domain tag, this token and the nonce. Every request holding this token
    /// computes the same successor, so any number of requests racing one renewal agree on one
    /// new id; the store keeps only the nonce, so a leaked store yields no successor without the
    /// old token itself.
    pub(crate) fn successor(&self, nonce: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"session-core renewal v1\0");
        hasher.update(self.0.as_bytes());
        hasher.update(nonce);
        let bytes: [u8; TOKEN_BYTES] = hasher.finalize().into();
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The id stores know this session by: `SHA-256` of the token's text.
    pub fn id(&self) -> SessionId {
        SessionId::from_bytes(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Token {}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(<redacted>, id {})", self.id().short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_eq!(a.as_str().len(), TOKEN_LEN);
        assert_eq!(Token::parse(a.as_str()).unwrap(), a);
        assert_ne!(a, b);
        assert_ne!(a.id(), b.id());
        assert_eq!(a.id(), Token::parse(a.as_str()).unwrap().id());
    }

    #[test]
    fn parse_rejects_bad_length_first() {
        assert_eq!(Token::parse("").unwrap_err(), TokenError::Length);
        assert_eq!(
            Token::parse(&"A".repeat(42)).unwrap_err(),
            TokenError::Length
        );
        assert_eq!(
            Token::parse(&"A".repeat(100_000)).unwrap_err(),
            TokenError::Length
        );
        // 43 bytes but not 43 characters: still a length-checked, then alphabet-checked input.
        assert_eq!(
            Token::parse(&format!("é{}", "A".repeat(41))).unwrap_err(),
            TokenError::Alphabet
        );
    }

    #[test]
    fn parse_rejects_foreign_alphabet_and_non_canonical_forms() {
        let good = Token::generate().unwrap();
        for bad in ["+", "/", "=", " ", ".", "\0"] {
            let s = format!("{bad}{}", &good.as_str()[1..]);
            assert_eq!(
                Token::parse(&s).unwrap_err(),
                TokenError::Alphabet,
                "{bad:?}"
            );
        }
        // The last character carries 4 unused bits; a non-zero one is another spelling.
        let mut s = "A".repeat(TOKEN_LEN - 1);
        s.push('B');
        assert_eq!(Token::parse(&s).unwrap_err(), TokenError::Alphabet);
        s.pop();
        s.push('A');
        assert!(Token::parse(&s).is_ok());
    }

    #[test]
    fn a_successor_is_a_valid_token_fixed_by_token_and_nonce() {
        let t = Token::generate().unwrap();
        let next = t.successor(b"nonce");
        assert_eq!(Token::parse(next.as_str()).unwrap(), next);
        assert_eq!(t.successor(b"nonce"), next);
        assert_ne!(t.successor(b"other"), next);
        assert_ne!(Token::generate().unwrap().successor(b"nonce"), next);
        assert_ne!(next, t);
    }

    #[test]
    fn debug_hides_the_token() {
        let t = Token::generate().unwrap();
        assert!(!format!("{t:?}").contains(t.as_str()));
    }
}
