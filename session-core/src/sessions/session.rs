//! `Session`: a handle on one session, shared by clones; typed access, buffered changes, save,
//! rotation, users, destruction, events and local resources.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;

use super::meta::{Meta, SessionInfo, now_ms};
use super::shared::{EVENT_BUFFER, Shared, lock};
use super::{Event, EventKind, PersistReason, SessionError};
use crate::{Change, KeyKind, Map, SessionId, StoreError, Token, Value, validate_key};

/// A session: its data, typed through serde, and what can be done with it.
///
/// Cheap to clone: clones are the same session (a live session's connections share one). Reads
/// and writes are in memory; [`save`](Session::save) flushes the changed keys to the store in one
/// `set_many`, and writes nothing when nothing changed and no touch is due.
#[derive(Clone)]
pub struct Session(Arc<Inner>);

struct Inner {
    shared: Arc<Shared>,
    state: Mutex<State>,
    /// Serializes the operations that talk to the store for this session (save, rotate,
    /// destroy), so two connections of one live session never interleave them.
    io: tokio::sync::Mutex<()>,
    events: OnceLock<broadcast::Sender<Event>>,
    locals: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

struct State {
    token: Token,
    id: SessionId,
    /// The user keys as this handle sees them, pending changes included.
    data: Map,
    /// Changes not yet in the store: `None` is a removal.
    dirty: HashMap<String, Option<Value>>,
    meta: Meta,
    /// The metadata changed in a way that must be written (not just visit times).
    meta_dirty: bool,
    /// The store has this session (it was loaded, or saved once).
    stored: bool,
    destroyed: bool,
    live_key: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Session({})", self.id().short())
    }
}

impl Session {
    pub(crate) fn new(
        shared: Arc<Shared>,
        token: Token,
        data: Map,
        meta: Meta,
        stored: bool,
    ) -> Self {
        let state = State {
            id: token.id(),
            token,
            data,
            dirty: HashMap::new(),
            meta_dirty: !stored,
            meta,
            stored,
            destroyed: false,
            live_key: None,
        };
        Self(Arc::new(Inner {
            shared,
            state: Mutex::new(state),
            io: tokio::sync::Mutex::new(()),
            events: OnceLock::new(),
            locals: Mutex::new(HashMap::new()),
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.0.state)
    }

    pub(crate) fn mark_meta_dirty(&self) {
        self.state().meta_dirty = true;
    }

    pub(crate) fn set_live_key(&self, key: String) {
        self.state().live_key = Some(key);
    }

    /// Sends an event to the manager's observers and this session's.
    pub(crate) fn emit(&self, kind: EventKind) {
        let event = self.0.shared.emit(self.id(), kind);
        if let Some(sender) = self.0.events.get() {
            let _ = sender.send(event);
        }
    }

    /// The token to hand to the client (it changes on [`rotate`](Session::rotate)).
    pub fn token(&self) -> Token {
        self.state().token.clone()
    }

    /// The id the store knows the session by.
    pub fn id(&self) -> SessionId {
        self.state().id
    }

    /// Whether the store does not have this session yet (it was created and never saved).
    pub fn is_new(&self) -> bool {
        !self.state().stored
    }

    /// Whether there are changes not yet saved.
    pub fn is_dirty(&self) -> bool {
        let state = self.state();
        !state.dirty.is_empty() || (state.meta_dirty && (state.stored || !state.data.is_empty()))
    }

    /// Whether the session was destroyed.
    pub fn is_destroyed(&self) -> bool {
        self.state().destroyed
    }

    /// The value of `key`, deserialized as `T`; `None` if absent.
    ///
    /// # Errors
    /// [`SessionError::Store`] (`InvalidInput`) for an invalid key; [`SessionError::Serde`] when
    /// the value is not a `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        validate_key(key, KeyKind::User)?;
        let value = self.state().data.get(key).cloned();
        Ok(value.map(serde_json::from_value).transpose()?)
    }

    /// Sets `key` to `value` in memory; [`save`](Session::save) writes it.
    ///
    /// # Errors
    /// [`SessionError::Store`] with `InvalidInput` for an invalid key, or `TooLarge` when the value
    /// or the number of keys exceeds the configured limits; nothing changes then.
    /// [`SessionError::Destroyed`] on a destroyed session.
    pub fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), SessionError> {
        validate_key(key, KeyKind::User)?;
        let value = serde_json::to_value(value)?;
        let config = &self.0.shared.config;
        let size = serde_json::to_vec(&value)?.len();
        if size > config.max_value_bytes {
            return Err(StoreError::TooLarge {
                what: "value",
                size,
                limit: config.max_value_bytes,
            }
            .into());
        }
        let mut state = self.state();
        if state.destroyed {
            return Err(SessionError::Destroyed);
        }
        if !state.data.contains_key(key) && state.data.len() >= config.max_keys {
            let size = state.data.len() + 1;
            return Err(StoreError::TooLarge {
                what: "session keys",
                size,
                limit: config.max_keys,
            }
            .into());
        }
        state.data.insert(key.to_owned(), value.clone());
        state.dirty.insert(key.to_owned(), Some(value));
        Ok(())
    }

