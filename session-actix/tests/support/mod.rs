//! The suite's app (see `session_test_support::http_suite`) as actix-web handlers, served by a
//! real actix-web server on a free loopback port.

#![allow(dead_code)] // each test file uses part of it

use std::time::Duration;

use actix_web::{App, HttpServer, web};
use session_actix::{LazySession, SessionMiddleware, SessionRejection};

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

/// Serves the suite's app (and `/swallow`) under `middleware` on a real actix-web server (two
/// workers) on a free loopback port; answers its base URL.
pub fn serve(middleware: SessionMiddleware) -> String {
    let server = HttpServer::new(move || {
        App::new()
            .wrap(middleware.clone())
            .route("/health", web::get().to(|| async { "ok" }))
            .route("/count", web::get().to(count))
            .route("/whoami", web::get().to(whoami))
            .route("/peek", web::get().to(peek))
            .route("/swallow", web::get().to(swallow))
            .route("/slow", web::get().to(slow))
            .route("/login", web::post().to(login))
            .route("/logout", web::post().to(logout))
    })
    .workers(2)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("bind");
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    format!("http://{addr}")
}
