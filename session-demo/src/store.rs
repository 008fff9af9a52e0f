//! Choosing the backend from a command-line spec: the one line that differs between backends.

use std::sync::Arc;
use std::time::Duration;

use session_core::{Config, SessionError, SessionManager, spawn_cleanup};
use session_store_memory::MemoryStore;
use session_store_postgres::PostgresStore;
use session_store_redis::RedisStore;
use session_store_sqlite::SqliteStore;

/// The default store: a SQLite file in the working directory, no server needed.
pub const DEFAULT_STORE: &str = "sqlite:session-demo.db";

/// Builds a manager for `spec`: `sqlite:<path>`, `sqlite::memory:`, `memory`,
/// `redis://...`, `redis+cluster://host:port,host:port`, or `postgres://...`.
///
/// # Errors
/// An unknown spec, or a store that cannot be opened or reached.
pub async fn manager_for(spec: &str, config: Config) -> Result<SessionManager, SessionError> {
    let every = Duration::from_secs(60);
    let manager = if spec == "memory" {
        SessionManager::builder(MemoryStore::new())
            .config(config)
            .subject_index()
            .build()?
    } else if let Some(path) = spec.strip_prefix("sqlite:") {
        let store = if path == ":memory:" {
            SqliteStore::open_in_memory().await?
        } else {
            SqliteStore::open(path).await?
        };
        let store = Arc::new(store);
        spawn_cleanup(store.clone(), every, 1000).detach();
        SessionManager::builder_from_arc(store)
            .config(config)
            .subject_index()
            .build()?
    } else if let Some(nodes) = spec.strip_prefix("redis+cluster://") {
        let nodes = nodes.split(',').map(|n| format!("redis://{n}"));
        let store = RedisStore::cluster_builder(nodes).connect().await?;
        SessionManager::builder(store)
            .config(config)
            .subject_index()
            .build()?
    } else if spec.starts_with("redis://") {
        SessionManager::builder(RedisStore::connect(spec).await?)
            .config(config)
            .subject_index()
            .build()?
    } else if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        let store = Arc::new(PostgresStore::connect(spec).await?);
        store.migrate().await?;
        spawn_cleanup(store.clone(), every, 1000).detach();
        SessionManager::builder_from_arc(store)
            .config(config)
            .subject_index()
            .build()?
    } else {
        return Err(SessionError::Config(format!(
            "unknown store {spec:?}: use sqlite:<path>, memory, redis://..., redis+cluster://..., or postgres://..."
        )));
    };
    Ok(manager)
}
