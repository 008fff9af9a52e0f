//! A database written by the previous release (schema 1: a row per key in `session_entries`)
//! reads the same after the upgrade to one row per session, and takes writes as before.

use std::time::Duration;

use serde_json::{Value, json};
use session_core::{Enumerate, ExpiredCleanup, SessionId, Store, SubjectIndex, Token};
use session_store_sqlite::{SCHEMA_VERSION, SqliteStore};

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

/// Keys and values that stress the new layout: path syntax, quotes, non-ASCII; a NUL in a value; the
/// numbers and strings whose exact text matters.
fn entries() -> Vec<(&'static str, Value)> {
    vec![
        ("user", json!("ada")),
        ("--", json!(u64::MAX)),
        ("$.a[0]", json!(i64::MIN)),
        ("say \"hi\"", json!(0.1)),
        (
            "ключ🦀",
            json!({"nested": [1, {"deep": null}], "nul": "a\u{0}b"}),
        ),
        ("it's.a key", json!(true)),
    ]
}

#[tokio::test]
async fn a_schema_1_database_reads_the_same_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    let id = |_| Token::generate().unwrap().id();
    let (live, bound, expired, empty): (SessionId, SessionId, SessionId, SessionId) =
        (id(0), id(1), id(2), id(3));
    {
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
        session(&live, hour, None);
        session(&bound, hour, Some("ada"));
        session(&expired, now_ms() - 1_000, Some("ada"));
        session(&empty, hour, None);
        for target in [&live, &bound, &expired] {
            for (key, value) in entries() {
                conn.execute(
                    "INSERT INTO session_entries (session_id, key, value) VALUES (?1, ?2, ?3)",
                    rusqlite::params![target.as_bytes(), key, session_core::canonical_json(&value)],
                )
                .unwrap();
            }
        }
    }

    let store = SqliteStore::open(&path).await.unwrap();
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let tables: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'session_entries'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0, "the per-key table is gone");

    let want: session_core::Map = entries()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for target in [&live, &bound] {
        assert_eq!(
            store.get_all(target, None).await.unwrap(),
            Some(want.clone())
        );
        for (key, value) in entries() {
            assert_eq!(store.get(target, key, None).await.unwrap(), Some(value));
        }
        let keys: Vec<&str> = entries().iter().map(|(k, _)| *k).collect();
        let many = store.get_many(target, &keys, None).await.unwrap().unwrap();
        assert_eq!(
            many,
            entries()
                .into_iter()
                .map(|(_, v)| Some(v))
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(
        store.get_all(&empty, None).await.unwrap(),
        Some(Default::default())
    );
    assert_eq!(store.get_all(&expired, None).await.unwrap(), None);
    assert_eq!(store.subject_sessions("ada").await.unwrap(), vec![bound]);
    assert_eq!(store.count().await.unwrap(), 3);

    // Writes after the upgrade: keys change one at a time, the expired session starts empty.
    let ttl = Duration::from_secs(60);
    store.set(&live, "--", json!(1), ttl).await.unwrap();
    store.del(&live, "user", ttl).await.unwrap();
    assert_eq!(store.incr(&live, "n", 2, ttl).await.unwrap(), 2);
    let after = store.get_all(&live, None).await.unwrap().unwrap();
    assert_eq!(after.get("--"), Some(&json!(1)));
    assert_eq!(after.get("user"), None);
    assert_eq!(after.get("$.a[0]"), Some(&json!(i64::MIN)));
    assert_eq!(after.len(), entries().len());
    store.set(&expired, "fresh", json!(1), ttl).await.unwrap();
    assert_eq!(
        store.get_all(&expired, None).await.unwrap(),
        Some([("fresh".to_owned(), json!(1))].into_iter().collect())
    );
    assert_eq!(store.subject_sessions("ada").await.unwrap(), vec![bound]);
    assert_eq!(store.revoke_subject("ada").await.unwrap(), 1);
    assert_eq!(store.delete_expired(100).await.unwrap(), 0);
    assert_eq!(store.count().await.unwrap(), 3);
}
