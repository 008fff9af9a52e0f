//! Live sessions, connection style: a registry by application key and by token, resuming,
//! interval persistence, observers, and shutdown.

use std::sync::Arc;

use super::shared::{Shared, lock};
use super::{Event, EventKind, PersistReason, SessionError, periodic};
use crate::{Session, SessionManager, Token};

impl SessionManager {
    /// A new live session registered under the application key `key` (a player id, a connection
    /// group...). Connections find it with [`find_by_key`](Self::find_by_key), or by its token
    /// with [`resume`](Self::resume), and share one handle, so each sees the others' changes.
    /// Starts the interval persistence when configured.
    ///
    /// # Examples
    /// ```
    /// use session_core::SessionManager;
    /// use session_store_memory::MemoryStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_core::SessionError> {
    /// let manager = SessionManager::new(MemoryStore::new());
    /// let session = manager.create_live("player-42")?;
    /// session.start();
    /// session.set_local("socket", String::from("a socket handle, never persisted"));
    ///
    /// // Another connection of the same player:
    /// let same = manager.find_by_key("player-42").expect("registered");
    /// same.set("level", &3)?;
    /// assert_eq!(session.get::<u32>("level").await?, Some(3));
    ///
    /// session.notify("disconnect").await?; // persists: "disconnect" is a default persist event
    /// manager.shutdown(true).await?; // persists and releases; the session stays in the store
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::LiveKeyTaken`] when a live session already has `key`.
    pub fn create_live(&self, key: &str) -> Result<Session, SessionError> {
        let mut live = lock(&self.shared.live);
        if live.contains_key(key) {
            return Err(SessionError::LiveKeyTaken(key.to_owned()));
        }
        let session = self.create()?;
        session.set_live_key(key.to_owned());
        live.insert(key.to_owned(), session.clone());
        drop(live);
        self.ensure_ticker();
        Ok(session)
    }

    /// Resumes the session of an untrusted token string as a live session, webgram's resume: a
    /// connection (a tab, a WebSocket) presenting the token gets the handle every other
    /// connection of it already shares, and sees their unsaved changes at once. A session not
    /// yet live is loaded whole from the store (so resuming works across server restarts, on any
    /// persistent store) and joins the registry under its id's hex form. Each resume records a
    /// visit (persisted with the next save).
    ///
    /// Every resume that gives a live handle emits [`EventKind::Resumed`]. A session that joined
    /// by resume is released (persisted, then dropped from the registry, never from the store)
    /// once no handle outside the manager has held it for
    /// [`release_resumed_after`](crate::ConfigBuilder::release_resumed_after): hold the handle
    /// as long as the connection is open, and drop it when it closes.
    ///
    /// `None` for a malformed, unknown, expired or ended token. A token rotated out and inside
    /// its grace gives its read-only handle, which does not join the registry.
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub async fn resume(&self, token: &str) -> Result<Option<Session>, SessionError> {
        let Ok(parsed) = Token::parse(token) else {
            return Ok(None);
        };
        let id = parsed.id();
        let live = lock(&self.shared.live).by_id(&id);
        if let Some(session) = live.filter(|s| !s.is_destroyed()) {
            session.record_visit();
            session.emit(EventKind::Resumed);
            return Ok(Some(session));
        }
        let Some(session) = self.load(token).await? else {
            return Ok(None);
        };
        // A live session is held whole: its connections read it from memory.
        session.get_all().await?;
        if session.is_rotated_out() {
            return Ok(Some(session));
        }
        let joined = {
            let mut live = lock(&self.shared.live);
            match live.by_id(&session.id()).filter(|s| !s.is_destroyed()) {
                // Another connection resumed it meanwhile: share that handle.
                Some(existing) => existing,
                None => {
                    let key = session.id().to_hex();
                    session.set_live_key(key.clone());
                    live.insert_resumed(key, session.clone());
                    session.clone()
                }
            }
        };
        if joined.ptr_eq(&session) {
            // `load` recorded the visit; it is written by the next save.
            session.mark_meta_dirty();
            self.ensure_ticker();
            self.ensure_releaser();
        } else {
            joined.record_visit();
        }
        joined.emit(EventKind::Resumed);
        Ok(Some(joined))
    }

    /// The live session registered under `key`; never one that was ended (by any handle, by
    /// [`end_session_of`](Self::end_session_of), [`revoke_all`](Self::revoke_all), or found gone
    /// by a store operation: such a handle leaves the registry and emits `Destroyed`).
    ///
    /// It answers from memory, without I/O: a session ended by another manager (another
    /// instance revoked it) is still returned until a store operation of its finds it gone. Use
    /// [`find_live`](Self::find_live) to ask the store first.
    pub fn find_by_key(&self, key: &str) -> Option<Session> {
        let mut live = lock(&self.shared.live);
        let session = live.get(key)?;
        if session.is_destroyed() {
            live.remove(key);
            return None;
        }
        Some(session)
    }

    /// As [`find_by_key`](Self::find_by_key), after asking the store whether the session is still
    /// there (one read, none for a session never saved): one ended elsewhere leaves the registry,
    /// emits `Destroyed`, and is not returned; one renewed elsewhere is followed to its new id.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails (the session stays registered).
    pub async fn find_live(&self, key: &str) -> Result<Option<Session>, SessionError> {
        let Some(session) = self.find_by_key(key) else {
            return Ok(None);
        };
        Ok(session.confirm().await?.then_some(session))
    }

    /// The keys of every live session.
    pub fn live_keys(&self) -> Vec<String> {
        lock(&self.shared.live).keys()
    }

    /// Calls `observer` with every event of this manager's sessions as it happens, in the task
    /// that caused it, with the session's handle in [`Event::handle`] (cagey's
    /// `manager.on('started', session => ...)`). Keep it quick: it runs inline. For events in
    /// another task, use [`subscribe`](Self::subscribe).
    ///
    /// # Examples
    /// ```
    /// use session_core::{EventKind, SessionManager};
    /// use session_store_memory::MemoryStore;
    ///
    /// let manager = SessionManager::new(MemoryStore::new());
    /// manager.on(|event| {
    ///     if let (EventKind::Started, Some(session)) = (&event.kind, &event.handle) {
    ///         session.set_local("greeting", "welcome back");
    ///     }
    /// });
    /// let session = manager.create_live("player-1").unwrap();
    /// session.start();
    /// assert!(session.local::<&str>("greeting").is_some());
    /// ```
    pub fn on(&self, observer: impl Fn(&Event) + Send + Sync + 'static) {
        lock(&self.shared.observers).push(Arc::new(observer));
    }

