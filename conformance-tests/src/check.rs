//! What a case uses to check a store: its result type, assertions, fresh ids, time, polling.

use std::fmt;
use std::time::{Duration, Instant};

use rand::RngExt;
use session_core::{SessionId, StoreError};

/// Why a case failed, in words a store author can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure(format!(
            "the store returned an error: {}",
            session_core::error_chain(&error)
        ))
    }
}

/// The result of one case.
pub type CaseResult = Result<(), Failure>;

/// Fails the case with a formatted message unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err($crate::check::Failure(format!($($msg)+)));
        }
    };
}

/// Fails the case unless both sides are equal, showing both and a formatted context.
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($msg:tt)+) => {{
        let (left, right) = (&$left, &$right);
        if left != right {
            return Err($crate::check::Failure(format!(
                "{}\n  store gave: {:?}\n  expected:   {:?}",
                format!($($msg)+), left, right
            )));
        }
    }};
}

/// A TTL that outlives every case.
pub(crate) const LONG: Duration = Duration::from_secs(3600);

/// A TTL short enough to watch expire, long enough for a slow store's next call to land before it.
pub(crate) const SHORT: Duration = Duration::from_millis(1500);

/// How long to wait for something that should happen after a [`SHORT`] TTL.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// A random id no other case uses.
pub(crate) fn fresh_id() -> SessionId {
    SessionId::from_bytes(rand::rng().random())
}

/// A random subject no other case uses.
pub(crate) fn fresh_subject() -> String {
    format!("user:{:016x}", rand::rng().random::<u64>())
}

/// Evaluates the async condition (a `Result<bool, Failure>` expression, `?` allowed) every
/// 50 ms until it holds, giving `true`, or until `PATIENCE` passes, giving `false`. A macro rather
/// than a function taking a closure, so the condition can borrow freely.
macro_rules! eventually {
    ($condition:expr) => {{
        let deadline = std::time::Instant::now() + $crate::check::PATIENCE;
        loop {
            let held: bool = $condition;
            if held {
                break true;
            }
            if std::time::Instant::now() >= deadline {
                break false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }};
}

/// Sleeps until `ttl` (plus a margin) has passed since `since`: past a deadline that must not
/// have taken effect.
pub(crate) async fn outlive(since: Instant, ttl: Duration) {
    tokio::time::sleep_until((since + ttl + Duration::from_millis(300)).into()).await;
}

/// The map inside a `json!({...})` object literal (empty for anything else).
pub(crate) fn map(value: serde_json::Value) -> session_core::Map {
    match value {
        serde_json::Value::Object(map) => map,
        _ => session_core::Map::new(),
    }
}

pub(crate) use {ensure, ensure_eq, eventually};
