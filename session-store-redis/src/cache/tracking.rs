//! The tracking connection: a RESP3 connection with `CLIENT TRACKING ON`, whose invalidation
//! pushes are applied on the connection's own task as they arrive, and a heartbeat that
//! confirms it is current, notices when it is gone, and opens a new one.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use redis::aio::{AsyncPushSender, MultiplexedConnection, SendError};
use redis::{AsyncConnectionConfig, PushInfo, PushKind, Value};

use super::ClientCache;
use crate::error::{RedisError, Result};

/// How long connecting and one command may take on the tracking connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) operation: Duration,
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
            PushKind::Disconnection => cache.lost(self.generation),
            _ => {}
        }
        Ok(())
    }
}

/// Opens a tracking connection numbered `generation`.
async fn open(
    client: &redis::Client,
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
    let opening = async {
        let mut connection = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        redis::cmd("CLIENT")
            .arg("TRACKING")
            .arg("ON")
            .query_async::<()>(&mut connection)
            .await?;
        Ok(connection)
    };
    tokio::time::timeout(timeouts.connect + timeouts.operation, opening)
        .await
        .map_err(|_| RedisError::Timeout(timeouts.connect + timeouts.operation))?
}

/// Opens the first tracking connection (an error if the server cannot track) and starts the
/// heartbeat, which ends when the store is dropped.
pub(crate) async fn start(
    client: redis::Client,
    cache: ClientCache,
    timeouts: Timeouts,
) -> Result<Arc<ClientCache>> {
    let cache = Arc::new(cache);
    let generation = cache.next_generation();
    let connection = open(&client, &cache, generation, timeouts).await?;
    cache.install(generation, connection);
    let beat = (cache.staleness / 2).max(Duration::from_millis(1));
    tokio::spawn(heartbeat(client, Arc::downgrade(&cache), beat, timeouts));
    Ok(cache)
}

/// Every `beat`: a `PING` on the tracking connection (its answer confirms every invalidation
/// queued before it was applied), or, while there is none, an attempt to open a new one.
async fn heartbeat(
    client: redis::Client,
    cache: Weak<ClientCache>,
    beat: Duration,
    timeouts: Timeouts,
) {
    let mut ticks = tokio::time::interval(beat);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(cache) = cache.upgrade() else {
            return;
        };
        match cache.current() {
            Some((generation, mut connection)) => {
                let sent = Instant::now();
                let ping = redis::cmd("PING");
                let ping = ping.query_async::<()>(&mut connection);
                match tokio::time::timeout(timeouts.operation, ping).await {
                    Ok(Ok(())) => cache.confirm(generation, sent),
                    _ => cache.lost(generation),
                }
            }
            None => {
                let generation = cache.next_generation();
                if let Ok(connection) = open(&client, &cache, generation, timeouts).await {
                    cache.install(generation, connection);
                    tracing::info!(
                        generation,
                        "Redis tracking connection back: the client cache serves again"
                    );
                }
            }
        }
    }
}
