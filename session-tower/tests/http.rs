//! The session layer over real HTTP: lazy loading, one flush per request, cookie attributes,
//! tampered and unknown cookies, rotation at login, logout, a stopped store, two instances.

mod support;

use std::sync::Arc;
use std::time::Duration;

use session_core::{Config, SessionManager};
use session_tower::{CookieConfig, SessionLayer, SigningKeys};
use support::{
    app, bare, browser, cookie_value, counted_manager, dev_cookie, first_visit, get_with,
    memory_manager, post_with, serve, set_cookies,
};

#[tokio::test]
async fn untouched_requests_do_no_store_io_and_set_no_cookie() {
    let (manager, store) = counted_manager(Config::default());
    let base = serve(app(SessionLayer::new(manager).cookie(dev_cookie()))).await;
    let client = browser();
    let first = client.get(format!("{base}/count")).send().await.unwrap();
    assert_eq!(first.text().await.unwrap(), "1");
    let before = store.operations();
    for _ in 0..20 {
        let response = client.get(format!("{base}/health")).send().await.unwrap();
        assert!(
            set_cookies(&response).is_empty(),
            "an untouched request set a cookie"
        );
        assert_eq!(response.text().await.unwrap(), "ok");
    }
    assert_eq!(
        store.operations(),
        before,
        "an untouched request reached the store"
    );
    // Without any cookie either.
    let response = bare().get(format!("{base}/health")).send().await.unwrap();
    assert!(set_cookies(&response).is_empty());
    assert_eq!(store.operations(), before);
}

#[tokio::test]
async fn a_new_session_never_written_sets_no_cookie() {
    let (manager, store) = counted_manager(Config::default());
    let base = serve(app(SessionLayer::new(manager).cookie(dev_cookie()))).await;
    let response = bare().get(format!("{base}/peek")).send().await.unwrap();
    assert!(set_cookies(&response).is_empty());
    assert_eq!(response.text().await.unwrap(), "no");
    assert_eq!(store.writes(), 0);
}

#[tokio::test]
async fn one_flush_per_request() {
    let (manager, store) = counted_manager(Config::default());
    let base = serve(app(SessionLayer::new(manager).cookie(dev_cookie()))).await;
    let client = browser();
    client.get(format!("{base}/set3")).send().await.unwrap();
    assert_eq!(
        (store.reads(), store.writes()),
        (0, 1),
        "a new session: no read, one set_many"
    );
    client.get(format!("{base}/set3")).send().await.unwrap();
    assert_eq!(
        (store.reads(), store.writes()),
        (1, 2),
        "one load and one set_many per request"
    );
}

#[tokio::test]
async fn cookie_attributes_are_the_safe_defaults() {
    let manager = SessionManager::new(session_store_memory::MemoryStore::new());
    let base = serve(app(SessionLayer::new(manager))).await;
    let response = bare().get(format!("{base}/count")).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1);
    let cookie = &cookies[0];
    assert!(cookie.starts_with("__Host-session="), "{cookie}");
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        // An anonymous session: the anonymous idle timeout (half an hour).
        "Max-Age=1800",
    ] {
        assert!(
            cookie.split("; ").any(|a| a == attribute),
            "{attribute} missing in {cookie}"
        );
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let token = cookie_value(cookie, "__Host-session").unwrap();
    assert_eq!(token.len(), 43, "a bare 256-bit token");

    // Configurable, and Max-Age follows the session's expiry.
    let config = Config::builder()
        .idle_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let manager = memory_manager(config);
    let cookie = CookieConfig::default()
        .name("sid")
        .domain("example.test")
        .same_site(cookie::SameSite::Strict);
    let base = serve(app(SessionLayer::new(manager).cookie(cookie))).await;
    let response = bare().get(format!("{base}/count")).send().await.unwrap();
    let cookie = &set_cookies(&response)[0];
    assert!(
        cookie.starts_with("sid="),
        "no __Host- prefix with a Domain: {cookie}"
    );
    for attribute in ["SameSite=Strict", "Domain=example.test", "Max-Age=600"] {
        assert!(
            cookie.split("; ").any(|a| a == attribute),
            "{attribute} missing in {cookie}"
        );
    }
    let manager = SessionManager::new(session_store_memory::MemoryStore::new());
    let base = serve(app(
        SessionLayer::new(manager).cookie(dev_cookie().browser_session(true))
    ))
    .await;
    let response = bare().get(format!("{base}/count")).send().await.unwrap();
    assert!(
        !set_cookies(&response)[0].contains("Max-Age"),
        "a browser-session cookie has no Max-Age"
    );
}

