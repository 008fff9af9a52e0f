//! What the demo's test files share: the demo served the way the binary serves it.

#![allow(dead_code)] // each test file uses part of it

use std::time::Duration;

use session_core::{Config, SessionManager};
use session_demo::{router, serve};
use session_tower::CookieConfig;

/// The demo over `manager`, served as the binary serves it (header deadline `header_timeout`,
/// plain-HTTP cookies) on a free loopback port; its base URL.
pub async fn serve_manager(manager: SessionManager, header_timeout: Duration) -> String {
    let app = router(manager.clone(), CookieConfig::default().secure(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve::serve(
        listener,
        app,
        manager,
        header_timeout,
        std::future::pending(),
    ));
    base
}

/// The demo on the store `url` names, with the default settings; its base URL.
pub async fn serve_url(url: &str) -> String {
    let manager = session_stores::connect(url)
        .await
        .unwrap_or_else(|e| panic!("the store: {e}"))
        .manager(Config::default())
        .unwrap();
    serve_manager(manager, serve::HEADER_READ_TIMEOUT).await
}
