//! Every backend of the family by its `session-stores` URL, on the real servers this crate finds
//! or starts, and a macro that runs one scenario on each.

/// The backends [`backend_url`] knows, by name.
pub const BACKENDS: [&str; 7] = [
    "memory",
    "sqlite",
    "postgres",
    "mysql",
    "redis",
    "redis-cached",
    "redis-cluster",
];

/// A backend's `session-stores` URL, with what keeps it alive (a SQLite file's directory).
pub struct BackendUrl {
    /// The URL to connect to.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The URL of backend `name` (one of [`BACKENDS`]) for a test tagged `tag`: a fresh SQLite
/// file, a scratch PostgreSQL schema or MariaDB table prefix, a Redis key prefix of this run
/// (with the client-side cache for `redis-cached`), the 3-master Redis Cluster.
pub async fn backend_url(name: &str, tag: &str) -> BackendUrl {
    let mut dir = None;
    let prefix = format!("test:{}:{tag}:", std::process::id());
    let url = match name {
        "memory" => "memory://".to_owned(),
        "sqlite" => {
            let d = tempfile::tempdir().expect("a temporary directory");
            let url = format!("sqlite://{}", d.path().join("sessions.db").display());
            dir = Some(d);
            url
        }
        "postgres" => crate::scratch_postgres_url(tag).await,
        "mysql" => crate::scratch_mysql_url(tag).await,
        "redis" => format!("{}?prefix={prefix}", crate::redis_url()),
        "redis-cached" => format!("{}?prefix={prefix}&cache=1000", crate::redis_url()),
        "redis-cluster" => {
            let nodes: Vec<&str> = crate::redis_cluster_urls()
                .iter()
                .map(|u| u.trim_start_matches("redis://"))
                .collect();
            format!("redis+cluster://{}?prefix={prefix}", nodes.join(","))
        }
        other => panic!("no backend named {other}"),
    };
    BackendUrl { url, _dir: dir }
}

/// One `#[tokio::test]` per backend of [`BACKENDS`], each running `$scenario(name, url)` where
/// `url` is a [`BackendUrl`]; `$tag` (the scenario's name by default) keeps each scenario's
/// schemas and key prefixes apart.
#[macro_export]
macro_rules! on_every_backend {
    ($scenario:ident) => {
        $crate::on_every_backend!($scenario, stringify!($scenario));
    };
    ($scenario:ident, $tag:expr) => {
        mod $scenario {
            $crate::on_every_backend!(@one $scenario, $tag, memory, "memory");
            $crate::on_every_backend!(@one $scenario, $tag, sqlite, "sqlite");
            $crate::on_every_backend!(@one $scenario, $tag, postgres, "postgres");
            $crate::on_every_backend!(@one $scenario, $tag, mysql, "mysql");
            $crate::on_every_backend!(@one $scenario, $tag, redis, "redis");
            $crate::on_every_backend!(@one $scenario, $tag, redis_cached, "redis-cached");
            $crate::on_every_backend!(@one $scenario, $tag, redis_cluster, "redis-cluster");
        }
    };
    (@one $scenario:ident, $tag:expr, $test:ident, $name:literal) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            let tag: &str = $tag;
            let url = $crate::backend_url($name, &tag[..tag.len().min(12)]).await;
            super::$scenario($name, url).await;
        }
    };
}
