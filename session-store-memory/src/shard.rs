//! One shard: an LRU of sessions behind its own lock, and the rules for reading, adding and
//! removing an entry (which keep the subject index and the store-wide bound in step).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;
use session_core::{MAX_TTL, Map, SessionId};

use crate::bound::Bound;
use crate::subjects::Subjects;

/// One stored session.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) data: Map,
    pub(crate) expires_at: Instant,
    /// When the session was created here, for the store's `max_age`.
    pub(crate) born: Instant,
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

/// A shard with no bound of its own: the store's [`Bound`] caps all shards together.
pub(crate) fn new_shard() -> Shard {
    Mutex::new(LruCache::unbounded())
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
    books: Books<'_>,
    id: &SessionId,
    now: Instant,
) -> Option<&'a mut Entry> {
    if !cache.peek(id)?.is_live(now) {
        remove(cache, books, id);
        return None;
    }
    cache.get_mut(id)
}

/// What every change of a shard's entries keeps in step: the subject index and the bound.
#[derive(Clone, Copy)]
pub(crate) struct Books<'a> {
    pub(crate) subjects: &'a Subjects,
    pub(crate) bound: &'a Bound,
}

/// Removes `id` and its subject binding, and frees its slot; returns the entry it held.
pub(crate) fn remove(cache: &mut Cache, books: Books<'_>, id: &SessionId) -> Option<Entry> {
    let entry = cache.pop(id)?;
    forget(books, id, &entry);
    Some(entry)
}

/// How many of a shard's least recently used sessions are looked at for an anonymous one to
/// evict first.
const EVICTION_SCAN: usize = 64;

/// Drops a session to make room; `false` when the shard is empty. Sessions without a subject go
/// first (the least recently used among the shard's oldest [`EVICTION_SCAN`]), so a flood of
/// cookieless visitors cannot push out a signed-in user; else the least recently used one.
pub(crate) fn evict_lru(cache: &mut Cache, books: Books<'_>) -> bool {
    let anonymous = cache
        .iter()
        .rev()
        .take(EVICTION_SCAN)
        .find(|(_, entry)| entry.subject.is_none())
        .map(|(id, _)| *id);
    let victim = match anonymous {
        Some(id) => cache.pop(&id).map(|entry| (id, entry)),
        None => cache.pop_lru(),
    };
    match victim {
        Some((id, entry)) => {
            forget(books, &id, &entry);
            true
        }
        None => false,
    }
}

/// Inserts a fresh entry for `id`, whose slot the caller reserved.
pub(crate) fn insert(cache: &mut Cache, id: SessionId, entry: Entry) {
    cache.push(id, entry);
}

fn forget(books: Books<'_>, id: &SessionId, entry: &Entry) {
    books.bound.release();
    if let Some(subject) = &entry.subject {
        books.subjects.unbind(subject, id);
    }
}
