//! Anonymous floods (finding 3): cookieless requests to the demo's router, each of which stores
//! an anonymous session. On the memory store, 200,000 of them against a bound of 100,000 leave a
//! logged-in user logged in (anonymous sessions are evicted first). On SQLite, once the anonymous
//! sessions expired and cleanup ran, the database file and its WAL are small again.

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

fn size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_flood_gives_its_space_back_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let wal = dir.path().join("demo.db-wal");
    let store = session_stores::builder(format!("sqlite://{}", db.display()))
        .cleanup(session_stores::Cleanup::Manual)
        .connect()
        .await
        .unwrap();
    let config = Config::builder()
        .anonymous_idle_timeout(Duration::from_secs(1))
        .touch_interval(Duration::from_millis(500))
        .build()
        .unwrap();
    let app = session_demo::router(
        store.manager(config).unwrap(),
        CookieConfig::default().secure(false),
    );
    let user = log_in(&app, "alice").await;
    for _ in 0..20_000 {
        send(&app, get(None)).await;
    }
    let flooded = size(&db) + size(&wal);
    // The anonymous sessions expire after a second; the user's does not.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cleanup = store.expired_cleanup().unwrap();
    let removed = delete_all_expired(&*cleanup, 1000).await.unwrap();
    assert!(removed >= 20_000, "removed {removed}");
    // The next write resets the WAL, which cuts it back to its limit.
    let (_, page) = send(&app, get(Some(&user))).await;
    assert!(page.contains("Logged in as <b>alice</b>"));
    let after = size(&db) + size(&wal);
    println!(
        "SQLite files: {flooded} bytes flooded, {after} after cleanup (db {}, wal {})",
        size(&db),
        size(&wal)
    );

    assert!(
        after <= SQLITE_BOUND,
        "{after} bytes after cleanup (flooded: {flooded}), bound {SQLITE_BOUND}"
    );
    assert!(after < flooded, "cleanup gave no space back");
}
