//! The demo app: a visit counter, logging in as a name, the list of your sessions (device,
//! created, last seen) where you can end any of them or all others, and logging out.
//!
//! # Layout
//!
//! - `pages`: the routes and their pages ([`router`]).
//! - `html`: the page layout and stylesheet, escaping, devices and times as a person reads them.
//! - `live`: the live page, a WebSocket per tab sharing one live session.
//! - `serve`: serving with a header-read timeout and a graceful shutdown.
//! - `metrics`: session counts and store latencies in the Prometheus text format (`/metrics`).
//!
//! The store comes from a URL through `session-stores` (`--store`), so the demo has no code of
//! its own per backend.

mod html;
mod live;
pub mod metrics;
mod pages;
pub mod serve;

pub use pages::{router, router_with_metrics};

/// The default store: a SQLite file in the working directory, no server needed.
pub const DEFAULT_STORE: &str = "sqlite://session-demo.db";
