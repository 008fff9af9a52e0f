//! `SessionManager`: creates and loads sessions over any store, lists and revokes a user's
//! sessions, and owns the policy.

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use super::auth_version;
use super::meta::{META_KEY, Meta, SessionInfo, now_ms, split};
use super::open::{end, find};
use super::registry::Registry;
use super::revocation;
use super::session::Opening;
use super::shared::{EVENT_BUFFER, Shared, lock};
use super::{Config, Event, EventKind, PersistHook, SessionError};
use crate::{
    Metrics, ObservedStore, Session, SessionCount, SessionId, Store, SubjectIndex, Token, Value,
};

/// Creates, loads and ends sessions over any [`Store`], with one [`Config`].
///
/// Cheap to clone: clones share everything. Swap the store in `main` and nothing else changes.
///
/// # Examples
///
/// Request/response style: create at first need, save at the end of the request, load by token.
///
/// ```
/// use session_core::SessionManager;
/// use session_store_memory::MemoryStore;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), session_core::SessionError> {
/// // Any store: MemoryStore, SqliteStore, RedisStore, PostgresStore...
/// let manager = SessionManager::new(MemoryStore::new());
///
/// let session = manager.create()?;
/// session.set("cart", &vec!["apple"])?;
/// session.save().await?; // one set_many with the changed keys
/// let token = session.token(); // goes to the client, e.g. in a cookie
///
/// // A later request:
/// let session = manager.load(token.as_str()).await?.expect("a live session");
/// let cart: Option<Vec<String>> = session.get("cart").await?;
/// assert_eq!(cart, Some(vec!["apple".to_string()]));
///
/// // Unknown or malformed tokens are simply no session:
/// assert!(manager.load("forged").await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SessionManager {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// Builds a [`SessionManager`]: the store, its capabilities, the policy, the hook.
pub struct SessionManagerBuilder<S> {
    store: Arc<S>,
    subjects: Option<Arc<dyn SubjectIndex>>,
    config: Config,
    hook: Option<Arc<dyn PersistHook>>,
    metrics: Option<Arc<dyn Metrics>>,
}

impl<S: Store> SessionManagerBuilder<S> {
    /// The policy. The default is [`Config::default`].
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Uses the store's [`SubjectIndex`], for [`SessionManager::sessions_of`],
    /// [`SessionManager::revoke_all`] and the per-subject limit.
    pub fn subject_index(mut self) -> Self
    where
        S: SubjectIndex,
    {
        self.subjects = Some(self.store.clone());
        self
    }

    /// The application's persistence hook. The default is none.
    pub fn persist_hook(mut self, hook: impl PersistHook) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Counts what happens to sessions through `metrics` ([`SessionCount`]), and observes the
    /// store: every store operation runs in a `session_store` span and is reported to
    /// [`Metrics::store_operation`] ([`ObservedStore`]). The default is none, which costs
    /// nothing.
    pub fn metrics(mut self, metrics: Arc<dyn Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The manager.
    ///
    /// # Errors
    /// [`SessionError::Unsupported`] when a per-subject limit is configured without a subject
    /// index.
    pub fn build(self) -> Result<SessionManager, SessionError> {
        if self.config.max_sessions_per_subject.is_some() && self.subjects.is_none() {
            return Err(SessionError::Unsupported(
                "SubjectIndex (needed by max_sessions_per_subject)",
            ));
        }
        let store: Arc<dyn Store> = match &self.metrics {
            Some(metrics) => Arc::new(ObservedStore::new(self.store).with_metrics(metrics.clone())),
            None => self.store,
        };
        Ok(SessionManager {
            shared: Arc::new(Shared {
                store,
                subjects: self.subjects,
                config: self.config,
                events: broadcast::channel(EVENT_BUFFER).0,
                hook: self.hook,
                live: Mutex::new(Registry::default()),
                ticker: Mutex::new(None),
                releaser: Mutex::new(None),
                observers: Mutex::new(Vec::new()),
                metrics: self.metrics,
            }),
        })
    }
}

impl SessionManager {
    /// A manager over `store` with the default [`Config`] and no optional capability.
    pub fn new<S: Store>(store: S) -> Self {
        Self::builder(store)
            .build()
            .unwrap_or_else(|_| unreachable!("the default config needs no capability"))
    }

