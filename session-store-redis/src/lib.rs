//! A session store on Redis or Redis Cluster, through the `redis` crate.
//!
//! Each session is one Redis hash, `<prefix>{<session id>}`: one field per key, JSON values, and
//! the session's expiry on the key itself, so Redis expires it and expired data can never be read.
//! The session id is the key's hash tag, so everything about one session lives in one cluster
//! slot. Every operation is one round trip: a plain command (`HGET`, `HGETALL`, `DEL`, `PEXPIRE`)
//! or a script for the multi-step ones, which sets the expiry in the same atomic step as the
//! write, so no session key ever exists without an expiry.
//!
//! Standalone Redis goes through a `ConnectionManager`, which reconnects by itself after the server
//! restarts; Redis Cluster through the cluster-async connection. Both sit behind one
//! [`RedisStore`]. Failures to reach the server, and operations past the configured timeout, are
//! [`StoreError::Unavailable`](session_core::StoreError::Unavailable).
//!
//! It implements [`SubjectIndex`](session_core::SubjectIndex) (a sorted set per subject, in its
//! own slot) and [`Enumerate`](session_core::Enumerate) (a `SCAN` of the prefix's session keys on
//! every master, in steps of a thousand keys: its cost grows with every key on the server, so
//! it is for operators' tools and occasional counts, not for every request). Redis expires sessions itself, so there is no `ExpiredCleanup`; a subject's index
//! cannot expire with them (its sessions extend themselves, and a revocation must find every
//! one), so each bind sweeps a few indexes whose sessions have all ended, found through a
//! registry of subjects scored by when their sessions expire: the indexes of users who never
//! return are removed at the first bind after their last session expired, and an index with a
//! live session never is.
//!
//! # Layout
//!
//! - `config`: [`RedisStoreBuilder`] and the defaults.
//! - `store`: [`RedisStore`] and its [`Store`](session_core::Store) implementation.
//! - `capability`: the [`SubjectIndex`](session_core::SubjectIndex) implementation.
//! - `enumerate`: the [`Enumerate`](session_core::Enumerate) implementation (`SCAN`).
//! - `sweep`: removing the subject indexes of users who never return.
//! - `script`: the Lua scripts.
//! - `keys`: key and field names.
//! - `connection`: one connection type over standalone and cluster.
//! - `error`: the backend's errors and their [`StoreError`](session_core::StoreError) kinds.
//!
//! # Example: standalone and cluster
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use session_core::{Store, Token};
//! use session_store_redis::RedisStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::connect("redis://127.0.0.1:6379").await?;
//!
//! let cluster = RedisStore::cluster_builder([
//!     "redis://127.0.0.1:7000",
//!     "redis://127.0.0.1:7001",
//!     "redis://127.0.0.1:7002",
//! ])
//! .prefix("myapp:")
//! .operation_timeout(Duration::from_millis(500))
//! .connect()
//! .await?;
//!
//! let id = Token::generate()?.id();
//! for store in [&store, &cluster] {
//!     store.set(&id, "user", "ada".into(), Duration::from_secs(3600)).await?;
//!     assert_eq!(store.get(&id, "user", None).await?, Some("ada".into()));
//! }
//! # Ok(()) }
//! ```
//!
//! `redis` is re-exported so a `ConnectionManager` you bring
//! ([`RedisStore::builder_with_manager`]) has the same version.

mod cache;
mod capability;
mod config;
mod connection;
mod enumerate;
mod error;
mod keys;
mod script;
mod store;
mod sweep;

pub use cache::{CacheStats, DEFAULT_CACHE_SESSIONS, DEFAULT_CACHE_STALENESS};
pub use config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_OPERATION_TIMEOUT, DEFAULT_PREFIX, RedisStoreBuilder,
};
pub use redis;
pub use store::{MAX_VALUE_LEN, RedisStore};
