//! Locking. Std mutexes fit here: no lock is ever held across an `.await` (every store method
//! takes a lock, works on memory, and releases it before returning), so an async mutex would only
//! add cost.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`. A poisoned lock is still used: every critical section leaves the data
/// consistent before anything that could panic, so there is nothing to recover.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
