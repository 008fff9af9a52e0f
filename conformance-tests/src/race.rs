//! Races that are caught, not sampled: concurrent calls that report whether they overlapped, and
//! rounds repeated until the interleaving a case needs was seen often enough.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::future::try_join_all;

use crate::check::Failure;

/// The most time a race case spends repeating rounds in search of its interleaving.
pub(crate) const RACE_BUDGET: Duration = Duration::from_secs(8);

/// What [`in_parallel`] saw: each task's result, in task order, and whether two tasks' calls
/// were in flight at once.
pub(crate) struct Raced<T> {
    pub(crate) results: Vec<T>,
    pub(crate) overlapped: bool,
}

/// Runs `task(i)` for `0..n` on separate tokio tasks, all released at once by a barrier, and
/// waits for all; says whether any two were in flight together (a race needs that).
pub(crate) async fn in_parallel<T, F, Fut>(n: usize, task: F) -> Result<Raced<T>, Failure>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<T, Failure>> + Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let handles = (0..n).map(|i| {
        let (start, work) = (start.clone(), task(i));
        let (in_flight, peak) = (in_flight.clone(), peak.clone());
        tokio::spawn(async move {
            start.wait().await;
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let result = work.await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            result
        })
    });
    let joined = try_join_all(handles)
        .await
        .map_err(|e| Failure(format!("a task failed: {e}")))?;
    Ok(Raced {
        results: joined.into_iter().collect::<Result<_, _>>()?,
        overlapped: peak.load(Ordering::SeqCst) > 1,
    })
}

/// The rounds of a race case: they go on until the interleaving the case needs was seen
/// `wanted` times, or [`RACE_BUDGET`] has passed. A round that finds the contract broken fails
/// the case at once; a store too slow to show the interleaving within the budget passes on the
/// rounds it ran, so a correct store never fails for being slow.
///
/// ```ignore
/// let mut rounds = Rounds::until_observed(4);
/// while let Some(round) = rounds.next() {
///     let raced = in_parallel(..).await?;
///     // check round `round`
///     rounds.observed(raced.overlapped);
/// }
/// ```
pub(crate) struct Rounds {
    wanted: usize,
    seen: usize,
    next: usize,
    deadline: Instant,
}

impl Rounds {
    pub(crate) fn until_observed(wanted: usize) -> Self {
        Self {
            wanted,
            seen: 0,
            next: 0,
            deadline: Instant::now() + RACE_BUDGET,
        }
    }

    /// The next round's number, or `None` when enough was seen or the budget is spent.
    pub(crate) fn next(&mut self) -> Option<usize> {
        let go_on = self.seen < self.wanted && (self.next == 0 || Instant::now() < self.deadline);
        go_on.then(|| {
            self.next += 1;
            self.next - 1
        })
    }

    /// Records whether the round just run showed the interleaving.
    pub(crate) fn observed(&mut self, seen: bool) {
        self.seen += usize::from(seen);
    }
}

/// Yields to the scheduler `times` times: rounds start their second call at staggered points,
/// so the interleavings between two calls are scanned rather than left to chance.
pub(crate) async fn stagger(times: usize) {
    for _ in 0..times {
        tokio::task::yield_now().await;
    }
}
