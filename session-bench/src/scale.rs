//! The scale mode: how the cost of a read grows with the number of sessions in the store and with
//! the number of keys in a session, how long cleanup takes, and what a memory-store session costs
//! in heap.
//!
//! Sessions are named by `id_for(n)` (SHA-256 of `n`), so the bulk fills below and the reads agree
//! on ids without keeping a million handles. Memory and Redis are filled through the store; SQLite
//! and PostgreSQL through one bulk insert into the store's own tables (a million sessions through
//! per-session transactions would take minutes), then read back through the store.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::json;
use session_core::{Change, DocumentEdit, ExpiredCleanup, SessionId, Store, delete_all_expired};
use session_store_memory::MemoryStore;
use session_store_postgres::PostgresStore;
use session_store_redis::RedisStore;
use session_store_sqlite::SqliteStore;
use sha2::{Digest, Sha256};

use crate::adapter::Error;
use crate::allocator;
use crate::backends::{Servers, flushed_redis, pg_schema, sqlite_path};
use crate::workload::{KEYS, Pools, TTL};

/// What the scale mode measures.
#[derive(Debug, Clone)]
pub struct ScaleOptions {
    /// Session counts at which `get` is measured (filled incrementally).
    pub sizes: Vec<usize>,
    /// Keys per session at which `get_all` is measured.
    pub key_counts: Vec<usize>,
    /// Expired-session counts whose cleanup is timed.
    pub expired: Vec<usize>,
    /// Measured `get` calls per size (a tenth of that per `get_all` size).
    pub samples: usize,
    /// Sessions whose heap cost the memory store's figure averages over.
    pub memory_sessions: usize,
}

impl ScaleOptions {
    /// The figures: 10k/100k/1M sessions, 10/100/1,000 keys, 10k/100k expired.
    pub fn full() -> Self {
        Self {
            sizes: vec![10_000, 100_000, 1_000_000],
            key_counts: vec![10, 100, 1000],
            expired: vec![10_000, 100_000],
            samples: 20_000,
            memory_sessions: 100_000,
        }
    }

    /// A few-second pass that exercises every path.
    pub fn smoke() -> Self {
        Self {
            sizes: vec![1_000, 2_000],
            key_counts: vec![10, 100],
            expired: vec![1_000],
            samples: 500,
            memory_sessions: 1_000,
        }
    }
}

/// One scale figure.
#[derive(Debug, Clone)]
pub struct Figure {
    /// `get`, `get_all`, `cleanup` or `heap`.
    pub case: &'static str,
    pub backend: &'static str,
    /// Sessions in the store (`get`), keys in the session (`get_all`), expired sessions
    /// (`cleanup`), sessions held (`heap`).
    pub n: usize,
    pub p50_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub seconds: Option<f64>,
    pub bytes_per_session: Option<f64>,
    /// For `heap`: the bytes per session in glibc malloc chunks (headers and rounding included).
    pub resident_per_session: Option<f64>,
    /// What the figure is of, for the table.
    pub note: &'static str,
}

impl Figure {
    fn latency(case: &'static str, backend: &'static str, n: usize, h: &Histogram<u64>) -> Self {
        Self {
            case,
            backend,
            n,
            p50_us: Some(h.value_at_quantile(0.5) as f64 / 1000.0),
            p99_us: Some(h.value_at_quantile(0.99) as f64 / 1000.0),
            seconds: None,
            bytes_per_session: None,
            resident_per_session: None,
            note: "",
        }
    }

    /// The JSON line.
    pub fn json(&self) -> String {
        json!({
            "mode": "scale", "case": self.case, "backend": self.backend, "n": self.n,
            "p50_us": self.p50_us, "p99_us": self.p99_us, "seconds": self.seconds,
            "bytes_per_session": self.bytes_per_session,
            "resident_per_session": self.resident_per_session, "note": self.note,
        })
        .to_string()
    }
}

/// The id of the `n`th scale session: SHA-256 of `n` as a big-endian `i64`, as PostgreSQL's
/// `sha256(int8send(n))` computes it.
pub fn id_for(n: u64) -> SessionId {
    SessionId::from_bytes(Sha256::digest((n as i64).to_be_bytes()).into())
}

/// How sessions get into one backend.
enum Fill {
    /// Through `set_many`, 64 at a time.
    Store,
    /// Bulk inserts into the store's SQLite file.
    Sqlite(PathBuf),
    /// Bulk `INSERT ... SELECT generate_series` into the store's schema.
    Postgres { pool: sqlx::PgPool, schema: String },
}

