//! `incr` and `compare_and_set`: read-modify-write of one key, done by the store atomically and
//! at once (never buffered), so concurrent requests of one browser lose nothing.

use std::time::Duration;

use serde::Serialize;

use super::Session;
use super::moved::Moved;
use super::save::Flush;
use crate::sessions::meta::now_ms;
use crate::sessions::{EventKind, SessionError};
use crate::{KeyKind, SessionId, Value, validate_key};

/// How often an atomic operation follows its session to where another request renewed it.
const MAX_MOVES: usize = 4;

impl Session {
    /// Adds `delta` to the integer under `key` in the store, atomically, and returns the new
    /// value: of any number of concurrent increments (other requests, other servers), none is
    /// lost. A missing key counts as `0`. It goes to the store at once: a change of `key` still
    /// pending in this handle is saved first (with the handle's other changes), and a new session
    /// is stored first. The handle then reads the new value.
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
    /// assert_eq!(session.incr("visits", 1).await?, 1);
    /// assert_eq!(session.incr("visits", 1).await?, 2);
    /// assert_eq!(session.get::<i64>("visits").await?, Some(2));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Store`] with `InvalidInput` for an invalid key, a value that is not an
    /// integer, or an overflow (nothing changes then), or when the store fails;
    /// [`SessionError::Destroyed`] when the session is gone (ended, expired, past its absolute
    /// lifetime), [`SessionError::RotatedOut`] through a rotated-out token; nothing was counted
    /// then. The store's [`incr_live`](crate::Store::incr_live) never creates a session, so an
    /// increment racing a logout or a rotation is either counted in the session (and moves
    /// with it) or not at all; when another request renewed the session meanwhile, the
    /// increment goes to the renewed session and succeeds.
    pub async fn incr(&self, key: &str, delta: i64) -> Result<i64, SessionError> {
        validate_key(key, KeyKind::User)?;
        self.preload(&[]).await?;
        let _io = self.0.io.lock().await;
        for _ in 0..MAX_MOVES {
            let (id, ttl) = self.ready_for(key).await?;
            match self.shared().store.incr_live(&id, key, delta, ttl).await? {
                Some(value) => {
                    self.settle(id, key, Some(Value::from(value)));
                    return Ok(value);
                }
                None => self.not_there(id).await?,
            }
        }
        Err(SessionError::RotatedOut)
    }

    /// Sets `key` to `new` only if its value in the store is now exactly `expected` (`None`: the
    /// key is absent), atomically, and returns whether it did: of concurrent callers expecting
    /// the same value, one wins. Values compare as JSON (`1` is not `1.0`; object key order does
    /// not matter). Goes to the store at once, as [`incr`](Session::incr) does. On `false` the
    /// handle forgets what it knew of `key`, so the next [`get`](Session::get) reads the value
    /// that won.
    ///
    /// # Errors
    /// As [`incr`](Session::incr), and `TooLarge` for a value over the configured limit.
    pub async fn compare_and_set<E, N>(
        &self,
        key: &str,
        expected: Option<&E>,
        new: &N,
    ) -> Result<bool, SessionError>
    where
        E: Serialize + ?Sized,
        N: Serialize + ?Sized,
    {
        validate_key(key, KeyKind::User)?;
        let new = self.encode(new)?;
        let expected = expected.map(serde_json::to_value).transpose()?;
        self.preload(&[]).await?;
        let _io = self.0.io.lock().await;
        for _ in 0..MAX_MOVES {
            let (id, ttl) = self.ready_for(key).await?;
            let swapped = self
                .shared()
                .store
                .compare_and_set_live(&id, key, expected.clone(), new.clone(), ttl)
                .await?;
            match swapped {
                Some(true) => {
                    self.settle(id, key, Some(new));
                    return Ok(true);
                }
                Some(false) => {
                    let mut state = self.state();
                    if state.id == id {
                        state.cache.remove(key);
                        state.complete = false;
                    }
                    return Ok(false);
                }
                None => self.not_there(id).await?,
            }
        }
        Err(SessionError::RotatedOut)
    }

    /// Before an atomic operation on `key` (the caller holds the I/O lock): the session is
    /// writable and in the store, with any pending change of `key` written; its id and the TTL
    /// the operation gives it.
    async fn ready_for(&self, key: &str) -> Result<(SessionId, Duration), SessionError> {
        let flush = {
            let state = self.state();
            state.writable()?;
            !state.stored || state.dirty.contains_key(key)
        };
        if flush {
            self.save_locked(Flush::Store).await?;
        }
        let ttl = {
            let state = self.state();
            self.shared().ttl(&state.meta, now_ms())
        };
        let Some(ttl) = ttl else {
            // The absolute lifetime has passed: the session ends.
            self.end_in_store().await?;
            self.emit(EventKind::Destroyed);
            return Err(SessionError::Destroyed);
        };
        Ok((self.id(), ttl))
    }

    /// An atomic operation found no session under `id` (the store's live variants create
    /// nothing, so nothing was counted): it goes on in the session another request renewed this
    /// one into (the caller tries again), or fails as the session went: `RotatedOut` (rotated
    /// out by a login or `rotate`), `Destroyed` (ended).
    async fn not_there(&self, id: SessionId) -> Result<(), SessionError> {
        match self.moved(id).await? {
            Moved::Followed | Moved::Back => Ok(()),
            Moved::ReadOnly => Err(SessionError::RotatedOut),
            Moved::Gone => Err(self.ended_meanwhile()),
        }
    }

    /// The handle learns the value an atomic operation left under `key`, unless a change of
    /// `key` made through the handle since is pending (it is newer, and will be saved).
    fn settle(&self, id: SessionId, key: &str, value: Option<Value>) {
        let mut state = self.state();
        if state.id == id && !state.dirty.contains_key(key) {
            state.cache.insert(key.to_owned(), value);
        }
    }
}
