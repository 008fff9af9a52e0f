//! The axum-login example app (`examples/axum_login.rs`, unchanged) over real HTTP on every
//! backend: log in, a protected route, log out, the id cycled at login, and the attacker's
//! checks (a planted id, a replayed cookie after login and after logout, a logout racing a slow
//! request, junk cookies, a password change). The last two also run on tower-sessions' own
//! store, which fails them.

mod support;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/axum_login.rs"]
mod example;

use std::time::Duration;

use reqwest::StatusCode;
use session_tower_sessions::{TowerSessionsStore, store_id};
use support::Backend;
use tower_sessions::session::Id;
use tower_sessions::{MemoryStore, SessionStore};

/// The app served on a free loopback port.
struct Server {
    base: String,
    users: example::Users,
    http: reqwest::Client,
}

struct Reply {
    status: StatusCode,
    body: String,
    /// The session cookie's new value, if the reply set one (`Some("")`: removed).
    cookie: Option<String>,
}

impl Server {
    async fn start<S: SessionStore + Clone>(store: S) -> Self {
        let users = example::Users::example();
        let app = example::app(store, users.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { base, users, http }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(cookie) = cookie {
            // From bytes: junk cookies may hold bytes a browser would not send, but a client can.
            let value = reqwest::header::HeaderValue::from_bytes(format!("id={cookie}").as_bytes())
                .unwrap();
            request = request.header("cookie", value);
        }
        if !form.is_empty() {
            request = request.form(form);
        }
        let response = request.send().await.unwrap();
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("id="))
            .map(|v| v.split(';').next().unwrap_or("").to_owned());
        let status = response.status();
        Reply {
            status,
            body: response.text().await.unwrap(),
            cookie,
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        self.send("GET", path, cookie, &[]).await
    }

    async fn login(&self, cookie: Option<&str>, password: &str) -> Reply {
        self.send(
            "POST",
            "/login",
            cookie,
            &[("name", "alice"), ("password", password)],
        )
        .await
    }
}

/// The stored session of a cookie's id, if any, straight from our store.
async fn stored(backend: &Backend, cookie: &str) -> Option<session_core::Map> {
    let id: Id = cookie.parse().expect("a tower-sessions id");
    backend.store.get_all(&store_id(&id), None).await.unwrap()
}

async fn login_protected_route_logout(backend: Backend) {
    let name = backend.name;
    let server = Server::start(TowerSessionsStore::new(backend.store.clone())).await;
    assert_eq!(
        server.get("/protected", None).await.status,
        StatusCode::UNAUTHORIZED,
        "{name}"
    );

    // An anonymous visitor has a session before logging in.
    let visit = server.get("/visit", None).await;
    assert_eq!(visit.body, "1", "{name}");
    let before = visit.cookie.expect("a session cookie");
    assert_eq!(
        server.get("/visit", Some(&before)).await.body,
        "2",
        "{name}"
    );

    assert_eq!(
        server.login(Some(&before), "wrong").await.status,
        StatusCode::UNAUTHORIZED,
        "{name}"
    );
    let login = server.login(Some(&before), "correct horse").await;
    assert_eq!(
        (login.status, login.body.as_str()),
        (StatusCode::OK, "welcome alice"),
        "{name}"
    );
    let after = login.cookie.expect("login sets the cycled id");
    assert_ne!(after, before, "{name}: the id was not cycled at login");

    let page = server.get("/protected", Some(&after)).await;
    assert_eq!(
        (page.status, page.body.as_str()),
        (StatusCode::OK, "secret for alice"),
        "{name}"
    );
    assert_eq!(
        server.get("/visit", Some(&after)).await.body,
        "3",
        "{name}: the data moved with the id"
    );

    // The pre-login id is worth nothing now.
    assert_eq!(
        server.get("/protected", Some(&before)).await.status,
        StatusCode::UNAUTHORIZED,
        "{name}"
    );
    assert_eq!(
        server.get("/me", Some(&before)).await.body,
        "anonymous",
        "{name}"
    );
    assert_eq!(stored(&backend, &before).await, None, "{name}");

    let logout = server.send("POST", "/logout", Some(&after), &[]).await;
    assert_eq!(logout.status, StatusCode::OK, "{name}");
    assert_eq!(
        logout.cookie.as_deref(),
        Some(""),
        "{name}: the cookie is removed"
    );
    // Replayed after logout: nothing.
    assert_eq!(
        server.get("/protected", Some(&after)).await.status,
        StatusCode::UNAUTHORIZED,
        "{name}"
    );
    assert_eq!(
        server.get("/me", Some(&after)).await.body,
        "anonymous",
        "{name}"
    );
    assert_eq!(
        stored(&backend, &after).await,
        None,
        "{name}: the logged-out session is still stored"
    );
}
on_every_backend!(login_protected_route_logout);

async fn planted_ids_are_never_adopted(backend: Backend) {
    let name = backend.name;
    let server = Server::start(TowerSessionsStore::new(backend.store.clone())).await;

    // An id of the attacker's choosing, well formed but never issued.
    let chosen = Id::default().to_string();
    let visit = server.get("/visit", Some(&chosen)).await;
    let issued = visit.cookie.expect("a new session");
    assert_ne!(issued, chosen, "{name}: a client-chosen id was adopted");
    let login = server.login(Some(&chosen), "correct horse").await;
    assert_ne!(login.cookie.as_deref(), Some(chosen.as_str()), "{name}");
    assert_eq!(
        server.get("/protected", Some(&chosen)).await.status,
        StatusCode::UNAUTHORIZED,
        "{name}"
    );

    // A real anonymous session of the attacker's, planted in the victim's browser.
    let planted = server.get("/visit", None).await.cookie.unwrap();
    let victim = server
        .login(Some(&planted), "correct horse")
        .await
        .cookie
        .unwrap();
    assert_ne!(victim, planted, "{name}");
    assert_eq!(
        server.get("/protected", Some(&victim)).await.status,
        StatusCode::OK,
        "{name}"
    );
    assert_eq!(
        server.get("/protected", Some(&planted)).await.status,
        StatusCode::UNAUTHORIZED,
        "{name}"
    );
    assert_eq!(
        server.get("/me", Some(&planted)).await.body,
        "anonymous",
        "{name}"
    );

    // Junk where the id goes: no session, never a server error.
    for junk in [
        "%%%",
        "",
        "AAAA",
        &"A".repeat(5000),
        "aGVsbG8=\u{e9}\u{fffd}",
        &format!("{victim}x"),
    ] {
        let reply = server.get("/me", Some(junk)).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (StatusCode::OK, "anonymous"),
            "{name}: {junk:?}"
        );
    }
    assert_eq!(
        server.get("/me", Some(&victim)).await.body,
        "alice",
        "{name}: the real session stands"
    );
}
on_every_backend!(planted_ids_are_never_adopted);

