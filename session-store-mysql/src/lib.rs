//! A session store on MySQL and MariaDB, through `sqlx`.
//!
//! One row per session: its keys live in one JSON object in the row, each value kept as its exact
//! JSON text, and a write changes them with `JSON_MERGE_PATCH` in the statement that locks the
//! row. So a `set`, `del`, `set_many` or `update` is one statement and one round trip, writers to
//! different keys of one session never lose each other (the row lock serializes them, in the
//! database, across every process), a new session never overwrites a live one, and a `set` on an
//! expired session starts it empty. `incr` and a `compare_and_set` that may create the session
//! read and write under the row lock in one transaction; a `compare_and_set` of a present value is
//! one conditional `UPDATE`. That transaction is 4 statements for `incr_live` (`BEGIN`,
//! `SELECT ... FOR UPDATE`, `UPDATE`, `COMMIT`) and 5 for an `incr` that may create the session
//! (an `INSERT ... ON DUPLICATE KEY UPDATE` first). PostgreSQL does it in one call to a function
//! its schema creates; here it stays a transaction on purpose: neither MySQL nor MariaDB has
//! `UPDATE ... RETURNING`, so a lone `UPDATE` cannot answer the new value, and a stored routine
//! would need `CREATE ROUTINE` (and, on MySQL with binary logging, `log_bin_trust_function_creators`
//! for a function), which managed databases often withhold from the application's user. Counters
//! are correct either way (the row lock serializes them); only their latency is higher.
//! Expiry is on the database server's clock (`UTC_TIMESTAMP`), so
//! neither app servers' clocks nor the connection's `time_zone` matter. Tables and columns are
//! `utf8mb4` with binary collation: every key and value round-trips, and keys compare exactly.
//!
//! It implements [`SubjectIndex`](session_core::SubjectIndex),
//! [`ExpiredCleanup`](session_core::ExpiredCleanup) (an unlocked pick of expired ids, then a
//! delete by primary key that checks expiry again: no gap locks, so cleaners and writers never
//! deadlock) and [`Enumerate`](session_core::Enumerate). A down server or an exhausted pool is
//! [`StoreError::Unavailable`](session_core::StoreError::Unavailable) within the acquire timeout.
//!
//! Tested with MariaDB 10.11 (`scripts/test`, on every run). The SQL is the common subset of
//! MySQL 8 and MariaDB 10.5 and later (`JSON_MERGE_PATCH`, `JSON_EXTRACT`, `JSON_QUOTE`,
//! `INSERT ... ON DUPLICATE KEY UPDATE`); one difference is handled: MariaDB's
//! `max_statement_time` bounds every statement on the server, while MySQL's `max_execution_time`
//! covers reads only, so on MySQL a write is bounded on the server by `innodb_lock_wait_timeout`
//! alone.
//!
//! # Layout
//!
//! - `config`: [`MySqlStoreBuilder`] and the defaults.
//! - `store`: [`MySqlStore`] and its [`Store`](session_core::Store) implementation.
//! - `capability`: the capability implementations.
//! - `queries`: the SQL of each operation.
//! - `schema`: the tables and migrations.
//! - `error`: the backend's errors and their [`StoreError`](session_core::StoreError) kinds.
//!
//! # Example: connect, migrate, clean up
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use session_core::{Store, Token, spawn_cleanup};
//! use session_store_mysql::MySqlStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(MySqlStore::connect("mysql://root@127.0.0.1:3306/test").await?);
//! store.migrate().await?;
//!
//! let id = Token::generate()?.id();
//! store.set(&id, "user", "ada".into(), Duration::from_secs(3600)).await?;
//! assert_eq!(store.get(&id, "user", None).await?, Some("ada".into()));
//!
//! // Delete expired rows every minute, 1,000 per statement, while the handle lives.
//! let cleanup = spawn_cleanup(store.clone(), Duration::from_secs(60), 1_000);
//! # cleanup.stop().await;
//! # Ok(()) }
//! ```
//!
//! Bring your own pool with `MySqlStore::builder().build(pool)`; `sqlx` is re-exported so the
//! versions match.

mod capability;
mod config;
mod error;
mod queries;
mod schema;
mod store;

pub use config::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_OPERATION_TIMEOUT, DEFAULT_TABLE,
    MySqlStoreBuilder,
};
pub use schema::SCHEMA_VERSION;
pub use sqlx;
pub use store::{MAX_VALUE_LEN, MySqlStore};