    /// Persists every live session now ([`Session::persist_now`]) and returns how many. A
    /// session ended meanwhile (by another request or instance) is skipped, not counted, and
    /// not an error.
    ///
    /// # Errors
    /// The first failure of a store or hook; every session is attempted.
    pub async fn persist_all(&self) -> Result<usize, SessionError> {
        persist_each(&self.shared, PersistReason::Now, false).await
    }

    /// Stops interval persistence and releases every live session: with `persist`, each runs
    /// the persistence hook and saves first; each emits `Released` and leaves the registry. A
    /// shutdown is not a logout: nothing is removed from the store, and every session resumes
    /// by its token after a restart. Ending sessions is [`Session::destroy`].
    ///
    /// # Errors
    /// The first failure; every session is attempted and released.
    pub async fn shutdown(&self, persist: bool) -> Result<(), SessionError> {
        periodic::stop(&self.shared.ticker);
        periodic::stop(&self.shared.releaser);
        let sessions = lock(&self.shared.live).drain();
        let mut first_error = None;
        for session in sessions {
            if persist
                && let Err(e) = session
                    .persist(PersistReason::Event("shutdown".into()))
                    .await
            {
                first_error.get_or_insert(e);
            }
            session.release();
            session.emit(EventKind::Released);
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Starts the interval task once, if an interval is configured and a runtime is running.
    fn ensure_ticker(&self) {
        let Some(every) = self.shared.config.persist_interval else {
            return;
        };
        periodic::ensure(
            &self.shared,
            |shared| &shared.ticker,
            every,
            "live sessions will not persist on an interval",
            |shared| async move {
                let only_dirty = shared.config.persist_only_dirty;
                if let Err(error) = persist_each(&shared, PersistReason::Interval, only_dirty).await
                {
                    tracing::warn!(%error, "interval persistence failed; retrying next interval");
                }
            },
        );
    }
}

/// Persists the live sessions (only those with changes when `only_dirty`); returns how many.
async fn persist_each(
    shared: &Shared,
    reason: PersistReason,
    only_dirty: bool,
) -> Result<usize, SessionError> {
    let sessions: Vec<Session> = lock(&shared.live).sessions();
    let mut first_error = None;
    let mut persisted = 0;
    for session in sessions.into_iter().filter(|s| !only_dirty || s.is_dirty()) {
        match session.persist(reason.clone()).await {
            Ok(()) => persisted += 1,
            // Ended elsewhere (another instance revoked it): retired, nothing to persist, and
            // no failure of the others.
            Err(SessionError::Destroyed) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(persisted), Err)
}
