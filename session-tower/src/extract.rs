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

/// A [`SessionError`] as an axum response, so handlers can use `?`: `503` when the store is
/// unavailable (the layer answers 503 for any store failure anyway), `409` when the request's
/// token was rotated out by another request (retry with the new cookie), `500` otherwise.
#[derive(Debug)]
pub struct SessionRejection(pub SessionError);

impl From<SessionError> for SessionRejection {
    fn from(error: SessionError) -> Self {
        Self(error)
    }
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            SessionError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            SessionError::RotatedOut => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, self.0.to_string()).into_response()
    }
}
