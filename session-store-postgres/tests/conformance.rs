//! The PostgreSQL store runs the whole conformance suite, in a schema of its own.

mod common;

use std::future::Future;

use conformance_tests::TestStore;
use session_store_postgres::PostgresStore;
use tokio::sync::OnceCell;

fn shared() -> std::pin::Pin<Box<dyn Future<Output = PostgresStore> + Send>> {
    Box::pin(async {
        static STORE: OnceCell<PostgresStore> = OnceCell::const_new();
        STORE
            .get_or_init(|| common::store_in_fresh_schema("conformance", None))
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
