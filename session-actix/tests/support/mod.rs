//! The suite's app (see `session_test_support::http_suite`) as actix-web handlers, served by a
//! real actix-web server on a free loopback port.

#![allow(dead_code)] // each test file uses part of it

use actix_web::{App, HttpServer, web};
use session_actix::{LazySession, SessionMiddleware, SessionRejection};
use session_test_support::http_suite::routes;

async fn count(lazy: LazySession) -> Result<String, SessionRejection> {
    Ok(routes::count(&lazy).await?)
}

async fn whoami(lazy: LazySession) -> Result<String, SessionRejection> {
    Ok(routes::whoami(&lazy).await?)
}

async fn peek(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    Ok(routes::peek(&lazy).await?)
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

async fn slow(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    Ok(routes::slow(&lazy).await?)
}

async fn login(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    Ok(routes::login(&lazy).await?)
}

async fn logout(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    Ok(routes::logout(&lazy).await?)
}

/// The suite's app (and `/swallow`).
fn suite_routes(config: &mut web::ServiceConfig) {
    config
        .route("/health", web::get().to(|| async { "ok" }))
        .route("/count", web::get().to(count))
        .route("/whoami", web::get().to(whoami))
        .route("/peek", web::get().to(peek))
        .route("/swallow", web::get().to(swallow))
        .route("/slow", web::get().to(slow))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout));
}

/// Serves the suite's app (and `/swallow`) under `middleware` on a real actix-web server (two
/// workers) on a free loopback port; answers its base URL.
pub fn serve(middleware: SessionMiddleware) -> String {
    serve_routes(middleware, suite_routes)
}

/// Serves the app `routes` configures under `middleware` on a real actix-web server (two
/// workers) on a free loopback port; answers its base URL.
pub fn serve_routes(middleware: SessionMiddleware, routes: fn(&mut web::ServiceConfig)) -> String {
    let server = HttpServer::new(move || App::new().wrap(middleware.clone()).configure(routes))
        .workers(2)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind");
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    format!("http://{addr}")
}
