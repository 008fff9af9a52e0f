//! Every backend of the family by its `session-stores` URL, on the real servers the workspace's
//! test support finds or starts.

#![allow(dead_code)] // each test file uses part of it

use std::sync::Arc;

use session_core::Store;

/// A store on one backend, with what keeps it alive (a SQLite file's directory).
pub struct Backend {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

/// The store `name` names: memory, sqlite, postgres, mysql, redis, redis-cached, redis-cluster.
pub async fn backend(name: &'static str, tag: &str) -> Backend {
    let mut dir = None;
    let prefix = format!("test:{}:ts-{tag}:", std::process::id());
    let url = match name {
        "memory" => "memory://".to_owned(),
        "sqlite" => {
            let d = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", d.path().join("sessions.db").display());
            dir = Some(d);
            url
        }
        "postgres" => session_test_support::scratch_postgres_url(tag).await,
        "mysql" => session_test_support::scratch_mysql_url(tag).await,
        "redis" => format!("{}?prefix={prefix}", session_test_support::redis_url()),
        "redis-cached" => format!(
            "{}?prefix={prefix}&cache=1000",
            session_test_support::redis_url()
        ),
        "redis-cluster" => {
            let nodes: Vec<&str> = session_test_support::redis_cluster_urls()
                .iter()
                .map(|u| u.trim_start_matches("redis://"))
                .collect();
            format!("redis+cluster://{}?prefix={prefix}", nodes.join(","))
        }
        other => panic!("no backend named {other}"),
    };
    let connected = session_stores::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{name} at {url}: {e}"));
    Backend {
        name,
        store: connected.store(),
        _dir: dir,
    }
}

/// One `#[tokio::test]` per backend, each running `$scenario(backend)`.
#[macro_export]
macro_rules! on_every_backend {
    ($scenario:ident) => {
        mod $scenario {
            $crate::on_every_backend!(@one $scenario, memory, "memory");
            $crate::on_every_backend!(@one $scenario, sqlite, "sqlite");
            $crate::on_every_backend!(@one $scenario, postgres, "postgres");
            $crate::on_every_backend!(@one $scenario, mysql, "mysql");
            $crate::on_every_backend!(@one $scenario, redis, "redis");
            $crate::on_every_backend!(@one $scenario, redis_cached, "redis-cached");
            $crate::on_every_backend!(@one $scenario, redis_cluster, "redis-cluster");
        }
    };
    (@one $scenario:ident, $test:ident, $name:literal) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            let tag = stringify!($scenario);
            let backend = $crate::support::backend($name, &tag[..tag.len().min(12)]).await;
            super::$scenario(backend).await;
        }
    };
}
