//! The peers (feature `peers`): tower-sessions' memory and Redis (fred, a pool of 1) stores,
//! driven through its `SessionStore` trait as its middleware does: load the whole record, change
//! it, save it whole. Its sqlx stores cannot be built beside our SQLite store (Cargo.toml says
//! why).

use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

use crate::adapter::{Adapter, Error, Factory, Handle, Kind, missing};
use crate::backends::{Servers, row};
use crate::workload::TTL;

/// A tower-sessions store.
pub struct Peer<S>(pub S);

/// The workload's expiry from now.
fn expiry() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::from_secs(TTL.as_secs())
}

/// Creates a session holding `data` through the peer's store, as its middleware would; answers
/// its id.
pub async fn create<S: SessionStore>(store: &S, data: &[(String, String)]) -> Result<Id, Error> {
    let data: HashMap<String, serde_json::Value> = data
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().into()))
        .collect();
    let mut record = Record {
        id: Id::default(),
        data,
        expiry_date: expiry(),
    };
    store.create(&mut record).await?;
    Ok(record.id)
}

#[async_trait]
impl<S: SessionStore> Adapter for Peer<S> {
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        Ok(create(&self.0, data).await?.to_string())
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        let id = Id::from_str(handle)?;
        let record = self.0.load(&id).await?.ok_or_else(|| missing("session"))?;
        let value = record
            .data
            .get(key)
            .cloned()
            .ok_or_else(|| missing("key"))?;
        Ok(serde_json::from_value(value)?)
    }

    async fn write(&self, handle: &Handle, key: &str, value: &str) -> Result<(), Error> {
        let id = Id::from_str(handle)?;
        let mut record = self.0.load(&id).await?.ok_or_else(|| missing("session"))?;
        record.data.insert(key.to_owned(), value.into());
        record.expiry_date = expiry();
        self.0.save(&record).await?;
        Ok(())
    }

    /// tower-sessions has no atomic increment: its users read, add and write back, as its
    /// middleware's session does (load the record, change it, save it whole).
    async fn increment(&self, handle: &Handle, key: &str) -> Result<(), Error> {
        let id = Id::from_str(handle)?;
        let mut record = self.0.load(&id).await?.ok_or_else(|| missing("session"))?;
        let now = record.data.get(key).and_then(|v| v.as_i64()).unwrap_or(0);
        record.data.insert(key.to_owned(), (now + 1).into());
        record.expiry_date = expiry();
        self.0.save(&record).await?;
        Ok(())
    }

    async fn count(&self, handle: &Handle, key: &str) -> Result<i64, Error> {
        let id = Id::from_str(handle)?;
        let record = self.0.load(&id).await?.ok_or_else(|| missing("session"))?;
        Ok(record.data.get(key).and_then(|v| v.as_i64()).unwrap_or(0))
    }
}

/// tower-sessions' Redis store on a flushed database, over a fred pool of one connection.
pub async fn redis_store(
    url: &str,
) -> Result<tower_sessions_redis_store::RedisStore<fred::prelude::Pool>, Error> {
    crate::backends::flushed_redis(url).await?;
    use fred::prelude::ClientLike;
    let pool =
        fred::prelude::Pool::new(fred::prelude::Config::from_url(url)?, None, None, None, 1)?;
    pool.init().await?;
    Ok(tower_sessions_redis_store::RedisStore::new(pool))
}

/// A peer's row.
pub fn peer_row<F, Fut>(library: &'static str, backend: &'static str, make: F) -> Box<dyn Factory>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Box<dyn Adapter>, Error>> + Send + 'static,
{
    row(library, backend, Kind::Peer, make)
}

/// The peers' rows.
pub fn all(servers: &Servers) -> Vec<Box<dyn Factory>> {
    let mut rows = vec![peer_row("tower-sessions", "memory", || async {
        Ok(Box::new(Peer(tower_sessions::MemoryStore::default())) as Box<dyn Adapter>)
    })];
    let s = servers.clone();
    rows.push(peer_row("tower-sessions", "redis", move || {
        let url = s.redis_url.clone();
        async move { Ok(Box::new(Peer(redis_store(&url).await?)) as Box<dyn Adapter>) }
    }));
    rows
}
