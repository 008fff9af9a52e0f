//! A session store as a third party would write one from the public docs: sessions spread over
//! shards by id, each shard a `Mutex` over a per-key `BTreeMap` and the sessions' deadlines. Its
//! one lock per shard serializes every read-change-write of a session (all of a session is in one
//! shard), which is what the store contract asks of an in-process store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use session_core::{
    Change, KeyKind, Map, SessionId, Store, StoreError, Value, async_trait, incremented,
    validate_key, validate_ttl,
};

#[derive(Default)]
struct Shard {
    deadlines: HashMap<SessionId, Instant>,
    values: BTreeMap<(SessionId, String), Value>,
}

impl Shard {
    /// Whether session `id` is live, after dropping it if it expired.
    fn live(&mut self, id: &SessionId) -> bool {
        match self.deadlines.get(id) {
            Some(at) if *at > Instant::now() => true,
            Some(_) => {
                self.remove(id);
                false
            }
            None => false,
        }
    }

    fn remove(&mut self, id: &SessionId) -> Option<Map> {
        self.deadlines.remove(id)?;
        let keys: Vec<(SessionId, String)> = self.range(id).map(|(k, _)| k.clone()).collect();
        Some(
            keys.into_iter()
                .filter_map(|k| self.values.remove(&k).map(|v| (k.1, v)))
                .collect(),
        )
    }

    fn range<'a>(
        &'a self,
        id: &'a SessionId,
    ) -> impl Iterator<Item = (&'a (SessionId, String), &'a Value)> + 'a {
        self.values
            .range((*id, String::new())..)
            .take_while(move |((sid, _), _)| sid == id)
    }

    /// Makes session `id` live (empty if it was not) with deadline now + `ttl`.
    fn touch(&mut self, id: &SessionId, ttl: Duration) {
        self.live(id);
        self.deadlines.insert(*id, Instant::now() + ttl);
    }

    /// Whether session `id` is live for a read, its expiry moved when the read touches.
    fn read(&mut self, id: &SessionId, touch: Option<Duration>) -> bool {
        if !self.live(id) {
            return false;
        }
        if let Some(ttl) = touch {
            self.touch(id, ttl);
        }
        true
    }

    fn get(&self, id: &SessionId, key: &str) -> Option<Value> {
        self.values.get(&(*id, key.to_owned())).cloned()
    }
}

/// The store.
pub struct ShardedStore {
    shards: Vec<Mutex<Shard>>,
}

impl ShardedStore {
    /// A store of `shards` shards (at least one).
    pub fn with_shards(shards: usize) -> Self {
        Self {
            shards: (0..shards.max(1)).map(|_| Mutex::default()).collect(),
        }
    }

    fn shard(&self, id: &SessionId) -> MutexGuard<'_, Shard> {
        let index = usize::from(id.as_bytes()[0]) % self.shards.len();
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Store for ShardedStore {
    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> Result<Option<Value>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        touch.map(validate_ttl).transpose()?;
        let mut shard = self.shard(id);
        if !shard.read(id, touch) {
            return Ok(None);
        }
        Ok(shard.get(id, key))
    }

    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> Result<Option<Map>, StoreError> {
        touch.map(validate_ttl).transpose()?;
        let mut shard = self.shard(id);
        if !shard.read(id, touch) {
            return Ok(None);
        }
        Ok(Some(
            shard
                .range(id)
                .map(|((_, k), v)| (k.clone(), v.clone()))
                .collect(),
        ))
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
        let mut shard = self.shard(id);
        shard.touch(id, ttl);
        shard.values.insert((*id, key.to_owned()), value);
        Ok(())
    }

    async fn del(&self, id: &SessionId, key: &str, ttl: Duration) -> Result<(), StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        let mut shard = self.shard(id);
        if shard.live(id) {
            shard.values.remove(&(*id, key.to_owned()));
            shard.touch(id, ttl);
        }
        Ok(())
    }

    async fn del_all(&self, id: &SessionId) -> Result<(), StoreError> {
        self.shard(id).remove(id);
        Ok(())
    }

    async fn take(&self, id: &SessionId) -> Result<Option<Map>, StoreError> {
        let mut shard = self.shard(id);
        if !shard.live(id) {
            return Ok(None);
        }
        Ok(shard.remove(id))
    }

    async fn extend(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        validate_ttl(ttl)?;
        let mut shard = self.shard(id);
        if !shard.live(id) {
            return Ok(false);
        }
        shard.touch(id, ttl);
        Ok(true)
    }

    async fn incr(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> Result<i64, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        // Read, add and write under the shard's lock, which every writer of this session takes.
        let mut shard = self.shard(id);
        let current = if shard.live(id) {
            shard.get(id, key)
        } else {
            None
        };
        let next = incremented(current.as_ref(), delta)?;
        shard.touch(id, ttl);
        shard.values.insert((*id, key.to_owned()), next.into());
        Ok(next)
    }

    async fn compare_and_set(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        let mut shard = self.shard(id);
        let current = if shard.live(id) {
            shard.get(id, key)
        } else {
            None
        };
        if current != expected {
            return Ok(false);
        }
        shard.touch(id, ttl);
        shard.values.insert((*id, key.to_owned()), new);
        Ok(true)
    }

    async fn incr_live(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> Result<Option<i64>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        let mut shard = self.shard(id);
        if !shard.live(id) {
            return Ok(None); // nothing created
        }
        let next = incremented(shard.get(id, key).as_ref(), delta)?;
        shard.touch(id, ttl);
        shard.values.insert((*id, key.to_owned()), next.into());
        Ok(Some(next))
    }

    async fn compare_and_set_live(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> Result<Option<bool>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        let mut shard = self.shard(id);
        if !shard.live(id) {
            return Ok(None);
        }
        if shard.get(id, key) != expected {
            return Ok(Some(false));
        }
        shard.touch(id, ttl);
        shard.values.insert((*id, key.to_owned()), new);
        Ok(Some(true))
    }

    async fn update(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        validate_ttl(ttl)?;
        for change in &changes {
            validate_key(change.key(), KeyKind::Store)?;
        }
        let mut shard = self.shard(id);
        if !shard.live(id) {
            return Ok(false);
        }
        for change in changes {
            match change {
                Change::Set(key, value) => {
                    shard.values.insert((*id, key), value);
                }
                Change::Del(key) => {
                    shard.values.remove(&(*id, key));
                }
            }
        }
        shard.touch(id, ttl);
        Ok(true)
    }
}
