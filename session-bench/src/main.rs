//! The benchmark binary: `cargo run --release -p session-bench -- --all`.
//!
//! Three modes (`--mode workload,scale,http`; `--all` runs them all, three interleaved rounds):
//!
//! - **workload**: `shared/bench/WORKLOAD.md` (10,000 pre-populated sessions of 10 keys; `mixed` =
//!   90% reads / 10% writes, and `create`; closed loops of 1 and 32 tasks on a 2-worker runtime;
//!   warm-up, then a timed window; HDR latencies) against every backend through our store, through
//!   the store making the manager's calls, through the manager, through the raw driver (the floor)
//!   and through the peers (feature `peers`, on by default).
//! - **scale**: `get` at 10k/100k/1M sessions, `get_all` at 10/100/1,000 keys, cleanup of 10k and
//!   100k expired sessions, and memory-store bytes per session from a counting allocator.
//! - **http**: an axum handler reading one key behind our layer, tower-sessions' and none.
//!
//! Prints one JSON line per row, then markdown tables with the ratios. docs/PERFORMANCE.md explains
//! the rows and the figures.
//!
//! # Layout
//!
//! - `adapter`: what every measured library implements.
//! - `workload`: pools, pre-population, phases, timing; `rounds`: one round of a row.
//! - `ours`: our store, whole-session and manager paths.
//! - `raw`: the raw-driver floors; `raw_creates`: a Redis create sent three other ways.
//! - `peers`: tower-sessions' stores (feature `peers`): `tower_sessions_peer` drives one, and
//!   `elsewhere` runs its sqlx stores in a process of their own (`peers-sqlx/`).
//! - `backends`: the rows, made fresh on emptied backends.
//! - `report`: JSON lines and the markdown table.
//! - `scale`: the scale mode; `allocator`: the counting allocator it reads.
//! - `http`: the HTTP mode's layers.

mod actix;
mod adapter;
mod allocator;
mod backends;
#[cfg(feature = "peers")]
mod elsewhere;
mod http;
mod ours;
#[cfg(feature = "peers")]
mod peers;
mod raw;
mod raw_creates;
mod report;
mod rounds;
mod scale;
#[cfg(feature = "peers")]
mod tower_sessions_peer;
mod workload;

/// Counts heap bytes for the scale mode's memory figure (off unless asked).
#[global_allocator]
static ALLOCATOR: allocator::Counting = allocator::Counting;

use std::sync::Arc;
use std::time::Duration;

use adapter::{Error, Factory, Kind};
use report::Row;
use rounds::{Results, Settings};
use workload::{Measured, Pools, Workload};

const USAGE: &str = "usage: session-bench [--all] [--mode workload,scale,http] [--smoke] [--only a,b] \
[--workloads mixed,create,counter] [--concurrency 1,32] [--duration SECS] [--warmup SECS] [--rounds N] [--sessions N] [--redis-url URL] [--database-url URL] [--mysql-url URL]";

/// The three modes: the workload's rows, how cost grows, and the HTTP layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Workload,
    Scale,
    Http,
}

struct Options {
    modes: Vec<Mode>,
    scale: scale::ScaleOptions,
    only: Vec<String>,
    workloads: Vec<Workload>,
    settings: Settings,
    rounds: usize,
    redis_url: Option<String>,
    database_url: Option<String>,
    mysql_url: Option<String>,
}

fn list<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, Error> {
    text.split(',')
        .map(|s| parse(s.trim()).ok_or_else(|| format!("bad value {s:?}\n{USAGE}").into()))
        .collect()
}

fn secs(text: &str) -> Result<Duration, Error> {
    Ok(Duration::from_secs_f64(
        text.parse::<f64>()
            .map_err(|_| format!("bad duration {text:?}"))?,
    ))
}

