//! One busy browser through the demo, over real HTTP, on every store: bursts of 16 concurrent
//! requests (a page loading its assets and API calls) around a renewal, a login and a logout.
//! Every response must be right: no 5xx, nobody logged out of a live session, no visit counter
//! read as missing, exactly one new token per renewal, and after the logout nothing of the
//! user is left.

mod support;

use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use session_core::{Config, SessionManager};

const BURST: usize = 16;
const RENEW_AFTER: Duration = Duration::from_millis(400);

/// What one response said.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    /// The session cookie it set (`Some("")` for a removal).
    cookie: Option<String>,
    body: String,
}

impl Answer {
    fn visits(&self) -> Option<u64> {
        let (_, rest) = self.body.split_once("Visits in this session: <b>")?;
        rest.split('<').next()?.parse().ok()
    }
}

async fn send(client: &reqwest::Client, base: &str, path: &str, cookie: &str) -> Answer {
    let builder = if path == "/" {
        client.get(format!("{base}/"))
    } else if path == "/login" {
        client
            .post(format!("{base}/login"))
            .form(&[("name", "ada")])
    } else {
        client.post(format!("{base}{path}"))
    };
    let response = builder
        .header(COOKIE, format!("session={cookie}"))
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("session="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .next();
    Answer {
        status: response.status(),
        cookie,
        body: response.text().await.unwrap(),
    }
}

/// Sends a burst: `special` (a path) at position `at`, page loads elsewhere, all with `cookie`.
async fn burst(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    special: Option<(&str, usize)>,
) -> Vec<(String, Answer)> {
    let paths: Vec<String> = (0..BURST)
        .map(|i| match special {
            Some((path, at)) if at == i => path.to_owned(),
            _ => "/".to_owned(),
        })
        .collect();
    let answers = join_all(paths.iter().map(|path| send(client, base, path, cookie))).await;
    paths.into_iter().zip(answers).collect()
}

async fn busy_browser(manager: SessionManager, label: &str) {
    let base =
        support::serve_manager(manager.clone(), session_demo::serve::HEADER_READ_TIMEOUT).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let first = send(&client, &base, "/", "").await;
    let mut cookie = first.cookie.clone().expect("the first visit sets a cookie");

    for round in 0..3 {
        // Renewal: the session is due when the burst arrives.
        tokio::time::sleep(RENEW_AFTER + Duration::from_millis(50)).await;
        let answers = burst(&client, &base, &cookie, None).await;
        let mut issued: Vec<&str> = Vec::new();
        for (_, answer) in &answers {
            let context = format!("{label}, renewal round {round}: {answer:?}");
            assert_eq!(answer.status, StatusCode::OK, "{context}");
            assert!(answer.visits().is_some_and(|v| v > 0), "{context}");
            assert_ne!(answer.cookie.as_deref(), Some(""), "logged out: {context}");
            issued.extend(answer.cookie.as_deref());
        }
        issued.sort_unstable();
        issued.dedup();
        assert_eq!(
            issued.len(),
            1,
            "{label}: one new token per renewal: {issued:?}"
        );
        let mut visits: Vec<u64> = answers.iter().filter_map(|(_, a)| a.visits()).collect();
        visits.sort_unstable();
        visits.dedup();
        assert_eq!(
            visits.len(),
            BURST,
            "{label}: every visit counted once: {visits:?}"
        );
        cookie = issued[0].to_owned();
    }

    // A login in the middle of a burst (the session is due for renewal too).
    tokio::time::sleep(RENEW_AFTER + Duration::from_millis(50)).await;
    let answers = burst(&client, &base, &cookie, Some(("/login", BURST / 2))).await;
    let mut logged_in = None;
    let mut page_tokens: Vec<&str> = Vec::new();
    for (path, answer) in &answers {
        let context = format!("{label}, login burst: {path} {answer:?}");
        assert!(!answer.status.is_server_error(), "{context}");
        assert_ne!(answer.cookie.as_deref(), Some(""), "logged out: {context}");
        if path == "/login" {
            assert_eq!(answer.status, StatusCode::SEE_OTHER, "{context}");
            logged_in = answer.cookie.clone();
        } else {
            assert_eq!(answer.status, StatusCode::OK, "{context}");
            assert!(answer.visits().is_some_and(|v| v > 0), "{context}");
            page_tokens.extend(answer.cookie.as_deref());
        }
    }
    page_tokens.sort_unstable();
    page_tokens.dedup();
    assert!(
        page_tokens.len() <= 1,
        "{label}: the pages of one browser got several new tokens: {page_tokens:?}"
    );
    let user = logged_in.expect("the login sets a cookie");
    let home = send(&client, &base, "/", &user).await;
    assert!(
        home.body.contains("Logged in as <b>ada</b>"),
        "{label}: {home:?}"
    );
    assert_eq!(
        home.body.matches("<tr class=\"session").count(),
        1,
        "{label}: one session of the user: {home:?}"
    );
    for token in page_tokens.iter().copied().chain([cookie.as_str()]) {
        let page = send(&client, &base, "/", token).await;
        assert!(
            !page.body.contains("Logged in as"),
            "{label}: a pre-login token is logged in: {page:?}"
        );
    }

    // A logout in the middle of a burst.
    let answers = burst(&client, &base, &user, Some(("/logout", BURST / 2))).await;
    for (path, answer) in &answers {
        let context = format!("{label}, logout burst: {path} {answer:?}");
        assert!(!answer.status.is_server_error(), "{context}");
        assert!(
            answer.status.is_success()
                || answer.status.is_redirection()
                || answer.status == StatusCode::CONFLICT,
            "{context}"
        );
    }
    assert!(
        manager.sessions_of("ada").await.unwrap().is_empty(),
        "{label}: the user has a session after the logout"
    );
    let after = send(&client, &base, "/", &user).await;
    assert!(!after.body.contains("Logged in as"), "{label}: {after:?}");
}

fn config() -> Config {
    Config::builder()
        .renew_after(RENEW_AFTER)
        .rotation_grace(Duration::from_secs(60))
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
                    support::manager_on(support::Backend::$backend, "burst", config()).await;
                busy_browser(manager, stringify!($backend)).await;
            }
        )*
    };
}

on_every_backend!(
    burst_memory: Memory,
    burst_sqlite: Sqlite,
    burst_redis: Redis,
    burst_redis_cluster: RedisCluster,
    burst_postgres: Postgres,
    burst_mysql: MySql,
);
