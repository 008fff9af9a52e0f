//! Background tasks of a manager that run on a period (interval persistence, releasing resumed
//! sessions nobody holds): started once, holding the manager weakly so they end with it.

use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::task::JoinHandle;

use super::shared::{Shared, lock};

/// Starts `job` every `every` in `slot`'s task unless one is running. Without a tokio runtime
/// nothing starts, and `what` is logged.
pub(super) fn ensure<F, Fut>(
    shared: &Arc<Shared>,
    slot: fn(&Shared) -> &Mutex<Option<JoinHandle<()>>>,
    every: Duration,
    what: &'static str,
    job: F,
) where
    F: Fn(Arc<Shared>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut task = lock(slot(shared));
    if task.is_some() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no tokio runtime: {what}");
        return;
    };
    let weak: Weak<Shared> = Arc::downgrade(shared);
    *task = Some(runtime.spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.tick().await; // the first tick is immediate
        loop {
            ticks.tick().await;
            let Some(shared) = weak.upgrade() else {
                return;
            };
            job(shared).await;
        }
    }));
}

/// Stops `slot`'s task, if one runs.
pub(super) fn stop(slot: &Mutex<Option<JoinHandle<()>>>) {
    if let Some(task) = lock(slot).take() {
        task.abort();
    }
}