    /// A builder over `store`.
    pub fn builder<S: Store>(store: S) -> SessionManagerBuilder<S> {
        Self::builder_from_arc(Arc::new(store))
    }

    /// A builder over a store already in an `Arc` (e.g. shared with a cleanup task).
    pub fn builder_from_arc<S: Store>(store: Arc<S>) -> SessionManagerBuilder<S> {
        SessionManagerBuilder {
            store,
            subjects: None,
            config: Config::default(),
            hook: None,
            metrics: None,
        }
    }

    /// The policy.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Observes every session's events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    /// A new session with a fresh token. Nothing is stored until it is saved with data.
    ///
    /// It is a request-style session: the caller holds it and saves it. It is not live (the
    /// persistence interval, [`persist_all`](Self::persist_all) and [`shutdown`](Self::shutdown)
    /// do not see it, and other connections cannot find it); a session that connections share
    /// is made with [`create_live`](Self::create_live), or joins by [`resume`](Self::resume).
    ///
    /// # Errors
    /// [`SessionError::Randomness`] when the OS has no randomness to give.
    pub fn create(&self) -> Result<Session, SessionError> {
        self.create_with(None, None)
    }

    /// A new session recording a device context (used for device binding, and listed with the
    /// user's sessions) and data the client supplied.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    pub fn create_with(
        &self,
        device: Option<String>,
        client_data: Option<Value>,
    ) -> Result<Session, SessionError> {
        let token = Token::generate()?;
        let meta = Meta::new(now_ms(), device, client_data);
        let session = Session::fresh(self.shared.clone(), token, meta);
        session.emit(EventKind::Created);
        Ok(session)
    }

