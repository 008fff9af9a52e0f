//! The demo in a real browser: headless Chromium, driven through ChromeDriver's WebDriver API,
//! logs in, reloads, and sees the counter persist and its session listed.
//!
//! Run alone with `cargo test -p session-demo --test browser`. Needs Debian's `chromium` and
//! `chromium-driver` (`scripts/test` installs them); without them the test fails, naming them.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use session_core::Config;
use session_test_support::process::{find_binary, free_port, wait_for_port};
use session_tower::CookieConfig;

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

/// A minimal WebDriver client: just the commands this test uses.
struct Browser {
    http: reqwest::Client,
    session: String,
}

impl Browser {
    async fn call(
        http: &reqwest::Client,
        method: reqwest::Method,
        url: String,
        body: Option<Value>,
    ) -> Value {
        let mut request = http.request(method, &url);
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
        assert!(
            response["value"].get("error").is_none(),
            "WebDriver {url}: {response}"
        );
        response["value"].clone()
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
        let value = Self::call(
            &http,
            reqwest::Method::POST,
            format!("{base}/session"),
            Some(capabilities),
        )
        .await;
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
        Self::call(
            &self.http,
            reqwest::Method::POST,
            format!("{}{path}", self.session),
            Some(body),
        )
        .await
    }

    async fn get(&self, path: &str) -> Value {
        Self::call(
            &self.http,
            reqwest::Method::GET,
            format!("{}{path}", self.session),
            None,
        )
        .await
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

    async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.get(&format!("/element/{element}/text"))
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn count(&self, css: &str) -> usize {
        let value = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await;
        value.as_array().map(Vec::len).unwrap_or(0)
    }

    async fn close(self) {
        Self::call(
            &self.http,
            reqwest::Method::DELETE,
            self.session.clone(),
            None,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_reload_and_see_the_session_listed() {
    let dir = tempfile::tempdir().unwrap();
    let spec = format!("sqlite:{}", dir.path().join("demo.db").display());
    let manager = session_demo::manager_for(&spec, Config::default())
        .await
        .unwrap();
    let app = session_demo::router(manager, CookieConfig::default().secure(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let port = free_port();
    let chromedriver = find_binary("chromedriver", &[], "chromium-driver");
    let _driver = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    wait_for_port(port, Duration::from_secs(20), "chromedriver");
    let browser = Browser::start(
        &format!("http://127.0.0.1:{port}"),
        &dir.path().join("profile"),
    )
    .await;

    browser.open(&site).await;
    assert_eq!(browser.text("#visits b").await, "1");
    browser.post("/refresh", json!({})).await;
    assert_eq!(
        browser.text("#visits b").await,
        "2",
        "the cookie kept the session across a reload"
    );

    let name = browser.find("#name").await;
    browser
        .post(&format!("/element/{name}/value"), json!({"text": "alice"}))
        .await;
    let login = browser.find("#login").await;
    browser
        .post(&format!("/element/{login}/click"), json!({}))
        .await;
    assert_eq!(browser.text("#user b").await, "alice");
    assert_eq!(
        browser.text("#visits b").await,
        "3",
        "login kept the session's data"
    );

    browser.post("/refresh", json!({})).await;
    assert_eq!(
        browser.text("#visits b").await,
        "4",
        "the counter persists after login"
    );
    assert_eq!(
        browser.count("tr.session").await,
        1,
        "the session is listed once"
    );
    let row = browser.text("tr.session").await;
    assert!(
        row.contains("Chrome") && row.contains("this session"),
        "{row}"
    );

    let logout = browser.find("#logout").await;
    browser
        .post(&format!("/element/{logout}/click"), json!({}))
        .await;
    assert_eq!(
        browser.text("#visits b").await,
        "1",
        "after logout a fresh session starts"
    );
    browser.close().await;
}
