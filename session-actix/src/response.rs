//! The session's answers as actix-web responses: the edits onto a handler's response, and the
//! responses that replace it.

use actix_web::http::StatusCode;
use actix_web::http::header::{
    CACHE_CONTROL, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER, SET_COOKIE, VARY,
};
use actix_web::{HttpResponse, HttpResponseBuilder};
use session_http::ResponseEdits;

/// Adds the session's headers to a handler's response.
pub(crate) fn apply(headers: &mut HeaderMap, edits: ResponseEdits) {
    if let Some(value) = edits
        .cache_control
        .and_then(|v| HeaderValue::try_from(v).ok())
        && !headers.contains_key(CACHE_CONTROL)
    {
        headers.insert(CACHE_CONTROL, value);
    }
    for name in edits.vary {
        if let Ok(value) = HeaderValue::try_from(name) {
            headers.append(VARY, value);
        }
    }
    for cookie in edits.set_cookies {
        if let Ok(value) = HeaderValue::try_from(cookie) {
            headers.append(SET_COOKIE, value);
        }
    }
    if let Some((name, value)) = edits.token_header
        && let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::try_from(value),
        )
    {
        headers.insert(name, value);
    }
    if edits.no_store {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
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
