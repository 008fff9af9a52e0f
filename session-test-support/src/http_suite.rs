//! The behaviour every framework bridge keeps, checked over real HTTP against the suite's app
//! served under that bridge (`session-tower` and `session-actix` each serve it with their own
//! handlers): lazy saving, cookie attributes and cache headers, concurrent counters, unknown,
//! junk, planted and tossed cookies, rotation at login without a gap, logout, a logout racing a
//! slow request, the cross-site guard, signed cookies and key rotation, two instances over one
//! store, and header-only tokens.
//!
//! The app, under the bridge configured by the [`HttpSessions`] it is given, answers:
//!
//! | route | what it does |
//! |---|---|
//! | `GET /health` | `ok`, never touching the session |
//! | `GET /count` | `incr("n", 1)`, answers the new value |
//! | `GET /whoami` | the subject of an existing session, `anonymous`, or `nobody` with none |
//! | `GET /peek` | `yes` or `no`: whether the request has a live session (never creates one) |
//! | `GET /slow` | loads the session, waits 2 ms, sets `late` |
//! | `POST /login` | `login("alice")`, answers `welcome` |
//! | `POST /logout` | destroys an existing session, answers `bye` |

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use session_core::{Config, SessionManager};
use session_http::{CookieConfig, HttpSessions, SigningKeys, TokenHeader};

/// The suite's routes, free of any framework: each bridge's handler calls one of these with the
/// request's session and answers what it returns (`?` turns the error into the bridge's
/// rejection).
pub mod routes {
    use std::time::Duration;

    use session_core::SessionError;
    use session_http::RequestSession;

    /// `GET /count`: `incr("n", 1)`.
    pub async fn count(lazy: &RequestSession) -> Result<String, SessionError> {
        Ok(lazy.get().await?.incr("n", 1).await?.to_string())
    }

    /// `GET /whoami`: the subject, `anonymous`, or `nobody`.
    pub async fn whoami(lazy: &RequestSession) -> Result<String, SessionError> {
        Ok(match lazy.existing().await? {
            Some(session) => session
                .subject()
                .await?
                .unwrap_or_else(|| "anonymous".into()),
            None => "nobody".into(),
        })
    }

    /// `GET /peek`: whether the request has a live session.
    pub async fn peek(lazy: &RequestSession) -> Result<&'static str, SessionError> {
        Ok(if lazy.existing().await?.is_some() {
            "yes"
        } else {
            "no"
        })
    }

    /// `GET /slow`: loads, waits 2 ms (long enough for a logout to land), sets `late`.
    pub async fn slow(lazy: &RequestSession) -> Result<&'static str, SessionError> {
        let session = lazy.get().await?;
        session.preload(&[]).await?;
        tokio::time::sleep(Duration::from_millis(2)).await;
        session.set("late", &true)?;
        Ok("done")
    }

    /// `POST /login`: `login("alice")`.
    pub async fn login(lazy: &RequestSession) -> Result<&'static str, SessionError> {
        lazy.get()
            .await?
            .login("alice", serde_json::json!({}))
            .await?;
        Ok("welcome")
    }

    /// `POST /logout`: destroys an existing session.
    pub async fn logout(lazy: &RequestSession) -> Result<&'static str, SessionError> {
        if let Some(session) = lazy.existing().await? {
            session.destroy(false).await?;
        }
        Ok("bye")
    }
}

/// Serves the suite's app under the bridge being tested, configured by the given sessions, on a
/// free loopback port; answers its base URL (`http://127.0.0.1:port`).
pub type Serve =
    Arc<dyn Fn(HttpSessions) -> Pin<Box<dyn Future<Output = String> + Send>> + Send + Sync>;

/// Makes a manager with a config over the backend being tested.
pub type MakeManager = Arc<dyn Fn(Config) -> SessionManager + Send + Sync>;

/// The rotation grace of the suite's managers.
const GRACE: Duration = Duration::from_millis(400);

