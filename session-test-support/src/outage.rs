//! Checks shared by the outage tests: an operation failed as `Unavailable`, and a store recovered.

use std::future::Future;
use std::time::{Duration, Instant};

use session_core::StoreError;

/// Panics unless `result` is a [`StoreError::Unavailable`], naming `what`.
pub fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Unavailable { .. })),
        "{what}: expected Unavailable, got {result:?}"
    );
}

/// Retries `operation` every 100 ms until it succeeds, and returns its value. Panics on an error
/// that is not transient, or when `within` passes first ("the store never recovered").
pub async fn until_recovered<T, F, Fut>(within: Duration, mut operation: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let deadline = Instant::now() + within;
    loop {
        match operation().await {
            Ok(value) => return value,
            Err(e) => {
                assert!(
                    e.is_transient(),
                    "a non-transient error while recovering: {e:?}"
                );
                assert!(
                    Instant::now() < deadline,
                    "the store never recovered: {e:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
