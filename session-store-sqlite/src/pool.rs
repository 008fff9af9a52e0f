//! A small pool of connections whose work runs on tokio's blocking threads, never on an async
//! worker: every call borrows a connection, moves it to `spawn_blocking`, and puts it back.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::error::{Result, SqliteError};

/// Opens one configured connection; called lazily, on a blocking thread.
pub(crate) type Opener = Arc<dyn Fn() -> Result<Connection> + Send + Sync>;

pub(crate) struct Pool {
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
    open: Opener,
    acquire_timeout: Duration,
}

impl Pool {
    /// A pool of at most `size` connections, holding `first` already.
    pub(crate) fn new(
        first: Connection,
        size: usize,
        open: Opener,
        acquire_timeout: Duration,
    ) -> Self {
        Self {
            idle: Mutex::new(vec![first]),
            permits: Semaphore::new(size.max(1)),
            open,
            acquire_timeout,
        }
    }

    /// Runs `work` with a connection on a blocking thread.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.acquire())
            .await
            .map_err(|_| SqliteError::PoolTimeout(self.acquire_timeout))?
            // The semaphore is never closed.
            .map_err(|_| SqliteError::PoolTimeout(self.acquire_timeout))?;
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let open = self.open.clone();
        let (conn, result) = tokio::task::spawn_blocking(move || {
            // A connection lost to a failed task is replaced here, on first need.
            let mut conn = match idle {
                Some(conn) => conn,
                None => match open() {
                    Ok(conn) => conn,
                    Err(e) => return (None, Err(e)),
                },
            };
            let result = work(&mut conn);
            (Some(conn), result)
        })
        .await?;
        if let Some(conn) = conn {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
        }
        drop(permit);
        result
    }
}
