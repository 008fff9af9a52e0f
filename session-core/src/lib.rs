//! The core of the session-store family: the [`Store`] contract every backend keeps, the optional
//! capability traits, errors, and the token and id types.
//!
//! # Layout
//!
//! - `store`: the [`Store`] trait and its contract, [`Change`], [`Map`], [`Value`].
//! - `capability`: the optional traits [`SubjectIndex`], [`ExpiredCleanup`], [`Enumerate`].
//! - `cleanup`: running [`ExpiredCleanup`] to completion, once ([`delete_all_expired`]) or on a
//!   periodic task ([`spawn_cleanup`]).
//! - `error`: [`StoreError`], the one error every store returns, and [`TokenError`].
//! - `token`: [`Token`], the client's 256-bit secret, generated and strictly parsed.
//! - `id`: [`SessionId`] (`SHA-256` of a token), what stores see, and its log-safe [`ShortId`].
//! - `validate`: the contract's limits and the one function each for keys, subjects and TTLs.
//!
//! # Example
//!
//! A token goes to the client; stores only see its id.
//!
//! ```
//! use session_core::{Token, validate_key, KeyKind};
//!
//! let token = Token::generate().expect("OS randomness");
//! let cookie_value = token.as_str().to_owned();
//!
//! // Later, from an untrusted request:
//! let parsed = Token::parse(&cookie_value).expect("a token we issued");
//! assert_eq!(parsed.id(), token.id());
//! assert!(Token::parse("not-a-token").is_err());
//!
//! // Application keys cannot reach the reserved namespace.
//! assert!(validate_key("cart", KeyKind::User).is_ok());
//! assert!(validate_key("__sys:meta", KeyKind::User).is_err());
//! println!("session {} created", token.id().short());
//! ```

mod capability;
mod cleanup;
mod error;
mod id;
mod store;
mod token;
mod validate;

pub use async_trait::async_trait;
pub use capability::{Enumerate, ExpiredCleanup, SubjectIndex};
pub use cleanup::{
    CleanupTask, DEFAULT_CLEANUP_BATCH, DEFAULT_CLEANUP_INTERVAL, delete_all_expired, spawn_cleanup,
};
pub use error::{BoxError, StoreError, TokenError};
pub use id::{SESSION_ID_LEN, SessionId, ShortId};
pub use store::{Change, Map, Store, Value};
pub use token::{RandomnessError, TOKEN_BYTES, TOKEN_LEN, Token};
pub use validate::{
    KeyKind, MAX_KEY_LEN, MAX_SUBJECT_LEN, MAX_TTL, RESERVED_KEY_PREFIX, validate_key,
    validate_subject, validate_ttl,
};
