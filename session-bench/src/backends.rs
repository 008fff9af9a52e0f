//! The rows: for each backend, our store path, our manager path and the raw floor, each made
//! fresh on an emptied backend (the peers' rows are in `peers`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use session_store_memory::MemoryStore;
use session_store_mysql::MySqlStore;
use session_store_postgres::PostgresStore;
use session_store_redis::RedisStore;
use session_store_sqlite::SqliteStore;

use crate::adapter::{Adapter, Error, Factory, Kind};
use crate::ours::{ManagerPath, StorePath, WholeSessionPath, manager};
use crate::raw::{RawHashMap, RawMySql, RawPostgres, RawRedis, RawSqlite};
use crate::raw_creates::{CreateBy, RawRedisCreate};

type Make = Box<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Box<dyn Adapter>, Error>> + Send>> + Send + Sync,
>;

/// A factory from a closure.
pub struct Row {
    library: &'static str,
    backend: &'static str,
    kind: Kind,
    creates_only: bool,
    make: Make,
}

#[async_trait]
impl Factory for Row {
    fn library(&self) -> &str {
        self.library
    }
    fn backend(&self) -> &str {
        self.backend
    }
    fn kind(&self) -> Kind {
        self.kind
    }
    fn creates_only(&self) -> bool {
        self.creates_only
    }
    async fn make(&self) -> Result<Box<dyn Adapter>, Error> {
        (self.make)().await
    }
}

pub fn row<F, Fut>(
    library: &'static str,
    backend: &'static str,
    kind: Kind,
    make: F,
) -> Box<dyn Factory>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Box<dyn Adapter>, Error>> + Send + 'static,
{
    Box::new(new_row(library, backend, kind, make))
}

/// A row that is measured in the `create` workload only.
pub fn create_row<F, Fut>(
    library: &'static str,
    backend: &'static str,
    kind: Kind,
    make: F,
) -> Box<dyn Factory>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Box<dyn Adapter>, Error>> + Send + 'static,
{
    Box::new(Row {
        creates_only: true,
        ..new_row(library, backend, kind, make)
    })
}

fn new_row<F, Fut>(library: &'static str, backend: &'static str, kind: Kind, make: F) -> Row
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Box<dyn Adapter>, Error>> + Send + 'static,
{
    Row {
        library,
        backend,
        kind,
        creates_only: false,
        make: Box::new(move || Box::pin(make())),
    }
}

/// Where the servers are.
#[derive(Clone)]
pub struct Servers {
    /// Redis, with the logical database the bench may flush.
    pub redis_url: String,
    pub postgres_url: String,
    pub mysql_url: String,
    /// Where SQLite files go.
    pub dir: Arc<tempfile::TempDir>,
}

pub async fn flushed_redis(url: &str) -> Result<redis::aio::ConnectionManager, Error> {
    // redis 1.x gives a connection manager a 500 ms response timeout by default (0.x had none),
    // which a populate of 10,000 sessions at once can pass; the rows time their own requests.
    let config = redis::aio::ConnectionManagerConfig::new().set_response_timeout(None);
    let manager = redis::Client::open(url)?
        .get_connection_manager_with_config(config)
        .await?;
    let () = redis::cmd("FLUSHDB")
        .query_async(&mut manager.clone())
        .await?;
    Ok(manager)
}

/// Sessions the client-side cache rows hold: the whole pre-populated pool, with room.
const CACHED_SESSIONS: usize = 20_000;

/// Our Redis store with its client-side cache on, on an emptied database (the store makes its
/// own connections: the cache needs the URL for its tracking connection).
pub async fn cached_redis(url: &str) -> Result<RedisStore, Error> {
    flushed_redis(url).await?;
    Ok(RedisStore::builder(url)
        .client_cache(CACHED_SESSIONS)
        // As the flushed connection above: the rows time their own requests.
        .operation_timeout(std::time::Duration::from_secs(60))
        .connect()
        .await?)
}

pub fn sqlite_path(servers: &Servers, name: &str) -> std::path::PathBuf {
    let n: u64 = rand::random();
    servers.dir.path().join(format!("{name}-{n:x}.db"))
}

pub async fn pg_schema(url: &str, name: &str) -> Result<(sqlx::PgPool, String), Error> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(10)
        .connect(url)
        .await?;
    let schema = format!("bench_{name}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(&pool)
    .await?;
    Ok((pool, schema))
}