/// Runs every check, in order, panicking with the check's name on the first failure.
pub async fn run(serve: Serve, manager: MakeManager) {
    let suite = Suite { serve, manager };
    suite.untouched_and_unwritten_set_no_cookie().await;
    suite.cookie_attributes_and_cache_headers().await;
    suite.concurrent_counting_loses_nothing().await;
    suite.unknown_junk_and_foreign_cookies().await;
    suite.login_rotates_and_logout_ends().await;
    suite.login_leaves_no_gap_for_concurrent_requests().await;
    suite.planted_and_tossed_cookies_change_nothing().await;
    suite.cross_site_requests_are_refused().await;
    suite.logout_racing_a_slow_request_is_final().await;
    suite.signed_cookies_refuse_tampering().await;
    suite.signing_keys_rotate_and_retire().await;
    suite.two_instances_share_one_store().await;
    suite.header_only_bearer_tokens().await;
}

struct Suite {
    serve: Serve,
    manager: MakeManager,
}

/// A request's answer, read whole.
struct Answer {
    status: u16,
    set_cookies: Vec<String>,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or("<bytes>"))
            .collect()
    }

    /// The value `Set-Cookie` gives the `session` cookie, if it does.
    fn session_cookie(&self) -> Option<String> {
        self.set_cookies.iter().find_map(|c| {
            let first = c.split(';').next()?;
            let (name, value) = first.split_once('=')?;
            (name.trim() == "session").then(|| value.to_owned())
        })
    }
}

/// A client with no cookie jar: every cookie is sent by hand.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let set_cookies = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ASCII Set-Cookie").to_owned())
        .collect();
    let body = response.text().await.expect("body");
    Answer {
        status,
        set_cookies,
        headers,
        body,
    }
}

/// `method base+path` with `cookie` as the whole `Cookie` header, if any.
async fn call(method: &str, base: &str, path: &str, cookie: Option<&[u8]>) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client().request(method, format!("{base}{path}"));
    if let Some(cookie) = cookie {
        request = request.header(
            "cookie",
            reqwest::header::HeaderValue::from_bytes(cookie).expect("header bytes"),
        );
    }
    send(request).await
}

async fn with_token(method: &str, base: &str, path: &str, token: &str) -> Answer {
    call(
        method,
        base,
        path,
        Some(format!("session={token}").as_bytes()),
    )
    .await
}

impl Suite {
    fn config() -> Config {
        Config::builder()
            .rotation_grace(GRACE)
            .build()
            .expect("config")
    }

    fn sessions(&self) -> HttpSessions {
        HttpSessions::new((self.manager)(Self::config()))
            .cookie(CookieConfig::default().secure(false))
    }

    async fn serve(&self, sessions: HttpSessions) -> String {
        (self.serve)(sessions).await
    }

    /// A new session with one visit counted: its token.
    async fn visited(base: &str) -> String {
        let first = call("GET", base, "/count", None).await;
        assert_eq!(first.body, "1", "a first visit counts 1");
        first
            .session_cookie()
            .expect("a first visit sets the cookie")
    }

    async fn untouched_and_unwritten_set_no_cookie(&self) {
        let base = self.serve(self.sessions()).await;
        let health = call("GET", &base, "/health", None).await;
        assert_eq!((health.status, health.body.as_str()), (200, "ok"));
        assert!(health.set_cookies.is_empty(), "untouched: no cookie");
        let peek = call("GET", &base, "/peek", None).await;
        assert_eq!(peek.body, "no");
        assert!(peek.set_cookies.is_empty(), "never written: no cookie");
        let token = Self::visited(&base).await;
        let health = with_token("GET", &base, "/health", &token).await;
        assert!(
            health.set_cookies.is_empty(),
            "untouched with a cookie: none set"
        );
    }