/// One backend under test.
struct Target {
    backend: &'static str,
    store: Arc<dyn Store>,
    cleanup: Option<Arc<dyn ExpiredCleanup>>,
    fill: Fill,
}

/// The value of key `k` of scale session `n`, from the workload's pool.
fn value_for(pools: &Pools, n: u64, k: usize) -> &str {
    &pools.values[(n as usize * KEYS + k) % pools.values.len()]
}

impl Target {
    /// Adds sessions `from..to`, live for the workload's TTL, or already expired.
    async fn fill(
        &self,
        pools: &Arc<Pools>,
        from: u64,
        to: u64,
        expired: bool,
    ) -> Result<(), Error> {
        match &self.fill {
            Fill::Store => {
                if expired {
                    return Err("the store fill writes live sessions only".into());
                }
                let tasks: Vec<_> = (0..64)
                    .map(|t| {
                        let (store, pools) = (self.store.clone(), pools.clone());
                        tokio::spawn(async move {
                            for n in (from + t..to).step_by(64) {
                                let changes = (0..KEYS)
                                    .map(|k| {
                                        let value = value_for(&pools, n, k);
                                        Change::Set(pools.keys[k].clone(), value.into())
                                    })
                                    .collect();
                                store.set_many(&id_for(n), changes, TTL).await?;
                            }
                            Ok::<_, Error>(())
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await??;
                }
                Ok(())
            }
            Fill::Sqlite(path) => {
                let (path, pools) = (path.clone(), pools.clone());
                tokio::task::spawn_blocking(move || fill_sqlite(&path, &pools, from, to, expired))
                    .await?
            }
            Fill::Postgres { pool, schema } => {
                fill_postgres(pool, schema, pools, from, to, expired).await
            }
        }
    }
}

fn fill_sqlite(
    path: &PathBuf,
    pools: &Pools,
    from: u64,
    to: u64,
    expired: bool,
) -> Result<(), Error> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let expires_at = if expired {
        now - 60_000
    } else {
        now + TTL.as_millis() as i64
    };
    let tx = conn.transaction()?;
    {
        let mut session =
            tx.prepare("INSERT INTO sessions (id, expires_at, data) VALUES (?1, ?2, jsonb(?3))")?;
        for n in from..to {
            let id = id_for(n);
            let changes = (0..KEYS)
                .map(|k| Change::Set(pools.keys[k].clone(), value_for(pools, n, k).into()))
                .collect();
            let data = DocumentEdit::new(changes, usize::MAX)?.new_document();
            session.execute(rusqlite::params![&id.as_bytes()[..], expires_at, data])?;
        }
    }
    tx.commit()?;
    Ok(())
}

async fn fill_postgres(
    pool: &sqlx::PgPool,
    schema: &str,
    pools: &Pools,
    from: u64,
    to: u64,
    expired: bool,
) -> Result<(), Error> {
    let values: Vec<String> = pools
        .values
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<_, _>>()?;
    let offset_ms: i64 = if expired {
        -60_000
    } else {
        TTL.as_millis() as i64
    };
    // One row per session, its keys (`k0`..) in the document under the member names
    // `document_member` gives them (`k` and the key's bytes in hex); value_for:
    // values[(n * KEYS + k) % len], arrays 1-based.
    let sessions = format!(
        "INSERT INTO \"{schema}\".sessions (id, expires_at, data) \
         SELECT sha256(int8send(g)), now() + $3 * interval '1 millisecond', \
             (SELECT jsonb_object_agg( \
                 'k' || encode(convert_to('k' || k, 'UTF8'), 'hex'), \
                 ($4::text[])[1 + ((g * {KEYS} + k) % {len})]) \
              FROM generate_series(0, {last}) k) \
         FROM generate_series($1::bigint, $2::bigint) g",
        len = values.len(),
        last = KEYS - 1
    );
    // Chunks keep each statement's transaction and memory moderate.
    let mut start = from;
    while start < to {
        let end = (start + 100_000).min(to);
        sqlx::query(sqlx::AssertSqlSafe(sessions.as_str()))
            .bind(start as i64)
            .bind(end as i64 - 1)
            .bind(offset_ms)
            .bind(&values)
            .execute(pool)
            .await?;
        start = end;
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ANALYZE \"{schema}\".sessions"
    )))
    .execute(pool)
    .await?;
    Ok(())
}

