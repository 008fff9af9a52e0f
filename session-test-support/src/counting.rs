//! `CountingStore`: wraps a real store and counts what reaches it (reads, writes, and the keys of
//! each batch). It forwards every call, and fakes nothing unless a test asks it to lag plain
//! reads ([`Counts::lag_plain_gets`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use session_core::{Change, Map, SessionId, Store, StoreError, SubjectIndex, Value, async_trait};

/// The first answer of each plain `get`, by session and key.
type FirstAnswers = std::collections::HashMap<(SessionId, String), Option<Value>>;

/// What reached a [`CountingStore`].
#[derive(Debug, Default)]
pub struct Counts {
    reads: AtomicUsize,
    writes: AtomicUsize,
    batches: Mutex<Vec<Vec<String>>>,
    calls: Mutex<Vec<String>>,
    /// Held by a test to stop `bind_subject` calls before they reach the store.
    bind_gate: tokio::sync::Mutex<()>,
    /// Woken when a `bind_subject` call arrives (and waits on the gate, when it is held).
    bind_arrived: tokio::sync::Notify,
    /// Set by [`Counts::lag_plain_gets`]: the first answer of each plain `get`, served again.
    lagging: Mutex<Option<FirstAnswers>>,
}

impl Counts {
    /// `get` and `get_all` calls.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    /// Calls that write: `set`, `del`, `del_all`, `extend`, `set_many`, `update`.
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    /// Reads and writes.
    pub fn operations(&self) -> usize {
        self.reads() + self.writes()
    }

    /// The keys of the last `set_many` or `update` batch.
    pub fn last_batch(&self) -> Vec<String> {
        self.batches
            .lock()
            .map(|b| b.last().cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Every call that reached the store since the last [`take_calls`](Counts::take_calls), in
    /// order, as the operation's name (a `get_many` with its keys: `get_many[k1,k2]`).
    pub fn take_calls(&self) -> Vec<String> {
        self.calls
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }

    /// Holds every `bind_subject` call at the door until the guard is dropped, so a test can run
    /// something between a session's write and its binding (a revocation racing a login).
    pub async fn hold_binds(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.bind_gate.lock().await
    }

    /// Waits until a `bind_subject` call arrives (one that arrived before this call counts).
    pub async fn bind_arrived(&self) {
        self.bind_arrived.notified().await;
    }

    /// From now on a plain `get` (no touch) answers, for each session and key, the first value
    /// it read: as a store whose reads come from a client-side cache that has not yet heard of
    /// other instances' writes would (the Redis store's, within its staleness bound). Code that
    /// must see every completed write uses an atomic operation instead, and a test shows it.
    pub fn lag_plain_gets(&self) {
        if let Ok(mut lagging) = self.lagging.lock() {
            lagging.get_or_insert_with(Default::default);
        }
    }

    fn call(&self, name: String) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(name);
        }
    }

    fn read(&self) {
        self.reads.fetch_add(1, Ordering::SeqCst);
    }

    fn write(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }

    fn batch(&self, changes: &[Change]) {
        self.write();
        if let Ok(mut batches) = self.batches.lock() {
            batches.push(changes.iter().map(|c| c.key().to_owned()).collect());
        }
    }
}

/// A real store, counted.
pub struct CountingStore<S> {
    inner: S,
    counts: Arc<Counts>,
}

impl<S> CountingStore<S> {
    /// Wraps `inner`; the counts are shared with the returned handle.
    pub fn new(inner: S) -> (Self, Arc<Counts>) {
        let counts = Arc::new(Counts::default());
        (
            Self {
                inner,
                counts: counts.clone(),
            },
            counts,
        )
    }
}

