//! Connecting: a URL to a ready store, with its capabilities wired in, its migrations run and its
//! cleanup started, and a manager built from it.

use std::sync::Arc;
use std::time::Duration;

use session_core::{
    Config, DEFAULT_CLEANUP_BATCH, DEFAULT_CLEANUP_INTERVAL, Enumerate, ExpiredCleanup, Metrics,
    PersistHook, SessionError, SessionManager, Store, StoreError, SubjectIndex,
};

use crate::ConnectError;
use crate::target::{Target, parse};

/// Who removes expired sessions from a store that needs it (SQLite, PostgreSQL; the memory store
/// and Redis expire sessions themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cleanup {
    /// A background task started at connect, running as long as the tokio runtime does. The
    /// default.
    #[default]
    Background,
    /// None: the application runs it, e.g. with [`session_core::delete_all_expired`] on
    /// [`ConnectedStore::expired_cleanup`].
    Manual,
}

/// A store URL and how to connect to it; [`connect`](ConnectBuilder::connect) makes the store.
///
/// `Debug` never prints the URL, which may hold a password.
#[derive(Clone)]
pub struct ConnectBuilder {
    url: String,
    cleanup: Cleanup,
    cleanup_interval: Duration,
    cleanup_batch: usize,
}

impl std::fmt::Debug for ConnectBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectBuilder")
            .field("cleanup", &self.cleanup)
            .field("cleanup_interval", &self.cleanup_interval)
            .field("cleanup_batch", &self.cleanup_batch)
            .finish_non_exhaustive()
    }
}

/// A builder for `url`, with the defaults below.
pub fn builder(url: impl Into<String>) -> ConnectBuilder {
    ConnectBuilder {
        url: url.into(),
        cleanup: Cleanup::Background,
        cleanup_interval: DEFAULT_CLEANUP_INTERVAL,
        cleanup_batch: DEFAULT_CLEANUP_BATCH,
    }
}

/// Connects to the store `url` names, with the defaults: see [`ConnectBuilder`].
///
/// # Errors
/// As [`ConnectBuilder::connect`].
pub async fn connect(url: &str) -> Result<ConnectedStore, ConnectError> {
    builder(url).connect().await
}

impl ConnectBuilder {
    /// Who removes expired sessions. The default is [`Cleanup::Background`].
    pub fn cleanup(mut self, cleanup: Cleanup) -> Self {
        self.cleanup = cleanup;
        self
    }

    /// How often the background cleanup runs. The default is
    /// [`DEFAULT_CLEANUP_INTERVAL`](session_core::DEFAULT_CLEANUP_INTERVAL).
    pub fn cleanup_interval(mut self, every: Duration) -> Self {
        self.cleanup_interval = every;
        self
    }

    /// How many expired sessions one cleanup transaction removes. The default is
    /// [`DEFAULT_CLEANUP_BATCH`](session_core::DEFAULT_CLEANUP_BATCH).
    pub fn cleanup_batch(mut self, batch: usize) -> Self {
        self.cleanup_batch = batch;
        self
    }

    /// Opens or connects to the store, runs its migrations (SQL stores) and starts its cleanup
    /// (SQL stores, unless [`Cleanup::Manual`]). Must be called within a tokio runtime.
    ///
    /// # Errors
    /// [`ConnectError::InvalidUrl`], [`ConnectError::UnknownScheme`] or
    /// [`ConnectError::InvalidOption`] for a URL that names no usable store;
    /// [`ConnectError::FeatureDisabled`] when its backend's feature is off;
    /// [`ConnectError::Store`] when the backend cannot be opened, reached or migrated.
    pub async fn connect(self) -> Result<ConnectedStore, ConnectError> {
        let target = parse(&self.url)?;
        let backend = open(target).await?;
        let connected = ConnectedStore { backend };
        if let (Cleanup::Background, Some(store)) = (self.cleanup, connected.expired_cleanup()) {
            session_core::spawn_cleanup(store, self.cleanup_interval, self.cleanup_batch).detach();
        }
        Ok(connected)
    }
}

/// The connected store, one variant per backend built in.
#[derive(Clone)]
enum Backend {
    #[cfg(feature = "memory")]
    Memory(Arc<session_store_memory::MemoryStore>),
    #[cfg(feature = "sqlite")]
    Sqlite(Arc<session_store_sqlite::SqliteStore>),
    #[cfg(feature = "postgres")]
    Postgres(Arc<session_store_postgres::PostgresStore>),
    #[cfg(feature = "mysql")]
    MySql(Arc<session_store_mysql::MySqlStore>),
    #[cfg(feature = "redis")]
    Redis(Arc<session_store_redis::RedisStore>),
}

fn failed(backend: &'static str) -> impl FnOnce(StoreError) -> ConnectError {
    move |source| ConnectError::Store { backend, source }
}

