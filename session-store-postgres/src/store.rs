//! `PostgresStore` and its [`Store`] implementation.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use session_core::{
    Change, DocumentEdit, KeyKind, Map, SessionId, Store, StoreError, Value, async_trait,
    decode_document, decode_members, decode_value, document_member, validate_key, validate_ttl,
};
use sqlx::PgPool;
use sqlx::Row as _;

use crate::PostgresStoreBuilder;
use crate::error::{PgError, Result};
use crate::queries::Queries;
use crate::schema::{self, Names, SCHEMA_VERSION};

/// The largest JSON text one value may take: a quarter of what one `jsonb` document holds
/// (255 MiB), so a value fits its session's document even with every character escaped there. The
/// whole document must stay under `jsonb`'s limit too: a write past it fails with
/// [`StoreError::Backend`] and changes nothing.
pub const MAX_VALUE_LEN: usize = 64 * 1024 * 1024;

/// A session store in PostgreSQL. Cheap to clone: clones share the pool.
///
/// One row per session. Every operation is one statement (one round trip); a write changes its
/// keys in the session's `jsonb` document in the statement that locks the row, so concurrent
/// writers to different keys never lose each other and removals never interleave with writes.
/// Expiry comes from the server's clock, so app servers' clocks do not matter.
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
    Ok(decode_value(text)?)
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

    /// The sessions table's name.
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
        self.migrate_to(SCHEMA_VERSION).await
    }

    /// As [`migrate`](Self::migrate), stopping at schema version `version`: for tests that
    /// write tables as an older release did and check the upgrade. The store's operations need
    /// [`SCHEMA_VERSION`].
    ///
    /// # Errors
    /// As [`migrate`](Self::migrate).
    #[doc(hidden)]
    pub async fn migrate_to(&self, version: i32) -> std::result::Result<(), StoreError> {
        schema::migrate(&self.pool, &self.names, version)
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

    /// The `data` of a live session (made live longer first with a touch), or `None`.
    async fn document(&self, id: &SessionId, touch: Option<Duration>) -> Result<Option<String>> {
        let query = match touch {
            None => sqlx::query_scalar(self.queries.get_all.clone()).bind(id.as_bytes().as_slice()),
            Some(ttl) => sqlx::query_scalar(self.queries.get_all_touch.clone())
                .bind(id.as_bytes().as_slice())
                .bind(ttl_ms(ttl)),
        };
        Ok(query.fetch_optional(&self.pool).await?)
    }

    /// Validates and applies a batch in one statement; returns whether the session exists
    /// afterwards. `may_create` is false for `update`.
    async fn write(
        &self,
        context: &'static str,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
        may_create: bool,
    ) -> std::result::Result<bool, StoreError> {
        validate_ttl(ttl)?;
        if changes.is_empty() && may_create {
            return Ok(false); // an empty set_many changes nothing
        }
        // Decided on the batch as given, before the last change to each key wins: `[Set k,
        // Del k]` creates an empty session, as `set` then `del` would.
        let creates = may_create && changes.iter().any(|c| matches!(c, Change::Set(..)));
        let edit = DocumentEdit::new(changes, MAX_VALUE_LEN)?;
        let statement = match creates {
            true => self.queries.upsert.clone(),
            false => self.queries.update.clone(),
        };
        let sets = edit.new_document();
        self.op(context, async {
            let done = sqlx::query(statement)
                .bind(id.as_bytes().as_slice())
                .bind(ttl_ms(ttl))
                .bind(&sets)
                .bind(&edit.removals)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> std::result::Result<Option<Value>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        touch.map(validate_ttl).transpose()?;
        self.op("get", async {
            let member = document_member(key);
            let query = match touch {
                None => sqlx::query_scalar::<_, Option<String>>(self.queries.get.clone())
                    .bind(id.as_bytes().as_slice())
                    .bind(&member),
                Some(ttl) => {
                    sqlx::query_scalar::<_, Option<String>>(self.queries.get_touch.clone())
                        .bind(id.as_bytes().as_slice())
                        .bind(ttl_ms(ttl))
                        .bind(&member)
                }
            };
            let text = query.fetch_optional(&self.pool).await?.flatten();
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
            let data = self.document(id, touch).await?;
            Ok(data.as_deref().map(decode_document).transpose()?)
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
        let members: Vec<String> = keys.iter().map(|key| document_member(key)).collect();
        if touch.is_none()
            && let Some(statement) = members
                .len()
                .checked_sub(1)
                .and_then(|i| self.queries.get_many_fixed.get(i))
        {
            return self
                .op("get_many", async {
                    let mut query = sqlx::query(statement.clone()).bind(id.as_bytes().as_slice());
                    for member in &members {
                        query = query.bind(member);
                    }
                    let Some(row) = query.fetch_optional(&self.pool).await? else {
                        return Ok(None);
                    };
                    (0..members.len())
                        .map(|i| {
                            let text: Option<String> = row.try_get(i)?;
                            text.as_deref().map(decode).transpose()
                        })
                        .collect::<Result<Vec<_>>>()
                        .map(Some)
                })
                .await;
        }
        // No keys, more than the fixed statements hold, or a touch: the whole document.
        self.op("get_many", async {
            let data = self.document(id, touch).await?;
            Ok(data
                .as_deref()
                .map(|data| decode_members(data, &members))
                .transpose()?)
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
                .bind(document_member(key))
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
                .bind(document_member(key))
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

    async fn incr_live(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> std::result::Result<Option<i64>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        self.op("incr", async {
            let next: Option<i64> = sqlx::query_scalar(self.queries.incr_live.clone())
                .bind(id.as_bytes().as_slice())
                .bind(ttl_ms(ttl))
                .bind(document_member(key))
                .bind(delta)
                .fetch_one(&self.pool)
                .await?;
            Ok(next)
        })
        .await
    }

    async fn compare_and_set_live(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> std::result::Result<Option<bool>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        let new = session_core::canonical_json_within(&new, MAX_VALUE_LEN)?;
        let expected = expected.as_ref().map(session_core::canonical_json);
        self.op("compare_and_set", async {
            let done: Option<bool> = sqlx::query_scalar(self.queries.cas_live.clone())
                .bind(id.as_bytes().as_slice())
                .bind(ttl_ms(ttl))
                .bind(document_member(key))
                .bind(expected)
                .bind(new)
                .fetch_one(&self.pool)
                .await?;
            Ok(done)
        })
        .await
    }

    async fn take(&self, id: &SessionId) -> std::result::Result<Option<Map>, StoreError> {
        self.op("take", async {
            let row: Option<(String, bool)> = sqlx::query_as(self.queries.take.clone())
                .bind(id.as_bytes().as_slice())
                .fetch_optional(&self.pool)
                .await?;
            match row {
                Some((data, true)) => Ok(Some(decode_document(&data)?)),
                _ => Ok(None),
            }
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
