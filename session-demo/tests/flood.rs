//! Anonymous floods (finding 3): cookieless requests to the demo's router, each of which stores
//! an anonymous session. On the memory store, 200,000 of them against a bound of 100,000 leave a
//! logged-in user logged in (anonymous sessions are evicted first). On SQLite, 50,000 of them,
//! 64 at a time through a pool of 16 connections, with a logged-in user's page loads between
//! them, keep the WAL under its bound while they run (without the restart checkpoint it reached
//! 288 MB), and once the anonymous sessions expired and cleanup ran, the database file and its
//! WAL are small again.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use session_core::{Config, delete_all_expired};
use session_tower::CookieConfig;
use tower::ServiceExt;

async fn send(app: &Router, request: Request<Body>) -> (Option<String>, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("session="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .find(|v| !v.is_empty());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (cookie, String::from_utf8_lossy(&body).into_owned())
}

fn get(cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get("/");
    if let Some(token) = cookie {
        request = request.header(header::COOKIE, format!("session={token}"));
    }
    request.body(Body::empty()).unwrap()
}

/// Logs in as `name` from a fresh visit; returns the logged-in cookie.
async fn log_in(app: &Router, name: &str) -> String {
    let (first, _) = send(app, get(None)).await;
    let request = Request::post("/login")
        .header(header::COOKIE, format!("session={}", first.unwrap()))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("name={name}")))
        .unwrap();
    send(app, request).await.0.expect("login sets a cookie")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_flood_never_evicts_a_logged_in_user_from_memory() {
    let store = session_stores::connect("memory://?max_sessions=100000")
        .await
        .unwrap();
    let app = session_demo::router(
        store.manager(Config::default()).unwrap(),
        CookieConfig::default().secure(false),
    );
    let user = log_in(&app, "alice").await;
    for _ in 0..200_000 {
        let (cookie, _) = send(&app, get(None)).await;
        assert!(cookie.is_some(), "each cookieless visit stores a session");
    }
    let (_, page) = send(&app, get(Some(&user))).await;
    assert!(
        page.contains("Logged in as <b>alice</b>"),
        "the flood logged the user out"
    );
    let held = store.enumerate().unwrap().count().await.unwrap();
    assert!(held <= 100_000, "{held} sessions held");
}

/// The bound this test holds the SQLite files to after cleanup: the WAL's size limit
/// (`JOURNAL_SIZE_LIMIT`, 4 MiB) plus 1 MiB for the database.
const SQLITE_BOUND: u64 = session_store_sqlite::JOURNAL_SIZE_LIMIT as u64 + 1024 * 1024;

/// The bound on the WAL during the flood: `WAL_RESTART_PAGES` frames of a 4 KiB page (each
/// frame carries a 24-byte header), plus 4 MiB for the commits that land while a restart
/// waits for readers.
const WAL_FLOOD_BOUND: u64 =
    session_store_sqlite::WAL_RESTART_PAGES as u64 * (4096 + 24) + 4 * 1024 * 1024;

/// Visits in the SQLite flood (every other worker's are the logged-in user's page loads, whose
/// reads hold WAL snapshots), and how many run at once.
const SQLITE_VISITS: usize = 50_000;
const SQLITE_CONCURRENCY: usize = 64;

fn size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_flood_gives_its_space_back_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let wal = dir.path().join("demo.db-wal");
    let store = session_stores::builder(format!("sqlite://{}?pool_size=16", db.display()))
        .cleanup(session_stores::Cleanup::Manual)
        .connect()
        .await
        .unwrap();
    let config = Config::builder()
        .anonymous_idle_timeout(Duration::from_secs(2))
        .touch_interval(Duration::from_millis(500))
        .build()
        .unwrap();
    let app = session_demo::router(
        store.manager(config).unwrap(),
        CookieConfig::default().secure(false),
    );
    let user = log_in(&app, "alice").await;

    // The WAL's largest size, sampled while the flood runs.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = tokio::spawn({
        let (done, wal) = (done.clone(), wal.clone());
        async move {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(size(&wal));
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            peak
        }
    });
    // Cookieless visits, and the logged-in user reading the page meanwhile (readers are what
    // keep a WAL from being reset).
    let mut flood = tokio::task::JoinSet::new();
    for worker in 0..SQLITE_CONCURRENCY {
        let (app, user) = (app.clone(), user.clone());
        flood.spawn(async move {
            let mut anonymous = 0;
            for _ in 0..SQLITE_VISITS / SQLITE_CONCURRENCY {
                let cookie = (worker % 2 == 0).then_some(user.as_str());
                anonymous += usize::from(cookie.is_none());
                send(&app, get(cookie)).await;
            }
            anonymous
        });
    }
    let mut anonymous = 0;
    while let Some(joined) = flood.join_next().await {
        anonymous += joined.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.await.unwrap();
    let flooded = size(&db) + size(&wal);
    // The anonymous sessions expire after two seconds; the user's does not.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let cleanup = store.expired_cleanup().unwrap();
    let removed = delete_all_expired(&*cleanup, 1000).await.unwrap();
    assert!(removed as usize >= anonymous, "removed {removed}");
    // The next write resets the WAL, which cuts it back to its limit.
    let (_, page) = send(&app, get(Some(&user))).await;
    assert!(page.contains("Logged in as <b>alice</b>"));
    let after = size(&db) + size(&wal);
    println!(
        "SQLite files: WAL peak {peak} bytes in the flood, {flooded} bytes flooded, {after} after \
         cleanup (db {}, wal {})",
        size(&db),
        size(&wal)
    );

    assert!(
        peak <= WAL_FLOOD_BOUND,
        "the WAL reached {peak} bytes in the flood, bound {WAL_FLOOD_BOUND}"
    );
    assert!(
        after <= SQLITE_BOUND,
        "{after} bytes after cleanup (flooded: {flooded}), bound {SQLITE_BOUND}"
    );
    assert!(after < flooded, "cleanup gave no space back");
}
