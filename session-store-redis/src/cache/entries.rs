//! The cached replies: an LRU per shard, keyed by a session's Redis key, each entry holding the
//! replies of the read commands seen for that key and when the session expires.
//!
//! Each shard counts its invalidations. A reader takes a [`Ticket`] (the count) when it misses,
//! before sending its read, and its reply is stored only if the count is unchanged: a reply
//! read before an invalidation can never be stored after it, whichever of the two the reader's
//! task and the connection's task get to first.

use std::hash::BuildHasher;
use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use lru::LruCache;
use redis::Value;

/// Shards, so concurrent readers of different sessions rarely wait on one lock.
const SHARDS: usize = 16;

struct Entry {
    /// When the session expires on the server, as read with the first reply (never later).
    expires_at: Instant,
    /// Each read command (packed) with its reply; a session is read by a few distinct commands.
    replies: Vec<(Vec<u8>, Value)>,
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

    /// The cached reply of `command` on `key`, if any, and the ticket to store the one about to
    /// be read otherwise.
    pub(crate) fn get(&self, key: &[u8], command: &[u8], now: Instant) -> (Option<Value>, Ticket) {
        let shard = self.shard_of(key);
        let mut guard = self.lock(shard);
        let ticket = Ticket {
            shard,
            invalidations: guard.invalidations,
        };
        let Some(entry) = guard.lru.get(key) else {
            return (None, ticket);
        };
        if entry.expires_at <= now {
            guard.lru.pop(key);
            return (None, ticket);
        }
        let value = entry
            .replies
            .iter()
            .find(|(c, _)| c == command)
            .map(|(_, value)| value.clone());
        (value, ticket)
    }

    /// Stores a reply read after `ticket` was taken, unless the shard saw an invalidation since
    /// (then the reply may be older than it); returns whether it was stored.
    pub(crate) fn insert(
        &self,
        key: &[u8],
        command: &[u8],
        value: Value,
        expires_at: Instant,
        ticket: Ticket,
    ) -> bool {
        let mut guard = self.lock(ticket.shard);
        if guard.invalidations != ticket.invalidations {
            return false;
        }
        match guard.lru.get_mut(key) {
            Some(entry) => {
                entry.expires_at = entry.expires_at.min(expires_at);
                match entry.replies.iter_mut().find(|(c, _)| c == command) {
                    Some((_, old)) => *old = value,
                    None => entry.replies.push((command.to_vec(), value)),
                }
            }
            None => {
                guard.lru.put(
                    key.to_vec(),
                    Entry {
                        expires_at,
                        replies: vec![(command.to_vec(), value)],
                    },
                );
            }
        }
        true
    }

    /// Forgets `key`, and refuses the replies of reads in flight on its shard.
    pub(crate) fn invalidate(&self, key: &[u8]) {
        let mut guard = self.lock(self.shard_of(key));
        guard.lru.pop(key);
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

    /// How many sessions have cached replies.
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

    #[test]
    fn a_stored_reply_is_served_until_invalidated() {
        let e = entries();
        let (_, ticket) = e.get(b"k", b"HGET k a", Instant::now());
        assert!(e.insert(b"k", b"HGET k a", Value::Int(1), later(), ticket));
        assert_eq!(
            e.get(b"k", b"HGET k a", Instant::now()).0,
            Some(Value::Int(1))
        );
        assert_eq!(e.get(b"k", b"HGET k b", Instant::now()).0, None);
        e.invalidate(b"k");
        assert_eq!(e.get(b"k", b"HGET k a", Instant::now()).0, None);
    }

    #[test]
    fn a_reply_read_before_an_invalidation_is_never_stored() {
        let e = entries();
        let (_, ticket) = e.get(b"k", b"HGET k a", Instant::now());
        e.invalidate(b"k");
        assert!(!e.insert(b"k", b"HGET k a", Value::Int(1), later(), ticket));
        let (_, ticket) = e.get(b"k", b"HGET k a", Instant::now());
        e.clear();
        assert!(!e.insert(b"k", b"HGET k a", Value::Int(1), later(), ticket));
        assert_eq!(e.len(), 0);
    }

    #[test]
    fn an_expired_session_is_never_served() {
        let e = entries();
        let (_, ticket) = e.get(b"k", b"HGETALL k", Instant::now());
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(e.insert(b"k", b"HGETALL k", Value::Int(1), soon, ticket));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(e.get(b"k", b"HGETALL k", Instant::now()).0, None);
    }
}
