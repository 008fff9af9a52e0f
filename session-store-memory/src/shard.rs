//! One shard: an LRU of sessions behind its own lock, and the rules for reading an entry.
//!
//! A std `Mutex` is right here: no lock is ever held across an `.await` (every store method takes
//! the lock, works on memory, and releases it before returning), so an async mutex would only add
//! cost.

use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use lru::LruCache;
use session_core::{MAX_TTL, Map, SessionId};

use crate::subjects::Subjects;

/// One stored session.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) data: Map,
    pub(crate) expires_at: Instant,
    pub(crate) subject: Option<String>,
}

impl Entry {
    pub(crate) fn is_live(&self, now: Instant) -> bool {
        self.expires_at > now
    }
}

/// The sessions of one shard, least recently used first out.
pub(crate) type Cache = LruCache<SessionId, Entry>;

pub(crate) type Shard = Mutex<Cache>;

pub(crate) fn new_shard(capacity: NonZeroUsize) -> Shard {
    Mutex::new(LruCache::new(capacity))
}

/// Locks `mutex`. A poisoned lock is still used: every critical section leaves the data
/// consistent before anything that could panic, so there is nothing to recover.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The instant `ttl` from `now`. TTLs are validated to be at most `MAX_TTL`, so the fallback only
/// guards against a clock near the end of `Instant`'s range.
pub(crate) fn deadline(now: Instant, ttl: Duration) -> Instant {
    now.checked_add(ttl)
        .or_else(|| now.checked_add(MAX_TTL))
        .unwrap_or(now)
}

/// The live entry for `id`, marked most recently used. An expired entry is removed on the way
/// (lazy expiry) and reads as missing.
pub(crate) fn live<'a>(
    cache: &'a mut Cache,
    subjects: &Subjects,
    id: &SessionId,
    now: Instant,
) -> Option<&'a mut Entry> {
    if !cache.peek(id)?.is_live(now) {
        remove(cache, subjects, id);
        return None;
    }
    cache.get_mut(id)
}

/// Removes `id` and its subject binding; returns the entry it held.
pub(crate) fn remove(cache: &mut Cache, subjects: &Subjects, id: &SessionId) -> Option<Entry> {
    let entry = cache.pop(id)?;
    forget_subject(subjects, id, &entry);
    Some(entry)
}

/// Inserts a fresh entry for `id`. When the shard is full, its least recently used session is
/// dropped, and its subject binding with it.
pub(crate) fn insert(cache: &mut Cache, subjects: &Subjects, id: SessionId, entry: Entry) {
    if let Some((evicted_id, evicted)) = cache.push(id, entry)
        && evicted_id != id
    {
        forget_subject(subjects, &evicted_id, &evicted);
    }
}

fn forget_subject(subjects: &Subjects, id: &SessionId, entry: &Entry) {
    if let Some(subject) = &entry.subject {
        subjects.unbind(subject, id);
    }
}
