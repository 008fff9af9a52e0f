//! HTTP sessions for tower and axum.
//!
//! [`SessionLayer`] works with any tower-based server (axum, tonic, plain hyper). Each request
//! gets a [`LazySession`]: the store is only read if the handler asks for the session, and after
//! the response the layer saves the changed keys once (one `set_many`). A new session that was
//! never written sets no cookie and stores nothing.
//!
//! Cookies are `HttpOnly`, `Secure`, `SameSite=Lax`, `Path=/`, with no `Domain` and the `__Host-`
//! prefix by default ([`CookieConfig`]); `Max-Age` follows the session's expiry; destroying the
//! session sends `Max-Age=0`; every response that sets the cookie has `Cache-Control: no-store`.
//! Cookies can be signed ([`SigningKeys`], with key rotation); a tampered or unsigned cookie is no
//! session. Tokens come from the cookie (or a configured header), never from the URL. A store
//! failure while loading or saving is a `503`, never a request served without its session.
//!
//! # Layout
//!
//! - `layer`: [`SessionLayer`] and its settings.
//! - `service`: [`SessionService`]: token in, lazy session, one save and the cookie out.
//! - `lazy`: [`LazySession`], the request's session, loaded on first use.
//! - `config`: [`CookieConfig`], the cookie's name and attributes.
//! - `signing`: [`SigningKeys`], HMAC-signed cookie values.
//! - `extract`: the axum extractor (feature `axum`, on by default).
//! - `fuzzing`: the request parsing, exposed for the fuzz targets in `fuzz/` (not stable API).
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
//!     let visits: u64 = session.get("visits")?.unwrap_or(0) + 1;
//!     session.set("visits", &visits)?;
//!     Ok(format!("visit number {visits}"))
//! }
//!
//! async fn health() -> &'static str {
//!     "ok" // never touches the session: no store I/O, no cookie
//! }
//!
//! let manager = SessionManager::new(MemoryStore::new());
//! let app: Router = Router::new()
//!     .route("/", get(counter))
//!     .route("/health", get(health))
//!     .layer(SessionLayer::new(manager));
//! ```

mod config;
#[cfg(feature = "axum")]
mod extract;
#[doc(hidden)]
pub mod fuzzing;
mod layer;
mod lazy;
mod service;
mod signing;

pub use config::{CookieConfig, DEFAULT_COOKIE_NAME};
#[cfg(feature = "axum")]
pub use extract::{MissingSessionLayer, SessionRejection};
pub use layer::{DeviceContext, SessionLayer, UnavailableHandler, user_agent_device};
pub use lazy::LazySession;
pub use service::SessionService;
pub use signing::{MIN_KEY_LEN, SigningKeys};
