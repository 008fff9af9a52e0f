//! What the MySQL test files share: stores in tables of this run's own, dropped after the run.

use session_store_mysql::{MySqlStore, MySqlStoreBuilder};
use session_test_support::{drop_tables_after_run, mysql_url, unique_table_prefix};
use tokio::sync::OnceCell;

/// This run's table prefix for `tag`; the first call drops the tables of dead runs and arranges
/// for this run's to be dropped when it exits.
#[allow(dead_code)] // each test file uses what it needs
pub async fn table_prefix(tag: &'static str) -> String {
    static PREFIX: OnceCell<String> = OnceCell::const_new();
    PREFIX
        .get_or_init(|| async move {
            let url = mysql_url();
            let pool = session_store_mysql::sqlx::MySqlPool::connect(url)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to MySQL at {url}: {e}"));
            let prefix = unique_table_prefix(tag);
            drop_tables_after_run(&pool, url, &prefix).await;
            pool.close().await;
            prefix
        })
        .await
        .clone()
}

/// A migrated store in table `<run prefix><name>`, on a pool shared by every call in this
/// process: for test files whose tests all run on one runtime (the conformance suite's). Called
/// again with the same name, another store on that table.
#[allow(dead_code)]
pub async fn store_in_table(tag: &'static str, name: &str) -> MySqlStore {
    static POOL: OnceCell<MySqlStore> = OnceCell::const_new();
    let shared = POOL
        .get_or_init(|| async {
            let url = mysql_url();
            MySqlStore::builder()
                .max_connections(20)
                .connect(url)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to MySQL at {url}: {e}"))
        })
        .await;
    let store = MySqlStore::builder()
        .table(format!("{}{name}", table_prefix(tag).await))
        .build(shared.pool().clone())
        .expect("valid names");
    migrated(store).await
}

/// A migrated store in table `<run prefix><name>` on a pool of its own (for `#[tokio::test]`s,
/// each on a runtime of its own), with more settings.
#[allow(dead_code)]
pub async fn fresh_store(
    tag: &'static str,
    name: &str,
    configure: fn(MySqlStoreBuilder) -> MySqlStoreBuilder,
) -> MySqlStore {
    let url = mysql_url();
    let builder = MySqlStore::builder().table(format!("{}{name}", table_prefix(tag).await));
    let store = configure(builder)
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to MySQL at {url}: {e}"));
    migrated(store).await
}

async fn migrated(store: MySqlStore) -> MySqlStore {
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate failed: {e:?}"));
    store
}
