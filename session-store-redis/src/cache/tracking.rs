//! The tracking connections: RESP3 connections with `CLIENT TRACKING ON` (one to a standalone
//! server, one to each master of a cluster), whose invalidation pushes are applied on each
//! connection's own task as they arrive, and a heartbeat that confirms they are current,
//! notices when one is gone, and opens a new set.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use redis::aio::{AsyncPushSender, MultiplexedConnection, SendError};
use redis::{AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, PushInfo, PushKind, Value};

use super::{ClientCache, NO_NODE};
use crate::error::{RedisError, Result};

/// How long connecting and one command may take on a tracking connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) operation: Duration,
}

/// A set of tracking connections and, on a cluster, which of them serves each slot.
pub(crate) struct Topology {
    pub(crate) connections: Vec<MultiplexedConnection>,
    pub(crate) slots: Option<Arc<[u16]>>,
}

/// Applies one connection's pushes to the cache, in the order they arrive.
struct Invalidations {
    cache: Weak<ClientCache>,
    generation: u64,
}

impl AsyncPushSender for Invalidations {
    fn send(&self, info: PushInfo) -> std::result::Result<(), SendError> {
        let Some(cache) = self.cache.upgrade() else {
            return Err(SendError); // the store is gone: nothing to keep coherent
        };
        match info.kind {
            PushKind::Invalidate => match info.data.first() {
                Some(Value::Array(keys)) => {
                    for key in keys {
                        match key {
                            Value::BulkString(key) => cache.entries.invalidate(key),
                            Value::SimpleString(key) => cache.entries.invalidate(key.as_bytes()),
                            _ => cache.clear(),
                        }
                    }
                }
                // `FLUSHALL`/`FLUSHDB` are announced with a null; anything else unknown empties
                // the cache too, rather than guessing what it spared.
                _ => cache.clear(),
            },
            PushKind::Disconnection => cache.lost(self.generation, "a tracking connection dropped"),
            _ => {}
        }
        Ok(())
    }
}

/// Runs `work` under the connect and operation timeouts together.
async fn within<T>(timeouts: Timeouts, work: impl Future<Output = Result<T>>) -> Result<T> {
    let limit = timeouts.connect + timeouts.operation;
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| RedisError::Timeout(limit))?
}

/// Opens one tracking connection of set `generation` to `info`.
async fn open_one(
    info: ConnectionInfo,
    cache: &Arc<ClientCache>,
    generation: u64,
    timeouts: Timeouts,
) -> Result<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(timeouts.connect))
        .set_response_timeout(Some(timeouts.operation))
        .set_push_sender(Invalidations {
            cache: Arc::downgrade(cache),
            generation,
        });
    within(timeouts, async {
        let client = redis::Client::open(info)?;
        let mut connection = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        redis::cmd("CLIENT")
            .arg("TRACKING")
            .arg("ON")
            .query_async::<()>(&mut connection)
            .await?;
        Ok(connection)
    })
    .await
}

/// `template` (its credentials, database, protocol and TLS settings) at `host:port`.
fn at(template: &ConnectionInfo, host: String, port: u16) -> ConnectionInfo {
    let addr = match template.addr() {
        ConnectionAddr::TcpTls {
            insecure,
            tls_params,
            ..
        } => ConnectionAddr::TcpTls {
            host,
            port,
            insecure: *insecure,
            tls_params: tls_params.clone(),
        },
        _ => ConnectionAddr::Tcp(host, port),
    };
    template.clone().set_addr(addr)
}

/// The cluster's masters (as addresses like `seed`'s) and which of them serves each slot, read
/// with `CLUSTER SLOTS` from `seed`.
async fn masters(
    seed: &ConnectionInfo,
    timeouts: Timeouts,
) -> Result<(Vec<ConnectionInfo>, Arc<[u16]>)> {
    // Each entry: start slot, end slot, the master as [host, port, id, ...], then replicas.
    let ranges: Vec<Vec<Value>> = within(timeouts, async {
        let client = redis::Client::open(seed.clone())?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        Ok(redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async(&mut connection)
            .await?)
    })
    .await?;
    let seed_host = match seed.addr() {
        ConnectionAddr::Tcp(host, _) | ConnectionAddr::TcpTls { host, .. } => host.clone(),
        _ => String::new(),
    };
    let mut addresses: Vec<(String, u16)> = Vec::new();
    let mut slots = vec![NO_NODE; 16_384];
    for range in ranges {
        let (Some(start), Some(end), Some(Value::Array(master))) =
            (range.first(), range.get(1), range.get(2))
        else {
            continue;
        };
        let number = |value: &Value| redis::from_redis_value_ref::<u16>(value).ok();
        let (Some(start), Some(end)) = (number(start), number(end)) else {
            continue;
        };
        let host = master
            .first()
            .and_then(|host| redis::from_redis_value_ref::<String>(host).ok())
            .unwrap_or_default();
        let Some(port) = master.get(1).and_then(number) else {
            continue;
        };
        // An empty host means the node answering: the seed.
        let host = if host.is_empty() {
            seed_host.clone()
        } else {
            host
        };
        let index = match addresses.iter().position(|a| a.0 == host && a.1 == port) {
            Some(index) => index,
            None => {
                addresses.push((host, port));
                addresses.len() - 1
            }
        };
        let index = u16::try_from(index).unwrap_or(NO_NODE);
        for slot in start..=end.min(16_383) {
            slots[usize::from(slot)] = index;
        }
    }
    let masters = addresses
        .into_iter()
        .map(|(host, port)| at(seed, host, port))
        .collect();
    Ok((masters, slots.into()))
}

