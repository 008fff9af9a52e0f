//! A session store on SQLite: the family's embedded default, with no server to run.
//!
//! SQLite is bundled (no system library needed). Work runs on tokio's blocking threads through a
//! small connection pool, never on an async worker. Files use WAL, a busy timeout, and `IMMEDIATE`
//! write transactions, so several store instances and several processes can share one file: each
//! operation is one statement or one transaction, writes queue on SQLite's write lock, and none
//! fails with `SQLITE_BUSY` by upgrading a read lock halfway. The WAL stays bounded under load:
//! a commit that finds it past [`WAL_RESTART_PAGES`] (16 MiB at 4 KiB pages) waits for readers
//! and starts it over, and a checkpoint cuts it back to [`JOURNAL_SIZE_LIMIT`].
//!
//! The store creates and migrates its own schema (versioned by `PRAGMA user_version`); expiry is
//! checked on every read, and an index on the expiry makes cleanup cheap. It implements
//! [`SubjectIndex`](session_core::SubjectIndex), [`ExpiredCleanup`](session_core::ExpiredCleanup)
//! and [`Enumerate`](session_core::Enumerate).
//!
//! # Layout
//!
//! - `config`: [`SqliteStoreBuilder`], [`Location`], the defaults.
//! - `store`: [`SqliteStore`] and its [`Store`](session_core::Store) implementation.
//! - `capability`: the capability implementations.
//! - `queries`: the SQL of each operation, on one connection.
//! - `schema`: the tables, migrations, and per-connection settings.
//! - `pool`: the connection pool that runs work off the async executor.
//! - `clock`: milliseconds since the epoch, as stored.
//! - `error`: the backend's errors and their [`StoreError`](session_core::StoreError) kinds.
//!
//! # Example: a file store with periodic cleanup
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use session_core::{Store, Token, spawn_cleanup, delete_all_expired};
//! use session_store_sqlite::SqliteStore;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("sessions.db");
//! let store = Arc::new(SqliteStore::open(&path).await?);
//!
//! let id = Token::generate()?.id();
//! store.set(&id, "user", "ada".into(), Duration::from_secs(3600)).await?;
//! assert_eq!(store.get(&id, "user", None).await?, Some("ada".into()));
//!
//! // Remove expired rows every minute, 1,000 per transaction, until the handle is dropped.
//! let cleanup = spawn_cleanup(store.clone(), Duration::from_secs(60), 1_000);
//! // Or once, now:
//! let removed = delete_all_expired(&*store, 1_000).await?;
//! println!("removed {removed} expired sessions");
//! cleanup.stop().await;
//! # Ok(()) }
//! ```

mod capability;
mod clock;
mod config;
mod error;
mod pool;
mod queries;
mod schema;
mod store;

pub use config::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_BUSY_TIMEOUT, DEFAULT_POOL_SIZE, Location, SqliteStoreBuilder,
};
pub use schema::{JOURNAL_SIZE_LIMIT, SCHEMA_VERSION, WAL_RESTART_PAGES};
pub use store::{MAX_VALUE_LEN, SqliteStore};
