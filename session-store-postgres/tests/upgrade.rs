//! Tables written by the previous release (schema 3: a row per key in `<table>_entries`, written
//! through its own functions) read the same after the upgrade to one row per session, and take
//! writes as before.

use std::time::Duration;

use serde_json::{Value, json};
use session_core::{Enumerate, ExpiredCleanup, SessionId, Store, SubjectIndex, Token};
use session_store_postgres::sqlx::{self, AssertSqlSafe};
use session_store_postgres::{PostgresStore, SCHEMA_VERSION};
use session_test_support::{drop_schema_after_run, postgres_url, unique_schema};

/// Keys and values that stress the new layout: path syntax, quotes, non-ASCII; a NUL in a value
/// (which `jsonb` refuses raw); the numbers and strings whose exact text matters.
fn entries() -> Vec<(&'static str, Value)> {
    vec![
        ("user", json!("ada")),
        ("--", json!(u64::MAX)),
        ("{a,b}", json!(i64::MIN)),
        ("say \"hi\"", json!(0.1)),
        (
            "ключ🦀",
            json!({"nested": [1, {"deep": null}], "nul": "a\u{0}b"}),
        ),
        ("it's.a key", json!(true)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_3_tables_read_the_same_after_the_upgrade() {
    let url = postgres_url();
    let schema = unique_schema("upgrade");
    let store = PostgresStore::builder()
        .schema(&schema)
        .connect(url)
        .await
        .unwrap();
    drop_schema_after_run(store.pool(), url, &schema).await;
    store.migrate_to(3).await.unwrap();

    // Written as the previous release wrote them: through its write function.
    let table = format!("\"{schema}\".\"{}\"", store.table());
    let write = |id: SessionId, ttl_ms: i64, pairs: Vec<(&str, Value)>, dels: Vec<&str>| {
        let (keys, values): (Vec<String>, Vec<String>) = pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), session_core::canonical_json(&v)))
            .unzip();
        let dels: Vec<String> = dels.into_iter().map(str::to_owned).collect();
        let sql = format!(
            "SELECT \"{schema}\".\"{}_write\"($1, $2, $3, $4, $5, true)",
            store.table()
        );
        let pool = store.pool().clone();
        async move {
            sqlx::query(AssertSqlSafe(sql))
                .bind(id.as_bytes().as_slice())
                .bind(ttl_ms)
                .bind(keys)
                .bind(values)
                .bind(dels)
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    let id = || Token::generate().unwrap().id();
    let (live, bound, expired, empty) = (id(), id(), id(), id());
    write(live, 3_600_000, entries(), vec![]).await;
    write(bound, 3_600_000, entries(), vec![]).await;
    write(expired, 1, entries(), vec![]).await;
    write(empty, 3_600_000, vec![], vec!["nothing"]).await;
    for target in [bound, expired] {
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET subject = 'ada' WHERE id = $1"
        )))
        .bind(target.as_bytes().as_slice())
        .execute(store.pool())
        .await
        .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(20)).await;

    store.migrate().await.unwrap();
    let version: i32 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT max(version) FROM \"{schema}\".\"{}_migrations\"",
        store.table()
    )))
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let leftovers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname LIKE '%\\_entries'",
    )
    .bind(&schema)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(leftovers, 0, "the per-key table is gone");

    let want: session_core::Map = entries()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let keys: Vec<&str> = entries().iter().map(|(k, _)| *k).collect();
    for target in [&live, &bound] {
        assert_eq!(
            store.get_all(target, None).await.unwrap(),
            Some(want.clone())
        );
        for (key, value) in entries() {
            assert_eq!(store.get(target, key, None).await.unwrap(), Some(value));
        }
        let many = store.get_many(target, &keys, None).await.unwrap().unwrap();
        let values: Vec<_> = entries().into_iter().map(|(_, v)| Some(v)).collect();
        assert_eq!(many, values);
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
    assert_eq!(after.get("{a,b}"), Some(&json!(i64::MIN)));
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
