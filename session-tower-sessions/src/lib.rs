//! tower-sessions' `SessionStore` over any store of this family.
//!
//! Applications built on tower-sessions' types (axum-login, Loco's and Leptos' axum integrations)
//! keep their code and gain these backends: MySQL and MariaDB, Redis Cluster, the bounded memory
//! store, SQLite, PostgreSQL, Redis with its client-side cache, or a third party's store that
//! passes the conformance kit. Wrap the store in a [`TowerSessionsStore`] and hand it to
//! `SessionManagerLayer::new`, where a tower-sessions store went before:
//!
//! ```no_run
//! # async fn app() -> Result<(), Box<dyn std::error::Error>> {
//! use session_tower_sessions::TowerSessionsStore;
//! use tower_sessions::SessionManagerLayer;
//!
//! let store = session_stores::connect("redis://127.0.0.1:6379").await?;
//! let layer = SessionManagerLayer::new(TowerSessionsStore::new(store.store()));
//! # let _ = layer; Ok(()) }
//! ```
//!
//! It is tower-sessions 0.14's trait, the release axum-login 0.18 and the stores of its
//! ecosystem use (tower-sessions 0.15's own Redis store still needs 0.14).
//!
//! # Example
//!
//! tower-sessions' `Session` over the memory store: one request saves, a later one loads.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//!
//! use session_store_memory::MemoryStore;
//! use session_tower_sessions::TowerSessionsStore;
//! use tower_sessions::Session;
//!
//! let store = Arc::new(TowerSessionsStore::new(Arc::new(MemoryStore::new())));
//!
//! let first = Session::new(None, store.clone(), None);
//! first.insert("cart", vec!["tea"]).await?;
//! first.save().await?;
//! let id = first.id().expect("saved, so it has an id");
//!
//! let later = Session::new(Some(id), store.clone(), None);
//! assert_eq!(later.get::<Vec<String>>("cart").await?, Some(vec!["tea".to_owned()]));
//! # Ok(()) }
//! ```
//!
//! # What a whole-record `save` keeps here, and what it cannot
//!
//! tower-sessions loads a session's whole record and saves it whole at the end of the request.
//! Its own stores write the record back as one value, so of two requests of one browser that
//! change different keys (a cart and a preference, say), the later save silently undoes the
//! earlier one. This adapter maps the record onto our per-key layout instead:
//!
//! - **Different keys never lose each other.** A loaded record remembers the data as it was
//!   loaded, and `save` writes only the keys its request changed or removed, in one atomic
//!   `update`. Keys another request wrote meanwhile stand.
//! - **A session that ended is never brought back.** `save` writes only into a live session: a
//!   request that was running while the user logged out (or while a login cycled the id, or the
//!   session expired) cannot recreate it. That save fails (tower-sessions answers 500) instead
//!   of reviving a logged-out session, which tower-sessions' own stores do.
//! - **A new id is claimed atomically.** `create` takes the id with a `compare_and_set`, so a
//!   live session is never overwritten by a colliding id.
//! - **Ids are hashed.** The store sees SHA-256 of the id (with a tag of this crate), never the
//!   cookie's value, so a leaked database or backup holds no usable cookie.
//! - **Expiry is the store's.** Every write moves the session's expiry in the store to the
//!   record's expiry date, and expired sessions are never loaded, whatever cleanup ran.
//!
//! What the whole-record model cannot give, and where to find it:
//!
//! - **The same key from two requests: the later save wins.** tower-sessions' `Session` reads and
//!   writes values, not operations. Counters and carts that must not lose updates use the store
//!   directly ([`TowerSessionsStore::store`], `incr`, `compare_and_set`), or `session-tower`.
//! - **Login leaves a gap.** tower-sessions' `cycle_id` deletes the old session at once and
//!   writes the new one when the response is saved. Other requests of the browser running
//!   meanwhile find no session (axum-login users appear logged out for that moment). The
//!   `SessionStore` trait has no call that would let an adapter close this; `session-tower`
//!   rotates with no gap and keeps the old token readable for a grace period.
//! - **Cleared means replaced.** After `Session::clear`, the save replaces the whole session, as
//!   tower-sessions' own stores do; a key another request set between that save's read and its
//!   write survives it.
//! - **No subject index, so no "log out everywhere".** tower-sessions knows no user; axum-login's
//!   session auth hash (a changed password ends the user's sessions on their next request) keeps
//!   working.
//! - **An outage is a 500, not a 503**, and the cross-site guard is not there: tower-sessions'
//!   layer decides both.
//! - **Cleanup**: the SQL stores' expired rows are deleted by their own cleanup
//!   (`session-stores` runs it), not by tower-sessions' `ExpiredDeletion`.
//!
//! The reserved key namespace (`__sys:`) is refused for application keys, as everywhere in this
//! family: a save with one fails with an encoding error and writes nothing. Inside a loaded
//! record, `Session::get("__sys:ts.loaded")` would answer the loaded copy this crate keeps; an
//! application never has a reason to ask for it.

mod error;
mod id;
mod record;
mod store;

pub use id::store_id;
pub use store::TowerSessionsStore;
