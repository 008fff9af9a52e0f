//! tower-sessions' sqlx stores (SQLite, PostgreSQL, MySQL) as bench rows, in a process of their
//! own: sqlx 0.8, which they need, cannot be built beside session-bench's sqlx 0.9 and rusqlite.
//! `session-bench` builds and runs this binary (its `elsewhere` module), one round of one row per
//! run; the measurements go to stdout as JSON lines, progress to stderr.
//!
//! The workload, the adapter over tower-sessions' `SessionStore` and the round itself are
//! session-bench's own source files, compiled here too, so both processes measure the same way.
//!
//! Usage: `session-bench-peers-sqlx --backend sqlite|postgres|mysql --url URL (a directory for
//! SQLite) --workloads mixed,create,counter --concurrency 1,32 --duration S --warmup S
//! --sessions N --round R`

// The shared files hold what session-bench's other rows use too.
#![allow(dead_code)]

#[path = "../../src/adapter.rs"]
mod adapter;
#[path = "../../src/rounds.rs"]
mod rounds;
#[path = "../../src/tower_sessions_peer.rs"]
mod tower_sessions_peer;
#[path = "../../src/workload.rs"]
mod workload;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use adapter::{Adapter, Error, Factory, Kind};
use rounds::{Results, Settings};
use tower_sessions_peer::Peer;
use workload::{Pools, Workload};

/// The schema or table the stores are made in, emptied before each phase.
const NAME: &str = "bench_tower_sessions";

/// One of tower-sessions' sqlx stores on an emptied backend.
struct SqlxPeer {
    backend: String,
    url: String,
}

#[async_trait]
impl Factory for SqlxPeer {
    fn library(&self) -> &str {
        "tower-sessions"
    }
    fn backend(&self) -> &str {
        &self.backend
    }
    fn kind(&self) -> Kind {
        Kind::Peer
    }
    async fn make(&self) -> Result<Box<dyn Adapter>, Error> {
        Ok(match self.backend.as_str() {
            "sqlite" => Box::new(Peer(sqlite(&self.url).await?)),
            "postgres" => Box::new(Peer(postgres(&self.url).await?)),
            "mysql" => Box::new(Peer(mysql(&self.url).await?)),
            other => return Err(format!("unknown backend {other:?}").into()),
        })
    }
}

/// A fresh file in `dir`, in WAL mode, through a pool of 10.
async fn sqlite(dir: &str) -> Result<tower_sessions_sqlx_store::SqliteStore, Error> {
    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    let n: u64 = rand::random();
    let options = SqliteConnectOptions::new()
        .filename(PathBuf::from(dir).join(format!("tower-sessions-{n:x}.db")))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(10)
        .connect_with(options)
        .await?;
    let store = tower_sessions_sqlx_store::SqliteStore::new(pool);
    store.migrate().await?;
    Ok(store)
}

/// A dropped and re-made schema, through a pool of 10 (as our rows).
async fn postgres(url: &str) -> Result<tower_sessions_sqlx_store::PostgresStore, Error> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(10)
        .connect(url)
        .await?;
    sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS \"{NAME}\" CASCADE"))
        .execute(&pool)
        .await?;
    let store = tower_sessions_sqlx_store::PostgresStore::new(pool).with_schema_name(NAME)?;
    store.migrate().await?;
    Ok(store)
}

/// A dropped and re-made table in the URL's database, through a pool of 10 (as our rows).
async fn mysql(url: &str) -> Result<tower_sessions_sqlx_store::MySqlStore, Error> {
    let pool = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(10)
        .connect(url)
        .await?;
    let database: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(&pool)
        .await?;
    let database = database.ok_or("the MySQL URL names no database")?;
    sqlx::raw_sql(&format!("DROP TABLE IF EXISTS `{database}`.`{NAME}`"))
        .execute(&pool)
        .await?;
    let store = tower_sessions_sqlx_store::MySqlStore::new(pool)
        .with_schema_name(&database)?
        .with_table_name(NAME)?;
    store.migrate().await?;
    Ok(store)
}

struct Options {
    factory: SqlxPeer,
    workloads: Vec<Workload>,
    settings: Settings,
    round: usize,
}

fn options() -> Result<Options, Error> {
    let mut args = std::env::args().skip(1);
    let (mut backend, mut url, mut workloads, mut round) = (None, None, None, 0);
    let mut settings = Settings {
        concurrency: vec![1, 32],
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(5),
        sessions: 10_000,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let secs = |v: &str| -> Result<Duration, Error> { Ok(Duration::from_secs_f64(v.parse()?)) };
        match flag.as_str() {
            "--backend" => backend = Some(value),
            "--url" => url = Some(value),
            "--workloads" => {
                let list: Result<Vec<Workload>, Error> = value
                    .split(',')
                    .map(|w| {
                        Workload::parse(w).ok_or_else(|| format!("unknown workload {w:?}").into())
                    })
                    .collect();
                workloads = Some(list?);
            }
            "--concurrency" => {
                settings.concurrency = value.split(',').map(str::parse).collect::<Result<_, _>>()?
            }
            "--duration" => settings.duration = secs(&value)?,
            "--warmup" => settings.warmup = secs(&value)?,
            "--sessions" => settings.sessions = value.parse()?,
            "--round" => round = value.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    Ok(Options {
        factory: SqlxPeer {
            backend: backend.ok_or("--backend is required")?,
            url: url.ok_or("--url is required")?,
        },
        workloads: workloads.ok_or("--workloads is required")?,
        settings,
        round,
    })
}

fn main() -> Result<(), Error> {
    let o = options()?;
    rounds::runtime()?.block_on(async {
        let pools = Arc::new(Pools::new(rounds::POOL_SEED));
        let mut results = Results::new();
        rounds::measure_row(
            &o.factory,
            &o.workloads,
            &o.settings,
            &pools,
            o.round,
            &mut results,
        )
        .await?;
        for (key, runs) in &results {
            for measured in runs {
                println!("{}", rounds::to_wire(key, measured));
            }
        }
        Ok(())
    })
}
