//! The demo's visit counter under concurrent requests of one browser, over real HTTP, on every
//! store: 16 requests at a time, 400 in all, and the counter ends exactly 400 higher. (A get then
//! a set of the key lost 68-93% of them; the counter is an `incr` in the store now.)

mod support;

use std::sync::Arc;

use reqwest::header::{COOKIE, SET_COOKIE};
use session_core::{Config, SessionManager};

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

/// One test per backend.
macro_rules! on_every_backend {
    ($($name:ident: $backend:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (manager, _dir) =
                    support::manager_on(support::Backend::$backend, "counter", Config::default())
                        .await;
                no_visit_is_lost(manager, stringify!($backend)).await;
            }
        )*
    };
}

on_every_backend!(
    counter_memory: Memory,
    counter_sqlite: Sqlite,
    counter_redis: Redis,
    counter_redis_cluster: RedisCluster,
    counter_postgres: Postgres,
    counter_mysql: MySql,
);