/// The backends, each on a fresh, empty store; `label` keeps SQLite files and schemas apart.
async fn targets(servers: &Servers, only: &[String], label: &str) -> Result<Vec<Target>, Error> {
    let wanted =
        |backend: &str| only.is_empty() || only.iter().any(|o| backend.contains(o.as_str()));
    let mut out = Vec::new();
    if wanted("memory") {
        out.push(Target {
            backend: "memory",
            store: Arc::new(MemoryStore::builder().max_sessions(10_000_000).build()?),
            cleanup: None,
            fill: Fill::Store,
        });
    }
    if wanted("redis") {
        let conn = flushed_redis(&servers.redis_url).await?;
        out.push(Target {
            backend: "redis",
            store: Arc::new(RedisStore::builder_with_manager(conn).connect().await?),
            cleanup: None,
            fill: Fill::Store,
        });
    }
    if wanted("sqlite") {
        let path = sqlite_path(servers, &format!("scale-{label}"));
        let store = Arc::new(SqliteStore::open(&path).await?);
        out.push(Target {
            backend: "sqlite",
            store: store.clone(),
            cleanup: Some(store),
            fill: Fill::Sqlite(path),
        });
    }
    if wanted("postgres") {
        let (pool, schema) = pg_schema(&servers.postgres_url, &format!("scale_{label}")).await?;
        let store = PostgresStore::builder()
            .schema(schema.clone())
            .build(pool.clone())?;
        store.migrate().await?;
        let store = Arc::new(store);
        out.push(Target {
            backend: "postgres",
            store: store.clone(),
            cleanup: Some(store),
            fill: Fill::Postgres { pool, schema },
        });
    }
    Ok(out)
}

/// Frees what a target holds on its server (the SQLite file goes with the temp dir).
async fn release(target: Target) -> Result<(), Error> {
    match target.fill {
        Fill::Postgres { pool, schema } => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
            )))
            .execute(&pool)
            .await?;
        }
        Fill::Sqlite(path) => {
            drop(target.store);
            let _ = std::fs::remove_file(&path);
        }
        // Redis is flushed when the next store opens; memory goes with the store.
        Fill::Store => {}
    }
    Ok(())
}

/// `samples` sequential calls of `call(i)`, after a tenth as many unrecorded; each must succeed.
async fn sample<F, Fut>(samples: usize, mut call: F) -> Result<Histogram<u64>, Error>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<bool, Error>>,
{
    let mut histogram = Histogram::<u64>::new(3)?;
    for i in 0..samples / 10 + samples {
        let began = Instant::now();
        let found = call(i).await?;
        let took = began.elapsed();
        if !found {
            return Err(format!("scale: call {i} found nothing").into());
        }
        if i >= samples / 10 {
            histogram.record(took.as_nanos() as u64)?;
        }
    }
    Ok(histogram)
}

/// `get` p50 at each size, then `get_all` at each key count, on one store per backend.
async fn reads(
    target: &Target,
    o: &ScaleOptions,
    pools: &Arc<Pools>,
    out: &mut Vec<Figure>,
) -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut filled = 0u64;
    for &size in &o.sizes {
        let began = Instant::now();
        target.fill(pools, filled, size as u64, false).await?;
        filled = size as u64;
        eprintln!(
            "scale: {} filled to {size} sessions in {:.1} s",
            target.backend,
            began.elapsed().as_secs_f64()
        );
        // Three batches, and the one with the median p50: the machine is noisy.
        let mut batches = Vec::new();
        for _ in 0..3 {
            let requests: Vec<(SessionId, usize)> = (0..o.samples + o.samples / 10)
                .map(|_| {
                    (
                        id_for(rng.random_range(0..filled)),
                        rng.random_range(0..KEYS),
                    )
                })
                .collect();
            let h = sample(o.samples, |i| {
                let (id, k) = &requests[i];
                let store = &target.store;
                async move { Ok(store.get(id, &pools.keys[*k], None).await?.is_some()) }
            })
            .await?;
            batches.push(h);
        }
        batches.sort_by_key(|h| h.value_at_quantile(0.5));
        out.push(Figure::latency("get", target.backend, size, &batches[1]));
        eprintln!("{}", out.last().map(Figure::json).unwrap_or_default());
    }
    for &keys in &o.key_counts {
        // 100 sessions of `keys` keys each, beside the big population.
        let base = 2_000_000_000 + keys as u64 * 1000;
        for s in 0..100 {
            let changes = (0..keys)
                .map(|k| {
                    let value = value_for(pools, s, k);
                    Change::Set(format!("f{k}"), value.into())
                })
                .collect();
            target
                .store
                .set_many(&id_for(base + s), changes, TTL)
                .await?;
        }
        let picks: Vec<SessionId> = (0..o.samples / 10 + o.samples / 100)
            .map(|_| id_for(base + rng.random_range(0..100)))
            .collect();
        let h = sample(o.samples / 10, |i| {
            let (id, store) = (&picks[i], &target.store);
            async move {
                let map = store.get_all(id, None).await?;
                Ok(map.is_some_and(|m| m.len() == keys))
            }
        })
        .await?;
        out.push(Figure::latency("get_all", target.backend, keys, &h));
        eprintln!("{}", out.last().map(Figure::json).unwrap_or_default());
    }
    Ok(())
}

