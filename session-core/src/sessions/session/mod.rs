//! `Session`: a handle on one session, shared by clones.
//!
//! # Layout
//!
//! - this file: the handle, its state, and what it knows without reading the store.
//! - `read`: reading keys through the handle's cache, and opening a handle from tokens.
//! - `write`: buffered changes (`set`, `remove`, `clear`).
//! - `atomic`: `incr` and `compare_and_set`, which go to the store at once.
//! - `save`: writing the changed keys, ending the session, destroying it.
//! - `login`: rotation, login and binding a user, and the read-only rotated-out handle.
//! - `persist`: the persistence hook, named events and `persist_now`.
//! - `locals`: in-process values attached to a session.

mod atomic;
mod locals;
mod login;
mod moved;
mod persist;
mod read;
mod save;
mod write;

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::broadcast;

use super::meta::{Meta, SessionInfo, now_ms};
use super::open::Found;
use super::shared::{EVENT_BUFFER, Shared, lock};
use super::{Event, EventKind, SessionError};
use crate::{Map, SessionId, Token, Value};

pub(crate) use read::Opening;

/// A session: its data, typed through serde, and what can be done with it.
///
/// Cheap to clone: clones are the same session (a live session's connections share one).
///
/// Reads go through the handle's cache: [`get`](Session::get) serves a key the handle already
/// knows, and fetches one it does not (only that key, with one `get_many`); a handle opened from
/// a request's tokens ([`SessionManager::open`](crate::SessionManager::open)) reads the metadata
/// with the first keys asked, in the same round trip. Writes ([`set`](Session::set),
/// [`remove`](Session::remove)) are buffered and read back as written; [`save`](Session::save)
/// flushes the changed keys in one `update`, and writes nothing when nothing changed and no touch
/// is due. [`incr`](Session::incr) and [`compare_and_set`](Session::compare_and_set) go to the
/// store at once, atomically.
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
    /// Serializes the operations that talk to the store for this session (opening, save,
    /// rotate, destroy, the atomic operations), so two connections of one live session never
    /// interleave them.
    io: tokio::sync::Mutex<()>,
    events: OnceLock<broadcast::Sender<Event>>,
    locals: Mutex<HashMap<locals::LocalKey, Arc<dyn Any + Send + Sync>>>,
}

struct State {
    token: Token,
    id: SessionId,
    /// The user keys this handle knows, pending changes included: `None` is known absent.
    cache: HashMap<String, Option<Value>>,
    /// The cache holds every key of the session (a new or live session, or after `get_all`).
    complete: bool,
    /// Opened from a request's tokens and not read yet: which session it is is not known.
    opening: Option<Arc<Opening>>,
    /// Which of the opening tokens found the session.
    opened_with: Option<usize>,
    /// Changes not yet in the store: `None` is a removal.
    dirty: HashMap<String, Option<Value>>,
    meta: Meta,
    /// The metadata changed in a way that must be written (not just visit times).
    meta_dirty: bool,
    /// The store has this session (it was loaded, or saved once).
    stored: bool,
    destroyed: bool,
    live_key: Option<String>,
    /// A read through this handle failed in the store (unavailable, or a backend error): what
    /// the handle knows of the session may be incomplete.
    read_failed: bool,
    /// The device context of the request this handle was opened for: a login records it, so
    /// the session lists the device that signed in, not the one that first visited.
    request_device: Option<String>,
}

impl State {
    /// A session the store does not have yet: every key of it is in the (empty) cache.
    fn new_session(token: Token, meta: Meta) -> Self {
        Self::with_id(token.id(), token, meta)
    }

    fn with_id(id: SessionId, token: Token, meta: Meta) -> Self {
        Self {
            id,
            token,
            cache: HashMap::new(),
            complete: true,
            opening: None,
            opened_with: None,
            dirty: HashMap::new(),
            meta,
            meta_dirty: true,
            stored: false,
            destroyed: false,
            live_key: None,
            read_failed: false,
            request_device: None,
        }
    }

    /// Becomes the session the store had: its metadata and the keys read with it.
    fn adopt(&mut self, found: Found) {
        self.token = found.token;
        self.id = found.id;
        self.meta = found.meta;
        self.meta_dirty = false;
        self.stored = true;
        self.complete = false;
        self.opening = None;
        // Changes made before the read stay on top of what was read.
        for (key, value) in found.values {
            self.cache.entry(key).or_insert(value);
        }
    }

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

    /// Whether the handle holds any user value.
    fn has_data(&self) -> bool {
        self.cache.values().any(Option::is_some)
    }

    /// The user keys and values the handle holds.
    fn data(&self) -> Map {
        self.cache
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Session({})", self.id().short())
    }
}

impl Session {
    fn from_state(shared: Arc<Shared>, state: State) -> Self {
        Self(Arc::new(Inner {
            shared,
            state: Mutex::new(state),
            io: tokio::sync::Mutex::new(()),
            events: OnceLock::new(),
            locals: Mutex::new(HashMap::new()),
        }))
    }

    /// A new session, not in the store until it is saved with data.
    pub(crate) fn fresh(shared: Arc<Shared>, token: Token, meta: Meta) -> Self {
        Self::from_state(shared, State::new_session(token, meta))
    }

    /// A handle on a session found in the store, knowing the keys read with it.
    pub(crate) fn found(shared: Arc<Shared>, found: Found) -> Self {
        let mut state = State::with_id(found.id, found.token.clone(), found.meta.clone());
        state.adopt(found);
        Self::from_state(shared, state)
    }

