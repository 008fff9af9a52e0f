//! One round of one row: its phases (every workload at every concurrency) measured in order, and
//! the measurements' wire form. Shared, as source, with the peers that run in a process of their
//! own (`peers-sqlx/`), so both processes measure the same way.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::adapter::{self, Adapter, Error, Factory};
use crate::workload::{self, Measured, Phase, Pools, Workload};

/// The seed of the request material (`Pools::new`): both processes make the same requests.
pub const POOL_SEED: u64 = 42;

/// The runtime every row runs on, in both processes: two workers.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// How every phase of a round runs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub concurrency: Vec<usize>,
    pub warmup: Duration,
    pub duration: Duration,
    /// Pre-populated sessions of a read phase.
    pub sessions: usize,
}

/// A measurement's place: (library, backend, workload, concurrency).
pub type Key = (String, String, &'static str, usize);

/// Every round's measurements, by place.
pub type Results = BTreeMap<Key, Vec<Measured>>;

fn key(factory: &dyn Factory, workload: Workload, concurrency: usize) -> Key {
    (
        factory.library().to_owned(),
        factory.backend().to_owned(),
        workload.as_str(),
        concurrency,
    )
}

/// Runs one factory's phases once, appending each (workload, concurrency) measurement.
pub async fn measure_row(
    factory: &dyn Factory,
    workloads: &[Workload],
    settings: &Settings,
    pools: &Arc<Pools>,
    round: usize,
    out: &mut Results,
) -> Result<(), Error> {
    for &workload in workloads {
        if factory.creates_only() && workload != Workload::Create {
            continue;
        }
        if workload == Workload::Counter {
            measure_counter(factory, settings, pools, round, out).await?;
            continue;
        }
        let mut adapter: Option<Arc<dyn Adapter>> = None;
        let mut handles = Arc::new(Vec::new());
        for &concurrency in &settings.concurrency {
            // Reads run every concurrency on one store; each create phase starts afresh.
            if adapter.is_none() || workload == Workload::Create {
                let fresh: Arc<dyn Adapter> = Arc::from(factory.make().await?);
                handles = Arc::new(
                    workload::populate(fresh.clone(), pools.clone(), settings.sessions).await?,
                );
                adapter = Some(fresh);
            }
            let Some(adapter) = adapter.clone() else {
                continue;
            };
            let phase = Phase {
                workload,
                concurrency,
                warmup: settings.warmup,
                measure: settings.duration,
                seed: 42 + round as u64,
            };
            let m = workload::run(adapter, pools.clone(), handles.clone(), phase).await;
            eprintln!(
                "round {round}: {} {} {} c={concurrency}: {:.0} req/s, {} errors",
                factory.library(),
                factory.backend(),
                workload.as_str(),
                (m.reads + m.writes) as f64 / m.elapsed.as_secs_f64(),
                m.errors
            );
            out.entry(key(factory, workload, concurrency))
                .or_default()
                .push(m);
        }
    }
    Ok(())
}

/// The counter phase: `COUNTER_TASKS` tasks increment one key of one session; afterwards the
/// final count says how many successful increments were lost. Rows that offer no increment are
/// skipped.
async fn measure_counter(
    factory: &dyn Factory,
    settings: &Settings,
    pools: &Arc<Pools>,
    round: usize,
    out: &mut Results,
) -> Result<(), Error> {
    let adapter: Arc<dyn Adapter> = Arc::from(factory.make().await?);
    let handles = Arc::new(workload::populate(adapter.clone(), pools.clone(), 1).await?);
    match adapter.count(&handles[0], workload::COUNTER_KEY).await {
        Err(e) if e.to_string() == adapter::UNSUPPORTED => return Ok(()),
        other => other?,
    };
    let phase = Phase {
        workload: Workload::Counter,
        concurrency: workload::COUNTER_TASKS,
        warmup: settings.warmup,
        measure: settings.duration,
        seed: 42 + round as u64,
    };
    let mut m = workload::run(adapter.clone(), pools.clone(), handles.clone(), phase).await;
    let counted = adapter.count(&handles[0], workload::COUNTER_KEY).await?;
    m.lost = Some(m.completed as i64 - counted);
    eprintln!(
        "round {round}: {} {} counter: {:.0} req/s, {} of {} increments lost",
        factory.library(),
        factory.backend(),
        (m.reads + m.writes) as f64 / m.elapsed.as_secs_f64(),
        m.completed as i64 - counted,
        m.completed,
    );
    out.entry(key(factory, Workload::Counter, workload::COUNTER_TASKS))
        .or_default()
        .push(m);
    Ok(())
}

/// One measurement as a JSON line, its latencies as (value, count) pairs so the other side
/// rebuilds the same histogram.
#[allow(dead_code)] // session-bench only reads the wire; peers-sqlx, which compiles this file too, writes it
pub fn to_wire(key: &Key, m: &Measured) -> String {
    let histogram: Vec<[u64; 2]> = m
        .histogram
        .iter_recorded()
        .map(|v| [v.value_iterated_to(), v.count_at_value()])
        .collect();
    serde_json::json!({
        "library": key.0,
        "backend": key.1,
        "workload": key.2,
        "concurrency": key.3,
        "reads": m.reads,
        "writes": m.writes,
        "errors": m.errors,
        "first_error": m.first_error,
        "elapsed_s": m.elapsed.as_secs_f64(),
        "completed": m.completed,
        "lost": m.lost,
        "histogram": histogram,
    })
    .to_string()
}

/// A measurement from its JSON line (see [`to_wire`]).
pub fn from_wire(line: &str) -> Result<(Key, Measured), Error> {
    let v: serde_json::Value = serde_json::from_str(line)?;
    let text = |name: &str| {
        v[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::from(format!("measurement without {name}: {line}")))
    };
    let number = |name: &str| {
        v[name]
            .as_u64()
            .ok_or_else(|| Error::from(format!("measurement without {name}: {line}")))
    };
    let workload = text("workload")?;
    let workload =
        Workload::parse(&workload).ok_or_else(|| format!("unknown workload {workload:?}"))?;
    let mut histogram = Histogram::<u64>::new(3)?;
    for pair in v["histogram"].as_array().into_iter().flatten() {
        let (Some(value), Some(count)) = (pair[0].as_u64(), pair[1].as_u64()) else {
            return Err(format!("bad histogram entry {pair}").into());
        };
        histogram.record_n(value, count)?;
    }
    let key = (
        text("library")?,
        text("backend")?,
        workload.as_str(),
        number("concurrency")? as usize,
    );
    let measured = Measured {
        histogram,
        reads: number("reads")?,
        writes: number("writes")?,
        errors: number("errors")?,
        first_error: v["first_error"].as_str().map(str::to_owned),
        elapsed: Duration::from_secs_f64(v["elapsed_s"].as_f64().unwrap_or(0.0)),
        completed: number("completed")?,
        lost: v["lost"].as_i64(),
    };
    Ok((key, measured))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_measurement_survives_the_wire() {
        let mut histogram = Histogram::<u64>::new(3).unwrap();
        for ns in [1_000, 1_000, 52_345, 9_000_000] {
            histogram.record(ns).unwrap();
        }
        let m = Measured {
            histogram,
            reads: 3,
            writes: 1,
            errors: 2,
            first_error: Some("missing key".into()),
            elapsed: Duration::from_millis(1500),
            completed: 6,
            lost: Some(-1),
        };
        let key: Key = ("tower-sessions".into(), "sqlite".into(), "mixed", 32);
        let (back_key, back) = from_wire(&to_wire(&key, &m)).unwrap();
        assert_eq!(back_key, key);
        assert_eq!((back.reads, back.writes, back.errors), (3, 1, 2));
        assert_eq!((back.completed, back.lost), (6, Some(-1)));
        assert_eq!(back.first_error.as_deref(), Some("missing key"));
        assert_eq!(back.elapsed, m.elapsed);
        assert_eq!(back.histogram.len(), 4);
        for q in [0.5, 0.99, 1.0] {
            assert_eq!(
                back.histogram.value_at_quantile(q),
                m.histogram.value_at_quantile(q)
            );
        }
        assert!(from_wire("{\"library\": 1}").is_err());
    }
}