#[async_trait]
impl<S: Store> Store for CountingStore<S> {
    fn backend_name(&self) -> &'static str {
        self.inner.backend_name()
    }

    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> Result<Option<Value>, StoreError> {
        self.counts.call("get".to_owned());
        self.counts.read();
        let lagging = touch.is_none() && self.counts.lagging.lock().is_ok_and(|l| l.is_some());
        if !lagging {
            return self.inner.get(id, key, touch).await;
        }
        let memo = (*id, key.to_owned());
        if let Some(Some(old)) = self
            .counts
            .lagging
            .lock()
            .ok()
            .map(|l| l.as_ref().and_then(|m| m.get(&memo).cloned()))
        {
            return Ok(old);
        }
        let value = self.inner.get(id, key, touch).await?;
        if let Ok(mut lagging) = self.counts.lagging.lock()
            && let Some(memo_map) = lagging.as_mut()
        {
            memo_map.entry(memo).or_insert_with(|| value.clone());
        }
        Ok(value)
    }
    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> Result<Option<Map>, StoreError> {
        self.counts.call("get_all".to_owned());
        self.counts.read();
        self.inner.get_all(id, touch).await
    }
    async fn set(
        &self,
        id: &SessionId,
        key: &str,
        value: Value,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.counts.call("set".to_owned());
        self.counts.write();
        self.inner.set(id, key, value, ttl).await
    }
    async fn del(&self, id: &SessionId, key: &str, ttl: Duration) -> Result<(), StoreError> {
        self.counts.call("del".to_owned());
        self.counts.write();
        self.inner.del(id, key, ttl).await
    }
    async fn del_all(&self, id: &SessionId) -> Result<(), StoreError> {
        self.counts.call("del_all".to_owned());
        self.counts.write();
        self.inner.del_all(id).await
    }
    async fn get_many(
        &self,
        id: &SessionId,
        keys: &[&str],
        touch: Option<Duration>,
    ) -> Result<Option<Vec<Option<Value>>>, StoreError> {
        self.counts.call(format!("get_many[{}]", keys.join(",")));
        self.counts.read();
        self.inner.get_many(id, keys, touch).await
    }
    async fn incr(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> Result<i64, StoreError> {
        self.counts.call("incr".to_owned());
        self.counts.write();
        self.inner.incr(id, key, delta, ttl).await
    }
    async fn compare_and_set(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.counts.call("compare_and_set".to_owned());
        self.counts.write();
        self.inner
            .compare_and_set(id, key, expected, new, ttl)
            .await
    }
    async fn incr_live(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> Result<Option<i64>, StoreError> {
        self.counts.call("incr_live".to_owned());
        self.counts.write();
        self.inner.incr_live(id, key, delta, ttl).await
    }
    async fn compare_and_set_live(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> Result<Option<bool>, StoreError> {
        self.counts.call("compare_and_set_live".to_owned());
        self.counts.write();
        self.inner
            .compare_and_set_live(id, key, expected, new, ttl)
            .await
    }
    async fn take(&self, id: &SessionId) -> Result<Option<Map>, StoreError> {
        self.counts.call("take".to_owned());
        self.counts.write();
        self.inner.take(id).await
    }
    async fn extend(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        self.counts.call("extend".to_owned());
        self.counts.write();
        self.inner.extend(id, ttl).await
    }
    async fn set_many(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.counts.call("set_many".to_owned());
        self.counts.batch(&changes);
        self.inner.set_many(id, changes, ttl).await
    }
    async fn update(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.counts.call("update".to_owned());
        self.counts.batch(&changes);
        self.inner.update(id, changes, ttl).await
    }
}

#[async_trait]
impl<S: SubjectIndex> SubjectIndex for CountingStore<S> {
    async fn bind_subject(&self, id: &SessionId, subject: &str) -> Result<bool, StoreError> {
        self.counts.bind_arrived.notify_one();
        drop(self.counts.bind_gate.lock().await);
        self.inner.bind_subject(id, subject).await
    }
    async fn subject_sessions(&self, subject: &str) -> Result<Vec<SessionId>, StoreError> {
        self.inner.subject_sessions(subject).await
    }
    async fn subject_sessions_with(
        &self,
        subject: &str,
        key: &str,
    ) -> Result<Vec<(SessionId, Option<Value>)>, StoreError> {
        self.counts.call("subject_sessions_with".to_owned());
        self.counts.read();
        self.inner.subject_sessions_with(subject, key).await
    }
    async fn revoke_subject(&self, subject: &str) -> Result<u64, StoreError> {
        self.inner.revoke_subject(subject).await
    }
}