fn options() -> Result<Options, Error> {
    let mut o = Options {
        modes: vec![Mode::Workload],
        scale: scale::ScaleOptions::full(),
        only: Vec::new(),
        workloads: vec![Workload::Mixed, Workload::Create, Workload::Counter],
        settings: Settings {
            concurrency: vec![1, 32],
            duration: Duration::from_secs(5),
            warmup: Duration::from_secs(1),
            sessions: 10_000,
        },
        rounds: 1,
        redis_url: None,
        database_url: None,
        mysql_url: None,
    };
    // `--all` reports medians of three interleaved rounds unless told otherwise; a smoke run
    // only proves the paths work, so one round does.
    let (mut rounds, mut rounds_default, mut smoke) = (None, 1, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| Error::from(USAGE));
        match arg.as_str() {
            "--all" => {
                o.modes = vec![Mode::Workload, Mode::Scale, Mode::Http];
                rounds_default = 3;
            }
            "--mode" => {
                o.modes = list(&value()?, |s| match s {
                    "workload" => Some(Mode::Workload),
                    "scale" => Some(Mode::Scale),
                    "http" => Some(Mode::Http),
                    _ => None,
                })?
            }
            "--smoke" => {
                smoke = true;
                o.settings.duration = Duration::from_millis(300);
                o.settings.warmup = Duration::from_millis(100);
                o.settings.sessions = 300;
                o.scale = scale::ScaleOptions::smoke();
            }
            "--only" => o.only = list(&value()?, |s| Some(s.to_owned()))?,
            "--workloads" => {
                o.workloads = list(&value()?, |s| match s {
                    "mixed" => Some(Workload::Mixed),
                    "create" => Some(Workload::Create),
                    "counter" => Some(Workload::Counter),
                    _ => None,
                })?
            }
            "--concurrency" => {
                o.settings.concurrency = list(&value()?, |s| s.parse().ok().filter(|c| *c > 0))?
            }
            "--duration" => o.settings.duration = secs(&value()?)?,
            "--warmup" => o.settings.warmup = secs(&value()?)?,
            "--rounds" => rounds = Some(value()?.parse().map_err(|_| USAGE)?),
            "--sessions" => o.settings.sessions = value()?.parse().map_err(|_| USAGE)?,
            "--redis-url" => o.redis_url = Some(value()?),
            "--database-url" => o.database_url = Some(value()?),
            "--mysql-url" => o.mysql_url = Some(value()?),
            _ => return Err(USAGE.into()),
        }
    }
    o.rounds = rounds.unwrap_or(if smoke { 1 } else { rounds_default });
    if o.rounds == 0 {
        return Err(USAGE.into());
    }
    Ok(o)
}

/// A row to measure: here, through its factory, or in a process of its own.
enum Measurable {
    Here(Box<dyn Factory>),
    #[cfg(feature = "peers")]
    Elsewhere(elsewhere::Elsewhere),
}

impl Measurable {
    fn name(&self) -> (&str, &str) {
        match self {
            Self::Here(f) => (f.library(), f.backend()),
            #[cfg(feature = "peers")]
            Self::Elsewhere(e) => (e.library, e.backend),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Self::Here(f) => f.kind(),
            #[cfg(feature = "peers")]
            Self::Elsewhere(e) => e.kind(),
        }
    }

    async fn measure_row(
        &self,
        workloads: &[Workload],
        settings: &Settings,
        pools: &Arc<Pools>,
        round: usize,
        out: &mut Results,
    ) -> Result<(), Error> {
        match self {
            Self::Here(f) => {
                rounds::measure_row(f.as_ref(), workloads, settings, pools, round, out).await
            }
            #[cfg(feature = "peers")]
            Self::Elsewhere(e) => e.measure_row(workloads, settings, round, out).await,
        }
    }
}

fn here(factories: Vec<Box<dyn Factory>>) -> impl Iterator<Item = Measurable> {
    factories.into_iter().map(Measurable::Here)
}

fn summarize(rows_measured: &[Measurable], results: Results) -> Vec<Row> {
    let mut rows = Vec::new();
    for ((library, backend, workload, concurrency), mut runs) in results {
        let rps = |m: &Measured| (m.reads + m.writes) as f64 / m.elapsed.as_secs_f64().max(1e-9);
        let rps_runs: Vec<f64> = runs.iter().map(rps).collect();
        runs.sort_by(|a, b| rps(a).total_cmp(&rps(b)));
        let median = &runs[runs.len() / 2];
        let h = &median.histogram;
        let us = |ns: u64| ns as f64 / 1000.0;
        let kind = rows_measured
            .iter()
            .find(|m| m.name() == (library.as_str(), backend.as_str()))
            .map(Measurable::kind);
        rows.push(Row {
            kind: kind.unwrap_or(adapter::Kind::Ours),
            library,
            backend,
            workload,
            concurrency,
            requests: median.reads + median.writes,
            reads: median.reads,
            writes: median.writes,
            errors: median.errors,
            elapsed_s: median.elapsed.as_secs_f64(),
            rps: rps(median),
            rps_runs,
            p50_us: us(h.value_at_quantile(0.5)),
            p99_us: us(h.value_at_quantile(0.99)),
            p999_us: us(h.value_at_quantile(0.999)),
            mean_us: h.mean() / 1000.0,
            max_us: us(h.max()),
            first_error: median.first_error.clone(),
            lost: median.lost,
        });
    }
    rows.sort_by(|a, b| {
        (a.workload, a.concurrency, &a.backend, &a.library).cmp(&(
            b.workload,
            b.concurrency,
            &b.backend,
            &b.library,
        ))
    });
    rows
}