#[tokio::test]
async fn tampered_and_unknown_cookies_are_no_session() {
    let (manager, store) = counted_manager(Config::default());
    let keys = SigningKeys::new(vec![vec![1; 32]]).unwrap();
    let base = serve(app(SessionLayer::new(manager.clone())
        .cookie(dev_cookie())
        .signing_keys(keys)))
    .await;
    let signed = first_visit(&base).await;
    let again = get_with(&base, "/count", &signed).await;
    assert_eq!(again.text().await.unwrap(), "2");

    let reads = store.reads();
    let (token, tag) = signed.split_once('.').unwrap();
    let flipped: String = token.chars().rev().collect();
    for forged in [
        token.to_owned(),
        format!("{flipped}.{tag}"),
        format!("{token}.{}", "A".repeat(43)),
        "garbage".into(),
    ] {
        let response = get_with(&base, "/whoami", &forged).await;
        assert_eq!(response.text().await.unwrap(), "nobody", "{forged}");
    }
    assert_eq!(
        store.reads(),
        reads,
        "bad signatures are refused before any lookup"
    );

    // Unsigned cookies: an unknown token is no session, and the stale cookie is cleared.
    let manager = SessionManager::new(session_store_memory::MemoryStore::new());
    let base = serve(app(SessionLayer::new(manager).cookie(dev_cookie()))).await;
    let unknown = session_core::Token::generate().unwrap();
    let response = get_with(&base, "/whoami", unknown.as_str()).await;
    assert!(set_cookies(&response)[0].contains("Max-Age=0"));
    assert_eq!(response.text().await.unwrap(), "nobody");
}

#[tokio::test]
async fn rotation_at_login_sets_the_new_cookie_and_retires_the_old() {
    let config = Config::builder()
        .rotation_grace(Duration::from_millis(500))
        .build()
        .unwrap();
    let manager = memory_manager(config);
    let base = serve(app(SessionLayer::new(manager).cookie(dev_cookie()))).await;
    let before = first_visit(&base).await;
    let login = post_with(&base, "/login", &before).await;
    let after = cookie_value(&set_cookies(&login)[0], "session").unwrap();
    assert_ne!(
        before, after,
        "login rotates the token in the same response"
    );
    let me = |token: String| {
        let base = base.clone();
        async move {
            let response = get_with(&base, "/whoami", &token).await;
            response.text().await.unwrap()
        }
    };
    assert_eq!(me(after.clone()).await, "alice");
    assert_eq!(
        me(before.clone()).await,
        "anonymous",
        "inside the grace the old cookie reads the pre-login session: never the user"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        me(before).await,
        "nobody",
        "after the grace the old cookie is dead"
    );
    assert_eq!(me(after).await, "alice");
}

