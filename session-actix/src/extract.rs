//! The extractor: a handler takes a [`LazySession`] argument, and answers a session error with
//! `?` through [`SessionRejection`].

use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use session_core::SessionError;
use session_http::RequestSession;

use crate::response::text;

/// The session of one request, loaded from the store only if the handler asks for it (see
/// [`RequestSession`], which it dereferences to: [`get`](RequestSession::get),
/// [`existing`](RequestSession::existing), [`resume`](RequestSession::resume)). A handler that
/// never reads or writes through it costs no store I/O; the middleware saves whatever the handler
/// changed once, after the response is produced, and sets or clears the cookie.
#[derive(Clone, Debug)]
pub struct LazySession(pub(crate) RequestSession);

impl Deref for LazySession {
    type Target = RequestSession;

    fn deref(&self) -> &RequestSession {
        &self.0
    }
}

/// The extractor's error: the route is not under a [`SessionMiddleware`](crate::SessionMiddleware).
#[derive(Debug, Clone, Copy)]
pub struct MissingSessionMiddleware;

impl std::fmt::Display for MissingSessionMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the route is not under a SessionMiddleware")
    }
}

impl ResponseError for MissingSessionMiddleware {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

impl FromRequest for LazySession {
    type Error = MissingSessionMiddleware;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<LazySession>()
                .cloned()
                .ok_or(MissingSessionMiddleware),
        )
    }
}

/// A [`SessionError`] as an actix-web error, so handlers can use `?`. The status says whose
/// fault it is and the body names no internals (the error is logged with `tracing`); the mapping
/// is [`session_http::error_status`]'s, the same as in `session-tower`: `400` bad input, `413`
/// too large, `503` with `Retry-After: 1` when the store is unavailable, `409` when another
/// request rotated or ended the session, `500` otherwise.
#[derive(Debug)]
pub struct SessionRejection(pub SessionError);

impl From<SessionError> for SessionRejection {
    fn from(error: SessionError) -> Self {
        Self(error)
    }
}

impl std::fmt::Display for SessionRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(session_http::error_status(&self.0).1)
    }
}

impl ResponseError for SessionRejection {
    fn status_code(&self) -> StatusCode {
        let status = session_http::error_status(&self.0).0;
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let (status, body) = session_http::error_status(&self.0);
        if status >= 500 {
            tracing::warn!(error = %self.0, "session error");
        }
        text(status, body)
    }
}
