//! `PostgresStore` and its [`Store`] implementation.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use session_core::{
    Change, KeyKind, Map, SessionId, Store, StoreError, Value, async_trait, validate_key,
    validate_ttl,
};
use sqlx::PgPool;
use sqlx::Row as _;

use crate::PostgresStoreBuilder;
use crate::error::{PgError, Result};
use crate::queries::Queries;
use crate::schema::{self, Names};

/// The largest JSON text one value may take (PostgreSQL's `text` holds up to 1 GB; a value far
/// below that already makes a poor session).
pub const MAX_VALUE_LEN: usize = 256 * 1024 * 1024;

/// A session store in PostgreSQL. Cheap to clone: clones share the pool.
///
/// Every operation is one statement (one round trip); writes lock their session's row, so
/// concurrent writers to different keys never lose each other and removals never interleave with
/// writes. Expiry comes from the server's clock, so app servers' clocks do not matter.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    names: Arc<Names>,
    queries: Arc<Queries>,
    timeout: Duration,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("table", &self.names.label)
            .finish_non_exhaustive()
    }
}

/// A TTL as whole milliseconds, rounded up (TTLs are validated to at most ten years).
fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX)
}

fn decode(text: &str) -> Result<Value> {
    Ok(serde_json::from_str(text)?)
}

impl PostgresStore {
    /// A store with the default names on `pool`.
    pub fn new(pool: PgPool) -> Self {
        // The default names are valid identifiers, so this cannot fail.
        let names = Names::new(crate::DEFAULT_SCHEMA, crate::DEFAULT_TABLE)
            .unwrap_or_else(|e| unreachable!("default names are valid: {e}"));
        let queries = Queries::new(&names);
        Self::from_parts(
            pool,
            Arc::new(names),
            Arc::new(queries),
            crate::DEFAULT_OPERATION_TIMEOUT,
        )
    }

    /// Connects to `url` with the default settings (see [`PostgresStoreBuilder`]).
    ///
    /// # Errors
    /// As [`PostgresStoreBuilder::connect`].
    pub async fn connect(url: &str) -> std::result::Result<Self, StoreError> {
        Self::builder().connect(url).await
    }

    /// Settings for names, pool and timeouts.
    pub fn builder() -> PostgresStoreBuilder {
        PostgresStoreBuilder::default()
    }

    pub(crate) fn from_parts(
        pool: PgPool,
        names: Arc<Names>,
        queries: Arc<Queries>,
        timeout: Duration,
    ) -> Self {
        Self {
            pool,
            names,
            queries,
            timeout,
        }
    }

    /// The schema the store's tables live in.
    pub fn schema(&self) -> &str {
        &self.names.schema
    }

    /// The sessions table's name (the entries table is `<table>_entries`).
    pub fn table(&self) -> &str {
        &self.names.table
    }

    /// The pool, to share with the rest of the application.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates the schema, tables, indexes and functions, or brings them up to date. Safe to call
    /// on every start, from several instances at once.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the server cannot be reached; [`StoreError::Backend`] when
    /// the role may not create them or the schema is newer than this code.
    pub async fn migrate(&self) -> std::result::Result<(), StoreError> {
        schema::migrate(&self.pool, &self.names)
            .await
            .map_err(|e| e.into_store_error("migrating the session schema"))
    }

    /// Runs one operation under the operation timeout and maps its error, naming `context`.
    pub(crate) async fn op<T>(
        &self,
        context: &'static str,
        work: impl Future<Output = Result<T>>,
    ) -> std::result::Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result.map_err(|e| e.into_store_error(context)),
            Err(_) => Err(PgError::Timeout(self.timeout).into_store_error(context)),
        }
    }

    pub(crate) fn queries(&self) -> &Queries {
        &self.queries
    }

    /// Validates and applies a batch with one call of the write function; returns whether the
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
        // Decided on the batch as given, before collapsing: `[Set k, Del k]` creates an empty
        // session, as `set` then `del` would.
        let creates = may_create && changes.iter().any(|c| matches!(c, Change::Set(..)));
        if changes.is_empty() && may_create {
            return Ok(false); // an empty set_many changes nothing
        }
        // The last change to a key wins; the function takes disjoint sets of keys.
        let mut last: HashMap<String, Option<Value>> = HashMap::with_capacity(changes.len());
        for change in changes {
            match change {
                Change::Set(key, value) => last.insert(key, Some(value)),
                Change::Del(key) => last.insert(key, None),
            };
        }
        let (mut keys, mut values, mut dels) = (Vec::new(), Vec::new(), Vec::new());
        for (key, value) in last {
            match value {
                Some(value) => {
                    let json = session_core::canonical_json_within(&value, MAX_VALUE_LEN)?;
                    keys.push(key);
                    values.push(json);
                }
                None => dels.push(key),
            }
        }
        self.op(context, async {
            let exists: bool = sqlx::query_scalar(self.queries.write.clone())
                .bind(id.as_bytes().as_slice())
                .bind(ttl_ms(ttl))
                .bind(keys)
                .bind(values)
                .bind(dels)
                .bind(creates)
                .fetch_one(&self.pool)
                .await?;
            Ok(exists)
        })
        .await
    }
}

