//! The client-side cache: session hashes kept whole in this process, so reads that do not touch
//! (`get`, `get_many`, `get_all`) are answered from them, and kept coherent by Redis itself
//! (RESP3 `CLIENT TRACKING`: the server pushes an invalidation on the tracking connection
//! whenever a key this client read changes, expires or is deleted, by any client). A miss reads
//! the whole hash (`HGETALL`, with its `PTTL`), so the next read of any key of that session is
//! a hit; a hash over [`MAX_CACHED_HASH_BYTES`] is read from the server each time instead.
//!
//! Why not the `redis` crate's own `cache-aio`: it stores a reply in the reader's task after the
//! reply arrived, so an invalidation the connection handled in between is lost and the old reply
//! stays cached; and a `ConnectionManager` hands pushes to another task, so a reply can be seen
//! before an invalidation that came ahead of it. Here the invalidations are applied on the
//! connection's own task, in wire order, and a reply is stored only if no invalidation of its
//! key came since its read was sent ([`entries`]).
//!
//! The coherence bound: a cached reply is served only while a command sent on the tracking
//! connection at most `staleness` ago has been answered. Every invalidation the server queued
//! before that command's reply has been applied by then, and the server queues a write's
//! invalidations before it answers the writer; so once any instance's write was answered at
//! time `t`, no instance serves the old value after `t + staleness`. A heartbeat (`PING` every
//! half of it) keeps idle caches serving; when the heartbeat fails or the connection drops, the
//! cache is emptied and reads go to the server until a new tracking connection is up.

mod entries;
mod tracking;

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

use crate::error::Result;
use crate::keys;
use entries::{Entries, Found};
pub(crate) use entries::{Fields, Ticket};

/// The default most sessions the cache holds replies for.
pub const DEFAULT_CACHE_SESSIONS: usize = 10_000;

/// The biggest session hash (field names and values, in bytes) the cache keeps: a bigger one
/// is read from the server each time, so the cache holds at most this much per session.
pub const MAX_CACHED_HASH_BYTES: usize = 64 * 1024;

/// The default coherence bound: how long after another instance's write was answered this one
/// may still serve the value before it.
pub const DEFAULT_CACHE_STALENESS: Duration = Duration::from_millis(100);

/// The settings of a client-side cache.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CacheSettings {
    pub(crate) sessions: NonZeroUsize,
    pub(crate) staleness: Duration,
}

/// One node's tracking connection, and what it has confirmed.
struct Node {
    connection: MultiplexedConnection,
    /// When the newest answered command on it was sent.
    confirmed: Option<Instant>,
}

/// The tracking connections while they are up: one for standalone Redis, one per master of a
/// cluster (a key's invalidations come from the master that holds it).
struct Tracking {
    /// Which set of connections this is; pushes and answers of an older one change nothing.
    generation: u64,
    /// Empty while down.
    nodes: Vec<Node>,
    /// The node serving each cluster slot ([`NO_NODE`] where none did); `None` standalone.
    slots: Option<Arc<[u16]>>,
}

/// In a slot map: no node served this slot when the map was read.
pub(crate) const NO_NODE: u16 = u16::MAX;

impl Tracking {
    /// The node that holds `key`, if it is known.
    fn node_of(&self, key: &str) -> Option<usize> {
        let index = match &self.slots {
            None => 0,
            Some(slots) => usize::from(slots[usize::from(keys::slot(key))]),
        };
        (index < self.nodes.len()).then_some(index)
    }
}