/// The floor for the memory store's `get` growth: a plain `HashMap` of `HashMap`s behind a lock
/// (the workload's raw-hashmap layout), filled to the same sizes and read the same way. What it
/// loses from 10k to 1M sessions is the machine's (caches, TLB), not the store's.
async fn floor_reads(o: &ScaleOptions, pools: &Pools, out: &mut Vec<Figure>) -> Result<(), Error> {
    type Sessions = std::collections::HashMap<u64, std::collections::HashMap<String, String>>;
    let map = std::sync::Mutex::new(Sessions::new());
    let mut rng = StdRng::seed_from_u64(7);
    let mut filled = 0u64;
    for &size in &o.sizes {
        {
            let mut map = map.lock().map_err(|_| "poisoned")?;
            for n in filled..size as u64 {
                let data = (0..KEYS)
                    .map(|k| (pools.keys[k].clone(), value_for(pools, n, k).to_owned()))
                    .collect();
                map.insert(n.wrapping_mul(0x9E37_79B9_7F4A_7C15), data);
            }
        }
        filled = size as u64;
        let requests: Vec<(u64, usize)> = (0..o.samples + o.samples / 10)
            .map(|_| {
                let n: u64 = rng.random_range(0..filled);
                (
                    n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    rng.random_range(0..KEYS),
                )
            })
            .collect();
        let h = sample(o.samples, |i| {
            let (id, k) = requests[i];
            let found = map
                .lock()
                .map(|m| m.get(&id).and_then(|s| s.get(&pools.keys[k])).cloned())
                .ok()
                .flatten()
                .is_some();
            async move { Ok(found) }
        })
        .await?;
        out.push(Figure::latency("get-floor", "memory", size, &h));
        eprintln!("{}", out.last().map(Figure::json).unwrap_or_default());
    }
    Ok(())
}

/// The time `delete_all_expired` takes to remove `expired` sessions from beside the workload's
/// 10,000 live ones.
async fn cleanup(
    servers: &Servers,
    only: &[String],
    o: &ScaleOptions,
    pools: &Arc<Pools>,
    out: &mut Vec<Figure>,
) -> Result<(), Error> {
    for &expired in &o.expired {
        for target in targets(servers, only, &format!("cleanup_{expired}")).await? {
            let Some(cleanup) = target.cleanup.clone() else {
                release(target).await?;
                continue;
            };
            let live = 10_000u64.min(expired as u64);
            target.fill(pools, 0, live, false).await?;
            target
                .fill(pools, live, live + expired as u64, true)
                .await?;
            let began = Instant::now();
            let removed =
                delete_all_expired(cleanup.as_ref(), session_core::DEFAULT_CLEANUP_BATCH).await?;
            let seconds = began.elapsed().as_secs_f64();
            if removed != expired as u64 {
                return Err(format!(
                    "scale: cleanup on {} removed {removed} of {expired} expired sessions",
                    target.backend
                )
                .into());
            }
            out.push(Figure {
                case: "cleanup",
                backend: target.backend,
                n: expired,
                p50_us: None,
                p99_us: None,
                seconds: Some(seconds),
                bytes_per_session: None,
                resident_per_session: None,
                note: "",
            });
            eprintln!("{}", out.last().map(Figure::json).unwrap_or_default());
            release(target).await?;
        }
    }
    Ok(())
}