    /// The session for an untrusted token string, or `None` for a malformed, unknown, expired or
    /// revoked one. A token is never adopted: only tokens this system issued find a session.
    ///
    /// An expired session cannot be told from one that never existed: a store forgets a session
    /// when it expires (that is how expired data never comes back and its space is reclaimed),
    /// and a tombstone for every ended session would grow the store with every visitor. An
    /// application that wants to tell a returning user "your session expired" can set a
    /// non-secret cookie of its own at login and look for it beside a missing session.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn load(&self, token: &str) -> Result<Option<Session>, SessionError> {
        self.load_with(token, None).await
    }

    /// As [`load`](Self::load), from a device context. With device binding on, a session created
    /// from another context is ended and [`SessionError::DeviceMismatch`] returned; with no
    /// context (`None`) nothing is checked and nothing is ended.
    ///
    /// # Errors
    /// As [`load`](Self::load), and [`SessionError::DeviceMismatch`].
    pub async fn load_with(
        &self,
        token: &str,
        device: Option<&str>,
    ) -> Result<Option<Session>, SessionError> {
        let Ok(token) = Token::parse(token) else {
            return Ok(None);
        };
        let Some(found) = find(&self.shared, &token, token.id(), device, &[]).await? else {
            return Ok(None);
        };
        let session = Session::found(self.shared.clone(), *found);
        Ok(session.renew_if_due().await?.then_some(session))
    }

    /// The session of a request, read on first use: a handle that does no I/O until something
    /// is read, written or saved through it. Then the request's tokens (every cookie of the
    /// session's name, a header...) are tried in order with one `get_many` each, which also
    /// reads the keys first asked for ([`Session::get`], [`Session::preload`]): the first token
    /// whose session is found wins, a rotated-out token's read-only copy only when no other finds
    /// one (so a planted old token cannot make the user's requests read-only), a token whose
    /// session was created from another device context is skipped (with device binding on, that
    /// session is ended), and with no session found the handle becomes a new one with a fresh
    /// token ([`Session::is_new`]). Malformed tokens are dropped at once; with none left the
    /// handle is simply new.
    ///
    /// This is what the HTTP layer hands a handler: a request that never touches its session
    /// costs nothing, and one that reads a key costs one round trip.
    ///
    /// # Examples
    /// ```
    /// use session_core::SessionManager;
    /// use session_store_memory::MemoryStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_core::SessionError> {
    /// let manager = SessionManager::new(MemoryStore::new());
    /// let first = manager.create()?;
    /// first.set("lang", "fr")?;
    /// first.save().await?;
    ///
    /// let session = manager.open(["planted-garbage", first.token().as_str()], None)?;
    /// assert!(session.is_unread());
    /// assert_eq!(session.get::<String>("lang").await?.as_deref(), Some("fr"));
    /// assert_eq!(session.opened_with(), Some(1));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Randomness`] when no token is well-formed and the OS has no randomness
    /// for a new one.
    pub fn open<I, T>(&self, tokens: I, device: Option<String>) -> Result<Session, SessionError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let candidates: Vec<(usize, Token, SessionId)> = tokens
            .into_iter()
            .enumerate()
            .filter_map(|(i, t)| {
                let token = Token::parse(t.as_ref()).ok()?;
                let id = token.id();
                Some((i, token, id))
            })
            .collect();
        let Some((_, first, id)) = candidates.first() else {
            return self.create_with(device, None);
        };
        let (first, id) = (first.clone(), *id);
        Ok(Session::opened(
            self.shared.clone(),
            Opening { candidates, device },
            first,
            id,
        ))
    }

    /// Removes session `id` from the store, retires its live handle if it has one, and tells
    /// observers.
    async fn end(&self, id: &SessionId) -> Result<(), SessionError> {
        end(&self.shared, id).await
    }

    fn index(&self) -> Result<&Arc<dyn SubjectIndex>, SessionError> {
        self.shared
            .subjects
            .as_ref()
            .ok_or(SessionError::Unsupported("SubjectIndex"))
    }

    /// The live sessions of `subject` with their metadata, oldest first. Read-only copies of
    /// rotated-out tokens still inside their grace are listed too, marked
    /// [`rotated_out`](SessionInfo::rotated_out), so nothing that loads as the subject is hidden.
    ///
    /// # Errors
    /// [`SessionError::Unsupported`] without a subject index; [`SessionError::Store`].
    pub async fn sessions_of(&self, subject: &str) -> Result<Vec<SessionInfo>, SessionError> {
        sessions_of(&self.shared, subject).await
    }

    /// Ends every session of `subject`, rotated-out copies included, and returns how many it
    /// ended (not counting the rotated-out copies).
    ///
    /// A login, renewal or [`set_user`](Session::set_user) of `subject` racing it, on any
    /// instance, is caught too: the revocation is counted in a per-subject record before the
    /// sessions are ended, and a write binding a session reads that count before and after, so
    /// the session it was binding is removed and the call answers [`SessionError::Destroyed`].
    /// (A login that starts after `revoke_all` began may stay: it came after the revocation.)
    ///
    /// # Errors
    /// [`SessionError::Unsupported`] without a subject index; [`SessionError::Store`].
    pub async fn revoke_all(&self, subject: &str) -> Result<u64, SessionError> {
        let index = self.index()?;
        let listed = sessions_of(&self.shared, subject).await?;
        let ended = listed.iter().filter(|info| !info.rotated_out).count() as u64;
        // Counted first, so a login or renewal binding a session meanwhile sees it (see
        // `sessions::revocation`).
        revocation::bump(&self.shared, subject).await?;
        index.revoke_subject(subject).await?;
        self.shared.count(SessionCount::Revoked, ended);
        let live: Vec<Session> = lock(&self.shared.live).sessions();
        for session in live
            .into_iter()
            .filter(|s| s.known_subject().as_deref() == Some(subject))
        {
            // Already gone from the store; this only retires the handle.
            session.retire_handle();
            session.emit(EventKind::Destroyed);
        }
        Ok(ended)
    }

    /// Ends every session of `subject`, on every instance and any store, each on its next load:
    /// adds one to the subject's auth version, which every load of a session bound to the
    /// subject checks ([`ConfigBuilder::auth_version`](crate::ConfigBuilder::auth_version)).
    /// Live sessions of the subject in this manager's registry are retired at once. Returns the
    /// new version.
    ///
    /// Call it when the user's credentials change (a password reset): unlike
    /// [`revoke_all`](Self::revoke_all) it needs no subject index, and it also ends the sessions
    /// an index could not list.
    ///
    /// # Errors
    /// [`SessionError::Unsupported`] when the check is off (a bump would end nothing);
    /// [`SessionError::Store`], with `InvalidInput` for an invalid subject.
    pub async fn bump_auth_version(&self, subject: &str) -> Result<i64, SessionError> {
        if !self.shared.config.auth_version {
            return Err(SessionError::Unsupported(
                "the auth version check (ConfigBuilder::auth_version)",
            ));
        }
        crate::validate_subject(subject)?;
        let version = auth_version::bump(&self.shared, subject).await?;
        let live: Vec<Session> = lock(&self.shared.live).sessions();
        for session in live
            .into_iter()
            .filter(|s| s.known_subject().as_deref() == Some(subject))
        {
            session.retire_handle();
            session.emit(EventKind::Destroyed);
        }
        Ok(version)
    }

    /// Ends session `id` if it belongs to `subject` (e.g. "log out that device"), and returns
    /// whether it did. Works on any store: ownership is read from the session's metadata.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn end_session_of(
        &self,
        subject: &str,
        id: &SessionId,
    ) -> Result<bool, SessionError> {
        let Some(map) = self.shared.store.get_all(id, None).await? else {
            return Ok(false);
        };
        let (_, meta, _) = split(map, now_ms());
        if meta.subject.as_deref() != Some(subject) {
            return Ok(false);
        }
        self.end(id).await?;
        self.shared.count(SessionCount::Revoked, 1);
        Ok(true)
    }
}

