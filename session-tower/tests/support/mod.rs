//! A small app under the session layer, served over real HTTP on loopback, over stores counted
//! with the workspace's `CountingStore`.

#![allow(dead_code)] // each test file uses part of it

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use session_core::SessionManager;
use session_test_support::{CountingStore, Counts};
use session_tower::{LazySession, SessionLayer, SessionRejection};

async fn count(lazy: LazySession) -> Result<String, SessionRejection> {
    let session = lazy.get().await?;
    let n: u64 = session.get("n").await?.unwrap_or(0) + 1;
    session.set("n", &n)?;
    Ok(n.to_string())
}

async fn set_three(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    let session = lazy.get().await?;
    for k in ["a", "b", "c"] {
        session.set(k, &k)?;
    }
    Ok("set")
}

/// Reads the user and carries on as a guest when the read fails: a handler that swallows a
/// store error.
async fn swallow(lazy: LazySession) -> Result<String, SessionRejection> {
    let session = lazy.get().await?;
    Ok(match session.get::<String>("user").await {
        Ok(Some(user)) => user,
        _ => "guest".to_owned(),
    })
}

async fn whoami(lazy: LazySession) -> Result<String, SessionRejection> {
    Ok(match lazy.existing().await? {
        Some(session) => session
            .subject()
            .await?
            .unwrap_or_else(|| "anonymous".into()),
        None => "nobody".into(),
    })
}

async fn peek(lazy: LazySession) -> Result<String, SessionRejection> {
    Ok(if lazy.existing().await?.is_some() {
        "yes"
    } else {
        "no"
    }
    .into())
}

async fn login(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    let session = lazy.get().await?;
    session.login("alice", serde_json::json!({})).await?;
    Ok("welcome")
}

async fn logout(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    if let Some(session) = lazy.existing().await? {
        session.destroy(false).await?;
    }
    Ok("bye")
}

async fn slow(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    let session = lazy.get().await?;
    session.preload(&[]).await?; // loads the session now
    // Long enough for a logout to land in the middle.
    tokio::time::sleep(Duration::from_millis(2)).await;
    session.set("late", &true)?;
    Ok("done")
}

async fn remember(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    let session = lazy.get().await?;
    session.set_idle_timeout(Duration::from_secs(120)).await?;
    session.set("remembered", &true)?;
    Ok("remembered")
}

/// The test app: `/health` never touches the session; `/slow` loads, waits, then writes; `/count` increments a counter; `/set3`
/// writes three keys; `/whoami` and `/peek` only read; `/login` logs in (rotating);
/// `/remember` gives the session an idle timeout of two minutes; `/logout` destroys.
pub fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/count", get(count))
        .route("/set3", get(set_three))
        .route("/whoami", get(whoami))
        .route("/swallow", get(swallow))
        .route("/peek", get(peek))
        .route("/slow", get(slow))
        .route("/login", post(login))
        .route("/remember", post(remember))
        .route("/logout", post(logout))
        .layer(layer)
}

/// The cookie for tests over plain HTTP: reqwest's cookie jar does not send `Secure` cookies
/// there.
pub fn dev_cookie() -> session_tower::CookieConfig {
    session_tower::CookieConfig::default().secure(false)
}

/// Serves `router` on a free loopback port and returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    format!("http://{addr}")
}

/// A client with a cookie jar, like a browser.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

/// A client without cookies, for hand-made Cookie headers.
pub fn bare() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A manager over a memory store with `config`.
pub fn memory_manager(config: session_core::Config) -> SessionManager {
    SessionManager::builder(session_store_memory::MemoryStore::new())
        .config(config)
        .build()
        .expect("manager")
}

/// A manager over a counting memory store.
pub fn counted_manager(config: session_core::Config) -> (SessionManager, Arc<Counts>) {
    let (store, counts) = CountingStore::new(session_store_memory::MemoryStore::new());
    let manager = SessionManager::builder(store)
        .config(config)
        .build()
        .expect("manager");
    (manager, counts)
}

/// The `Set-Cookie` headers of a response.
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The value of cookie `name` in a `Set-Cookie` header.
pub fn cookie_value(set_cookie: &str, name: &str) -> Option<String> {
    let first = set_cookie.split(';').next()?;
    let (n, v) = first.split_once('=')?;
    (n.trim() == name).then(|| v.to_owned())
}

/// `GET base+path` with the cookie `session=<value>`, from a client without a jar.
pub async fn get_with(base: &str, path: &str, value: &str) -> reqwest::Response {
    bare()
        .get(format!("{base}{path}"))
        .header("cookie", format!("session={value}"))
        .send()
        .await
        .expect("request")
}

/// `POST base+path` with the cookie `session=<value>`, from a client without a jar.
pub async fn post_with(base: &str, path: &str, value: &str) -> reqwest::Response {
    bare()
        .post(format!("{base}{path}"))
        .header("cookie", format!("session={value}"))
        .send()
        .await
        .expect("request")
}

/// The session cookie's value after a first visit to `/count` with no cookie.
pub async fn first_visit(base: &str) -> String {
    let response = bare()
        .get(format!("{base}/count"))
        .send()
        .await
        .expect("request");
    cookie_value(&set_cookies(&response)[0], "session").expect("a session cookie")
}
