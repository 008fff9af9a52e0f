//! Reading a session through the handle's cache: a key the handle knows costs nothing, one it
//! does not is fetched alone; an opened handle reads its metadata with the first keys asked.

use serde::de::DeserializeOwned;

use super::moved::Moved;
use super::{Session, State};
use crate::sessions::meta::{Meta, now_ms};
use crate::sessions::open::find;
use crate::sessions::{EventKind, SessionError};
use crate::{KeyKind, Map, RESERVED_KEY_PREFIX, SessionId, Token, Value, validate_key};

/// The tokens a handle was opened from, tried in order when it is first read.
pub(crate) struct Opening {
    /// The well-formed tokens, with their position among those presented and their ids.
    pub(crate) candidates: Vec<(usize, Token, SessionId)>,
    pub(crate) device: Option<String>,
}

impl Session {
    /// The value of `key`, deserialized as `T`; `None` if absent. Served from the handle when it
    /// knows the key (read before, or written by this handle and not saved yet: pending writes
    /// read back as written); otherwise fetched from the store, that key alone. The first read of
    /// an opened handle reads the session's metadata in the same round trip.
    ///
    /// # Examples
    /// ```
    /// use session_core::SessionManager;
    /// use session_store_memory::MemoryStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_core::SessionError> {
    /// let manager = SessionManager::new(MemoryStore::new());
    /// let session = manager.create()?;
    /// session.set("theme", "dark")?;
    /// session.save().await?;
    ///
    /// // A later request: one read of the metadata and "theme", nothing else.
    /// let session = manager.open([session.token().as_str()], None)?;
    /// assert_eq!(session.get::<String>("theme").await?.as_deref(), Some("dark"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Store`] (`InvalidInput`) for an invalid key, or when the store fails;
    /// [`SessionError::Serde`] when the value is not a `T`.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        validate_key(key, KeyKind::User)?;
        let value = match self.known(key) {
            Some(value) => value,
            None => {
                self.fetch(&[key]).await?;
                self.known(key).flatten()
            }
        };
        Ok(value.map(serde_json::from_value).transpose()?)
    }

    /// Every key and value. Keys the handle does not know yet are fetched, once: later reads of
    /// any key are served from the handle.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn get_all(&self) -> Result<Map, SessionError> {
        self.preload(&[]).await?;
        let (id, fetch) = {
            let state = self.state();
            (state.id, state.stored && !state.complete)
        };
        if fetch {
            let read = self.shared().store.get_all(&id, None).await;
            let Some(stored) = self.recorded(read.map_err(SessionError::from))? else {
                // Renewed or rotated out by another request meanwhile: read where it went.
                return match self.moved(id).await? {
                    Moved::Gone => Ok(self.state().data()),
                    _ => Box::pin(self.get_all()).await,
                };
            };
            let mut state = self.state();
            if state.id == id && !state.complete {
                let mut cache: std::collections::HashMap<String, Option<Value>> = stored
                    .into_iter()
                    .filter(|(k, _)| !k.starts_with(RESERVED_KEY_PREFIX))
                    .map(|(k, v)| (k, Some(v)))
                    .collect();
                // Pending changes stay on top of what was read.
                for (key, value) in &state.dirty {
                    cache.insert(key.clone(), value.clone());
                }
                state.cache = cache;
                state.complete = true;
            }
        }
        Ok(self.state().data())
    }

    /// Fetches the keys of `keys` the handle does not know yet, in one `get_many` (an opened
    /// handle reads its metadata in the same round trip), so the reads that follow cost nothing.
    /// With no keys it only reads an opened handle's session.
    ///
    /// # Errors
    /// [`SessionError::Store`] (`InvalidInput`) for an invalid key, or when the store fails.
    pub async fn preload(&self, keys: &[&str]) -> Result<(), SessionError> {
        for key in keys {
            validate_key(key, KeyKind::User)?;
        }
        self.fetch(keys).await
    }

    /// The value of `key` as the handle knows it: `Some(None)` known absent, `None` unknown.
    fn known(&self, key: &str) -> Option<Option<Value>> {
        let state = self.state();
        match state.cache.get(key) {
            Some(value) => Some(value.clone()),
            None if state.complete => Some(None),
            None => None,
        }
    }

    /// Reads what the handle lacks of `keys` (the session itself first, for an unread handle);
    /// a failure of the store is remembered ([`read_failed`](Session::read_failed)).
    async fn fetch(&self, keys: &[&str]) -> Result<(), SessionError> {
        let result = self.fetch_unrecorded(keys).await;
        self.recorded(result)
    }

    /// `result`, a failure of the store remembered ([`read_failed`](Session::read_failed)).
    fn recorded<T>(&self, result: Result<T, SessionError>) -> Result<T, SessionError> {
        if let Err(SessionError::Store(error)) = &result
            && matches!(
                error,
                crate::StoreError::Unavailable { .. } | crate::StoreError::Backend { .. }
            )
        {
            self.state().read_failed = true;
        }
        result
    }

    async fn fetch_unrecorded(&self, keys: &[&str]) -> Result<(), SessionError> {
        if self.is_unread() {
            let _io = self.0.io.lock().await;
            self.open_locked(keys).await?;
        }
        let (id, missing) = {
            let state = self.state();
            if state.complete || !state.stored {
                return Ok(());
            }
            let missing: Vec<&str> = keys
                .iter()
                .copied()
                .filter(|k| !state.cache.contains_key(*k))
                .collect();
            (state.id, missing)
        };
        if missing.is_empty() {
            return Ok(());
        }
        let values = match self.shared().store.get_many(&id, &missing, None).await? {
            Some(values) => values,
            // Renewed or rotated out by another request meanwhile: read where it went. A
            // session that ended has none of its keys (and the handle is retired).
            // Boxed: rare, and it would grow every read's future.
            None => match Box::pin(self.moved(id)).await? {
                Moved::Gone => vec![None; missing.len()],
                _ => return Box::pin(self.fetch_unrecorded(keys)).await,
            },
        };
        let mut state = self.state();
        if state.id != id {
            return Ok(()); // rotated meanwhile: the handle holds the whole session now
        }
        for (key, value) in missing.into_iter().zip(values) {
            state.cache.entry(key.to_owned()).or_insert(value);
        }
        Ok(())
    }

    /// Reads an opened handle's session (the caller holds the I/O lock): each token in turn, the
    /// first whose session is found wins; a rotated-out token's read-only copy only when no
    /// other finds one, so a planted old token cannot make the user's requests read-only; and
    /// when none finds a session, the handle becomes a new one with a fresh token.
    pub(crate) async fn open_locked(&self, keys: &[&str]) -> Result<(), SessionError> {
        let Some(opening) = self.state().opening.clone() else {
            return Ok(()); // read by another caller meanwhile
        };
        let shared = self.shared().clone();
        let mut read_only = None;
        for (position, token, id) in &opening.candidates {
            match find(&shared, token, *id, opening.device.as_deref(), keys).await {
                Ok(Some(found)) if found.meta.rotated => {
                    read_only.get_or_insert((*position, found));
                }
                Ok(Some(found)) => {
                    self.adopt(*found, *position);
                    // Boxed: the rotation's state is large, and renewal is rare.
                    if !self.renewal_due() || Box::pin(self.renew_if_due_locked()).await? {
                        return Ok(());
                    }
                    // Gone while being renewed: as if it had not been found.
                    return self.become_new(&opening);
                }
                Ok(None) | Err(SessionError::DeviceMismatch) => continue,
                Err(error) => return Err(error),
            }
        }
        match read_only {
            Some((position, found)) => {
                self.adopt(*found, position);
                Ok(())
            }
            None => self.become_new(&opening),
        }
    }

    fn adopt(&self, found: crate::sessions::open::Found, position: usize) {
        let mut state = self.state();
        state.adopt(found);
        state.opened_with = Some(position);
    }

    /// The request had no session: the handle is a new one, with a fresh token, keeping the
    /// changes made to it so far.
    fn become_new(&self, opening: &Opening) -> Result<(), SessionError> {
        let token = Token::generate()?;
        {
            let mut state = self.state();
            let mut fresh =
                State::new_session(token, Meta::new(now_ms(), opening.device.clone(), None));
            fresh.dirty = std::mem::take(&mut state.dirty);
            fresh.cache = std::mem::take(&mut state.cache);
            fresh.live_key = state.live_key.take();
            *state = fresh;
        }
        self.emit(EventKind::Created);
        Ok(())
    }
}
