//! [`ObservedStore`]: any store, with a span and a metrics report per operation.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tracing::Instrument;
use tracing::field::Empty;

use super::{Metrics, StoreOp};
use crate::{Change, Map, SessionId, Store, StoreError, Value};

/// A store whose every operation runs in a `tracing` span and is reported to a [`Metrics`] hook.
///
/// The span is `session_store`, at debug level, with the fields `backend`
/// ([`Store::backend_name`]), `op` ([`StoreOp::name`]), `session` (the id's short form,
/// [`SessionId::short`]: never a token or a whole id), and, when the operation ends, `elapsed_us`
/// and `error` (an [`ErrorKind`](crate::ErrorKind) name; never the error's text, which may hold
/// a driver's message). Spans of a backend's own driver nest inside it.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// use session_core::{ObservedStore, Store, Token};
/// use session_store_memory::MemoryStore;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), session_core::StoreError> {
/// let store = ObservedStore::new(Arc::new(MemoryStore::new()));
/// let id = Token::generate().expect("OS randomness").id();
/// store.set(&id, "lang", "fr".into(), Duration::from_secs(60)).await?; // in a span
/// assert_eq!(store.backend_name(), "memory");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ObservedStore {
    inner: Arc<dyn Store>,
    metrics: Option<Arc<dyn Metrics>>,
}

impl ObservedStore {
    /// `inner`, with a span per operation.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            metrics: None,
        }
    }

    /// Also reports every operation to `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<dyn Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    async fn observe<T>(
        &self,
        op: StoreOp,
        id: &SessionId,
        operation: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let backend = self.inner.backend_name();
        let span = tracing::debug_span!(
            "session_store",
            backend,
            op = op.name(),
            session = %id.short(),
            elapsed_us = Empty,
            error = Empty,
        );
        let started = Instant::now();
        let result = operation.instrument(span.clone()).await;
        let elapsed = started.elapsed();
        let error = result.as_ref().err().map(StoreError::kind);
        span.record("elapsed_us", micros(elapsed));
        if let Some(kind) = error {
            span.record("error", kind.name());
        }
        if let Some(metrics) = &self.metrics {
            metrics.store_operation(backend, op, elapsed, error);
        }
        result
    }
}

fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

impl fmt::Debug for ObservedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObservedStore")
            .field("backend", &self.inner.backend_name())
            .field("metrics", &self.metrics.is_some())
            .finish()
    }
}

#[async_trait]
impl Store for ObservedStore {
    fn backend_name(&self) -> &'static str {
        self.inner.backend_name()
    }

    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> Result<Option<Value>, StoreError> {
        self.observe(StoreOp::Get, id, self.inner.get(id, key, touch))
            .await
    }

    async fn get_many(
        &self,
        id: &SessionId,
        keys: &[&str],
        touch: Option<Duration>,
    ) -> Result<Option<Vec<Option<Value>>>, StoreError> {
        self.observe(StoreOp::GetMany, id, self.inner.get_many(id, keys, touch))
            .await
    }

    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> Result<Option<Map>, StoreError> {
        self.observe(StoreOp::GetAll, id, self.inner.get_all(id, touch))
            .await
    }

    async fn set(
        &self,
        id: &SessionId,
        key: &str,
        value: Value,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.observe(StoreOp::Set, id, self.inner.set(id, key, value, ttl))
            .await
    }

    async fn del(&self, id: &SessionId, key: &str, ttl: Duration) -> Result<(), StoreError> {
        self.observe(StoreOp::Del, id, self.inner.del(id, key, ttl))
            .await
    }

    async fn del_all(&self, id: &SessionId) -> Result<(), StoreError> {
        self.observe(StoreOp::DelAll, id, self.inner.del_all(id))
            .await
    }

    async fn take(&self, id: &SessionId) -> Result<Option<Map>, StoreError> {
        self.observe(StoreOp::Take, id, self.inner.take(id)).await
    }

    async fn extend(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        self.observe(StoreOp::Extend, id, self.inner.extend(id, ttl))
            .await
    }

    async fn incr(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> Result<i64, StoreError> {
        self.observe(StoreOp::Incr, id, self.inner.incr(id, key, delta, ttl))
            .await
    }

    async fn incr_live(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> Result<Option<i64>, StoreError> {
        self.observe(
            StoreOp::IncrLive,
            id,
            self.inner.incr_live(id, key, delta, ttl),
        )
        .await
    }

    async fn compare_and_set_live(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> Result<Option<bool>, StoreError> {
        let operation = self.inner.compare_and_set_live(id, key, expected, new, ttl);
        self.observe(StoreOp::CompareAndSetLive, id, operation)
            .await
    }

    async fn compare_and_set(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let operation = self.inner.compare_and_set(id, key, expected, new, ttl);
        self.observe(StoreOp::CompareAndSet, id, operation).await
    }

    async fn update(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.observe(StoreOp::Update, id, self.inner.update(id, changes, ttl))
            .await
    }

    async fn set_many(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.observe(StoreOp::SetMany, id, self.inner.set_many(id, changes, ttl))
            .await
    }
}
