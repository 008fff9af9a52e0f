//! The live page: every tab of one browser joins the same live session over a WebSocket (resumed
//! by its cookie) and sees a shared value change as any tab changes it. The value persists on the
//! manager's interval and when a tab disconnects, so it survives a restart on a persistent store.

use tokio::sync::Mutex;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use session_core::Session;
use session_tower::{LazySession, SessionRejection};
use tokio::sync::broadcast;

/// The session key holding the shared value.
const SHARED: &str = "shared";

/// What the tabs of one live session share in memory: the channel that tells every tab of a
/// change, and a lock so two tabs' changes never interleave.
struct Channel {
    changes: broadcast::Sender<i64>,
    update: Mutex<()>,
}

fn channel(session: &Session) -> Option<std::sync::Arc<Channel>> {
    session.local_or_insert_with("live-channel", || Channel {
        changes: broadcast::channel(64).0,
        update: Mutex::new(()),
    })
}

async fn value(session: &Session) -> i64 {
    session.get(SHARED).await.ok().flatten().unwrap_or(0)
}

/// `GET /live`: the page (and the session's cookie, so the socket can present it).
pub(crate) async fn page(lazy: LazySession) -> Result<Html<String>, SessionRejection> {
    let session = lazy.get().await?;
    session.preload(&[SHARED]).await?;
    if session.is_new() {
        // Stored now, so the browser gets its cookie before the socket opens.
        session.set("live", &true)?;
    }
    let body = format!(
        "<div class=card><p>Open this page in another tab: every tab shares one live session, and \
         sees a change as soon as another tab makes it.</p>\
         <p id=shared-line>Shared value: <b id=shared>{}</b></p>\
         <p><button id=inc>+1</button> <span id=status>connecting</span></p>\
         <p><a href=/>Back to the demo</a></p></div>\
         <script>\
         const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live/ws');\
         ws.onopen = () => document.getElementById('status').textContent = 'live';\
         ws.onclose = () => document.getElementById('status').textContent = 'disconnected';\
         ws.onmessage = e => document.getElementById('shared').textContent = e.data;\
         document.getElementById('inc').onclick = () => ws.send('inc');\
         </script>",
        value(&session).await
    );
    Ok(Html(crate::html::page("Live session", &body)))
}

/// `GET /live/ws`: the tab's connection, resumed into the browser's live session.
pub(crate) async fn socket(lazy: LazySession, upgrade: WebSocketUpgrade) -> Response {
    match lazy.resume().await {
        Ok(Some(session)) if !session.is_rotated_out() => {
            upgrade.on_upgrade(move |socket| connected(session, socket))
        }
        Ok(_) => (StatusCode::UNAUTHORIZED, "no session: open /live first").into_response(),
        Err(error) => SessionRejection(error).into_response(),
    }
}

async fn connected(session: Session, socket: WebSocket) {
    let Some(channel) = channel(&session) else {
        return;
    };
    let mut changes = channel.changes.subscribe();
    let (mut to_tab, mut from_tab) = socket.split();
    if to_tab
        .send(Message::Text(value(&session).await.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            message = from_tab.next() => match message {
                Some(Ok(Message::Text(text))) if text.as_str() == "inc" => {
                    let next = {
                        let _one_at_a_time = channel.update.lock().await;
                        let next = value(&session).await + 1;
                        if session.set(SHARED, &next).is_err() {
                            break;
                        }
                        next
                    };
                    let _ = channel.changes.send(next);
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            changed = changes.recv() => match changed {
                Ok(next) => {
                    if to_tab.send(Message::Text(next.to_string().into())).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let now = value(&session).await.to_string();
                    if to_tab.send(Message::Text(now.into())).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    // A tab closed: "disconnect" persists (the hook, then the changed keys).
    if let Err(error) = session.notify("disconnect").await {
        eprintln!("persisting a live session on disconnect failed: {error}");
    }
}