    async fn cookie_attributes_and_cache_headers(&self) {
        let base = self.serve(self.sessions()).await;
        let first = call("GET", &base, "/count", None).await;
        let cookie = first.set_cookies.first().expect("a cookie");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1800"] {
            assert!(
                cookie.split("; ").any(|a| a == attribute),
                "{attribute} missing in {cookie}"
            );
        }
        assert!(!cookie.contains("Domain"), "{cookie}");
        assert_eq!(first.header("cache-control"), ["no-store"]);
        let token = first.session_cookie().unwrap();
        assert_eq!(token.len(), 43, "a bare 256-bit token");
        let read = with_token("GET", &base, "/whoami", &token).await;
        assert_eq!(read.body, "anonymous");
        assert_eq!(read.header("cache-control"), ["private, no-store"]);
        assert!(read.header("vary").contains(&"cookie"), "Vary: cookie");
        // The default `__Host-` prefix, over a Secure cookie.
        let secure = HttpSessions::new((self.manager)(Self::config()));
        let base = self.serve(secure).await;
        let first = call("GET", &base, "/count", None).await;
        let cookie = first.set_cookies.first().expect("a cookie");
        assert!(cookie.starts_with("__Host-session="), "{cookie}");
        assert!(cookie.split("; ").any(|a| a == "Secure"), "{cookie}");
    }

    async fn concurrent_counting_loses_nothing(&self) {
        let base = self.serve(self.sessions()).await;
        let token = Self::visited(&base).await;
        let answers =
            futures::future::join_all((0..16).map(|_| with_token("GET", &base, "/count", &token)))
                .await;
        let mut seen: Vec<u64> = answers
            .iter()
            .map(|a| {
                assert_eq!(a.status, 200, "{}", a.body);
                a.body.parse().expect("a count")
            })
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (2..=17).collect::<Vec<_>>(), "16 concurrent visits");
        assert_eq!(with_token("GET", &base, "/count", &token).await.body, "18");
    }

    async fn unknown_junk_and_foreign_cookies(&self) {
        let base = self.serve(self.sessions()).await;
        let unknown = "A".repeat(43);
        let answer = with_token("GET", &base, "/whoami", &unknown).await;
        assert_eq!(answer.body, "nobody");
        let cleared = answer
            .set_cookies
            .first()
            .expect("an unknown cookie is cleared");
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        for junk in [
            &b"session=a b"[..],
            b"session=",
            b"session=\xff\xfe",
            &[b'x'; 5000],
        ] {
            let answer = call("GET", &base, "/whoami", Some(junk)).await;
            assert_eq!((answer.status, answer.body.as_str()), (200, "nobody"));
        }
        let token = Self::visited(&base).await;
        let mixed = format!("lang=Jos\u{e9}; session={token}; x=\u{1F600}");
        let answer = call("GET", &base, "/count", Some(mixed.as_bytes())).await;
        assert_eq!(answer.body, "2", "other cookies' bytes never matter");
        let mut raw = b"a=\xff\xfe; session=".to_vec();
        raw.extend_from_slice(token.as_bytes());
        assert_eq!(call("GET", &base, "/count", Some(&raw)).await.body, "3");
    }

    async fn login_rotates_and_logout_ends(&self) {
        let base = self.serve(self.sessions()).await;
        let before = Self::visited(&base).await;
        let login = with_token("POST", &base, "/login", &before).await;
        assert_eq!(login.body, "welcome");
        let after = login.session_cookie().expect("login sets the new cookie");
        assert_ne!(
            before, after,
            "login rotates the token in the same response"
        );
        assert_eq!(
            with_token("GET", &base, "/whoami", &after).await.body,
            "alice"
        );
        let old = with_token("GET", &base, "/whoami", &before).await.body;
        assert_ne!(old, "alice", "the pre-login token never reads the user");
        tokio::time::sleep(GRACE + Duration::from_millis(200)).await;
        assert_eq!(
            with_token("GET", &base, "/whoami", &before).await.body,
            "nobody"
        );
        let out = with_token("POST", &base, "/logout", &after).await;
        let cleared = out.set_cookies.first().expect("logout clears the cookie");
        assert!(
            cleared.starts_with("session=;") && cleared.contains("Max-Age=0"),
            "{cleared}"
        );
        assert_eq!(out.header("cache-control"), ["no-store"]);
        for token in [&after, &before] {
            assert_eq!(
                with_token("GET", &base, "/whoami", token).await.body,
                "nobody"
            );
            let replay = with_token("GET", &base, "/count", token).await;
            assert_ne!(
                replay.session_cookie().as_deref(),
                Some(token.as_str()),
                "never revived"
            );
        }
    }

    /// Sixteen requests of one browser in flight while it logs in: each reads the session
    /// (anonymous before, alice after), never none.
    async fn login_leaves_no_gap_for_concurrent_requests(&self) {
        let base = self.serve(self.sessions()).await;
        for _ in 0..3 {
            let token = Self::visited(&base).await;
            let readers = (0..16).map(|_| with_token("GET", &base, "/whoami", &token));
            let login = with_token("POST", &base, "/login", &token);
            let (answers, login) = tokio::join!(futures::future::join_all(readers), login);
            assert_eq!(login.body, "welcome");
            for answer in answers {
                assert_eq!(answer.status, 200, "{}", answer.body);
                assert!(
                    answer.body == "anonymous" || answer.body == "alice",
                    "a request during login read {:?}",
                    answer.body
                );
            }
        }
    }

    async fn planted_and_tossed_cookies_change_nothing(&self) {
        let base = self.serve(self.sessions()).await;
        let token = Self::visited(&base).await;
        let login = with_token("POST", &base, "/login", &token).await;
        let real = login.session_cookie().expect("logged in");
        let planted = Self::visited(&base).await;
        for header in [
            format!("session={}; session={real}", "B".repeat(43)),
            format!("session={planted}; session={real}"),
        ] {
            let answer = call("GET", &base, "/whoami", Some(header.as_bytes())).await;
            assert!(
                ["alice", "anonymous"].contains(&answer.body.as_str()),
                "{}",
                answer.body
            );
            assert!(
                answer.set_cookies.iter().all(|c| !c.contains("Max-Age=0")),
                "a planted cookie never clears the real one: {:?}",
                answer.set_cookies
            );
        }
        let junk_first = format!("session={}; session={real}", "B".repeat(43));
        assert_eq!(
            call("GET", &base, "/whoami", Some(junk_first.as_bytes()))
                .await
                .body,
            "alice"
        );
        let tossed = format!(
            "{}session={real}",
            "session=x; ".repeat(session_http::MAX_CANDIDATES)
        );
        let answer = call("GET", &base, "/whoami", Some(tossed.as_bytes())).await;
        assert_eq!(answer.status, 400, "cookie tossing is refused");
        assert!(answer.set_cookies.is_empty(), "and touches no cookie");
        assert_eq!(
            with_token("GET", &base, "/whoami", &real).await.body,
            "alice"
        );
    }

    async fn cross_site_requests_are_refused(&self) {
        let base = self.serve(self.sessions()).await;
        let token = Self::visited(&base).await;
        let login = with_token("POST", &base, "/login", &token).await;
        let real = login.session_cookie().expect("logged in");
        let cookie = format!("session={real}");
        for (name, value) in [
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
            ("origin", "https://evil.example"),
        ] {
            let request = client()
                .post(format!("{base}/logout"))
                .header("cookie", &cookie)
                .header(name, value);
            let answer = send(request).await;
            assert_eq!(answer.status, 403, "{name}: {value}");
            assert!(answer.set_cookies.is_empty());
        }
        let socket = client()
            .get(format!("{base}/whoami"))
            .header("cookie", &cookie)
            .header("upgrade", "websocket")
            .header("origin", "https://evil.example");
        assert_eq!(
            send(socket).await.status,
            403,
            "cross-site WebSocket handshake"
        );
        // A cross-site login would plant the attacker's session: refused without a cookie too.
        let login = client()
            .post(format!("{base}/login"))
            .header("sec-fetch-site", "cross-site");
        assert_eq!(send(login).await.status, 403);
        let same = client()
            .get(format!("{base}/whoami"))
            .header("cookie", &cookie)
            .header("sec-fetch-site", "cross-site");
        assert_eq!(send(same).await.body, "alice", "a cross-site GET reads");
        assert_eq!(
            with_token("GET", &base, "/whoami", &real).await.body,
            "alice"
        );
    }

    async fn logout_racing_a_slow_request_is_final(&self) {
        let base = self.serve(self.sessions()).await;
        for _ in 0..5 {
            let token = Self::visited(&base).await;
            let slow = with_token("GET", &base, "/slow", &token);
            let logout = async {
                tokio::time::sleep(Duration::from_millis(1)).await;
                with_token("POST", &base, "/logout", &token).await
            };
            let (slow, logout) = tokio::join!(slow, logout);
            assert_eq!(logout.body, "bye");
            assert!(
                [200, 409].contains(&slow.status),
                "{} {}",
                slow.status,
                slow.body
            );
            assert_eq!(
                with_token("GET", &base, "/peek", &token).await.body,
                "no",
                "revived"
            );
        }
    }

    async fn signed_cookies_refuse_tampering(&self) {
        let keys = SigningKeys::new(vec![vec![7; 32]]).expect("keys");
        let base = self.serve(self.sessions().signing_keys(keys)).await;
        let first = call("GET", &base, "/count", None).await;
        let signed = first.session_cookie().expect("a cookie");
        let (token, tag) = signed.rsplit_once('.').expect("a signed value");
        assert_eq!(with_token("GET", &base, "/count", &signed).await.body, "2");
        assert_eq!(
            with_token("GET", &base, "/whoami", token).await.body,
            "nobody",
            "unsigned"
        );
        let flipped = if tag.starts_with('A') { "B" } else { "A" };
        let tampered = format!("{token}.{flipped}{}", &tag[1..]);
        assert_eq!(
            with_token("GET", &base, "/whoami", &tampered).await.body,
            "nobody"
        );
    }

    /// Three servers on one store: the old key alone, the new key beside the old, the new alone.
    async fn signing_keys_rotate_and_retire(&self) {
        let old = SigningKeys::new(vec![vec![1; 32]]).expect("keys");
        let both = SigningKeys::new(vec![vec![2; 32], vec![1; 32]]).expect("keys");
        let new = SigningKeys::new(vec![vec![2; 32]]).expect("keys");
        let before = self.serve(self.sessions().signing_keys(old)).await;
        let signed = call("GET", &before, "/count", None)
            .await
            .session_cookie()
            .expect("a cookie");
        let rotated = self.serve(self.sessions().signing_keys(both)).await;
        let answer = with_token("GET", &rotated, "/whoami", &signed).await;
        assert_eq!(answer.body, "anonymous", "an old key still verifies");
        let resigned = answer
            .session_cookie()
            .expect("re-signed with the newest key");
        assert_ne!(resigned, signed);
        let untouched = with_token("GET", &rotated, "/health", &signed).await;
        assert!(
            untouched.session_cookie().is_some(),
            "re-signed even when untouched"
        );
        let after = self.serve(self.sessions().signing_keys(new)).await;
        assert_eq!(
            with_token("GET", &after, "/count", &resigned).await.body,
            "2"
        );
        assert_eq!(
            with_token("GET", &after, "/whoami", &signed).await.body,
            "nobody",
            "retired"
        );
    }

    /// Two servers (two app instances) over one store see each other's sessions at once.
    async fn two_instances_share_one_store(&self) {
        let a = self.serve(self.sessions()).await;
        let b = self.serve(self.sessions()).await;
        let token = Self::visited(&a).await;
        assert_eq!(with_token("GET", &b, "/count", &token).await.body, "2");
        let login = with_token("POST", &b, "/login", &token).await;
        let user = login.session_cookie().expect("logged in on b");
        assert_eq!(with_token("GET", &a, "/whoami", &user).await.body, "alice");
        with_token("POST", &a, "/logout", &user).await;
        assert_eq!(with_token("GET", &b, "/whoami", &user).await.body, "nobody");
    }

    async fn header_only_bearer_tokens(&self) {
        let header = TokenHeader::Bearer {
            response: http::HeaderName::from_static("x-session-token"),
        };
        let base = self.serve(self.sessions().header_only(header)).await;
        let bearer = |method: &str, path: &str, token: Option<&str>| {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let mut request = client().request(method, format!("{base}{path}"));
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            send(request)
        };
        let first = bearer("GET", "/count", None).await;
        assert!(
            first.set_cookies.is_empty(),
            "no cookie in header-only mode"
        );
        let token = first
            .header("x-session-token")
            .first()
            .expect("the token")
            .to_string();
        assert_eq!(first.header("cache-control"), ["no-store"]);
        assert_eq!(bearer("GET", "/count", Some(&token)).await.body, "2");
        // A planted cookie is no token at all here; and a cross-site POST with a bearer token
        // is not a browser's doing.
        let planted = client()
            .get(format!("{base}/whoami"))
            .header("cookie", format!("session={token}"));
        assert_eq!(send(planted).await.body, "nobody");
        let login = send(
            client()
                .post(format!("{base}/login"))
                .header("authorization", format!("Bearer {token}"))
                .header("sec-fetch-site", "cross-site"),
        )
        .await;
        assert_eq!(login.body, "welcome");
        let rotated = login
            .header("x-session-token")
            .first()
            .expect("rotated")
            .to_string();
        assert_ne!(rotated, token);
        assert!(login.set_cookies.is_empty());
        assert_eq!(bearer("GET", "/whoami", Some(&rotated)).await.body, "alice");
        let out = bearer("POST", "/logout", Some(&rotated)).await;
        assert_eq!(out.body, "bye");
        assert!(out.header("x-session-token").is_empty() && out.set_cookies.is_empty());
        assert_eq!(
            bearer("GET", "/whoami", Some(&rotated)).await.body,
            "nobody"
        );
    }
}
