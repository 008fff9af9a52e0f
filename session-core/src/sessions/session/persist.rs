//! Persisting a session: the application's hook, named events, and `persist_now`.

use super::Session;
use crate::sessions::{EventKind, PersistReason, SessionError};

impl Session {
    pub(super) async fn run_hook(&self, reason: PersistReason) -> Result<(), SessionError> {
        self.emit(EventKind::Persist);
        match &self.0.shared.hook {
            Some(hook) => hook.persist(self, reason).await.map_err(SessionError::Hook),
            None => Ok(()),
        }
    }

    /// The hook, then a save that reaches the store even with nothing to write (see
    /// `save_touching`), so a live session ended elsewhere is found out.
    pub(crate) async fn persist(&self, reason: PersistReason) -> Result<(), SessionError> {
        self.run_hook(reason).await?;
        self.save_touching().await.map(drop)
    }

    /// Persists now: emits `Persist`, runs the persistence hook, and saves the changed keys.
    ///
    /// # Errors
    /// [`SessionError::Hook`] or those of [`save`](Session::save).
    pub async fn persist_now(&self) -> Result<(), SessionError> {
        self.persist(PersistReason::Now).await
    }

    /// Whether the named event (e.g. `"disconnect"`) makes the session persist.
    pub fn will_persist_on(&self, event: &str) -> bool {
        self.0.shared.config.persists_on(event)
    }

    /// Tells the session a named event happened (a connection closed, the server is stopping...);
    /// when the event is configured to persist, it persists, and this returns `true`.
    ///
    /// # Errors
    /// As [`persist_now`](Session::persist_now).
    pub async fn notify(&self, event: &str) -> Result<bool, SessionError> {
        if !self.will_persist_on(event) {
            return Ok(false);
        }
        self.persist(PersistReason::Event(event.to_owned())).await?;
        Ok(true)
    }
}
