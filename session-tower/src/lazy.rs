//! `LazySession`: the request's session, loaded from the store only if the handler asks for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use session_core::{Session, SessionError, SessionManager};

/// The session of one request, loaded on first use.
///
/// A handler that never calls [`get`](LazySession::get) or [`existing`](LazySession::existing)
/// costs no store I/O. The layer saves whatever the handler changed once, after the response is
/// produced, and sets or clears the cookie.
#[derive(Clone)]
pub struct LazySession(Arc<Inner>);

struct Inner {
    manager: SessionManager,
    token: Option<String>,
    device: Option<String>,
    slot: tokio::sync::Mutex<Slot>,
    /// A store error happened while loading: the layer answers 503 instead of the handler's
    /// response, so the request never silently continues without its session.
    failed: AtomicBool,
}

/// What the request knows about its session so far.
#[derive(Clone)]
pub(crate) enum Slot {
    /// Nobody asked: nothing was loaded.
    Untouched,
    /// Looked up: the request has no live session (no token, unknown, expired, ended).
    Missing,
    /// Loaded or created.
    Present(Session),
}

impl std::fmt::Debug for LazySession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazySession")
            .field("has_token", &self.0.token.is_some())
            .finish_non_exhaustive()
    }
}

impl LazySession {
    pub(crate) fn new(
        manager: SessionManager,
        token: Option<String>,
        device: Option<String>,
    ) -> Self {
        Self(Arc::new(Inner {
            manager,
            token,
            device,
            slot: tokio::sync::Mutex::new(Slot::Untouched),
            failed: AtomicBool::new(false),
        }))
    }

    /// The request's session, loaded from the store on first use; a new one (stored only once
    /// something is written to it) when the request has none.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails; the layer then answers 503.
    pub async fn get(&self) -> Result<Session, SessionError> {
        let mut slot = self.0.slot.lock().await;
        if let Slot::Untouched = *slot {
            *slot = self.load().await?;
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

    /// The request's session if it has a live one; never creates one.
    ///
    /// # Errors
    /// As [`get`](LazySession::get).
    pub async fn existing(&self) -> Result<Option<Session>, SessionError> {
        let mut slot = self.0.slot.lock().await;
        if let Slot::Untouched = *slot {
            *slot = self.load().await?;
        }
        Ok(match &*slot {
            Slot::Present(session) if !session.is_destroyed() => Some(session.clone()),
            _ => None,
        })
    }

    /// The request's session as a live session, for a connection that stays open (a WebSocket
    /// upgrade): every connection presenting the same token shares one handle and sees the
    /// others' changes at once ([`SessionManager::resume`]). `None` when the request has no live
    /// session; never creates one (load a page first, so the browser has its cookie).
    ///
    /// # Errors
    /// As [`get`](LazySession::get).
    pub async fn resume(&self) -> Result<Option<Session>, SessionError> {
        let mut slot = self.0.slot.lock().await;
        let Some(token) = &self.0.token else {
            *slot = Slot::Missing;
            return Ok(None);
        };
        match self.0.manager.resume(token).await {
            Ok(Some(session)) => {
                *slot = Slot::Present(session.clone());
                Ok(Some(session))
            }
            Ok(None) => {
                *slot = Slot::Missing;
                Ok(None)
            }
            Err(error) => {
                self.0.failed.store(true, Ordering::SeqCst);
                Err(error)
            }
        }
    }

    /// The manager behind this session (to list or revoke a user's sessions).
    pub fn manager(&self) -> &SessionManager {
        &self.0.manager
    }

    async fn load(&self) -> Result<Slot, SessionError> {
        let Some(token) = &self.0.token else {
            return Ok(Slot::Missing);
        };
        match self
            .0
            .manager
            .load_with(token, self.0.device.as_deref())
            .await
        {
            Ok(Some(session)) => Ok(Slot::Present(session)),
            Ok(None) | Err(SessionError::DeviceMismatch) => Ok(Slot::Missing),
            Err(error) => {
                self.0.failed.store(true, Ordering::SeqCst);
                Err(error)
            }
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