fn no_nodes() -> RedisError {
    redis::RedisError::from((redis::ErrorKind::InvalidClientConfig, "no Redis node given")).into()
}

/// Opens tracking set `generation`: to `seeds[0]` for standalone Redis, or to every master of
/// the cluster (its slot map read from the first seed that answers).
async fn open_all(
    seeds: &[ConnectionInfo],
    cluster: bool,
    cache: &Arc<ClientCache>,
    generation: u64,
    timeouts: Timeouts,
) -> Result<Topology> {
    if !cluster {
        let seed = seeds.first().cloned().ok_or_else(no_nodes)?;
        let connection = open_one(seed, cache, generation, timeouts).await?;
        return Ok(Topology {
            connections: vec![connection],
            slots: None,
        });
    }
    let mut failure = no_nodes();
    for seed in seeds {
        let (masters, slots) = match masters(seed, timeouts).await {
            Ok(found) => found,
            Err(e) => {
                failure = e;
                continue;
            }
        };
        let opening = masters
            .into_iter()
            .map(|master| open_one(master, cache, generation, timeouts));
        let connections = futures::future::try_join_all(opening).await?;
        return Ok(Topology {
            connections,
            slots: Some(slots),
        });
    }
    Err(failure)
}

/// Opens the first tracking set (an error if the server cannot track) and starts the
/// heartbeat, which ends when the store is dropped.
pub(crate) async fn start(
    seeds: Vec<ConnectionInfo>,
    cluster: bool,
    cache: ClientCache,
    timeouts: Timeouts,
) -> Result<Arc<ClientCache>> {
    let cache = Arc::new(cache);
    let generation = cache.next_generation();
    let topology = open_all(&seeds, cluster, &cache, generation, timeouts).await?;
    cache.install(generation, topology);
    let beat = (cache.staleness / 2).max(Duration::from_millis(1));
    let heartbeat = Heartbeat {
        seeds,
        cluster,
        cache: Arc::downgrade(&cache),
        timeouts,
    };
    tokio::spawn(heartbeat.run(beat));
    Ok(cache)
}

/// What the heartbeat needs to reopen the tracking set.
struct Heartbeat {
    seeds: Vec<ConnectionInfo>,
    cluster: bool,
    cache: Weak<ClientCache>,
    timeouts: Timeouts,
}

impl Heartbeat {
    /// Every `beat`: a `PING` on every tracking connection (each answer confirms that every
    /// invalidation its node queued before it was applied), or, while there is no set, an
    /// attempt to open a new one.
    async fn run(self, beat: Duration) {
        let mut ticks = tokio::time::interval(beat);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(cache) = self.cache.upgrade() else {
                return;
            };
            match cache.current() {
                Some((generation, connections)) => {
                    let sent = Instant::now();
                    let pings = connections.into_iter().map(|mut connection| async move {
                        let ping = redis::cmd("PING");
                        let ping = ping.query_async::<()>(&mut connection);
                        matches!(
                            tokio::time::timeout(self.timeouts.operation, ping).await,
                            Ok(Ok(()))
                        )
                    });
                    let answered = futures::future::join_all(pings).await;
                    if answered.iter().all(|ok| *ok) {
                        for node in 0..answered.len() {
                            cache.confirm(generation, node, sent);
                        }
                    } else {
                        cache.lost(generation, "a tracking connection stopped answering");
                    }
                }
                None => {
                    let generation = cache.next_generation();
                    let opened =
                        open_all(&self.seeds, self.cluster, &cache, generation, self.timeouts)
                            .await;
                    if let Ok(topology) = opened {
                        cache.install(generation, topology);
                        tracing::info!(
                            generation,
                            "Redis client cache: tracking back, the cache serves again"
                        );
                    }
                }
            }
        }
    }
}
