//! `MemoryStoreBuilder`: the memory store's settings and their defaults.

use std::time::Duration;

use session_core::StoreError;

use crate::MemoryStore;

/// The default bound on live sessions.
pub const DEFAULT_MAX_SESSIONS: usize = 100_000;

/// The default number of shards (independent locks).
pub const DEFAULT_SHARDS: usize = 16;

/// Settings for a [`MemoryStore`].
///
/// # Examples
/// ```
/// let store = session_store_memory::MemoryStore::builder()
///     .max_sessions(10_000)
///     .shards(8)
///     .build()
///     .expect("valid settings");
/// ```
#[derive(Debug, Clone)]
pub struct MemoryStoreBuilder {
    max_sessions: usize,
    shards: usize,
    max_age: Option<Duration>,
}

impl Default for MemoryStoreBuilder {
    fn default() -> Self {
        Self {
            max_sessions: DEFAULT_MAX_SESSIONS,
            shards: DEFAULT_SHARDS,
            max_age: None,
        }
    }
}

impl MemoryStoreBuilder {
    /// The most sessions the whole store keeps. It never holds more, and never drops a session
    /// while under it; at the bound, a new session takes the place of the least recently used
    /// session of its shard.
    ///
    /// The default is [`DEFAULT_MAX_SESSIONS`].
    pub fn max_sessions(mut self, max_sessions: usize) -> Self {
        self.max_sessions = max_sessions;
        self
    }

    /// How many independently locked shards the sessions are spread over, so tasks working on
    /// different sessions rarely wait for each other. Capped at `max_sessions`.
    ///
    /// The default is [`DEFAULT_SHARDS`].
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// The longest any session may live in the store, however often it is written or touched
    /// (generic-session's `maxAge`): its expiry is never set past its creation plus `max_age`.
    ///
    /// The default is none.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Builds the store.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] when `max_sessions` or `shards` is zero, or `max_age` is zero
    /// or over [`MAX_TTL`](session_core::MAX_TTL).
    pub fn build(self) -> Result<MemoryStore, StoreError> {
        let invalid = |what: &str| StoreError::InvalidInput(format!("{what} must be at least 1"));
        if self.max_sessions == 0 {
            return Err(invalid("max_sessions"));
        }
        if self.shards == 0 {
            return Err(invalid("shards"));
        }
        if let Some(max_age) = self.max_age {
            session_core::validate_ttl(max_age)?;
        }
        let shards = self.shards.min(self.max_sessions);
        Ok(MemoryStore::with_settings(
            shards,
            self.max_sessions,
            self.max_age,
        ))
    }
}
