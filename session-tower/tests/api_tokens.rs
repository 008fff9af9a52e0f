//! Tokens in a header only, for API and mobile clients (`SessionLayer::header_only`), over real
//! HTTP: `Authorization: Bearer` in, the token answered in `x-session-token`; no cookie is read
//! or set; rotation at login and logout; a planted cookie beside (or instead of) the header
//! token changes nothing; the cross-site guard skips header-token requests that carry no cookie,
//! and still guards cookie requests beside them.

mod support;

use http::HeaderName;
use session_core::{SessionManager, Token};
use session_store_memory::MemoryStore;
use session_tower::{SessionLayer, TokenHeader};
use support::{app, bare, dev_cookie, serve, set_cookies};

const ANSWER: &str = "x-session-token";

fn bearer_only() -> SessionLayer {
    SessionLayer::new(SessionManager::new(MemoryStore::new())).header_only(TokenHeader::Bearer {
        response: HeaderName::from_static(ANSWER),
    })
}

/// The token a response answers in `x-session-token`, if any.
fn answered(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(ANSWER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn call(
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = bare().request(method, format!("{base}{path}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request")
}

async fn get(base: &str, path: &str, token: Option<&str>) -> reqwest::Response {
    call(base, reqwest::Method::GET, path, token, &[]).await
}

async fn text(response: reqwest::Response) -> String {
    response.text().await.expect("body")
}

#[tokio::test]
async fn a_bearer_client_gets_its_token_in_the_header_and_never_a_cookie() {
    let base = serve(app(bearer_only())).await;
    let first = get(&base, "/count", None).await;
    assert!(set_cookies(&first).is_empty(), "{:?}", set_cookies(&first));
    let token = answered(&first).expect("the new session's token in the header");
    assert_eq!(first.headers()["cache-control"], "no-store");
    let vary: Vec<_> = first.headers().get_all("vary").iter().collect();
    assert!(vary.iter().any(|v| *v == "authorization"), "{vary:?}");
    assert!(!vary.iter().any(|v| *v == "cookie"), "{vary:?}");
    assert_eq!(text(first).await, "1");

    let second = get(&base, "/count", Some(&token)).await;
    assert!(set_cookies(&second).is_empty());
    assert_eq!(text(second).await, "2");
    // The scheme in any case; anything but a bearer token is no token.
    let lower = bare()
        .get(format!("{base}/count"))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(text(lower).await, "3");
    let basic = bare()
        .get(format!("{base}/whoami"))
        .header("authorization", "Basic YWxhZGRpbjpvcGVu")
        .send()
        .await
        .unwrap();
    assert_eq!(text(basic).await, "nobody");
}

#[tokio::test]
async fn login_rotates_the_token_in_the_header_and_logout_ends_it() {
    let base = serve(app(bearer_only())).await;
    let before = answered(&get(&base, "/count", None).await).unwrap();
    let login = call(&base, reqwest::Method::POST, "/login", Some(&before), &[]).await;
    assert_eq!(login.status(), 200);
    assert!(set_cookies(&login).is_empty());
    let after = answered(&login).expect("the rotated token in the header");
    assert_ne!(after, before, "login must issue a new token");
    assert_eq!(
        text(get(&base, "/whoami", Some(&after)).await).await,
        "alice"
    );
    // The pre-login token carries no login.
    assert_ne!(
        text(get(&base, "/whoami", Some(&before)).await).await,
        "alice"
    );

    let logout = call(&base, reqwest::Method::POST, "/logout", Some(&after), &[]).await;
    assert_eq!(text(logout).await, "bye");
    assert_eq!(
        text(get(&base, "/whoami", Some(&after)).await).await,
        "nobody"
    );
    // The pre-login token is at most the rotation grace's read-only copy: never the login.
    assert_ne!(
        text(get(&base, "/whoami", Some(&before)).await).await,
        "alice"
    );
}

/// A cookie of the session's name, holding another live session's token (planted by a sibling
/// subdomain, say), is not read in header-only mode: not beside the header token, not alone.
#[tokio::test]
async fn a_planted_cookie_changes_nothing_in_header_only_mode() {
    let base = serve(app(bearer_only())).await;
    let mine = answered(&get(&base, "/count", None).await).unwrap();
    let planted = answered(&get(&base, "/count", None).await).unwrap();
    get(&base, "/count", Some(&planted)).await; // the planted session is at 2
    let cookie = [(
        "cookie",
        format!("session={planted}; __Host-session={planted}"),
    )];
    let cookie: Vec<(&str, &str)> = cookie.iter().map(|(n, v)| (*n, v.as_str())).collect();

    let beside = call(&base, reqwest::Method::GET, "/count", Some(&mine), &cookie).await;
    assert!(set_cookies(&beside).is_empty());
    assert_eq!(
        text(beside).await,
        "2",
        "the header's session counted, not the cookie's"
    );
    let alone = call(&base, reqwest::Method::GET, "/whoami", None, &cookie).await;
    assert_eq!(text(alone).await, "nobody", "a cookie alone is no session");
    assert_eq!(text(get(&base, "/count", Some(&planted)).await).await, "3");
    // More cookies of our name than the layer tries is no reason to refuse: they are not read.
    let tossed: String = (0..10).map(|i| format!("session=junk{i}; ")).collect();
    let tossed = call(
        &base,
        reqwest::Method::GET,
        "/count",
        Some(&mine),
        &[("cookie", &tossed)],
    )
    .await;
    assert_eq!(tossed.status(), 200);
    assert_eq!(text(tossed).await, "3");
}

#[tokio::test]
async fn the_cross_site_guard_skips_header_tokens_but_not_cookies() {
    let cross_site = [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ];
    // Header only: the guard is off, a cross-site POST with a bearer token is the client's own.
    let base = serve(app(bearer_only())).await;
    let token = answered(&get(&base, "/count", None).await).unwrap();
    let login = call(
        &base,
        reqwest::Method::POST,
        "/login",
        Some(&token),
        &cross_site,
    )
    .await;
    assert_eq!(login.status(), 200);
    // With no token either: nothing it answers can land in a browser's jar.
    let fresh = call(&base, reqwest::Method::POST, "/login", None, &cross_site).await;
    assert_eq!(fresh.status(), 200);
    assert!(set_cookies(&fresh).is_empty());

    // Cookie and header: a header token with no cookie passes; a cookie, or no token at all
    // (a cross-site login would plant a session), is refused.
    let layer = SessionLayer::new(SessionManager::new(MemoryStore::new()))
        .cookie(dev_cookie())
        .token_header(TokenHeader::Bearer {
            response: HeaderName::from_static(ANSWER),
        });
    let base = serve(app(layer)).await;
    let first = get(&base, "/count", None).await;
    let cookie_token = support::cookie_value(&set_cookies(&first)[0], "session").unwrap();
    let by_header = call(
        &base,
        reqwest::Method::POST,
        "/login",
        Some(&cookie_token),
        &cross_site,
    )
    .await;
    assert_eq!(
        by_header.status(),
        200,
        "a header token without a cookie is not cross-site"
    );
    let rotated = answered(&by_header).expect("answered in the header it came by");
    assert!(set_cookies(&by_header).is_empty());
    let cookie = format!("session={rotated}");
    let mut with_cookie = cross_site.to_vec();
    with_cookie.push(("cookie", &cookie));
    let refused = call(
        &base,
        reqwest::Method::POST,
        "/logout",
        Some(&rotated),
        &with_cookie,
    )
    .await;
    assert_eq!(
        refused.status(),
        403,
        "a cookie beside the header is guarded"
    );
    let anonymous = call(&base, reqwest::Method::POST, "/login", None, &cross_site).await;
    assert_eq!(
        anonymous.status(),
        403,
        "a cross-site login with no token is refused"
    );
    // And the session the refused logout aimed at is still there.
    assert_eq!(
        text(get(&base, "/whoami", Some(&rotated)).await).await,
        "alice"
    );
    // A stranger's token in the header finds nothing.
    let stranger = Token::generate().unwrap();
    assert_eq!(
        text(get(&base, "/whoami", Some(stranger.as_str())).await).await,
        "nobody"
    );
}
