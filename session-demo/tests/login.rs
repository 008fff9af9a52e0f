//! Login fixation through the demo's router, over real HTTP, on every store: a cookie from before
//! login is anonymous right after login, logging in with it never yields a session bound to the
//! victim, and the victim's "end all other sessions" plus logout leave no token that loads as the
//! victim.

mod support;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use session_core::{Config, SessionManager};

/// The demo over `manager`; its base URL.
async fn serve(manager: SessionManager) -> String {
    support::serve_manager(manager, session_demo::serve::HEADER_READ_TIMEOUT).await
}

/// A client that keeps no cookies and follows no redirects: each request says which cookie it
/// carries, as an attacker's would.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The session cookie a response sets, if any (`None` also for a removal).
fn set_session(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("session="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .find(|v| !v.is_empty())
}

struct Visit {
    status: StatusCode,
    body: String,
    cookie: Option<String>,
}

async fn request(
    base: &str,
    method: &str,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> Visit {
    let url = format!("{base}{path}");
    let http = client();
    let builder = match method {
        "GET" => http.get(url),
        _ => http.post(url).form(form),
    };
    let builder = match cookie {
        "" => builder,
        token => builder.header(COOKIE, format!("session={token}")),
    };
    let response = builder.send().await.unwrap();
    let cookie = set_session(&response);
    let status = response.status();
    let body = response.text().await.unwrap();
    Visit {
        status,
        body,
        cookie,
    }
}

async fn fixation_through_the_demo(manager: SessionManager, label: &str) {
    let base = serve(manager.clone()).await;
    // The attacker gets a session of the demo's and plants its cookie in the victim's browser.
    let first = request(&base, "GET", "/", "", &[]).await;
    let planted = first.cookie.expect("the first visit sets a cookie");

    // The victim logs in with the planted cookie.
    let login = request(&base, "POST", "/login", &planted, &[("name", "victim")]).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{label}");
    let victim = login.cookie.expect("login sets a new cookie");
    assert_ne!(victim, planted, "{label}: login must issue a new token");

    // Right after login, the planted cookie is anonymous.
    let page = request(&base, "GET", "/", &planted, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{label}: {}", page.body);
    assert!(!page.body.contains("victim"), "{label}: {}", page.body);
    assert!(
        page.body.contains("id=login"),
        "{label}: the login form is shown"
    );

    // Logging in with it (as anyone) is refused: no new session, no new cookie.
    let mut attacker_tokens = vec![planted.clone()];
    for name in ["victim", "mallory"] {
        let attempt = request(&base, "POST", "/login", &planted, &[("name", name)]).await;
        assert!(attempt.status.is_redirection(), "{label}: {}", attempt.body);
        assert_eq!(
            attempt.cookie, None,
            "{label}: a login through the old token"
        );
        attacker_tokens.extend(attempt.cookie);
    }
    for token in &attacker_tokens {
        assert!(
            subject_of(&manager, token).await.is_none(),
            "{label}: an attacker's token loads as a user"
        );
    }
    let page = request(&base, "GET", "/", &victim, &[]).await;
    assert!(
        page.body.contains("Logged in as <b>victim</b>"),
        "{label}: {}",
        page.body
    );
    assert_eq!(
        page.body.matches("<tr class=\"session").count(),
        1,
        "{label}: the victim has exactly one session: {}",
        page.body
    );

    // The victim ends all other sessions and logs out: nothing loads as the victim any more.
    let ended = request(&base, "POST", "/sessions/end-others", &victim, &[]).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER, "{label}");
    let logout = request(&base, "POST", "/logout", &victim, &[]).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER, "{label}");
    assert!(logout.cookie.is_none(), "{label}: logout clears the cookie");
    for token in attacker_tokens.iter().chain([&victim]) {
        assert!(
            subject_of(&manager, token).await.as_deref() != Some("victim"),
            "{label}: a token still loads as the victim after logout"
        );
    }
    assert!(
        manager.sessions_of("victim").await.unwrap().is_empty(),
        "{label}"
    );
    let home = request(&base, "GET", "/", &victim, &[]).await;
    assert_eq!(home.status, StatusCode::OK, "{label}");
    assert!(!home.body.contains("victim"), "{label}");
}

/// A rotation grace longer than the test, so the planted token is inside it throughout.
fn config() -> Config {
    Config::builder()
        .rotation_grace(std::time::Duration::from_secs(120))
        .build()
        .unwrap()
}

/// One test per backend.
macro_rules! on_every_backend {
    ($($name:ident: $backend:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (manager, _dir) =
                    support::manager_on(support::Backend::$backend, "login", config()).await;
                fixation_through_the_demo(manager, stringify!($backend)).await;
            }
        )*
    };
}

on_every_backend!(
    fixation_memory: Memory,
    fixation_sqlite: Sqlite,
    fixation_redis: Redis,
    fixation_postgres: Postgres,
    fixation_mysql: MySql,
);

/// The subject the session of `token` is bound to, if it loads.
async fn subject_of(manager: &session_core::SessionManager, token: &str) -> Option<String> {
    match manager.load(token).await.unwrap() {
        Some(session) => session.subject().await.unwrap(),
        None => None,
    }
}
