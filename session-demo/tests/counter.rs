//! The demo's visit counter under concurrent requests of one browser, over real HTTP, on every
//! store: 16 requests at a time, 400 in all, and the counter ends exactly 400 higher. (A get then
//! a set of the key lost 68-93% of them; the counter is an `incr` in the store now.)

mod support;

use std::sync::Arc;

use reqwest::header::{COOKIE, SET_COOKIE};
use session_core::{Config, SessionManager};
use session_store_memory::MemoryStore;
use session_store_postgres::PostgresStore;
use session_store_redis::RedisStore;
use session_store_sqlite::SqliteStore;
use session_test_support::{
    drop_schema_after_run, postgres_url, redis_cluster_urls, redis_url, unique_schema,
};

const CONCURRENT: usize = 16;
const REQUESTS: usize = 400;

/// The count the page shows (`Visits in this session: <b>N</b>`).
fn visits(body: &str) -> u64 {
    let start = body
        .find("Visits in this session: <b>")
        .expect("the counter")
        + 27;
    let end = start + body[start..].find('<').expect("the counter's end");
    body[start..end].parse().expect("a number")
}

async fn get_home(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
) -> (u64, Option<String>) {
    let mut request = http.get(format!("{base}/"));
    if let Some(token) = token {
        request = request.header(COOKIE, format!("session={token}"));
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.strip_prefix("session="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .find(|v| !v.is_empty());
    (visits(&response.text().await.unwrap()), cookie)
}

async fn no_visit_is_lost(manager: SessionManager, label: &str) {
    let base = support::serve_manager(manager, session_demo::serve::HEADER_READ_TIMEOUT).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (first, cookie) = get_home(&http, &base, None).await;
    let token: Arc<str> = cookie.expect("the first visit sets the cookie").into();
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENT {
        let (http, base, token, sent) = (http.clone(), base.clone(), token.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            while sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < REQUESTS {
                get_home(&http, &base, Some(&token)).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let (last, _) = get_home(&http, &base, Some(&token)).await;
    assert_eq!(
        last,
        first + REQUESTS as u64 + 1,
        "{label}: {REQUESTS} concurrent visits, then one more"
    );
}

fn with_index<S: session_core::Store + session_core::SubjectIndex>(store: S) -> SessionManager {
    SessionManager::builder(store)
        .config(Config::default())
        .subject_index()
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_memory() {
    no_visit_is_lost(with_index(MemoryStore::new()), "memory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("demo.db")).await.unwrap();
    no_visit_is_lost(with_index(store), "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_redis() {
    let store = RedisStore::builder(redis_url())
        .prefix(format!("test:{}:demo-counter:", std::process::id()))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("Redis at {}: {e}", redis_url()));
    no_visit_is_lost(with_index(store), "redis").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_redis_cluster() {
    let urls = redis_cluster_urls();
    let store = RedisStore::cluster_builder(urls.iter().cloned())
        .prefix(format!("test:{}:demo-counter:", std::process::id()))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("Redis Cluster at {urls:?}: {e}"));
    no_visit_is_lost(with_index(store), "redis cluster").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_postgres() {
    let schema = unique_schema("demo_counter");
    let store = PostgresStore::builder()
        .schema(&schema)
        .connect(postgres_url())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {}: {e}", postgres_url()));
    drop_schema_after_run(store.pool(), postgres_url(), &schema).await;
    store.migrate().await.unwrap();
    let manager = SessionManager::builder_from_arc(Arc::new(store))
        .subject_index()
        .build()
        .unwrap();
    no_visit_is_lost(manager, "postgres").await;
}
