//! The cached session hashes: an LRU per shard, keyed by a session's Redis key, each entry
//! holding the whole hash (every field, as stored) and when the session expires; or a note to
//! read the session from the server: its hash is too big to keep, or it is being written right
//! now ([`HOT_FOR`]).
//!
//! Each shard counts its invalidations. A reader takes a [`Ticket`] (the count) when it misses,
//! before sending its read, and its reply is stored only if the count is unchanged: a reply
//! read before an invalidation can never be stored after it, whichever of the two the reader's
//! task and the connection's task get to first.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use lru::LruCache;

/// Shards, so concurrent readers of different sessions rarely wait on one lock.
const SHARDS: usize = 16;

/// A session hash as the reads answer it: its keys' values decoded once, when it was read.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    /// The hash has any field at all (`get_all` answers `None` otherwise).
    pub(crate) exists: bool,
    /// The hash has the store's marker field (`get_many` answers `None` otherwise).
    pub(crate) marked: bool,
    /// The session's keys (the store's own fields left out) and their values.
    pub(crate) values: HashMap<String, session_core::Value>,
}

/// How long a session that changed while cached, or while being read into the cache, is read
/// from the server instead: one written on nearly every request (a counter, say) would cost a
/// whole-hash read each time and never be served from the cache.
const HOT_FOR: Duration = Duration::from_millis(10);

struct Entry {
    /// When the session expires on the server, as read with the hash (never later); for
    /// [`Held::Hot`], when the session may be cached again.
    until: Instant,
    held: Held,
}

enum Held {
    /// The whole hash.
    Fields(Arc<Fields>),
    /// The hash is too big to keep, or holds a value that is not JSON.
    Uncacheable,
    /// The session changed a moment ago.
    Hot,
}

/// What the cache holds for a key.
pub(crate) enum Found {
    /// The whole hash.
    Fields(Arc<Fields>),
    /// Read the session from the server, and store nothing (it cannot be kept, or it was
    /// written right now).
    Server,
    /// Nothing: read the hash into the cache.
    Nothing,
}

struct Shard {
    lru: LruCache<Vec<u8>, Entry>,
    invalidations: u64,
}

/// What a reader that missed saw of its shard, taken before it sent its read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    shard: usize,
    invalidations: u64,
}

/// The cached replies of one store.
pub(crate) struct Entries {
    shards: Box<[Mutex<Shard>]>,
    hasher: std::collections::hash_map::RandomState,
}

