//! `RedisStore` and its [`Store`] implementation.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::cluster_async::ClusterConnection;
use session_core::{
    Change, KeyKind, Map, SessionId, Store, StoreError, Value, async_trait, validate_key,
    validate_ttl,
};

use crate::RedisStoreBuilder;
use crate::cache::{CacheStats, ClientCache, Fields, InvalidateAfter, Lookup};
use crate::connection::Connection;
use crate::error::{RedisError, Result};
use crate::keys::{self, Keys};
use crate::script;

/// The largest JSON text one value may take: Redis's maximum string size.
pub const MAX_VALUE_LEN: usize = 512 * 1024 * 1024;

/// A session store in Redis or Redis Cluster: one hash per session, with its expiry on the key.
///
/// Cheap to clone: clones share the connection. Each operation is one round trip: a plain
/// command, or a script where it has several steps, so it is atomic and the expiry is set with the
/// write.
#[derive(Clone)]
pub struct RedisStore {
    pub(crate) connection: Connection,
    pub(crate) keys: Keys,
    timeout: Duration,
    /// The client-side cache, when turned on ([`RedisStoreBuilder::client_cache`]).
    cache: Option<Arc<ClientCache>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match self.connection {
            Connection::Single(_) => "standalone",
            Connection::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisStore")
            .field("mode", &mode)
            .field("prefix", &self.keys.prefix())
            .field("client_cache", &self.cache.is_some())
            .finish()
    }
}

/// A TTL as whole milliseconds, rounded up (TTLs are validated to at most ten years).
fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

/// The command `name` with `args`, then `more`, its buffers sized up front: a read builds its
/// command with two allocations instead of a reallocation per argument (the request path's
/// profile showed them).
fn command(name: &str, args: &[&str], more: &[&str]) -> redis::Cmd {
    let all = || std::iter::once(name).chain(args.iter().chain(more).copied());
    // The command keeps its arguments' bytes back to back; framing comes when it is sent.
    let bytes = all().map(str::len).sum();
    let mut command = redis::Cmd::with_capacity(1 + args.len() + more.len(), bytes);
    for arg in all() {
        command.arg(arg);
    }
    command
}

fn decode(text: &str) -> Result<Value> {
    Ok(serde_json::from_str(text)?)
}

/// A batch as its net effect: the keys it leaves set (with their last value) and the keys it
/// leaves removed, each key once.
fn collapse(changes: Vec<Change>) -> (Vec<(String, Value)>, Vec<String>) {
    // Batches are mostly a few keys: a scan beats hashing them; big ones get an index.
    const SCAN_UP_TO: usize = 16;
    let mut last: Vec<(String, Option<Value>)> = Vec::with_capacity(changes.len());
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let large = changes.len() > SCAN_UP_TO;
    for change in changes {
        let (key, value) = match change {
            Change::Set(key, value) => (key, Some(value)),
            Change::Del(key) => (key, None),
        };
        let found = if large {
            index.get(&key).copied()
        } else {
            last.iter().position(|(k, _)| *k == key)
        };
        match found {
            Some(at) => last[at].1 = value,
            None => {
                if large {
                    index.insert(key.clone(), last.len());
                }
                last.push((key, value));
            }
        }
    }
    let mut sets = Vec::with_capacity(last.len());
    let mut dels = Vec::new();
    for (key, value) in last {
        match value {
            Some(value) => sets.push((key, value)),
            None => dels.push(key),
        }
    }
    (sets, dels)
}

/// The session keys among a hash's fields; `None` when the hash is empty (no session).
fn session_map(fields: Vec<(String, String)>) -> Result<Option<Map>> {
    if fields.is_empty() {
        return Ok(None);
    }
    let mut map = Map::new();
    for (field, value) in fields {
        if !keys::is_internal(&field) {
            map.insert(field, decode(&value)?);
        }
    }
    Ok(Some(map))
}

