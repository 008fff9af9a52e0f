//! The HTTP mode under actix-web: a handler that reads one session key, behind our
//! `session-actix` middleware, behind no session middleware (the floor), and behind
//! actix-session's middleware over its Redis store (with `peers`). actix-web's services are not
//! `Send`, so each row is a real actix-web server on loopback driven over HTTP: these rows
//! include a socket and an HTTP client, and compare with each other, not with the in-process
//! tower rows.

use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use async_trait::async_trait;
use session_actix::{CookieConfig, HttpSessions, LazySession, SessionMiddleware, SessionRejection};
use session_core::Store;
use session_store_redis::RedisStore;

use crate::adapter::{Adapter, Error, Factory, Handle, Kind};
use crate::backends::{Servers, flushed_redis, row};

/// A running actix-web server and a client of it; the server stops when this is dropped.
struct Served {
    base: String,
    client: reqwest::Client,
    handle: ServerHandle,
}

impl Drop for Served {
    fn drop(&mut self) {
        // Outside a runtime (at exit) the server's threads end with the process.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let handle = self.handle.clone();
            runtime.spawn(async move { handle.stop(false).await });
        }
    }
}

impl Served {
    /// Runs `server` (bound to a free loopback port) and makes a client of it.
    fn run(server: actix_web::dev::Server, addr: std::net::SocketAddr) -> Result<Self, Error> {
        let handle = server.handle();
        tokio::spawn(server);
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self {
            base: format!("http://{addr}"),
            client,
            handle,
        })
    }

    /// `GET /{key}` with `cookie`; the body is the value.
    async fn get(&self, cookie: &str, key: &str) -> Result<String, Error> {
        let response = self
            .client
            .get(format!("{}/{key}", self.base))
            .header("cookie", cookie)
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            return Err(format!("HTTP {status}: {body}").into());
        }
        Ok(body)
    }
}

/// A server whose app makes a session at `POST /create` and reads a key at `GET /{key}` (ours
/// and actix-session's alike).
#[async_trait]
impl Adapter for Served {
    /// `POST /create` with `data`: the `Cookie` header that names the session it made.
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        let response = self
            .client
            .post(format!("{}/create", self.base))
            .json(&data)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()).into());
        }
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .ok_or("no session cookie")?;
        Ok(cookie.to_owned())
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        self.get(handle, key).await
    }

    async fn write(&self, _: &Handle, _: &str, _: &str) -> Result<(), Error> {
        Err("the HTTP mode only reads".into())
    }
}

/// Serves the app the closure builds on a free loopback port, on two workers (the machine's
/// cores): a [`Served`]. (A macro: `HttpServer::new`'s bounds do not fit a function's.)
macro_rules! serve {
    ($app:expr) => {{
        let server = HttpServer::new($app)
            .workers(2)
            .disable_signals()
            .bind(("127.0.0.1", 0))?;
        let addr = server.addrs()[0];
        Served::run(server.run(), addr)
    }};
}

async fn read_ours(
    session: LazySession,
    key: web::Path<String>,
) -> Result<HttpResponse, SessionRejection> {
    // One round trip: the session's metadata and the key, read together.
    let value = session.get().await?.get::<String>(&key).await?;
    Ok(match value {
        Some(value) => HttpResponse::Ok().body(value),
        None => HttpResponse::NotFound().finish(),
    })
}

async fn create_ours(
    session: LazySession,
    data: web::Json<Vec<(String, String)>>,
) -> Result<&'static str, SessionRejection> {
    let session = session.get().await?;
    for (k, v) in data.iter() {
        session.set(k, v)?;
    }
    Ok("created")
}