#[tokio::test]
async fn logout_clears_the_cookie_and_ends_the_session() {
    let manager = SessionManager::new(session_store_memory::MemoryStore::new());
    let base = serve(app(SessionLayer::new(manager).cookie(dev_cookie()))).await;
    let token = first_visit(&base).await;
    let out = post_with(&base, "/logout", &token).await;
    let cleared = &set_cookies(&out)[0];
    assert!(
        cleared.starts_with("session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(out.headers()["cache-control"], "no-store");
    let after = get_with(&base, "/whoami", &token).await;
    assert_eq!(after.text().await.unwrap(), "nobody");
}

/// The test app with the token also accepted from the `x-session` header, one session made by a
/// first visit, and a cookie-less client: the base URL, the client and the session's token.
async fn header_app_with_a_session() -> (String, reqwest::Client, String) {
    let manager = SessionManager::new(session_store_memory::MemoryStore::new());
    let layer = SessionLayer::new(manager)
        .cookie(dev_cookie())
        .header(http::HeaderName::from_static("x-session"));
    let base = serve(app(layer)).await;
    let client = bare();
    let first = client.get(format!("{base}/count")).send().await.unwrap();
    let token = cookie_value(&set_cookies(&first)[0], "session").unwrap();
    (base, client, token)
}

#[tokio::test]
async fn tokens_come_from_the_cookie_or_the_header_never_the_url() {
    let (base, client, token) = header_app_with_a_session().await;
    let by_header = client
        .get(format!("{base}/count"))
        .header("x-session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.text().await.unwrap(), "2");
    let by_url = client
        .get(format!("{base}/whoami?session={token}&x-session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_url.text().await.unwrap(), "nobody");
}

/// A handler that writes without reading first: the layer still learns which presented token
/// found the session before answering, so a session found by the header is answered in the
/// header, not handed to the client as a cookie.
#[tokio::test]
async fn a_blind_write_answers_where_the_token_came_from() {
    let (base, client, token) = header_app_with_a_session().await;
    let stranger = session_core::Token::generate().unwrap();
    let written = client
        .get(format!("{base}/set3"))
        .header("cookie", format!("session={}", stranger.as_str()))
        .header("x-session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(written.status(), 200);
    assert_eq!(
        written
            .headers()
            .get("x-session")
            .and_then(|v| v.to_str().ok()),
        Some(token.as_str()),
        "the session came by the header: the answer goes in the header"
    );
    assert!(
        set_cookies(&written).is_empty(),
        "no cookie for a session found by the header: {:?}",
        set_cookies(&written)
    );
    let counted = client
        .get(format!("{base}/count"))
        .header("x-session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        counted.text().await.unwrap(),
        "2",
        "the write went to that session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_store_is_a_503_never_an_anonymous_request() {
    let mut server = session_test_support::RedisServer::start();
    let store = session_store_redis::RedisStore::builder(server.url())
        .operation_timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap();
    let base = serve(app(
        SessionLayer::new(SessionManager::new(store)).cookie(dev_cookie())
    ))
    .await;
    let client = browser();
    assert_eq!(
        client
            .get(format!("{base}/count"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "1"
    );
    server.kill();
    // `/swallow` ignores its failed read and answers "guest": a 503 all the same.
    for path in ["/count", "/whoami", "/set3", "/swallow"] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 503, "{path}");
        assert!(
            set_cookies(&response).is_empty(),
            "{path}: a 503 must not touch the cookie"
        );
    }
    // A request that never touches the session is served as usual.
    assert_eq!(
        client
            .get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // A new visitor, with no cookie, whose session would be new: the save fails, so 503 too.
    assert_eq!(
        bare()
            .get(format!("{base}/count"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let a = SessionManager::new(
        session_store_sqlite::SqliteStore::open(&path)
            .await
            .unwrap(),
    );
    let b = SessionManager::new(
        session_store_sqlite::SqliteStore::open(&path)
            .await
            .unwrap(),
    );
    let (base_a, base_b) = (
        serve(app(SessionLayer::new(a).cookie(dev_cookie()))).await,
        serve(app(SessionLayer::new(b).cookie(dev_cookie()))).await,
    );
    let token = first_visit(&base_a).await;
    for (base, expected) in [(&base_b, "2"), (&base_a, "3"), (&base_b, "4")] {
        let response = get_with(base, "/count", &token).await;
        assert_eq!(response.text().await.unwrap(), expected);
    }
}

#[tokio::test]
async fn signing_keys_rotate_and_retire() {
    let store = Arc::new(session_store_memory::MemoryStore::new());
    let manager = SessionManager::builder_from_arc(store).build().unwrap();
    let (old, new) = (vec![1u8; 32], vec![2u8; 32]);
    let serve_with = |keys: Vec<Vec<u8>>| {
        let layer = SessionLayer::new(manager.clone())
            .cookie(dev_cookie())
            .signing_keys(SigningKeys::new(keys).unwrap());
        serve(app(layer))
    };
    let base_old = serve_with(vec![old.clone()]).await;
    let first = bare()
        .get(format!("{base_old}/count"))
        .send()
        .await
        .unwrap();
    let signed_old = cookie_value(&set_cookies(&first)[0], "session").unwrap();

    let base_rotated = serve_with(vec![new.clone(), old.clone()]).await;
    // A read-only request with an old-key cookie: still valid, and re-signed with the new key.
    let response = get_with(&base_rotated, "/health", &signed_old).await;
    let resigned = cookie_value(&set_cookies(&response)[0], "session").unwrap();
    assert_ne!(resigned, signed_old);
    assert_eq!(
        resigned.split('.').next(),
        signed_old.split('.').next(),
        "same token, new signature"
    );
    let response = get_with(&base_rotated, "/count", &signed_old).await;
    assert_eq!(response.text().await.unwrap(), "2");

    let base_retired = serve_with(vec![new]).await;
    let response = get_with(&base_retired, "/whoami", &signed_old).await;
    assert_eq!(
        response.text().await.unwrap(),
        "nobody",
        "a retired key's signature is refused"
    );
    let response = get_with(&base_retired, "/count", &resigned).await;
    assert_eq!(
        response.text().await.unwrap(),
        "3",
        "the re-signed cookie works with the new key alone"
    );
}

/// The cookie's `Max-Age` follows a session's own idle timeout ("remember me").
#[tokio::test]
async fn the_cookie_follows_a_sessions_own_idle_timeout() {
    let base = serve(app(
        SessionLayer::new(memory_manager(Config::default())).cookie(dev_cookie())
    ))
    .await;
    let token = first_visit(&base).await;
    let response = post_with(&base, "/remember", &token).await;
    let cookie = set_cookies(&response)
        .into_iter()
        .find(|c| c.starts_with("session="))
        .expect("the cookie is refreshed");
    assert!(cookie.contains("Max-Age=120"), "{cookie}");
}

/// Automatic renewal: a request with a token older than `renew_after` gets a new one in the
/// same response; the old one then reads only.
#[tokio::test]
async fn an_old_token_is_renewed_in_the_response() {
    let config = Config::builder()
        .renew_after(Duration::from_millis(200))
        .build()
        .unwrap();
    let base = serve(app(
        SessionLayer::new(memory_manager(config)).cookie(dev_cookie())
    ))
    .await;
    let old = first_visit(&base).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let renewed = loop {
        let response = get_with(&base, "/whoami", &old).await;
        if let Some(new) = set_cookies(&response)
            .iter()
            .find_map(|c| cookie_value(c, "session"))
            .filter(|v| !v.is_empty() && *v != old)
        {
            break new;
        }
        assert!(tokio::time::Instant::now() < deadline, "never renewed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let response = get_with(&base, "/count", &renewed).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "2",
        "the data moved to the new token"
    );
}
