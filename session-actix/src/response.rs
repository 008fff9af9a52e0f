//! The session's answers as actix-web responses: the headers the edits go to, and the responses
//! that replace a handler's.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, HttpResponseBuilder};
use session_http::ResponseHeaders;

/// A response's headers as the shared rules write them (actix-web has its own `http` types).
pub(crate) struct Headers<'a>(pub(crate) &'a mut HeaderMap);

impl ResponseHeaders for Headers<'_> {
    fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    fn insert(&mut self, name: &str, value: &str) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.0.insert(name, value);
        }
    }

    fn append(&mut self, name: &str, value: &str) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.0.append(name, value);
        }
    }
}

/// A plain-text response with `status`; a `503` says when to retry.
pub(crate) fn text(status: u16, body: &'static str) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponseBuilder::new(status);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.insert_header((RETRY_AFTER, "1"));
    }
    response
        .content_type("text/plain; charset=utf-8")
        .body(body)
}