    /// Removes `key` in memory; [`save`](Session::save) writes the removal.
    ///
    /// # Errors
    /// As [`set`](Session::set).
    pub fn remove(&self, key: &str) -> Result<(), SessionError> {
        validate_key(key, KeyKind::User)?;
        let mut state = self.state();
        if state.destroyed {
            return Err(SessionError::Destroyed);
        }
        if state.data.remove(key).is_some() || state.stored {
            state.dirty.insert(key.to_owned(), None);
        }
        Ok(())
    }

    /// Removes every key in memory (the session itself stays; see [`destroy`](Session::destroy)).
    pub fn clear(&self) {
        let mut state = self.state();
        let keys: Vec<String> = state.data.keys().cloned().collect();
        for key in keys {
            state.dirty.insert(key, None);
        }
        state.data.clear();
    }

    /// Every key and value.
    pub fn get_all(&self) -> Map {
        self.state().data.clone()
    }

    /// What the system records about the session.
    pub fn info(&self) -> SessionInfo {
        let state = self.state();
        SessionInfo::new(state.id, &state.meta)
    }

    /// The subject (user id) the session is bound to.
    pub fn subject(&self) -> Option<String> {
        self.state().meta.subject.clone()
    }

    /// Writes the changed keys (and the metadata) to the store in one `set_many`, moving the
    /// expiry. With no changes it writes only when a touch is due (at most once per touch
    /// interval); a session that was never written is never stored, and a session loaded by a
    /// token that was rotated out (inside its grace period) writes nothing.
    ///
    /// Returns whether it wrote to the store (and so moved the session's expiry).
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails (the changes stay pending, so a later save
    /// retries them); [`SessionError::Destroyed`] when the session was destroyed (here, or in the
    /// store by another request: a save never recreates it), expired, or its absolute lifetime
    /// has passed (it is ended then).
    pub async fn save(&self) -> Result<bool, SessionError> {
        let _io = self.0.io.lock().await;
        self.save_locked().await
    }

    async fn save_locked(&self) -> Result<bool, SessionError> {
        let shared = &self.0.shared;
        let now = now_ms();
        let plan = {
            let mut state = self.state();
            if state.destroyed {
                return Err(SessionError::Destroyed);
            }
            if state.meta.rotated {
                // A request still holding a rotated-out token finishes, but writes nothing: a
                // write would push the old id's expiry past its grace period.
                state.dirty.clear();
                return Ok(false);
            }
            if !state.stored && state.data.is_empty() && state.meta.subject.is_none() {
                // Never written: nothing to store, and removals of keys it never had are moot.
                state.dirty.clear();
                return Ok(false);
            }
            let touch_interval = shared.config.touch_interval.as_millis() as u64;
            let touch_due = now.saturating_sub(state.meta.touched_ms) >= touch_interval;
            if state.stored && state.dirty.is_empty() && !state.meta_dirty && !touch_due {
                return Ok(false);
            }
            match shared.ttl(&state.meta, now) {
                None => None,
                Some(ttl) => {
                    state.meta.touched_ms = now;
                    // Before draining: a failure here must leave the pending changes in place.
                    let meta = state.meta.change()?;
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
            self.end_in_store().await?;
            self.emit(EventKind::Destroyed);
            return Err(SessionError::Destroyed);
        };
        // A session the store already had is only updated, never recreated: if it was destroyed
        // (a logout in another request, a revocation) or expired meanwhile, it stays gone.
        let written = if stored {
            shared.store.update(&id, changes, ttl).await
        } else {
            shared
                .store
                .set_many(&id, changes, ttl)
                .await
                .map(|()| true)
        };
        match written {
            Ok(true) => {
                let mut state = self.state();
                state.stored = true;
                state.meta_dirty = false;
                Ok(true)
            }
            Ok(false) => {
                let live_key = {
                    let mut state = self.state();
                    state.destroyed = true;
                    state.live_key.take()
                };
                if let Some(key) = live_key {
                    lock(&shared.live).remove(&key);
                }
                self.emit(EventKind::Destroyed);
                Err(SessionError::Destroyed)
            }
            Err(error) => {
                // Keep what did not reach the store, unless the key changed again meanwhile.
                let mut state = self.state();
                for (key, value) in drained {
                    state.dirty.entry(key).or_insert(value);
                }
                state.meta_dirty = true;
                Err(error.into())
            }
        }
    }

    /// Removes the session from the store and marks this handle destroyed (no events).
    pub(crate) async fn end_in_store(&self) -> Result<(), SessionError> {
        let (id, stored) = {
            let state = self.state();
            (state.id, state.stored)
        };
        if stored {
            self.0.shared.store.del_all(&id).await?;
        }
        let live_key = {
            let mut state = self.state();
            state.destroyed = true;
            state.live_key.take()
        };
        if let Some(key) = live_key {
            lock(&self.0.shared.live).remove(&key);
        }
        Ok(())
    }

    /// Ends the session: `BeforeDestroy`, then (with `persist`) `Persist` and the persistence
    /// hook, then removal from the store at once, then `Destroyed`. A live session also leaves the
    /// registry. Destroying a destroyed session does nothing.
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
            if self.is_destroyed() {
                return hooked;
            }
            self.end_in_store().await?;
        }
        self.emit(EventKind::Destroyed);
        hooked
    }

    /// Issues a new token and id with the same data, and returns the new token. The old id stays
    /// readable for the configured rotation grace (zero: removed at once), so requests already in
    /// flight finish; then it expires. Call it at login and at privilege changes.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails (the session keeps its old token then).
    pub async fn rotate(&self) -> Result<Token, SessionError> {
        let _io = self.0.io.lock().await;
        let shared = &self.0.shared;
        let token = Token::generate()?;
        let new_id = token.id();
        let now = now_ms();
        let (old_id, snapshot) = {
            let mut state = self.state();
            if state.destroyed {
                return Err(SessionError::Destroyed);
            }
            // A stored session is copied whole to the new id, so its pending changes are taken
            // along (and given back if the copy fails); a new one just changes its name.
            let snapshot = state.stored.then(|| {
                let drained: Vec<(String, Option<Value>)> = state.dirty.drain().collect();
                (state.data.clone(), state.meta.clone(), drained)
            });
            (state.id, snapshot)
        };
        if let Some((data, meta, drained)) = snapshot {
            let meta_snapshot = meta.clone();
            if let Err(error) = self.copy_to(new_id, data, meta, now).await {
                let mut state = self.state();
                for (key, value) in drained {
                    state.dirty.entry(key).or_insert(value);
                }
                return Err(error);
            }
            let grace = shared.config.rotation_grace;
            // The new session is complete; the old id is removed, or marked rotated and left to
            // expire after the grace. If that fails, the old id just lives its normal life.
            let retired = if grace.is_zero() {
                shared.store.del_all(&old_id).await
            } else {
                let mut old_meta = meta_snapshot;
                old_meta.rotated = true;
                let change = old_meta.change()?;
                // `update`: if the old id was ended meanwhile, it stays ended.
                shared
                    .store
                    .update(&old_id, vec![change], grace)
                    .await
                    .map(drop)
            };
            if let Err(error) = retired {
                tracing::warn!(session = %old_id.short(), %error, "could not retire the rotated-out id");
            }
            let mut state = self.state();
            state.meta.touched_ms = now;
            state.meta_dirty = false;
        }
        {
            let mut state = self.state();
            state.token = token.clone();
            state.id = new_id;
        }
        self.emit(EventKind::Rotated { from: old_id });
        Ok(token)
    }

    /// Writes `data` and `meta` as the whole session `id` (rotation's copy), bound to the subject.
    async fn copy_to(
        &self,
        id: SessionId,
        data: Map,
        mut meta: Meta,
        now: u64,
    ) -> Result<(), SessionError> {
        let shared = &self.0.shared;
        let Some(ttl) = shared.ttl(&meta, now) else {
            self.end_in_store().await?;
            self.emit(EventKind::Destroyed);
            return Err(SessionError::Destroyed);
        };
        meta.touched_ms = now;
        let mut changes: Vec<Change> = data.into_iter().map(|(k, v)| Change::Set(k, v)).collect();
        changes.push(meta.change()?);
        shared.store.set_many(&id, changes, ttl).await?;
        if let (Some(index), Some(subject)) = (&shared.subjects, &meta.subject) {
            index.bind_subject(&id, subject).await?;
        }
        Ok(())
    }

    /// Binds the session to a user: records the subject and `user_data` in the metadata, saves,
    /// binds the store's subject index (when the manager has one), ends the subject's oldest
    /// sessions past the per-subject limit, and emits `Identified`.
    ///
    /// Rotate the session as well at login ([`rotate`](Session::rotate)).
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
        {
            let mut state = self.state();
            if state.destroyed {
                return Err(SessionError::Destroyed);
            }
            state.meta.subject = Some(user_id.to_owned());
            state.meta.user_data = Some(user_data);
            state.meta_dirty = true;
        }
        self.save().await?;
        let shared = &self.0.shared;
        if let Some(index) = &shared.subjects {
            index.bind_subject(&self.id(), user_id).await?;
        }
        if let Some(max) = shared.config.max_sessions_per_subject {
            super::manager::enforce_subject_limit(shared, user_id, max, self.id()).await?;
        }
        self.emit(EventKind::Identified {
            subject: user_id.to_owned(),
        });
        Ok(())
    }

