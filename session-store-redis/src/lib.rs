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
//! # Client-side cache
//!
//! [`RedisStoreBuilder::client_cache`] (off by default; `?cache=10000` in a `session-stores`
//! URL) keeps session hashes in this process, so a read that does not touch (`get`,
//! `get_many`, `get_all` with `touch: None`, which is how the session manager reads) is
//! answered without a round trip. Redis keeps it coherent: a tracking connection of the store's
//! own (RESP3, `CLIENT TRACKING`; Redis 6 or later) receives an invalidation whenever any
//! client changes, deletes or expires a session this process has cached. Writes are unchanged:
//! every write goes to the server and is authoritative, and forgets the session here at once.
//!
//! **The coherence bound.** Once a change made through any instance has been answered, no
//! instance serves the value before it after [`DEFAULT_CACHE_STALENESS`] (100 ms;
//! [`RedisStoreBuilder::client_cache_staleness`]). A cached hash is served only while the
//! tracking connection has answered a command sent within the bound (a `PING` every half of it
//! keeps that so), and the server queues a write's invalidations before it answers the writer,
//! so every invalidation of a write answered before that command has been applied. In practice
//! an invalidation arrives within a millisecond (the two-instance test measures the worst
//! delay seen); the bound is what holds when the network or the server stalls. A session's
//! expiry is applied locally (never later than the server's); a tracking connection that drops
//! or stops answering empties the cache, and reads go to the server until a new one is up.
//! Through one instance, a read always sees that instance's own completed writes.
//!
//! **What the bound means for sessions.** A logout, a rotation or a revocation on one instance
//! may still be read as live on another for at most the bound; nothing written can be lost
//! (writes never come from the cache), and the session manager's checks that must see other
//! instances at once (the revocation epoch a login checks) use atomic operations, which never
//! come from the cache.
//!
//! **When to turn it on.** When sessions are read far more often than written (most page loads
//! only read the session) and the network round trip is a large part of a request. A miss
//! reads the whole hash (`HGETALL` and `PTTL`), so the next read of any key of that session is
//! a hit; a hash over [`MAX_CACHED_HASH_BYTES`] is never cached, and a session written a moment
//! ago is read from the server for 10 ms (a session written on nearly every request, such as a
//! counter, gains nothing from a cache and would only pay for refills). Memory: at most
//! `sessions` × [`MAX_CACHED_HASH_BYTES`], typically a few KB per session.
//!
//! **On a cluster** the store keeps a tracking connection to every master (a key's
//! invalidations come from the master that holds it) and reads each session through the one
//! that serves its slot, with the bound kept per master. When a read finds its slot moved
//! (`MOVED`, `ASK`: a resharding or a failover), or any tracking connection drops, the cache is
//! emptied and opened again on the new slot map. With a connection the application brings
//! ([`RedisStore::builder_with_manager`]) the store cannot open tracking connections of its
//! own, and `connect` refuses the cache.
//!
//! ```no_run
//! use session_store_redis::RedisStore;
//!
//! # async fn run() -> Result<(), session_core::StoreError> {
//! let store = RedisStore::builder("redis://127.0.0.1:6379")
//!     .client_cache(10_000)
//!     .connect()
//!     .await?;
//! let stats = store.cache_stats().expect("the cache is on");
//! println!("{} hits, {} misses", stats.hits, stats.misses);
//! # Ok(()) }
//! ```
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
//! - `cache`: the client-side cache (`entries`: the cached hashes; `tracking`: the tracking
//!   connection and its heartbeat).
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

pub use cache::{
    CacheStats, DEFAULT_CACHE_SESSIONS, DEFAULT_CACHE_STALENESS, MAX_CACHED_HASH_BYTES,
};
pub use config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_OPERATION_TIMEOUT, DEFAULT_PREFIX, RedisStoreBuilder,
};
pub use redis;
pub use store::{MAX_VALUE_LEN, RedisStore};