/// A pool on the MySQL server and a table name for `name`, the table dropped first (with its
/// migrations table, so our store migrates afresh).
pub async fn mysql_table(url: &str, name: &str) -> Result<(sqlx::MySqlPool, String), Error> {
    let pool = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(10)
        .connect(url)
        .await?;
    let table = format!("bench_{name}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP TABLE IF EXISTS `{table}`, `{table}_migrations`"
    )))
    .execute(&pool)
    .await?;
    Ok((pool, table))
}

/// Our store on MySQL in table `bench_<name>`, migrated, on a pool of 10.
pub async fn mysql_store(url: &str, name: &str) -> Result<MySqlStore, Error> {
    let (pool, table) = mysql_table(url, name).await?;
    let store = MySqlStore::builder().table(table).build(pool)?;
    store.migrate().await?;
    Ok(store)
}

/// Our rows and the floors.
pub fn all(servers: &Servers) -> Vec<Box<dyn Factory>> {
    let huge = 10_000_000; // the create phase grows the memory store; nothing may be evicted
    let mut rows = vec![
        row("ours-store", "memory", Kind::Ours, move || async move {
            Ok(Box::new(StorePath(Arc::new(
                MemoryStore::builder().max_sessions(huge).build()?,
            ))) as Box<dyn Adapter>)
        }),
        row("ours-manager", "memory", Kind::Ours, move || async move {
            Ok(Box::new(ManagerPath(manager(Arc::new(
                MemoryStore::builder().max_sessions(huge).build()?,
            ))?)) as Box<dyn Adapter>)
        }),
        row("raw-hashmap", "memory", Kind::Baseline, || async {
            Ok(Box::new(RawHashMap::default()) as Box<dyn Adapter>)
        }),
    ];
    let s = servers.clone();
    rows.push(row("ours-store", "redis", Kind::Ours, move || {
        let url = s.redis_url.clone();
        async move {
            let conn = flushed_redis(&url).await?;
            Ok(Box::new(StorePath(Arc::new(
                RedisStore::builder_with_manager(conn).connect().await?,
            ))) as Box<dyn Adapter>)
        }
    }));
    let s = servers.clone();
    rows.push(row("ours-manager", "redis", Kind::Ours, move || {
        let url = s.redis_url.clone();
        async move {
            let conn = flushed_redis(&url).await?;
            let store = Arc::new(RedisStore::builder_with_manager(conn).connect().await?);
            Ok(Box::new(ManagerPath(manager(store)?)) as Box<dyn Adapter>)
        }
    }));
    let s = servers.clone();
    rows.push(row("ours-store+cache", "redis", Kind::Ours, move || {
        let url = s.redis_url.clone();
        async move { Ok(Box::new(StorePath(Arc::new(cached_redis(&url).await?))) as Box<dyn Adapter>) }
    }));
    let s = servers.clone();
    rows.push(row("ours-manager+cache", "redis", Kind::Ours, move || {
        let url = s.redis_url.clone();
        async move {
            let store = Arc::new(cached_redis(&url).await?);
            Ok(Box::new(ManagerPath(manager(store)?)) as Box<dyn Adapter>)
        }
    }));
    let s = servers.clone();
    rows.push(row("raw-redis-hash", "redis", Kind::Baseline, move || {
        let url = s.redis_url.clone();
        async move { Ok(Box::new(RawRedis(flushed_redis(&url).await?)) as Box<dyn Adapter>) }
    }));
    for (library, by) in [
        ("raw-redis-hash:evalsha", CreateBy::Script),
        ("raw-redis-hash:fcall", CreateBy::Function),
        ("raw-redis-string", CreateBy::String),
    ] {
        let s = servers.clone();
        rows.push(create_row(library, "redis", Kind::Baseline, move || {
            let url = s.redis_url.clone();
            async move {
                let conn = flushed_redis(&url).await?;
                Ok(Box::new(RawRedisCreate::new(conn, by).await?) as Box<dyn Adapter>)
            }
        }));
    }
    let s = servers.clone();
    rows.push(row("ours-store", "sqlite", Kind::Ours, move || {
        let path = sqlite_path(&s, "ours-store");
        async move {
            Ok(Box::new(StorePath(Arc::new(SqliteStore::open(path).await?))) as Box<dyn Adapter>)
        }
    }));
    let s = servers.clone();
    rows.push(row("ours-manager", "sqlite", Kind::Ours, move || {
        let path = sqlite_path(&s, "ours-manager");
        async move {
            Ok(Box::new(ManagerPath(manager(Arc::new(
                SqliteStore::open(path).await?,
            ))?)) as Box<dyn Adapter>)
        }
    }));
    let s = servers.clone();
    rows.push(row("raw-rusqlite", "sqlite", Kind::Baseline, move || {
        let path = sqlite_path(&s, "raw");
        async move { Ok(Box::new(RawSqlite::open(&path, 4)?) as Box<dyn Adapter>) }
    }));
    for (library, path) in [("ours-store", false), ("ours-manager", true)] {
        let s = servers.clone();
        rows.push(row(library, "postgres", Kind::Ours, move || {
            let url = s.postgres_url.clone();
            async move {
                let (pool, schema) =
                    pg_schema(&url, if path { "ours_manager" } else { "ours_store" }).await?;
                let store = PostgresStore::builder().schema(schema).build(pool)?;
                store.migrate().await?;
                let store = Arc::new(store);
                Ok(if path {
                    Box::new(ManagerPath(manager(store)?)) as Box<dyn Adapter>
                } else {
                    Box::new(StorePath(store))
                })
            }
        }));
    }
    let s = servers.clone();
    rows.push(row("raw-sqlx", "postgres", Kind::Baseline, move || {
        let url = s.postgres_url.clone();
        async move {
            let (pool, schema) = pg_schema(&url, "raw").await?;
            Ok(Box::new(RawPostgres::new(pool, schema).await?) as Box<dyn Adapter>)
        }
    }));
    for (library, path) in [("ours-store", false), ("ours-manager", true)] {
        let s = servers.clone();
        rows.push(row(library, "mysql", Kind::Ours, move || {
            let url = s.mysql_url.clone();
            async move {
                let name = if path { "ours_manager" } else { "ours_store" };
                let store = Arc::new(mysql_store(&url, name).await?);
                Ok(if path {
                    Box::new(ManagerPath(manager(store)?)) as Box<dyn Adapter>
                } else {
                    Box::new(StorePath(store))
                })
            }
        }));
    }
    let s = servers.clone();
    rows.push(row("raw-sqlx", "mysql", Kind::Baseline, move || {
        let url = s.mysql_url.clone();
        async move {
            let (pool, table) = mysql_table(&url, "raw").await?;
            Ok(Box::new(RawMySql::new(pool, table).await?) as Box<dyn Adapter>)
        }
    }));
    rows.extend(whole_session_rows(servers));
    rows
}

