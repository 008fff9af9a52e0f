//! The backend's own errors, and how each becomes a [`StoreError`] kind.

use session_core::StoreError;

/// What can go wrong inside this backend; turned into a [`StoreError`] at the trait boundary.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PgError {
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Document(#[from] session_core::DocumentError),
    #[error("the operation did not finish within {0:?}")]
    Timeout(std::time::Duration),
    #[error(
        "the schema was written by a newer version (migration {found}, this code knows {known})"
    )]
    NewerSchema { found: i32, known: i32 },
}

/// SQLSTATE classes and codes that mean "the server cannot serve us right now": connection
/// exceptions (08), operator intervention such as a shutdown (57P) or a statement timeout (57014),
/// too many connections (53300).
fn unavailable_code(code: &str) -> bool {
    // 57014 (query_canceled) is the server's own statement timeout: the statement was rolled back.
    code.starts_with("08") || code.starts_with("57P") || code == "57014" || code == "53300"
}

/// The SQLSTATEs this store's own functions raise (class `SS`): a value `incr` cannot add to,
/// a sum that overflows, a `compare_and_set` that found another value.
pub(crate) const NOT_AN_INTEGER: &str = "SS001";
pub(crate) const OVERFLOW: &str = "SS002";
pub(crate) const MISMATCH: &str = "SS003";

impl PgError {
    /// The SQLSTATE of a database error.
    pub(crate) fn code(&self) -> Option<String> {
        match self {
            Self::Sqlx(sqlx::Error::Database(db)) => db.code().map(|c| c.into_owned()),
            _ => None,
        }
    }

    /// Classifies with sqlx's error variants and the server's SQLSTATE, never by message text.
    pub(crate) fn into_store_error(self, context: &str) -> StoreError {
        match self.code().as_deref() {
            Some(NOT_AN_INTEGER) => {
                return StoreError::InvalidInput(format!(
                    "{context}: the value is not an integer that fits an i64"
                ));
            }
            Some(OVERFLOW) => {
                return StoreError::InvalidInput(format!("{context}: the sum overflows an i64"));
            }
            _ => {}
        }
        let unavailable = match &self {
            Self::Timeout(_) => true,
            Self::Sqlx(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed,
            ) => true,
            Self::Sqlx(sqlx::Error::Database(db)) => {
                db.code().is_some_and(|c| unavailable_code(&c))
            }
            _ => false,
        };
        if unavailable {
            StoreError::unavailable(context, self)
        } else {
            StoreError::backend(context, self)
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, PgError>;
