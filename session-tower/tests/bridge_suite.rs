//! The behaviour every framework bridge keeps (`session_test_support::http_suite`), under the
//! tower layer in an axum app, on every backend by its URL.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use session_test_support::http_suite::{self, MakeManager, Serve};
use session_test_support::{BackendUrl, on_every_backend};
use session_tower::{HttpSessions, LazySession, SessionLayer, SessionRejection};

async fn count(lazy: LazySession) -> Result<String, SessionRejection> {
    Ok(lazy.get().await?.incr("n", 1).await?.to_string())
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

async fn peek(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    Ok(if lazy.existing().await?.is_some() {
        "yes"
    } else {
        "no"
    })
}

async fn slow(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    let session = lazy.get().await?;
    session.preload(&[]).await?;
    tokio::time::sleep(Duration::from_millis(2)).await;
    session.set("late", &true)?;
    Ok("done")
}

async fn login(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    lazy.get()
        .await?
        .login("alice", serde_json::json!({}))
        .await?;
    Ok("welcome")
}

async fn logout(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    if let Some(session) = lazy.existing().await? {
        session.destroy(false).await?;
    }
    Ok("bye")
}

fn app(sessions: HttpSessions) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/count", get(count))
        .route("/whoami", get(whoami))
        .route("/peek", get(peek))
        .route("/slow", get(slow))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .layer(SessionLayer::from_sessions(sessions))
}

async fn serve(sessions: HttpSessions) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app(sessions)).await.expect("serve") });
    format!("http://{addr}")
}

async fn the_bridge_suite(name: &'static str, url: BackendUrl) {
    let connected = session_stores::connect(&url.url)
        .await
        .unwrap_or_else(|e| panic!("{name} at {}: {e}", url.url));
    let make: MakeManager = Arc::new(move |config| connected.manager(config).expect("manager"));
    let serve: Serve = Arc::new(|sessions| Box::pin(serve(sessions)));
    http_suite::run(serve, make).await;
}

on_every_backend!(the_bridge_suite, "tower_suite");