impl RedisStore {
    /// Connects to standalone Redis at `url` with the default settings.
    ///
    /// # Errors
    /// As [`RedisStoreBuilder::connect`].
    pub async fn connect(url: &str) -> std::result::Result<Self, StoreError> {
        Self::builder(url).connect().await
    }

    /// Settings for standalone Redis at `url` (`redis://host:port/db`).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder::single(url)
    }

    /// Settings for Redis Cluster, given one or more of its nodes.
    pub fn cluster_builder(
        nodes: impl IntoIterator<Item = impl Into<String>>,
    ) -> RedisStoreBuilder {
        RedisStoreBuilder::cluster(nodes)
    }

    /// Settings for a store on a `ConnectionManager` you already have (cheap to clone; share it).
    ///
    /// The connection keeps its own settings: redis 1.x gives a `ConnectionManager` a 500 ms
    /// response timeout by default (0.x had none), and the store's operation timeout applies on
    /// top of it.
    pub fn builder_with_manager(manager: ConnectionManager) -> RedisStoreBuilder {
        RedisStoreBuilder::connected(Connection::Single(manager))
    }

    /// Settings for a store on a cluster connection you already have.
    pub fn builder_with_cluster(cluster: ClusterConnection) -> RedisStoreBuilder {
        RedisStoreBuilder::connected(Connection::Cluster(cluster))
    }

    pub(crate) fn from_parts(
        connection: Connection,
        keys: Keys,
        timeout: Duration,
        cache: Option<Arc<ClientCache>>,
    ) -> Self {
        Self {
            connection,
            keys,
            timeout,
            cache,
        }
    }

    /// How many reads the client-side cache served and how many went to the server; `None`
    /// when the cache is off.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_deref().map(ClientCache::stats)
    }

    /// The session hash `hash` whole from the client-side cache, for a read that does not
    /// touch: a hit, or a read of the whole hash through the tracking connection (which caches
    /// it); `None` when the cache is off or cannot serve it now (no tracking connection, a hash
    /// too big to keep), and the caller reads from the server.
    async fn cached(
        &self,
        context: &'static str,
        hash: &str,
    ) -> std::result::Result<Option<Arc<Fields>>, StoreError> {
        let Some(cache) = self.cache.as_deref() else {
            return Ok(None);
        };
        match cache.lookup(hash) {
            Lookup::Hit(fields) => Ok(Some(fields)),
            Lookup::Miss(miss) => {
                let read = cache.read_through(hash, miss);
                self.op(context, read).await
            }
            Lookup::Bypass => Ok(None),
        }
    }

    /// One plain command on the store's connection, under the operation timeout.
    async fn query<T: redis::FromRedisValue>(
        &self,
        context: &'static str,
        command: redis::Cmd,
    ) -> std::result::Result<T, StoreError> {
        let mut conn = self.connection.clone();
        self.op(
            context,
            async move { Ok(command.query_async(&mut conn).await?) },
        )
        .await
    }

    /// Forgets every cached session hash (a change to sessions this process cannot name).
    pub(crate) fn forget_cached(&self) {
        if let Some(cache) = &self.cache {
            cache.clear();
        }
    }

    /// [`op`](Self::op) for an operation that changes (or may change) the session hash `hash`:
    /// the client-side cache forgets it before the operation's answer is returned (and if the
    /// operation is cancelled), without waiting for the server's invalidation.
    pub(crate) async fn op_on<T>(
        &self,
        context: &'static str,
        hash: &str,
        work: impl Future<Output = Result<T>>,
    ) -> std::result::Result<T, StoreError> {
        let _forget = InvalidateAfter {
            cache: self.cache.as_deref(),
            key: hash,
        };
        self.op(context, work).await
    }

    /// Runs one operation under the operation timeout and maps its error, naming `context`.
    pub(crate) async fn op<T>(
        &self,
        context: &'static str,
        work: impl Future<Output = Result<T>>,
    ) -> std::result::Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result.map_err(|e| e.into_store_error(context)),
            Err(_) => Err(RedisError::Timeout(self.timeout).into_store_error(context)),
        }
    }

    /// Validates a batch, then applies it with one call of the write script; returns whether the
    /// session exists afterwards. `may_create` is false for `update`.
    async fn write(
        &self,
        context: &'static str,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
        may_create: bool,
    ) -> std::result::Result<bool, StoreError> {
        validate_ttl(ttl)?;
        for change in &changes {
            validate_key(change.key(), KeyKind::Store)?;
        }
        if changes.is_empty() && may_create {
            return Ok(false); // an empty set_many changes nothing
        }
        // A batch that sets anything may create the session, even if a later change removes
        // that key again (as `set` then `del` would).
        let creates = may_create && changes.iter().any(|c| matches!(c, Change::Set(..)));
        let (sets, dels) = collapse(changes);
        if creates {
            return self.write_creating(context, id, sets, dels, ttl).await;
        }
        let hash = self.keys.session(id);
        let mut invocation = script::WRITE.key(&hash);
        invocation
            .arg(ttl_ms(ttl))
            .arg(if creates { "1" } else { "0" })
            .arg(sets.len() + 1)
            .arg(keys::MARKER)
            .arg("1");
        for (key, value) in sets {
            let json = session_core::canonical_json_within(&value, MAX_VALUE_LEN)?;
            invocation.arg(key).arg(json);
        }
        for key in dels {
            invocation.arg(key);
        }
        let mut conn = self.connection.clone();
        self.op_on(context, &hash, async move {
            let exists: i64 = invocation.invoke_async(&mut conn).await?;
            Ok(exists == 1)
        })
        .await
    }
}

