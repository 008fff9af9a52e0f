//! `SqliteStoreBuilder`: where the database lives, the pool, the timeouts, and their defaults.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;
use session_core::StoreError;

use crate::SqliteStore;
use crate::error::SqliteError;
use crate::pool::{Opener, Pool};
use crate::schema;

/// The default number of connections to a database file.
pub const DEFAULT_POOL_SIZE: usize = 4;

/// The default time a writer waits for another writer's lock before giving up with
/// [`StoreError::Unavailable`].
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The default time an operation waits for a free connection before giving up with
/// [`StoreError::Unavailable`].
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the sessions are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A database file, shared by every store and process that opens the same path.
    File(PathBuf),
    /// A private in-process database that lives as long as the store: for tests and demos.
    Memory,
}

/// Settings for a [`SqliteStore`].
///
/// # Examples
/// ```no_run
/// # async fn run() -> Result<(), session_core::StoreError> {
/// use std::time::Duration;
/// use session_store_sqlite::SqliteStore;
///
/// let store = SqliteStore::builder("sessions.db")
///     .pool_size(8)
///     .busy_timeout(Duration::from_secs(2))
///     .open()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStoreBuilder {
    location: Location,
    pool_size: usize,
    busy_timeout: Duration,
    acquire_timeout: Duration,
}

impl SqliteStoreBuilder {
    /// Settings for the given location, with every default.
    pub fn new(location: Location) -> Self {
        Self {
            location,
            pool_size: DEFAULT_POOL_SIZE,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }

    /// How many connections work at once. Reads run in parallel under WAL; writes queue on
    /// SQLite's single write lock. An in-memory database always has one connection.
    ///
    /// The default is [`DEFAULT_POOL_SIZE`].
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self
    }

    /// How long a write waits for the database's write lock (held by another connection or
    /// process) before failing with [`StoreError::Unavailable`].
    ///
    /// The default is [`DEFAULT_BUSY_TIMEOUT`].
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How long an operation waits for a free connection before failing with
    /// [`StoreError::Unavailable`].
    ///
    /// The default is [`DEFAULT_ACQUIRE_TIMEOUT`].
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Opens the database (creating the file if needed) and creates or migrates the schema. The
    /// file work runs on a blocking thread.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a pool size of zero; [`StoreError::Unavailable`] when the
    /// file cannot be opened; [`StoreError::Backend`] when the file is not a database of this
    /// schema (or of a newer one).
    pub async fn open(self) -> Result<SqliteStore, StoreError> {
        if self.pool_size == 0 {
            return Err(StoreError::InvalidInput(
                "pool_size must be at least 1".into(),
            ));
        }
        let (file, size) = match &self.location {
            Location::File(_) => (true, self.pool_size),
            Location::Memory => (false, 1),
        };
        let (location, busy) = (self.location.clone(), self.busy_timeout);
        let open: Opener = Arc::new(move || {
            let conn = match &location {
                Location::File(path) => Connection::open(path)?,
                Location::Memory => Connection::open_in_memory()?,
            };
            schema::configure(&conn, busy, file)?;
            Ok(conn)
        });
        let first_open = open.clone();
        let first = tokio::task::spawn_blocking(move || {
            let mut conn = first_open()?;
            schema::migrate(&mut conn)?;
            Ok::<_, SqliteError>(conn)
        })
        .await
        .map_err(SqliteError::from)
        .and_then(|r| r)
        .map_err(|e| e.into_store_error("opening the session database"))?;
        Ok(SqliteStore::from_pool(Pool::new(
            first,
            size,
            open,
            self.acquire_timeout,
        )))
    }
}
