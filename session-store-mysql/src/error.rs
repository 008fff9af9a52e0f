//! The backend's own errors, and how each becomes a [`StoreError`] kind.

use session_core::StoreError;
use sqlx::mysql::MySqlDatabaseError;

/// What can go wrong inside this backend; turned into a [`StoreError`] at the trait boundary.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MySqlError {
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Document(#[from] session_core::DocumentError),
    #[error("the operation did not finish within {0:?}")]
    Timeout(std::time::Duration),
    #[error(
        "the tables were written by a newer version (migration {found}, this code knows {known})"
    )]
    NewerSchema { found: i32, known: i32 },
}

/// Server error numbers that mean "the server cannot serve us right now": too many connections
/// (1040), a shutdown in progress (1053), a lock wait past `innodb_lock_wait_timeout` (1205), a
/// statement past MariaDB's `max_statement_time` (1969) or MySQL's `max_execution_time` (3024),
/// a read-only server (1290, 1836: a replica or a failover in progress).
const UNAVAILABLE: [u16; 7] = [1040, 1053, 1205, 1969, 3024, 1290, 1836];

/// A deadlock (1213): InnoDB rolled the statement back; running it again is safe.
const DEADLOCK: u16 = 1213;

impl MySqlError {
    /// The server's error number of a database error.
    fn number(&self) -> Option<u16> {
        match self {
            Self::Sqlx(sqlx::Error::Database(db)) => db
                .try_downcast_ref::<MySqlDatabaseError>()
                .map(|e| e.number()),
            _ => None,
        }
    }

    /// Whether the server rolled the statement back to break a deadlock (then it may run again).
    pub(crate) fn is_deadlock(&self) -> bool {
        self.number() == Some(DEADLOCK)
    }

    /// Classifies with sqlx's error variants and the server's error number, never by message text.
    pub(crate) fn into_store_error(self, context: &str) -> StoreError {
        let number = self.number();
        let unavailable = match &self {
            Self::Timeout(_) => true,
            Self::Sqlx(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed,
            ) => true,
            _ => number.is_some_and(|n| UNAVAILABLE.contains(&n) || n == DEADLOCK),
        };
        if unavailable {
            StoreError::unavailable(context, self)
        } else {
            StoreError::backend(context, self)
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, MySqlError>;
