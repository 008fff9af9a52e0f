//! Live sessions, connection style: a registry by application key, interval persistence, and
//! shutdown.

use std::sync::{Arc, Weak};

use super::shared::{Shared, lock};
use super::{PersistReason, SessionError};
use crate::{Session, SessionManager};

impl SessionManager {
    /// A new live session registered under the application key `key` (a player id, a connection
    /// group...). Connections find it with [`find_by_key`](Self::find_by_key) and share one
    /// handle, so each sees the others' changes. Starts the interval persistence when configured.
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
    /// session.insert_local(String::from("a socket handle, never persisted"));
    ///
    /// // Another connection of the same player:
    /// let same = manager.find_by_key("player-42").expect("registered");
    /// same.set("level", &3)?;
    /// assert_eq!(session.get::<u32>("level")?, Some(3));
    ///
    /// session.notify("disconnect").await?; // persists: "disconnect" is a default persist event
    /// manager.shutdown(true).await?;
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

    /// The live session registered under `key`.
    pub fn find_by_key(&self, key: &str) -> Option<Session> {
        lock(&self.shared.live).get(key).cloned()
    }

    /// The keys of every live session.
    pub fn live_keys(&self) -> Vec<String> {
        lock(&self.shared.live).keys().cloned().collect()
    }

    /// Persists every live session now ([`Session::persist_now`]) and returns how many.
    ///
    /// # Errors
    /// The first failure; every session is attempted.
    pub async fn persist_all(&self) -> Result<usize, SessionError> {
        persist_each(&self.shared, PersistReason::Now, false).await
    }

    /// Stops interval persistence and destroys every live session (persisting each first when
    /// `persist` is set).
    ///
    /// # Errors
    /// The first failure; every session is attempted.
    pub async fn shutdown(&self, persist: bool) -> Result<(), SessionError> {
        if let Some(ticker) = lock(&self.shared.ticker).take() {
            ticker.abort();
        }
        let sessions: Vec<Session> = lock(&self.shared.live).drain().map(|(_, s)| s).collect();
        let mut first_error = None;
        for session in sessions {
            if let Err(e) = session.destroy(persist).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Starts the interval task once, if an interval is configured and a runtime is running. It
    /// holds the manager weakly, so it ends when the manager is gone.
    fn ensure_ticker(&self) {
        let Some(every) = self.shared.config.persist_interval else {
            return;
        };
        let mut ticker = lock(&self.shared.ticker);
        if ticker.is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no tokio runtime: live sessions will not persist on an interval");
            return;
        };
        let shared: Weak<Shared> = Arc::downgrade(&self.shared);
        *ticker = Some(runtime.spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await; // the first tick is immediate
            loop {
                ticks.tick().await;
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                if let Err(error) = persist_each(&shared, PersistReason::Interval, true).await {
                    tracing::warn!(%error, "interval persistence failed; retrying next interval");
                }
            }
        }));
    }
}

/// Persists the live sessions (only those with changes when `only_dirty`); returns how many.
async fn persist_each(
    shared: &Shared,
    reason: PersistReason,
    only_dirty: bool,
) -> Result<usize, SessionError> {
    let sessions: Vec<Session> = lock(&shared.live).values().cloned().collect();
    let mut first_error = None;
    let mut persisted = 0;
    for session in sessions.into_iter().filter(|s| !only_dirty || s.is_dirty()) {
        match session.persist(reason.clone()).await {
            Ok(()) => persisted += 1,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(persisted), Err)
}
