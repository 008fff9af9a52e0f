//! The ways a Redis create can be sent (issue 27, item 4), each as a create-only floor beside
//! `raw-redis-hash` (whose create is an atomic `MULTI` of `HSET` + `PEXPIRE`, the form our store
//! uses): one `EVALSHA` of a script doing the same two calls, one `FCALL` of a function doing
//! them, and tower-sessions' layout, the whole session as one string (`SET .. PX`). The same
//! connection, the same 10 fields of about 100 bytes; only the command form differs.

use async_trait::async_trait;
use redis::aio::ConnectionManager;

use crate::adapter::{Adapter, Error, Handle, UNSUPPORTED};
use crate::raw::{new_handle, redis_key};
use crate::workload::TTL;

/// The command form of a create.
#[derive(Debug, Clone, Copy)]
pub enum CreateBy {
    /// `EVALSHA` of a two-call Lua script.
    Script,
    /// `FCALL` of a two-call Redis function (Redis 7).
    Function,
    /// One `SET key <JSON object> PX ttl`, as tower-sessions' Redis store writes a session.
    String,
}

const BODY: &str = "redis.call('HSET', KEYS[1], unpack(ARGV, 2)) \
                    redis.call('PEXPIRE', KEYS[1], ARGV[1]) return 1";

/// A create-only row: reads and writes are not what it measures.
pub struct RawRedisCreate {
    conn: ConnectionManager,
    by: CreateBy,
    script: redis::Script,
}

impl RawRedisCreate {
    /// On a flushed database; the function form loads its library first.
    pub async fn new(conn: ConnectionManager, by: CreateBy) -> Result<Self, Error> {
        if let CreateBy::Function = by {
            let library = format!(
                "#!lua name=bench_create\n\
                 redis.register_function('bench_create', function(KEYS, ARGV) {BODY} end)"
            );
            let _: String = redis::cmd("FUNCTION")
                .arg("LOAD")
                .arg("REPLACE")
                .arg(library)
                .query_async(&mut conn.clone())
                .await?;
        }
        Ok(Self {
            conn,
            by,
            script: redis::Script::new(BODY),
        })
    }
}

#[async_trait]
impl Adapter for RawRedisCreate {
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        let handle = new_handle();
        let key = redis_key(&handle);
        let ttl = TTL.as_millis() as u64;
        let mut conn = self.conn.clone();
        match self.by {
            CreateBy::Script => {
                let mut invocation = self.script.key(&key);
                invocation.arg(ttl);
                for (k, v) in data {
                    invocation.arg(k).arg(v);
                }
                let _: i64 = invocation.invoke_async(&mut conn).await?;
            }
            CreateBy::Function => {
                let mut cmd = redis::cmd("FCALL");
                cmd.arg("bench_create").arg(1).arg(&key).arg(ttl);
                for (k, v) in data {
                    cmd.arg(k).arg(v);
                }
                let _: i64 = cmd.query_async(&mut conn).await?;
            }
            CreateBy::String => {
                let object: serde_json::Map<String, serde_json::Value> = data
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().into()))
                    .collect();
                let () = redis::cmd("SET")
                    .arg(&key)
                    .arg(serde_json::to_vec(&object)?)
                    .arg("PX")
                    .arg(ttl)
                    .query_async(&mut conn)
                    .await?;
            }
        }
        Ok(handle)
    }

    async fn read(&self, _: &Handle, _: &str) -> Result<String, Error> {
        Err(UNSUPPORTED.into())
    }

    async fn write(&self, _: &Handle, _: &str, _: &str) -> Result<(), Error> {
        Err(UNSUPPORTED.into())
    }
}
