//! The routes and their pages.

use axum::Router;
use axum::extract::{Form, Query};
use std::sync::Arc;

use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use session_core::{Session, SessionError, SessionId, SessionManager, Token};
use session_tower::{CookieConfig, LazySession, SessionLayer, SessionRejection};

use crate::html::{ago, device, escape, page};
use crate::metrics::DemoMetrics;

/// The session key holding the visit count.
const VISITS: &str = "visits";

/// The longest name, in UTF-16 code units: what the form's `maxlength` counts, so the browser and
/// the server agree on every name.
const MAX_NAME: usize = 64;

/// The app, with its session layer.
pub fn router(manager: SessionManager, cookie: CookieConfig) -> Router {
    app(manager, cookie, None)
}

/// The app, with `/metrics` showing `metrics` (give the same recorder to the manager,
/// [`ConnectedStore::manager_with_metrics`](session_stores::ConnectedStore::manager_with_metrics)).
/// The demo serves it beside its pages; a deployment serves it where only its monitoring
/// reaches.
pub fn router_with_metrics(
    manager: SessionManager,
    cookie: CookieConfig,
    metrics: Arc<DemoMetrics>,
) -> Router {
    app(manager, cookie, Some(metrics))
}

fn app(manager: SessionManager, cookie: CookieConfig, metrics: Option<Arc<DemoMetrics>>) -> Router {
    let mut router = Router::new();
    if let Some(metrics) = metrics {
        router = router.route(
            "/metrics",
            get(move || async move {
                (
                    [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                    metrics.render(),
                )
            }),
        );
    }
    router
        .route("/", get(home))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/sessions/end", post(end_one))
        .route("/sessions/end-others", post(end_others))
        .route("/live", get(crate::live::page))
        .route("/live/ws", get(crate::live::socket))
        .route("/health", get(health))
        .layer(SessionLayer::new(manager).cookie(cookie))
}

/// `GET /health`: `ok` when the store answers, `503` when it does not.
async fn health(lazy: LazySession) -> Response {
    // An unknown token: a real round trip to the store, and no session touched.
    let probe = match Token::generate() {
        Ok(token) => token,
        Err(_) => return (StatusCode::SERVICE_UNAVAILABLE, "no randomness").into_response(),
    };
    match lazy.manager().load(probe.as_str()).await {
        Ok(_) => "ok".into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "session store unavailable").into_response(),
    }
}

#[derive(Deserialize)]
struct Notice {
    notice: Option<String>,
}

fn notice_html(notice: Option<&str>, signed_out: bool) -> String {
    let (class, text) = match notice {
        Some("ended") => ("notice", "That session has been ended."),
        Some("ended-others") => ("notice", "All your other sessions have been ended."),
        Some("logged-out") => ("notice", "You are logged out."),
        _ if signed_out => (
            "notice warn",
            "Your session has ended: it expired, or it was ended from another device.",
        ),
        _ => return String::new(),
    };
    format!("<p class=\"{class}\" id=notice>{text}</p>")
}

async fn home(
    lazy: LazySession,
    Query(query): Query<Notice>,
) -> Result<Html<String>, SessionRejection> {
    let signed_out = lazy.had_token() && lazy.existing().await?.is_none();
    let session = lazy.get().await?;
    // Counted by the store, atomically: concurrent requests of one browser lose no visit.
    let visits: i64 = match session.incr(VISITS, 1).await {
        Ok(visits) => visits,
        // A request still holding a token rotated out at login reads the page as it was; it
        // counts nothing (it can change nothing).
        Err(SessionError::RotatedOut) => session.get(VISITS).await?.unwrap_or(0),
        Err(error) => return Err(error.into()),
    };
    let mut body = notice_html(query.notice.as_deref(), signed_out);
    body.push_str(&format!(
        "<div class=card><p id=\"visits\">Visits in this session: <b>{visits}</b></p>\
         <p><a href=/live>The live page</a>: every tab of this browser shares one live session.</p></div>"
    ));
    match session.subject().await? {
        None => body.push_str(&format!(
            "<div class=card><form method=post action=/login>\
             <label>Name <input name=name id=name required maxlength={MAX_NAME} autocomplete=username></label> \
             <button id=login>Log in</button></form></div>"
        )),
        Some(user) => {
            body.push_str(&format!(
                "<div class=\"card row\"><p id=\"user\">Logged in as <b>{}</b></p>\
                 <form method=post action=/logout><button class=quiet id=logout>Log out</button></form></div>",
                escape(&user)
            ));
            body.push_str(&sessions_table(lazy.manager(), &session, &user).await?);
        }
    }
    Ok(Html(page("Session demo", &body)))
}

async fn sessions_table(
    manager: &SessionManager,
    current: &Session,
    user: &str,
) -> Result<String, SessionRejection> {
    let mut html = String::from(
        "<h2>Your sessions</h2><div class=card><table id=sessions>\
         <tr><th>Device</th><th>Started</th><th>Last seen</th><th></th></tr>",
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
            "<span class=tag>this session</span>".to_owned()
        } else {
            format!(
                "<form method=post action=/sessions/end><input type=hidden name=id value={}>\
                 <button class=quiet>End</button></form>",
                info.id.to_hex()
            )
        };
        html.push_str(&format!(
            "<tr class=\"session{}\"><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            if this { " current" } else { "" },
            escape(&device(info.device.as_deref())),
            ago(info.created_at),
            ago(info.latest_visit),
        ));
    }
    html.push_str(
        "</table><div class=actions><form method=post action=/sessions/end-others>\
         <button class=quiet id=end-others>End all other sessions</button></form></div></div>",
    );
    Ok(html)
}

#[derive(Deserialize)]
struct Login {
    name: String,
}

async fn login(lazy: LazySession, Form(form): Form<Login>) -> Result<Response, SessionRejection> {
    let name = form.name.trim();
    // The form decoder replaces bytes that are not UTF-8 (`%FF%FE%80`) with U+FFFD: such a name
    // was not what anyone typed, and is refused rather than logged in as "���". Control
    // characters are refused with it (the core refuses a NUL in a subject too).
    let garbled = name
        .chars()
        .any(|c| c == char::REPLACEMENT_CHARACTER || c.is_control());
    if name.is_empty() || name.encode_utf16().count() > MAX_NAME || garbled {
        let body = format!(
            "<p class=\"notice warn\">A name of 1 to {MAX_NAME} printable characters, in UTF-8, please.</p><p><a href=/>Back</a></p>"
        );
        return Ok((StatusCode::BAD_REQUEST, Html(page("Log in", &body))).into_response());
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
    Ok(Redirect::to("/?notice=logged-out"))
}

#[derive(Deserialize)]
struct End {
    id: String,
}

async fn end_one(lazy: LazySession, Form(form): Form<End>) -> Result<Redirect, SessionRejection> {
    if let (Some(session), Ok(id)) = (lazy.existing().await?, SessionId::from_hex(&form.id))
        && let Some(user) = session.subject().await?
    {
        // Only one of the user's own sessions can be ended.
        lazy.manager().end_session_of(&user, &id).await?;
    }
    Ok(Redirect::to("/?notice=ended"))
}

async fn end_others(lazy: LazySession) -> Result<Redirect, SessionRejection> {
    if let Some(session) = lazy.existing().await?
        && let Some(user) = session.subject().await?
    {
        for info in lazy.manager().sessions_of(&user).await? {
            if info.id != session.id() {
                lazy.manager().end_session_of(&user, &info.id).await?;
            }
        }
    }
    Ok(Redirect::to("/?notice=ended-others"))
}
