//! The workload of `shared/bench/WORKLOAD.md`: pools built before the clock starts, the
//! pre-population, the `mixed`, `create` and `counter` phases, and the timing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::adapter::{Adapter, Error, Handle};

/// The sessions' TTL.
pub const TTL: Duration = Duration::from_secs(3600);

/// Keys per session.
pub const KEYS: usize = 10;

/// The prebuilt request material: values, key names, create data sets.
pub struct Pools {
    pub keys: Vec<String>,
    pub values: Vec<String>,
    pub data_sets: Vec<Vec<(String, String)>>,
}

impl Pools {
    /// 1,024 values of 98 alphanumerics (100 bytes as a JSON string) and 256 data sets, from
    /// `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let values: Vec<String> = (0..1024)
            .map(|_| {
                (0..98)
                    .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
                    .collect()
            })
            .collect();
        let keys: Vec<String> = (0..KEYS).map(|k| format!("k{k}")).collect();
        let data_sets = (0..256)
            .map(|_| {
                keys.iter()
                    .map(|k| (k.clone(), values[rng.random_range(0..values.len())].clone()))
                    .collect()
            })
            .collect();
        Self {
            keys,
            values,
            data_sets,
        }
    }
}

/// Which requests a phase makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// 90% reads of one random key, 10% writes of one random key, on pre-populated sessions.
    Mixed,
    /// New 10-key sessions.
    Create,
    /// Reads only, of one random key (the HTTP mode).
    Read,
    /// 16 tasks incrementing one key of one session (lost increments are counted).
    Counter,
}

impl Workload {
    /// The workload named `name` (its [`as_str`](Workload::as_str) form).
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Mixed, Self::Create, Self::Read, Self::Counter]
            .into_iter()
            .find(|w| w.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mixed => "mixed",
            Self::Create => "create",
            Self::Read => "read",
            Self::Counter => "counter",
        }
    }
}

/// What one phase measured.
pub struct Measured {
    pub histogram: Histogram<u64>,
    pub reads: u64,
    pub writes: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Requests that succeeded, warm-up included (what a counter must end at).
    pub completed: u64,
    /// Of a counter phase: increments that succeeded but are not in the final count.
    pub lost: Option<i64>,
}

/// The key the counter phase increments.
pub const COUNTER_KEY: &str = "counter";

/// The tasks of the counter phase.
pub const COUNTER_TASKS: usize = 16;

/// Creates `count` sessions with 32 concurrent tasks, through the library's own create path.
pub async fn populate(
    adapter: Arc<dyn Adapter>,
    pools: Arc<Pools>,
    count: usize,
) -> Result<Vec<Handle>, Error> {
    let tasks: Vec<_> = (0..32)
        .map(|t| {
            let (adapter, pools) = (adapter.clone(), pools.clone());
            tokio::spawn(async move {
                let mut handles = Vec::new();
                for n in (t..count).step_by(32) {
                    handles.push(
                        adapter
                            .create(&pools.data_sets[n % pools.data_sets.len()])
                            .await?,
                    );
                }
                Ok::<_, Error>(handles)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(count);
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(all)
}

/// One timed phase.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    pub workload: Workload,
    pub concurrency: usize,
    /// Unrecorded time before the window.
    pub warmup: Duration,
    /// The window: requests that start in it are recorded.
    pub measure: Duration,
    /// Seeds the request sequence (fixed, so every run makes the same requests).
    pub seed: u64,
}

/// Runs `phase` with its closed-loop tasks against `adapter`.
pub async fn run(
    adapter: Arc<dyn Adapter>,
    pools: Arc<Pools>,
    handles: Arc<Vec<Handle>>,
    phase: Phase,
) -> Measured {
    let Phase {
        workload,
        concurrency,
        warmup,
        measure,
        seed,
    } = phase;
    let start = Instant::now();
    let (window_start, window_end) = (start + warmup, start + warmup + measure);
    let tasks: Vec<_> = (0..concurrency)
        .map(|t| {
            let (adapter, pools, handles) = (adapter.clone(), pools.clone(), handles.clone());
            tokio::spawn(async move {
                let mut rng =
                    StdRng::seed_from_u64(seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let mut histogram = Histogram::<u64>::new(3).expect("3 significant digits");
                let (mut reads, mut writes, mut errors, mut first_error) = (0, 0, 0, None);
                let mut completed = 0u64;
                loop {
                    let began = Instant::now();
                    if began >= window_end {
                        break;
                    }
                    let (result, is_write) = match workload {
                        Workload::Create => {
                            let data = &pools.data_sets[rng.random_range(0..pools.data_sets.len())];
                            (adapter.create(data).await.map(drop), true)
                        }
                        Workload::Counter => {
                            (adapter.increment(&handles[0], COUNTER_KEY).await, true)
                        }
                        Workload::Mixed | Workload::Read => {
                            let handle = &handles[rng.random_range(0..handles.len())];
                            let key = &pools.keys[rng.random_range(0..pools.keys.len())];
                            if workload == Workload::Mixed && rng.random_range(0..10) == 0 {
                                let value = &pools.values[rng.random_range(0..pools.values.len())];
                                (adapter.write(handle, key, value).await, true)
                            } else {
                                (adapter.read(handle, key).await.map(drop), false)
                            }
                        }
                    };
                    let took = began.elapsed();
                    completed += u64::from(result.is_ok());
                    if began >= window_start {
                        match result {
                            Ok(()) => {
                                let _ = histogram.record(took.as_nanos() as u64);
                                if is_write { writes += 1 } else { reads += 1 }
                            }
                            Err(e) => {
                                errors += 1;
                                first_error.get_or_insert_with(|| e.to_string());
                            }
                        }
                    }
                    // Let the other tasks run even when a call never waits (see WORKLOAD.md).
                    tokio::task::consume_budget().await;
                }
                (
                    histogram,
                    (reads, writes, errors, completed),
                    first_error,
                    Instant::now(),
                )
            })
        })
        .collect();
    let mut measured = Measured {
        histogram: Histogram::<u64>::new(3).expect("3 significant digits"),
        reads: 0,
        writes: 0,
        errors: 0,
        first_error: None,
        elapsed: measure,
        completed: 0,
        lost: None,
    };
    let mut last_end = window_end;
    for task in tasks {
        let Ok((histogram, (reads, writes, errors, completed), first_error, ended)) = task.await
        else {
            measured.errors += 1;
            continue;
        };
        let _ = measured.histogram.add(&histogram);
        measured.reads += reads;
        measured.writes += writes;
        measured.errors += errors;
        measured.completed += completed;
        if measured.first_error.is_none() {
            measured.first_error = first_error;
        }
        last_end = last_end.max(ended);
    }
    measured.elapsed = last_end.saturating_duration_since(window_start);
    measured
}
