//! The findings against the HTTP layer, reproduced through a router over real HTTP: other
//! cookies' bytes, planted cookies of our name, cross-site requests, and errors as statuses.

mod support;

use session_core::Config;
use session_tower::SessionLayer;
use support::{
    app, bare, cookie_value, dev_cookie, first_visit, memory_manager, serve, set_cookies,
};

/// A request with a hand-made `Cookie` header of raw bytes.
async fn with_cookie_bytes(base: &str, path: &str, cookie: &[u8]) -> reqwest::Response {
    bare()
        .get(format!("{base}{path}"))
        .header(
            "cookie",
            reqwest::header::HeaderValue::from_bytes(cookie).unwrap(),
        )
        .send()
        .await
        .unwrap()
}

/// The test app and a browser that logged in: the base URL, the token from before login (rotated
/// out, read-only for the grace) and the logged-in one.
async fn logged_in_app() -> (String, String, String) {
    let base = serve(app(
        SessionLayer::new(memory_manager(Config::default())).cookie(dev_cookie())
    ))
    .await;
    let before = first_visit(&base).await;
    let login = support::post_with(&base, "/login", &before).await;
    let token = set_cookies(&login)
        .iter()
        .find_map(|c| cookie_value(c, "session"))
        .unwrap();
    (base, before, token)
}

/// Finding 1: a byte >= 0x80 in another cookie logged the user out and overwrote the cookie.
#[tokio::test]
async fn other_cookies_bytes_never_log_anyone_out() {
    let (base, _, token) = logged_in_app().await;
    for other in [
        "lang=Jos\u{e9}".as_bytes().to_vec(),
        b"weird=\xff\xfe\x80".to_vec(),
        b"x=\"unterminated".to_vec(),
    ] {
        let mut header = other.clone();
        header.extend_from_slice(format!("; session={token}").as_bytes());
        let response = with_cookie_bytes(&base, "/whoami", &header).await;
        assert!(set_cookies(&response).is_empty(), "the cookie was touched");
        assert_eq!(response.text().await.unwrap(), "alice");
    }
}

/// Finding 1: a planted cookie of our name in front of the real one (first match won) logged
/// the user out; now each is tried and the live one wins, and the working cookie is left alone.
#[tokio::test]
async fn a_planted_cookie_never_replaces_a_working_one() {
    let (base, _, token) = logged_in_app().await;
    let unknown = session_core::Token::generate().unwrap();
    for planted in ["garbage", unknown.as_str(), "a.b.c"] {
        let header = format!("session={planted}; session={token}");
        let response = with_cookie_bytes(&base, "/whoami", header.as_bytes()).await;
        assert!(
            set_cookies(&response).is_empty(),
            "planted {planted}: the cookie was touched"
        );
        assert_eq!(response.text().await.unwrap(), "alice", "planted {planted}");
        // A write through it lands in the user's session.
        let response = with_cookie_bytes(&base, "/count", header.as_bytes()).await;
        assert_eq!(response.status(), 200);
    }
}

