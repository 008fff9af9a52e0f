//! The HTTP mode: a minimal axum handler that reads one session key, behind our `SessionLayer`,
//! behind no session layer (the floor), and behind tower-sessions' layer (with `peers`), each over
//! the same kind of store. Requests go through the router in-process (`oneshot`), so the figures
//! are the layers' cost, not a socket's.
//!
//! Each layer is an [`Adapter`] whose `create` makes a session through the library and answers
//! the `Cookie` header that names it, and whose `read` sends `GET /{key}` with that cookie; the
//! workload runner drives it with read-only requests.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use http_body_util::BodyExt;
use session_core::{SessionManager, Store};
use session_store_memory::MemoryStore;
use session_store_postgres::PostgresStore;
use session_store_redis::RedisStore;
use session_store_sqlite::SqliteStore;
use session_tower::{CookieConfig, LazySession, SessionLayer, SessionRejection};
use tower::ServiceExt;

use crate::adapter::{Adapter, Error, Factory, Handle, Kind};
use crate::backends::{Servers, flushed_redis, pg_schema, row, sqlite_path};

/// Sends `GET /{key}` with `cookie` through `router`; the body is the value.
async fn request(router: &Router, cookie: &str, key: &str) -> Result<String, Error> {
    let request = Request::get(format!("/{key}"))
        .header(header::COOKIE, cookie)
        .body(Body::empty())?;
    let response = router.clone().oneshot(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if status != StatusCode::OK {
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)).into());
    }
    Ok(String::from_utf8(body.to_vec())?)
}

/// Our layer: the handler reads the key from the request's session.
struct OursLayer {
    manager: SessionManager,
    router: Router,
}

/// A store failure is the layer's 503; a missing session or key a 404.
async fn read_ours(
    session: LazySession,
    Path(key): Path<String>,
) -> Result<Result<String, StatusCode>, SessionRejection> {
    // One round trip: the session's metadata and the key, read together.
    let session = session.get().await?;
    Ok(session
        .get::<String>(&key)
        .await?
        .ok_or(StatusCode::NOT_FOUND))
}

impl OursLayer {
    fn new<S: Store>(store: Arc<S>) -> Result<Self, Error> {
        let manager = crate::ours::manager(store)?;
        let cookie = CookieConfig::default().secure(false);
        let router = Router::new()
            .route("/{key}", get(read_ours))
            .layer(SessionLayer::new(manager.clone()).cookie(cookie));
        Ok(Self { manager, router })
    }
}

#[async_trait]
impl Adapter for OursLayer {
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        let session = self.manager.create()?;
        for (k, v) in data {
            session.set(k, v)?;
        }
        session.save().await?;
        let name = CookieConfig::default().secure(false).cookie_name();
        Ok(format!("{name}={}", session.token().as_str()))
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        request(&self.router, handle, key).await
    }

    async fn write(&self, _: &Handle, _: &str, _: &str) -> Result<(), Error> {
        Err("the HTTP mode only reads".into())
    }
}

/// No session layer: the handler answers a fixed value; the floor for the layers' cost.
struct NoLayer(Router);

#[async_trait]
impl Adapter for NoLayer {
    async fn create(&self, _: &[(String, String)]) -> Result<Handle, Error> {
        Ok("session=none".into())
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        request(&self.0, handle, key).await
    }

    async fn write(&self, _: &Handle, _: &str, _: &str) -> Result<(), Error> {
        Err("the HTTP mode only reads".into())
    }
}

fn no_layer() -> Box<dyn Adapter> {
    static VALUE: &str = "a fixed value of about the size of a workload value";
    let router = Router::new().route("/{key}", get(|Path(_): Path<String>| async { VALUE }));
    Box::new(NoLayer(router))
}

/// The HTTP rows: memory and Redis with the peer beside us, SQLite and PostgreSQL without.
pub fn all(servers: &Servers) -> Vec<Box<dyn Factory>> {
    let mut rows = vec![
        row("ours-layer", "memory", Kind::Ours, || async {
            let store = Arc::new(MemoryStore::builder().max_sessions(10_000_000).build()?);
            Ok(Box::new(OursLayer::new(store)?) as Box<dyn Adapter>)
        }),
        row("no-layer", "memory", Kind::Baseline, || async {
            Ok(no_layer())
        }),
        row("no-layer", "redis", Kind::Baseline, || async {
            Ok(no_layer())
        }),
    ];
    let s = servers.clone();
    rows.push(row("ours-layer", "redis", Kind::Ours, move || {
        let url = s.redis_url.clone();
        async move {
            let conn = flushed_redis(&url).await?;
            let store = Arc::new(RedisStore::builder_with_manager(conn).connect().await?);
            Ok(Box::new(OursLayer::new(store)?) as Box<dyn Adapter>)
        }
    }));
    let s = servers.clone();
    rows.push(row("ours-layer+cache", "redis", Kind::Ours, move || {
        let url = s.redis_url.clone();
        async move {
            let store = Arc::new(crate::backends::cached_redis(&url).await?);
            Ok(Box::new(OursLayer::new(store)?) as Box<dyn Adapter>)
        }
    }));
    // Our layer on the SQL stores. tower-sessions' sqlx stores cannot be built beside ours
    // (Cargo.toml says why), so these rows have no peer beside them.
    let s = servers.clone();
    rows.push(row("ours-layer", "sqlite", Kind::Ours, move || {
        let path = sqlite_path(&s, "ours-layer");
        async move {
            let store = Arc::new(SqliteStore::open(path).await?);
            Ok(Box::new(OursLayer::new(store)?) as Box<dyn Adapter>)
        }
    }));
    let s = servers.clone();
    rows.push(row("ours-layer", "postgres", Kind::Ours, move || {
        let url = s.postgres_url.clone();
        async move {
            let (pool, schema) = pg_schema(&url, "ours_layer").await?;
            let store = PostgresStore::builder().schema(schema).build(pool)?;
            store.migrate().await?;
            Ok(Box::new(OursLayer::new(Arc::new(store))?) as Box<dyn Adapter>)
        }
    }));
    #[cfg(feature = "peers")]
    rows.extend(peer::all(servers));
    rows
}

