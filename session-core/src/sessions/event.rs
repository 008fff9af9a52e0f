//! Events, and the persistence hook the application may provide.

use async_trait::async_trait;

use crate::{BoxError, Session, SessionId, Value};

/// Something that happened to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// A new session was created (not yet stored: that happens on its first save).
    Created,
    /// A live session was started ([`Session::start`]).
    Started,
    /// The session was bound to a subject ([`Session::login`], [`Session::set_user`]); `session`
    /// is the id that carries it (after a login, the new one).
    Identified {
        /// The subject (user id).
        subject: String,
        /// The user data given with it.
        user_data: Value,
    },
    /// The session is persisting (the hook runs after this event).
    Persist,
    /// The session is about to be destroyed.
    BeforeDestroy,
    /// The session was destroyed; delivered after any persisting finished.
    Destroyed,
    /// A save wrote the session's changes (or its touch) to the store.
    Saved,
    /// A connection resumed the session by its token ([`SessionManager::resume`]): emitted for
    /// every resume that gives a live handle, the first (which loaded the session and
    /// registered it) and each later one sharing it.
    ///
    /// [`SessionManager::resume`]: crate::SessionManager::resume
    Resumed,
    /// A live session left the manager's registry at [`shutdown`](crate::SessionManager::shutdown),
    /// or because nobody held it any more
    /// ([`release_resumed_after`](crate::ConfigBuilder::release_resumed_after)): it stays in the
    /// store, and a later resume by its token finds it.
    Released,
    /// The session got a new token and id ([`Session::rotate`], [`Session::login`]); `session`
    /// is the new id.
    Rotated {
        /// The id it had before.
        from: SessionId,
    },
}

/// An event and the session it concerns.
///
/// Two events are equal when they name the same session and kind; the handle is not compared.
#[derive(Debug, Clone)]
pub struct Event {
    /// The session's id (its current one; for `Rotated`, the new one).
    pub session: SessionId,
    /// What happened.
    pub kind: EventKind,
    /// The session's handle, to act on it from an observer (wire up a connection on `Started`,
    /// say goodbye on `Destroyed`). `None` only for a `Destroyed` of a session the manager ended
    /// without loading it (a revoked or limited-out session, an expired one found on load).
    pub handle: Option<Session>,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.session == other.session && self.kind == other.kind
    }
}

impl Eq for Event {}

/// Why a session is persisting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PersistReason {
    /// The persistence interval elapsed.
    Interval,
    /// A named event configured to persist, e.g. `"disconnect"`.
    Event(String),
    /// [`Session::persist_now`] or [`SessionManager::persist_all`](crate::SessionManager::persist_all).
    Now,
    /// The session is being destroyed with `persist: true`.
    Destroy,
    /// A resumed live session nobody holds any more is being released
    /// ([`release_resumed_after`](crate::ConfigBuilder::release_resumed_after)).
    Release,
}

/// An application's own persistence, run whenever a session persists (e.g. to write a player's
/// state to its database). The manager awaits it, so `Destroyed` is delivered only after it
/// finished.
///
/// # Examples
/// ```
/// use session_core::{async_trait, BoxError, PersistHook, PersistReason, Session};
///
/// struct SaveScore;
///
/// #[async_trait]
/// impl PersistHook for SaveScore {
///     async fn persist(&self, session: &Session, reason: PersistReason) -> Result<(), BoxError> {
///         let score: Option<u64> = session.get("score").await?;
///         println!("saving score {score:?} because of {reason:?}");
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait PersistHook: Send + Sync + 'static {
    /// Persists what the application needs from `session`.
    async fn persist(&self, session: &Session, reason: PersistReason) -> Result<(), BoxError>;
}
