//! The floors: each driver doing the least round trips the same request needs, with no session
//! library. A read is one point lookup; a write one upsert with the expiry reset, in one round
//! trip; a create one batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rand::RngExt;
use redis::aio::ConnectionManager;

use crate::adapter::{Adapter, Error, Handle, missing};
use crate::workload::TTL;

fn new_id() -> u128 {
    rand::rng().random()
}

/// A `HashMap` behind a std mutex; a read clones only the value it reads.
#[derive(Default)]
pub struct RawHashMap(Mutex<HashMap<u128, HashMap<String, String>>>);

#[async_trait]
impl Adapter for RawHashMap {
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        let id = new_id();
        let map = data.iter().cloned().collect();
        self.0.lock().map_err(|_| missing("lock"))?.insert(id, map);
        Ok(format!("{id:032x}"))
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        let id = u128::from_str_radix(handle, 16)?;
        let map = self.0.lock().map_err(|_| missing("lock"))?;
        map.get(&id)
            .and_then(|s| s.get(key))
            .cloned()
            .ok_or_else(|| missing("key"))
    }

    async fn write(&self, handle: &Handle, key: &str, value: &str) -> Result<(), Error> {
        let id = u128::from_str_radix(handle, 16)?;
        let mut map = self.0.lock().map_err(|_| missing("lock"))?;
        map.get_mut(&id)
            .ok_or_else(|| missing("session"))?
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}

/// Redis with one hash per session: `HGET`; `HSET` + `PEXPIRE` in one atomic pipeline.
pub struct RawRedis(pub ConnectionManager);

/// A fresh handle for a raw Redis session.
pub fn new_handle() -> Handle {
    format!("{:032x}", new_id())
}

/// The Redis key of a raw session.
pub fn redis_key(handle: &str) -> String {
    format!("raw:{{{handle}}}")
}

#[async_trait]
impl Adapter for RawRedis {
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        let handle = new_handle();
        let key = redis_key(&handle);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(&key, data)
            .ignore()
            .pexpire(&key, TTL.as_millis() as i64)
            .ignore();
        let () = pipe.query_async(&mut self.0.clone()).await?;
        Ok(handle)
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        let value: Option<String> = redis::cmd("HGET")
            .arg(redis_key(handle))
            .arg(key)
            .query_async(&mut self.0.clone())
            .await?;
        value.ok_or_else(|| missing("key"))
    }

    async fn write(&self, handle: &Handle, key: &str, value: &str) -> Result<(), Error> {
        let k = redis_key(handle);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset(&k, key, value)
            .ignore()
            .pexpire(&k, TTL.as_millis() as i64)
            .ignore();
        let () = pipe.query_async(&mut self.0.clone()).await?;
        Ok(())
    }
}

/// SQLite through rusqlite: a small pool of connections used from blocking threads, one
/// statement per read, one transaction per write.
pub struct RawSqlite {
    connections: Vec<Arc<Mutex<rusqlite::Connection>>>,
    next: std::sync::atomic::AtomicUsize,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl RawSqlite {
    pub fn open(path: &std::path::Path, pool: usize) -> Result<Self, Error> {
        let mut connections = Vec::new();
        for _ in 0..pool {
            let conn = rusqlite::Connection::open(path)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS kv (sid BLOB NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                 expires INTEGER NOT NULL, PRIMARY KEY (sid, key)) WITHOUT ROWID",
            )?;
            connections.push(Arc::new(Mutex::new(conn)));
        }
        Ok(Self {
            connections,
            next: Default::default(),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut rusqlite::Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let i =
            self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.connections.len();
        let conn = self.connections[i].clone();
        tokio::task::spawn_blocking(move || work(&mut *conn.lock().map_err(|_| missing("lock"))?))
            .await?
    }
}

#[async_trait]
impl Adapter for RawSqlite {
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        let id = new_id();
        let data = data.to_vec();
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO kv (sid, key, value, expires) VALUES (?1, ?2, ?3, ?4)",
                )?;
                let expires = now_ms() + TTL.as_millis() as i64;
                for (k, v) in &data {
                    insert.execute(rusqlite::params![id.to_le_bytes(), k, v, expires])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
        Ok(format!("{id:032x}"))
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        let id = u128::from_str_radix(handle, 16)?;
        let key = key.to_owned();
        self.run(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT value FROM kv WHERE sid = ?1 AND key = ?2 AND expires > ?3",
            )?;
            Ok(
                stmt.query_row(rusqlite::params![id.to_le_bytes(), key, now_ms()], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
    }

    async fn write(&self, handle: &Handle, key: &str, value: &str) -> Result<(), Error> {
        let id = u128::from_str_radix(handle, 16)?;
        let (key, value) = (key.to_owned(), value.to_owned());
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let expires = now_ms() + TTL.as_millis() as i64;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO kv (sid, key, value, expires) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(rusqlite::params![id.to_le_bytes(), key, value, expires])?;
            tx.prepare_cached("UPDATE kv SET expires = ?2 WHERE sid = ?1")?
                .execute(rusqlite::params![id.to_le_bytes(), expires])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }
}

/// PostgreSQL through sqlx: one statement per request.
pub struct RawPostgres {
    pub pool: sqlx::PgPool,
    pub schema: String,
}

impl RawPostgres {
    pub async fn new(pool: sqlx::PgPool, schema: String) -> Result<Self, Error> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
             CREATE TABLE IF NOT EXISTS \"{schema}\".sessions (sid bytea PRIMARY KEY, expires timestamptz NOT NULL);
             CREATE TABLE IF NOT EXISTS \"{schema}\".kv (sid bytea NOT NULL, key text NOT NULL, value text NOT NULL, PRIMARY KEY (sid, key));"
        )))
        .execute(&pool)
        .await?;
        Ok(Self { pool, schema })
    }
}

