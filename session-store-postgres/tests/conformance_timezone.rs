//! The whole conformance suite again, with the connections' `TimeZone` far from UTC (and not on a
//! whole hour): expiry must not depend on it.

mod common;

use std::future::Future;

use conformance_tests::TestStore;
use session_store_postgres::PostgresStore;
use session_store_postgres::sqlx::Executor;
use session_store_postgres::sqlx::postgres::PgPoolOptions;
use tokio::sync::OnceCell;

fn shared() -> std::pin::Pin<Box<dyn Future<Output = PostgresStore> + Send>> {
    Box::pin(async {
        static STORE: OnceCell<PostgresStore> = OnceCell::const_new();
        STORE
            .get_or_init(|| async {
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
                let store = common::store_in_fresh_schema("timezone", Some(pool)).await;
                let zone: String = session_store_postgres::sqlx::query_scalar("SHOW TimeZone")
                    .fetch_one(store.pool())
                    .await
                    .expect("SHOW TimeZone");
                assert_eq!(
                    zone, "Pacific/Chatham",
                    "the session TimeZone was not applied"
                );
                store
            })
            .await
            .clone()
    })
}

conformance_tests::store_suite!(
    || async { TestStore::builder(shared().await).subject_index().cleanup().enumerate().build() },
    subject_index: yes,
    cleanup: yes,
    enumerate: yes
);
