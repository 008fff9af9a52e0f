//! The demo's metrics: what the session manager counts and every store operation's latency and
//! errors, recorded through the `metrics` crate's facade and shown at `/metrics` in the
//! Prometheus text format. An application wires its own exporter the same way: implement
//! [`session_core::Metrics`] with the facade's macros.
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `sessions_total` | `event` | [`SessionCount`]s: `created`, `loaded`, `not_found`, `rotated`, `revoked`, `expired_on_read`, `device_mismatch`, `destroyed` |
//! | `session_store_operation_seconds` | `backend`, `op` | a histogram of store operation latencies |
//! | `session_store_errors_total` | `backend`, `op`, `kind` | failed store operations by [`ErrorKind`] |

use std::time::Duration;

use metrics::{counter, histogram, with_local_recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};
use session_core::{ErrorKind, Metrics, SessionCount, StoreOp};

/// Latency buckets, in seconds: from an in-memory operation to a slow network round trip.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5,
];

/// A Prometheus recorder of the session metrics, kept by the app (not installed globally, so
/// every app in one process, a test's say, has its own).
pub struct DemoMetrics {
    recorder: PrometheusRecorder,
}

impl DemoMetrics {
    /// An empty recorder.
    ///
    /// # Panics
    /// Never: the bucket list is fixed and not empty.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("session_store_operation_seconds".to_owned()),
                LATENCY_BUCKETS,
            )
            .expect("a fixed, non-empty bucket list")
            .build_recorder();
        Self { recorder }
    }

    /// Everything recorded so far, in the Prometheus text format.
    pub fn render(&self) -> String {
        self.recorder.handle().render()
    }
}

impl Default for DemoMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics for DemoMetrics {
    fn sessions(&self, count: SessionCount, n: u64) {
        with_local_recorder(&self.recorder, || {
            counter!("sessions_total", "event" => count.name()).increment(n);
        });
    }

    fn store_operation(
        &self,
        backend: &'static str,
        op: StoreOp,
        elapsed: Duration,
        error: Option<ErrorKind>,
    ) {
        with_local_recorder(&self.recorder, || {
            histogram!("session_store_operation_seconds", "backend" => backend, "op" => op.name())
                .record(elapsed.as_secs_f64());
            if let Some(kind) = error {
                counter!(
                    "session_store_errors_total",
                    "backend" => backend,
                    "op" => op.name(),
                    "kind" => kind.name()
                )
                .increment(1);
            }
        });
    }
}
