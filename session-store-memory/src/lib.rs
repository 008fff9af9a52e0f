//! A bounded, sharded, in-memory LRU session store with per-session TTL, for one process: tests,
//! demos, and single-instance apps.
//!
//! # Layout
//!
//! - `config`: [`MemoryStoreBuilder`], the settings and their defaults.
//! - `store`: [`MemoryStore`] and its [`Store`](session_core::Store) implementation.
//! - `shard`: one LRU shard behind its lock, lazy expiry, eviction.
//! - `bound`: the store-wide bound on sessions.
//! - `subjects`: the subject index behind [`SubjectIndex`](session_core::SubjectIndex).
//! - `sync`: locking.
//! - `capability`: the [`SubjectIndex`](session_core::SubjectIndex) and
//!   [`Enumerate`](session_core::Enumerate) implementations.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use session_core::{Store, Token};
//! use session_store_memory::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::StoreError> {
//! let store = MemoryStore::builder().max_sessions(10_000).build()?;
//! let id = Token::generate().expect("OS randomness").id();
//!
//! store.set(&id, "visits", 1.into(), Duration::from_secs(60)).await?;
//! assert_eq!(store.get(&id, "visits", None).await?, Some(1.into()));
//! store.del_all(&id).await?;
//! assert_eq!(store.get_all(&id, None).await?, None);
//! # Ok(())
//! # }
//! ```

mod bound;
mod capability;
mod config;
mod shard;
mod store;
mod subjects;
mod sync;

pub use config::{DEFAULT_MAX_SESSIONS, DEFAULT_SHARDS, MemoryStoreBuilder};
pub use store::MemoryStore;
