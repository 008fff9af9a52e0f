//! `MemoryStore` and its [`Store`] implementation.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use session_core::{
    Change, KeyKind, Map, SessionId, Store, StoreError, Value, async_trait, validate_key,
    validate_ttl,
};

use crate::MemoryStoreBuilder;
use crate::shard::{self, Entry, Shard, deadline, live, lock};
use crate::subjects::Subjects;

/// A bounded, sharded, in-memory LRU session store with per-session TTL.
///
/// Sessions are spread over shards by id, each an LRU behind its own lock; when a shard is full its
/// least recently used session is dropped. Expired sessions are never returned: they are removed
/// when next touched, or pushed out by LRU pressure. Data lives in this process only, so it suits
/// one instance, tests and demos; it implements [`SubjectIndex`](session_core::SubjectIndex) and
/// [`Enumerate`](session_core::Enumerate).
#[derive(Debug)]
pub struct MemoryStore {
    shards: Box<[Shard]>,
    pub(crate) subjects: Subjects,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A store with the default settings (see [`MemoryStoreBuilder`]).
    pub fn new() -> Self {
        let shards = crate::config::DEFAULT_SHARDS;
        let per_shard = crate::config::DEFAULT_MAX_SESSIONS.div_ceil(shards);
        Self::with_shards(
            shards,
            NonZeroUsize::new(per_shard).unwrap_or(NonZeroUsize::MIN),
        )
    }

    /// A builder for other settings.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    pub(crate) fn with_shards(shards: usize, per_shard: NonZeroUsize) -> Self {
        Self {
            shards: (0..shards).map(|_| shard::new_shard(per_shard)).collect(),
            subjects: Subjects::default(),
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
        let now = Instant::now();
        let mut cache = lock(self.shard(id));
        if live(&mut cache, &self.subjects, id, now).is_none() {
            if !create {
                return None;
            }
            let fresh = Entry {
                data: Map::new(),
                expires_at: now,
                subject: None,
            };
            shard::insert(&mut cache, &self.subjects, *id, fresh);
        }
        let entry = cache.get_mut(id)?;
        entry.expires_at = deadline(now, ttl);
        Some(apply(&mut entry.data))
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
        let entry = live(&mut cache, &self.subjects, id, now)?;
        if let Some(ttl) = touch {
            entry.expires_at = deadline(now, ttl);
        }
        Some(read(&entry.data))
    }
}

#[async_trait]
impl Store for MemoryStore {
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
        shard::remove(&mut lock(self.shard(id)), &self.subjects, id);
        Ok(())
    }

    async fn take(&self, id: &SessionId) -> Result<Option<Map>, StoreError> {
        let now = Instant::now();
        let entry = shard::remove(&mut lock(self.shard(id)), &self.subjects, id);
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
