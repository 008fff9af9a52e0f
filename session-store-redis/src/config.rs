//! `RedisStoreBuilder`: standalone or cluster, key prefix, timeouts, and their defaults.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use session_core::StoreError;

use crate::RedisStore;
use crate::cache::{self, CacheSettings, DEFAULT_CACHE_STALENESS, Timeouts};
use crate::connection::Connection;
use crate::error::RedisError;
use crate::keys::Keys;

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "session:";

/// The default time one operation may take before it fails with [`StoreError::Unavailable`].
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(2);

/// The default time to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Which Redis to talk to.
#[derive(Clone)]
enum Target {
    Single(String),
    Cluster(Vec<String>),
    /// A connection the application brought.
    Connected(Connection),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Single(url) => f.debug_tuple("Single").field(url).finish(),
            Self::Cluster(nodes) => f.debug_tuple("Cluster").field(nodes).finish(),
            Self::Connected(_) => f.write_str("Connected"),
        }
    }
}

/// Settings for a [`RedisStore`].
///
/// # Examples
/// ```no_run
/// # async fn run() -> Result<(), session_core::StoreError> {
/// use std::time::Duration;
/// use session_store_redis::RedisStore;
///
/// // Standalone Redis:
/// let store = RedisStore::builder("redis://127.0.0.1:6379")
///     .prefix("myapp:session:")
///     .operation_timeout(Duration::from_millis(500))
///     .connect()
///     .await?;
///
/// // Redis Cluster, from any of its nodes:
/// let cluster = RedisStore::cluster_builder(["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"])
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RedisStoreBuilder {
    target: Target,
    prefix: String,
    operation_timeout: Duration,
    connect_timeout: Duration,
    cache: Option<CacheSettings>,
}

impl RedisStoreBuilder {
    pub(crate) fn single(url: impl Into<String>) -> Self {
        Self::with_target(Target::Single(url.into()))
    }

    pub(crate) fn cluster(nodes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self::with_target(Target::Cluster(nodes.into_iter().map(Into::into).collect()))
    }

    pub(crate) fn connected(connection: Connection) -> Self {
        Self::with_target(Target::Connected(connection))
    }

    fn with_target(target: Target) -> Self {
        Self {
            target,
            prefix: DEFAULT_PREFIX.into(),
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            cache: None,
        }
    }

    /// The prefix of every key the store writes; it may not contain `{` or `}` (the session id is
    /// the hash tag).
    ///
    /// The default is [`DEFAULT_PREFIX`].
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long one operation may take; past it, it fails with [`StoreError::Unavailable`], also
    /// while the server is down or restarting.
    ///
    /// The default is [`DEFAULT_OPERATION_TIMEOUT`].
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// How long establishing (or re-establishing) a connection may take.
    ///
    /// The default is [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Turns on the client-side cache, holding up to `sessions` session hashes
    /// ([`DEFAULT_CACHE_SESSIONS`] is a fair start) for reads that do not touch: a read the
    /// cache can answer costs no round trip (the crate docs say when it pays). Redis keeps it
    /// coherent (RESP3 `CLIENT TRACKING` on a connection of the store's own to the server, or
    /// to every master of a cluster; Redis 6 or later): a change made through any instance is
    /// never served as its old value past the staleness bound after that change was answered
    /// ([`client_cache_staleness`](Self::client_cache_staleness)), and a lost tracking
    /// connection empties it. Every write goes to the server as before, and forgets the
    /// session here at once. Off by default; `0` turns it off.
    ///
    /// Worth it when sessions are read far more often than written (most page loads only read
    /// the session). Not available on a connection brought by the application (`connect`
    /// answers [`StoreError::InvalidInput`]): the store must open the tracking connections.
    ///
    /// [`DEFAULT_CACHE_SESSIONS`]: crate::DEFAULT_CACHE_SESSIONS
    pub fn client_cache(mut self, sessions: usize) -> Self {
        self.cache = std::num::NonZeroUsize::new(sessions).map(|sessions| CacheSettings {
            sessions,
            staleness: self.cache.map_or(DEFAULT_CACHE_STALENESS, |c| c.staleness),
        });
        self
    }