/// The rows `--only` selects.
fn selected(rows: impl Iterator<Item = Measurable>, only: &[String]) -> Vec<Measurable> {
    rows.filter(|m| {
        let (library, backend) = m.name();
        let name = format!("{library}/{backend}");
        only.is_empty() || only.iter().any(|only| name.contains(only.as_str()))
    })
    .collect()
}

/// Every round of every factory (interleaved: A B C, A B C), summarized at the median round.
async fn measure(
    rows: &[Measurable],
    workloads: &[Workload],
    o: &Options,
    pools: &Arc<Pools>,
) -> Result<Vec<Row>, Error> {
    let mut results = Results::new();
    for round in 0..o.rounds {
        for row in rows {
            row.measure_row(workloads, &o.settings, pools, round, &mut results)
                .await?;
        }
    }
    Ok(summarize(rows, results))
}

async fn bench(o: Options) -> Result<(), Error> {
    let redis_url = match &o.redis_url {
        Some(url) => url.clone(),
        None => format!(
            "{}/15",
            session_test_support::redis_url().trim_end_matches('/')
        ),
    };
    let postgres_url = o
        .database_url
        .clone()
        .unwrap_or_else(|| session_test_support::postgres_url().to_owned());
    let mysql_url = o
        .mysql_url
        .clone()
        .unwrap_or_else(|| session_test_support::mysql_url().to_owned());
    let servers = backends::Servers {
        redis_url,
        postgres_url,
        mysql_url,
        dir: Arc::new(tempfile::tempdir()?),
    };
    let pools = Arc::new(Pools::new(rounds::POOL_SEED));
    let mut rows = Vec::new();
    let mut tables = Vec::new();
    if o.modes.contains(&Mode::Workload) {
        let known = here(backends::all(&servers));
        #[cfg(feature = "peers")]
        let known = known.chain(here(peers::all(&servers))).chain(
            peers::elsewhere(&servers)
                .into_iter()
                .map(Measurable::Elsewhere),
        );
        let factories = selected(known, &o.only);
        if !factories.is_empty() {
            let measured = measure(&factories, &o.workloads, &o, &pools).await?;
            let (counter, other): (Vec<Row>, Vec<Row>) = measured
                .iter()
                .cloned()
                .partition(|r| r.workload == Workload::Counter.as_str());
            tables.push(format!("## Workload\n\n{}", report::markdown(&other)));
            if !counter.is_empty() {
                tables.push(format!(
                    "## Counter ({} tasks incrementing one key of one session)\n\n{}",
                    workload::COUNTER_TASKS,
                    report::counter_markdown(&counter)
                ));
            }
            rows.extend(measured);
        }
    }
    if o.modes.contains(&Mode::Scale) {
        let figures = scale::run(&servers, &o.only, &o.scale, &pools).await?;
        for figure in &figures {
            println!("{}", figure.json());
        }
        tables.push(format!("## Scale\n\n{}", scale::markdown(&figures)));
    }
    if o.modes.contains(&Mode::Http) {
        let mut factories = http::all(&servers);
        factories.extend(actix::all(&servers));
        let factories = selected(here(factories), &o.only);
        if !factories.is_empty() {
            let measured = measure(&factories, &[Workload::Read], &o, &pools).await?;
            tables.push(format!(
                "## HTTP (one key read per request; vs floor = vs no session layer)\n\n{}",
                report::markdown(&measured)
            ));
            rows.extend(measured);
        }
    }
    if tables.is_empty() {
        return Err(format!("--only {:?} selects no row", o.only).into());
    }
    for row in &rows {
        println!("{}", row.json());
    }
    println!("\n{}", tables.join("\n"));
    if rows.iter().any(|r| r.errors > 0) {
        return Err("some requests failed: see `errors` and `first_error`".into());
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    let o = options()?;
    rounds::runtime()?.block_on(bench(o))
}
