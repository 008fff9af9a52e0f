//! The routes and their HTML, kept small.

use std::time::SystemTime;

use axum::Router;
use axum::extract::Form;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use session_core::{Session, SessionError, SessionId, SessionManager};
use session_tower::{CookieConfig, LazySession, SessionLayer, SessionRejection};

/// The session key holding the visit count.
const VISITS: &str = "visits";

/// The app, with its session layer.
pub fn router(manager: SessionManager, cookie: CookieConfig) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/sessions/end", post(end_one))
        .route("/sessions/end-others", post(end_others))
        .route("/live", get(crate::live::page))
        .route("/live/ws", get(crate::live::socket))
        .route("/health", get(|| async { "ok" }))
        .layer(SessionLayer::new(manager).cookie(cookie))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn ago(time: SystemTime) -> String {
    let secs = SystemTime::now()
        .duration_since(time)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{} ago",
        humantime::format_duration(std::time::Duration::from_secs(secs))
    )
}

async fn home(lazy: LazySession) -> Result<Html<String>, SessionRejection> {
    let session = lazy.get().await?;
    let mut visits: u64 = session.get(VISITS)?.unwrap_or(0);
    // A request still holding a token rotated out at login reads the page as it was; it counts
    // nothing (it can change nothing).
    if !session.is_rotated_out() {
        visits += 1;
        session.set(VISITS, &visits)?;
    }
    let mut page = format!(
        "<!doctype html><title>Session demo</title><h1>Session demo</h1>\
         <p id=\"visits\">Visits in this session: <b>{visits}</b></p>\
         <p><a href=/live>The live page</a>: every tab shares one live session.</p>"
    );
    match session.subject() {
        None => page.push_str(
            "<form method=post action=/login><label>Name <input name=name id=name required maxlength=64></label> \
             <button id=login>Log in</button></form>",
        ),
        Some(user) => {
            page.push_str(&format!("<p id=\"user\">Logged in as <b>{}</b></p>", escape(&user)));
            page.push_str("<form method=post action=/logout><button id=logout>Log out</button></form>");
            page.push_str(&sessions_table(lazy.manager(), &session, &user).await?);
        }
    }
    Ok(Html(page))
}

async fn sessions_table(
    manager: &SessionManager,
    current: &Session,
    user: &str,
) -> Result<String, SessionRejection> {
    let mut html = String::from(
        "<h2>Your sessions</h2><table id=sessions><tr><th>Device</th><th>Created</th><th>Last seen</th><th></th></tr>",
    );
    // Read-only copies of tokens rotated out at login are not sessions a person can use; "end
    // all other sessions" still ends them.
    for info in manager
        .sessions_of(user)
        .await?
        .into_iter()
        .filter(|info| !info.rotated_out)
    {
        let this = info.id == current.id();
        let action = if this {
            "<i>this session</i>".to_owned()
        } else {
            format!(
                "<form method=post action=/sessions/end><input type=hidden name=id value={}><button>End</button></form>",
                info.id.to_hex()
            )
        };
        html.push_str(&format!(
            "<tr class=session><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            escape(
                info.device
                    .as_deref()
                    .filter(|d| !d.is_empty())
                    .unwrap_or("unknown device")
            ),
            ago(info.created_at),
            ago(info.latest_visit),
        ));
    }
    html.push_str("</table><form method=post action=/sessions/end-others><button id=end-others>End all other sessions</button></form>");
    Ok(html)
}

#[derive(Deserialize)]
struct Login {
    name: String,
}

async fn login(lazy: LazySession, Form(form): Form<Login>) -> Result<Response, SessionRejection> {
    let name = form.name.trim();
    if name.is_empty() || name.len() > 64 {
        return Ok((
            axum::http::StatusCode::BAD_REQUEST,
            "a name of 1 to 64 bytes, please",
        )
            .into_response());
    }
    let session = lazy.get().await?;
    // One call: a new token bound to the user; the token from before login stays anonymous and
    // read-only for the rotation grace, then is gone.
    match session
        .login(name, serde_json::json!({ "name": name }))
        .await
    {
        // A second click of the form, racing the first: that one logged in, and its response
        // carries the new cookie.
        Ok(_) | Err(SessionError::RotatedOut) => Ok(Redirect::to("/").into_response()),
        Err(error) => Err(error.into()),
    }
}

async fn logout(lazy: LazySession) -> Result<Redirect, SessionRejection> {
    if let Some(session) = lazy.existing().await? {
        session.destroy(false).await?;
    }
    Ok(Redirect::to("/"))
}

#[derive(Deserialize)]
struct End {
    id: String,
}

async fn end_one(lazy: LazySession, Form(form): Form<End>) -> Result<Redirect, SessionRejection> {
    if let (Some(session), Ok(id)) = (lazy.existing().await?, SessionId::from_hex(&form.id))
        && let Some(user) = session.subject()
    {
        // Only one of the user's own sessions can be ended.
        lazy.manager().end_session_of(&user, &id).await?;
    }
    Ok(Redirect::to("/"))
}

async fn end_others(lazy: LazySession) -> Result<Redirect, SessionRejection> {
    if let Some(session) = lazy.existing().await?
        && let Some(user) = session.subject()
    {
        for info in lazy.manager().sessions_of(&user).await? {
            if info.id != session.id() {
                lazy.manager().end_session_of(&user, &info.id).await?;
            }
        }
    }
    Ok(Redirect::to("/"))
}
