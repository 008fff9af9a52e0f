//! The backend's own errors, and how each becomes a [`StoreError`] kind.

use redis::{ErrorKind, ServerErrorKind};
use session_core::StoreError;

/// What can go wrong inside this backend; turned into a [`StoreError`] at the trait boundary.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RedisError {
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error("a stored value is not valid JSON")]
    Json(#[from] serde_json::Error),
    #[error("the operation did not finish within {0:?}")]
    Timeout(std::time::Duration),
}

impl RedisError {
    /// Classifies with redis-rs's own checks (`is_timeout`, `is_connection_dropped`, the error
    /// kind), never by message text.
    pub(crate) fn into_store_error(self, context: &str) -> StoreError {
        // The increment script's own refusals, by their error codes.
        if let Self::Redis(e) = &self
            && matches!(e.code(), Some("NOTINT" | "RANGE"))
        {
            return StoreError::InvalidInput(format!(
                "{context}: the value is not an integer that fits an i64, or the sum overflows"
            ));
        }
        let unavailable = match &self {
            Self::Timeout(_) => true,
            Self::Redis(e) => {
                e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    || e.is_io_error()
                    || e.is_unrecoverable_error()
                    || matches!(
                        e.kind(),
                        ErrorKind::Server(
                            ServerErrorKind::ClusterDown
                                | ServerErrorKind::MasterDown
                                | ServerErrorKind::TryAgain
                                | ServerErrorKind::BusyLoading
                        ) | ErrorKind::ClusterConnectionNotFound
                    )
                    // `maxmemory` reached with `noeviction`: the server refuses writes until
                    // memory frees up; nothing of the refused write was applied (a refused
                    // command inside `MULTI` aborts the whole transaction).
                    || e.clone().into_server_errors().is_some_and(|errors| {
                        errors.iter().any(|(_, error)| error.code() == "OOM")
                    })
            }
            Self::Json(_) => false,
        };
        if unavailable {
            StoreError::unavailable(context, self)
        } else {
            StoreError::backend(context, self)
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, RedisError>;