#[async_trait]
impl Adapter for RawPostgres {
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        let id = new_id();
        let s = &self.schema;
        let (keys, values): (Vec<String>, Vec<String>) = data.iter().cloned().unzip();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "WITH s AS (INSERT INTO \"{s}\".sessions (sid, expires) VALUES ($1, now() + $2 * interval '1 millisecond') RETURNING sid)
             INSERT INTO \"{s}\".kv (sid, key, value) SELECT s.sid, k, v FROM s, unnest($3::text[], $4::text[]) AS u(k, v)"
        )))
        .bind(id.to_le_bytes().as_slice())
        .bind(TTL.as_millis() as i64)
        .bind(keys)
        .bind(values)
        .execute(&self.pool)
        .await?;
        Ok(format!("{id:032x}"))
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        let id = u128::from_str_radix(handle, 16)?;
        let s = &self.schema;
        let value: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT kv.value FROM \"{s}\".kv JOIN \"{s}\".sessions USING (sid) WHERE sid = $1 AND key = $2 AND expires > now()"
        )))
        .bind(id.to_le_bytes().as_slice())
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        value.ok_or_else(|| missing("key"))
    }

    async fn write(&self, handle: &Handle, key: &str, value: &str) -> Result<(), Error> {
        let id = u128::from_str_radix(handle, 16)?;
        let s = &self.schema;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "WITH s AS (UPDATE \"{s}\".sessions SET expires = now() + $4 * interval '1 millisecond' WHERE sid = $1 RETURNING sid)
             INSERT INTO \"{s}\".kv (sid, key, value) SELECT sid, $2, $3 FROM s
             ON CONFLICT (sid, key) DO UPDATE SET value = EXCLUDED.value"
        )))
        .bind(id.to_le_bytes().as_slice())
        .bind(key)
        .bind(value)
        .bind(TTL.as_millis() as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// MySQL or MariaDB through sqlx, in the layout our store uses (one row per session, the keys in
/// a JSON document): one statement per request, the session's JSON built by the client.
pub struct RawMySql {
    pub pool: sqlx::MySqlPool,
    pub table: String,
}

impl RawMySql {
    pub async fn new(pool: sqlx::MySqlPool, table: String) -> Result<Self, Error> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE IF NOT EXISTS `{table}` (sid BINARY(16) NOT NULL PRIMARY KEY, \
             expires BIGINT NOT NULL, data LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL) \
             ENGINE=InnoDB"
        )))
        .execute(&pool)
        .await?;
        Ok(Self { pool, table })
    }
}

/// Now in milliseconds on the server's clock, as our store reads it.
const MYSQL_NOW_MS: &str =
    "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)";

#[async_trait]
impl Adapter for RawMySql {
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        let id = new_id();
        let document: serde_json::Map<String, serde_json::Value> = data
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO `{}` (sid, expires, data) VALUES (?, {MYSQL_NOW_MS} + ?, ?)",
            self.table
        )))
        .bind(id.to_le_bytes().as_slice())
        .bind(TTL.as_millis() as i64)
        .bind(serde_json::Value::Object(document).to_string())
        .execute(&self.pool)
        .await?;
        Ok(format!("{id:032x}"))
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        let id = u128::from_str_radix(handle, 16)?;
        let value: Option<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT JSON_UNQUOTE(JSON_EXTRACT(data, ?)) FROM `{}` WHERE sid = ? AND expires > {MYSQL_NOW_MS}",
            self.table
        )))
        .bind(format!("$.{key}"))
        .bind(id.to_le_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await?;
        value.flatten().ok_or_else(|| missing("key"))
    }

    async fn write(&self, handle: &Handle, key: &str, value: &str) -> Result<(), Error> {
        let id = u128::from_str_radix(handle, 16)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE `{}` SET data = JSON_SET(data, ?, ?), expires = {MYSQL_NOW_MS} + ? WHERE sid = ?",
            self.table
        )))
        .bind(format!("$.{key}"))
        .bind(value)
        .bind(TTL.as_millis() as i64)
        .bind(id.to_le_bytes().as_slice())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
