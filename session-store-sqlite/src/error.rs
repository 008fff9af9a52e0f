//! The backend's own errors, and how each becomes a [`StoreError`] kind.

use rusqlite::ErrorCode;
use session_core::StoreError;

/// What can go wrong inside this backend; turned into a [`StoreError`] at the trait boundary.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SqliteError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Document(#[from] session_core::DocumentError),
    #[error(
        "the database was written by a newer version (schema {found}, this code knows {known})"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("a blocking database task failed")]
    Task(#[from] tokio::task::JoinError),
    #[error("no database connection became free within {0:?}")]
    PoolTimeout(std::time::Duration),
}

impl SqliteError {
    /// Classifies by SQLite's own result codes, never by message text.
    pub(crate) fn into_store_error(self, context: &str) -> StoreError {
        let code = match &self {
            Self::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => Some(e.code),
            _ => None,
        };
        match (code, &self) {
            // Busy past the busy timeout, a file that cannot be opened, I/O failures: the
            // database is not usable right now, a later retry may succeed.
            (
                Some(
                    ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::CannotOpen
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::DiskFull,
                ),
                _,
            )
            | (_, Self::PoolTimeout(_)) => StoreError::unavailable(context, self),
            _ => StoreError::backend(context, self),
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, SqliteError>;
