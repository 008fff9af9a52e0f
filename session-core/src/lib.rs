//! The core of the session-store family: the [`Store`] contract every backend keeps, the optional
//! capability traits, errors, the token and id types, and the session manager.
//!
//! # Layout
//!
//! - `store`: the [`Store`] trait and its contract, [`Change`], [`Map`], [`Value`].
//! - `capability`: the optional traits [`SubjectIndex`], [`ExpiredCleanup`], [`Enumerate`].
//! - `cleanup`: running [`ExpiredCleanup`] to completion, once ([`delete_all_expired`]) or on a
//!   periodic task ([`spawn_cleanup`]).
//! - `error`: [`StoreError`], the one error every store returns, and [`TokenError`].
//! - `token`: [`Token`], the client's 256-bit secret, generated and strictly parsed.
//! - `id`: [`SessionId`] (`SHA-256` of a token), what stores see, and its log-safe [`ShortId`].
//! - `validate`: the contract's limits and the one function each for keys, subjects and TTLs.
//! - `sessions/`: sessions and their policy: [`SessionManager`], [`Session`], [`Config`],
//!   [`SessionInfo`], events ([`Event`], [`PersistHook`]) and [`SessionError`]; one file each
//!   for the config, the session handle, the manager, live sessions, metadata and events.
//!
//! # Tokens and ids
//!
//! A token goes to the client; stores only see its id.
//!
//! ```
//! use session_core::{Token, validate_key, KeyKind};
//!
//! let token = Token::generate().expect("OS randomness");
//! let cookie_value = token.as_str().to_owned();
//!
//! // Later, from an untrusted request:
//! let parsed = Token::parse(&cookie_value).expect("a token we issued");
//! assert_eq!(parsed.id(), token.id());
//! assert!(Token::parse("not-a-token").is_err());
//!
//! // Application keys cannot reach the reserved namespace.
//! assert!(validate_key("cart", KeyKind::User).is_ok());
//! assert!(validate_key("__sys:meta", KeyKind::User).is_err());
//! println!("session {} created", token.id().short());
//! ```
//!
//! # Sessions, request/response style (web)
//!
//! Load by token at the start of a request, read and write typed values, save once at the end:
//! only the changed keys go to the store, in one `set_many`, and a request that changed nothing
//! writes nothing (beyond a throttled touch). Log in with [`Session::login`]: one call that
//! gives the session a new token and binds the user to it alone, so a token planted before login
//! gains nothing; list and revoke a user's sessions on the manager.
//!
//! ```
//! use std::time::Duration;
//! use session_core::{Config, SessionManager};
//! use session_store_memory::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::SessionError> {
//! let config = Config::builder()
//!     .idle_timeout(Duration::from_secs(30 * 60))
//!     .absolute_lifetime(Duration::from_secs(24 * 60 * 60))
//!     .build()?;
//! let manager = SessionManager::builder(MemoryStore::new()).config(config).subject_index().build()?;
//!
//! // First request: a new session, stored once it holds something.
//! let session = manager.create_with(Some("Firefox on Linux".into()), None)?;
//! session.set("theme", "dark")?;
//! session.save().await?;
//!
//! // Login: a new token, bound to the user; the old one is anonymous and read-only.
//! let session = manager.load(session.token().as_str()).await?.expect("live");
//! let token = session.login("alice", serde_json::json!({ "name": "Alice" })).await?;
//! // send `token` back to the client (the HTTP layer does it in the same response)
//!
//! // The user's devices, and logging out everywhere:
//! let devices = manager.sessions_of("alice").await?;
//! assert_eq!(devices[0].device.as_deref(), Some("Firefox on Linux"));
//! assert_eq!(manager.revoke_all("alice").await?, 1);
//! assert!(manager.load(token.as_str()).await?.is_none());
//! # Ok(()) }
//! ```
//!
//! # Live sessions, connection style (game servers, WebSockets)
//!
//! A live session stays in the manager's registry under an application key; every connection of
//! it shares one handle. Changes persist on an interval, on named events, on
//! [`Session::persist_now`], and when the session or the manager ends; a [`PersistHook`] lets the
//! application save its own state at those moments.
//!
//! ```
//! use session_core::{async_trait, BoxError, Config, PersistHook, PersistReason, Session, SessionManager};
//! use session_store_memory::MemoryStore;
//!
//! struct SaveToGameDb;
//!
//! #[async_trait]
//! impl PersistHook for SaveToGameDb {
//!     async fn persist(&self, session: &Session, reason: PersistReason) -> Result<(), BoxError> {
//!         let gold: Option<u64> = session.get("gold")?;
//!         println!("{reason:?}: write gold={gold:?} to the game database");
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::SessionError> {
//! let manager = SessionManager::builder(MemoryStore::new())
//!     .config(Config::builder().persist_every("30s").persist_on(["disconnect", "shutdown"]).build()?)
//!     .persist_hook(SaveToGameDb)
//!     .build()?;
//! let mut events = manager.subscribe();
//!
//! let session = manager.create_live("player-7")?;
//! session.start();
//! session.set("gold", &100u64)?;
//!
//! // A second connection of the same player finds the same session:
//! let same = manager.find_by_key("player-7").expect("live");
//! same.set("gold", &150u64)?;
//!
//! assert!(session.will_persist_on("disconnect"));
//! session.notify("disconnect").await?; // Persist event, the hook, then the store
//! manager.shutdown(true).await?; // destroys every live session, persisting each first
//! while let Ok(event) = events.try_recv() {
//!     println!("{:?} {:?}", event.session, event.kind);
//! }
//! # Ok(()) }
//! ```

mod capability;
mod cleanup;
mod error;
mod id;
mod sessions;
mod store;
mod token;
mod validate;

pub use async_trait::async_trait;
pub use capability::{Enumerate, ExpiredCleanup, SubjectIndex};
pub use cleanup::{
    CleanupTask, DEFAULT_CLEANUP_BATCH, DEFAULT_CLEANUP_INTERVAL, delete_all_expired, spawn_cleanup,
};
pub use error::{BoxError, StoreError, TokenError};
pub use id::{SESSION_ID_LEN, SessionId, ShortId};
pub use sessions::{
    Config, ConfigBuilder, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_KEYS, DEFAULT_MAX_VALUE_BYTES,
    DEFAULT_PERSIST_EVENTS, DEFAULT_PERSIST_INTERVAL, DEFAULT_ROTATION_GRACE,
    DEFAULT_TOUCH_INTERVAL, Event, EventKind, PersistHook, PersistReason, Session, SessionError,
    SessionInfo, SessionManager, SessionManagerBuilder,
};
pub use store::{Change, Map, Store, Value};
pub use token::{RandomnessError, TOKEN_BYTES, TOKEN_LEN, Token};
pub use validate::{
    KeyKind, MAX_KEY_LEN, MAX_SUBJECT_LEN, MAX_TTL, RESERVED_KEY_PREFIX, validate_key,
    validate_subject, validate_ttl,
};