impl RedisStore {
    /// A write that may create the session checks nothing first, so it needs no script: one
    /// `MULTI` of `HDEL` (when the batch removes keys), `HSET` of the marker and the keys, and
    /// `PEXPIRE`, atomic on the server (an expired session is already gone, so what the `HSET`
    /// starts is empty, as the contract asks). Against the script, in three interleaved rounds of
    /// `create` (10-key sessions): p50 86 against 100 µs with 1 task, 387 against 479 µs with 32.
    async fn write_creating(
        &self,
        context: &'static str,
        id: &SessionId,
        sets: Vec<(String, Value)>,
        dels: Vec<String>,
        ttl: Duration,
    ) -> std::result::Result<bool, StoreError> {
        let hash = self.keys.session(id);
        let mut pipe = redis::pipe();
        pipe.atomic();
        if !dels.is_empty() {
            pipe.cmd("HDEL").arg(&hash).arg(&dels).ignore();
        }
        let hset = pipe.cmd("HSET").arg(&hash).arg(keys::MARKER).arg("1");
        for (key, value) in &sets {
            let json = session_core::canonical_json_within(value, MAX_VALUE_LEN)?;
            hset.arg(key).arg(json);
        }
        hset.ignore();
        pipe.cmd("PEXPIRE").arg(&hash).arg(ttl_ms(ttl)).ignore();
        let mut conn = self.connection.clone();
        self.op_on(context, &hash, async move {
            let () = pipe.query_async(&mut conn).await?;
            Ok(true)
        })
        .await
    }
}

