//! Sessions and their manager: policy, typed access, users, rotation, live sessions, events.

mod auth_version;
mod config;
mod error;
mod event;
mod grace;
mod live;
pub(crate) mod manager;
mod meta;
mod open;
mod periodic;
mod registry;
mod release;
mod revocation;
mod rotation;
mod session;
mod shared;

pub use config::{
    Config, ConfigBuilder, DEFAULT_ANONYMOUS_IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_KEYS,
    DEFAULT_MAX_VALUE_BYTES, DEFAULT_PERSIST_EVENTS, DEFAULT_PERSIST_INTERVAL,
    DEFAULT_RELEASE_RESUMED_AFTER, DEFAULT_ROTATION_GRACE, DEFAULT_TOUCH_INTERVAL,
};
pub use error::SessionError;
pub use event::{Event, EventKind, PersistHook, PersistReason};
pub use manager::{SessionManager, SessionManagerBuilder};
pub use meta::SessionInfo;
pub use session::Session;
