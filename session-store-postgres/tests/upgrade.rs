//! Tables written by the previous release (schema 3: a row per key in `<table>_entries`, written
//! through its own functions) read the same after the upgrade to one row per session, and take
//! writes as before.

use std::time::Duration;

use serde_json::Value;
use session_core::SessionId;
use session_store_postgres::sqlx::{self, AssertSqlSafe};
use session_store_postgres::{PostgresStore, SCHEMA_VERSION};
use session_test_support::{
    OldSessions, awkward_entries, check_upgraded, drop_schema_after_run, postgres_url,
    unique_schema,
};

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
    let old = OldSessions::generate();
    write(old.live, 3_600_000, awkward_entries(), vec![]).await;
    write(old.bound, 3_600_000, awkward_entries(), vec![]).await;
    write(old.expired, 1, awkward_entries(), vec![]).await;
    write(old.empty, 3_600_000, vec![], vec!["nothing"]).await;
    for target in [old.bound, old.expired] {
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

    check_upgraded(&store, old).await;
}
