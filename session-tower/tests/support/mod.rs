//! A small app under the session layer, served over real HTTP on loopback, and a store wrapper
//! that counts the operations reaching the real store underneath.

#![allow(dead_code)] // each test file uses part of it

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use session_core::{Change, Map, SessionId, SessionManager, Store, StoreError, Value, async_trait};
use session_tower::{LazySession, SessionLayer, SessionRejection};

/// Counts reads and writes reaching the store it wraps.
pub struct Counting<S> {
    pub inner: S,
    pub reads: AtomicUsize,
    pub writes: AtomicUsize,
}

impl<S> Counting<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            reads: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
        }
    }
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }
    pub fn operations(&self) -> usize {
        self.reads() + self.writes()
    }
}

#[async_trait]
impl<S: Store> Store for Counting<S> {
    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> Result<Option<Value>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get(id, key, touch).await
    }
    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> Result<Option<Map>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get_all(id, touch).await
    }
    async fn set(
        &self,
        id: &SessionId,
        key: &str,
        value: Value,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.set(id, key, value, ttl).await
    }
    async fn del(&self, id: &SessionId, key: &str, ttl: Duration) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.del(id, key, ttl).await
    }
    async fn del_all(&self, id: &SessionId) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.del_all(id).await
    }
    async fn extend(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.extend(id, ttl).await
    }
    async fn set_many(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.set_many(id, changes, ttl).await
    }
    async fn update(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.update(id, changes, ttl).await
    }
}

async fn count(lazy: LazySession) -> Result<String, SessionRejection> {
    let session = lazy.get().await?;
    let n: u64 = session.get("n")?.unwrap_or(0) + 1;
    session.set("n", &n)?;
    Ok(n.to_string())
}

async fn set_three(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    let session = lazy.get().await?;
    for k in ["a", "b", "c"] {
        session.set(k, &k)?;
    }
    Ok("set")
}

async fn whoami(lazy: LazySession) -> Result<String, SessionRejection> {
    Ok(match lazy.existing().await? {
        Some(session) => session.subject().unwrap_or_else(|| "anonymous".into()),
        None => "nobody".into(),
    })
}

async fn peek(lazy: LazySession) -> Result<String, SessionRejection> {
    Ok(if lazy.existing().await?.is_some() {
        "yes"
    } else {
        "no"
    }
    .into())
}

async fn login(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    let session = lazy.get().await?;
    session.set_user("alice", serde_json::json!({})).await?;
    session.rotate().await?;
    Ok("welcome")
}

async fn logout(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    if let Some(session) = lazy.existing().await? {
        session.destroy(false).await?;
    }
    Ok("bye")
}

async fn slow(lazy: LazySession) -> Result<&'static str, SessionRejection> {
    let session = lazy.get().await?;
    // Long enough for a logout to land in the middle.
    tokio::time::sleep(Duration::from_millis(2)).await;
    session.set("late", &true)?;
    Ok("done")
}

/// The test app: `/health` never touches the session; `/slow` loads, waits, then writes; `/count` increments a counter; `/set3`
/// writes three keys; `/whoami` and `/peek` only read; `/login` identifies and rotates;
/// `/logout` destroys.
pub fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/count", get(count))
        .route("/set3", get(set_three))
        .route("/whoami", get(whoami))
        .route("/peek", get(peek))
        .route("/slow", get(slow))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .layer(layer)
}

/// Serves `router` on a free loopback port and returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    format!("http://{addr}")
}

/// A client with a cookie jar, like a browser.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

/// A client without cookies, for hand-made Cookie headers.
pub fn bare() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A manager over a counting memory store.
pub fn counted_manager(
    config: session_core::Config,
) -> (
    SessionManager,
    Arc<Counting<session_store_memory::MemoryStore>>,
) {
    let store = Arc::new(Counting::new(session_store_memory::MemoryStore::new()));
    let manager = SessionManager::builder_from_arc(store.clone())
        .config(config)
        .build()
        .expect("manager");
    (manager, store)
}

/// The `Set-Cookie` headers of a response.
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The value of cookie `name` in a `Set-Cookie` header.
pub fn cookie_value(set_cookie: &str, name: &str) -> Option<String> {
    let first = set_cookie.split(';').next()?;
    let (n, v) = first.split_once('=')?;
    (n.trim() == name).then(|| v.to_owned())
}