/// Our middleware over `store`: the handler reads the key from the request's session.
fn ours<S: Store>(store: Arc<S>) -> Result<Box<dyn Adapter>, Error> {
    let manager = crate::ours::manager(store)?;
    let sessions = HttpSessions::new(manager).cookie(CookieConfig::default().secure(false));
    let served = serve!(move || {
        App::new()
            .wrap(SessionMiddleware::from_sessions(sessions.clone()))
            .route("/create", web::post().to(create_ours))
            .route("/{key}", web::get().to(read_ours))
    })?;
    Ok(Box::new(served))
}

/// No session middleware: the handler answers a fixed value; the floor for the middlewares'
/// cost over the same socket and client.
struct NoMiddleware(Served);

#[async_trait]
impl Adapter for NoMiddleware {
    async fn create(&self, _: &[(String, String)]) -> Result<Handle, Error> {
        Ok("session=none".into())
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        self.0.get(handle, key).await
    }

    async fn write(&self, _: &Handle, _: &str, _: &str) -> Result<(), Error> {
        Err("the HTTP mode only reads".into())
    }
}

fn no_middleware() -> Result<Box<dyn Adapter>, Error> {
    async fn fixed(_: web::Path<String>) -> &'static str {
        "a fixed value of about the size of a workload value"
    }
    let served = serve!(|| App::new().route("/{key}", web::get().to(fixed)))?;
    Ok(Box::new(NoMiddleware(served)))
}

/// The actix-web rows: Redis, uncached and with our cache, beside actix-session's Redis store.
pub fn all(servers: &Servers) -> Vec<Box<dyn Factory>> {
    let mut rows = vec![row(
        "actix-no-middleware",
        "redis",
        Kind::Baseline,
        || async { no_middleware() },
    )];
    let s = servers.clone();
    rows.push(row("actix+ours", "redis", Kind::Ours, move || {
        let url = s.redis_url.clone();
        async move {
            let conn = flushed_redis(&url).await?;
            let store = Arc::new(RedisStore::builder_with_manager(conn).connect().await?);
            ours(store)
        }
    }));
    let s = servers.clone();
    rows.push(row("actix+ours+cache", "redis", Kind::Ours, move || {
        let url = s.redis_url.clone();
        async move {
            let store = Arc::new(crate::backends::cached_redis(&url).await?);
            ours(store)
        }
    }));
    #[cfg(feature = "peers")]
    rows.push(peer::row(servers));
    rows
}

/// actix-session 0.11's middleware over its Redis store.
#[cfg(feature = "peers")]
mod peer {
    use actix_session::storage::RedisSessionStore;
    use actix_session::{Session, SessionMiddleware as PeerMiddleware};
    use actix_web::cookie::Key;

    use super::*;
    use crate::peers::peer_row;

    async fn read_peer(session: Session, key: web::Path<String>) -> HttpResponse {
        match session.get::<String>(&key) {
            Ok(Some(value)) => HttpResponse::Ok().body(value),
            Ok(None) => HttpResponse::NotFound().finish(),
            Err(_) => HttpResponse::ServiceUnavailable().finish(),
        }
    }

    async fn create_peer(session: Session, data: web::Json<Vec<(String, String)>>) -> HttpResponse {
        for (k, v) in data.iter() {
            if session.insert(k, v).is_err() {
                return HttpResponse::InternalServerError().finish();
            }
        }
        HttpResponse::Ok().body("created")
    }

    pub fn row(servers: &Servers) -> Box<dyn Factory> {
        let s = servers.clone();
        peer_row("actix-session", "redis", move || {
            let url = s.redis_url.clone();
            async move {
                flushed_redis(&url).await?;
                let store = RedisSessionStore::new(url.as_str()).await?;
                let key = Key::generate();
                let served = serve!(move || {
                    App::new()
                        .wrap(
                            PeerMiddleware::builder(store.clone(), key.clone())
                                .cookie_secure(false)
                                .build(),
                        )
                        .route("/create", web::post().to(create_peer))
                        .route("/{key}", web::get().to(read_peer))
                })?;
                Ok(Box::new(served) as Box<dyn Adapter>)
            }
        })
    }
}
