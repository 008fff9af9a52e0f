//! `MySqlStoreBuilder`: table name, pool and timeouts, and their defaults.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use session_core::StoreError;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{Executor, MySqlPool};

use crate::MySqlStore;
use crate::error::MySqlError;
use crate::queries::Queries;
use crate::schema::Names;

/// The default table name (the migrations table is `<table>_migrations`).
pub const DEFAULT_TABLE: &str = "sessions";

/// The default time to wait for a pooled connection (also bounds connecting to a down server).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The default time one operation may take, acquiring a connection included.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// The default size of a pool the store creates from a URL.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// Settings for a [`MySqlStore`].
///
/// # Examples
/// ```no_run
/// # async fn run() -> Result<(), session_core::StoreError> {
/// use std::time::Duration;
/// use session_store_mysql::MySqlStore;
///
/// let store = MySqlStore::builder()
///     .table("web_sessions")
///     .operation_timeout(Duration::from_secs(2))
///     .connect("mysql://app:secret@db.internal/app")
///     .await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MySqlStoreBuilder {
    table: String,
    acquire_timeout: Duration,
    operation_timeout: Duration,
    max_connections: u32,
}

impl Default for MySqlStoreBuilder {
    fn default() -> Self {
        Self {
            table: DEFAULT_TABLE.into(),
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl MySqlStoreBuilder {
    /// The sessions table's name, in the connection's database; the migrations table takes it as
    /// a prefix. ASCII letters, digits and `_`, at most 48 bytes.
    ///
    /// The default is [`DEFAULT_TABLE`].
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// How long to wait for a connection of a pool the store creates (from a URL); past it the
    /// operation fails with [`StoreError::Unavailable`]. A pool you bring keeps its own setting.
    ///
    /// The default is [`DEFAULT_ACQUIRE_TIMEOUT`].
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// How long one operation may take in all; past it, it fails with
    /// [`StoreError::Unavailable`], so a hung network never hangs a request. A pool the store
    /// creates also gets server-side limits below it (`innodb_lock_wait_timeout`, and on MariaDB
    /// `max_statement_time`), so a write that waits on a lock gives up on the server too rather
    /// than landing after the caller was told it failed; set them on a pool you bring
    /// ([`build`](Self::build)) for the same guarantee.
    ///
    /// The default is [`DEFAULT_OPERATION_TIMEOUT`].
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// The size of a pool the store creates from a URL.
    ///
    /// The default is [`DEFAULT_MAX_CONNECTIONS`].
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max;
        self
    }

    /// A store on a pool you already have (cheap to clone; share it with the rest of your app).
    /// Its connections must use `utf8mb4` (sqlx's default).
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a bad table name.
    pub fn build(self, pool: MySqlPool) -> Result<MySqlStore, StoreError> {
        let names = Names::new(&self.table).map_err(StoreError::InvalidInput)?;
        let queries = Queries::new(&names);
        Ok(MySqlStore::from_parts(
            pool,
            Arc::new(names),
            Arc::new(queries),
            self.operation_timeout,
        ))
    }

    /// Connects a new pool to `url` (`mysql://user:password@host:port/database`; MariaDB too)
    /// and builds a store on it. It does not migrate: call [`MySqlStore::migrate`].
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a malformed URL or a bad table name;
    /// [`StoreError::Unavailable`] when the server cannot be reached within the acquire timeout.
    pub async fn connect(self, url: &str) -> Result<MySqlStore, StoreError> {
        let options = MySqlConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidInput(format!("malformed MySQL URL: {e}")))?;
        self.connect_with(options).await
    }

    /// As [`connect`](Self::connect), with connection options built in code (TLS, a socket...).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(
        self,
        options: MySqlConnectOptions,
    ) -> Result<MySqlStore, StoreError> {
        if self.max_connections == 0 {
            return Err(StoreError::InvalidInput(
                "max_connections must be at least 1".into(),
            ));
        }
        // The server gives up a little before the client does, so an operation reported as timed
        // out was rolled back, never applied later (a statement waiting on a row lock would
        // otherwise run once the lock is released).
        let server_limit = self.operation_timeout.mul_f64(0.9);
        let lock_wait = server_limit.as_secs().max(1);
        let statement = server_limit.as_secs_f64().max(0.001);
        let pool = MySqlPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    conn.execute(sqlx::AssertSqlSafe(format!(
                        "SET SESSION innodb_lock_wait_timeout = {lock_wait}"
                    )))
                    .await?;
                    // MariaDB only; MySQL has no such variable (its max_execution_time covers
                    // reads alone), and the lock-wait limit above covers its writes.
                    let mariadb = conn
                        .execute(sqlx::AssertSqlSafe(format!(
                            "SET SESSION max_statement_time = {statement:.3}"
                        )))
                        .await;
                    if let Err(error) = mariadb {
                        tracing::debug!(%error, "no max_statement_time: not MariaDB");
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| MySqlError::from(e).into_store_error("connecting to MySQL"))?;
        self.build(pool)
    }
}
