//! What a handle does when its session is no longer under its id: another request renewed it
//! (the handle follows to the new id and token), rotated it out by a login or `rotate` (the
//! handle becomes read-only, reading the copy), or ended it (the handle is retired).

use super::Session;
use crate::SessionId;
use crate::sessions::grace::{grace_id, was_rotated_out};
use crate::sessions::meta::META_KEY;
use crate::sessions::open::{Found, find};
use crate::sessions::rotation::settled;
use crate::sessions::shared::lock;
use crate::sessions::{EventKind, SessionError};

/// Where the session of a handle whose id was not in the store went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Moved {
    /// Renewed by another request: the handle now has the new id and token; retry there.
    Followed,
    /// Rotated out by a login or `rotate`: the handle is read-only and reads the copy.
    ReadOnly,
    /// A rotation that had begun was given up: the session is back under its id; retry.
    Back,
    /// Ended (logout, revocation, expiry). The caller decides whether that retires the handle
    /// (a write does, see [`Session::ended_meanwhile`]; a read just finds nothing).
    Gone,
}

impl Session {
    /// Finds out where the session went that was not under `id` (this handle's id) when an
    /// operation reached the store, waiting for a rotation under way to finish, and sets the
    /// handle up accordingly. Racing requests of one browser thereby carry on in a renewed
    /// session instead of failing.
    ///
    /// # Errors
    /// [`SessionError::Store`], `Unavailable` also when a rotation under way does not finish in
    /// time.
    pub(super) async fn moved(&self, id: SessionId) -> Result<Moved, SessionError> {
        let shared = self.shared().clone();
        let token = self.token();
        if token.id() != id {
            // A read-only handle (its id is a grace id): its copy is what ended.
            return Ok(Moved::Gone);
        }
        let Some(rotation) = settled(&shared, &id).await? else {
            if shared
                .store
                .get(&id, META_KEY, None)
                .await?
                .is_some_and(|meta| crate::sessions::meta::Meta::from_stored(&meta).is_some())
            {
                return Ok(Moved::Back);
            }
            // A copy kept by an earlier release, without a record.
            if was_rotated_out(&shared, &id).await? {
                self.read_copy(id);
                return Ok(Moved::ReadOnly);
            }
            return Ok(Moved::Gone);
        };
        match rotation.successor(&token) {
            Some(next) => match find(&shared, &next, next.id(), None, &[]).await? {
                Some(found) if !found.meta.rotated => {
                    self.follow(*found);
                    Ok(Moved::Followed)
                }
                Some(_) => {
                    // Renewed, then rotated out by a login: the successor's copy is read-only.
                    self.read_copy(next.id());
                    Ok(Moved::ReadOnly)
                }
                None => Ok(Moved::Gone),
            },
            None => {
                self.read_copy(id);
                Ok(Moved::ReadOnly)
            }
        }
    }

    /// Whether the session is still in the store, asked with one read (none for a session
    /// never saved): renewed elsewhere, the handle follows; rotated out, it becomes read-only;
    /// ended elsewhere, it is retired with `Destroyed` and this answers `false`.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub(crate) async fn confirm(&self) -> Result<bool, SessionError> {
        let _io = self.0.io.lock().await;
        let (id, stored, destroyed) = {
            let state = self.state();
            (state.id, state.stored, state.destroyed)
        };
        if destroyed {
            return Ok(false);
        }
        if !stored
            || self
                .shared()
                .store
                .get(&id, META_KEY, None)
                .await?
                .is_some()
        {
            return Ok(true);
        }
        if self.moved(id).await? == Moved::Gone {
            self.ended_meanwhile();
            return Ok(false);
        }
        Ok(true)
    }

    /// The handle reads the read-only copy of rotated-out session `id` from now on.
    fn read_copy(&self, id: SessionId) {
        let mut state = self.state();
        state.meta.rotated = true;
        state.id = grace_id(&id);
        state.complete = false;
    }

    /// The handle goes on in the renewed session `found` (its token, id and metadata), keeping
    /// what it read and its pending changes.
    fn follow(&self, found: Found) {
        let (old, live_key) = {
            let state = self.state();
            (state.id, state.live_key.clone())
        };
        if let Some(key) = live_key {
            lock(&self.shared().live).renamed(&key, &old, found.id);
        }
        let mut state = self.state();
        state.token = found.token;
        state.id = found.id;
        // The visit times this handle recorded stay; the rest (issued, subject) is the renewal's.
        let (previous, latest) = (state.meta.previous_visit_ms, state.meta.latest_visit_ms);
        state.meta = found.meta;
        state.meta.previous_visit_ms = previous;
        state.meta.latest_visit_ms = latest;
        state.stored = true;
        state.complete = false;
    }

    /// A write found the session ended by another request: the handle is retired and
    /// `Destroyed` emitted; the error to answer with.
    pub(super) fn ended_meanwhile(&self) -> SessionError {
        self.retire_handle();
        self.emit(EventKind::Destroyed);
        SessionError::Destroyed
    }
}