async fn a_password_change_ends_the_users_sessions(backend: Backend) {
    let name = backend.name;
    let server = Server::start(TowerSessionsStore::new(backend.store.clone())).await;
    let one = server.login(None, "correct horse").await.cookie.unwrap();
    let two = server.login(None, "correct horse").await.cookie.unwrap();
    server.users.set_password(1, "alice", "battery staple");
    for cookie in [&one, &two] {
        assert_eq!(
            server.get("/protected", Some(cookie)).await.status,
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
        assert_eq!(
            stored(&backend, cookie).await,
            None,
            "{name}: axum-login's flush reached the store"
        );
    }
    assert_eq!(
        server.login(None, "battery staple").await.status,
        StatusCode::OK,
        "{name}"
    );
}
on_every_backend!(a_password_change_ends_the_users_sessions);

/// A slow request of the browser loaded the session before a logout and saves after it; and
/// eight requests at once each set a key of their own. What is left afterwards?
async fn logout_racing_a_slow_request<S: SessionStore + Clone>(
    store: S,
) -> (StatusCode, StatusCode, usize) {
    let server = std::sync::Arc::new(Server::start(store).await);
    let cookie = server.login(None, "correct horse").await.cookie.unwrap();
    let slow = {
        let (server, cookie) = (server.clone(), cookie.clone());
        tokio::spawn(async move {
            server
                .send("POST", "/keys/late/yes?ms=300", Some(&cookie), &[])
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        server
            .send("POST", "/logout", Some(&cookie), &[])
            .await
            .status,
        StatusCode::OK
    );
    let slow = slow.await.unwrap();
    let replay = server.get("/protected", Some(&cookie)).await.status;

    let cookie = server.login(None, "correct horse").await.cookie.unwrap();
    // Every key exists first, as a cart's lines would.
    for i in 0..8 {
        server
            .send("POST", &format!("/keys/k{i}/old"), Some(&cookie), &[])
            .await;
    }
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (server, cookie) = (server.clone(), cookie.clone());
        requests.spawn(async move {
            server
                .send(
                    "POST",
                    &format!("/keys/k{i}/new?ms=100"),
                    Some(&cookie),
                    &[],
                )
                .await
                .status
        });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    let mut kept = 0;
    for i in 0..8 {
        if server.get(&format!("/keys/k{i}"), Some(&cookie)).await.body == "new" {
            kept += 1;
        }
    }
    (slow.status, replay, kept)
}

async fn races_of_one_browser_lose_nothing_and_revive_nothing(backend: Backend) {
    let name = backend.name;
    let (slow, replay, kept) =
        logout_racing_a_slow_request(TowerSessionsStore::new(backend.store.clone())).await;
    assert_eq!(
        slow,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{name}: the late save was not refused"
    );
    assert_eq!(
        replay,
        StatusCode::UNAUTHORIZED,
        "{name}: the logged-out session came back"
    );
    assert_eq!(kept, 8, "{name}: concurrent requests lost keys");
}
on_every_backend!(races_of_one_browser_lose_nothing_and_revive_nothing);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tower_sessions_own_store_revives_and_loses() {
    let (slow, replay, kept) = logout_racing_a_slow_request(MemoryStore::default()).await;
    assert_eq!(slow, StatusCode::OK);
    assert_eq!(
        replay,
        StatusCode::OK,
        "tower-sessions' MemoryStore did not revive the session"
    );
    assert!(
        kept < 8,
        "tower-sessions' MemoryStore lost no key: the comparison means nothing"
    );
}
