//! The behaviour every framework bridge keeps (`session_test_support::http_suite`, the same
//! checks the tower layer passes), under the actix-web middleware on a real actix-web server,
//! on every backend by its URL.

mod support;

use std::sync::Arc;

use session_test_support::http_suite::{self, MakeManager, Serve};
use session_test_support::{BackendUrl, on_every_backend};

async fn the_bridge_suite(name: &'static str, url: BackendUrl) {
    let connected = session_stores::connect(&url.url)
        .await
        .unwrap_or_else(|e| panic!("{name} at {}: {e}", url.url));
    let make: MakeManager = Arc::new(move |config| connected.manager(config).expect("manager"));
    let serve: Serve = Arc::new(|sessions| {
        Box::pin(async move {
            support::serve(session_actix::SessionMiddleware::from_sessions(sessions))
        })
    });
    http_suite::run(serve, make).await;
}

on_every_backend!(the_bridge_suite, "actix_suite");
