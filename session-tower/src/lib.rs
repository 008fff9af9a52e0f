//! HTTP sessions for tower and axum.
//!
//! [`SessionLayer`] works with any tower-based server (axum, tonic, plain hyper). Each request
//! gets a [`LazySession`]: the store is only read if the handler asks for the session, and after
//! the response the layer saves the changed keys once (one `set_many`). A new session that was
//! never written sets no cookie and stores nothing.
//!
//! Cookies are `HttpOnly`, `Secure`, `SameSite=Lax`, `Path=/`, with no `Domain` and the `__Host-`
//! prefix by default ([`CookieConfig`]); `Max-Age` follows the session's expiry; destroying the
//! session sends `Max-Age=0`; every response that sets the cookie has `Cache-Control: no-store`,
//! and every response whose handler consulted the session has `Cache-Control: private, no-store`
//! (unless the handler set its own; [`SessionLayer::cache_control`]) and `Vary: Cookie`, so a
//! logged-in page is never kept by a shared cache or replayed from the browser's history.
//! Cookies can be signed ([`SigningKeys`], with key rotation); a tampered or unsigned cookie is no
//! session. Tokens come from the cookie (or a configured header, or a header only), never from the
//! URL. A store
//! failure while loading or saving is a `503`, never a request served without its session, even
//! when the handler went on without the value it could not read ([`Session::read_failed`]).
//!
//! [`Session::read_failed`]: session_core::Session::read_failed
//!
//! # Cookies other apps set
//!
//! Our cookie is read from the raw `Cookie` header bytes: other cookies' contents never matter (a
//! `lang=José` is bytes skipped, not a reason to ignore the header). Every cookie of our name is a
//! candidate, tried in the order the browser sent them: the one that finds a live session wins,
//! so a cookie planted in front of the real one (with a longer path, say) changes nothing, and the
//! working cookie is never replaced because of it. A request with more than [`MAX_CANDIDATES`]
//! cookies of our name (junk ones included) is cookie tossing, an attempt to push the real one
//! out: it is refused with `400` before any session I/O, setting and clearing nothing, so the
//! user's session and cookie survive it. With the default `__Host-` prefix, a cookie without it is
//! not ours at all, and a `__Host-` cookie can only be set by the site itself over HTTPS, with no
//! `Domain`: a sibling subdomain or a plain-HTTP page cannot plant one, which is what keeps
//! cookie tossing out in the first place.
//!
//! # Cross-site requests
//!
//! On by default: an unsafe request (any method but `GET`, `HEAD`, `OPTIONS`, `TRACE`, and any
//! WebSocket handshake, against cross-site WebSocket hijacking) whose
//! `Sec-Fetch-Site` is `cross-site` or `same-site` (a page on another port or subdomain), or,
//! from a browser without that header, whose `Origin` is not the request's own origin, is refused
//! with `403` before the handler runs and with no session change. Trust an origin with
//! [`SessionLayer::trust_origin`]; turn the check off with
//! [`SessionLayer::cross_site_protection`]. Not covered: requests with neither header (not a
//! browser's cross-site request), state changed by `GET` (don't), and script running on the site
//! itself (XSS).
//!
//! # API and mobile clients: tokens in a header
//!
//! [`SessionLayer::header_only`] moves the token out of cookies altogether: it comes in
//! `Authorization: Bearer <token>` ([`TokenHeader::Bearer`]) or a header of your naming
//! ([`TokenHeader::Named`]), a new or rotated token is answered in a response header, and no
//! cookie is read or set (a cookie planted in the client changes nothing). The cross-site guard
//! is off there: it guards what a browser attaches by itself, and a browser never attaches a
//! header to another site's form or link. [`SessionLayer::token_header`] accepts the header
//! beside the cookie instead; a request with the header and no cookie of ours then skips the
//! guard too, and a session found by the header is answered in the header.
//!
//! ```
//! use http::HeaderName;
//! use session_core::SessionManager;
//! use session_store_memory::MemoryStore;
//! use session_tower::{SessionLayer, TokenHeader};
//!
//! let layer = SessionLayer::new(SessionManager::new(MemoryStore::new())).header_only(
//!     TokenHeader::Bearer { response: HeaderName::from_static("x-session-token") },
//! );
//! ```
//!
//! # Errors
//!
//! [`SessionRejection`] answers a handler's [`SessionError`](session_core::SessionError) by whose
//! fault it is: `400` for bad input (e.g. a NUL in a login name), `413` for a value over the
//! limits, `503` with `Retry-After` when the store is unavailable, `409` when another request
//! rotated the token, `500` otherwise; the body names no internals.
//!
//! An inner service that fails with `Err` (rather than an error response) gets its error passed
//! on untouched, and the request's pending changes are not saved: no response leaves to carry
//! a cookie, so they are dropped, as in tower-sessions. What wrote to the store at once stays
//! written (an `incr`, a login's rotation: the client, holding the old token, then finds it
//! rotated out). axum handlers answer errors as responses, which are saved as any other.
//!
//! # Layout
//!
//! The rules themselves (cookie parsing, signing, header tokens, the cross-site guard, when to
//! save and what to answer) live in `session-http`, shared with `session-actix`; this crate is
//! the tower side of them.
//!
//! - `layer`: [`SessionLayer`] and its settings.
//! - `service`: [`SessionService`]: the request through [`HttpSessions`], the edits onto the
//!   response.
//! - `lazy`: [`LazySession`], the request's session as a handler receives it.
//! - `extract`: the axum extractor (feature `axum`, on by default).
//!
//! # Example
//!
//! ```
//! use axum::{Router, routing::get};
//! use session_core::SessionManager;
//! use session_store_memory::MemoryStore;
//! use session_tower::{LazySession, SessionLayer, SessionRejection};
//!
//! async fn counter(session: LazySession) -> Result<String, SessionRejection> {
//!     let session = session.get().await?;
//!     // Atomic in the store: concurrent requests of one browser lose no visit.
//!     let visits = session.incr("visits", 1).await?;
//!     Ok(format!("visit number {visits}"))
//! }
//!
//! async fn theme(session: LazySession) -> Result<String, SessionRejection> {
//!     // One round trip: the session's metadata and this key, nothing else.
//!     let theme: Option<String> = session.get().await?.get("theme").await?;
//!     Ok(theme.unwrap_or_else(|| "light".into()))
//! }
//!
//! async fn health() -> &'static str {
//!     "ok" // never touches the session: no store I/O, no cookie
//! }
//!
//! let manager = SessionManager::new(MemoryStore::new());
//! let app: Router = Router::new()
//!     .route("/", get(counter))
//!     .route("/theme", get(theme))
//!     .route("/health", get(health))
//!     .layer(SessionLayer::new(manager));
//! ```

#[cfg(feature = "axum")]
mod extract;
mod layer;
mod lazy;
mod service;

#[cfg(feature = "axum")]
pub use extract::{MissingSessionLayer, SessionRejection};
pub use layer::{DeviceContext, SessionLayer, UnavailableHandler, user_agent_device};
pub use lazy::LazySession;
pub use service::SessionService;
#[doc(hidden)]
pub use session_http::fuzzing;
pub use session_http::{
    CookieConfig, DEFAULT_COOKIE_NAME, HttpSessions, MAX_CANDIDATES, MIN_KEY_LEN, RequestSession,
    SESSION_CACHE_CONTROL, SigningKeys, TokenHeader,
};
