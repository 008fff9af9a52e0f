//! The peers (feature `peers`): tower-sessions' memory, Redis (fred, a pool of 1) and sqlx
//! SQLite/PostgreSQL stores, driven through its `SessionStore` trait as its middleware does:
//! load the whole record, change it, save it whole.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

use crate::adapter::{Adapter, Error, Factory, Handle, missing};
use crate::backends::{Servers, peer_row};
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
    let s = servers.clone();
    rows.push(peer_row("tower-sessions", "sqlite", move || {
        let path = crate::backends::sqlite_path(&s, "tower-sessions");
        async move {
            use sqlx::sqlite::{
                SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
            };
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(10)
                .connect_with(options)
                .await?;
            let store = tower_sessions_sqlx_store::SqliteStore::new(pool);
            store.migrate().await?;
            Ok(Box::new(Peer(store)) as Box<dyn Adapter>)
        }
    }));
    let s = servers.clone();
    rows.push(peer_row("tower-sessions", "postgres", move || {
        let url = s.postgres_url.clone();
        async move {
            let (pool, schema) = crate::backends::pg_schema(&url, "tower_sessions").await?;
            let store =
                tower_sessions_sqlx_store::PostgresStore::new(pool).with_schema_name(schema)?;
            store.migrate().await?;
            Ok(Box::new(Peer(store)) as Box<dyn Adapter>)
        }
    }));
    rows
}
