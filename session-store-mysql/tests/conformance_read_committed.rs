//! The whole conformance suite again on a pool the application brings, whose connections run at
//! `READ COMMITTED` with a `time_zone` far from UTC (and not on a whole hour): neither the
//! isolation level nor the zone may change what the store does.

mod common;

use conformance_tests::{Namespace, TestStore};
use session_store_mysql::MySqlStore;
use session_store_mysql::sqlx::mysql::MySqlPoolOptions;
use session_store_mysql::sqlx::{Executor, MySqlPool};
use tokio::sync::OnceCell;

/// The run's pool, made once.
async fn pool() -> MySqlPool {
    static POOL: OnceCell<MySqlPool> = OnceCell::const_new();
    POOL.get_or_init(|| async {
        let pool = MySqlPoolOptions::new()
            .max_connections(10)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                        .await?;
                    conn.execute("SET time_zone = '-09:30'").await?;
                    Ok(())
                })
            })
            .connect(session_test_support::mysql_url())
            .await
            .expect("connect");
        // MySQL 8 and MariaDB 11.1+ name it `transaction_isolation`; older MariaDB `tx_isolation`.
        let mut settings = None;
        for variable in ["transaction_isolation", "tx_isolation"] {
            let query = format!("SELECT @@{variable}, @@time_zone");
            let read = session_store_mysql::sqlx::query_as::<_, (String, String)>(
                session_store_mysql::sqlx::AssertSqlSafe(query),
            )
            .fetch_one(&pool)
            .await;
            if let Ok(read) = read {
                settings = Some(read);
                break;
            }
        }
        let (level, zone) = settings.expect("read the session settings");
        assert_eq!(
            (level.as_str(), zone.as_str()),
            ("READ-COMMITTED", "-09:30")
        );
        pool
    })
    .await
    .clone()
}

conformance_tests::store_suite! {
    factory: |ns: Namespace| async move {
        let prefix = common::table_prefix("read_committed").await;
        let store = MySqlStore::builder()
            .table(format!("{prefix}{ns}"))
            .build(pool().await)
            .expect("valid names");
        store.migrate().await.unwrap_or_else(|e| panic!("migrate failed: {e:?}"));
        TestStore::builder(store).subject_index().cleanup().enumerate().build()
    },
    subject_index: true,
    cleanup: true,
    enumerate: true,
}
