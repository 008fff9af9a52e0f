//! What the demo's test files share: the demo served the way the binary serves it.

#![allow(dead_code)] // each test file uses part of it

use std::time::Duration;

use std::sync::Arc;

use session_core::{Config, SessionManager, Store, SubjectIndex};
use session_demo::{router, serve};
use session_store_memory::MemoryStore;
use session_store_mysql::MySqlStore;
use session_store_postgres::PostgresStore;
use session_store_redis::RedisStore;
use session_store_sqlite::SqliteStore;
use session_test_support::{
    drop_schema_after_run, drop_tables_after_run, mysql_url, postgres_url, redis_cluster_urls,
    redis_url, unique_schema, unique_table_prefix,
};
use session_tower::CookieConfig;

/// The demo over `manager`, served as the binary serves it (header deadline `header_timeout`,
/// plain-HTTP cookies) on a free loopback port; its base URL.
pub async fn serve_manager(manager: SessionManager, header_timeout: Duration) -> String {
    let app = router(manager.clone(), CookieConfig::default().secure(false));
    serve_app(app, manager, header_timeout).await
}

/// `app` over `manager`, served as the binary serves it, on a free loopback port; its base URL.
pub async fn serve_app(
    app: axum::Router,
    manager: SessionManager,
    header_timeout: Duration,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve::serve(
        listener,
        app,
        manager,
        header_timeout,
        std::future::pending(),
    ));
    base
}

/// The demo on the store `url` names, with the default settings; its base URL.
pub async fn serve_url(url: &str) -> String {
    let manager = session_stores::connect(url)
        .await
        .unwrap_or_else(|e| panic!("the store: {e}"))
        .manager(Config::default())
        .unwrap();
    serve_manager(manager, serve::HEADER_READ_TIMEOUT).await
}

/// The backends the demo's tests run on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Memory,
    Sqlite,
    Redis,
    RedisCluster,
    Postgres,
    MySql,
}

/// A manager with the subject index over a fresh store of `backend` (its own SQLite file, Redis
/// prefix, PostgreSQL schema or MySQL table, named after `tag`), and what must live as long as
/// it.
pub async fn manager_on(
    backend: Backend,
    tag: &str,
    config: Config,
) -> (SessionManager, Option<tempfile::TempDir>) {
    fn with_index<S: Store + SubjectIndex>(store: Arc<S>, config: Config) -> SessionManager {
        SessionManager::builder_from_arc(store)
            .config(config)
            .subject_index()
            .build()
            .unwrap()
    }
    let prefix = format!("test:{}:demo-{tag}:", std::process::id());
    match backend {
        Backend::Memory => (with_index(Arc::new(MemoryStore::new()), config), None),
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let store = SqliteStore::open(dir.path().join("demo.db")).await.unwrap();
            (with_index(Arc::new(store), config), Some(dir))
        }
        Backend::Redis => {
            let store = RedisStore::builder(redis_url())
                .prefix(prefix)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("Redis at {}: {e}", redis_url()));
            (with_index(Arc::new(store), config), None)
        }
        Backend::RedisCluster => {
            let urls = redis_cluster_urls();
            let store = RedisStore::cluster_builder(urls.iter().cloned())
                .prefix(prefix)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("Redis Cluster at {urls:?}: {e}"));
            (with_index(Arc::new(store), config), None)
        }
        Backend::Postgres => {
            let schema = unique_schema(&format!("demo_{tag}"));
            let store = PostgresStore::builder()
                .schema(&schema)
                .connect(postgres_url())
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {}: {e}", postgres_url()));
            drop_schema_after_run(store.pool(), postgres_url(), &schema).await;
            store.migrate().await.unwrap();
            (with_index(Arc::new(store), config), None)
        }
        Backend::MySql => {
            let table = format!("{}sessions", unique_table_prefix(&format!("demo_{tag}")));
            let store = MySqlStore::builder()
                .table(&table)
                .connect(mysql_url())
                .await
                .unwrap_or_else(|e| panic!("MySQL at {}: {e}", mysql_url()));
            drop_tables_after_run(store.pool(), mysql_url(), &table).await;
            store.migrate().await.unwrap();
            (with_index(Arc::new(store), config), None)
        }
    }
}
