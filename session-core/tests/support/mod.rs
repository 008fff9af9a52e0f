//! What the manager tests share: real stores (memory, a SQLite file), and a wrapper that counts
//! what reaches the store. The wrapper forwards every call to the real store; it fakes nothing.

#![allow(dead_code)] // each test file uses part of it

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use session_core::{
    Change, Config, Map, SessionId, SessionManager, Store, StoreError, SubjectIndex, Value,
    async_trait,
};
use session_store_memory::MemoryStore;
use session_store_sqlite::SqliteStore;

/// Counts the operations that reach the store, and records each `set_many` batch's keys.
pub struct Counting {
    pub inner: Arc<dyn IndexedStore>,
    pub reads: AtomicUsize,
    pub writes: AtomicUsize,
    pub batches: Mutex<Vec<Vec<String>>>,
}

impl Counting {
    pub fn new(inner: Arc<dyn IndexedStore>) -> Self {
        Self {
            inner,
            reads: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
            batches: Mutex::new(Vec::new()),
        }
    }

    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    pub fn operations(&self) -> usize {
        self.reads() + self.writes()
    }

    pub fn last_batch(&self) -> Vec<String> {
        self.batches
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }
}

#[async_trait]
impl Store for Counting {
    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> Result<Option<Value>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get(id, key, touch).await
    }
    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> Result<Option<Map>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get_all(id, touch).await
    }
    async fn set(
        &self,
        id: &SessionId,
        key: &str,
        value: Value,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.set(id, key, value, ttl).await
    }
    async fn del(&self, id: &SessionId, key: &str, ttl: Duration) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.del(id, key, ttl).await
    }
    async fn del_all(&self, id: &SessionId) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.del_all(id).await
    }
    async fn extend(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.extend(id, ttl).await
    }
    async fn set_many(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.batches
            .lock()
            .unwrap()
            .push(changes.iter().map(|c| c.key().to_owned()).collect());
        self.inner.set_many(id, changes, ttl).await
    }
    async fn update(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.batches
            .lock()
            .unwrap()
            .push(changes.iter().map(|c| c.key().to_owned()).collect());
        self.inner.update(id, changes, ttl).await
    }
}

#[async_trait]
impl SubjectIndex for Counting {
    async fn bind_subject(&self, id: &SessionId, subject: &str) -> Result<bool, StoreError> {
        self.inner.bind_subject(id, subject).await
    }
    async fn subject_sessions(&self, subject: &str) -> Result<Vec<SessionId>, StoreError> {
        self.inner.subject_sessions(subject).await
    }
    async fn revoke_subject(&self, subject: &str) -> Result<u64, StoreError> {
        self.inner.revoke_subject(subject).await
    }
}

/// Which real store a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Memory,
    Sqlite,
}

/// A manager over a counting wrapper of a fresh real store, with the subject index.
pub async fn manager(backend: Backend, config: Config) -> (SessionManager, Arc<Counting>) {
    let store: Arc<dyn IndexedStore> = match backend {
        Backend::Memory => Arc::new(MemoryStore::new()),
        Backend::Sqlite => Arc::new(SqliteStore::open_in_memory().await.expect("sqlite")),
    };
    let counting = Arc::new(Counting::new(store));
    let manager = SessionManager::builder_from_arc(counting.clone())
        .config(config)
        .subject_index()
        .build()
        .expect("manager");
    (manager, counting)
}

/// A store with a subject index, as one object.
pub trait IndexedStore: Store + SubjectIndex {}
impl<T: Store + SubjectIndex> IndexedStore for T {}

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
