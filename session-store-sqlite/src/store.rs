//! `SqliteStore` and its [`Store`] implementation.

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::Connection;
use session_core::{
    Change, DocumentEdit, KeyKind, Map, SessionId, Store, StoreError, Value, async_trait,
    validate_key, validate_ttl,
};

use crate::clock::{now_ms, ttl_ms};
use crate::config::{Location, SqliteStoreBuilder};
use crate::error::Result;
use crate::pool::Pool;
use crate::queries;

/// The largest JSON text one value may take: a quarter of SQLite's maximum string length
/// (1,000,000,000 bytes), so a value fits its session's document even with every character
/// escaped there. The whole document must stay under SQLite's limit too: a write past it fails
/// with [`StoreError::Backend`] and changes nothing.
pub const MAX_VALUE_LEN: usize = 250_000_000;

/// A session store in a SQLite database: a file shared by every process that opens it, or an
/// in-process database for tests and demos.
///
/// Each operation is one statement or one transaction, run on a blocking thread; see the crate
/// docs for the schema and the locking rules.
pub struct SqliteStore {
    pool: Pool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates) the database file at `path` with the default settings.
    ///
    /// # Errors
    /// As [`SqliteStoreBuilder::open`].
    pub async fn open(path: impl Into<PathBuf>) -> std::result::Result<Self, StoreError> {
        Self::builder(path).open().await
    }

    /// A private in-memory database with the default settings; its data ends with the store.
    ///
    /// # Errors
    /// As [`SqliteStoreBuilder::open`].
    pub async fn open_in_memory() -> std::result::Result<Self, StoreError> {
        SqliteStoreBuilder::new(Location::Memory).open().await
    }

    /// Settings for a database file at `path`.
    pub fn builder(path: impl Into<PathBuf>) -> SqliteStoreBuilder {
        SqliteStoreBuilder::new(Location::File(path.into()))
    }

    pub(crate) fn from_pool(pool: Pool) -> Self {
        Self { pool }
    }

    /// Runs `work` on a pooled connection and maps its error, naming `context`.
    pub(crate) async fn run<T, F>(
        &self,
        context: &'static str,
        work: F,
    ) -> std::result::Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.pool
            .run(work)
            .await
            .map_err(|e| e.into_store_error(context))
    }

    /// Checks and encodes a batch, then applies it in one statement; returns whether the
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
        if changes.is_empty() && may_create {
            return Ok(false); // an empty set_many changes nothing
        }
        // Decided on the batch as given, before the last change to each key wins: `[Set k,
        // Del k]` creates an empty session, as `set` then `del` would.
        let create = may_create && changes.iter().any(|c| matches!(c, Change::Set(..)));
        let edit = DocumentEdit::new(changes, MAX_VALUE_LEN)?;
        let (id, ttl) = (*id, ttl_ms(ttl));
        self.run(context, move |conn| {
            let now = now_ms();
            queries::apply(conn, &id, &edit, now, now.saturating_add(ttl), create)
        })
        .await
    }
}

/// The deadline a touching read sets, in ms, or `None` for a plain read.
fn touch_ms(touch: Option<Duration>) -> std::result::Result<Option<i64>, StoreError> {
    touch
        .map(|ttl| validate_ttl(ttl).map(|()| ttl_ms(ttl)))
        .transpose()
}

#[async_trait]
impl Store for SqliteStore {
    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> std::result::Result<Option<Value>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        let touch = touch_ms(touch)?;
        let (id, key) = (*id, key.to_owned());
        self.run("get", move |conn| {
            let now = now_ms();
            queries::get(conn, &id, &key, now, touch.map(|t| now.saturating_add(t)))
        })
        .await
    }

    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> std::result::Result<Option<Map>, StoreError> {
        let touch = touch_ms(touch)?;
        let id = *id;
        self.run("get_all", move |conn| {
            let now = now_ms();
            queries::get_all(conn, &id, now, touch.map(|t| now.saturating_add(t)))
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
        let id = *id;
        self.run("del_all", move |conn| queries::del_all(conn, &id))
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
        let touch = touch_ms(touch)?;
        let (id, keys) = (
            *id,
            keys.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>(),
        );
        self.run("get_many", move |conn| {
            let now = now_ms();
            queries::get_many(conn, &id, &keys, now, touch.map(|t| now.saturating_add(t)))
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
        let id = *id;
        self.run("take", move |conn| queries::take(conn, &id, now_ms()))
            .await
    }

    async fn extend(&self, id: &SessionId, ttl: Duration) -> std::result::Result<bool, StoreError> {
        validate_ttl(ttl)?;
        let (id, ttl) = (*id, ttl_ms(ttl));
        self.run("extend", move |conn| {
            let now = now_ms();
            queries::extend(conn, &id, now, now.saturating_add(ttl))
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

impl SqliteStore {
    /// `incr` (`create`: a missing session is created) and `incr_live`, in one `IMMEDIATE`
    /// transaction; `None`: no session, nothing created.
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
        let (id, key, ttl) = (*id, key.to_owned(), ttl_ms(ttl));
        self.run("incr", move |conn| {
            let now = now_ms();
            queries::incr(
                conn,
                &id,
                &key,
                delta,
                (now, now.saturating_add(ttl)),
                create,
            )
        })
        .await?
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
        let json = session_core::canonical_json_within(&new, MAX_VALUE_LEN)?;
        let (id, key, ttl) = (*id, key.to_owned(), ttl_ms(ttl));
        self.run("compare_and_set", move |conn| {
            let now = now_ms();
            queries::compare_and_set(
                conn,
                &id,
                &key,
                expected.as_ref(),
                &json,
                (now, now.saturating_add(ttl)),
                create,
            )
        })
        .await
    }
}
