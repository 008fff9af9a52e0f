//! The axum extractor: a handler takes a [`LazySession`] argument.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use session_core::SessionError;

use crate::LazySession;

/// The extractor's rejection: the route is not under a [`SessionLayer`](crate::SessionLayer).
#[derive(Debug, Clone, Copy)]
pub struct MissingSessionLayer;

impl IntoResponse for MissingSessionLayer {
    fn into_response(self) -> Response {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the route is not under a SessionLayer",
        )
            .into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for LazySession {
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<LazySession>()
            .cloned()
            .ok_or(MissingSessionLayer)
    }
}

/// A [`SessionError`] as an axum response, so handlers can use `?`. The status says whose fault
/// it is, and the body names no internals (the error is logged with `tracing`); the mapping is
/// [`session_http::error_status`]'s, the same in every bridge:
///
/// | error | status |
/// |---|---|
/// | `Store(InvalidInput)` (a bad key or subject, e.g. a NUL in a login name) | `400 Bad Request` |
/// | `Store(TooLarge)` (a value or a session over the configured limits) | `413 Payload Too Large` |
/// | `Store(Unavailable)` | `503 Service Unavailable`, `Retry-After: 1` |
/// | `RotatedOut` (another request rotated the token: retry with the new cookie) | `409 Conflict` |
/// | `Destroyed` (another request ended the session: a logout, a revocation) | `409 Conflict` (the layer clears the cookie) |
/// | anything else | `500 Internal Server Error` |
#[derive(Debug)]
pub struct SessionRejection(pub SessionError);

impl From<SessionError> for SessionRejection {
    fn from(error: SessionError) -> Self {
        Self(error)
    }
}

impl SessionRejection {
    /// The status and the body this error answers with.
    pub fn status_and_body(&self) -> (StatusCode, &'static str) {
        let (status, body) = session_http::error_status(&self.0);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, body)
    }
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        let (status, body) = self.status_and_body();
        if status.is_server_error() {
            tracing::warn!(error = %self.0, "session error");
        }
        let mut response = (status, body).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use session_core::StoreError;

    use super::*;

    #[test]
    fn an_outage_is_a_503_with_retry_after() {
        let response = SessionRejection(StoreError::timeout("x").into()).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[http::header::RETRY_AFTER], "1");
        let conflict = SessionRejection(SessionError::RotatedOut).status_and_body();
        assert_eq!(conflict.0, StatusCode::CONFLICT);
    }
}
