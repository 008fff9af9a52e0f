//! The cached session hashes: an LRU per shard, keyed by a session's Redis key, each entry
//! holding the whole hash (every field, as stored) and when the session expires; or a note to
//! read the session from the server: its hash is too big to keep, or it is being written right
//! now ([`HOT_FOR`]); or a note that it is being read into the cache.
//!
//! A reader that misses leaves that note (a [`Ticket`] number) on the key before it sends its
//! read, and its reply is stored only if the note is still there: an invalidation of the key
//! replaces the note, and emptying the cache removes it, so a reply read before an
//! invalidation can never be stored after it, whichever of the two the reader's task and the
//! connection's task get to first. The note is the key's own, so the invalidations of other
//! sessions (on a busy store, one every few microseconds) refuse no reply.

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
    /// [`Held::Hot`], when the session may be cached again. Not used for [`Held::Reading`].
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
    /// Being read into the cache, by the readers holding this ticket number; nothing
    /// invalidated it since the first of them took it.
    Reading(u64),
}

/// What the cache holds for a key, and what a reader does.
pub(crate) enum Found {
    /// The whole hash: serve it.
    Fields(Arc<Fields>),
    /// Read the session from the server, and store nothing (it cannot be kept, or it was
    /// written right now).
    Server,
    /// Read the hash into the cache, storing it with this ticket.
    Read(Ticket),
}

struct Shard {
    lru: LruCache<Vec<u8>, Entry>,
    /// The last ticket number handed out (never reused, so a ticket taken before the cache
    /// was emptied matches no note left after).
    tickets: u64,
}