/// One store's cache (shared by its clones).
pub(crate) struct ClientCache {
    entries: Entries,
    tracking: Mutex<Tracking>,
    generations: AtomicU64,
    staleness: Duration,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// A read the cache cannot answer yet: it goes through the tracking connection of the node
/// that holds the key, and its reply is stored with the ticket.
pub(crate) struct Miss {
    ticket: Ticket,
    generation: u64,
    node: usize,
}

/// What a read does with the cache.
pub(crate) enum Lookup {
    /// Served from the cache.
    Hit(Arc<Fields>),
    /// Read through the tracking connection.
    Miss(Miss),
    /// No tracking connection, or nothing to keep: read from the server, store nothing.
    Bypass,
}

/// How many reads the cache answered and how many went to the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Reads served from the cache.
    pub hits: u64,
    /// Cacheable reads that went to the server (a miss, an unconfirmed or missing tracking
    /// connection).
    pub misses: u64,
    /// Sessions the cache holds something for now: a hash, a note to read one from the
    /// server, or a read in flight.
    pub sessions: usize,
}

impl ClientCache {
    fn new(settings: CacheSettings) -> Self {
        Self {
            entries: Entries::new(settings.sessions),
            tracking: Mutex::new(Tracking {
                generation: 0,
                nodes: Vec::new(),
                slots: None,
            }),
            generations: AtomicU64::new(0),
            staleness: settings.staleness,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Tracking> {
        self.tracking.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What to do for a read of the session hash `key`.
    pub(crate) fn lookup(&self, key: &str) -> Lookup {
        let now = Instant::now();
        let (generation, node, confirmed) = {
            let state = self.state();
            let Some(index) = state.node_of(key) else {
                self.misses.fetch_add(1, Ordering::Relaxed);
                return Lookup::Bypass;
            };
            let node = &state.nodes[index];
            let confirmed = node
                .confirmed
                .is_some_and(|at| now.saturating_duration_since(at) <= self.staleness);
            (state.generation, index, confirmed)
        };
        match self.entries.get(key.as_bytes(), now, confirmed) {
            Found::Fields(fields) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Lookup::Hit(fields)
            }
            Found::Server => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                Lookup::Bypass
            }
            // Not cached, or cached while the connection has not shown lately that it is
            // current: read through it, which shows it.
            Found::Read(ticket) => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                Lookup::Miss(Miss {
                    ticket,
                    generation,
                    node,
                })
            }
        }
    }

