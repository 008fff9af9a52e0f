//! The limits of the contract, and the one place that checks keys, subjects and TTLs against them.

use std::time::Duration;

use crate::StoreError;

/// The longest key, in bytes, a store must accept.
pub const MAX_KEY_LEN: usize = 1024;

/// The longest subject (user id), in bytes, a store must accept.
pub const MAX_SUBJECT_LEN: usize = 1024;

/// The longest TTL a store must accept (ten years). Longer ones are refused rather than clamped,
/// so a caller's unit mistake shows.
pub const MAX_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// Keys starting with this prefix are reserved for system metadata kept by the session manager.
/// Application keys cannot use it, so they can never collide with it.
pub const RESERVED_KEY_PREFIX: &str = "__sys:";

/// Who is naming a key: application keys may not enter the reserved namespace, the system's may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A key chosen by the application (through a session handle).
    User,
    /// A key written by a store's caller directly, which may be reserved system metadata.
    Store,
}

/// Checks a key: non-empty, at most [`MAX_KEY_LEN`] bytes, no NUL (several databases cannot hold
/// one in a text column), and, for [`KeyKind::User`], outside [`RESERVED_KEY_PREFIX`].
///
/// # Errors
/// [`StoreError::InvalidInput`] naming the broken rule; [`StoreError::TooLarge`] for length.
pub fn validate_key(key: &str, kind: KeyKind) -> Result<(), StoreError> {
    check_name("key", key, MAX_KEY_LEN)?;
    if kind == KeyKind::User && key.starts_with(RESERVED_KEY_PREFIX) {
        return Err(StoreError::InvalidInput(format!(
            "key uses the reserved prefix {RESERVED_KEY_PREFIX:?}"
        )));
    }
    Ok(())
}

/// Checks a subject (user id) with the same rules as a key, against [`MAX_SUBJECT_LEN`].
///
/// # Errors
/// As [`validate_key`].
pub fn validate_subject(subject: &str) -> Result<(), StoreError> {
    check_name("subject", subject, MAX_SUBJECT_LEN)
}

/// Checks a TTL: more than zero and at most [`MAX_TTL`].
///
/// # Errors
/// [`StoreError::InvalidInput`].
pub fn validate_ttl(ttl: Duration) -> Result<(), StoreError> {
    if ttl.is_zero() || ttl > MAX_TTL {
        return Err(StoreError::InvalidInput(format!(
            "ttl must be more than zero and at most {} s, got {ttl:?}",
            MAX_TTL.as_secs()
        )));
    }
    Ok(())
}

fn check_name(what: &'static str, name: &str, limit: usize) -> Result<(), StoreError> {
    if name.is_empty() {
        return Err(StoreError::InvalidInput(format!("{what} is empty")));
    }
    if name.len() > limit {
        return Err(StoreError::TooLarge {
            what,
            size: name.len(),
            limit,
        });
    }
    if name.contains('\0') {
        return Err(StoreError::InvalidInput(format!("{what} contains NUL")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(validate_key("a", KeyKind::User).is_ok());
        assert!(validate_key(&"k".repeat(MAX_KEY_LEN), KeyKind::User).is_ok());
        assert!(matches!(
            validate_key(&"k".repeat(MAX_KEY_LEN + 1), KeyKind::User),
            Err(StoreError::TooLarge { what: "key", .. })
        ));
        assert!(matches!(
            validate_key("", KeyKind::Store),
            Err(StoreError::InvalidInput(_))
        ));
        assert!(matches!(
            validate_key("a\0b", KeyKind::Store),
            Err(StoreError::InvalidInput(_))
        ));
        assert!(matches!(
            validate_key("__sys:meta", KeyKind::User),
            Err(StoreError::InvalidInput(_))
        ));
        assert!(validate_key("__sys:meta", KeyKind::Store).is_ok());
    }

    #[test]
    fn ttls() {
        assert!(validate_ttl(Duration::ZERO).is_err());
        assert!(validate_ttl(Duration::from_nanos(1)).is_ok());
        assert!(validate_ttl(MAX_TTL).is_ok());
        assert!(validate_ttl(MAX_TTL + Duration::from_secs(1)).is_err());
        assert!(validate_ttl(Duration::MAX).is_err());
    }
}
