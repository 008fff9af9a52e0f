//! `LazySession`: the request's session as a handler receives it, loaded on first use.

use std::ops::Deref;

use session_http::RequestSession;

/// The session of one request, loaded from the store only if the handler asks for it (see
/// [`RequestSession`], which it dereferences to: [`get`](RequestSession::get),
/// [`existing`](RequestSession::existing), [`resume`](RequestSession::resume)). A handler that
/// never reads or writes through it costs no store I/O; the layer saves whatever the handler
/// changed once, after the response is produced, and sets or clears the cookie.
#[derive(Clone, Debug)]
pub struct LazySession(pub(crate) RequestSession);

impl Deref for LazySession {
    type Target = RequestSession;

    fn deref(&self) -> &RequestSession {
        &self.0
    }
}
