//! A database written by the previous release (schema 1: a row per key in `session_entries`)
//! reads the same after the upgrade to one row per session, and takes writes as before.

use session_core::SessionId;
use session_store_sqlite::{SCHEMA_VERSION, SqliteStore};
use session_test_support::{OldSessions, awkward_entries, check_upgraded};

/// Schema 1 as the previous release created it.
const SCHEMA_1: &str = "CREATE TABLE sessions (
         id BLOB PRIMARY KEY NOT NULL,
         expires_at INTEGER NOT NULL,
         subject TEXT
     ) WITHOUT ROWID;
     CREATE INDEX sessions_expires_at ON sessions (expires_at);
     CREATE INDEX sessions_subject ON sessions (subject) WHERE subject IS NOT NULL;
     CREATE TABLE session_entries (
         session_id BLOB NOT NULL,
         key TEXT NOT NULL,
         value TEXT NOT NULL,
         PRIMARY KEY (session_id, key)
     ) WITHOUT ROWID;
     PRAGMA user_version = 1;";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn a_schema_1_database_reads_the_same_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    let old = OldSessions::generate();
    {
        // Written as the previous release wrote them: a row per session, a row per key holding
        // the value's canonical JSON text.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(SCHEMA_1).unwrap();
        let session = |id: &SessionId, expires: i64, subject: Option<&str>| {
            conn.execute(
                "INSERT INTO sessions (id, expires_at, subject) VALUES (?1, ?2, ?3)",
                rusqlite::params![id.as_bytes(), expires, subject],
            )
            .unwrap();
        };
        let hour = now_ms() + 3_600_000;
        session(&old.live, hour, None);
        session(&old.bound, hour, Some("ada"));
        session(&old.expired, now_ms() - 1_000, Some("ada"));
        session(&old.empty, hour, None);
        for target in [&old.live, &old.bound, &old.expired] {
            for (key, value) in awkward_entries() {
                conn.execute(
                    "INSERT INTO session_entries (session_id, key, value) VALUES (?1, ?2, ?3)",
                    rusqlite::params![target.as_bytes(), key, session_core::canonical_json(&value)],
                )
                .unwrap();
            }
        }
    }

    let store = SqliteStore::open(&path).await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'session_entries'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0, "the per-key table is gone");

    check_upgraded(&store, old).await;
}
