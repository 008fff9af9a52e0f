//! `MySqlStore` and its [`Store`] implementation.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use session_core::{
    Change, DocumentEdit, KeyKind, Map, SessionId, Store, StoreError, Value, async_trait,
    canonical_json, canonical_json_within, decode_document, decode_value, incremented,
    validate_key, validate_ttl,
};
use sqlx::mysql::MySqlArguments;
use sqlx::{MySql, MySqlPool, Row as _};

use crate::MySqlStoreBuilder;
use crate::error::{MySqlError, Result};
use crate::queries::{Queries, path, path_of};
use crate::schema::{self, Names};

/// The largest JSON text one value may take. A whole session must also fit the server's
/// `max_allowed_packet` (16 MiB by default on MariaDB, 64 MiB on MySQL 8).
pub const MAX_VALUE_LEN: usize = 4 * 1024 * 1024;

/// How many times a statement InnoDB rolled back to break a deadlock is run again.
const DEADLOCK_ATTEMPTS: usize = 3;

/// A session store in MySQL or MariaDB. Cheap to clone: clones share the pool.
///
/// One row per session; a write changes its keys with `JSON_SET` and `JSON_REMOVE` in the
/// statement that locks the row, so concurrent writers to different keys never lose each other.
/// Expiry comes from the server's clock, so app servers' clocks do not matter.
#[derive(Clone)]
pub struct MySqlStore {
    pool: MySqlPool,
    names: Arc<Names>,
    queries: Arc<Queries>,
    timeout: Duration,
}

impl std::fmt::Debug for MySqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MySqlStore")
            .field("table", &self.names.table)
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

fn decode_session(data: &str) -> Result<Map> {
    Ok(decode_document(data)?)
}

/// A batch as the statements bind it: each set's path and text, each removal's path.
struct Batch {
    sets: Vec<(String, String)>,
    dels: Vec<String>,
    /// The `data` of a session the sets start (empty for a batch that never creates).
    fresh: String,
}

impl Batch {
    fn new(changes: Vec<Change>, creates: bool) -> std::result::Result<Self, StoreError> {
        let edit = DocumentEdit::new(changes, MAX_VALUE_LEN)?;
        let fresh = match creates {
            true => edit.new_document(),
            false => String::new(),
        };
        Ok(Self {
            sets: edit
                .sets
                .into_iter()
                .map(|(name, text)| (path_of(&name), text))
                .collect(),
            dels: edit.removals.iter().map(|name| path_of(name)).collect(),
            fresh,
        })
    }

    /// Binds the edit's parameters: each set's path and text, then each removal's path.
    fn bind_edit<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, MySql, MySqlArguments>,
    ) -> sqlx::query::Query<'q, MySql, MySqlArguments> {
        for (path, text) in &self.sets {
            query = query.bind(path).bind(text);
        }
        for path in &self.dels {
            query = query.bind(path);
        }
        query
    }
}

impl MySqlStore {
    /// A store with the default table name on `pool`.
    pub fn new(pool: MySqlPool) -> Self {
        let names = Names::new(crate::DEFAULT_TABLE)
            .unwrap_or_else(|e| unreachable!("the default name is valid: {e}"));
        let queries = Queries::new(&names);
        Self::from_parts(
            pool,
            Arc::new(names),
            Arc::new(queries),
            crate::DEFAULT_OPERATION_TIMEOUT,
        )
    }

    /// Connects to `url` with the default settings (see [`MySqlStoreBuilder`]).
    ///
    /// # Errors
    /// As [`MySqlStoreBuilder::connect`].
    pub async fn connect(url: &str) -> std::result::Result<Self, StoreError> {
        Self::builder().connect(url).await
    }

    /// Settings for the table name, pool and timeouts.
    pub fn builder() -> MySqlStoreBuilder {
        MySqlStoreBuilder::default()
    }

    pub(crate) fn from_parts(
        pool: MySqlPool,
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

    /// The sessions table's name.
    pub fn table(&self) -> &str {
        &self.names.table
    }

    /// The pool, to share with the rest of the application.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// Creates the tables and indexes, or brings them up to date. Safe to call on every start,
    /// from several instances at once.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the server cannot be reached; [`StoreError::Backend`] when
    /// the user may not create them or the tables are newer than this code.
    pub async fn migrate(&self) -> std::result::Result<(), StoreError> {
        schema::migrate(&self.pool, &self.names)
            .await
            .map_err(|e| e.into_store_error("migrating the session tables"))
    }

    /// Runs one operation under the operation timeout, again when InnoDB rolled it back to break
    /// a deadlock, and maps its error, naming `context`.
    pub(crate) async fn op<T, F, Fut>(
        &self,
        context: &'static str,
        work: F,
    ) -> std::result::Result<T, StoreError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let attempts = async {
            let mut attempt = 1;
            loop {
                match work().await {
                    Err(error) if error.is_deadlock() && attempt < DEADLOCK_ATTEMPTS => {
                        tracing::debug!(context, attempt, "deadlock; running it again");
                        attempt += 1;
                    }
                    done => return done,
                }
            }
        };
        match tokio::time::timeout(self.timeout, attempts).await {
            Ok(result) => result.map_err(|e| e.into_store_error(context)),
            Err(_) => Err(MySqlError::Timeout(self.timeout).into_store_error(context)),
        }
    }

