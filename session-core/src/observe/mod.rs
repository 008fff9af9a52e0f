//! Seeing what sessions do: `tracing` spans on store operations, and a metrics hook.
//!
//! - [`ObservedStore`] wraps any store: every operation runs in a `session_store` span (at debug
//!   level) with the backend, the operation, the session's short id (never its token or whole
//!   id), and, when it ends, the time it took and the kind of error, if any.
//! - [`Metrics`] is the hook: the session manager counts what happens to sessions through it
//!   (created, loaded, rotated, revoked, expired on read...), and an observed store reports each
//!   operation's latency and error kind, for a histogram and error counters. Give one to
//!   [`SessionManagerBuilder::metrics`](crate::SessionManagerBuilder::metrics), which also
//!   observes the manager's store. The demo exports them in the Prometheus text format with the
//!   `metrics` crate's facade (`session-demo/src/metrics.rs`, shown at `/metrics`).
//!
//! Both are off unless asked for: an unobserved manager pays nothing for them.

mod metrics;
mod store;

pub use metrics::{Metrics, SessionCount, StoreOp};
pub use store::ObservedStore;
