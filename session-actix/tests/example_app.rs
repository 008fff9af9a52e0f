//! The actix-web example app (`examples/actix_app.rs`, unchanged) over real HTTP on every
//! backend: a wrong password, log in, the protected page, the session list, the id rotated at
//! login, the pre-login and logged-out cookies replayed, log out.

mod support;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/actix_app.rs"]
mod example;

use session_actix::SessionMiddleware;
use session_core::Config;
use session_test_support::{BackendUrl, on_every_backend};

/// `method path` with the cookie `session=<token>` (if any) and a form, answering the status,
/// the body and the new session cookie, if one was set.
async fn call(
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> (u16, String, Option<String>) {
    let mut request = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Some(token) = token {
        request = request.header("cookie", format!("session={token}"));
    }
    if let Some(form) = form {
        request = request.form(form);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.strip_prefix("session="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .find(|v| !v.is_empty());
    (status, response.text().await.expect("body"), cookie)
}

async fn login_protected_page_logout(name: &'static str, url: BackendUrl) {
    let connected = session_stores::connect(&url.url)
        .await
        .unwrap_or_else(|e| panic!("{name} at {}: {e}", url.url));
    let manager = connected.manager(Config::default()).expect("manager");
    let sessions = example::sessions_over(manager, false);
    let base = support::serve_routes(SessionMiddleware::from_sessions(sessions), example::routes);
    use reqwest::Method;
    let (_, body, visitor) = call(&base, Method::GET, "/", None, None).await;
    assert_eq!(body, "visit number 1");
    let visitor = visitor.expect("a first visit sets the cookie");
    let (status, _, _) = call(&base, Method::GET, "/me", Some(&visitor), None).await;
    assert_eq!(status, 401, "not signed in yet");
    let wrong = [("user", "alice"), ("password", "guess")];
    let (status, _, none) = call(&base, Method::POST, "/login", Some(&visitor), Some(&wrong)).await;
    assert_eq!(
        (status, none),
        (401, None),
        "a wrong password changes nothing"
    );
    let right = [("user", example::USER.0), ("password", example::USER.1)];
    let (status, body, user) =
        call(&base, Method::POST, "/login", Some(&visitor), Some(&right)).await;
    assert_eq!((status, body.as_str()), (200, "welcome, alice"));
    let user = user.expect("login sets the new cookie");
    assert_ne!(user, visitor, "the token is rotated at login");
    let (status, body, _) = call(&base, Method::GET, "/me", Some(&user), None).await;
    assert_eq!((status, body.as_str()), (200, "signed in as alice"));
    let (_, body, _) = call(&base, Method::GET, "/sessions", Some(&user), None).await;
    assert_eq!(body, "1 session(s)");
    let (status, _, _) = call(&base, Method::GET, "/me", Some(&visitor), None).await;
    assert_eq!(status, 401, "the pre-login cookie never reads the user");
    let (_, body, _) = call(&base, Method::POST, "/logout", Some(&user), None).await;
    assert_eq!(body, "signed out");
    for token in [&user, &visitor] {
        let (status, _, _) = call(&base, Method::GET, "/me", Some(token), None).await;
        assert_eq!(status, 401, "a replayed cookie after logout");
    }
}

on_every_backend!(login_protected_page_logout, "actix_example");
