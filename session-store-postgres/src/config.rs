//! `PostgresStoreBuilder`: names, pool and timeouts, and their defaults.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use session_core::StoreError;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::PostgresStore;
use crate::error::PgError;
use crate::queries::Queries;
use crate::schema::Names;

/// The default schema.
pub const DEFAULT_SCHEMA: &str = "public";

/// The default table name.
pub const DEFAULT_TABLE: &str = "sessions";

/// The default time to wait for a pooled connection (also bounds connecting to a down server).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The default time one operation may take, acquiring a connection included.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// The default size of a pool the store creates from a URL.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// Settings for a [`PostgresStore`].
///
/// # Examples
/// ```no_run
/// # async fn run() -> Result<(), session_core::StoreError> {
/// use std::time::Duration;
/// use session_store_postgres::PostgresStore;
///
/// let store = PostgresStore::builder()
///     .schema("auth")
///     .table("web_sessions")
///     .operation_timeout(Duration::from_secs(2))
///     .connect("postgres://app@db.internal/app")
///     .await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresStoreBuilder {
    schema: String,
    table: String,
    acquire_timeout: Duration,
    operation_timeout: Duration,
    max_connections: u32,
}

impl Default for PostgresStoreBuilder {
    fn default() -> Self {
        Self {
            schema: DEFAULT_SCHEMA.into(),
            table: DEFAULT_TABLE.into(),
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl PostgresStoreBuilder {
    /// The schema the tables and functions live in; [`migrate`](PostgresStore::migrate) creates
    /// it. ASCII letters, digits and `_`.
    ///
    /// The default is [`DEFAULT_SCHEMA`].
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The sessions table's name; the functions and the migrations table take it as a
    /// prefix. ASCII letters, digits and `_`, at most 48 bytes.
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
    /// creates also gets a server-side `statement_timeout` of 90% of it, so a timed-out write
    /// is rolled back rather than applied later; build a pool you bring with
    /// [`statement_timeout`](Self::statement_timeout) for the same guarantee.
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

    /// `options` with the server-side `statement_timeout` the store's guarantee needs: 90% of the
    /// [operation timeout](Self::operation_timeout), so the server gives up on a statement a
    /// little before the client does and an operation reported as timed out was rolled back,
    /// never applied later (a write waiting on a lock would otherwise run once the lock is
    /// released). A pool the store creates gets it already; build a pool you bring from these
    /// options (or set `statement_timeout` on its connections some other way) before
    /// [`build`](Self::build).
    ///
    /// ```no_run
    /// use std::str::FromStr;
    /// use std::time::Duration;
    /// use session_store_postgres::PostgresStore;
    /// use session_store_postgres::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let builder = PostgresStore::builder().operation_timeout(Duration::from_secs(2));
    /// let options = builder.statement_timeout(PgConnectOptions::from_str("postgres://app@db/app")?);
    /// let pool = PgPoolOptions::new().max_connections(20).connect_with(options).await?;
    /// let store = builder.build(pool)?; // the rest of the app shares `pool`
    /// # Ok(()) }
    /// ```
    pub fn statement_timeout(&self, options: PgConnectOptions) -> PgConnectOptions {
        let server_timeout = self.operation_timeout.mul_f64(0.9).as_millis().max(1);
        options.options([("statement_timeout", format!("{server_timeout}ms"))])
    }

    /// A store on a pool you already have (cheap to clone; share it with the rest of your app).
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a bad schema or table name.
    pub fn build(self, pool: PgPool) -> Result<PostgresStore, StoreError> {
        let names = Names::new(&self.schema, &self.table).map_err(StoreError::InvalidInput)?;
        let queries = Queries::new(&names);
        Ok(PostgresStore::from_parts(
            pool,
            Arc::new(names),
            Arc::new(queries),
            self.operation_timeout,
        ))
    }

    /// Connects a new pool to `url` and builds a store on it. It does not migrate: call
    /// [`PostgresStore::migrate`].
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a malformed URL or bad names; [`StoreError::Unavailable`]
    /// when the server cannot be reached within the acquire timeout.
    pub async fn connect(self, url: &str) -> Result<PostgresStore, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidInput(format!("malformed PostgreSQL URL: {e}")))?;
        self.connect_with(options).await
    }

    /// As [`connect`](Self::connect), with connection options built in code (e.g. to set a
    /// session `TimeZone` or TLS settings).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(
        self,
        options: PgConnectOptions,
    ) -> Result<PostgresStore, StoreError> {
        if self.max_connections == 0 {
            return Err(StoreError::InvalidInput(
                "max_connections must be at least 1".into(),
            ));
        }
        let options = self.statement_timeout(options);
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(|e| PgError::from(e).into_store_error("connecting to PostgreSQL"))?;
        self.build(pool)
    }
}
