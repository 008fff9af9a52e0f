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
//! - `json`: the canonical JSON text stores keep values in, and the increment rule.
//! - `document`: the session document of the SQL stores' one-row layout ([`DocumentEdit`],
//!   [`document_member`], [`decode_document`]), shared so every SQL store reads the same layout.
//! - `validate`: the contract's limits and the one function each for keys, subjects and TTLs.
//! - `sessions/`: sessions and their policy: [`SessionManager`], [`Session`], [`Config`],
//!   [`SessionInfo`], events ([`Event`], [`PersistHook`]) and [`SessionError`]; one file each
//!   for the config, the session handle, the manager, live sessions, metadata and events, and
//!   `rotation` (the claimed rotation protocol) beside `grace` (where a rotated-out token's
//!   copy lives) and `open` (finding the session a token names, through a rotation).
//!
//! # Rotation and renewal under concurrency
//!
//! Login, [`Session::rotate`] and automatic renewal ([`ConfigBuilder::renew_after`]) move a
//! session to a new id with no moment in which a valid presented token finds nothing, however
//! many requests of one browser race them, on any number of instances: the rotation is claimed
//! first (a record created under the old id's grace id with `compare_and_set` expecting it
//! absent: one winner), then the session is taken out of the old id atomically and written
//! under the new one, then the record is finished. A request that finds the old id empty finds
//! the record and waits for the move. A renewal mints exactly one new id: its record holds a
//! nonce from which every holder of the old token computes the same new token, so racing
//! requests carry on in the renewed session (read, write, `incr`) and the HTTP layer answers
//! them with the new cookie. After a login the old token only reads a copy of the pre-login
//! session for the rotation grace. A request racing a logout finds the session ended
//! ([`SessionError::Destroyed`]), never an error of the store.
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
//! A live session stays in the manager's registry, loaded whole; every connection of it shares
//! one handle and sees the others' unsaved changes at once. A connection finds it by an
//! application key ([`SessionManager::find_by_key`]) or resumes it by its token
//! ([`SessionManager::resume`]: every tab and WebSocket of one browser, and after a restart too,
//! loaded from any persistent store). The persistence hook runs at most an interval apart for
//! every live session (or only for those with changes: [`ConfigBuilder::persist_only_dirty`]), on
//! named events such as `disconnect`, and on [`Session::persist_now`]. Observers get the handle
//! with each event ([`SessionManager::on`], [`Event::handle`]). [`SessionManager::shutdown`]
//! persists and releases the live sessions; it never ends them: a deploy is not a logout.
//!
//! ```
//! use session_core::{async_trait, BoxError, Config, EventKind, PersistHook, PersistReason, Session, SessionManager};
//! use session_store_memory::MemoryStore;
//!
//! struct SaveToGameDb;
//!
//! #[async_trait]
//! impl PersistHook for SaveToGameDb {
//!     async fn persist(&self, session: &Session, reason: PersistReason) -> Result<(), BoxError> {
//!         let gold: Option<u64> = session.get("gold").await?;
//!         println!("{reason:?}: write gold={gold:?} to the game database");
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::SessionError> {
//! let manager = SessionManager::builder(MemoryStore::new())
//!     .config(Config::builder().persist_every("30s").build()?) // the hook runs every 30 s
//!     .persist_hook(SaveToGameDb)
//!     .build()?;
//! // cagey's `manager.on('started', session => ...)`: one closure, with the handle.
//! manager.on(|event| {
//!     if let (EventKind::Started, Some(session)) = (&event.kind, &event.handle) {
//!         session.set_local("client", format!("connection of {}", session.id().short()));
//!     }
//! });
//!
//! let session = manager.create_live("player-7")?;
//! session.start();
//! session.set("gold", &100u64)?;
//! session.persist_now().await?; // the hook, then the changed keys
//! let token = session.token(); // what the client keeps
//!
//! // A second connection of the same player, by key or by token, shares the handle:
//! let same = manager.resume(token.as_str()).await?.expect("live");
//! same.set("gold", &150u64)?;
//! assert_eq!(session.get::<u64>("gold").await?, Some(150));
//!
//! session.notify("disconnect").await?; // Persist event, the hook, then the store
//! manager.shutdown(true).await?; // persists and releases every live session; logs nobody out
//! let after_deploy = manager.resume(token.as_str()).await?.expect("still there");
//! assert_eq!(after_deploy.get::<u64>("gold").await?, Some(150));
//! # Ok(()) }
//! ```
//!
//! # The seed libraries' concepts, here
//!
//! | seed | concept | here |
//! |---|---|---|
//! | cagey-sessions | `manager.on('started', session => ...)` | [`SessionManager::on`] with [`Event::handle`] |
//! | cagey-sessions | persistence interval, `persist` hook, `shutdown` | [`Config::persist_interval`] (a maximum time between persists), [`PersistHook`], [`SessionManager::shutdown`] (persist and release, never delete) |
//! | cagey-sessions | `session.set(key, anything)` (in-process) | [`Session::set_local`], [`Session::local`] |
//! | cagey-sessions | `session.getUserData()` | [`Session::user_data`] |
//! | webgram-sessions | resume a session by token from every connection | [`SessionManager::resume`] |
//! | webgram-sessions | `$save` event | [`EventKind::Saved`] |
//! | UserSessionManager | `create(subject, context, ttl)` | [`SessionManager::create_with`] then [`Session::login`] and [`Session::set_idle_timeout`] |
//! | UserSessionManager | token renewal after an age | [`ConfigBuilder::renew_after`] |
//! | UserSessionManager | previous and latest visit | [`SessionInfo::previous_visit`], [`SessionInfo::latest_visit`] |
//! | generic-session | `MemoryStore` with `max`/`maxAge` | `session-store-memory`'s `max_sessions` (a bound on the whole store) and `max_age` |

mod capability;
mod cleanup;
mod document;
mod error;
mod id;
mod json;
mod observe;
mod sessions;
mod store;
mod token;
mod validate;

pub use async_trait::async_trait;
pub use capability::{Enumerate, ExpiredCleanup, SubjectIndex};
pub use cleanup::{
    CleanupTask, DEFAULT_CLEANUP_BATCH, DEFAULT_CLEANUP_INTERVAL, delete_all_expired, spawn_cleanup,
};
pub use document::{
    DocumentEdit, DocumentError, decode_document, decode_listed, decode_members, decode_value,
    document_key, document_member,
};
pub use error::{BoxError, ErrorKind, StoreError, TokenError, error_chain};
pub use id::{SESSION_ID_LEN, SessionId, ShortId};
pub use json::{canonical_json, canonical_json_within, incremented};
pub use observe::{Metrics, ObservedStore, SessionCount, StoreOp};
pub use sessions::{
    Config, ConfigBuilder, DEFAULT_ANONYMOUS_IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_KEYS,
    DEFAULT_MAX_VALUE_BYTES, DEFAULT_PERSIST_EVENTS, DEFAULT_PERSIST_INTERVAL,
    DEFAULT_RELEASE_RESUMED_AFTER, DEFAULT_ROTATION_GRACE, DEFAULT_TOUCH_INTERVAL, Event,
    EventKind, PersistHook, PersistReason, Session, SessionError, SessionInfo, SessionManager,
    SessionManagerBuilder,
};
pub use store::{Change, Map, Store, Value};
pub use token::{RandomnessError, TOKEN_BYTES, TOKEN_LEN, Token};
pub use validate::{
    KeyKind, MAX_KEY_LEN, MAX_SUBJECT_LEN, MAX_TTL, RESERVED_KEY_PREFIX, validate_key,
    validate_subject, validate_ttl,
};
