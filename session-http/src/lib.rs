//! The framework-neutral HTTP side of sessions, shared by every framework bridge
//! (`session-tower` for tower and axum, `session-actix` for actix-web), so each keeps the same
//! rules.
//!
//! [`HttpSessions`] holds a [`SessionManager`](session_core::SessionManager) and how its tokens
//! travel. A bridge calls [`HttpSessions::begin`] with the request's head (anything that
//! implements [`RequestHead`]) before the handler, hands the handler the [`RequestSession`] it
//! gives, and calls [`HttpSessions::finish`] after the handler: the session is saved once, and
//! the [`Outcome`] says which headers the response gets or that it must be replaced.
//!
//! Cookies are `HttpOnly`, `Secure`, `SameSite=Lax`, `Path=/`, with no `Domain` and the `__Host-`
//! prefix by default ([`CookieConfig`]); `Max-Age` follows the session's expiry; destroying the
//! session sends `Max-Age=0`; every response that sets the cookie is `Cache-Control: no-store`,
//! and every response whose handler consulted the session is `Cache-Control: private, no-store`
//! (unless the handler set its own; [`HttpSessions::cache_control`]) and `Vary: Cookie`. Cookies
//! can be signed ([`SigningKeys`], with key rotation); a tampered or unsigned cookie is no
//! session. Tokens come from the cookie (or a configured header, or a header only), never from
//! the URL.
//!
//! # Cookies other apps set
//!
//! Our cookie is read from the raw `Cookie` header bytes: other cookies' contents never matter (a
//! `lang=José` is bytes skipped, not a reason to ignore the header). Every cookie of our name is a
//! candidate, tried in the order the browser sent them: the one that finds a live session wins,
//! so a cookie planted in front of the real one (with a longer path, say) changes nothing, and the
//! working cookie is never replaced because of it. A request with more than [`MAX_CANDIDATES`]
//! cookies of our name (junk ones included) is cookie tossing, an attempt to push the real one
//! out: it is refused with `400` ([`Refusal::TooManyCookies`]) before any session I/O, setting
//! and clearing nothing. With the default `__Host-` prefix, a cookie without it is not ours at
//! all, and a `__Host-` cookie can only be set by the site itself over HTTPS, with no `Domain`.
//!
//! # Cross-site requests
//!
//! On by default: an unsafe request (any method but `GET`, `HEAD`, `OPTIONS`, `TRACE`, and any
//! WebSocket handshake, against cross-site WebSocket hijacking) whose `Sec-Fetch-Site` is
//! `cross-site` or `same-site` (a page on another port or subdomain), or, from a browser without
//! that header, whose `Origin` is not the request's own origin, is refused with `403`
//! ([`Refusal::CrossSite`]) before the handler runs and with no session change. Trust an origin
//! with [`HttpSessions::trust_origin`]; turn the check off with
//! [`HttpSessions::cross_site_protection`]. Not covered: requests with neither header (not a
//! browser's cross-site request), state changed by `GET` (don't), and script running on the site
//! itself (XSS).
//!
//! # API and mobile clients: tokens in a header
//!
//! [`HttpSessions::header_only`] moves the token out of cookies altogether: it comes in
//! `Authorization: Bearer <token>` ([`TokenHeader::Bearer`]) or a header of your naming
//! ([`TokenHeader::Named`]), a new or rotated token is answered in a response header, and no
//! cookie is read or set. The cross-site guard is off there: a browser never attaches a header
//! to another site's form or link. [`HttpSessions::token_header`] accepts the header beside the
//! cookie instead; a request with the header and no cookie of ours then skips the guard too.
//!
//! # Errors
//!
//! [`error_status`] maps a handler's [`SessionError`](session_core::SessionError) to the status
//! it answers with, by whose fault it is (`400`, `413`, `503`, `409`, `500`); the body names no
//! internals.
//!
//! # Layout
//!
//! - `policy`: [`HttpSessions`] and its settings.
//! - `exchange`: one request: [`HttpSessions::begin`] and [`HttpSessions::finish`].
//! - `answer`: what a bridge is told to answer ([`Refusal`], [`Outcome`], [`ResponseEdits`],
//!   [`error_status`]).
//! - `request_session`: [`RequestSession`], the request's session, loaded on first use.
//! - `head`: [`RequestHead`], what is read of a request.
//! - `config`: [`CookieConfig`], the cookie's name and attributes.
//! - `cookies`: reading our cookies from the raw `Cookie` header bytes.
//! - `header`: [`TokenHeader`], tokens in a header for API clients.
//! - `cross_site`: refusing cross-site requests that could change state.
//! - `signing`: [`SigningKeys`], HMAC-signed cookie values.
//! - `device`: [`user_agent_device`], the default device context.
//! - `fuzzing`: the request parsing, exposed for the fuzz targets in `fuzz/` (not stable API).
//!
//! # Example
//!
//! A bridge's whole job, over `http` types:
//!
//! ```
//! use session_core::SessionManager;
//! use session_http::{CookieConfig, HttpSessions, Outcome, user_agent_device};
//! use session_store_memory::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let sessions = HttpSessions::new(SessionManager::new(MemoryStore::new()))
//!     .cookie(CookieConfig::default().secure(false));
//! let (head, ()) = http::Request::post("/login").body(()).unwrap().into_parts();
//!
//! let exchange = sessions.begin(&head, || user_agent_device(&head)).expect("not refused");
//! // The handler:
//! let session = exchange.session().get().await.unwrap();
//! session.set("theme", &"dark").unwrap();
//!
//! let Outcome::Keep(edits) = sessions.finish(exchange).await else { panic!("store failed") };
//! assert!(edits.set_cookies[0].starts_with("session="));
//! assert!(edits.no_store);
//! # }
//! ```

mod answer;
mod config;
mod cookies;
mod cross_site;
mod device;
mod exchange;
#[doc(hidden)]
pub mod fuzzing;
mod head;
mod header;
mod policy;
mod request_session;
mod signing;

pub use answer::{
    Outcome, ROTATED_OUT_BODY, Refusal, ResponseEdits, ResponseHeaders, error_status,
};
pub use config::{CookieConfig, DEFAULT_COOKIE_NAME};
pub use cookies::MAX_CANDIDATES;
pub use device::user_agent_device;
pub use exchange::Exchange;
pub use head::RequestHead;
pub use header::TokenHeader;
pub use policy::{HttpSessions, SESSION_CACHE_CONTROL};
pub use request_session::RequestSession;
pub use signing::{MIN_KEY_LEN, SigningKeys};