    pub(crate) fn queries(&self) -> &Queries {
        &self.queries
    }

    /// Applies a batch; `may_create` is false for `update`. Returns whether the session exists
    /// afterwards.
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
        // Decided on the batch as given, before collapsing: `[Set k, Del k]` creates an empty
        // session, as `set` then `del` would.
        let creates = may_create && changes.iter().any(|c| matches!(c, Change::Set(..)));
        let batch = Batch::new(changes, creates)?;
        if batch.sets.is_empty() && batch.dels.is_empty() {
            return self.extend(id, ttl).await; // an empty update: only the expiry moves
        }
        let ttl = ttl_ms(ttl);
        let (sets, dels) = (batch.sets.len(), batch.dels.len());
        if creates {
            let statement = match (sets, dels) {
                (1, 0) => self.queries.set.clone(),
                _ => self.queries.write(sets, dels),
            };
            return self
                .op(context, || async {
                    let query = sqlx::query(statement.clone())
                        .bind(id.as_bytes().as_slice())
                        .bind(ttl)
                        .bind(&batch.fresh);
                    batch
                        .bind_edit(query)
                        .bind(&batch.fresh)
                        .bind(ttl)
                        .execute(&self.pool)
                        .await?;
                    Ok(true)
                })
                .await;
        }
        let statement = match (sets, dels) {
            (0, 1) => self.queries.del.clone(),
            _ => self.queries.update(sets, dels),
        };
        self.op(context, || async {
            let done = batch
                .bind_edit(sqlx::query(statement.clone()))
                .bind(ttl)
                .bind(id.as_bytes().as_slice())
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    /// `incr` (`create`: a missing session is created) and `incr_live`, under the row lock;
    /// `None`: no live session, nothing created.
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
        self.read_decide_write("incr", id, key, ttl, create, |current| {
            let next = incremented(current.as_ref(), delta)?;
            Ok((Some(next.to_string()), next))
        })
        .await
    }

    /// In one transaction: makes sure the session is live (with `create`, creating it or
    /// starting an expired one empty; without, answering `None` for a missing or expired one)
    /// and holds its row, reads `key`, and writes what `decide` makes of it (`None`: nothing, and
    /// the transaction rolls back, creating nothing). For the operations whose decision needs
    /// the value (`incr`, the live variants, and `compare_and_set` expecting "absent").
    async fn read_decide_write<T>(
        &self,
        context: &'static str,
        id: &SessionId,
        key: &str,
        ttl: Duration,
        create: bool,
        decide: impl Fn(Option<Value>) -> std::result::Result<(Option<String>, T), StoreError>,
    ) -> std::result::Result<Option<T>, StoreError> {
        let ttl = ttl_ms(ttl);
        let attempt = || async {
            let mut tx = self.pool.begin().await?;
            let text: Option<String> = if create {
                sqlx::query(self.queries.ensure.clone())
                    .bind(id.as_bytes().as_slice())
                    .bind(ttl)
                    .bind(ttl)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query_scalar(self.queries.get_for_update.clone())
                    .bind(path(key))
                    .bind(id.as_bytes().as_slice())
                    .fetch_one(&mut *tx)
                    .await?
            } else {
                let row: Option<(Option<String>, i64)> =
                    sqlx::query_as(self.queries.get_live_for_update.clone())
                        .bind(path(key))
                        .bind(id.as_bytes().as_slice())
                        .fetch_optional(&mut *tx)
                        .await?;
                match row {
                    Some((text, live)) if live != 0 => text,
                    _ => return Ok(Ok(None)), // no live session: rolled back, nothing created
                }
            };
            let current = text.as_deref().map(decode).transpose()?;
            // A refused input (not an integer, an overflow) rolls back: nothing was created.
            let (write, answer) = match decide(current) {
                Ok(decided) => decided,
                Err(refused) => return Ok(Err(refused)),
            };
            let Some(text) = write else {
                return Ok(Ok(Some(answer))); // dropped: rolled back
            };
            sqlx::query(self.queries.write_locked.clone())
                .bind(path(key))
                .bind(text)
                .bind(ttl)
                .bind(id.as_bytes().as_slice())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Ok(Some(answer)))
        };
        self.op(context, attempt).await?
    }
}