#[async_trait]
impl Store for RedisStore {
    fn backend_name(&self) -> &'static str {
        "redis"
    }

    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> std::result::Result<Option<Value>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        touch.map(validate_ttl).transpose()?;
        let hash = self.keys.session(id);
        let text: Option<String> = match touch {
            None => match self.cached("get", &hash).await? {
                Some(fields) => return Ok(fields.values.get(key).cloned()),
                None => {
                    let command = command("HGET", &[&hash, key], &[]);
                    self.query("get", command).await?
                }
            },
            Some(ttl) => {
                let mut conn = self.connection.clone();
                let touch = async {
                    let mut script = script::GET_TOUCH.key(&hash);
                    script.arg(ttl_ms(ttl)).arg(key);
                    Ok(script.invoke_async(&mut conn).await?)
                };
                self.op_on("get", &hash, touch).await?
            }
        };
        text.as_deref()
            .map(decode)
            .transpose()
            .map_err(|e| e.into_store_error("get"))
    }

    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> std::result::Result<Option<Map>, StoreError> {
        touch.map(validate_ttl).transpose()?;
        let hash = self.keys.session(id);
        let fields: Vec<(String, String)> = match touch {
            None => {
                if let Some(fields) = self.cached("get_all", &hash).await? {
                    return Ok(fields.exists.then(|| {
                        let values = fields.values.iter();
                        values.map(|(k, v)| (k.clone(), v.clone())).collect()
                    }));
                }
                let mut command = redis::cmd("HGETALL");
                command.arg(&hash);
                self.query("get_all", command).await?
            }
            Some(ttl) => {
                let mut conn = self.connection.clone();
                let touch = async {
                    let mut script = script::GET_ALL_TOUCH.key(&hash);
                    script.arg(ttl_ms(ttl));
                    Ok(script.invoke_async(&mut conn).await?)
                };
                self.op_on("get_all", &hash, touch).await?
            }
        };
        session_map(fields).map_err(|e| e.into_store_error("get_all"))
    }

    async fn set(
        &self,
        id: &SessionId,
        key: &str,
        value: Value,
        ttl: Duration,
    ) -> std::result::Result<(), StoreError> {
        let changes = vec![Change::Set(key.to_owned(), value)];
        self.write("set", id, changes, ttl, true).await.map(drop)
    }

    async fn del(
        &self,
        id: &SessionId,
        key: &str,
        ttl: Duration,
    ) -> std::result::Result<(), StoreError> {
        let changes = vec![Change::Del(key.to_owned())];
        self.write("del", id, changes, ttl, true).await.map(drop)
    }

    async fn del_all(&self, id: &SessionId) -> std::result::Result<(), StoreError> {
        let mut conn = self.connection.clone();
        let hash = self.keys.session(id);
        self.op_on("del_all", &hash, async {
            let _: i64 = redis::cmd("DEL").arg(&hash).query_async(&mut conn).await?;
            Ok(())
        })
        .await
    }

    async fn get_many(
        &self,
        id: &SessionId,
        keys: &[&str],
        touch: Option<Duration>,
    ) -> std::result::Result<Option<Vec<Option<Value>>>, StoreError> {
        for key in keys {
            validate_key(key, KeyKind::Store)?;
        }
        touch.map(validate_ttl).transpose()?;
        let hash = self.keys.session(id);
        let Some(ttl) = touch else {
            // No touch: one plain `HMGET` with the marker field first (every live session has
            // it), cheaper on the server than a script.
            if let Some(fields) = self.cached("get_many", &hash).await? {
                return Ok(fields.marked.then(|| {
                    let values = keys.iter().map(|key| fields.values.get(*key).cloned());
                    values.collect()
                }));
            }
            let command = command("HMGET", &[&hash, keys::MARKER], keys);
            let mut values: Vec<Option<String>> = self.query("get_many", command).await?;
            if values.first().is_none_or(Option::is_none) {
                return Ok(None);
            }
            return values
                .drain(1..)
                .map(|v| v.as_deref().map(decode).transpose())
                .collect::<Result<Vec<_>>>()
                .map(Some)
                .map_err(|e| e.into_store_error("get_many"));
        };
        let mut invocation = script::GET_MANY.key(&hash);
        invocation.arg(ttl_ms(ttl).to_string());
        for key in keys {
            invocation.arg(*key);
        }
        let mut conn = self.connection.clone();
        self.op_on("get_many", &hash, async move {
            let values: Option<Vec<Option<String>>> = invocation.invoke_async(&mut conn).await?;
            values
                .map(|values| {
                    values
                        .iter()
                        .map(|v| v.as_deref().map(decode).transpose())
                        .collect::<Result<Vec<_>>>()
                })
                .transpose()
        })
        .await
    }

    async fn incr(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> std::result::Result<i64, StoreError> {
        Ok(self.add(id, key, delta, ttl, true).await?.unwrap_or(delta))
    }

    async fn incr_live(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> std::result::Result<Option<i64>, StoreError> {
        self.add(id, key, delta, ttl, false).await
    }

    async fn compare_and_set(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> std::result::Result<bool, StoreError> {
        Ok(self
            .swap(id, key, expected, new, ttl, true)
            .await?
            .unwrap_or(false))
    }

    async fn compare_and_set_live(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> std::result::Result<Option<bool>, StoreError> {
        self.swap(id, key, expected, new, ttl, false).await
    }

    async fn take(&self, id: &SessionId) -> std::result::Result<Option<Map>, StoreError> {
        let mut conn = self.connection.clone();
        let hash = self.keys.session(id);
        self.op_on("take", &hash, async {
            let fields: Vec<(String, String)> =
                script::TAKE.key(&hash).invoke_async(&mut conn).await?;
            session_map(fields)
        })
        .await
    }

    async fn extend(&self, id: &SessionId, ttl: Duration) -> std::result::Result<bool, StoreError> {
        validate_ttl(ttl)?;
        let mut conn = self.connection.clone();
        let hash = self.keys.session(id);
        self.op_on("extend", &hash, async {
            let done: i64 = redis::cmd("PEXPIRE")
                .arg(&hash)
                .arg(ttl_ms(ttl))
                .query_async(&mut conn)
                .await?;
            Ok(done == 1)
        })
        .await
    }

    async fn set_many(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> std::result::Result<(), StoreError> {
        self.write("set_many", id, changes, ttl, true)
            .await
            .map(drop)
    }

    async fn update(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> std::result::Result<bool, StoreError> {
        self.write("update", id, changes, ttl, false).await
    }
}

impl RedisStore {
    /// `incr` (`create`: a missing session is created) and `incr_live`, in one script; `None`:
    /// no session, nothing created.
    async fn add(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
        create: bool,
    ) -> std::result::Result<Option<i64>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        let hash = self.keys.session(id);
        let mut invocation = script::INCR.key(&hash);
        invocation
            .arg(ttl_ms(ttl))
            .arg(keys::MARKER)
            .arg(key)
            .arg(delta)
            .arg(if create { "1" } else { "0" });
        let mut conn = self.connection.clone();
        self.op_on("incr", &hash, async move {
            let sum: Option<String> = invocation.invoke_async(&mut conn).await?;
            Ok(sum
                .map(|sum| serde_json::from_str::<i64>(&sum))
                .transpose()?)
        })
        .await
    }

    /// `compare_and_set` and `compare_and_set_live`, as [`add`](Self::add) is for `incr`.
    async fn swap(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
        create: bool,
    ) -> std::result::Result<Option<bool>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        let new = session_core::canonical_json_within(&new, MAX_VALUE_LEN)?;
        let hash = self.keys.session(id);
        let mut invocation = script::COMPARE_AND_SET.key(&hash);
        invocation
            .arg(ttl_ms(ttl))
            .arg(keys::MARKER)
            .arg(key)
            .arg(if expected.is_some() { "1" } else { "0" })
            .arg(
                expected
                    .as_ref()
                    .map(session_core::canonical_json)
                    .unwrap_or_default(),
            )
            .arg(new)
            .arg(if create { "1" } else { "0" });
        let mut conn = self.connection.clone();
        self.op_on("compare_and_set", &hash, async move {
            let done: Option<i64> = invocation.invoke_async(&mut conn).await?;
            Ok(done.map(|done| done == 1))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::command;

    #[test]
    fn a_presized_command_is_the_command() {
        let built = command("HMGET", &["h{x}", "m"], &["a", "bé"]);
        let mut expected = redis::cmd("HMGET");
        expected.arg("h{x}").arg("m").arg(&["a", "bé"]);
        assert_eq!(built.get_packed_command(), expected.get_packed_command());
        assert_eq!(
            command("HGET", &["h", "k"], &[]).get_packed_command(),
            redis::cmd("HGET").arg("h").arg("k").get_packed_command()
        );
    }
}
