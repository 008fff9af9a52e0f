//! What the MySQL test files share: a pool on the test server, and stores in tables of this
//! run's own, dropped after the run.

use session_store_mysql::{MySqlStore, MySqlStoreBuilder, sqlx};
use session_test_support::{drop_tables_after_run, mysql_url, unique_table_prefix};
use sqlx::MySqlPool;
use tokio::sync::OnceCell;

/// This run's table prefix for `tag` and a store on the test server, made once per process.
async fn run(tag: &'static str) -> &'static (String, MySqlStore) {
    static RUN: OnceCell<(String, MySqlStore)> = OnceCell::const_new();
    RUN.get_or_init(|| async move {
        let url = mysql_url();
        let store = MySqlStore::builder()
            .max_connections(20)
            .connect(url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to MySQL at {url}: {e}"));
        let prefix = unique_table_prefix(tag);
        drop_tables_after_run(store.pool(), url, &prefix).await;
        (prefix, store)
    })
    .await
}

/// A migrated store in a table of this run's own, named `<run prefix><name>`; called again
/// with the same name, another store on that table.
#[allow(dead_code)] // each test file uses what it needs
pub async fn store_in_table(tag: &'static str, name: &str) -> MySqlStore {
    store_with(tag, name, |b| b).await
}

/// As [`store_in_table`], with more settings, on the run's pool.
#[allow(dead_code)]
pub async fn store_with(
    tag: &'static str,
    name: &str,
    configure: fn(MySqlStoreBuilder) -> MySqlStoreBuilder,
) -> MySqlStore {
    let (prefix, shared) = run(tag).await;
    let store = configure(MySqlStore::builder().table(format!("{prefix}{name}")))
        .build(shared.pool().clone())
        .expect("valid names");
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate failed: {e:?}"));
    store
}

/// The run's pool, for tests that look at the tables directly.
#[allow(dead_code)]
pub async fn pool(tag: &'static str) -> MySqlPool {
    run(tag).await.1.pool().clone()
}

/// This run's table prefix for `tag` (its tables are dropped after the run).
#[allow(dead_code)]
pub async fn table_prefix(tag: &'static str) -> String {
    run(tag).await.0.clone()
}
