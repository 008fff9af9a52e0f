//! Test helpers shared by the workspace's backends: each finds a server from the environment or
//! the standard local port, else starts a throwaway one from the installed binaries, else fails
//! naming the package to install. A backend test never passes by skipping.
//!
//! # Layout
//!
//! - `counting`: [`CountingStore`], a real store whose calls are counted.
//! - `http_suite`: the behaviour every framework bridge keeps, over real HTTP.
//! - `backends`: every backend by its `session-stores` URL, and [`on_every_backend!`].
//! - `outage`: [`assert_unavailable`] and [`until_recovered`] for the outage tests.
//! - `process`: free ports, waiting for a port, finding binaries, teardown after exit.
//! - `mysql`: [`mysql_url`], per-run table prefixes, and [`MariaDbServer`] for outage tests.
//! - `postgres`: [`postgres_url`], per-run schemas, and [`PgCluster`] for outage tests.
//! - `upgrade`: [`check_upgraded`], the data and checks of the SQL stores' upgrade tests.
//! - `rng`: [`Rng`], the seedable random source of the property tests, and [`env_number`].
//! - `redis`: [`redis_url`], [`redis_cluster_urls`], [`RedisServer`] for outage tests,
//!   [`RedisCluster`], and [`redis_cli_output`] for inspection.

mod backends;
mod counting;
pub mod http_suite;
mod mysql;
mod outage;
mod postgres;
pub mod process;
mod redis;
mod rng;
mod upgrade;

pub use backends::{BACKENDS, BackendUrl, backend_url};
pub use counting::{CountingStore, Counts};
pub use mysql::{
    MariaDbServer, TABLE_PREFIX, drop_tables_after_run, mysql_url, scratch_mysql_url,
    unique_table_prefix,
};
pub use outage::{assert_unavailable, until_recovered};
pub use postgres::{
    PgCluster, SCHEMA_PREFIX, drop_schema_after_run, postgres_url, scratch_postgres_url,
    unique_schema,
};
pub use redis::{RedisCluster, RedisServer, redis_cli_output, redis_cluster_urls, redis_url};
pub use rng::{Rng, env_number};
pub use upgrade::{OldSessions, awkward_entries, check_upgraded};