#[async_trait]
impl Store for MySqlStore {
    fn backend_name(&self) -> &'static str {
        "mysql"
    }

    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> std::result::Result<Option<Value>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        touch.map(validate_ttl).transpose()?;
        if let Some(ttl) = touch
            && !self.extend(id, ttl).await?
        {
            return Ok(None);
        }
        self.op("get", || async {
            let row: Option<Option<String>> = sqlx::query_scalar(self.queries.get.clone())
                .bind(path(key))
                .bind(id.as_bytes().as_slice())
                .fetch_optional(&self.pool)
                .await?;
            row.flatten().as_deref().map(decode).transpose()
        })
        .await
    }

    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> std::result::Result<Option<Map>, StoreError> {
        touch.map(validate_ttl).transpose()?;
        if let Some(ttl) = touch
            && !self.extend(id, ttl).await?
        {
            return Ok(None);
        }
        self.op("get_all", || async {
            let data: Option<String> = sqlx::query_scalar(self.queries.get_all.clone())
                .bind(id.as_bytes().as_slice())
                .fetch_optional(&self.pool)
                .await?;
            data.as_deref().map(decode_session).transpose()
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
        let Some(statement) = keys
            .len()
            .checked_sub(1)
            .and_then(|i| self.queries.get_many.get(i))
        else {
            // No key, or more than the fixed statements hold: read the row once.
            let all = self.get_all(id, touch).await?;
            return Ok(all.map(|all| keys.iter().map(|k| all.get(*k).cloned()).collect()));
        };
        touch.map(validate_ttl).transpose()?;
        if let Some(ttl) = touch
            && !self.extend(id, ttl).await?
        {
            return Ok(None);
        }
        self.op("get_many", || async {
            let mut query = sqlx::query(statement.clone());
            for key in keys {
                query = query.bind(path(key));
            }
            let Some(row) = query
                .bind(id.as_bytes().as_slice())
                .fetch_optional(&self.pool)
                .await?
            else {
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
        self.op("del_all", || async {
            sqlx::query(self.queries.delete.clone())
                .bind(id.as_bytes().as_slice())
                .execute(&self.pool)
                .await?;
            Ok(())
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
        let new = canonical_json_within(&new, MAX_VALUE_LEN)?;
        self.read_decide_write("compare_and_set", id, key, ttl, false, |current| {
            Ok(if current == expected {
                (Some(new.clone()), true)
            } else {
                (None, false)
            })
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
        let new = canonical_json_within(&new, MAX_VALUE_LEN)?;
        let Some(expected) = expected else {
            // Expecting "absent" may create the session: decided under the row lock.
            return Ok(self
                .read_decide_write("compare_and_set", id, key, ttl, true, |current| {
                    Ok(match current {
                        None => (Some(new.clone()), true),
                        Some(_) => (None, false),
                    })
                })
                .await?
                .unwrap_or(false));
        };
        // Expecting a value needs a live session holding it: one conditional statement.
        let (path, expected, ttl) = (path(key), canonical_json(&expected), ttl_ms(ttl));
        self.op("compare_and_set", || async {
            let done = sqlx::query(self.queries.swap.clone())
                .bind(&path)
                .bind(&new)
                .bind(ttl)
                .bind(id.as_bytes().as_slice())
                .bind(&path)
                .bind(&expected)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    async fn take(&self, id: &SessionId) -> std::result::Result<Option<Map>, StoreError> {
        self.op("take", || async {
            let mut tx = self.pool.begin().await?;
            let row = sqlx::query(self.queries.lock_row.clone())
                .bind(id.as_bytes().as_slice())
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let (data, live): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
            sqlx::query(self.queries.delete.clone())
                .bind(id.as_bytes().as_slice())
                .execute(&mut *tx)
                .await?;
            let taken = (live != 0).then(|| decode_session(&data)).transpose()?;
            tx.commit().await?;
            Ok(taken)
        })
        .await
    }

    async fn extend(&self, id: &SessionId, ttl: Duration) -> std::result::Result<bool, StoreError> {
        validate_ttl(ttl)?;
        let ttl = ttl_ms(ttl);
        self.op("extend", || async {
            let done = sqlx::query(self.queries.extend.clone())
                .bind(ttl)
                .bind(id.as_bytes().as_slice())
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
