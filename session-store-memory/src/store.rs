//! `MemoryStore` and its [`Store`] implementation.

use std::time::{Duration, Instant};

use session_core::{
    Change, KeyKind, Map, SessionId, Store, StoreError, Value, async_trait, validate_key,
    validate_ttl,
};

use crate::MemoryStoreBuilder;
use crate::bound::Bound;
use crate::shard::{self, Books, Cache, Entry, Shard, deadline, live};
use crate::subjects::Subjects;
use crate::sync::lock;

/// What looking for a session to evict in the other shards found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elsewhere {
    Evicted,
    /// Some shard was busy: try again.
    Busy,
    /// Every other shard was looked at and had none.
    NoneThere,
}

/// A bounded, sharded, in-memory LRU session store with per-session TTL.
///
/// Sessions are spread over shards by id, each an LRU behind its own lock. The bound is on the
/// whole store: it never holds more than `max_sessions`, and never evicts while under it; when a
/// new session needs room, the least recently used session without a subject is dropped (its
/// own shard's first, then any other shard's), and a signed-in session only when no anonymous
/// one is left anywhere (then the least recently used of its shard, or another shard's when
/// that one is empty), so a flood of cookieless visits never logs a user out. Expired sessions are never returned: they are removed when
/// next touched, or pushed out by the bound. An optional `max_age` caps any session's lifetime.
/// Data lives in this process only, so it suits one instance, tests and demos; it implements
/// [`SubjectIndex`](session_core::SubjectIndex) and [`Enumerate`](session_core::Enumerate).
#[derive(Debug)]
pub struct MemoryStore {
    shards: Box<[Shard]>,
    pub(crate) subjects: Subjects,
    bound: Bound,
    max_age: Option<Duration>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A store with the default settings (see [`MemoryStoreBuilder`]).
    pub fn new() -> Self {
        Self::with_settings(
            crate::config::DEFAULT_SHARDS,
            crate::config::DEFAULT_MAX_SESSIONS,
            None,
        )
    }

