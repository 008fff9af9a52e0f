//! A store that stops under the actix-web middleware: every request that needs the session is
//! a `503` with `Retry-After`, never one served without it, and no cookie changes.

mod support;

use std::time::Duration;

use session_actix::SessionMiddleware;
use session_core::SessionManager;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_store_is_a_503_never_an_anonymous_request() {
    let mut server = session_test_support::RedisServer::start();
    let store = session_store_redis::RedisStore::builder(server.url())
        .operation_timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_millis(300))
        .connect()
        .await
        .expect("throwaway Redis");
    let manager = SessionManager::new(store);
    let sessions = session_actix::HttpSessions::new(manager)
        .cookie(session_actix::CookieConfig::default().secure(false));
    let base = support::serve(SessionMiddleware::from_sessions(sessions));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let first = client.get(format!("{base}/count")).send().await.unwrap();
    assert_eq!(first.text().await.unwrap(), "1");
    server.kill();
    // `/swallow` ignores its failed read and answers "guest": a 503 all the same.
    for path in ["/count", "/whoami", "/swallow"] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 503, "{path}");
        assert_eq!(response.headers()["retry-after"], "1", "{path}");
        assert!(
            response.headers().get("set-cookie").is_none(),
            "{path}: a 503 must not touch the cookie"
        );
        let body = response.text().await.unwrap();
        assert!(!body.contains("127.0.0.1"), "no internals: {body}");
    }
    // A request that never touches the session is served as usual.
    let health = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    // A new visitor: the new session's save fails, so 503 too.
    let fresh = reqwest::get(format!("{base}/count")).await.unwrap();
    assert_eq!(fresh.status(), 503);
}