/// A reader's claim to store the reply of the read it is about to send.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    shard: usize,
    number: u64,
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
                        tickets: 0,
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

    /// What to do for a read of `key` at `now`. A cached hash is served only when `current`
    /// (the connection showed lately that it is current); otherwise, and when nothing usable is
    /// cached, the reader gets a ticket and the key's note that it is being read.
    pub(crate) fn get(&self, key: &[u8], now: Instant, current: bool) -> Found {
        let shard = self.shard_of(key);
        let mut guard = self.lock(shard);
        if let Some(entry) = guard.lru.get(key) {
            let live = entry.until > now;
            match &entry.held {
                Held::Fields(fields) if live && current => return Found::Fields(fields.clone()),
                Held::Uncacheable | Held::Hot if live => return Found::Server,
                // No invalidation since the note was left, so none since now either: this
                // reader's reply may be stored with the same ticket.
                &Held::Reading(number) => return Found::Read(Ticket { shard, number }),
                _ => {}
            }
        }
        guard.tickets += 1;
        let number = guard.tickets;
        let note = Entry {
            until: now,
            held: Held::Reading(number),
        };
        guard.lru.put(key.to_vec(), note);
        Found::Read(Ticket { shard, number })
    }

    /// Stores the hash read with `ticket` (`None`: it cannot be kept) if the key's note is
    /// still the ticket's (nothing invalidated the key, emptied the cache or pushed the note
    /// out since); returns whether it was stored.
    pub(crate) fn insert(
        &self,
        key: &[u8],
        fields: Option<Arc<Fields>>,
        expires_at: Instant,
        ticket: Ticket,
    ) -> bool {
        let mut guard = self.lock(ticket.shard);
        let Some(entry) = guard.lru.get_mut(key) else {
            return false;
        };
        if !matches!(entry.held, Held::Reading(number) if number == ticket.number) {
            return false;
        }
        *entry = Entry {
            until: expires_at,
            held: fields.map_or(Held::Uncacheable, Held::Fields),
        };
        true
    }

    /// Forgets `key`: a session cached, or being read, is marked hot (so the replies of reads
    /// in flight are refused).
    pub(crate) fn invalidate(&self, key: &[u8]) {
        let mut guard = self.lock(self.shard_of(key));
        if let Some(entry) = guard.lru.peek_mut(key) {
            *entry = Entry {
                until: Instant::now() + HOT_FOR,
                held: Held::Hot,
            };
        }
    }

    /// Forgets everything, and so refuses the replies of every read in flight.
    pub(crate) fn clear(&self) {
        for shard in 0..SHARDS {
            self.lock(shard).lru.clear();
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

    /// What a confirmed reader of `key` gets: the cached value, "from the server", or `None`
    /// (it reads the hash into the cache).
    fn cached(e: &Entries, key: &[u8]) -> Option<String> {
        match e.get(key, Instant::now(), true) {
            Found::Fields(fields) => fields.values["a"].as_str().map(str::to_owned),
            Found::Server => Some("from the server".into()),
            Found::Read(_) => None,
        }
    }

    fn ticket(e: &Entries, key: &[u8]) -> Ticket {
        match e.get(key, Instant::now(), true) {
            Found::Read(ticket) => ticket,
            _ => panic!("expected to read {key:?} into the cache"),
        }
    }

    #[test]
    fn a_stored_hash_is_served_until_invalidated() {
        let e = entries();
        let t = ticket(&e, b"k");
        assert!(e.insert(b"k", hash("1"), later(), t));
        assert_eq!(cached(&e, b"k").as_deref(), Some("1"));
        assert_eq!(cached(&e, b"other"), None);
        e.invalidate(b"k");
        assert_eq!(cached(&e, b"k").as_deref(), Some("from the server"));
        std::thread::sleep(HOT_FOR);
        let t = ticket(&e, b"k");
        assert!(e.insert(b"k", None, later(), t));
        assert_eq!(cached(&e, b"k").as_deref(), Some("from the server"));
    }

    #[test]
    fn a_hash_read_before_an_invalidation_is_never_stored() {
        let e = entries();
        let t = ticket(&e, b"k");
        e.invalidate(b"k");
        assert!(!e.insert(b"k", hash("1"), later(), t));
        // Changed while it was read: read from the server for a moment.
        assert_eq!(cached(&e, b"k").as_deref(), Some("from the server"));
        let t = ticket(&e, b"j");
        e.clear();
        assert!(!e.insert(b"j", hash("1"), later(), t));
        // Emptied while it was read: a new reader gets a new ticket, and the old one still
        // matches nothing.
        let fresh = ticket(&e, b"j");
        assert!(!e.insert(b"j", hash("old"), later(), t));
        assert!(e.insert(b"j", hash("new"), later(), fresh));
        assert_eq!(cached(&e, b"j").as_deref(), Some("new"));
    }

    #[test]
    fn other_sessions_invalidated_meanwhile_refuse_no_reply() {
        let e = entries();
        let t = ticket(&e, b"k");
        // Enough other keys that some share k's shard.
        for n in 0..200 {
            e.invalidate(format!("other{n}").as_bytes());
        }
        assert!(e.insert(b"k", hash("1"), later(), t));
        assert_eq!(cached(&e, b"k").as_deref(), Some("1"));
    }

    #[test]
    fn readers_of_one_key_share_its_ticket_and_the_first_reply_stays() {
        let e = entries();
        let first = ticket(&e, b"k");
        let second = ticket(&e, b"k");
        assert!(e.insert(b"k", hash("1"), later(), second));
        assert!(!e.insert(b"k", hash("2"), later(), first));
        assert_eq!(cached(&e, b"k").as_deref(), Some("1"));
    }

    #[test]
    fn an_unconfirmed_reader_reads_again_and_a_pushed_out_note_refuses() {
        let e = entries();
        let t = ticket(&e, b"k");
        assert!(e.insert(b"k", hash("1"), later(), t));
        let Found::Read(again) = e.get(b"k", Instant::now(), false) else {
            panic!("an unconfirmed reader must read through");
        };
        assert!(e.insert(b"k", hash("2"), later(), again));
        assert_eq!(cached(&e, b"k").as_deref(), Some("2"));
        // One entry per shard here (16 / 16): the other keys push the note out.
        let small = Entries::new(NonZeroUsize::new(16).unwrap());
        let t = ticket(&small, b"k");
        for n in 0..200 {
            let _ = ticket(&small, format!("other{n}").as_bytes());
        }
        assert!(!small.insert(b"k", hash("1"), later(), t));
    }

    #[test]
    fn an_expired_session_is_never_served() {
        let e = entries();
        let t = ticket(&e, b"k");
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(e.insert(b"k", hash("1"), soon, t));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(cached(&e, b"k"), None);
    }
}
