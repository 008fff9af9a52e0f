//! Every backend through a URL, with the same application code: connect, then a short flow of
//! login, read, write and revoke through the manager. Real servers, found as the other tests find
//! them (`REDIS_URL`, `DATABASE_URL`, the standard ports, else throwaway servers).
//!
//! Needs every backend's feature: `cargo test --workspace` has them (the demo enables them), and
//! `cargo test -p session-stores --all-features` alone. Without them the first test fails, saying
//! so, rather than skipping the backends.

use std::time::Duration;

use serde_json::json;
use session_stores::{Config, ConnectError, ConnectedStore, SessionManager, connect};
use session_test_support::process::free_port;

/// The application code: identical for every store.
async fn flow(store: ConnectedStore, backend: &str) {
    assert_eq!(store.backend_name(), backend);
    let manager: SessionManager = store.manager(Config::default()).unwrap();
    let user = format!("user-{}", std::process::id());

    let session = manager.create().unwrap();
    session.set("cart", &["apple"]).unwrap();
    session.save().await.unwrap();
    let token = session
        .login(&user, json!({ "name": "Ada" }))
        .await
        .unwrap();

    let again = manager.load(token.as_str()).await.unwrap().expect("live");
    assert_eq!(
        again.subject().await.unwrap().as_deref(),
        Some(user.as_str())
    );
    assert_eq!(
        again.get::<Vec<String>>("cart").await.unwrap(),
        Some(vec!["apple".to_string()])
    );
    again.set("visits", &2).unwrap();
    assert!(again.save().await.unwrap());
    let third = manager.load(token.as_str()).await.unwrap().expect("live");
    assert_eq!(third.get::<u32>("visits").await.unwrap(), Some(2));

    let listed = manager.sessions_of(&user).await.unwrap();
    assert_eq!(
        listed.iter().filter(|i| !i.rotated_out).count(),
        1,
        "{backend}"
    );
    assert_eq!(manager.revoke_all(&user).await.unwrap(), 1, "{backend}");
    assert!(
        manager.load(token.as_str()).await.unwrap().is_none(),
        "{backend}"
    );
}

/// Present only when a backend's feature is off: then it fails, rather than the backends'
/// tests silently not existing.
#[cfg(not(all(
    feature = "memory",
    feature = "sqlite",
    feature = "postgres",
    feature = "mysql",
    feature = "redis"
)))]
#[test]
fn every_backend_feature_is_on_for_these_tests() {
    panic!("run these tests with every backend: cargo test -p session-stores --all-features");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    flow(
        connect("memory://?max_sessions=1000").await.unwrap(),
        "memory",
    )
    .await;
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_and_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?pool_size=2", dir.path().join("s.db").display());
    flow(connect(&url).await.unwrap(), "sqlite").await;
    flow(connect("sqlite::memory:").await.unwrap(), "sqlite").await;
    assert!(
        connect(&url).await.unwrap().expired_cleanup().is_some(),
        "a SQL store has its cleanup"
    );
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let url = session_test_support::scratch_postgres_url("stores_url").await;
    let store = connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
    flow(store, "postgres").await;
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_and_mariadb_schemes() {
    use session_test_support::{drop_tables_after_run, mysql_url, unique_table_prefix};
    let prefix = unique_table_prefix("stores_url");
    let base = mysql_url();
    let pool = session_store_mysql::sqlx::MySqlPool::connect(base)
        .await
        .unwrap();
    drop_tables_after_run(&pool, base, &prefix).await;
    let separator = if base.contains('?') { '&' } else { '?' };
    for scheme in ["mysql", "mariadb"] {
        let url = format!(
            "{scheme}{}{separator}table={prefix}{scheme}",
            base.trim_start_matches("mysql")
        );
        let store = connect(&url)
            .await
            .unwrap_or_else(|e| panic!("MySQL at {base}: {e}"));
        assert!(
            store.expired_cleanup().is_some(),
            "a SQL store has its cleanup"
        );
        flow(store, "mysql").await;
    }
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis() {
    let base = session_test_support::redis_url();
    let prefix = format!("test:{}:stores-url:", std::process::id());
    let store = connect(&format!("{base}?prefix={prefix}"))
        .await
        .unwrap_or_else(|e| panic!("Redis at {base}: {e}"));
    flow(store, "redis").await;
}

/// The client-side cache by URL: the same flow with it on, and its options reach the store (a
/// bound it refuses is refused through the URL).
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_with_the_client_cache() {
    let base = session_test_support::redis_url();
    let prefix = format!("test:{}:stores-cached:", std::process::id());
    let store = connect(&format!(
        "{base}?prefix={prefix}&cache=1000&cache_staleness=50ms"
    ))
    .await
    .unwrap_or_else(|e| panic!("Redis at {base} with the cache: {e}"));
    flow(store, "redis").await;
    let refused = connect(&format!("{base}?cache=1000&cache_staleness=1ms")).await;
    assert!(
        matches!(&refused, Err(ConnectError::Store { source: session_stores::StoreError::InvalidInput(why), .. }) if why.contains("staleness")),
        "{refused:?}"
    );
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster() {
    let nodes: Vec<String> = session_test_support::redis_cluster_urls()
        .iter()
        .map(|u| u.trim_start_matches("redis://").to_owned())
        .collect();
    let prefix = format!("test:{}:stores-cluster:", std::process::id());
    let url = format!("redis+cluster://{}?prefix={prefix}", nodes.join(","));
    let store = connect(&url)
        .await
        .unwrap_or_else(|e| panic!("Redis Cluster: {e}"));
    flow(store, "redis").await;
    // With the client-side cache.
    let store = connect(&format!("{url}cached:&cache=1000"))
        .await
        .unwrap_or_else(|e| panic!("Redis Cluster with the cache: {e}"));
    flow(store, "redis").await;
}

/// Unreachable servers give a `Store` error of kind `Unavailable` that names the backend, with
/// the driver's reason in its chain (a refused connection says so), and a password in the URL
/// appears in no error text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_servers_are_unavailable_and_never_show_the_password() {
    let port = free_port();
    for url in [
        format!("postgres://app:s3cret-pw@127.0.0.1:{port}/db"),
        format!("mysql://app:s3cret-pw@127.0.0.1:{port}/db"),
        format!("redis://:s3cret-pw@127.0.0.1:{port}/0"),
        format!("redis+cluster://:s3cret-pw@127.0.0.1:{port}"),
    ] {
        let error = tokio::time::timeout(Duration::from_secs(60), connect(&url))
            .await
            .expect("connect gave up in time")
            .unwrap_err();
        let chain = session_core::error_chain(&error);
        let text = format!("{chain} | {error:?}");
        assert!(matches!(error, ConnectError::Store { .. }), "{text}");
        assert!(error.is_transient(), "{text}");
        assert!(!text.contains("s3cret"), "the password leaked: {text}");
        // The message names the backend, and the chain carries the driver's reason under it.
        let scheme = url.split("://").next().unwrap_or_default();
        let backend = scheme.split('+').next().unwrap_or_default();
        assert!(error.to_string().contains(backend), "{text}");
        assert!(chain.len() > error.to_string().len(), "no cause: {text}");
        if scheme == "redis" {
            assert!(chain.to_lowercase().contains("refused"), "{text}");
        }
    }
    let error = connect("mongodb://app:s3cret-pw@db").await.unwrap_err();
    assert!(!format!("{error} {error:?}").contains("s3cret"));
}