/// Rows of `(key, value)` from a LEFT JOIN: none means no session, a NULL key a live empty one.
fn collect_map(rows: Vec<(Option<String>, Option<String>)>) -> Result<Option<Map>> {
    if rows.is_empty() {
        return Ok(None);
    }
    let mut map = Map::new();
    for (key, value) in rows {
        if let (Some(key), Some(value)) = (key, value) {
            map.insert(key, decode(&value)?);
        }
    }
    Ok(Some(map))
}

#[async_trait]
impl Store for PostgresStore {
    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> std::result::Result<Option<Value>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        touch.map(validate_ttl).transpose()?;
        self.op("get", async {
            let query = match touch {
                None => sqlx::query_scalar::<_, String>(self.queries.get.clone())
                    .bind(id.as_bytes().as_slice())
                    .bind(key),
                Some(ttl) => sqlx::query_scalar::<_, String>(self.queries.get_touch.clone())
                    .bind(id.as_bytes().as_slice())
                    .bind(ttl_ms(ttl))
                    .bind(key),
            };
            let text = query.fetch_optional(&self.pool).await?;
            text.as_deref().map(decode).transpose()
        })
        .await
    }

    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> std::result::Result<Option<Map>, StoreError> {
        touch.map(validate_ttl).transpose()?;
        self.op("get_all", async {
            let query = match touch {
                None => sqlx::query_as(self.queries.get_all.clone()).bind(id.as_bytes().as_slice()),
                Some(ttl) => sqlx::query_as(self.queries.get_all_touch.clone())
                    .bind(id.as_bytes().as_slice())
                    .bind(ttl_ms(ttl)),
            };
            collect_map(query.fetch_all(&self.pool).await?)
        })
        .await
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
        self.op("del_all", async {
            sqlx::query(self.queries.del_all.clone())
                .bind(id.as_bytes().as_slice())
                .execute(&self.pool)
                .await?;
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
        if keys.is_empty() {
            // No rows to tell a live session from a missing one: ask for the session itself.
            return Ok(self.get_all(id, touch).await?.map(|_| Vec::new()));
        }
        if touch.is_none()
            && let Some(statement) = self.queries.get_many_fixed.get(keys.len() - 1)
        {
            return self
                .op("get_many", async {
                    let mut query = sqlx::query(statement.clone()).bind(id.as_bytes().as_slice());
                    for key in keys {
                        query = query.bind(*key);
                    }
                    let Some(row) = query.fetch_optional(&self.pool).await? else {
                        return Ok(None);
                    };
                    (0..keys.len())
                        .map(|i| {
                            let text: Option<String> = row.try_get(i)?;
                            text.as_deref().map(decode).transpose()
                        })
                        .collect::<Result<Vec<_>>>()
                        .map(Some)
                })
                .await;
        }
        let keys: Vec<&str> = keys.to_vec();
        self.op("get_many", async {
            let query = match touch {
                None => sqlx::query_scalar::<_, Option<String>>(self.queries.get_many.clone())
                    .bind(id.as_bytes().as_slice())
                    .bind(&keys),
                Some(ttl) => {
                    sqlx::query_scalar::<_, Option<String>>(self.queries.get_many_touch.clone())
                        .bind(id.as_bytes().as_slice())
                        .bind(ttl_ms(ttl))
                        .bind(&keys)
                }
            };
            let rows = query.fetch_all(&self.pool).await?;
            if rows.is_empty() {
                return Ok(None);
            }
            rows.into_iter()
                .map(|value| value.as_deref().map(decode).transpose())
                .collect::<Result<Vec<_>>>()
                .map(Some)
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
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        self.op("incr", async {
            let next: i64 = sqlx::query_scalar(self.queries.incr.clone())
                .bind(id.as_bytes().as_slice())
                .bind(ttl_ms(ttl))
                .bind(key)
                .bind(delta)
                .fetch_one(&self.pool)
                .await?;
            Ok(next)
        })
        .await
    }

    async fn compare_and_set(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> std::result::Result<bool, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        let new = session_core::canonical_json_within(&new, MAX_VALUE_LEN)?;
        let expected = expected.as_ref().map(session_core::canonical_json);
        self.op("compare_and_set", async {
            let done = sqlx::query_scalar::<_, bool>(self.queries.cas.clone())
                .bind(id.as_bytes().as_slice())
                .bind(ttl_ms(ttl))
                .bind(key)
                .bind(expected)
                .bind(new)
                .fetch_one(&self.pool)
                .await;
            match done.map_err(PgError::from) {
                Ok(done) => Ok(done),
                // Another value: the call rolled back, nothing changed.
                Err(error) if error.code().as_deref() == Some(crate::error::MISMATCH) => Ok(false),
                Err(error) => Err(error),
            }
        })
        .await
    }

    async fn take(&self, id: &SessionId) -> std::result::Result<Option<Map>, StoreError> {
        self.op("take", async {
            // Rows as `get_all` answers them: none for a missing session, a NULL row for a live
            // one, then its entries.
            let rows = sqlx::query_as(self.queries.take.clone())
                .bind(id.as_bytes().as_slice())
                .fetch_all(&self.pool)
                .await?;
            collect_map(rows)
        })
        .await
    }

    async fn extend(&self, id: &SessionId, ttl: Duration) -> std::result::Result<bool, StoreError> {
        validate_ttl(ttl)?;
        self.op("extend", async {
            let done = sqlx::query(self.queries.extend.clone())
                .bind(id.as_bytes().as_slice())
                .bind(ttl_ms(ttl))
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() == 1)
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