async fn open(target: Target) -> Result<Backend, ConnectError> {
    match target {
        #[cfg(feature = "memory")]
        Target::Memory {
            max_sessions,
            shards,
        } => {
            let mut builder = session_store_memory::MemoryStore::builder();
            if let Some(max) = max_sessions {
                builder = builder.max_sessions(max);
            }
            if let Some(shards) = shards {
                builder = builder.shards(shards);
            }
            let store = builder.build().map_err(failed("memory"))?;
            Ok(Backend::Memory(Arc::new(store)))
        }
        #[cfg(feature = "sqlite")]
        Target::Sqlite {
            path,
            pool_size,
            busy_timeout,
        } => {
            use session_store_sqlite::{Location, SqliteStoreBuilder};
            let location = path.map_or(Location::Memory, Location::File);
            let mut builder = SqliteStoreBuilder::new(location);
            if let Some(size) = pool_size {
                builder = builder.pool_size(size);
            }
            if let Some(timeout) = busy_timeout {
                builder = builder.busy_timeout(timeout);
            }
            let store = builder.open().await.map_err(failed("sqlite"))?;
            Ok(Backend::Sqlite(Arc::new(store)))
        }
        #[cfg(feature = "postgres")]
        Target::Postgres { url, schema, table } => {
            let mut builder = session_store_postgres::PostgresStore::builder();
            if let Some(schema) = schema {
                builder = builder.schema(schema);
            }
            if let Some(table) = table {
                builder = builder.table(table);
            }
            let store = builder.connect(&url).await.map_err(failed("postgres"))?;
            store.migrate().await.map_err(failed("postgres"))?;
            Ok(Backend::Postgres(Arc::new(store)))
        }
        #[cfg(feature = "mysql")]
        Target::MySql { url, table } => {
            let mut builder = session_store_mysql::MySqlStore::builder();
            if let Some(table) = table {
                builder = builder.table(table);
            }
            let store = builder.connect(&url).await.map_err(failed("mysql"))?;
            store.migrate().await.map_err(failed("mysql"))?;
            Ok(Backend::MySql(Arc::new(store)))
        }
        #[cfg(feature = "redis")]
        Target::Redis {
            url,
            prefix,
            cache,
            cache_staleness,
        } => {
            let builder = session_store_redis::RedisStore::builder(url);
            redis(builder, prefix, cache, cache_staleness).await
        }
        #[cfg(feature = "redis")]
        Target::RedisCluster {
            nodes,
            prefix,
            cache,
            cache_staleness,
        } => {
            let builder = session_store_redis::RedisStore::cluster_builder(nodes);
            redis(builder, prefix, cache, cache_staleness).await
        }
        #[allow(unreachable_patterns)] // every backend's feature on: nothing is left
        other => Err(ConnectError::FeatureDisabled {
            scheme: scheme_of(&other).to_owned(),
            feature: other.feature(),
        }),
    }
}

/// A Redis store (standalone or cluster, as the builder says) with the URL's key prefix and
/// client-side cache.
#[cfg(feature = "redis")]
async fn redis(
    mut builder: session_store_redis::RedisStoreBuilder,
    prefix: Option<String>,
    cache: Option<usize>,
    cache_staleness: Option<Duration>,
) -> Result<Backend, ConnectError> {
    if let Some(prefix) = prefix {
        builder = builder.prefix(prefix);
    }
    if let Some(sessions) = cache {
        builder = builder.client_cache(sessions);
    }
    if let Some(staleness) = cache_staleness {
        builder = builder.client_cache_staleness(staleness);
    }
    let store = builder.connect().await.map_err(failed("redis"))?;
    Ok(Backend::Redis(Arc::new(store)))
}

fn scheme_of(target: &Target) -> &'static str {
    match target {
        Target::Memory { .. } => "memory",
        Target::Sqlite { .. } => "sqlite",
        Target::Postgres { .. } => "postgres",
        Target::MySql { .. } => "mysql",
        Target::Redis { .. } => "redis",
        Target::RedisCluster { .. } => "redis+cluster",
    }
}

/// Runs `$body` with `$store` bound to the concrete store of whichever backend `$backend` is.
macro_rules! with_store {
    ($backend:expr, $store:ident => $body:expr) => {
        match $backend {
            #[cfg(feature = "memory")]
            Backend::Memory(ref $store) => $body,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(ref $store) => $body,
            #[cfg(feature = "postgres")]
            Backend::Postgres(ref $store) => $body,
            #[cfg(feature = "mysql")]
            Backend::MySql(ref $store) => $body,
            #[cfg(feature = "redis")]
            Backend::Redis(ref $store) => $body,
        }
    };
}

/// A ready store: connected, migrated, its cleanup running where it needs one. Cheap to clone.
///
/// Hand it to [`manager`](ConnectedStore::manager), which wires in every capability the backend
/// has, or take the pieces ([`store`](ConnectedStore::store),
/// [`subject_index`](ConnectedStore::subject_index), ...) for your own setup.
#[derive(Clone)]
pub struct ConnectedStore {
    backend: Backend,
}

impl std::fmt::Debug for ConnectedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectedStore")
            .field("backend", &self.backend_name())
            .finish()
    }
}

