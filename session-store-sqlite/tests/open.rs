//! Opening: bad paths, foreign files and newer schemas are typed errors, never panics.

use session_core::StoreError;
use session_store_sqlite::{SCHEMA_VERSION, SqliteStore};

#[tokio::test]
async fn a_missing_directory_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(dir.path().join("no/such/dir/s.db"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("text.db");
    std::fs::write(
        &path,
        "this is not a database, but it is long enough to have a header....",
    )
    .unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend { .. }), "{err:?}");
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_an_older_one_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(SqliteStore::open(&path).await.unwrap());
    let version = |path: &std::path::Path| -> i64 {
        rusqlite::Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(&path), SCHEMA_VERSION);
    // Reopening an up-to-date file changes nothing.
    drop(SqliteStore::open(&path).await.unwrap());
    assert_eq!(version(&path), SCHEMA_VERSION);

    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend { .. }), "{err:?}");
    let cause = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(cause.contains("newer version"), "{err:?}");
}

#[tokio::test]
async fn a_zero_pool_is_invalid_input() {
    let err = SqliteStore::builder("unused.db")
        .pool_size(0)
        .open()
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err:?}");
}

/// Stores opening one new file together (several processes starting at once) all get it: the
/// switch to WAL, which SQLite refuses at once while another connection holds the file, is
/// retried within the busy timeout. Without the retry about one round in ten failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_stores_opening_one_new_file_at_once_all_succeed() {
    for round in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sessions.db");
        let opens: Vec<_> = (0..40)
            .map(|_| tokio::spawn(SqliteStore::open(path.clone())))
            .collect();
        for open in opens {
            let store = open.await.unwrap();
            assert!(store.is_ok(), "round {round}: {:?}", store.err());
        }
    }
}

/// Each session is one row whose document is SQLite's binary JSONB, however it was written
/// (created, changed, incremented, compared-and-set, its expiry touched).
#[tokio::test]
async fn every_write_leaves_one_jsonb_row_per_session() {
    use session_core::{Change, Store, Token};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let ttl = std::time::Duration::from_secs(60);
    let (a, b, c) = (
        Token::generate().unwrap().id(),
        Token::generate().unwrap().id(),
        Token::generate().unwrap().id(),
    );
    let both = vec![
        Change::Set("x".into(), 1.into()),
        Change::Set("y".into(), 2.into()),
    ];
    store.set_many(&a, both, ttl).await.unwrap();
    store.set(&a, "x", 3.into(), ttl).await.unwrap();
    store.del(&a, "y", ttl).await.unwrap();
    store.incr(&b, "n", 1, ttl).await.unwrap();
    store
        .compare_and_set(&c, "k", None, "v".into(), ttl)
        .await
        .unwrap();
    store.get_all(&c, Some(ttl)).await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let kinds: Vec<(String, i64)> = conn
        .prepare("SELECT typeof(data), count(*) FROM sessions GROUP BY 1")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kinds, vec![("blob".to_owned(), 3)]);
}
