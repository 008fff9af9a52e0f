//! The one error type every store returns, and the error of token parsing.

use std::error::Error as StdError;

/// A boxed error from a driver, kept as the `source` of a [`StoreError`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong in a store operation, in kinds a caller can act on.
///
/// Backends keep their driver's error as the [`source`](StdError::source), so the cause and any
/// retry hint survive; callers match on the kind, or ask [`StoreError::is_transient`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend could not be reached in time: connection refused or dropped, an operation or
    /// pool-acquire timeout. Retrying later may succeed.
    #[error("session store unavailable: {context}")]
    Unavailable {
        /// What the store was doing.
        context: String,
        /// The driver's error, when there is one (a timeout may have none).
        #[source]
        source: Option<BoxError>,
    },
    /// An input exceeds a limit (a value, a key count, a backend's own maximum). Nothing was written.
    #[error("{what} too large: {size} bytes, limit {limit}")]
    TooLarge {
        /// What was too large, e.g. `"value"`.
        what: &'static str,
        /// The size that was offered.
        size: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// An input breaks a rule of the contract (an empty key, a zero TTL...). Nothing was written.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Anything else the backend reported, with its original error.
    #[error("session store backend error: {context}")]
    Backend {
        /// What the store was doing.
        context: String,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
}

impl StoreError {
    /// An [`StoreError::Unavailable`] caused by `source`.
    pub fn unavailable(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Unavailable {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// An [`StoreError::Unavailable`] for a timeout, which has no driver error.
    pub fn timeout(context: impl Into<String>) -> Self {
        Self::Unavailable {
            context: context.into(),
            source: None,
        }
    }

    /// A [`StoreError::Backend`] caused by `source`.
    pub fn backend(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Backend {
            context: context.into(),
            source: source.into(),
        }
    }

    /// Whether retrying the same operation later may succeed (only [`StoreError::Unavailable`]).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    /// The error's kind, without its text or source: what metrics and log fields carry.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unavailable { .. } => ErrorKind::Unavailable,
            Self::TooLarge { .. } => ErrorKind::TooLarge,
            Self::InvalidInput(_) => ErrorKind::InvalidInput,
            Self::Backend { .. } => ErrorKind::Backend,
        }
    }
}

/// The kind of a [`StoreError`] ([`StoreError::kind`]), for counting errors by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`StoreError::Unavailable`].
    Unavailable,
    /// [`StoreError::TooLarge`].
    TooLarge,
    /// [`StoreError::InvalidInput`].
    InvalidInput,
    /// [`StoreError::Backend`].
    Backend,
}

impl ErrorKind {
    /// A short lowercase name (`"unavailable"`, `"too_large"`, `"invalid_input"`, `"backend"`),
    /// for a metric label or a log field.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::TooLarge => "too_large",
            Self::InvalidInput => "invalid_input",
            Self::Backend => "backend",
        }
    }
}

/// An error and every cause under it, as one line (`error: cause: its cause`), for a message a
/// person reads (a log line, a command's last words). `Display` of an error says only its own
/// part by convention, so a connect failure would otherwise print without the driver's reason. A
/// cause whose text the line already ends with (a driver that prints its own cause) is said once.
///
/// ```
/// let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
/// let error = session_core::StoreError::unavailable("connecting to Redis", cause);
/// assert_eq!(
///     session_core::error_chain(&error),
///     "session store unavailable: connecting to Redis: refused"
/// );
/// ```
pub fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // Some drivers print their cause in their own message too: say it once.
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

/// Why an untrusted token string was refused. It never says more than the rule it broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The string is not exactly [`TOKEN_LEN`](crate::TOKEN_LEN) bytes long.
    #[error("session token has the wrong length")]
    Length,
    /// The string has a byte outside the base64url alphabet, or is not canonical base64url.
    #[error("session token has a character outside base64url")]
    Alphabet,
}
