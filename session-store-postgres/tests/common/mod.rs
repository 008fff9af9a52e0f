//! What the PostgreSQL test files share: a store in a schema of this run's own.

use std::future::Future;
use std::pin::Pin;

use session_store_postgres::sqlx::PgPool;
use session_store_postgres::{PostgresStore, PostgresStoreBuilder};
use session_test_support::{drop_schema_after_run, postgres_url, unique_schema};

/// A migrated store in a new schema named after `tag`, dropped after the run.
///
/// Boxed as `Send` here, where the compiler can prove it, rather than inside the suite's generic
/// factory bound.
#[allow(dead_code)] // each test file uses what it needs
pub fn store_in_fresh_schema(
    tag: &'static str,
    pool: Option<PgPool>,
) -> Pin<Box<dyn Future<Output = PostgresStore> + Send>> {
    Box::pin(fresh(tag, pool, |b| b))
}

/// As [`store_in_fresh_schema`], with more settings on a pool the store makes.
#[allow(dead_code)]
pub fn store_with(
    tag: &'static str,
    configure: fn(PostgresStoreBuilder) -> PostgresStoreBuilder,
) -> Pin<Box<dyn Future<Output = PostgresStore> + Send>> {
    Box::pin(fresh(tag, None, configure))
}

/// As [`store_in_fresh_schema`] on `pool`, with more settings.
#[allow(dead_code)]
pub fn store_on_pool_with(
    tag: &'static str,
    pool: PgPool,
    configure: fn(PostgresStoreBuilder) -> PostgresStoreBuilder,
) -> Pin<Box<dyn Future<Output = PostgresStore> + Send>> {
    Box::pin(fresh(tag, Some(pool), configure))
}

async fn fresh(
    tag: &str,
    pool: Option<PgPool>,
    configure: fn(PostgresStoreBuilder) -> PostgresStoreBuilder,
) -> PostgresStore {
    let url = postgres_url();
    let schema = unique_schema(tag);
    let builder = configure(PostgresStore::builder().schema(&schema));
    let store = match pool {
        Some(pool) => builder.build(pool).expect("valid names"),
        None => builder
            .connect(url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {url}: {e}")),
    };
    drop_schema_after_run(store.pool(), url, &schema).await;
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate failed: {e:?}"));
    store
}

/// A migrated store for one conformance case: in this run's schema (named after `tag`, made on
/// first use, on `pool` or a pool of the store's own making), in tables named after the case's
/// namespace. Called again with the namespace, it gives another store on the same tables.
#[allow(dead_code)]
pub fn store_for_case(
    tag: &'static str,
    pool: Option<PgPool>,
    namespace: conformance_tests::Namespace,
) -> Pin<Box<dyn Future<Output = PostgresStore> + Send>> {
    Box::pin(async move {
        static RUN: tokio::sync::OnceCell<PostgresStore> = tokio::sync::OnceCell::const_new();
        let run = RUN.get_or_init(|| fresh(tag, pool, |b| b)).await;
        let store = PostgresStore::builder()
            .schema(run.schema())
            .table(namespace.as_str())
            .build(run.pool().clone())
            .expect("valid names");
        store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("migrate failed: {e:?}"));
        store
    })
}