    /// The client-side cache's coherence bound: how long after a change through another
    /// instance was answered this one may still serve the value before it. The cache serves a
    /// reply only while its tracking connection answered a command sent at most this long ago
    /// (a `PING` every half of it keeps that so), so a shorter bound costs more pings and
    /// nothing else. The default is [`DEFAULT_CACHE_STALENESS`]; it needs
    /// [`client_cache`](Self::client_cache).
    pub fn client_cache_staleness(mut self, staleness: Duration) -> Self {
        if let Some(cache) = &mut self.cache {
            cache.staleness = staleness;
        }
        self
    }

    fn keys(&self) -> Result<Keys, StoreError> {
        Keys::new(&self.prefix).map_err(StoreError::InvalidInput)
    }

    /// Connects (unless the builder was given a connection) and builds the store.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a malformed URL or prefix; [`StoreError::Unavailable`] when
    /// the server cannot be reached in time.
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let keys = self.keys()?;
        if let Some(cache) = self.cache {
            if matches!(self.target, Target::Connected(_)) {
                return Err(StoreError::InvalidInput(
                    "the client-side cache needs the store to open its own connections (from a \
                     URL or cluster nodes), not a connection brought by the application"
                        .into(),
                ));
            }
            if cache.staleness < Duration::from_millis(2) {
                return Err(StoreError::InvalidInput(
                    "the client-side cache's staleness bound must be at least 2 ms".into(),
                ));
            }
        }
        let invalid =
            |e: redis::RedisError| StoreError::InvalidInput(format!("bad Redis address: {e}"));
        let connecting = async {
            match &self.target {
                Target::Single(url) => {
                    let client = redis::Client::open(url.as_str()).map_err(invalid)?;
                    let config = ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(self.connect_timeout))
                        .set_response_timeout(Some(self.operation_timeout))
                        // Reconnect attempts back off from 10 ms up to 100 ms, so a restarted
                        // server is found quickly and a down one fails fast.
                        .set_number_of_retries(1)
                        .set_min_delay(Duration::from_millis(10))
                        .set_max_delay(Duration::from_millis(100));
                    let manager = ConnectionManager::new_with_config(client, config)
                        .await
                        .map_err(|e| RedisError::from(e).into_store_error("connecting to Redis"))?;
                    Ok(Connection::Single(manager))
                }
                Target::Cluster(nodes) => {
                    let client = ClusterClient::builder(nodes.clone())
                        .connection_timeout(self.connect_timeout)
                        .response_timeout(self.operation_timeout)
                        .retries(2)
                        .build()
                        .map_err(invalid)?;
                    let cluster = client.get_async_connection().await.map_err(|e| {
                        RedisError::from(e).into_store_error("connecting to Redis Cluster")
                    })?;
                    Ok(Connection::Cluster(cluster))
                }
                Target::Connected(connection) => Ok(connection.clone()),
            }
        };
        let connection = tokio::time::timeout(self.connect_timeout * 3, connecting)
            .await
            .map_err(|_| {
                RedisError::Timeout(self.connect_timeout * 3)
                    .into_store_error("connecting to Redis")
            })??;
        let cache = match (&self.target, self.cache) {
            (Target::Single(url), Some(settings)) => Some(
                self.start_cache(std::slice::from_ref(url), false, settings)
                    .await?,
            ),
            (Target::Cluster(nodes), Some(settings)) => {
                Some(self.start_cache(nodes, true, settings).await?)
            }
            _ => None,
        };
        Ok(RedisStore::from_parts(
            connection,
            keys,
            self.operation_timeout,
            cache,
        ))
    }

    /// The client-side cache's tracking connections: RESP3, to the store's server or to every
    /// master of its cluster.
    async fn start_cache(
        &self,
        urls: &[String],
        cluster: bool,
        settings: CacheSettings,
    ) -> Result<std::sync::Arc<cache::ClientCache>, StoreError> {
        use redis::IntoConnectionInfo;
        let invalid =
            |e: redis::RedisError| StoreError::InvalidInput(format!("bad Redis address: {e}"));
        let seeds = urls
            .iter()
            .map(|url| {
                let info = url.as_str().into_connection_info().map_err(invalid)?;
                let resp3 = info
                    .redis_settings()
                    .clone()
                    .set_protocol(redis::ProtocolVersion::RESP3);
                Ok(info.set_redis_settings(resp3))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let timeouts = Timeouts {
            connect: self.connect_timeout,
            operation: self.operation_timeout,
        };
        cache::start(seeds, cluster, settings, timeouts)
            .await
            .map_err(|e| {
                e.into_store_error(
                    "starting the client-side cache (it needs RESP3 and CLIENT TRACKING: Redis 6 or later)",
                )
            })
    }
}
