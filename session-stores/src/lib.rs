//! Swap session storage by configuration: every backend of the family behind a cargo feature of
//! its name, and [`connect`] to turn a URL into a ready store.
//!
//! The store comes with every capability its backend has wired in (a [`SessionManager`] built by
//! [`ConnectedStore::manager`] gets the subject index, so listing and revoking a user's sessions
//! works on every backend), its migrations run, and its cleanup task started where it needs one.
//! The application's code stays the same from one store to the next: only the URL changes.
//!
//! | URL | feature | store |
//! |---|---|---|
//! | `memory://` (`?max_sessions=100000&shards=16`) | `memory` (default) | bounded in-memory LRU |
//! | `sqlite://sessions.db`, `sqlite:///abs/path.db`, `sqlite::memory:` (`?pool_size=4&busy_timeout=5s`) | `sqlite` | SQLite, bundled |
//! | `postgres://user@host/db` (`?schema=public&table=sessions`, and the driver's own options) | `postgres` | PostgreSQL |
//! | `mysql://user:pass@host/db`, `mariadb://...` (`?table=sessions`, and the driver's own options) | `mysql` | MySQL or MariaDB |
//! | `redis://host:6379/0`, `rediss://...` (`?prefix=session:`, `&cache=10000` for the client-side cache, `&cache_staleness=100ms`) | `redis` | Redis |
//! | `redis+cluster://host:7000,host:7001` (`?prefix=...`, `&cache=10000`, `&cache_staleness=100ms`) | `redis` | Redis Cluster |
//!
//! A URL whose backend's feature is off is [`ConnectError::FeatureDisabled`], naming the feature;
//! a malformed URL or option is a [`ConnectError`] naming what is wrong. No error or log repeats
//! the URL, so a password in it never leaks.
//!
//! The crate re-exports `session-core` whole, so `session_stores::SessionManager` and the rest
//! are at hand without a second dependency.
//!
//! # Layout
//!
//! - `target`: reading a URL into a backend and its options.
//! - `connect`: [`connect`], [`builder`] and [`ConnectBuilder`], [`ConnectedStore`], [`Cleanup`].
//! - `error`: [`ConnectError`].
//!
//! # Example: the store from an environment variable
//!
//! ```
//! use session_stores::{Config, connect};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // e.g. SESSION_STORE=postgres://app@db/app (with the `postgres` feature on)
//! let url = std::env::var("SESSION_STORE").unwrap_or_else(|_| "memory://".into());
//! let store = connect(&url).await?;
//! let manager = store.manager(Config::default())?;
//!
//! let session = manager.create()?;
//! let token = session.login("alice", serde_json::json!({ "name": "Alice" })).await?;
//! assert_eq!(manager.sessions_of("alice").await?.len(), 1);
//! assert_eq!(manager.revoke_all("alice").await?, 1);
//! assert!(manager.load(token.as_str()).await?.is_none());
//! # Ok(()) }
//! ```

// With no backend built in, nothing can be connected and the code that would use a store is
// compiled out; what is left unused then is not a mistake.
#![cfg_attr(
    not(any(
        feature = "memory",
        feature = "sqlite",
        feature = "postgres",
        feature = "mysql",
        feature = "redis"
    )),
    allow(unused_variables, unused_imports, dead_code)
)]

mod connect;
mod error;
mod target;

pub use connect::{Cleanup, ConnectBuilder, ConnectedStore, builder, connect};
pub use error::ConnectError;
pub use session_core::*;
