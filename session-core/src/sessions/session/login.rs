//! Login, rotation and binding a user.
//!
//! Rotation claims the move in the rotation record (see `sessions::rotation`), takes the session
//! out of the store under its old id (atomically: `Store::take`), writes it whole under the new
//! token's id with the handle's pending changes, and finishes the record with a read-only copy
//! of the session as it was for the grace period. Login is a
//! rotation whose new id alone carries the subject: the pre-login id never does, in the store or
//! in any event.

use std::time::Duration;

use serde::Serialize;

use super::Session;
use super::moved::Moved;
use crate::sessions::auth_version;
use crate::sessions::manager::enforce_subject_limit;
use crate::sessions::meta::{Meta, now_ms, split};
use crate::sessions::revocation::{Watch, write_bound};
use crate::sessions::rotation::{Rotation, abandon, claim, finish};
use crate::sessions::shared::lock;
use crate::sessions::{EventKind, SessionError};
use crate::{Change, Map, SessionCount, SessionId, Token, Value};

/// Changes a handle holds that are not in the store yet: `None` is a removal.
type Pending = Vec<(String, Option<Value>)>;

/// How often a rotation is tried when another request's renewal of the session came first.
const MAX_ATTEMPTS: usize = 4;

/// How one attempt at a rotation ended.
enum Attempt {
    /// Rotated: the new token.
    Rotated(Token),
    /// Another request's rotation of the session came first (or its session went).
    Moved(Moved),
}

/// Who a login binds the session to.
struct Identity {
    subject: String,
    user_data: Value,
}

impl Session {
    /// Logs the session in as `subject` (a user id) with `user_data`, and returns the new token
    /// to send to the client: the one safe login.
    ///
    /// It issues a new token and id first and binds the subject only to the new id (and the
    /// store's subject index, when the manager has one); the pre-login token never carries the
    /// subject, so a token planted in the browser before login (session fixation) is worthless
    /// after it: for the rotation grace it reads the pre-login data, read-only, and then it is
    /// gone. Emits `Rotated`, then `Identified` with the user data, and ends the subject's oldest
    /// sessions past the per-subject limit. The HTTP layer sends the new cookie in the same
    /// response.
    ///
    /// # Examples
    /// ```
    /// use session_core::SessionManager;
    /// use session_store_memory::MemoryStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_core::SessionError> {
    /// let manager = SessionManager::builder(MemoryStore::new()).subject_index().build()?;
    /// let session = manager.create()?;
    /// session.set("cart", &["apple"])?;
    /// session.save().await?;
    /// let before = session.token();
    ///
    /// let after = session.login("alice", serde_json::json!({ "name": "Alice" })).await?;
    /// assert_ne!(before, after);
    /// let old = manager.load(before.as_str()).await?.expect("inside the rotation grace");
    /// assert!(old.is_rotated_out() && old.subject().await?.is_none());
    /// assert_eq!(manager.sessions_of("alice").await?.len(), 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::RotatedOut`] through a rotated-out token (here, or by another request
    /// since this handle was loaded); [`SessionError::Destroyed`] when the session is gone;
    /// [`SessionError::Store`] with `InvalidInput` for an invalid subject, or when the store
    /// fails (as for [`rotate`](Session::rotate)).
    pub async fn login(
        &self,
        subject: &str,
        user_data: impl Serialize,
    ) -> Result<Token, SessionError> {
        crate::validate_subject(subject)?;
        let identity = Identity {
            subject: subject.to_owned(),
            user_data: serde_json::to_value(user_data)?,
        };
        let user_data = identity.user_data.clone();
        let token = {
            let _io = self.0.io.lock().await;
            self.open_locked(&[]).await?;
            self.rotate_locked(Some(identity)).await?
        };
        self.identified(subject, user_data).await?;
        Ok(token)
    }

