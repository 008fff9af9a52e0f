//! The whole conformance suite again, with the connections' `TimeZone` far from UTC (and not on a
//! whole hour): expiry must not depend on it.

mod common;

use std::future::Future;

use conformance_tests::{Namespace, TestStore};
use session_store_postgres::sqlx::postgres::PgPoolOptions;
use session_store_postgres::sqlx::{Executor, PgPool};
use tokio::sync::OnceCell;

/// The run's pool: its connections' `TimeZone` is Pacific/Chatham.
fn pool() -> std::pin::Pin<Box<dyn Future<Output = PgPool> + Send>> {
    Box::pin(async {
        static POOL: OnceCell<PgPool> = OnceCell::const_new();
        POOL.get_or_init(|| async {
            // sqlx asks for UTC when it connects; an application may well set its own zone after.
            let pool = PgPoolOptions::new()
                .max_connections(5)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("SET TIME ZONE 'Pacific/Chatham'").await?;
                        Ok(())
                    })
                })
                .connect(session_test_support::postgres_url())
                .await
                .expect("connect");
            let zone: String = session_store_postgres::sqlx::query_scalar("SHOW TimeZone")
                .fetch_one(&pool)
                .await
                .expect("SHOW TimeZone");
            assert_eq!(
                zone, "Pacific/Chatham",
                "the session TimeZone was not applied"
            );
            pool
        })
        .await
        .clone()
    })
}

conformance_tests::store_suite! {
    factory: |ns: Namespace| async move {
        let store = common::store_for_case("timezone", Some(pool().await), ns).await;
        TestStore::builder(store).subject_index().cleanup().enumerate().build()
    },
    subject_index: true,
    cleanup: true,
    enumerate: true,
}