    /// A builder for other settings.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    pub(crate) fn with_settings(shards: usize, max: usize, max_age: Option<Duration>) -> Self {
        Self {
            shards: (0..shards.max(1)).map(|_| shard::new_shard()).collect(),
            subjects: Subjects::default(),
            bound: Bound::new(max),
            max_age,
        }
    }

    /// The subject index and the bound, which every change of a shard keeps in step.
    pub(crate) fn books(&self) -> Books<'_> {
        Books {
            subjects: &self.subjects,
            bound: &self.bound,
        }
    }

    pub(crate) fn shard(&self, id: &SessionId) -> &Shard {
        // Ids are SHA-256 output, so any 8 bytes of them spread evenly.
        let mut head = [0u8; 8];
        head.copy_from_slice(&id.as_bytes()[..8]);
        &self.shards[(u64::from_le_bytes(head) % self.shards.len() as u64) as usize]
    }

    pub(crate) fn shards(&self) -> &[Shard] {
        &self.shards
    }

    /// Runs `apply` on the live entry of `id`, creating an empty one first when `create` is set.
    /// Moves the expiry to now + `ttl` when the session exists afterwards.
    fn write<R>(
        &self,
        id: &SessionId,
        ttl: Duration,
        create: bool,
        apply: impl FnOnce(&mut Map) -> R,
    ) -> Option<R> {
        let shard = self.shard(id);
        let mut cache = lock(shard);
        self.write_in(shard, &mut cache, id, Instant::now(), ttl, create, apply)
    }

    /// [`write`](Self::write) on a shard whose lock the caller holds (so it can read first and
    /// decide under the same lock).
    #[allow(clippy::too_many_arguments)] // the shard, its guard and the write's own four
    fn write_in<R>(
        &self,
        shard: &Shard,
        cache: &mut Cache,
        id: &SessionId,
        now: Instant,
        ttl: Duration,
        create: bool,
        apply: impl FnOnce(&mut Map) -> R,
    ) -> Option<R> {
        if live(cache, self.books(), id, now).is_none() {
            if !create {
                return None;
            }
            // Room first: only a full store evicts, and then exactly one session: an anonymous
            // one while any shard holds one (this shard's first), else the least recently used.
            while !self.bound.reserve() {
                if shard::evict_anonymous(cache, self.books()) {
                    continue;
                }
                // Every other shard looked at and none had one: the count was a moment ahead
                // of a removal, and the oldest session goes.
                let anonymous = self.bound.has_anonymous()
                    && self.evict_elsewhere(shard, true) != Elsewhere::NoneThere;
                if !anonymous && !shard::evict_oldest(cache, self.books()) {
                    self.evict_elsewhere(shard, false);
                }
            }
            let fresh = Entry {
                data: Map::new(),
                expires_at: now,
                born: now,
                subject: None,
            };
            shard::insert(cache, self.books(), *id, fresh);
        }
        let entry = cache.get_mut(id)?;
        let mut expires_at = deadline(now, ttl);
        if let Some(max_age) = self.max_age {
            expires_at = expires_at.min(deadline(entry.born, max_age));
        }
        entry.expires_at = expires_at;
        Some(apply(&mut entry.data))
    }

    /// The value of `key` in the live session `id` of a locked shard.
    fn peek_value(
        &self,
        cache: &mut Cache,
        id: &SessionId,
        key: &str,
        now: Instant,
    ) -> Option<Value> {
        live(cache, self.books(), id, now).and_then(|e| e.data.get(key).cloned())
    }

    /// `incr` (`create`: a missing session is created) and `incr_live`: read, decide and write
    /// under one lock; a refused increment changes nothing. `None`: no live session, not created.
    fn add(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
        create: bool,
    ) -> Result<Option<i64>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        let now = Instant::now();
        let shard = self.shard(id);
        let mut cache = lock(shard);
        if !create && live(&mut cache, self.books(), id, now).is_none() {
            return Ok(None);
        }
        let current = self.peek_value(&mut cache, id, key, now);
        let next = session_core::incremented(current.as_ref(), delta)?;
        Ok(self
            .write_in(shard, &mut cache, id, now, ttl, create, |data| {
                data.insert(key.to_owned(), Value::from(next));
            })
            .map(|()| next))
    }

    /// `compare_and_set` and `compare_and_set_live`, as [`add`](Self::add) is for `incr`.
    fn swap(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
        create: bool,
    ) -> Result<Option<bool>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        let now = Instant::now();
        let shard = self.shard(id);
        let mut cache = lock(shard);
        if !create && live(&mut cache, self.books(), id, now).is_none() {
            return Ok(None);
        }
        if self.peek_value(&mut cache, id, key, now) != expected {
            return Ok(Some(false));
        }
        Ok(self
            .write_in(shard, &mut cache, id, now, ttl, create, |data| {
                data.insert(key.to_owned(), new);
            })
            .map(|()| true))
    }

    /// Makes room in another shard than `held` (whose lock the caller has): an anonymous session
    /// when `anonymous` (`held` has none), else any. Other shards are only tried, never waited
    /// for, so two writers can never wait on each other's shard; a busy one is skipped and the
    /// caller tries again. No writer spins for long: one whose own shard holds an anonymous
    /// session evicts it without looking elsewhere, so the shards this looks for are never
    /// held by a writer that is itself looking.
    fn evict_elsewhere(&self, held: &Shard, anonymous: bool) -> Elsewhere {
        let mut busy = false;
        for shard in self.shards.iter().filter(|s| !std::ptr::eq(*s, held)) {
            let Ok(mut cache) = shard.try_lock() else {
                busy = true;
                continue;
            };
            let evicted = match anonymous {
                true => shard::evict_anonymous(&mut cache, self.books()),
                false => shard::evict_oldest(&mut cache, self.books()),
            };
            if evicted {
                return Elsewhere::Evicted;
            }
        }
        std::thread::yield_now();
        if busy {
            Elsewhere::Busy
        } else {
            Elsewhere::NoneThere
        }
    }

    /// Sessions held, expired ones not yet removed included (never more than `max_sessions`):
    /// O(1). [`Enumerate::count`](session_core::Enumerate::count) is exact but O(n): expiry is
    /// lazy, so leaving expired sessions out means looking at every entry (an O(1) count would
    /// have to either include them or expire sessions on a timer).
    pub fn held(&self) -> usize {
        self.bound.held()
    }

    /// Validates a batch and applies it under one lock; returns whether the session exists
    /// afterwards.
    fn apply(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
        create: bool,
    ) -> Result<bool, StoreError> {
        validate_ttl(ttl)?;
        for change in &changes {
            validate_key(change.key(), KeyKind::Store)?;
        }
        let applied = self.write(id, ttl, create, |data| {
            for change in changes {
                match change {
                    Change::Set(key, value) => data.insert(key, value),
                    Change::Del(key) => data.remove(&key),
                };
            }
        });
        Ok(applied.is_some())
    }

    /// Runs `read` on the live entry of `id`, moving its expiry when `touch` is set.
    fn read<R>(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
        read: impl FnOnce(&Map) -> R,
    ) -> Option<R> {
        let now = Instant::now();
        let mut cache = lock(self.shard(id));
        let entry = live(&mut cache, self.books(), id, now)?;
        if let Some(ttl) = touch {
            entry.expires_at = deadline(now, ttl);
        }
        Some(read(&entry.data))
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend_name(&self) -> &'static str {
        "memory"
    }

    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> Result<Option<Value>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        touch.map(validate_ttl).transpose()?;
        Ok(self
            .read(id, touch, |data| data.get(key).cloned())
            .flatten())
    }

    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> Result<Option<Map>, StoreError> {
        touch.map(validate_ttl).transpose()?;
        Ok(self.read(id, touch, Map::clone))
    }

    async fn set(
        &self,
        id: &SessionId,
        key: &str,
        value: Value,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        self.write(id, ttl, true, |data| data.insert(key.to_owned(), value));
        Ok(())
    }

    async fn del(&self, id: &SessionId, key: &str, ttl: Duration) -> Result<(), StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        self.write(id, ttl, false, |data| data.remove(key));
        Ok(())
    }

    async fn del_all(&self, id: &SessionId) -> Result<(), StoreError> {
        shard::remove(&mut lock(self.shard(id)), self.books(), id);
        Ok(())
    }

    async fn get_many(
        &self,
        id: &SessionId,
        keys: &[&str],
        touch: Option<Duration>,
    ) -> Result<Option<Vec<Option<Value>>>, StoreError> {
        for key in keys {
            validate_key(key, KeyKind::Store)?;
        }
        touch.map(validate_ttl).transpose()?;
        Ok(self.read(id, touch, |data| {
            keys.iter().map(|key| data.get(*key).cloned()).collect()
        }))
    }

    async fn incr(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> Result<i64, StoreError> {
        Ok(self.add(id, key, delta, ttl, true)?.unwrap_or(delta))
    }

    async fn incr_live(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> Result<Option<i64>, StoreError> {
        self.add(id, key, delta, ttl, false)
    }

    async fn compare_and_set(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        Ok(self
            .swap(id, key, expected, new, ttl, true)?
            .unwrap_or(false))
    }

    async fn compare_and_set_live(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> Result<Option<bool>, StoreError> {
        self.swap(id, key, expected, new, ttl, false)
    }

    async fn take(&self, id: &SessionId) -> Result<Option<Map>, StoreError> {
        let now = Instant::now();
        let entry = shard::remove(&mut lock(self.shard(id)), self.books(), id);
        Ok(entry.filter(|e| e.is_live(now)).map(|e| e.data))
    }

    async fn extend(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        validate_ttl(ttl)?;
        Ok(self.write(id, ttl, false, |_| ()).is_some())
    }

    async fn set_many(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        if changes.is_empty() {
            validate_ttl(ttl)?;
            return Ok(());
        }
        // Only a `Set` may create the session; a batch of removals on a missing one is a no-op.
        let creates = changes.iter().any(|c| matches!(c, Change::Set(..)));
        self.apply(id, changes, ttl, creates).map(drop)
    }

    async fn update(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.apply(id, changes, ttl, false)
    }
}
