//! Our errors in tower-sessions' terms.

use session_core::StoreError;
use tower_sessions_core::session_store::Error;

/// A store error as tower-sessions reports it: refused input (a key or value the store cannot
/// hold) is an encoding error, everything else a backend error. tower-sessions logs it and answers
/// 500; the text names the kind and never a session id or token.
pub(crate) fn from_store(error: StoreError) -> Error {
    match error {
        StoreError::InvalidInput(_) | StoreError::TooLarge { .. } => {
            Error::Encode(error.to_string())
        }
        _ => Error::Backend(error.to_string()),
    }
}

/// The error for a save whose session ended while the request ran (logged out, its id cycled at
/// a login, or expired): the session is not brought back, and the changes are not written.
pub(crate) fn ended_meanwhile() -> Error {
    Error::Backend(
        "the session ended while this request ran (logged out, cycled or expired); \
         it is not recreated, and this request's changes were not written"
            .to_owned(),
    )
}