/// The live sessions of `subject` with their metadata, oldest first.
pub(crate) async fn sessions_of(
    shared: &Shared,
    subject: &str,
) -> Result<Vec<SessionInfo>, SessionError> {
    let index = shared
        .subjects
        .as_ref()
        .ok_or(SessionError::Unsupported("SubjectIndex"))?;
    // A session bound with an older auth version is over, though no load has ended it yet.
    let version = match shared.config.auth_version {
        true => Some(auth_version::current(shared, subject).await?),
        false => None,
    };
    // Only the metadata of each, in one batched read, not every key session by session.
    let mut infos = Vec::new();
    for (id, stored) in index.subject_sessions_with(subject, META_KEY).await? {
        if let Some(meta) = stored.as_ref().and_then(Meta::from_stored)
            && meta.subject.as_deref() == Some(subject)
            && version.is_none_or(|current| auth_version::matches(meta.auth_version, current))
        {
            infos.push(SessionInfo::new(id, &meta));
        }
    }
    infos.sort_by_key(|info| info.created_at);
    Ok(infos)
}

/// Ends the oldest sessions of `subject` (never `keep`) until at most `max` are left.
pub(crate) async fn enforce_subject_limit(
    shared: &Arc<Shared>,
    subject: &str,
    max: usize,
    keep: SessionId,
) -> Result<(), SessionError> {
    // Rotated-out copies are not counted: they end with their grace and can do nothing.
    let infos: Vec<SessionInfo> = sessions_of(shared, subject)
        .await?
        .into_iter()
        .filter(|info| !info.rotated_out)
        .collect();
    let excess = infos.len().saturating_sub(max);
    for info in infos.into_iter().filter(|i| i.id != keep).take(excess) {
        shared.store.del_all(&info.id).await?;
        shared.count(SessionCount::Revoked, 1);
        shared.ended(info.id);
    }
    Ok(())
}