    /// Reads the whole hash `key` through the tracking connection of `miss` with the session's
    /// remaining lifetime, decodes it, and stores it when the session is live and nothing was
    /// invalidated meanwhile. `None` when the caller should read from the server instead: a
    /// value is not JSON (the server reports that for the key that holds it; the hash is not
    /// cached), the cluster moved the key's slot, or the tracking connection failed (then the
    /// tracking connections are dropped, to be opened again).
    pub(crate) async fn read_through(&self, key: &str, miss: Miss) -> Result<Option<Arc<Fields>>> {
        let Miss {
            ticket,
            generation,
            node,
        } = miss;
        // Cloned here, not in `lookup`: a hit needs no connection.
        let Some(mut connection) = self.connection_of(generation, node) else {
            return Ok(None); // the set was replaced or lost meanwhile
        };
        let sent = Instant::now();
        let reply: redis::RedisResult<(HashMap<String, String>, i64)> = redis::pipe()
            .cmd("HGETALL")
            .arg(key)
            .cmd("PTTL")
            .arg(key)
            .query_async(&mut connection)
            .await;
        let (stored, pttl) = match reply {
            Ok(reply) => reply,
            Err(e) if e.is_cluster_error() => {
                self.lost(generation, "the cluster's slots changed");
                return Ok(None);
            }
            // The tracking connection failed, not necessarily the server: the main
            // connection (which reconnects by itself) answers this read.
            Err(e)
                if e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() =>
            {
                self.lost(generation, "a tracking connection failed");
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        self.confirm(generation, node, sent);
        let size: usize = stored.iter().map(|(k, v)| k.len() + v.len()).sum();
        let fields = decode(stored).map(Arc::new);
        if let Ok(left) = u64::try_from(pttl)
            && left > 0
        {
            let kept = fields
                .as_ref()
                .filter(|_| size <= MAX_CACHED_HASH_BYTES)
                .cloned();
            let expires_at = sent + Duration::from_millis(left);
            self.entries
                .insert(key.as_bytes(), kept, expires_at, ticket);
        }
        Ok(fields)
    }

    /// Node `node`'s tracking connection, while set `generation` is the current one.
    fn connection_of(&self, generation: u64, node: usize) -> Option<MultiplexedConnection> {
        let state = self.state();
        let node = state
            .nodes
            .get(node)
            .filter(|_| state.generation == generation)?;
        Some(node.connection.clone())
    }

    /// A command sent on node `node` of connections `generation` at `sent` was answered.
    fn confirm(&self, generation: u64, node: usize, sent: Instant) {
        let mut state = self.state();
        if state.generation == generation
            && let Some(node) = state.nodes.get_mut(node)
        {
            node.confirmed = Some(node.confirmed.map_or(sent, |at| at.max(sent)));
        }
    }

    /// This process changed (or may have changed) `key`: forget it here at once, without
    /// waiting for the server's push.
    pub(crate) fn invalidate(&self, key: &str) {
        self.entries.invalidate(key.as_bytes());
    }

    /// Forgets everything (a change to sessions this process cannot name).
    pub(crate) fn clear(&self) {
        self.entries.clear();
    }

    /// A connection of set `generation` is gone or failed (or the slots moved): nothing cached
    /// may be served any more, since invalidations may have been missed.
    fn lost(&self, generation: u64, why: &str) {
        let mut state = self.state();
        if state.generation == generation && !state.nodes.is_empty() {
            state.nodes.clear();
            state.slots = None;
            drop(state);
            self.entries.clear();
            tracing::warn!(
                generation,
                why,
                "Redis client cache: tracking lost, the cache is emptied and reads go to the server until it is back"
            );
        }
    }

    /// New tracking connections are up: they start from an empty cache.
    fn install(&self, generation: u64, topology: tracking::Topology) {
        let mut state = self.state();
        self.entries.clear();
        *state = Tracking {
            generation,
            nodes: topology
                .connections
                .into_iter()
                .map(|connection| Node {
                    connection,
                    confirmed: None,
                })
                .collect(),
            slots: topology.slots,
        };
    }

    fn next_generation(&self) -> u64 {
        self.generations.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The current connections, if any.
    fn current(&self) -> Option<(u64, Vec<MultiplexedConnection>)> {
        let state = self.state();
        (!state.nodes.is_empty()).then(|| {
            let connections = state.nodes.iter().map(|n| n.connection.clone());
            (state.generation, connections.collect())
        })
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            sessions: self.entries.len(),
        }
    }
}

/// A session hash as stored, decoded; `None` when a session key's value is not JSON.
fn decode(stored: HashMap<String, String>) -> Option<Fields> {
    let mut fields = Fields {
        exists: !stored.is_empty(),
        ..Fields::default()
    };
    for (field, text) in stored {
        if field == keys::MARKER {
            fields.marked = true;
        } else if !keys::is_internal(&field) {
            fields
                .values
                .insert(field, serde_json::from_str(&text).ok()?);
        }
    }
    Some(fields)
}

/// Opens the tracking connections (to `seeds[0]` for standalone Redis; to every master of the
/// cluster the seeds belong to otherwise) and starts their heartbeat.
pub(crate) async fn start(
    seeds: Vec<redis::ConnectionInfo>,
    cluster: bool,
    settings: CacheSettings,
    timeouts: tracking::Timeouts,
) -> Result<Arc<ClientCache>> {
    tracking::start(seeds, cluster, ClientCache::new(settings), timeouts).await
}

pub(crate) use tracking::Timeouts;

/// Forgets `key` when dropped: a write that was cancelled may still land.
pub(crate) struct InvalidateAfter<'a> {
    pub(crate) cache: Option<&'a ClientCache>,
    pub(crate) key: &'a str,
}

impl Drop for InvalidateAfter<'_> {
    fn drop(&mut self) {
        if let Some(cache) = self.cache {
            cache.invalidate(self.key);
        }
    }
}