    /// Issues a new token and id with the same data, and returns the new token. The session is
    /// taken out of the store under its old id atomically and written under the new one, with
    /// this handle's pending changes, so a write another request made before is carried over and
    /// one it makes after is refused ([`SessionError::RotatedOut`]), never dropped. For the
    /// configured rotation grace (zero: not at all) the old token loads a read-only copy of the
    /// session as it was, so requests already in flight finish. Call it at privilege changes; at
    /// login call [`login`](Session::login), which rotates and binds in one step.
    ///
    /// # Errors
    /// [`SessionError::RotatedOut`] through a rotated-out token (here, or by another request
    /// since this handle was loaded); [`SessionError::Destroyed`] when the session is gone or
    /// past its absolute lifetime; [`SessionError::Store`] when the store fails: the session is
    /// put back under its old token (requests racing the attempt were refused with an error).
    pub async fn rotate(&self) -> Result<Token, SessionError> {
        let _io = self.0.io.lock().await;
        self.open_locked(&[]).await?;
        self.rotate_locked(None).await
    }

    async fn rotate_locked(&self, identity: Option<Identity>) -> Result<Token, SessionError> {
        self.rotate_as(identity.as_ref(), false).await
    }

    /// Rotates (a renewal when `renewal`), following another request's renewal when it won
    /// the claim: a login or `rotate` then moves the renewed session on, a renewal is done.
    async fn rotate_as(
        &self,
        identity: Option<&Identity>,
        renewal: bool,
    ) -> Result<Token, SessionError> {
        for _ in 0..MAX_ATTEMPTS {
            match self.try_rotate(identity, renewal).await? {
                Attempt::Rotated(token) => return Ok(token),
                Attempt::Moved(Moved::Followed) if renewal => return Ok(self.token()),
                Attempt::Moved(Moved::Followed | Moved::Back) => {}
                Attempt::Moved(Moved::ReadOnly) => return Err(SessionError::RotatedOut),
                Attempt::Moved(Moved::Gone) => return Err(self.ended_meanwhile()),
            }
        }
        Err(SessionError::RotatedOut)
    }

    /// One attempt at a rotation (see `sessions::rotation` for the protocol): claim it, take
    /// the session out of its old id, write it under the new one, finish the record.
    async fn try_rotate(
        &self,
        identity: Option<&Identity>,
        renewal: bool,
    ) -> Result<Attempt, SessionError> {
        let now = now_ms();
        let (old_id, old_token, stored, mut data, mut meta, pending, device) = {
            let state = self.state();
            state.writable()?;
            let pending: Pending = state
                .dirty
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (
                state.id,
                state.token.clone(),
                state.stored,
                state.data(),
                state.meta.clone(),
                pending,
                state.request_device.clone(),
            )
        };
        if !stored && identity.is_none() {
            // Not in the store and gaining no subject: it only changes its name; its data is
            // still pending and goes to the new id on save.
            let token = Token::generate()?;
            self.rename(token.clone(), token.id(), None);
            self.state().meta.issued_ms = Some(now);
            self.emit(EventKind::Rotated { from: old_id });
            return Ok(Attempt::Rotated(token));
        }
        let shared = self.shared().clone();
        // Read before the session is claimed and taken out: a failure here leaves it in place.
        let version = match identity {
            Some(identity) if shared.config.auth_version => {
                Some(auth_version::current(&shared, &identity.subject).await?)
            }
            _ => None,
        };
        let rotation = if renewal {
            Rotation::renewal()?
        } else {
            Rotation::relocation()
        };
        let token = match rotation.successor(&old_token) {
            Some(token) => token,
            None => Token::generate()?,
        };
        let new_id = token.id();
        // Taking the session out of its old id is atomic: a write another request made before
        // is in what comes back, and one it makes after finds no session (and follows it, or is
        // refused), so no write that succeeded is ever dropped. The claim comes first, so
        // that a request finding the old id empty finds the record and waits for the move.
        let taken = if stored {
            if !claim(&shared, &old_id, &rotation).await? {
                return Ok(Attempt::Moved(self.moved(old_id).await?));
            }
            let Some(map) = shared.store.take(&old_id).await? else {
                abandon(&shared, &old_id).await?;
                self.retire_handle();
                self.emit(EventKind::Destroyed);
                return Err(SessionError::Destroyed);
            };
            let (stored_data, stored_meta, _) = split(map, now);
            // The store's state is the truth; this handle's own pending changes go on top.
            data = stored_data.clone();
            for (key, value) in &pending {
                match value {
                    Some(value) => data.insert(key.clone(), value.clone()),
                    None => data.remove(key),
                };
            }
            meta = Meta {
                previous_visit_ms: meta.previous_visit_ms,
                latest_visit_ms: meta.latest_visit_ms,
                ..stored_meta.clone()
            };
            Some((stored_data, stored_meta))
        } else {
            None
        };
        let old_meta = meta.clone();
        meta.rotated = false;
        meta.issued_ms = Some(now);
        if let Some(identity) = identity {
            if version.is_some() {
                meta.auth_version = version;
            }
            meta.subject = Some(identity.subject.clone());
            meta.user_data = Some(identity.user_data.clone());
            if device.is_some() {
                meta.device = device;
            }
        }
        let Some(ttl) = shared.ttl(&meta, now) else {
            // Past its absolute lifetime: it was taken out, and it stays out.
            if taken.is_some() {
                abandon(&shared, &old_id).await?;
            }
            self.retire_handle();
            self.emit(EventKind::Destroyed);
            return Err(SessionError::Destroyed);
        };
        meta.touched_ms = now;
        match write_whole(self, new_id, data.clone(), &meta, ttl).await {
            Ok(()) if taken.is_none() => shared.count(SessionCount::Created, 1),
            Ok(()) => {}
            Err(SessionError::Destroyed) => {
                // The subject's sessions were revoked meanwhile: the new session was removed,
                // and the old one must not come back either.
                if taken.is_some() {
                    abandon(&shared, &old_id).await?;
                }
                self.retire_handle();
                self.emit(EventKind::Destroyed);
                return Err(SessionError::Destroyed);
            }
            Err(error) => {
                if let Some((old_data, _)) = taken {
                    self.put_back(old_id, old_data, &old_meta, now).await;
                }
                return Err(error);
            }
        }
        if let Some((old_data, old_stored_meta)) = taken
            && let Err(error) = finish(&shared, &old_id, rotation, old_data, old_stored_meta).await
        {
            // The record stays unfinished until its claim ends: requests of the old token wait,
            // then answer `Unavailable`; the session itself is safe under its new id.
            tracing::warn!(session = %old_id.short(), %error, "could not finish a rotation's record");
        }
        self.rename(token.clone(), new_id, Some((data, meta, pending)));
        self.emit(EventKind::Rotated { from: old_id });
        Ok(Attempt::Rotated(token))
    }

