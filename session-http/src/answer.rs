//! What the session logic answers a bridge: a refusal before the handler, or the edits to make
//! to the handler's response, and the status a handler's session error answers with.

use http::HeaderName;
use session_core::{SessionError, StoreError};

/// A request refused before the handler runs, with no session I/O and no cookie change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A cross-site request that could change state: `403 Forbidden`.
    CrossSite,
    /// More cookies of our name than [`MAX_CANDIDATES`](crate::MAX_CANDIDATES), the mark of
    /// cookie tossing: `400 Bad Request`.
    TooManyCookies,
}

impl Refusal {
    /// The status code to answer with.
    pub fn status(self) -> u16 {
        match self {
            Self::CrossSite => 403,
            Self::TooManyCookies => 400,
        }
    }

    /// The response body: what happened, naming no internals.
    pub fn body(self) -> &'static str {
        match self {
            Self::CrossSite => "cross-site request refused",
            Self::TooManyCookies => {
                "too many session cookies: clear this site's cookies and sign in again"
            }
        }
    }
}

/// What to do with the handler's response once the session is saved.
#[derive(Debug)]
pub enum Outcome {
    /// Keep it, with these edits.
    Keep(ResponseEdits),
    /// The store failed while loading or saving: which session the request has, or whether its
    /// changes landed, is not known, so the handler's answer must not stand. Answer `503` (the
    /// bridge's `on_unavailable`).
    Unavailable(SessionError),
    /// Another request rotated the session while this one changed it, and the change was
    /// refused: answer `409 Conflict` ([`ROTATED_OUT_BODY`]), to be retried with the new token.
    RotatedOut,
}

/// The body of the `409` answered for [`Outcome::RotatedOut`].
pub const ROTATED_OUT_BODY: &str = "the session was renewed by another request: retry";

/// Headers to add to a handler's response. Its `Debug` names what it sets, never a token.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct ResponseEdits {
    /// `Cache-Control` to set when the handler set none (the response was rendered from the
    /// session).
    pub cache_control: Option<String>,
    /// Header names to append to `Vary` (what carries the token).
    pub vary: Vec<String>,
    /// `Set-Cookie` values to append, in order.
    pub set_cookies: Vec<String>,
    /// A token answered in a header (API clients): its name and value.
    pub token_header: Option<(HeaderName, String)>,
    /// `Cache-Control: no-store`, replacing whatever else: the response carries a token.
    pub no_store: bool,
}

impl std::fmt::Debug for ResponseEdits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseEdits")
            .field("cache_control", &self.cache_control)
            .field("vary", &self.vary)
            .field("set_cookies", &self.set_cookies.len())
            .field(
                "token_header",
                &self.token_header.as_ref().map(|(name, _)| name),
            )
            .field("no_store", &self.no_store)
            .finish()
    }
}

/// A response's headers, as [`ResponseEdits::apply`] writes them: implemented here for
/// [`http::HeaderMap`]; another framework's bridge implements it over its own. Names are lower
/// case; values are visible ASCII (tokens, cookies, header names), so a header type that refuses
/// other bytes can take them all.
pub trait ResponseHeaders {
    /// Whether the response has header `name`.
    fn has(&self, name: &str) -> bool;
    /// Sets header `name` to `value`, replacing any value it had.
    fn insert(&mut self, name: &str, value: &str);
    /// Adds a value of header `name`, keeping the others.
    fn append(&mut self, name: &str, value: &str);
}

impl ResponseHeaders for http::HeaderMap {
    fn has(&self, name: &str) -> bool {
        self.contains_key(name)
    }

    fn insert(&mut self, name: &str, value: &str) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            http::HeaderMap::insert(self, name, value);
        }
    }

    fn append(&mut self, name: &str, value: &str) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            http::HeaderMap::append(self, name, value);
        }
    }
}

impl ResponseEdits {
    /// Writes these edits onto a handler's response headers.
    pub fn apply<H: ResponseHeaders + ?Sized>(self, headers: &mut H) {
        if let Some(value) = &self.cache_control
            && !headers.has("cache-control")
        {
            headers.insert("cache-control", value);
        }
        for name in &self.vary {
            headers.append("vary", name);
        }
        for cookie in &self.set_cookies {
            headers.append("set-cookie", cookie);
        }
        if let Some((name, value)) = &self.token_header {
            headers.insert(name.as_str(), value);
        }
        if self.no_store {
            headers.insert("cache-control", "no-store");
        }
    }
}

/// The status and body a handler's [`SessionError`] answers with, by whose fault it is; the body
/// names no internals:
///
/// | error | status |
/// |---|---|
/// | `Store(InvalidInput)` (a bad key or subject, e.g. a NUL in a login name) | `400 Bad Request` |
/// | `Store(TooLarge)` (a value or a session over the configured limits) | `413 Payload Too Large` |
/// | `Store(Unavailable)` and other transient store errors | `503 Service Unavailable` (send `Retry-After: 1`) |
/// | `RotatedOut` (another request rotated the token: retry with the new cookie) | `409 Conflict` |
/// | `Destroyed` (another request ended the session: a logout, a revocation) | `409 Conflict` (the cookie is cleared) |
/// | anything else | `500 Internal Server Error` |
pub fn error_status(error: &SessionError) -> (u16, &'static str) {
    match error {
        SessionError::Store(StoreError::InvalidInput(_)) => (400, "bad request"),
        SessionError::Store(StoreError::TooLarge { .. }) => (413, "too large"),
        SessionError::Store(e) if e.is_transient() => (503, "session store unavailable"),
        SessionError::RotatedOut => (409, ROTATED_OUT_BODY),
        // A request racing a logout: it answers as logged out, never as a server fault.
        SessionError::Destroyed => (409, "the session has ended"),
        _ => (500, "internal error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_answers_with_its_status() {
        let status = |e: SessionError| error_status(&e).0;
        assert_eq!(
            status(StoreError::InvalidInput("subject contains NUL".into()).into()),
            400
        );
        let too_large = StoreError::TooLarge {
            what: "value",
            size: 2,
            limit: 1,
        };
        assert_eq!(status(too_large.into()), 413);
        assert_eq!(status(StoreError::timeout("loading").into()), 503);
        assert_eq!(status(SessionError::RotatedOut), 409);
        assert_eq!(status(SessionError::Destroyed), 409);
        assert_eq!(status(SessionError::Config("x".into())), 500);
    }

    #[test]
    fn debug_never_shows_a_token() {
        let edits = ResponseEdits {
            set_cookies: vec!["session=SECRET-TOKEN; Path=/".into()],
            token_header: Some((HeaderName::from_static("x-session"), "SECRET-TOKEN".into())),
            ..ResponseEdits::default()
        };
        let shown = format!("{edits:?} {:?}", Outcome::Keep(edits.clone()));
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("x-session"), "{shown}");
    }
}
