//! An actix-web app on our sessions, over any store by URL:
//!
//! ```text
//! cargo run -p session-actix --example actix_app -- redis://127.0.0.1:6379
//! ```
//!
//! `GET /` counts visits (an atomic counter in the store), `POST /login` with `user` and
//! `password` form fields signs in (one call: the token is rotated), `GET /me` is a protected
//! page, `GET /sessions` lists the user's sessions, `POST /logout` ends the session. The cookie is
//! `Secure` unless `--insecure-cookie` is given (for plain-HTTP development).

use actix_web::{App, HttpResponse, HttpServer, web};
use session_actix::{CookieConfig, HttpSessions, LazySession, SessionMiddleware, SessionRejection};
use session_core::{Config, SessionManager};

/// The one user of the example, with its password.
pub const USER: (&str, &str) = ("alice", "correct horse");

async fn home(session: LazySession) -> Result<String, SessionRejection> {
    let visits = session.get().await?.incr("visits", 1).await?;
    Ok(format!("visit number {visits}"))
}

/// The login form's fields.
#[derive(serde::Deserialize)]
pub struct Credentials {
    user: String,
    password: String,
}

async fn login(
    session: LazySession,
    form: web::Form<Credentials>,
) -> Result<HttpResponse, SessionRejection> {
    // A real app checks a password hash, in constant time.
    if (form.user.as_str(), form.password.as_str()) != USER {
        return Ok(HttpResponse::Unauthorized().body("wrong user or password"));
    }
    let session = session.get().await?;
    session
        .login(&form.user, serde_json::json!({ "via": "password" }))
        .await?;
    Ok(HttpResponse::Ok().body(format!("welcome, {}", form.user)))
}

async fn me(session: LazySession) -> Result<HttpResponse, SessionRejection> {
    let user = match session.existing().await? {
        Some(session) => session.subject().await?,
        None => None,
    };
    Ok(match user {
        Some(user) => HttpResponse::Ok().body(format!("signed in as {user}")),
        None => HttpResponse::Unauthorized().body("sign in first"),
    })
}

async fn sessions(session: LazySession) -> Result<HttpResponse, SessionRejection> {
    let Some(current) = session.existing().await? else {
        return Ok(HttpResponse::Unauthorized().body("sign in first"));
    };
    let Some(user) = current.subject().await? else {
        return Ok(HttpResponse::Unauthorized().body("sign in first"));
    };
    let list = session.manager().sessions_of(&user).await?;
    Ok(HttpResponse::Ok().body(format!("{} session(s)", list.len())))
}

async fn logout(session: LazySession) -> Result<&'static str, SessionRejection> {
    if let Some(session) = session.existing().await? {
        session.destroy(false).await?;
    }
    Ok("signed out")
}

/// The app's routes, for `App::configure`.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(home))
        .route("/login", web::post().to(login))
        .route("/me", web::get().to(me))
        .route("/sessions", web::get().to(sessions))
        .route("/logout", web::post().to(logout));
}

/// The sessions of the app over `manager`.
pub fn sessions_over(manager: SessionManager, secure_cookie: bool) -> HttpSessions {
    HttpSessions::new(manager).cookie(CookieConfig::default().secure(secure_cookie))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "memory://".to_owned());
    let secure = !args.any(|a| a == "--insecure-cookie");
    let store = session_stores::connect(&url).await?;
    let manager = store.manager(Config::default())?;
    println!(
        "actix-web on {} at http://127.0.0.1:8080",
        store.backend_name()
    );
    let sessions = sessions_over(manager, secure);
    HttpServer::new(move || {
        App::new()
            .wrap(SessionMiddleware::from_sessions(sessions.clone()))
            .configure(routes)
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await?;
    Ok(())
}