impl Entries {
    /// Room for about `capacity` sessions (spread over the shards, at least one each).
    pub(crate) fn new(capacity: NonZeroUsize) -> Self {
        let per_shard = NonZeroUsize::new(capacity.get().div_ceil(SHARDS)).unwrap_or(capacity);
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        lru: LruCache::new(per_shard),
                        invalidations: 0,
                    })
                })
                .collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    fn shard_of(&self, key: &[u8]) -> usize {
        (self.hasher.hash_one(key) % SHARDS as u64) as usize
    }

    fn lock(&self, shard: usize) -> MutexGuard<'_, Shard> {
        self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// What is cached for `key`, and the ticket to store what is about to be read otherwise.
    pub(crate) fn get(&self, key: &[u8], now: Instant) -> (Found, Ticket) {
        let shard = self.shard_of(key);
        let mut guard = self.lock(shard);
        let ticket = Ticket {
            shard,
            invalidations: guard.invalidations,
        };
        let Some(entry) = guard.lru.get(key) else {
            return (Found::Nothing, ticket);
        };
        if entry.until <= now {
            guard.lru.pop(key);
            return (Found::Nothing, ticket);
        }
        let found = match &entry.held {
            Held::Fields(fields) => Found::Fields(fields.clone()),
            Held::Uncacheable | Held::Hot => Found::Server,
        };
        (found, ticket)
    }

    /// Stores the hash read after `ticket` was taken (`None`: it cannot be kept), unless
    /// the shard saw an invalidation since (then it may be older than it, and the session is
    /// marked hot instead); returns whether it was stored.
    pub(crate) fn insert(
        &self,
        key: &[u8],
        fields: Option<Arc<Fields>>,
        expires_at: Instant,
        ticket: Ticket,
    ) -> bool {
        let mut guard = self.lock(ticket.shard);
        if guard.invalidations != ticket.invalidations {
            let hot = Entry {
                until: Instant::now() + HOT_FOR,
                held: Held::Hot,
            };
            guard.lru.put(key.to_vec(), hot);
            return false;
        }
        let held = fields.map_or(Held::Uncacheable, Held::Fields);
        let entry = Entry {
            until: expires_at,
            held,
        };
        guard.lru.put(key.to_vec(), entry);
        true
    }

    /// Forgets `key` (a session that was cached is marked hot), and refuses the replies of
    /// reads in flight on its shard.
    pub(crate) fn invalidate(&self, key: &[u8]) {
        let mut guard = self.lock(self.shard_of(key));
        if let Some(entry) = guard.lru.peek_mut(key) {
            *entry = Entry {
                until: Instant::now() + HOT_FOR,
                held: Held::Hot,
            };
        }
        guard.invalidations += 1;
    }

    /// Forgets everything, and refuses the replies of every read in flight.
    pub(crate) fn clear(&self) {
        for shard in 0..SHARDS {
            let mut guard = self.lock(shard);
            guard.lru.clear();
            guard.invalidations += 1;
        }
    }

    /// How many sessions the cache holds something for.
    pub(crate) fn len(&self) -> usize {
        (0..SHARDS).map(|shard| self.lock(shard).lru.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn entries() -> Entries {
        Entries::new(NonZeroUsize::new(64).unwrap())
    }

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    fn hash(value: &str) -> Option<Arc<Fields>> {
        let values = HashMap::from([("a".to_owned(), value.into())]);
        Some(Arc::new(Fields {
            exists: true,
            marked: true,
            values,
        }))
    }

    fn cached(e: &Entries, key: &[u8]) -> Option<String> {
        match e.get(key, Instant::now()).0 {
            Found::Fields(fields) => fields.values["a"].as_str().map(str::to_owned),
            Found::Server => Some("from the server".into()),
            Found::Nothing => None,
        }
    }

    #[test]
    fn a_stored_hash_is_served_until_invalidated() {
        let e = entries();
        let (_, ticket) = e.get(b"k", Instant::now());
        assert!(e.insert(b"k", hash("1"), later(), ticket));
        assert_eq!(cached(&e, b"k").as_deref(), Some("1"));
        assert_eq!(cached(&e, b"other"), None);
        e.invalidate(b"k");
        assert_eq!(cached(&e, b"k").as_deref(), Some("from the server"));
        std::thread::sleep(HOT_FOR);
        assert_eq!(cached(&e, b"k"), None);
        let (_, ticket) = e.get(b"k", Instant::now());
        assert!(e.insert(b"k", None, later(), ticket));
        assert_eq!(cached(&e, b"k").as_deref(), Some("from the server"));
    }

    #[test]
    fn a_hash_read_before_an_invalidation_is_never_stored() {
        let e = entries();
        let (_, ticket) = e.get(b"k", Instant::now());
        e.invalidate(b"k");
        assert!(!e.insert(b"k", hash("1"), later(), ticket));
        // Changed while it was read: read from the server for a moment.
        assert_eq!(cached(&e, b"k").as_deref(), Some("from the server"));
        let (_, ticket) = e.get(b"j", Instant::now());
        e.clear();
        assert!(!e.insert(b"j", hash("1"), later(), ticket));
        assert_eq!(cached(&e, b"j").as_deref(), Some("from the server"));
    }

    #[test]
    fn an_expired_session_is_never_served() {
        let e = entries();
        let (_, ticket) = e.get(b"k", Instant::now());
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(e.insert(b"k", hash("1"), soon, ticket));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(cached(&e, b"k"), None);
    }
}