impl ConnectedStore {
    /// The backend's name: `memory`, `sqlite`, `postgres`, `mysql` or `redis`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            #[cfg(feature = "memory")]
            Backend::Memory(_) => "memory",
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => "sqlite",
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => "postgres",
            #[cfg(feature = "mysql")]
            Backend::MySql(_) => "mysql",
            #[cfg(feature = "redis")]
            Backend::Redis(_) => "redis",
        }
    }

    /// The store.
    pub fn store(&self) -> Arc<dyn Store> {
        with_store!(self.backend, store => store.clone() as Arc<dyn Store>)
    }

    /// The store's subject index (every backend of this family has one).
    pub fn subject_index(&self) -> Option<Arc<dyn SubjectIndex>> {
        with_store!(self.backend, store => Some(store.clone() as Arc<dyn SubjectIndex>))
    }

    /// The store's expired-session cleanup, where it needs one (SQLite, PostgreSQL, MySQL).
    pub fn expired_cleanup(&self) -> Option<Arc<dyn ExpiredCleanup>> {
        match self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(ref store) => Some(store.clone()),
            #[cfg(feature = "postgres")]
            Backend::Postgres(ref store) => Some(store.clone()),
            #[cfg(feature = "mysql")]
            Backend::MySql(ref store) => Some(store.clone()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Counting and listing sessions: every backend (on Redis a `SCAN` walk whose cost grows
    /// with every key on the server, for occasional use).
    pub fn enumerate(&self) -> Option<Arc<dyn Enumerate>> {
        match self.backend {
            #[cfg(feature = "memory")]
            Backend::Memory(ref store) => Some(store.clone()),
            #[cfg(feature = "redis")]
            Backend::Redis(ref store) => Some(store.clone()),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(ref store) => Some(store.clone()),
            #[cfg(feature = "postgres")]
            Backend::Postgres(ref store) => Some(store.clone()),
            #[cfg(feature = "mysql")]
            Backend::MySql(ref store) => Some(store.clone()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// A session manager over this store with `config`, and the subject index wired in, so
    /// `sessions_of`, `revoke_all` and the per-subject limit work on every backend.
    ///
    /// # Errors
    /// As [`SessionManagerBuilder::build`](session_core::SessionManagerBuilder::build).
    pub fn manager(&self, config: Config) -> Result<SessionManager, SessionError> {
        self.manager_observed(config, None)
    }

    /// As [`manager`](Self::manager), counting through `metrics` and observing the store
    /// ([`SessionManagerBuilder::metrics`](session_core::SessionManagerBuilder::metrics)).
    ///
    /// # Errors
    /// As [`manager`](Self::manager).
    pub fn manager_with_metrics(
        &self,
        config: Config,
        metrics: Arc<dyn Metrics>,
    ) -> Result<SessionManager, SessionError> {
        self.manager_observed(config, Some(metrics))
    }

    fn manager_observed(
        &self,
        config: Config,
        metrics: Option<Arc<dyn Metrics>>,
    ) -> Result<SessionManager, SessionError> {
        with_store!(self.backend, store => {
            let builder = SessionManager::builder_from_arc(store.clone())
                .config(config)
                .subject_index();
            match metrics {
                Some(metrics) => builder.metrics(metrics).build(),
                None => builder.build(),
            }
        })
    }

    /// As [`manager`](Self::manager), with the application's persistence hook.
    ///
    /// # Errors
    /// As [`manager`](Self::manager).
    pub fn manager_with_hook(
        &self,
        config: Config,
        hook: impl PersistHook,
    ) -> Result<SessionManager, SessionError> {
        with_store!(self.backend, store => SessionManager::builder_from_arc(store.clone())
            .config(config)
            .subject_index()
            .persist_hook(hook)
            .build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run by `scripts/test` with the memory feature alone, so the other four URLs are checked.
    #[tokio::test]
    async fn a_backend_that_is_not_built_in_names_its_feature() {
        let built_in = |feature: &str| match feature {
            "memory" => cfg!(feature = "memory"),
            "sqlite" => cfg!(feature = "sqlite"),
            "postgres" => cfg!(feature = "postgres"),
            "mysql" => cfg!(feature = "mysql"),
            _ => cfg!(feature = "redis"),
        };
        for (url, feature) in [
            ("memory://", "memory"),
            ("sqlite::memory:", "sqlite"),
            ("postgres://u:s3cret@h/db", "postgres"),
            ("mysql://u:s3cret@h/db", "mysql"),
            ("mariadb://u:s3cret@h/db", "mysql"),
            ("redis://:s3cret@h", "redis"),
            ("redis+cluster://h:1,h:2", "redis"),
        ] {
            if built_in(feature) {
                continue;
            }
            let error = connect(url).await.unwrap_err();
            let text = error.to_string();
            assert!(
                matches!(error, ConnectError::FeatureDisabled { feature: named, .. } if named == feature),
                "{url}: {text}"
            );
            assert!(
                text.contains(&format!("features = [\"{feature}\"]")),
                "{text}"
            );
            assert!(!text.contains("s3cret"), "{text}");
        }
    }
}