    /// Observes this session's events (the manager's observers see them too).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.0
            .events
            .get_or_init(|| broadcast::channel(EVENT_BUFFER).0)
            .subscribe()
    }

    /// Marks a live session started and emits `Started`.
    pub fn start(&self) {
        self.emit(EventKind::Started);
    }

    async fn run_hook(&self, reason: PersistReason) -> Result<(), SessionError> {
        self.emit(EventKind::Persist);
        match &self.0.shared.hook {
            Some(hook) => hook.persist(self, reason).await.map_err(SessionError::Hook),
            None => Ok(()),
        }
    }

    pub(crate) async fn persist(&self, reason: PersistReason) -> Result<(), SessionError> {
        self.run_hook(reason).await?;
        self.save().await.map(drop)
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

    /// Attaches an in-process value of type `T` (a client handle, a logger...), replacing any
    /// previous one. Never persisted.
    pub fn insert_local<T: Any + Send + Sync>(&self, value: T) {
        lock(&self.0.locals).insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The in-process value of type `T`, if one is attached.
    pub fn local<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let value = lock(&self.0.locals).get(&TypeId::of::<T>()).cloned()?;
        value.downcast::<T>().ok()
    }

    /// Detaches the in-process value of type `T`, returning it.
    pub fn remove_local<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let value = lock(&self.0.locals).remove(&TypeId::of::<T>())?;
        value.downcast::<T>().ok()
    }

    /// Whether two handles are the same session object.
    pub fn ptr_eq(&self, other: &Session) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
