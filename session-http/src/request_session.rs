//! `RequestSession`: the request's session, loaded from the store only if the handler asks for
//! it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use session_core::{Session, SessionError, SessionManager};

/// The session of one request, loaded on first use.
///
/// A handler that never reads or writes through the session costs no store I/O, and one that
/// reads a key costs one round trip (the session's metadata comes with the key). The bridge
/// saves whatever the handler changed once, after the response is produced
/// ([`HttpSessions::finish`](crate::HttpSessions::finish)), and sets or clears the cookie.
/// Framework bridges hand it to handlers in an extractor of their own
/// (`session_tower::LazySession`, `session_actix::LazySession`), which dereferences to this.
#[derive(Clone)]
pub struct RequestSession(Arc<Inner>);

struct Inner {
    manager: SessionManager,
    /// The tokens the request presented, in the order to try them.
    tokens: Vec<String>,
    /// Which of them found the session.
    used: std::sync::OnceLock<usize>,
    device: Option<String>,
    slot: tokio::sync::Mutex<Slot>,
    /// A store error happened while loading: the bridge answers 503 instead of the handler's
    /// response, so the request never silently continues without its session.
    failed: AtomicBool,
}

/// What the request knows about its session so far.
#[derive(Clone)]
pub(crate) enum Slot {
    /// Nobody asked for the session.
    Untouched,
    /// Looked up: the request has no live session (no token, unknown, expired, ended).
    Missing,
    /// Handed out (maybe not read yet: [`Session::is_unread`]), or created.
    Present(Session),
}

impl std::fmt::Debug for RequestSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSession")
            .field("tokens", &self.0.tokens.len())
            .finish_non_exhaustive()
    }
}

impl RequestSession {
    pub(crate) fn new(
        manager: SessionManager,
        tokens: Vec<String>,
        device: Option<String>,
    ) -> Self {
        Self(Arc::new(Inner {
            manager,
            tokens,
            used: std::sync::OnceLock::new(),
            device,
            slot: tokio::sync::Mutex::new(Slot::Untouched),
            failed: AtomicBool::new(false),
        }))
    }

    /// The request's session, read from the store on first use: no I/O happens here. The
    /// handle reads the session (trying each token the request presented, see
    /// [`SessionManager::open`]) together with the first keys the handler reads, in one round
    /// trip; when the request has none, it is a new session, stored only once something is
    /// written to it.
    ///
    /// # Errors
    /// [`SessionError::Randomness`] when a new token cannot be made. A store error surfaces from
    /// the first read through the handle; the response is then a 503.
    pub async fn get(&self) -> Result<Session, SessionError> {
        let mut slot = self.0.slot.lock().await;
        if let Slot::Untouched = *slot {
            let session = self.0.manager.open(&self.0.tokens, self.0.device.clone())?;
            *slot = Slot::Present(session);
        }
        if let Slot::Present(session) = &*slot
            && !session.is_destroyed()
        {
            return Ok(session.clone());
        }
        let device = self.0.device.clone();
        let session = self.0.manager.create_with(device, None)?;
        *slot = Slot::Present(session.clone());
        Ok(session)
    }

    /// The request's session if it has a live one; never creates one. Reads the session's
    /// metadata now (one round trip), unless the request already did.
    ///
    /// # Errors
    /// As [`get`](RequestSession::get), and [`SessionError::Store`] when the store fails.
    pub async fn existing(&self) -> Result<Option<Session>, SessionError> {
        let mut slot = self.0.slot.lock().await;
        let (session, opened_now) = match &*slot {
            Slot::Untouched => (
                self.0.manager.open(&self.0.tokens, self.0.device.clone())?,
                true,
            ),
            Slot::Missing => return Ok(None),
            Slot::Present(session) => (session.clone(), false),
        };
        if let Err(error) = session.preload(&[]).await {
            self.0.failed.store(true, Ordering::SeqCst);
            return Err(error);
        }
        if opened_now && session.is_new() {
            // The request brought no session; the new handle the read made is dropped.
            *slot = Slot::Missing;
            return Ok(None);
        }
        if session.is_destroyed() {
            return Ok(None);
        }
        *slot = Slot::Present(session.clone());
        Ok(Some(session))
    }

    /// The request's session as a live session, for a connection that stays open (a WebSocket
    /// upgrade): every connection presenting the same token shares one handle and sees the
    /// others' changes at once ([`SessionManager::resume`]). `None` when the request has no live
    /// session; never creates one (load a page first, so the browser has its cookie).
    ///
    /// # Errors
    /// As [`get`](RequestSession::get).
    pub async fn resume(&self) -> Result<Option<Session>, SessionError> {
        let mut slot = self.0.slot.lock().await;
        for (i, token) in self.0.tokens.iter().enumerate() {
            match self.0.manager.resume(token).await {
                Ok(Some(session)) => {
                    let _ = self.0.used.set(i);
                    *slot = Slot::Present(session.clone());
                    return Ok(Some(session));
                }
                Ok(None) => continue,
                Err(error) => {
                    self.0.failed.store(true, Ordering::SeqCst);
                    return Err(error);
                }
            }
        }
        *slot = Slot::Missing;
        Ok(None)
    }

    /// The manager behind this session (to list or revoke a user's sessions).
    pub fn manager(&self) -> &SessionManager {
        &self.0.manager
    }

    /// Whether the request presented a token (a cookie of ours or the header), whether or not it
    /// found a session: `true` with no session means it ended (expired, logged out elsewhere).
    pub fn had_token(&self) -> bool {
        !self.0.tokens.is_empty()
    }

    /// Which presented token found the session, if one did.
    pub(crate) async fn used(&self) -> Option<usize> {
        if let Some(i) = self.0.used.get() {
            return Some(*i);
        }
        match &*self.0.slot.lock().await {
            Slot::Present(session) => session.opened_with(),
            _ => None,
        }
    }

    /// What happened to the session during the request.
    pub(crate) async fn slot(&self) -> Slot {
        self.0.slot.lock().await.clone()
    }

    pub(crate) fn failed(&self) -> bool {
        self.0.failed.load(Ordering::SeqCst)
    }
}
