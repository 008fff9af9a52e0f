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

/// Drops this shard's least recently used session without a subject; `false` when it has none.
/// The whole shard is looked at (oldest first), so however many signed-in sessions sit at the
/// old end, an anonymous one behind them is found.
pub(crate) fn evict_anonymous(cache: &mut Cache, books: Books<'_>) -> bool {
    let anonymous = cache
        .iter()
        .rev()
        .find(|(_, entry)| entry.subject.is_none())
        .map(|(id, _)| *id);
    anonymous.is_some_and(|id| remove(cache, books, &id).is_some())
}

/// Drops this shard's least recently used session, signed in or not; `false` when it is empty.
/// Only for when no shard holds an anonymous one.
pub(crate) fn evict_oldest(cache: &mut Cache, books: Books<'_>) -> bool {
    match cache.pop_lru() {
        Some((id, entry)) => {
            forget(books, &id, &entry);
            true
        }
        None => false,
    }
}

/// Inserts a fresh entry for `id`, whose slot the caller reserved.
pub(crate) fn insert(cache: &mut Cache, books: Books<'_>, id: SessionId, entry: Entry) {
    if entry.subject.is_none() {
        books.bound.anonymous_added();
    }
    cache.push(id, entry);
}

fn forget(books: Books<'_>, id: &SessionId, entry: &Entry) {
    books.bound.release();
    match &entry.subject {
        Some(subject) => books.subjects.unbind(subject, id),
        None => books.bound.anonymous_gone(),
    }
}
