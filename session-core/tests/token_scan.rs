//! After 1,000 sessions are created through the manager into a SQLite file, a scan of every row
//! finds no raw token: the store only ever holds SHA-256 ids.

use serde_json::json;
use session_core::SessionManager;
use session_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_raw_token_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.db");
    let manager = SessionManager::new(SqliteStore::open(&path).await.unwrap());
    let mut tokens = Vec::new();
    for i in 0..1000 {
        let session = manager
            .create_with(Some(format!("device {i}")), Some(json!({"i": i})))
            .unwrap();
        session.set("user", &format!("user-{i}")).unwrap();
        session.save().await.unwrap();
        tokens.push(session.token().as_str().to_owned());
    }

    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut everything = Vec::new();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for c in 0..columns {
                let cell: rusqlite::types::Value = row.get(c).unwrap();
                everything.push(match cell {
                    rusqlite::types::Value::Text(t) => t.into_bytes(),
                    rusqlite::types::Value::Blob(b) => b,
                    other => format!("{other:?}").into_bytes(),
                });
            }
        }
    }
    assert!(
        everything.len() > 3000,
        "the scan read the sessions ({} cells)",
        everything.len()
    );
    let haystack: Vec<u8> = everything.concat();
    for token in &tokens {
        let needle = token.as_bytes();
        assert!(
            !haystack.windows(needle.len()).any(|w| w == needle),
            "a raw token is stored"
        );
    }
    // And the ids are what the tokens hash to.
    let ids: i64 = conn
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ids, 1000);
}
