//! Saving a session (the changed keys, once), ending it in the store, and destroying it.

use super::Session;
use super::moved::Moved;
use crate::sessions::meta::now_ms;
use crate::sessions::shared::lock;
use crate::sessions::{EventKind, PersistReason, SessionError};
use crate::{Change, SessionCount, Value};

/// What a save writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flush {
    /// The changes, and a touch when one is due; nothing for a session never given data.
    IfChanged,
    /// As `IfChanged`, and a stored session with nothing to write is touched all the same.
    Touch,
    /// As `Touch`, and a new session is stored even with no data (before an atomic operation,
    /// which must find it in the store).
    Store,
}

impl Session {
    /// Writes the changed keys (and the metadata) to the store in one `update` (one `set_many`
    /// for a session the store does not have yet), moving the expiry. With no changes it writes
    /// only when a touch is due (at most once per touch interval); a session that was never
    /// written is never stored.
    ///
    /// Returns whether it wrote to the store (and so moved the session's expiry).
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails (the changes stay pending, so a later save
    /// retries them); [`SessionError::Destroyed`] when the session was destroyed (here, or in the
    /// store by another request: a save never recreates it), expired, or its absolute lifetime
    /// has passed (it is ended then); [`SessionError::RotatedOut`] when this handle's token was
    /// rotated out, here or by another request (nothing is written: a write would give the old
    /// token back its power).
    pub async fn save(&self) -> Result<bool, SessionError> {
        let _io = self.0.io.lock().await;
        self.save_locked(Flush::IfChanged).await
    }

    /// As [`save`](Session::save), and a stored session with nothing to write is touched all the
    /// same: a live session persisting learns from the store whether it still exists (ended by
    /// another instance, expired), and leaves the registry if not.
    pub(crate) async fn save_touching(&self) -> Result<bool, SessionError> {
        let _io = self.0.io.lock().await;
        self.save_locked(Flush::Touch).await
    }

    /// Saves (the caller holds the I/O lock); an unread handle with changes reads its session
    /// first, so they go to the session the request has.
    pub(super) async fn save_locked(&self, flush: Flush) -> Result<bool, SessionError> {
        if self.is_unread() {
            if !self.is_dirty() && flush != Flush::Store {
                return Ok(false); // nothing read, nothing changed: no I/O at all
            }
            Box::pin(self.open_locked(&[])).await?;
        }
        let shared = self.shared();
        let now = now_ms();
        let force_touch = flush != Flush::IfChanged;
        let plan = {
            let mut state = self.state();
            state.writable()?;
            if !state.stored
                && !state.has_data()
                && state.meta.subject.is_none()
                && flush != Flush::Store
            {
                // Never written: nothing to store, and removals of keys it never had are moot.
                state.dirty.clear();
                return Ok(false);
            }
            // Never less often than the session's own idle timeout, or a session only read
            // would expire between touches.
            let touch_interval = shared
                .config
                .touch_interval
                .min(shared.idle_timeout(&state.meta))
                .as_millis() as u64;
            let touch_due =
                force_touch || now.saturating_sub(state.meta.touched_ms) >= touch_interval;
            if state.stored && state.dirty.is_empty() && !state.meta_dirty && !touch_due {
                return Ok(false);
            }
            match shared.ttl(&state.meta, now) {
                None => None,
                Some(ttl) => {
                    state.meta.touched_ms = now;
                    // Before draining: a failure here must leave the pending changes in place.
                    let meta = state.meta.change();
                    let drained: Vec<(String, Option<Value>)> = state.dirty.drain().collect();
                    let mut changes: Vec<Change> = drained
                        .iter()
                        .map(|(k, v)| match v {
                            Some(v) => Change::Set(k.clone(), v.clone()),
                            None => Change::Del(k.clone()),
                        })
                        .collect();
                    changes.push(meta);
                    Some((state.id, state.stored, changes, drained, ttl))
                }
            }
        };
        let Some((id, stored, changes, drained, ttl)) = plan else {
            // The absolute lifetime has passed: the session ends.
            Box::pin(self.end_in_store()).await?;
            self.emit(EventKind::Destroyed);
            return Err(SessionError::Destroyed);
        };
        // A session the store already had is only updated, never recreated: if it was destroyed
        // (a logout in another request, a revocation), rotated out or expired meanwhile, it stays
        // gone.
        let written = if stored {
            shared.store.update(&id, changes, ttl).await
        } else {
            shared
                .store
                .set_many(&id, changes, ttl)
                .await
                .map(|()| true)
        };
        let give_back = || {
            // Keep what did not reach the store, unless the key changed again meanwhile.
            let mut state = self.state();
            for (key, value) in drained {
                state.dirty.entry(key).or_insert(value);
            }
            state.meta_dirty = true;
        };
        match written {
            Ok(true) => {
                if !stored {
                    shared.count(SessionCount::Created, 1);
                }
                {
                    let mut state = self.state();
                    state.stored = true;
                    state.meta_dirty = false;
                }
                self.emit(EventKind::Saved);
                Ok(true)
            }
            Ok(false) => {
                // Not under this id any more: renewed by another request (the changes go to the
                // renewed session), rotated out (they cannot be written: the handle becomes
                // read-only), or gone.
                give_back();
                // Boxed, as the other rare branches: every request's save future stays small.
                match Box::pin(self.moved(id)).await? {
                    Moved::Followed | Moved::Back => Box::pin(self.save_locked(flush)).await,
                    Moved::ReadOnly => Err(SessionError::RotatedOut),
                    Moved::Gone => Err(self.ended_meanwhile()),
                }
            }
            Err(error) => {
                give_back();
                Err(error.into())
            }
        }
    }

    /// Marks this handle destroyed and takes it out of the live registry (no store I/O).
    pub(crate) fn retire_handle(&self) {
        let live_key = {
            let mut state = self.state();
            state.destroyed = true;
            state.live_key.take()
        };
        if let Some(key) = live_key {
            lock(&self.shared().live).remove(&key);
        }
    }

    /// Removes the session from the store and marks this handle destroyed (no event for it). A
    /// live handle of the same session held elsewhere in the registry (this one was loaded by a
    /// request) is retired too, with its `Destroyed`.
    pub(crate) async fn end_in_store(&self) -> Result<(), SessionError> {
        let (id, stored) = {
            let state = self.state();
            (state.id, state.stored)
        };
        if stored {
            self.shared().store.del_all(&id).await?;
        }
        self.retire_handle();
        let live = lock(&self.shared().live).by_id(&id);
        if let Some(other) = live.filter(|other| !other.ptr_eq(self)) {
            other.retire_handle();
            other.emit(EventKind::Destroyed);
        }
        Ok(())
    }

    /// Ends the session: `BeforeDestroy`, then (with `persist`) `Persist` and the persistence
    /// hook, then removal from the store at once, then `Destroyed`. A live session also leaves the
    /// registry. Destroying a destroyed session does nothing. A rotated-out handle can be
    /// destroyed: that ends only its read-only copy, never the session it was rotated into.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails (the session is not marked destroyed, so the
    /// call can be retried); [`SessionError::Hook`] when the hook failed (the session is destroyed
    /// all the same).
    pub async fn destroy(&self, persist: bool) -> Result<(), SessionError> {
        if self.is_destroyed() {
            return Ok(());
        }
        self.emit(EventKind::BeforeDestroy);
        let hooked = if persist {
            self.run_hook(PersistReason::Destroy).await
        } else {
            Ok(())
        };
        {
            let _io = self.0.io.lock().await;
            // An unread handle learns which session it is, so the right one ends.
            self.open_locked(&[]).await?;
            if self.is_destroyed() {
                return hooked;
            }
            self.end_in_store().await?;
        }
        self.emit(EventKind::Destroyed);
        hooked
    }
}
