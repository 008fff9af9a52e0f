//! What the manager tests share: real stores (memory, in-process SQLite), counted with the
//! workspace's `CountingStore`, and one test per backend.

#![allow(dead_code)] // each test file uses part of it

use std::sync::Arc;
use std::time::Duration;

use session_core::{Config, SessionManager, Store, SubjectIndex};
use session_store_memory::MemoryStore;
use session_store_sqlite::SqliteStore;
pub use session_test_support::{CountingStore, Counts};

/// Which real store a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Memory,
    Sqlite,
}

/// A manager over a fresh real store, counted, with the subject index.
pub async fn manager(backend: Backend, config: Config) -> (SessionManager, Arc<Counts>) {
    match backend {
        Backend::Memory => counted(MemoryStore::new(), config),
        Backend::Sqlite => counted(SqliteStore::open_in_memory().await.expect("sqlite"), config),
    }
}

fn counted<S: Store + SubjectIndex>(store: S, config: Config) -> (SessionManager, Arc<Counts>) {
    let (store, counts) = CountingStore::new(store);
    let manager = SessionManager::builder(store)
        .config(config)
        .subject_index()
        .build()
        .expect("manager");
    (manager, counts)
}

/// A manager over a fresh real store with the subject index, and the store itself, for tests
/// that check what is stored by id.
pub async fn manager_and_store(
    backend: Backend,
    config: Config,
) -> (SessionManager, Arc<dyn Store>) {
    match backend {
        Backend::Memory => sharing(MemoryStore::new(), config),
        Backend::Sqlite => sharing(SqliteStore::open_in_memory().await.expect("sqlite"), config),
    }
}

fn sharing<S: Store + SubjectIndex>(store: S, config: Config) -> (SessionManager, Arc<dyn Store>) {
    let store = Arc::new(store);
    let manager = SessionManager::builder_from_arc(store.clone())
        .config(config)
        .subject_index()
        .build()
        .expect("manager");
    (manager, store)
}

/// Two managers over one real store, as two app instances would share it (the memory store in
/// one process, or one SQLite file opened twice).
pub async fn two_managers(
    backend: Backend,
    config: Config,
    dir: &std::path::Path,
) -> (SessionManager, SessionManager) {
    match backend {
        Backend::Memory => {
            let store = Arc::new(MemoryStore::new());
            (over(store.clone(), config.clone()), over(store, config))
        }
        Backend::Sqlite => {
            let path = dir.join("shared.db");
            let a = SqliteStore::open(&path).await.expect("sqlite");
            let b = SqliteStore::open(&path).await.expect("sqlite");
            (over(Arc::new(a), config.clone()), over(Arc::new(b), config))
        }
    }
}

/// A manager with the subject index over a store already shared.
pub fn over<S: Store + SubjectIndex>(store: Arc<S>, config: Config) -> SessionManager {
    SessionManager::builder_from_arc(store)
        .config(config)
        .subject_index()
        .build()
        .expect("manager")
}

/// Runs `check` until it holds or `within` passes; returns whether it held.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Defines one `#[tokio::test]` per backend for an `async fn(Backend)`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::support::Backend::Memory).await } )*
        }
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::support::Backend::Sqlite).await } )*
        }
    };
}
