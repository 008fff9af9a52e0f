//! The demo in a real browser: headless Chromium, driven through ChromeDriver's WebDriver API,
//! logs in, reloads, and sees the counter persist and its session listed.
//!
//! Run alone with `cargo test -p session-demo --test browser`. Needs Debian's `chromium` and
//! `chromium-driver` (`scripts/test` installs them); without them the test fails, naming them.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use session_test_support::process::{find_binary, free_port, wait_for_port};

/// The W3C WebDriver element key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// ChromeDriver, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// ChromeDriver on a free port, and a headless Chromium session through it with its profile in
/// `profile`; the driver stops when the returned guard is dropped.
async fn launch(profile: &std::path::Path) -> (Driver, Browser) {
    let port = free_port();
    let chromedriver = find_binary("chromedriver", &[], "chromium-driver");
    let driver = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    wait_for_port(port, Duration::from_secs(20), "chromedriver");
    let browser = Browser::start(&format!("http://127.0.0.1:{port}"), profile).await;
    (driver, browser)
}

/// A minimal WebDriver client: just the commands this test uses.
struct Browser {
    http: reqwest::Client,
    session: String,
}

impl Browser {
    /// One WebDriver command; `Err` carries the driver's error answer.
    async fn try_call(
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let mut request = http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request
            .send()
            .await
            .expect("WebDriver request")
            .json()
            .await
            .expect("WebDriver JSON");
        match response["value"].get("error") {
            None => Ok(response["value"].clone()),
            Some(_) => Err(response),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        Self::try_call(&self.http, method, &url, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {url}: {e}"))
    }

    async fn start(base: &str, profile: &std::path::Path) -> Self {
        let http = reqwest::Client::new();
        let chromium = find_binary("chromium", &[], "chromium");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                         "--no-first-run", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let url = format!("{base}/session");
        let value = Self::try_call(&http, reqwest::Method::POST, &url, Some(capabilities))
            .await
            .unwrap_or_else(|e| panic!("WebDriver {url}: {e}"));
        let session = value["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .to_owned();
        Self {
            http,
            session: format!("{base}/session/{session}"),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn open(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    async fn find(&self, css: &str) -> String {
        let value = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        value[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {value}"))
            .to_owned()
    }

    /// The text of `css` once it satisfies `ready`, polling: a page loads after a click in its
    /// own time, and an element found on the old page may be gone when its text is asked for.
    /// Panics after 10 s with the last text seen.
    async fn text_when(&self, css: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut last = None;
        loop {
            let find = json!({"using": "css selector", "value": css});
            let url = format!("{}/element", self.session);
            if let Ok(found) =
                Self::try_call(&self.http, reqwest::Method::POST, &url, Some(find)).await
            {
                let element = found[ELEMENT].as_str().unwrap_or_default();
                let url = format!("{}/element/{element}/text", self.session);
                if let Ok(text) = Self::try_call(&self.http, reqwest::Method::GET, &url, None).await
                {
                    let text = text.as_str().unwrap_or_default().to_owned();
                    if ready(&text) {
                        return text;
                    }
                    last = Some(text);
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} never became ready; last text: {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the text of `css` is `expected`.
    async fn expect_text(&self, css: &str, expected: &str) {
        self.text_when(css, |t| t == expected).await;
    }

    async fn count(&self, css: &str) -> usize {
        let value = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await;
        value.as_array().map(Vec::len).unwrap_or(0)
    }

    /// Opens a new tab and switches to it; returns its handle.
    async fn new_tab(&self) -> String {
        let value = self.post("/window/new", json!({"type": "tab"})).await;
        let handle = value["handle"].as_str().expect("a tab handle").to_owned();
        self.switch_to(&handle).await;
        handle
    }

    async fn switch_to(&self, handle: &str) {
        self.post("/window", json!({ "handle": handle })).await;
    }

    async fn tab(&self) -> String {
        self.call(reqwest::Method::GET, "/window", None)
            .await
            .as_str()
            .expect("the current tab")
            .to_owned()
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.post(&format!("/element/{element}/click"), json!({}))
            .await;
    }

    async fn close(self) {
        self.call(reqwest::Method::DELETE, "", None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_reload_and_see_the_session_listed() {
    let dir = tempfile::tempdir().unwrap();
    let site = serve_demo(&dir.path().join("demo.db")).await;

    let (_driver, browser) = launch(&dir.path().join("profile")).await;

    browser.open(&site).await;
    browser.expect_text("#visits b", "1").await;
    // The cookie keeps the session across a reload.
    browser.post("/refresh", json!({})).await;
    browser.expect_text("#visits b", "2").await;

    let name = browser.find("#name").await;
    browser
        .post(&format!("/element/{name}/value"), json!({"text": "alice"}))
        .await;
    let login = browser.find("#login").await;
    browser
        .post(&format!("/element/{login}/click"), json!({}))
        .await;
    browser.expect_text("#user b", "alice").await;
    // Login kept the session's data.
    browser.expect_text("#visits b", "3").await;

    // The counter persists after login, and the session is listed, once, with its device.
    browser.post("/refresh", json!({})).await;
    browser.expect_text("#visits b", "4").await;
    assert_eq!(
        browser.count("tr.session").await,
        1,
        "the session is listed once"
    );
    let row = browser
        .text_when("tr.session", |t| t.contains("this session"))
        .await;
    assert!(row.contains("Chrome"), "the device is the browser: {row}");

    // After logout a fresh session starts.
    let logout = browser.find("#logout").await;
    browser
        .post(&format!("/element/{logout}/click"), json!({}))
        .await;
    browser.expect_text("#visits b", "1").await;
    browser.close().await;
}

/// The demo on a SQLite file; its base URL.
async fn serve_demo(db: &std::path::Path) -> String {
    support::serve_url(&format!("sqlite://{}", db.display())).await
}

/// The live page in two tabs of one browser: both join one live session over WebSockets, each
/// sees the other's change at once, and the value survives a restart of the demo (a new server
/// on the same SQLite file; loopback cookies are shared across ports).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_share_the_live_page_and_it_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let site = serve_demo(&db).await;

    let (_driver, browser) = launch(&dir.path().join("profile")).await;

    browser.open(&format!("{site}/live")).await;
    browser.expect_text("#status", "live").await;
    browser.expect_text("#shared", "0").await;
    let first = browser.tab().await;
    let second = browser.new_tab().await;
    browser.open(&format!("{site}/live")).await;
    browser.expect_text("#status", "live").await;

    browser.click("#inc").await;
    browser.expect_text("#shared", "1").await;
    browser.switch_to(&first).await;
    browser.expect_text("#shared", "1").await; // pushed to the other tab, no reload
    browser.click("#inc").await;
    browser.expect_text("#shared", "2").await;
    browser.switch_to(&second).await;
    browser.expect_text("#shared", "2").await;

    // Leaving the page disconnects both tabs, which persists; a new server on the same file
    // resumes the session from its cookie.
    browser.open(&format!("{site}/health")).await;
    browser.switch_to(&first).await;
    browser.open(&format!("{site}/health")).await;
    let restarted = serve_demo(&db).await;
    browser.open(&format!("{restarted}/live")).await;
    browser.expect_text("#shared", "2").await;
    browser.expect_text("#status", "live").await;
    browser.close().await;
}

/// A page on another origin of the same host (another port: "same-site"), as an attacker's or
/// another app's: it plants cookies and posts a form to the demo.
async fn serve_other_origin(demo: &str) -> String {
    use axum::response::Html;
    use axum::routing::get;
    let plant = Html(
        "<!doctype html><title>other app</title><script>\
         document.cookie = 'lang=Jos\u{e9}; path=/';\
         document.cookie = 'session=planted-garbage; path=/sessions';\
         </script><p id=done>planted</p>",
    );
    let csrf = Html(format!(
        "<!doctype html><title>other app</title>\
         <form id=f method=post action='{demo}/logout'></form>\
         <script>document.getElementById('f').submit()</script>"
    ));
    let app = axum::Router::new()
        .route("/plant", get(move || async move { plant }))
        .route("/csrf", get(move || async move { csrf }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// Findings 1 and 2 in a real browser: another app's cookies (a non-ASCII one, and a planted one
/// of our name sent before the real one) leave the user logged in, and a form posted to the
/// demo from another origin is refused with 403 and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_cookies_and_cross_site_posts_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let site = serve_demo(&dir.path().join("demo.db")).await;
    let other = serve_other_origin(&site).await;

    let (_driver, browser) = launch(&dir.path().join("profile")).await;

    browser.open(&site).await;
    let name = browser.find("#name").await;
    browser
        .post(&format!("/element/{name}/value"), json!({"text": "alice"}))
        .await;
    browser.click("#login").await;
    browser.expect_text("#user b", "alice").await;

    // Another app on this host plants its cookies; the user stays logged in, and ends their
    // other sessions (a request to /sessions/..., where the planted cookie comes first).
    browser.open(&format!("{other}/plant")).await;
    browser.expect_text("#done", "planted").await;
    browser.open(&site).await;
    browser.expect_text("#user b", "alice").await;
    browser.click("#end-others").await;
    browser
        .text_when("#notice", |t| t.contains("other sessions have been ended"))
        .await;
    browser.expect_text("#user b", "alice").await;

    // A form on the other origin posts to the demo's logout: refused, nothing changes.
    browser.open(&format!("{other}/csrf")).await;
    browser
        .text_when("body", |t| t.contains("cross-site request refused"))
        .await;
    browser.open(&site).await;
    browser.expect_text("#user b", "alice").await;
    browser.close().await;
}