    /// Renews a session just read when it is older than the configured renewal age (the caller
    /// holds the I/O lock), and returns whether the session is still there: renewed, renewed
    /// by another request first (this handle then reads, read-only), or not due.
    pub(crate) async fn renew_if_due(&self) -> Result<bool, SessionError> {
        let _io = self.0.io.lock().await;
        self.renew_if_due_locked().await
    }

    /// As `renew_if_due`, the caller holding the I/O lock.
    pub(super) async fn renew_if_due_locked(&self) -> Result<bool, SessionError> {
        if !self.renewal_due() {
            return Ok(true);
        }
        match self.rotate_as(None, true).await {
            Ok(_) | Err(SessionError::RotatedOut) => Ok(true),
            Err(SessionError::Destroyed) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Whether the session is older than the configured renewal age (and can be renewed).
    pub(super) fn renewal_due(&self) -> bool {
        let state = self.state();
        !state.meta.rotated
            && self.shared().config.renew_after.is_some_and(|age| {
                now_ms().saturating_sub(state.meta.issued()) >= age.as_millis() as u64
            })
    }

    /// Gives this handle its new token and id; after a write, the data and metadata that were
    /// written, keeping any change made since the snapshot pending.
    fn rename(&self, token: Token, id: SessionId, written: Option<(Map, Meta, Pending)>) {
        let (old, live_key) = {
            let state = self.state();
            (state.id, state.live_key.clone())
        };
        if let Some(key) = live_key {
            lock(&self.shared().live).renamed(&key, &old, id);
        }
        let mut state = self.state();
        state.token = token;
        state.id = id;
        if let Some((data, meta, pending)) = written {
            for (key, value) in pending {
                if state.dirty.get(&key) == Some(&value) {
                    state.dirty.remove(&key);
                }
            }
            let mut cache: std::collections::HashMap<String, Option<Value>> =
                data.into_iter().map(|(k, v)| (k, Some(v))).collect();
            for (key, value) in &state.dirty {
                cache.insert(key.clone(), value.clone());
            }
            // The whole session was just written: the handle knows every key.
            state.cache = cache;
            state.complete = true;
            state.meta = meta;
            state.stored = true;
            state.meta_dirty = false;
        }
    }

    /// Undoes a rotation whose new session could not be written: the taken session goes back
    /// under its old id, and its read-only copy goes away. Writes other requests tried in
    /// between were refused with an error, so nothing that succeeded is lost.
    async fn put_back(&self, old: SessionId, data: Map, meta: &Meta, now: u64) {
        let shared = self.shared();
        // With its own TTL (an anonymous session's is shorter than the login's would be); one
        // past its absolute lifetime stays out.
        if let Some(ttl) = shared.ttl(meta, now) {
            match write_whole(self, old, data, meta, ttl).await {
                Ok(()) => {}
                Err(SessionError::Destroyed) => {
                    tracing::info!(session = %old.short(), "a session whose rotation failed was revoked meanwhile: not put back");
                }
                Err(error) => {
                    tracing::error!(session = %old.short(), %error, "could not put back a session whose rotation failed: it is lost");
                }
            }
        }
        if let Err(error) = abandon(shared, &old).await {
            tracing::warn!(session = %old.short(), %error, "could not remove the record of a rotation that failed");
        }
    }

    /// Binds the session to a user without rotating it: records the subject and `user_data` in
    /// the metadata, saves, binds the store's subject index (when the manager has one), ends the
    /// subject's oldest sessions past the per-subject limit, and emits `Identified`.
    ///
    /// This is for connection-style sessions whose token never reached a browser (a game
    /// server's own connection, a WebSocket authenticated by other means). At a web login use
    /// [`login`](Session::login): binding a user to a token the client already had lets whoever
    /// planted or saw that token act as the user.
    ///
    /// # Errors
    /// As [`save`](Session::save); [`SessionError::Store`] with `InvalidInput` for an invalid
    /// subject.
    pub async fn set_user(
        &self,
        user_id: &str,
        user_data: impl Serialize,
    ) -> Result<(), SessionError> {
        crate::validate_subject(user_id)?;
        let user_data = serde_json::to_value(user_data)?;
        let version = match self.shared().config.auth_version {
            true => Some(auth_version::current(self.shared(), user_id).await?),
            false => None,
        };
        let watch = match &self.shared().subjects {
            Some(_) => Some(Watch::start(self.shared(), user_id).await?),
            None => None,
        };
        {
            let mut state = self.state();
            state.writable()?;
            state.meta.subject = Some(user_id.to_owned());
            state.meta.auth_version = version;
            state.meta.user_data = Some(user_data.clone());
            state.meta_dirty = true;
        }
        self.save().await?;
        if let Some(index) = &self.shared().subjects {
            index.bind_subject(&self.id(), user_id).await?;
        }
        if let Some(watch) = watch
            && let Err(error) = watch.check(self.shared(), &self.id()).await
        {
            self.retire_handle();
            self.emit(EventKind::Destroyed);
            return Err(error);
        }
        self.identified(user_id, user_data).await
    }

    /// After a login or `set_user`: the per-subject limit, then `Identified`.
    async fn identified(&self, subject: &str, user_data: Value) -> Result<(), SessionError> {
        let shared = self.shared();
        if let Some(max) = shared.config.max_sessions_per_subject {
            enforce_subject_limit(shared, subject, max, self.id()).await?;
        }
        self.emit(EventKind::Identified {
            subject: subject.to_owned(),
            user_data,
        });
        Ok(())
    }
}

/// Writes `data` and `meta` as the whole session `id` with `ttl`, bound to the subject in the
/// store's index; when binding fails the session is removed again and the error returned.
async fn write_whole(
    session: &Session,
    id: SessionId,
    data: Map,
    meta: &Meta,
    ttl: Duration,
) -> Result<(), SessionError> {
    let mut changes: Vec<Change> = data.into_iter().map(|(k, v)| Change::Set(k, v)).collect();
    changes.push(meta.change());
    write_bound(session.shared(), &id, changes, ttl, meta.subject.as_deref()).await
}
