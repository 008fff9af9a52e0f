//! `ConnectError`: why a store URL did not give a store. No variant holds the URL itself, which
//! may carry a password.

use session_core::{SessionError, StoreError};

/// Why [`connect`](crate::connect) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not a store URL, or does not parse.
    #[error("invalid store URL: {0}")]
    InvalidUrl(String),
    /// The URL's scheme names no backend this crate knows.
    #[error(
        "unknown store scheme {0:?}: use memory://, sqlite://, postgres://, mysql://, redis:// or redis+cluster://"
    )]
    UnknownScheme(String),
    /// The backend the URL names is not built in: its cargo feature is off.
    #[error(
        "{scheme}:// needs the `{feature}` feature of session-stores: session-stores = {{ features = [\"{feature}\"] }}"
    )]
    FeatureDisabled {
        /// The URL's scheme.
        scheme: String,
        /// The feature to enable.
        feature: &'static str,
    },
    /// An option in the URL's query is unknown, repeated or malformed.
    #[error("invalid option `{option}` for {scheme}://: {reason}")]
    InvalidOption {
        /// The URL's scheme.
        scheme: String,
        /// The option's name.
        option: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The backend could not be opened, reached or migrated; see [`StoreError`] for its kind
    /// (e.g. `Unavailable`, worth retrying). Its `Display` names the backend only; the cause is
    /// its [`source`](std::error::Error::source) ([`session_core::error_chain`] prints both).
    #[error("{backend} store")]
    Store {
        /// The backend's name.
        backend: &'static str,
        /// What the backend reported.
        #[source]
        source: StoreError,
    },
}

impl ConnectError {
    /// Whether trying again later may succeed (the server could not be reached).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Store { source, .. } if source.is_transient())
    }
}

impl From<ConnectError> for SessionError {
    /// A connection failure as a session error: a store failure stays one; a bad URL is a
    /// configuration error.
    fn from(error: ConnectError) -> Self {
        match error {
            ConnectError::Store { source, .. } => SessionError::Store(source),
            other => SessionError::Config(other.to_string()),
        }
    }
}
