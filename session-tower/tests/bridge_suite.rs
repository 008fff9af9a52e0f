//! The behaviour every framework bridge keeps (`session_test_support::http_suite`), under the
//! tower layer in an axum app, on every backend by its URL.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use session_test_support::http_suite::{self, MakeManager, Serve, routes};
use session_test_support::{BackendUrl, on_every_backend};
use session_tower::{HttpSessions, LazySession, SessionLayer, SessionRejection};

async fn count(lazy: LazySession) -> Result<String, SessionRejection> {
    Ok(routes::count(&lazy).await?)
}

async fn whoami(lazy: LazySession) -> Result<String, SessionRejection> {
    Ok(routes::whoami(&lazy).await?)
}

async fn peek(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    Ok(routes::peek(&lazy).await?)
}

async fn slow(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    Ok(routes::slow(&lazy).await?)
}

async fn login(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    Ok(routes::login(&lazy).await?)
}

async fn logout(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    Ok(routes::logout(&lazy).await?)
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
