//! `SessionError`: what a session or the manager can report.

use crate::{BoxError, RandomnessError, StoreError};

/// What went wrong with a session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The store failed; see [`StoreError`] for its kind (e.g. `Unavailable`).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value could not be turned into JSON, or a stored value into the requested type.
    #[error("session value (de)serialization failed: {0}")]
    Serde(#[from] serde_json::Error),
    /// The session is bound to a device context and was presented from another one; it has been
    /// ended.
    #[error("the session was presented from a different device context and has been ended")]
    DeviceMismatch,
    /// The session was destroyed; this handle can no longer be used.
    #[error("the session was destroyed")]
    Destroyed,
    /// The handle's token was rotated out ([`Session::rotate`](crate::Session::rotate),
    /// [`Session::login`](crate::Session::login)): it can still read the session as it was, for
    /// the rotation grace, but change nothing. Nothing was written. The new token is the one to
    /// use (a browser gets it with the response that rotated).
    #[error("the session's token was rotated out: it is read-only")]
    RotatedOut,
    /// A live session already uses this application key.
    #[error("a live session already has the key {0:?}")]
    LiveKeyTaken(String),
    /// The operation needs a store capability the manager was not given.
    #[error("the store does not provide {0}")]
    Unsupported(&'static str),
    /// The configuration is invalid.
    #[error("invalid session configuration: {0}")]
    Config(String),
    /// The application's persistence hook failed.
    #[error("the persistence hook failed: {0}")]
    Hook(#[source] BoxError),
    /// The OS could not provide randomness for a token.
    #[error(transparent)]
    Randomness(#[from] RandomnessError),
}

impl SessionError {
    /// Whether retrying later may succeed (a store that is unavailable).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_transient())
    }
}
