//! A session store on PostgreSQL, through `sqlx`.
//!
//! One row per session, its keys in one `jsonb` document. Every operation is one statement, so
//! one round trip: reads are plain `SELECT`s (or an `UPDATE ... RETURNING` when they touch); a
//! write is one `INSERT ... ON CONFLICT DO UPDATE` (or `UPDATE`) that removes and sets just its
//! keys (`-` and `||`) in the row it locks; `incr` and `compare_and_set` call a function that
//! locks the row first. So concurrent writers to different keys of one session never lose each
//! other, a new session never overwrites a live one, a `set` on an expired session starts it
//! empty, and a removal never interleaves with a write. Expiry uses the database server's clock
//! (`now()`), checked on every read, with an index for cleanup; `timestamptz` makes it independent
//! of the session `TimeZone`. Each value is kept as its JSON text, so every JSON value (strings
//! with NUL included, `u64::MAX`) round-trips exactly.
//!
//! It implements [`SubjectIndex`](session_core::SubjectIndex),
//! [`ExpiredCleanup`](session_core::ExpiredCleanup) (batches with `FOR UPDATE SKIP LOCKED`, so
//! app instances cleaning at once never wait on each other) and
//! [`Enumerate`](session_core::Enumerate). A down server or an exhausted pool is
//! [`StoreError::Unavailable`](session_core::StoreError::Unavailable) within the acquire timeout.
//!
//! # Layout
//!
//! - `config`: [`PostgresStoreBuilder`] and the defaults.
//! - `store`: [`PostgresStore`] and its [`Store`](session_core::Store) implementation.
//! - `capability`: the capability implementations.
//! - `queries`: the SQL of each operation.
//! - `schema`: the table, functions and migrations.
//! - `error`: the backend's errors and their [`StoreError`](session_core::StoreError) kinds.
//!
//! # Example: connect, migrate, clean up
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use session_core::{Store, Token, spawn_cleanup};
//! use session_store_postgres::PostgresStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(PostgresStore::connect("postgres://postgres@127.0.0.1/postgres").await?);
//! store.migrate().await?;
//!
//! let id = Token::generate()?.id();
//! store.set(&id, "user", "ada".into(), Duration::from_secs(3600)).await?;
//!
//! // Delete expired rows every minute, 1,000 per statement, while the handle lives.
//! let cleanup = spawn_cleanup(store.clone(), Duration::from_secs(60), 1_000);
//! # cleanup.stop().await;
//! # Ok(()) }
//! ```
//!
//! Bring your own pool with `PostgresStore::builder().build(pool)`; `sqlx` is re-exported so the
//! versions match. Build that pool from
//! [`PostgresStoreBuilder::statement_timeout`]'s connection options: without a server-side
//! `statement_timeout`, a write that timed out on the client while waiting on a lock still runs
//! once the lock is released, so an operation reported as failed would take effect.

mod capability;
mod config;
mod error;
mod queries;
mod schema;
mod store;

pub use config::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_OPERATION_TIMEOUT, DEFAULT_SCHEMA,
    DEFAULT_TABLE, PostgresStoreBuilder,
};
pub use schema::SCHEMA_VERSION;
pub use sqlx;
pub use store::{MAX_VALUE_LEN, PostgresStore};