    /// A handle opened from a request's tokens, read on first use: until then it goes by the
    /// first token, and knows nothing.
    pub(crate) fn opened(
        shared: Arc<Shared>,
        opening: Opening,
        first: Token,
        id: SessionId,
    ) -> Self {
        let meta = Meta::new(0, None, None); // replaced when read
        let mut state = State::with_id(id, first, meta);
        state.complete = false;
        state.meta_dirty = false;
        state.request_device = opening.device.clone();
        state.opening = Some(Arc::new(opening));
        Self::from_state(shared, state)
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

    /// How many handles of this session exist (clones, the registry's among them).
    pub(crate) fn holders(&self) -> usize {
        Arc::strong_count(&self.0)
    }

    /// Leaves the live registry without ending (the registry was emptied by the caller).
    pub(crate) fn release(&self) {
        self.state().live_key = None;
    }

    /// Records a visit (a connection resuming the session); written by the next save.
    pub(crate) fn record_visit(&self) {
        let now = now_ms();
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
    /// [`login`](Session::login)). Of an opened handle not read yet
    /// ([`is_unread`](Session::is_unread)): the first well-formed token presented.
    pub fn token(&self) -> Token {
        self.state().token.clone()
    }

    /// The id the store knows the session by (of an unread handle: its token's id).
    pub fn id(&self) -> SessionId {
        self.state().id
    }

    /// Whether the store does not have this session yet (it was created and never saved).
    /// `false` for an unread handle, which is not known to be either yet.
    pub fn is_new(&self) -> bool {
        let state = self.state();
        !state.stored && state.opening.is_none()
    }

    /// Whether this is a handle opened from a request's tokens
    /// ([`SessionManager::open`](crate::SessionManager::open)) that has not read the store yet:
    /// nothing was read, so it is not known whether a session was found.
    pub fn is_unread(&self) -> bool {
        self.state().opening.is_some()
    }

    /// Which of the tokens given to [`SessionManager::open`](crate::SessionManager::open) found
    /// this session (its position), once read; `None` when none did, or the handle did not come
    /// from `open`.
    pub fn opened_with(&self) -> Option<usize> {
        self.state().opened_with
    }

    /// Whether a read through this handle failed in the store (it was unavailable, or answered
    /// with an error), even if the caller went on without the value: of an unread handle, it is
    /// then not known which session the request has, or whether it has one. The HTTP layer
    /// answers such a request with 503 whatever the handler answered, so a handler that
    /// swallows the error cannot serve a logged-in user as anonymous.
    pub fn read_failed(&self) -> bool {
        self.state().read_failed
    }

    /// Whether there are changes not yet saved.
    pub fn is_dirty(&self) -> bool {
        let state = self.state();
        !state.dirty.is_empty() || (state.meta_dirty && (state.stored || state.has_data()))
    }

    /// Whether the session was destroyed.
    pub fn is_destroyed(&self) -> bool {
        self.state().destroyed
    }

    /// Whether this handle was loaded by a token that was rotated out: it reads the data as it
    /// was at rotation and can change nothing ([`SessionError::RotatedOut`]). `false` for an
    /// unread handle.
    pub fn is_rotated_out(&self) -> bool {
        self.state().meta.rotated
    }

    /// What the system records about the session (an unread handle reads it first).
    ///
    /// # Errors
    /// [`SessionError::Store`] when reading fails.
    pub async fn info(&self) -> Result<SessionInfo, SessionError> {
        self.preload(&[]).await?;
        let state = self.state();
        Ok(SessionInfo::new(state.id, &state.meta))
    }

    /// The subject (user id) the session is bound to (an unread handle reads it first).
    ///
    /// # Errors
    /// As [`info`](Session::info).
    pub async fn subject(&self) -> Result<Option<String>, SessionError> {
        self.preload(&[]).await?;
        Ok(self.known_subject())
    }

    /// The subject as this handle knows it, without reading.
    pub(crate) fn known_subject(&self) -> Option<String> {
        self.state().meta.subject.clone()
    }

    /// The data given when the session was bound to its subject ([`login`](Session::login),
    /// [`set_user`](Session::set_user)); an unread handle reads it first.
    ///
    /// # Errors
    /// As [`info`](Session::info).
    pub async fn user_data(&self) -> Result<Option<Value>, SessionError> {
        self.preload(&[]).await?;
        Ok(self.state().meta.user_data.clone())
    }

    /// The session's idle timeout: its own ([`set_idle_timeout`](Session::set_idle_timeout)),
    /// else the manager's (for an unread handle, the manager's).
    pub fn idle_timeout(&self) -> Duration {
        let state = self.state();
        self.shared().idle_timeout(&state.meta)
    }

    /// How long the session lives from now without another visit: its idle timeout, cut short
    /// by the absolute lifetime (zero once that has passed). What a cookie's `Max-Age` should be.
    pub fn expires_in(&self) -> Duration {
        let state = self.state();
        self.shared()
            .ttl(&state.meta, now_ms())
            .unwrap_or(Duration::ZERO)
    }

    /// Gives this session an idle timeout of its own ("remember me"), at creation or later. It is
    /// kept in the session's metadata, so every later save, by any manager over the same store,
    /// keeps it; the HTTP layer's cookie `Max-Age` follows it. Written by the next save (an
    /// unread handle reads the session first).
    ///
    /// # Errors
    /// [`SessionError::Store`] with `InvalidInput` for a zero timeout or one over
    /// [`MAX_TTL`](crate::MAX_TTL), or when reading fails; [`SessionError::Destroyed`] or
    /// [`SessionError::RotatedOut`], as [`set`](Session::set).
    pub async fn set_idle_timeout(&self, timeout: Duration) -> Result<(), SessionError> {
        crate::validate_ttl(timeout)?;
        self.preload(&[]).await?;
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