/// The heap a memory-store session of the workload holds: through the store (its 10 keys), and
/// through the manager (plus its metadata key), counted by the bench's global allocator.
async fn heap(o: &ScaleOptions, pools: &Arc<Pools>, out: &mut Vec<Figure>) -> Result<(), Error> {
    let count = o.memory_sessions;
    for manager_path in [false, true] {
        let store = Arc::new(MemoryStore::builder().max_sessions(10_000_000).build()?);
        let manager = crate::ours::manager(store.clone())?;
        // Built before counting, so only what the store keeps stays counted.
        let sets: Vec<&Vec<(String, String)>> = (0..count)
            .map(|n| &pools.data_sets[n % pools.data_sets.len()])
            .collect();
        let mut keep = Vec::with_capacity(count);
        let before = allocator::start_counting();
        for data in &sets {
            if manager_path {
                let session = manager.create()?;
                for (k, v) in data.iter() {
                    session.set(k, v)?;
                }
                session.save().await?;
                keep.push(session.id());
            } else {
                let id = session_core::Token::generate()?.id();
                let changes = data
                    .iter()
                    .map(|(k, v)| Change::Set(k.clone(), v.as_str().into()))
                    .collect();
                store.set_many(&id, changes, TTL).await?;
                keep.push(id);
            }
        }
        let grown = allocator::stop_counting() - before;
        // The ids were kept by the harness, not the store.
        let bytes = (keep.capacity() * std::mem::size_of::<SessionId>()) as isize;
        let per_session = |grown: isize, kept: isize| (grown - kept).max(0) as f64 / count as f64;
        out.push(Figure {
            case: "heap",
            backend: "memory",
            n: count,
            p50_us: None,
            p99_us: None,
            seconds: None,
            bytes_per_session: Some(per_session(grown.requested, bytes)),
            resident_per_session: Some(per_session(grown.chunks, allocator::chunk(bytes as usize))),
            note: if manager_path {
                "through the manager (10 keys + metadata)"
            } else {
                "through the store (10 keys)"
            },
        });
        eprintln!("{}", out.last().map(Figure::json).unwrap_or_default());
        drop(manager);
    }
    Ok(())
}

/// Runs the scale mode on the backends `only` selects.
pub async fn run(
    servers: &Servers,
    only: &[String],
    o: &ScaleOptions,
    pools: &Arc<Pools>,
) -> Result<Vec<Figure>, Error> {
    let mut out = Vec::new();
    for target in targets(servers, only, "reads").await? {
        reads(&target, o, pools, &mut out).await?;
        release(target).await?;
    }
    cleanup(servers, only, o, pools, &mut out).await?;
    if only.is_empty() || only.iter().any(|b| "memory".contains(b.as_str())) {
        floor_reads(o, pools, &mut out).await?;
        heap(o, pools, &mut out).await?;
    }
    Ok(out)
}

/// The markdown tables of the scale figures.
pub fn markdown(figures: &[Figure]) -> String {
    let mut out = String::new();
    let table = |case: &str, head: &str| {
        let mut t = format!("| backend | {head} | p50 µs | p99 µs |\n|---|---:|---:|---:|\n");
        for f in figures.iter().filter(|f| f.case == case) {
            t += &format!(
                "| {} | {} | {:.1} | {:.1} |\n",
                f.backend,
                f.n,
                f.p50_us.unwrap_or(f64::NAN),
                f.p99_us.unwrap_or(f64::NAN)
            );
        }
        t
    };
    out += "`get` of one key, by sessions in the store:\n\n";
    out += &table("get", "sessions");
    out += "\nThe floor for memory, a `HashMap` of `HashMap`s behind a lock, filled and read alike:\n\n";
    out += &table("get-floor", "sessions");
    for (case, backend) in [
        ("get", "memory"),
        ("get-floor", "memory"),
        ("get", "redis"),
        ("get", "sqlite"),
        ("get", "postgres"),
    ] {
        let p50s: Vec<&Figure> = figures
            .iter()
            .filter(|f| f.case == case && f.backend == backend)
            .collect();
        if let (Some(first), Some(last)) = (p50s.first(), p50s.last())
            && p50s.len() > 1
        {
            out += &format!(
                "\n{backend} ({case}): p50 at {} sessions is {:.2}x p50 at {}",
                last.n,
                last.p50_us.unwrap_or(0.0) / first.p50_us.unwrap_or(f64::NAN),
                first.n
            );
        }
    }
    out += "\n\n`get_all`, by keys in the session:\n\n";
    out += &table("get_all", "keys");
    out += "\nCleanup (`delete_all_expired`, batches of 1,000) beside 10,000 live sessions:\n\n\
            | backend | expired sessions | seconds |\n|---|---:|---:|\n";
    for f in figures.iter().filter(|f| f.case == "cleanup") {
        out += &format!(
            "| {} | {} | {:.2} |\n",
            f.backend,
            f.n,
            f.seconds.unwrap_or(f64::NAN)
        );
    }
    out += "\nMemory store, bytes per workload session: the live heap the allocator counted, as \
            asked for and as glibc malloc chunks (8-byte header, 16-byte rounding):\n\n\
            | path | sessions | requested bytes/session | in malloc chunks |\n|---|---:|---:|---:|\n";
    for f in figures.iter().filter(|f| f.case == "heap") {
        out += &format!(
            "| {} | {} | {:.0} | {:.0} |\n",
            f.note,
            f.n,
            f.bytes_per_session.unwrap_or(f64::NAN),
            f.resident_per_session.unwrap_or(f64::NAN)
        );
    }
    out
}
