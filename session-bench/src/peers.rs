//! The peers (feature `peers`): tower-sessions' memory and Redis (fred, a pool of 1) stores,
//! driven through its `SessionStore` trait (`tower_sessions_peer`), and its sqlx stores, which
//! run in a process of their own (`elsewhere`; Cargo.toml says why).

use std::future::Future;

use crate::adapter::{Adapter, Error, Factory, Kind};
use crate::backends::{Servers, row};
use crate::elsewhere::Elsewhere;
use crate::tower_sessions_peer::Peer;

/// tower-sessions' Redis store on a flushed database, over a fred pool of one connection.
pub async fn redis_store(
    url: &str,
) -> Result<tower_sessions_redis_store::RedisStore<fred::prelude::Pool>, Error> {
    crate::backends::flushed_redis(url).await?;
    use fred::prelude::ClientLike;
    let pool =
        fred::prelude::Pool::new(fred::prelude::Config::from_url(url)?, None, None, None, 1)?;
    pool.init().await?;
    Ok(tower_sessions_redis_store::RedisStore::new(pool))
}

/// A peer's row.
pub fn peer_row<F, Fut>(library: &'static str, backend: &'static str, make: F) -> Box<dyn Factory>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Box<dyn Adapter>, Error>> + Send + 'static,
{
    row(library, backend, Kind::Peer, make)
}

/// The peers' rows.
pub fn all(servers: &Servers) -> Vec<Box<dyn Factory>> {
    let mut rows = vec![peer_row("tower-sessions", "memory", || async {
        Ok(Box::new(Peer(tower_sessions::MemoryStore::default())) as Box<dyn Adapter>)
    })];
    let s = servers.clone();
    rows.push(peer_row("tower-sessions", "redis", move || {
        let url = s.redis_url.clone();
        async move { Ok(Box::new(Peer(redis_store(&url).await?)) as Box<dyn Adapter>) }
    }));
    rows
}

/// tower-sessions' sqlx stores, measured in a process of their own.
pub fn elsewhere(servers: &Servers) -> Vec<Elsewhere> {
    let dir = servers.dir.path().display().to_string();
    [
        ("sqlite", dir),
        ("postgres", servers.postgres_url.clone()),
        ("mysql", servers.mysql_url.clone()),
    ]
    .into_iter()
    .map(|(backend, url)| Elsewhere {
        library: "tower-sessions",
        backend,
        url,
    })
    .collect()
}
