//! Running [`ExpiredCleanup`] to completion, once or periodically on a tokio task.

use std::sync::Arc;
use std::time::Duration;

use crate::{ExpiredCleanup, StoreError};

/// The default number of sessions one cleanup batch removes.
pub const DEFAULT_CLEANUP_BATCH: usize = 1000;

/// The default time between two periodic cleanup runs.
pub const DEFAULT_CLEANUP_INTERVAL: Duration = Duration::from_secs(60);

/// Removes every expired session, `batch` at a time, and returns how many were removed.
///
/// # Errors
/// The first error of a batch; the batches before it stay done.
pub async fn delete_all_expired<S>(store: &S, batch: usize) -> Result<u64, StoreError>
where
    S: ExpiredCleanup + ?Sized,
{
    let batch = batch.max(1);
    let mut total = 0;
    loop {
        let removed = store.delete_expired(batch).await?;
        total += removed;
        if removed < batch as u64 {
            return Ok(total);
        }
    }
}

/// A running periodic cleanup; the task stops when this handle is dropped or [`stop`ped].
///
/// [`stop`ped]: CleanupTask::stop
#[derive(Debug)]
pub struct CleanupTask(Option<tokio::task::JoinHandle<()>>);

impl CleanupTask {
    /// Stops the task and waits until it has ended.
    pub async fn stop(mut self) {
        if let Some(handle) = self.0.take() {
            handle.abort();
            // The only possible error is the cancellation just asked for.
            let _ = handle.await;
        }
    }
}

impl CleanupTask {
    /// Lets the task run for as long as the runtime does, without keeping a handle.
    pub fn detach(mut self) {
        self.0.take();
    }
}

impl Drop for CleanupTask {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.abort();
        }
    }
}

/// Spawns a tokio task that runs [`delete_all_expired`] every `interval` (the first run right
/// away). An error is logged with `tracing` and the next run tries again: a store that is down for
/// a while does not end the task.
///
/// Must be called within a tokio runtime.
pub fn spawn_cleanup<S>(store: Arc<S>, interval: Duration, batch: usize) -> CleanupTask
where
    S: ExpiredCleanup + ?Sized,
{
    CleanupTask(Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match delete_all_expired(&*store, batch).await {
                Ok(0) => {}
                Ok(removed) => tracing::debug!(removed, "removed expired sessions"),
                Err(error) => tracing::warn!(%error, "session cleanup failed; retrying next run"),
            }
        }
    })))
}
