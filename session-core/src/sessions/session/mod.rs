//! `Session`: a handle on one session, shared by clones.
//!
//! # Layout
//!
//! - this file: the handle, its state, and typed access to its data (in memory).
//! - `save`: writing the changed keys, ending the session, destroying it.
//! - `login`: rotation, login and binding a user, and the read-only rotated-out handle.
//! - `persist`: the persistence hook, named events and `persist_now`.
//! - `locals`: in-process values attached to a session.

mod locals;
mod login;
mod persist;
mod save;

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;

use super::meta::{Meta, SessionInfo};
use super::shared::{EVENT_BUFFER, Shared, lock};
use super::{Event, EventKind, SessionError};
use crate::{KeyKind, Map, SessionId, StoreError, Token, Value, validate_key};

/// A session: its data, typed through serde, and what can be done with it.
///
/// Cheap to clone: clones are the same session (a live session's connections share one). Reads
/// and writes are in memory; [`save`](Session::save) flushes the changed keys to the store in one
/// `update`, and writes nothing when nothing changed and no touch is due.
///
/// A session loaded by a token that was rotated out ([`rotate`](Session::rotate),
/// [`login`](Session::login)) and is still inside its grace period is read-only: it serves the
/// data as it was at rotation so requests in flight finish, and every change through it fails
/// with [`SessionError::RotatedOut`] ([`is_rotated_out`](Session::is_rotated_out)).
#[derive(Clone)]
pub struct Session(Arc<Inner>);

struct Inner {
    shared: Arc<Shared>,
    state: Mutex<State>,
    /// Serializes the operations that talk to the store for this session (save, rotate,
    /// destroy), so two connections of one live session never interleave them.
    io: tokio::sync::Mutex<()>,
    events: OnceLock<broadcast::Sender<Event>>,
    locals: Mutex<HashMap<locals::LocalKey, Arc<dyn Any + Send + Sync>>>,
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

impl State {
    /// Refuses changes to a destroyed or rotated-out session.
    fn writable(&self) -> Result<(), SessionError> {
        if self.destroyed {
            Err(SessionError::Destroyed)
        } else if self.meta.rotated {
            Err(SessionError::RotatedOut)
        } else {
            Ok(())
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Session({})", self.id().short())
    }
}

impl Session {
    /// A handle on the session `id` (the token's id, or for a rotated-out token the id its
    /// read-only copy is kept under).
    pub(crate) fn new(
        shared: Arc<Shared>,
        token: Token,
        id: SessionId,
        data: Map,
        meta: Meta,
        stored: bool,
    ) -> Self {
        let state = State {
            id,
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

    fn shared(&self) -> &Arc<Shared> {
        &self.0.shared
    }

    pub(crate) fn mark_meta_dirty(&self) {
        self.state().meta_dirty = true;
    }

    pub(crate) fn set_live_key(&self, key: String) {
        self.state().live_key = Some(key);
    }

    /// Leaves the live registry without ending (the registry was emptied by the caller).
    pub(crate) fn release(&self) {
        self.state().live_key = None;
    }

    /// Records a visit (a connection resuming the session); written by the next save.
    pub(crate) fn record_visit(&self) {
        let now = super::meta::now_ms();
        let mut state = self.state();
        if state.meta.rotated {
            return;
        }
        state.meta.previous_visit_ms = state.meta.latest_visit_ms;
        state.meta.latest_visit_ms = now;
        state.meta_dirty = true;
    }

    /// Sends an event to the manager's observers and this session's.
    pub(crate) fn emit(&self, kind: EventKind) {
        let event = self.0.shared.emit(self.id(), kind, Some(self));
        if let Some(sender) = self.0.events.get() {
            let _ = sender.send(event);
        }
    }

    /// The token to hand to the client (it changes on [`rotate`](Session::rotate) and
    /// [`login`](Session::login)).
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

    /// Whether this handle was loaded by a token that was rotated out: it reads the data as it
    /// was at rotation and can change nothing ([`SessionError::RotatedOut`]).
    pub fn is_rotated_out(&self) -> bool {
        self.state().meta.rotated
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
    /// [`SessionError::Destroyed`] on a destroyed session, [`SessionError::RotatedOut`] on a
    /// rotated-out one.
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
        state.writable()?;
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
        state.writable()?;
        if state.data.remove(key).is_some() || state.stored {
            state.dirty.insert(key.to_owned(), None);
        }
        Ok(())
    }

    /// Removes every key in memory (the session itself stays; see [`destroy`](Session::destroy)).
    ///
    /// # Errors
    /// [`SessionError::Destroyed`] or [`SessionError::RotatedOut`], as [`set`](Session::set).
    pub fn clear(&self) -> Result<(), SessionError> {
        let mut state = self.state();
        state.writable()?;
        let keys: Vec<String> = state.data.keys().cloned().collect();
        for key in keys {
            state.dirty.insert(key, None);
        }
        state.data.clear();
        Ok(())
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

    /// The data given when the session was bound to its subject ([`login`](Session::login),
    /// [`set_user`](Session::set_user)).
    pub fn user_data(&self) -> Option<Value> {
        self.state().meta.user_data.clone()
    }

    /// The session's idle timeout: its own ([`set_idle_timeout`](Session::set_idle_timeout)),
    /// else the manager's.
    pub fn idle_timeout(&self) -> Duration {
        let state = self.state();
        self.shared().idle_timeout(&state.meta)
    }

    /// Gives this session an idle timeout of its own ("remember me"), at creation or later. It is
    /// kept in the session's metadata, so every later save, by any manager over the same store,
    /// keeps it; the HTTP layer's cookie `Max-Age` follows it. Written by the next save.
    ///
    /// # Errors
    /// [`SessionError::Store`] with `InvalidInput` for a zero timeout or one over
    /// [`MAX_TTL`](crate::MAX_TTL); [`SessionError::Destroyed`] or
    /// [`SessionError::RotatedOut`], as [`set`](Session::set).
    pub fn set_idle_timeout(&self, timeout: Duration) -> Result<(), SessionError> {
        crate::validate_ttl(timeout)?;
        let mut state = self.state();
        state.writable()?;
        state.meta.idle_timeout_ms = Some(timeout.as_millis() as u64);
        state.meta_dirty = true;
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

    /// Whether two handles are the same session object.
    pub fn ptr_eq(&self, other: &Session) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