/// `ours-whole`: every backend through [`WholeSessionPath`], the store calls the manager makes.
fn whole_session_rows(servers: &Servers) -> Vec<Box<dyn Factory>> {
    const LIBRARY: &str = "ours-whole";
    let mut rows = vec![row(LIBRARY, "memory", Kind::Ours, || async {
        let store = MemoryStore::builder().max_sessions(10_000_000).build()?;
        Ok(Box::new(WholeSessionPath(Arc::new(store))) as Box<dyn Adapter>)
    })];
    let s = servers.clone();
    rows.push(row(LIBRARY, "redis", Kind::Ours, move || {
        let url = s.redis_url.clone();
        async move {
            let conn = flushed_redis(&url).await?;
            let store = RedisStore::builder_with_manager(conn).connect().await?;
            Ok(Box::new(WholeSessionPath(Arc::new(store))) as Box<dyn Adapter>)
        }
    }));
    let s = servers.clone();
    rows.push(row(LIBRARY, "sqlite", Kind::Ours, move || {
        let path = sqlite_path(&s, LIBRARY);
        async move {
            let store = SqliteStore::open(path).await?;
            Ok(Box::new(WholeSessionPath(Arc::new(store))) as Box<dyn Adapter>)
        }
    }));
    let s = servers.clone();
    rows.push(row(LIBRARY, "postgres", Kind::Ours, move || {
        let url = s.postgres_url.clone();
        async move {
            let (pool, schema) = pg_schema(&url, "ours_whole").await?;
            let store = PostgresStore::builder().schema(schema).build(pool)?;
            store.migrate().await?;
            Ok(Box::new(WholeSessionPath(Arc::new(store))) as Box<dyn Adapter>)
        }
    }));
    let s = servers.clone();
    rows.push(row(LIBRARY, "mysql", Kind::Ours, move || {
        let url = s.mysql_url.clone();
        async move {
            let store = mysql_store(&url, "ours_whole").await?;
            Ok(Box::new(WholeSessionPath(Arc::new(store))) as Box<dyn Adapter>)
        }
    }));
    rows
}
