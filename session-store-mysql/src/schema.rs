//! The tables, created and migrated by [`MySqlStore::migrate`](crate::MySqlStore::migrate) from
//! versioned SQL.
//!
//! - `<table>`: one row per session: `id` (`BINARY(32)`, the session id), `expires_at` (`BIGINT`,
//!   milliseconds since the epoch on the server's clock, from `UTC_TIMESTAMP(6)`, so the
//!   connection's `time_zone` never matters), `subject` (`utf8mb4_bin`: compared exactly), and
//!   `data`: the session's keys in one JSON object, each value kept as its exact JSON text in a
//!   JSON string (so `u64::MAX`, `-0.0` or a string with NUL come back as written; MySQL's JSON
//!   type would normalize numbers). `LONGTEXT`, `utf8mb4_bin`: every key and value round-trips.
//!   Indexed on `expires_at` for cleanup and on `(subject, expires_at)` for the subject index.
//! - `<table>_migrations`: the applied versions.
//!
//! Migrations run under a named lock (`GET_LOCK`), so app instances starting together migrate
//! once.

use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, MySql, MySqlPool};

use crate::error::{MySqlError, Result};

/// The newest migration this code knows; [`MySqlStore::migrate`](crate::MySqlStore::migrate)
/// brings the tables to it.
pub const SCHEMA_VERSION: i32 = 1;

/// The longest table name: MySQL identifiers are at most 64 characters, and the migrations
/// table and index names add a suffix (`_migrations`).
pub(crate) const MAX_TABLE_LEN: usize = 48;

/// Quoted names of everything the store creates.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    /// The bare table name.
    pub(crate) table: String,
    pub(crate) sessions: String,
    pub(crate) migrations: String,
}

impl Names {
    /// Names for `table`: ASCII letters, digits and `_`, not starting with a digit, at most
    /// [`MAX_TABLE_LEN`] bytes.
    pub(crate) fn new(table: &str) -> std::result::Result<Self, String> {
        let mut chars = table.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !first_ok
            || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            || table.len() > MAX_TABLE_LEN
        {
            return Err(format!(
                "table {table:?} must be 1 to {MAX_TABLE_LEN} ASCII letters, digits or '_', not starting with a digit"
            ));
        }
        Ok(Self {
            table: table.to_owned(),
            sessions: format!("`{table}`"),
            migrations: format!("`{table}_migrations`"),
        })
    }
}

/// The SQL of migration `version`, for the tables in `names`.
fn migration(names: &Names, version: i32) -> Option<String> {
    let Names {
        table, sessions, ..
    } = names;
    match version {
        1 => Some(format!(
            "CREATE TABLE IF NOT EXISTS {sessions} (
                id BINARY(32) NOT NULL,
                expires_at BIGINT NOT NULL,
                subject VARCHAR(1024) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
                data LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
                PRIMARY KEY (id),
                KEY `{table}_expires` (expires_at),
                KEY `{table}_subject` (subject(255), expires_at)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
        )),
        _ => None,
    }
}

/// Creates the tables or brings them up to [`SCHEMA_VERSION`], under a named lock.
pub(crate) async fn migrate(pool: &MySqlPool, names: &Names) -> Result<()> {
    let mut conn = pool.acquire().await?;
    let lock = format!("session-store-mysql:{}", names.table);
    // GET_LOCK waits up to 30 s for another instance's migration; 1 means we hold it.
    let held: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 30)")
        .bind(&lock)
        .fetch_one(&mut *conn)
        .await?;
    if held != Some(1) {
        return Err(MySqlError::Sqlx(sqlx::Error::Protocol(format!(
            "could not take the migration lock {lock:?} within 30 s"
        ))));
    }
    let result = migrate_locked(&mut conn, names).await;
    let _ = sqlx::query("SELECT RELEASE_LOCK(?)")
        .bind(&lock)
        .fetch_one(&mut *conn)
        .await;
    result
}

async fn migrate_locked(conn: &mut PoolConnection<MySql>, names: &Names) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "CREATE TABLE IF NOT EXISTS {} (version INT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL) \
         ENGINE=InnoDB",
        names.migrations
    )))
    .execute(&mut **conn)
    .await?;
    let applied: Option<i32> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT MAX(version) FROM {}",
        names.migrations
    )))
    .fetch_one(&mut **conn)
    .await?;
    let applied = applied.unwrap_or(0);
    if applied > SCHEMA_VERSION {
        return Err(MySqlError::NewerSchema {
            found: applied,
            known: SCHEMA_VERSION,
        });
    }
    for version in applied + 1..=SCHEMA_VERSION {
        let Some(sql) = migration(names, version) else {
            continue;
        };
        // DDL commits on its own in MySQL; the version is recorded after it, and every step is
        // written to be run again if a crash came in between.
        sqlx::query(AssertSqlSafe(sql)).execute(&mut **conn).await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {} (version, applied_at) VALUES (?, UNIX_TIMESTAMP())",
            names.migrations
        )))
        .bind(version)
        .execute(&mut **conn)
        .await?;
        tracing::info!(table = %names.table, version, "session tables migrated");
    }
    Ok(())
}