/// tower-sessions' layer over its memory and Redis stores.
#[cfg(feature = "peers")]
mod peer {
    use tower_sessions::session_store::SessionStore;
    use tower_sessions::{Session, SessionManagerLayer};

    use super::*;
    use crate::peers::peer_row;

    /// The peer's layer; `store` is the one the layer reads.
    struct PeerLayer<S> {
        store: S,
        router: Router,
    }

    async fn read_peer(session: Session, Path(key): Path<String>) -> Result<String, StatusCode> {
        session
            .get::<String>(&key)
            .await
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?
            .ok_or(StatusCode::NOT_FOUND)
    }

    impl<S: SessionStore + Clone> PeerLayer<S> {
        fn new(store: S) -> Self {
            let router = Router::new()
                .route("/{key}", get(read_peer))
                .layer(SessionManagerLayer::new(store.clone()).with_secure(false));
            Self { store, router }
        }
    }

    #[async_trait]
    impl<S: SessionStore + Clone> Adapter for PeerLayer<S> {
        async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
            let id = crate::tower_sessions_peer::create(&self.store, data).await?;
            Ok(format!("id={id}"))
        }

        async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
            request(&self.router, handle, key).await
        }

        async fn write(&self, _: &Handle, _: &str, _: &str) -> Result<(), Error> {
            Err("the HTTP mode only reads".into())
        }
    }

    pub fn all(servers: &Servers) -> Vec<Box<dyn Factory>> {
        let mut rows = vec![peer_row("tower-sessions-layer", "memory", || async {
            let store = tower_sessions::MemoryStore::default();
            Ok(Box::new(PeerLayer::new(store)) as Box<dyn Adapter>)
        })];
        let s = servers.clone();
        rows.push(peer_row("tower-sessions-layer", "redis", move || {
            let url = s.redis_url.clone();
            async move {
                let store = crate::peers::redis_store(&url).await?;
                Ok(Box::new(PeerLayer::new(store)) as Box<dyn Adapter>)
            }
        }));
        rows.extend(ours_under_theirs(servers));
        rows
    }

    /// tower-sessions' layer over our stores (`session-tower-sessions`): what an axum-login
    /// application gets by changing its store line, beside the same layer on its own stores.
    fn ours_under_theirs(servers: &Servers) -> Vec<Box<dyn Factory>> {
        const ROW: &str = "ts-layer+ours-store";
        fn layer(store: Arc<dyn session_core::Store>) -> Box<dyn Adapter> {
            Box::new(PeerLayer::new(
                session_tower_sessions::TowerSessionsStore::new(store),
            ))
        }
        let mut rows = vec![row(ROW, "memory", Kind::Ours, || async {
            let store = MemoryStore::builder().max_sessions(10_000_000).build()?;
            Ok(layer(Arc::new(store)))
        })];
        let s = servers.clone();
        rows.push(row(ROW, "redis", Kind::Ours, move || {
            let url = s.redis_url.clone();
            async move {
                let conn = flushed_redis(&url).await?;
                Ok(layer(Arc::new(
                    RedisStore::builder_with_manager(conn).connect().await?,
                )))
            }
        }));
        let s = servers.clone();
        rows.push(row(
            "ts-layer+ours-store+cache",
            "redis",
            Kind::Ours,
            move || {
                let url = s.redis_url.clone();
                async move { Ok(layer(Arc::new(crate::backends::cached_redis(&url).await?))) }
            },
        ));
        let s = servers.clone();
        rows.push(row(ROW, "sqlite", Kind::Ours, move || {
            let path = sqlite_path(&s, "ts-layer");
            async move { Ok(layer(Arc::new(SqliteStore::open(path).await?))) }
        }));
        let s = servers.clone();
        rows.push(row(ROW, "postgres", Kind::Ours, move || {
            let url = s.postgres_url.clone();
            async move {
                let (pool, schema) = pg_schema(&url, "ts_layer").await?;
                let store = PostgresStore::builder().schema(schema).build(pool)?;
                store.migrate().await?;
                Ok(layer(Arc::new(store)))
            }
        }));
        rows
    }
}
