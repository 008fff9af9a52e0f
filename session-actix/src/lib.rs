//! Sessions for actix-web over any `session-core` store.
//!
//! [`SessionMiddleware`] gives each request a [`LazySession`]: the store is only read if the
//! handler asks for the session, a key read costs one round trip (the session's metadata comes
//! with it), and after the response the middleware saves the changed keys once. A new session
//! that was never written sets no cookie and stores nothing. Logging in is one call
//! ([`Session::login`](session_core::Session::login)): it rotates the token, and concurrent
//! requests still holding the old one keep working through the rotation grace.
//!
//! The rules are those of `session-tower`, from the same code ([`HttpSessions`] in
//! `session-http`): `HttpOnly`, `Secure`, `SameSite=Lax`, `__Host-` cookies read from the raw
//! `Cookie` bytes (every cookie of our name a candidate, more than
//! [`MAX_CANDIDATES`](session_http::MAX_CANDIDATES) refused with `400`), optional HMAC signing
//! with key rotation ([`SigningKeys`]), tokens in a header for API clients ([`TokenHeader`],
//! [`HttpSessions::header_only`]), the cross-site guard (`403` before the handler), `Cache-Control:
//! private, no-store` and `Vary: Cookie` on every response rendered from a session, and a `503`
//! with `Retry-After` when the store fails, never a request served without its session. A
//! handler's [`SessionError`](session_core::SessionError) answers through [`SessionRejection`]
//! (`400`, `413`, `503`, `409`, `500`; the body names no internals).
//!
//! Where actix-session keeps the whole session in one value written back by every request that
//! changed it, each key here is its own entry in the store: two concurrent requests writing
//! different keys both land, counters are atomic ([`Session::incr`](session_core::Session::incr)),
//! and a session ended by a logout is never written back by a slower request.
//!
//! # Layout
//!
//! - `middleware`: [`SessionMiddleware`] and its service.
//! - `extract`: [`LazySession`], the extractor, and [`SessionRejection`].
//! - `head`: an actix-web request as the shared rules read it; [`user_agent_device`].
//! - `response`: the shared rules' answers as actix-web responses.
//!
//! # Example
//!
//! A request through the middleware, in-process with actix-web's test service:
//!
//! ```
//! use actix_web::{App, test, web};
//! use session_actix::{CookieConfig, HttpSessions, LazySession, SessionMiddleware, SessionRejection};
//! use session_core::SessionManager;
//! use session_store_memory::MemoryStore;
//!
//! async fn counter(session: LazySession) -> Result<String, SessionRejection> {
//!     Ok(session.get().await?.incr("visits", 1).await?.to_string())
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let sessions = HttpSessions::new(SessionManager::new(MemoryStore::new()))
//!     .cookie(CookieConfig::default().secure(false));
//! let app = test::init_service(
//!     App::new()
//!         .wrap(SessionMiddleware::from_sessions(sessions))
//!         .route("/", web::get().to(counter)),
//! )
//! .await;
//! let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
//! let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap();
//! assert!(cookie.starts_with("session=") && cookie.contains("HttpOnly"));
//! assert_eq!(test::read_body(response).await, "1");
//! # });
//! ```
//!
//! A whole server:
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use session_actix::{LazySession, SessionMiddleware, SessionRejection};
//! use session_core::SessionManager;
//! use session_store_memory::MemoryStore;
//!
//! async fn counter(session: LazySession) -> Result<String, SessionRejection> {
//!     let session = session.get().await?;
//!     // Atomic in the store: concurrent requests of one browser lose no visit.
//!     let visits = session.incr("visits", 1).await?;
//!     Ok(format!("visit number {visits}"))
//! }
//!
//! async fn login(session: LazySession) -> Result<&'static str, SessionRejection> {
//!     // After checking the password: a new token, the old one retired.
//!     session.get().await?.login("alice", serde_json::json!({})).await?;
//!     Ok("welcome")
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let manager = SessionManager::new(MemoryStore::new());
//!     HttpServer::new(move || {
//!         App::new()
//!             .wrap(SessionMiddleware::new(manager.clone()))
//!             .route("/", web::get().to(counter))
//!             .route("/login", web::post().to(login))
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```

mod extract;
mod head;
mod middleware;
mod response;

pub use extract::{LazySession, MissingSessionMiddleware, SessionRejection};
pub use head::user_agent_device;
pub use middleware::{DeviceContext, SessionMiddleware, SessionService, UnavailableHandler};
pub use session_http::{
    CookieConfig, HttpSessions, RequestSession, SESSION_CACHE_CONTROL, SigningKeys, TokenHeader,
};