/// Finding 2: cross-site and same-site unsafe requests are refused with 403 and change nothing;
/// same-origin ones, and safe methods, go through.
#[tokio::test]
async fn cross_site_unsafe_requests_are_refused() {
    let (base, _, token) = logged_in_app().await;
    let post = |headers: Vec<(&'static str, String)>| {
        let (base, token) = (base.clone(), token.clone());
        async move {
            let mut request = bare()
                .post(format!("{base}/logout"))
                .header("cookie", format!("session={token}"));
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request.send().await.unwrap()
        }
    };
    let host = base.trim_start_matches("http://").to_owned();
    for headers in [
        vec![("sec-fetch-site", "cross-site".to_owned())],
        vec![("sec-fetch-site", "same-site".to_owned())],
        vec![("origin", "http://evil.example".to_owned())],
        vec![("origin", "http://127.0.0.1:1".to_owned())],
    ] {
        let response = post(headers.clone()).await;
        assert_eq!(response.status(), 403, "{headers:?}");
        assert!(set_cookies(&response).is_empty());
        let me = support::get_with(&base, "/whoami", &token).await;
        assert_eq!(
            me.text().await.unwrap(),
            "alice",
            "{headers:?} changed the session"
        );
    }
    // A cross-site GET reads (it changes nothing), and a same-origin POST works.
    let read = bare()
        .get(format!("{base}/whoami"))
        .header("cookie", format!("session={token}"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(read.text().await.unwrap(), "alice");
    let response = post(vec![
        ("sec-fetch-site", "same-origin".to_owned()),
        ("origin", format!("http://{host}")),
    ])
    .await;
    assert_eq!(response.status(), 200);
    let me = support::get_with(&base, "/whoami", &token).await;
    assert_eq!(
        me.text().await.unwrap(),
        "nobody",
        "the same-origin logout worked"
    );
}

/// The protection can trust a named origin, or be turned off.
#[tokio::test]
async fn trusted_origins_and_turning_it_off() {
    for layer in [
        SessionLayer::new(memory_manager(Config::default()))
            .trust_origin("https://partner.example/"),
        SessionLayer::new(memory_manager(Config::default())).cross_site_protection(false),
    ] {
        let base = serve(app(layer.cookie(dev_cookie()))).await;
        let response = bare()
            .post(format!("{base}/logout"))
            .header("sec-fetch-site", "cross-site")
            .header("origin", "https://partner.example")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

/// A WebSocket handshake from another origin (cross-site WebSocket hijacking) is refused too,
/// though it is a `GET`; from the page's own origin it goes through.
#[tokio::test]
async fn cross_origin_websocket_handshakes_are_refused() {
    let (base, _, token) = logged_in_app().await;
    let handshake = |origin: String| {
        let (base, token) = (base.clone(), token.clone());
        async move {
            bare()
                .get(format!("{base}/whoami"))
                .header("cookie", format!("session={token}"))
                .header("upgrade", "websocket")
                .header("connection", "upgrade")
                .header("origin", origin)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(handshake("http://evil.example".into()).await.status(), 403);
    let own = base.clone();
    assert_ne!(handshake(own).await.status(), 403);
}

/// A planted rotated-out token (the pre-login token a fixation attacker kept) in front of the
/// real cookie does not make the user's requests read-only: the writable session wins.
#[tokio::test]
async fn a_planted_rotated_out_token_does_not_shadow_the_real_one() {
    let (base, before, token) = logged_in_app().await;
    let header = format!("session={before}; session={token}");
    let response = with_cookie_bytes(&base, "/count", header.as_bytes()).await;
    assert_eq!(response.status(), 200, "the write went to the real session");
    assert!(
        set_cookies(&response)
            .iter()
            .all(|c| !c.contains("Max-Age=0"))
    );
    let me = with_cookie_bytes(&base, "/whoami", header.as_bytes()).await;
    assert_eq!(me.text().await.unwrap(), "alice");
}

/// Cookie tossing: more cookies of our name than the layer tries (planted in front of the real
/// one, or junk) are refused with 400 before any session I/O; nothing is set or cleared, and the
/// session is still there for the next clean request.
#[tokio::test]
async fn cookie_tossing_is_refused_and_the_session_survives() {
    let (base, _, token) = logged_in_app().await;
    let unknown = || session_core::Token::generate().unwrap();
    let planted: String = (0..session_tower::MAX_CANDIDATES)
        .map(|_| format!("session={}; ", unknown().as_str()))
        .collect();
    let junk = "session=x; ".repeat(100);
    let spread = "session=a b; ".repeat(session_tower::MAX_CANDIDATES);
    for header in [
        format!("{planted}session={token}"),
        format!("{junk}session={token}"),
        format!("{spread}session={token}"),
    ] {
        for path in ["/whoami", "/count"] {
            let response = with_cookie_bytes(&base, path, header.as_bytes()).await;
            assert_eq!(response.status(), 400, "{path}");
            assert!(set_cookies(&response).is_empty(), "the cookie was touched");
            assert!(
                response
                    .text()
                    .await
                    .unwrap()
                    .contains("too many session cookies")
            );
        }
        let me = support::get_with(&base, "/whoami", &token).await;
        assert_eq!(me.text().await.unwrap(), "alice", "the user was logged out");
    }
    // As many as the layer tries still find the real one, wherever it is.
    let most: String = (1..session_tower::MAX_CANDIDATES)
        .map(|_| format!("session={}; ", unknown().as_str()))
        .collect();
    let response = with_cookie_bytes(
        &base,
        "/whoami",
        format!("{most}session={token}").as_bytes(),
    )
    .await;
    assert_eq!(response.text().await.unwrap(), "alice");
}

/// A response that consulted the session is private and not stored, and varies on the cookie;
/// one that did not is left to the handler; the handler's own choice stands; it is configurable.
#[tokio::test]
async fn responses_that_read_the_session_are_private_and_not_stored() {
    let (base, _, token) = logged_in_app().await;
    let page = support::get_with(&base, "/whoami", &token).await;
    assert!(set_cookies(&page).is_empty());
    assert_eq!(page.headers()["cache-control"], "private, no-store");
    let vary: Vec<_> = page.headers().get_all("vary").iter().collect();
    assert!(vary.iter().any(|v| *v == "cookie"), "{vary:?}");
    // Anonymous, looked up and missing: the page was still rendered from "no session".
    let anonymous = bare().get(format!("{base}/peek")).send().await.unwrap();
    assert_eq!(anonymous.headers()["cache-control"], "private, no-store");
    // Never consulted: no header of ours.
    let health = support::get_with(&base, "/health", &token).await;
    assert!(health.headers().get("cache-control").is_none());
    assert!(health.headers().get("vary").is_none());

    let layer = SessionLayer::new(memory_manager(Config::default()))
        .cookie(dev_cookie())
        .cache_control(Some(http::HeaderValue::from_static("private, max-age=0")));
    let base = serve(app(layer)).await;
    let response = bare().get(format!("{base}/peek")).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "private, max-age=0");
    let layer = SessionLayer::new(memory_manager(Config::default()))
        .cookie(dev_cookie())
        .cache_control(None);
    let base = serve(app(layer)).await;
    let response = bare().get(format!("{base}/peek")).send().await.unwrap();
    assert!(response.headers().get("cache-control").is_none());
    // A token still goes out with no-store, whatever the setting.
    let first = bare().get(format!("{base}/count")).send().await.unwrap();
    assert_eq!(first.headers()["cache-control"], "no-store");
}
