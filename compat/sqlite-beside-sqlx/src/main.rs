//! An application that uses sqlx 0.9's SQLite driver and `session-store-sqlite` in one binary.
//! Cargo links `libsqlite3-sys` once per build (its `links = "sqlite3"`), so this builds only when
//! both resolve to the same version; then each opens a database of its own, and each reads back
//! what it wrote. `scripts/test` builds and runs it.

use std::time::Duration;

use session_core::{Store, Token};
use session_store_sqlite::SqliteStore;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;

    let app = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(dir.path().join("app.db"))
            .create_if_missing(true),
    )
    .await?;
    sqlx::query("CREATE TABLE notes (body TEXT NOT NULL)")
        .execute(&app)
        .await?;
    sqlx::query("INSERT INTO notes (body) VALUES ('from sqlx')")
        .execute(&app)
        .await?;
    let body: String = sqlx::query_scalar("SELECT body FROM notes")
        .fetch_one(&app)
        .await?;
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&app)
        .await?;
    assert_eq!(body, "from sqlx");

    let sessions = SqliteStore::open(dir.path().join("sessions.db")).await?;
    let id = Token::generate()?.id();
    sessions
        .set(&id, "user", "ada".into(), Duration::from_secs(60))
        .await?;
    assert_eq!(sessions.get(&id, "user", None).await?, Some("ada".into()));

    println!("sqlx and session-store-sqlite share SQLite {version}: both opened and read back");
    Ok(())
}
